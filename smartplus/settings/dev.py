"""Local demo and development: SQLite, kombu's filesystem broker, console email. Needs no server."""

import base64
import json
import os
import secrets
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATA_DIR, env

# Off unless asked for (DEBUG=true): a demo that others reach must not answer a 404 with the list
# of every URL pattern, nor an error with a traceback. The portal's own 404.html answers instead.
DEBUG = env.bool("DEBUG", default=False)
# Static files without collectstatic and without DEBUG: whitenoise serves them from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The SQLite file and broker folders live here; they are created so any manage.py command
# (seeding queues account emails) works first time.
DATA_DIR.mkdir(parents=True, exist_ok=True)
DEMO_KEYS_FILE = DATA_DIR / "demo-keys.json"


def _demo_keys(path: Path) -> dict:
    """This demo's own SECRET_KEY and field key: made on first run, then read back.

    A published default key would let anyone forge the demo's signed links (firmware downloads,
    password resets) and decrypt its camera passwords. The file is created whole and at once
    (0600, then hard-linked into place), so web, worker and beat starting together agree."""
    if not path.exists():
        keys = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SMARTPLUS_FIELD_KEYS": [base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()],
        }
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(keys, out)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process of the demo made it first: use that one
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return json.loads(path.read_text())


# The environment still wins: SECRET_KEY and SMARTPLUS_FIELD_KEYS set there are used as they are.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not (SECRET_KEY and SMARTPLUS_FIELD_KEYS):  # noqa: F405
    _keys = _demo_keys(DEMO_KEYS_FILE)
    SECRET_KEY = SECRET_KEY or _keys["SECRET_KEY"]
    SMARTPLUS_FIELD_KEYS = SMARTPLUS_FIELD_KEYS or _keys["SMARTPLUS_FIELD_KEYS"]  # noqa: F405

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

# The demo's simulated devices live on loopback (127.77.0.0/16, or rundemo --lan-network): the
# portal may nudge them and relay Remote Control to them. They heartbeat often so the demo reacts
# quickly.
SMARTPLUS_DEVICE_NETWORKS = env.list("SMARTPLUS_DEVICE_NETWORKS", default=["127.0.0.0/8"])
# The simulator's LAN API port (rundemo --lan-port passes its own to the web server and worker).
SMARTPLUS_DEVICE_LAN_PORT = env.int("SMARTPLUS_DEVICE_LAN_PORT", default=8480)
SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL = env.int("SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL", default=15)
SMARTPLUS_UPGRADE_DEADLINE = env.int("SMARTPLUS_UPGRADE_DEADLINE", default=120)
SMARTPLUS_UPGRADE_POLL_SECONDS = env.int("SMARTPLUS_UPGRADE_POLL_SECONDS", default=10)
CELERY_BEAT_SCHEDULE["firmware-upgrades-due"]["schedule"] = float(SMARTPLUS_UPGRADE_POLL_SECONDS)  # noqa: F405

# Payments go to the fake Stripe server that rundemo runs next to the portal (billing/fakestripe,
# docs/fake-stripe.md) unless the environment names a Stripe account. The fake listens on loopback
# only and the webhook re-fetches every session from it, so these published test values let
# nobody pay or forge anything.
SMARTPLUS_FAKE_STRIPE = not env.str("STRIPE_SECRET_KEY", default="")
SMARTPLUS_FAKE_STRIPE_PORT = env.int("SMARTPLUS_FAKE_STRIPE_PORT", default=12111)
if SMARTPLUS_FAKE_STRIPE:
    STRIPE_SECRET_KEY = "sk_test_smartplus_demo"
    STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_smartplus_demo")
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=f"http://127.0.0.1:{SMARTPLUS_FAKE_STRIPE_PORT}")

# Weather comes from the fake provider that rundemo runs next to the portal (weather/fakeprovider,
# docs/weather.md) unless SMARTPLUS_FAKE_WEATHER=false (then Open-Meteo, or the URLs given), and
# is refreshed every five minutes so the demo's monitors show it soon.
SMARTPLUS_FAKE_WEATHER = env.bool("SMARTPLUS_FAKE_WEATHER", default=True)
SMARTPLUS_FAKE_WEATHER_PORT = env.int("SMARTPLUS_FAKE_WEATHER_PORT", default=12112)
if SMARTPLUS_FAKE_WEATHER:
    SMARTPLUS_WEATHER_GEOCODING_URL = f"http://127.0.0.1:{SMARTPLUS_FAKE_WEATHER_PORT}/v1/search"
    SMARTPLUS_WEATHER_FORECAST_URL = f"http://127.0.0.1:{SMARTPLUS_FAKE_WEATHER_PORT}/v1/forecast"
SMARTPLUS_WEATHER_REFRESH_SECONDS = env.int("SMARTPLUS_WEATHER_REFRESH_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["weather-refresh"]["schedule"] = float(SMARTPLUS_WEATHER_REFRESH_SECONDS)  # noqa: F405

# The demo's fake Rent Manager (`python -m rentmanager.fake`), which `make demo` starts and links
# the demo installer to (docs/rentmanager.md).
SMARTPLUS_FAKE_RENTMANAGER_PORT = env.int("SMARTPLUS_FAKE_RENTMANAGER_PORT", default=8470)
SMARTPLUS_FAKE_RENTMANAGER_GENERATE = "2,20,30"
