"""Local demo and development: SQLite, kombu's filesystem broker, console email. Needs no server."""

from .base import *  # noqa: F403
from .base import DATA_DIR, env

DEBUG = env.bool("DEBUG", default=True)
# The SQLite file and broker folders live here; they are created so any manage.py command
# (seeding queues account emails) works first time.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-only-key-never-use-in-production")

_queue = DATA_DIR / "broker" / "queue"
_processed = DATA_DIR / "broker" / "processed"
for _folder in (_queue, _processed, DATA_DIR / "broker" / "control"):
    _folder.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(_queue),
    "data_folder_out": str(_queue),
    "processed_folder": str(_processed),
    # kombu otherwise writes its broadcast "control" folder into the working directory.
    "control_folder": str(DATA_DIR / "broker" / "control"),
    "store_processed": False,
}

if not env.str("REDIS_URL", default=""):
    # Web, worker and beat are separate processes: a file cache lets them share import progress
    # and login rate limits without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

if not SMARTPLUS_FIELD_KEYS:  # noqa: F405
    # Demo only: a key derived from the dev SECRET_KEY, so `make demo` needs no setup.
    import base64
    import hashlib

    SMARTPLUS_FIELD_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]

# The demo's simulated devices live on loopback (127.77.0.0/16): the portal may nudge them and
# relay Remote Control to them. They heartbeat often so the demo reacts quickly.
SMARTPLUS_DEVICE_NETWORKS = env.list("SMARTPLUS_DEVICE_NETWORKS", default=["127.0.0.0/8"])
SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL = env.int("SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL", default=15)
SMARTPLUS_UPGRADE_DEADLINE = env.int("SMARTPLUS_UPGRADE_DEADLINE", default=120)
SMARTPLUS_UPGRADE_POLL_SECONDS = env.int("SMARTPLUS_UPGRADE_POLL_SECONDS", default=10)
CELERY_BEAT_SCHEDULE["firmware-upgrades-due"]["schedule"] = float(SMARTPLUS_UPGRADE_POLL_SECONDS)  # noqa: F405
