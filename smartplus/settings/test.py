"""Test settings: the real local PostgreSQL and Redis (see ECOSYSTEM.md), fast password hashing."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key-with-enough-length-to-be-used-in-tests-0123456789"
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres:postgres@127.0.0.1:5432/smartplus"),
}
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("TEST_CACHE_URL", default="redis://127.0.0.1:6379/9"),
        "KEY_PREFIX": "smartplus-test",
    }
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/8")
# Eager by default; a benchmark's worker subprocess turns it off to consume the real queue.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A fixed test key (never used anywhere else); tests that rotate keys override the setting.
SMARTPLUS_FIELD_KEYS = env.list(
    "SMARTPLUS_FIELD_KEYS", default=["ZmFrZS10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="]
)
# Captured images (logs) of the tests: outside the worktree.
SMARTPLUS_LOG_IMAGE_ROOT = Path(tempfile.gettempdir()) / "smartplus-test-captures"

# No weather calls from other apps' tests (a community created there would geocode); the
# weather tests turn it on against the fake provider.
SMARTPLUS_WEATHER_ENABLED = False
SMARTPLUS_WEATHER_GEOCODING_URL = SMARTPLUS_WEATHER_FORECAST_URL = "http://127.0.0.1:9/"
