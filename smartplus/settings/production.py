"""Production: everything from the environment, HTTPS only. `manage.py check --deploy` is clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = False
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters.")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# No default: behind the reverse proxy every client would have the proxy's address (one login
# limit for everybody). The system check smartplus.E004 refuses to run without it.
SMARTPLUS_TRUSTED_PROXIES = env.int("SMARTPLUS_TRUSTED_PROXIES", default=None)

_KEY_HINT = '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
if not SMARTPLUS_FIELD_KEYS:  # noqa: F405
    raise ImproperlyConfigured(f"SMARTPLUS_FIELD_KEYS must hold at least one Fernet key {_KEY_HINT}")
try:
    from cryptography.fernet import Fernet

    for _key in SMARTPLUS_FIELD_KEYS:  # noqa: F405
        Fernet(_key.encode())
except ValueError as exc:
    raise ImproperlyConfigured(
        f"SMARTPLUS_FIELD_KEYS holds a value that is not a Fernet key {_KEY_HINT}"
    ) from exc
