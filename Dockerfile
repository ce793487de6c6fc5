# SmartPlus portal production image: gunicorn + whitenoise for the web, the same image
# runs the device API service (smartplus.device_wsgi), the Celery worker and beat (see
# docker-compose.yml and docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=smartplus.settings.production \
    SMARTPLUS_DATA_DIR=/data \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=3

WORKDIR /app

# Dependencies first, in their own layer, so code changes don't reinstall them: the
# runtime part of the tested lock (same pins as requirements.lock, no dev tools), every
# file checked against its hash.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes -r requirements-runtime.lock

COPY . .
# Editable, not a plain `pip install .`: settings derive BASE_DIR from the package
# location, and templates/, static/ and locale/ live in the source tree, not in the wheel.
RUN pip install --no-deps -e . \
    && chmod +x scripts/docker-entrypoint.sh

# Static files are collected into the image (whitenoise serves them, hashed and
# compressed). Production settings insist on a long SECRET_KEY and a field key even for
# collectstatic; these throw-away ones exist only during this build step, never at run time.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-only-build-time-key-not-used-at-runtime-0123456789
ARG COLLECTSTATIC_FIELD_KEY=Y29sbGVjdHN0YXRpYy1vbmx5LWJ1aWxkLWtleS0wMDA=
RUN SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" SMARTPLUS_FIELD_KEYS="$COLLECTSTATIC_FIELD_KEY" \
    python manage.py collectstatic --noinput -v0

# Run as an unprivileged user; /data (SQLite fallback, media) is its only writable place.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin smartplus \
    && mkdir -p /data/media \
    && chown -R smartplus:smartplus /data
USER smartplus
VOLUME ["/data"]
EXPOSE 8000 8001

ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
# --workers comes from WEB_CONCURRENCY; gunicorn also reads FORWARDED_ALLOW_IPS and
# GUNICORN_CMD_ARGS from the environment for anything else (docs/deploy.md).
CMD ["sh", "-c", "exec gunicorn smartplus.wsgi:application -b 0.0.0.0:8000 --workers \"${WEB_CONCURRENCY:-3}\" --access-logfile -"]
