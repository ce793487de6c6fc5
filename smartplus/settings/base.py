"""Settings shared by every environment, read from the environment (django-environ) with safe defaults.

Environment modules (`dev`, `test`, `production`) only override what differs.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("SMARTPLUS_DATA_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "smartplus.views.pages.csrf_failure"

INSTALLED_APPS = [
    # django.contrib.admin, signed in through the portal's login (two-factor, rate limits).
    "smartplus.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "django_countries",
    "django_celery_beat",
    "hijack",
    # Ours
    "smartplus",
    "accounts",
    "communities",
    "residents",
    "devices",
    "firmware",
    "billing",
    "maclib",
    # Expiration, renewal and feedback emails, and the log of every email (above billing).
    "notifications",
    # The second half's apps (layers in pyproject.toml): credentials, device events, weather,
    # the Rent Manager sync and the property manager's portal.
    "access",
    "logs",
    "weather",
    "rentmanager",
    "pmportal",
    # Top layer: the demo seeding (`seed_demo`, `rundemo`); it may import every app, none imports it.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Device API and AutoP requests end here (no session, CSRF or login: devices carry none).
    "devices.middleware.DeviceAPIMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hijack.middleware.HijackUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth, hijack and messages: it reads the hijack history and may post a notice.
    "accounts.middleware.ImpersonationMiddleware",
    # After the impersonation middleware, which sets request.real_user.
    "smartplus.middleware.ActorMiddleware",
    # After LocaleMiddleware and auth: the user's saved UI language wins over cookie and browser.
    "accounts.middleware.UILanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "smartplus.urls"
WSGI_APPLICATION = "smartplus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smartplus.context_processors.portal",
                "communities.context_processors.communities",
                "billing.context_processors.billing",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'smartplus.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests (devices heartbeat all day); checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web, worker and beat share one SQLite file. WAL: readers never wait for the
    # writer nor it for them, and with synchronous=NORMAL a commit (every heartbeat is one) does
    # not wait for the disk (a power cut may lose the last ones; an application crash loses
    # nothing). IMMEDIATE takes the write lock when a transaction starts, so two read-then-write
    # transactions queue instead of one failing with "database is locked"; `timeout` is the busy
    # timeout, how long a writer waits for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# One backend: one account per login, one password hash per attempt (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"  # also where django-hijack returns after "Return to my account"

# --- django-allauth: no self sign-up; accounts are made by distributors and installers ---
ACCOUNT_ADAPTER = "accounts.adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("SMARTPLUS_URL_SCHEME", default="http")
# At most 10 failed logins per account (by username or email alike) per 5 minutes, and 30 failed
# logins per client address per minute. Successful logins count toward neither (allauth's own
# limit on every login request is off: behind a proxy it would have locked everybody out).
ACCOUNT_RATE_LIMITS = {"login": None, "login_failed": "30/m/ip,10/300s/key"}
# Device first contacts that got no secret (pending, unknown MAC), per client address and per
# MAC (devices/api.py): a guess at MACs or claim tokens runs into them; adopted devices never do.
ACCOUNT_RATE_LIMITS["device_register"] = env.str(
    "SMARTPLUS_DEVICE_REGISTER_RATE_LIMITS", default="300/m/ip,10/m/key"
)
# The SmartPlus app's calls (notifications/views.py): failed sign-ins per client address and per
# account, and feedback messages (each an email to the installer) per end user.
ACCOUNT_RATE_LIMITS["app_login_failed"] = env.str(
    "SMARTPLUS_APP_LOGIN_RATE_LIMITS", default="30/m/ip,10/300s/key"
)
ACCOUNT_RATE_LIMITS["app_feedback"] = env.str("SMARTPLUS_APP_FEEDBACK_RATE_LIMITS", default="10/h/key")
# Reverse proxies in front of the portal that append to X-Forwarded-For (smartplus/http.py): the
# client's address, which the login limits and the audit log use, is read from that header.
# 0: clients connect directly and REMOTE_ADDR is theirs. Production requires it to be set.
SMARTPLUS_TRUSTED_PROXIES = env.int("SMARTPLUS_TRUSTED_PROXIES", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("SMARTPLUS_MFA_ISSUER", default="SmartPlus portal")

# --- django-hijack: distributors acting as installers (accounts.impersonation decides) ---
HIJACK_PERMISSION_CHECK = "accounts.impersonation.hijack_permission_check"
HIJACK_INSERT_BEFORE = None  # our base layout renders its own banner

# UI languages (docs/languages.md). Each name is written in its own language: the language menu
# shows it so, whatever the current language. The choice: the user's saved `ui_language`
# (accounts.middleware.UILanguageMiddleware), else the language cookie, else Accept-Language.
# Persian and Hebrew are right to left (LANGUAGE_BIDI; Bootstrap's RTL stylesheet).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fa", "فارسی"),
    ("he", "עברית"),
    ("bs", "Bosanski"),
    ("da", "Dansk"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("pl", "Polski"),
    ("ru", "Русский"),
    ("tr", "Türkçe"),
    ("vi", "Tiếng Việt"),
    ("zh-hans", "简体中文"),
]
# The cookie lives a year, so the login page after a logout stays in the user's language.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"

# --- Email ---
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SmartPlus portal <no-reply@smartplus.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Cache (login rate limits live here, so production must share it between processes) ---
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: each task opened a connection of its own. Its own recycling is then every 1,000 tasks;
# smartplus.celery closes connections per task as Django does per request (CONN_MAX_AGE, health).
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Several portals (or benchmark runs) can share one Redis by giving each its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# --- Billing (docs/billing.md) ---
# Prices are integer cents of this one currency (ISO 4217, lower case as Stripe writes it).
SMARTPLUS_CURRENCY = env.str("SMARTPLUS_CURRENCY", default="usd").lower()
SMARTPLUS_ORDER_MAX_ITEMS = 3000  # the spec: "3000 maximum at a time"
SMARTPLUS_RENEW_MAX_YEARS = 5
# Who sells the service: the invoice's seller and the Pending Order's recipient notice.
SMARTPLUS_SELLER_NAME = env.str("SMARTPLUS_SELLER_NAME", default="SMART-PLUS PTE. LTD.")
SMARTPLUS_SELLER_ADDRESS = env.str("SMARTPLUS_SELLER_ADDRESS", default="Singapore")
# A Stripe Checkout Session expires after this many minutes (Stripe allows 30 to 1,440): the
# order then becomes "Time out" and its coupon is released.
SMARTPLUS_CHECKOUT_EXPIRY_MINUTES = env.int("SMARTPLUS_CHECKOUT_EXPIRY_MINUTES", default=60)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where the Stripe SDK sends its requests: Stripe's own API unless set (the fake Stripe server
# of the tests and the demo, docs/fake-stripe.md).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")

# --- django-tables2 ---
DJANGO_TABLES2_TEMPLATE = "generic/table.html"
DJANGO_TABLES2_PAGE_RANGE = 7

# --- Portal ---
SMARTPLUS_LINES_PER_PAGE = [10, 20, 50, 100]
SMARTPLUS_SUPPORT_LINKS = {
    "knowledge_base": env.str("SMARTPLUS_KNOWLEDGE_BASE_URL", default="https://knowledge.akuvox.com/"),
    "academy": env.str("SMARTPLUS_ACADEMY_URL", default="https://academy.akuvox.com/"),
    "technical_support": env.str("SMARTPLUS_TECHNICAL_SUPPORT_URL", default="https://ticket.akuvox.com/"),
    "cap": env.str("SMARTPLUS_CAP_URL", default="https://partner.akuvox.com/"),
}
SMARTPLUS_HOME_AUTOMATION_URL = env.str("SMARTPLUS_HOME_AUTOMATION_URL", default="https://akubela.com/")
# A property manager with the monthly reminder on is prompted when the password is older than this.
SMARTPLUS_PASSWORD_REMINDER_DAYS = env.int("SMARTPLUS_PASSWORD_REMINDER_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Absolute address of the portal, used in emails sent outside a request (Celery).
SMARTPLUS_BASE_URL = env.str("SMARTPLUS_BASE_URL", default="http://127.0.0.1:8000")

# --- Devices ---
# A device is Online while its heartbeats arrive within this many seconds.
SMARTPLUS_DEVICE_OFFLINE_AFTER = env.int("SMARTPLUS_DEVICE_OFFLINE_AFTER", default=300)
# The interval the device API asks devices to heartbeat at (commands wait at most this long
# unless the device can be nudged on its LAN).
SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL = env.int("SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL", default=60)
# Where heartbeats of known devices go first (devices/liveness.py): "database" writes each one;
# "redis" answers a device with nothing new from Redis (REDIS_URL) and writes liveness to the
# database in batches, at most every SMARTPLUS_DEVICE_LIVENESS_FLUSH seconds. A cached device is
# checked against the database again after SMARTPLUS_DEVICE_LIVENESS_TTL seconds.
SMARTPLUS_DEVICE_LIVENESS = env.str("SMARTPLUS_DEVICE_LIVENESS", default="database")
SMARTPLUS_DEVICE_LIVENESS_FLUSH = env.float("SMARTPLUS_DEVICE_LIVENESS_FLUSH", default=2.0)
SMARTPLUS_DEVICE_LIVENESS_TTL = env.int("SMARTPLUS_DEVICE_LIVENESS_TTL", default=300)
SMARTPLUS_DEVICE_LIVENESS_PREFIX = env.str("SMARTPLUS_DEVICE_LIVENESS_PREFIX", default="smartplus:liveness:")
# With "redis": each device API process also answers the devices it knows from its own memory and
# meets Redis once per this many seconds (0: every heartbeat asks Redis). Commands queued
# elsewhere reach its heartbeats within one period; the LAN nudge waits that long.
SMARTPLUS_DEVICE_LIVENESS_LOCAL = env.float("SMARTPLUS_DEVICE_LIVENESS_LOCAL", default=0.5)
# Networks (CIDR) whose device LAN addresses the portal may dial: the nudge and Remote Control.
# Empty: the portal never dials a device. Never put the cloud's own metadata range here.
SMARTPLUS_DEVICE_NETWORKS = env.list("SMARTPLUS_DEVICE_NETWORKS", default=[])
# The portal dials a device only at the address its heartbeats come from, and only on this port:
# its LAN HTTP API (80 on Akuvox devices). How the devices' HTTP API authenticates the portal:
# none (also for an allow-list of the portal's address), basic or digest, with these credentials.
SMARTPLUS_DEVICE_LAN_PORT = env.int("SMARTPLUS_DEVICE_LAN_PORT", default=80)
SMARTPLUS_DEVICE_LAN_AUTH = env.str("SMARTPLUS_DEVICE_LAN_AUTH", default="none")
SMARTPLUS_DEVICE_LAN_USERNAME = env.str("SMARTPLUS_DEVICE_LAN_USERNAME", default="")
SMARTPLUS_DEVICE_LAN_PASSWORD = env.str("SMARTPLUS_DEVICE_LAN_PASSWORD", default="")
# Seconds a Remote Control link to a device's web interface stays valid.
SMARTPLUS_REMOTE_CONTROL_TTL = env.int("SMARTPLUS_REMOTE_CONTROL_TTL", default=600)
# --- Firmware upgrades ---
# Seconds a device has to report the new version after its upgrade command is queued; then the
# command is queued again (backoff with jitter), up to SMARTPLUS_UPGRADE_ATTEMPTS attempts.
SMARTPLUS_UPGRADE_DEADLINE = env.int("SMARTPLUS_UPGRADE_DEADLINE", default=900)
SMARTPLUS_UPGRADE_ATTEMPTS = env.int("SMARTPLUS_UPGRADE_ATTEMPTS", default=3)
# Seconds the signed firmware download link of an upgrade command stays valid.
SMARTPLUS_FIRMWARE_LINK_TTL = env.int("SMARTPLUS_FIRMWARE_LINK_TTL", default=86400)
# How a firmware download is served (firmware/api.py, docs/deploy.md): a path prefix the reverse
# proxy maps to MEDIA_ROOT for X-Accel-Redirect (nginx; empty: off), or a redirect to the storage's
# URL (object storage with signed, expiring URLs). Neither: streamed from the storage.
SMARTPLUS_FIRMWARE_ACCEL_REDIRECT = env.str("SMARTPLUS_FIRMWARE_ACCEL_REDIRECT", default="")
SMARTPLUS_FIRMWARE_STORAGE_REDIRECT = env.bool("SMARTPLUS_FIRMWARE_STORAGE_REDIRECT", default=False)
# How often beat looks for due upgrades.
SMARTPLUS_UPGRADE_POLL_SECONDS = env.int("SMARTPLUS_UPGRADE_POLL_SECONDS", default=30)
# django-celery-beat copies these into its database schedule when beat starts.
CELERY_BEAT_SCHEDULE = {
    "firmware-upgrades-due": {
        "task": "firmware.tasks.upgrades_due_task",
        "schedule": float(SMARTPLUS_UPGRADE_POLL_SECONDS),
    },
    # Orders still waiting for payment are checked against Stripe (a lost webhook, an expiry).
    "billing-reconcile": {"task": "billing.tasks.reconcile_orders_task", "schedule": 300.0},
}
# The expiration sweep (notifications.sweep): hourly, so every community's day is swept soon
# after its local midnight; a second run that hour finds nothing new.
SMARTPLUS_EXPIRATION_SWEEP_SECONDS = env.int("SMARTPLUS_EXPIRATION_SWEEP_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["notifications-expiration-sweep"] = {
    "task": "notifications.tasks.expiration_sweep_task",
    "schedule": float(SMARTPLUS_EXPIRATION_SWEEP_SECONDS),
}
# --- Logs: door log, call history, captured images (logs/) ---
# Captured JPEGs live here, outside MEDIA_ROOT: no URL serves them but logs' authorized view.
SMARTPLUS_LOG_IMAGE_ROOT = Path(
    env.str("SMARTPLUS_LOG_IMAGE_ROOT", default=str(DATA_DIR / "private" / "captures"))
)
# Events older than this many days are purged (in batches, by beat); 0 keeps them forever.
SMARTPLUS_LOG_RETENTION_DAYS = env.int("SMARTPLUS_LOG_RETENTION_DAYS", default=365)
# A device's batch of events: at most this many events, and this many bytes of JSON.
SMARTPLUS_EVENT_BATCH_MAX = env.int("SMARTPLUS_EVENT_BATCH_MAX", default=200)
SMARTPLUS_EVENT_BODY_MAX = env.int("SMARTPLUS_EVENT_BODY_MAX", default=256 * 1024)
# A captured image (JPEG) at most this many bytes.
SMARTPLUS_CAPTURE_MAX_BYTES = env.int("SMARTPLUS_CAPTURE_MAX_BYTES", default=1024 * 1024)
CELERY_BEAT_SCHEDULE["logs-retention"] = {"task": "logs.tasks.retention_purge_task", "schedule": 3600.0}

# Weather on indoor monitors (docs/weather.md): Open-Meteo's geocoding and forecast APIs (any
# server speaking them, e.g. the fake provider), an optional API key, timeouts in seconds. Every
# distinct place is fetched once per refresh period; a failure is retried with backoff up to
# SMARTPLUS_WEATHER_RETRY_MAX seconds apart, keeping the last good value.
SMARTPLUS_WEATHER_ENABLED = env.bool("SMARTPLUS_WEATHER_ENABLED", default=True)
SMARTPLUS_WEATHER_PROVIDER = env.str(
    "SMARTPLUS_WEATHER_PROVIDER", default="weather.providers.openmeteo.OpenMeteo"
)
SMARTPLUS_WEATHER_GEOCODING_URL = env.str(
    "SMARTPLUS_WEATHER_GEOCODING_URL", default="https://geocoding-api.open-meteo.com/v1/search"
)
SMARTPLUS_WEATHER_FORECAST_URL = env.str(
    "SMARTPLUS_WEATHER_FORECAST_URL", default="https://api.open-meteo.com/v1/forecast"
)
SMARTPLUS_WEATHER_API_KEY = env.str("SMARTPLUS_WEATHER_API_KEY", default="")
SMARTPLUS_WEATHER_CONNECT_TIMEOUT = env.float("SMARTPLUS_WEATHER_CONNECT_TIMEOUT", default=3.0)
SMARTPLUS_WEATHER_READ_TIMEOUT = env.float("SMARTPLUS_WEATHER_READ_TIMEOUT", default=10.0)
SMARTPLUS_WEATHER_REFRESH_SECONDS = env.int("SMARTPLUS_WEATHER_REFRESH_SECONDS", default=1800)
SMARTPLUS_WEATHER_RETRY_BASE = env.int("SMARTPLUS_WEATHER_RETRY_BASE", default=60)
SMARTPLUS_WEATHER_RETRY_MAX = env.int("SMARTPLUS_WEATHER_RETRY_MAX", default=1800)
CELERY_BEAT_SCHEDULE["weather-refresh"] = {
    "task": "weather.tasks.weather_refresh_task",
    "schedule": float(SMARTPLUS_WEATHER_REFRESH_SECONDS),
}
if SMARTPLUS_DEVICE_LIVENESS == "redis":
    # Heartbeats buffered in Redis reach the database even when no device calls; lost marks of
    # waiting commands come back.
    CELERY_BEAT_SCHEDULE["devices-liveness"] = {"task": "devices.tasks.liveness_task", "schedule": 30.0}
# Fernet keys (newest first) that encrypt secrets at rest, e.g. third-party camera passwords.
# The first key encrypts; every key decrypts, so a new key can be put in front and
# `manage.py rotate_field_keys` re-encrypts, after which the old key can be dropped.
SMARTPLUS_FIELD_KEYS = env.list("SMARTPLUS_FIELD_KEYS", default=[])
# Uploaded templates up to this size are checked and imported during the request; larger ones
# by a Celery worker while the page shows the progress.
SMARTPLUS_IMPORT_INLINE_BYTES = env.int("SMARTPLUS_IMPORT_INLINE_BYTES", default=32 * 1024)
# --- Rent Manager (docs/rentmanager.md) ---
# The daily sync: beat wakes hourly, and each connection is synced once per local day at the first
# wake-up at or after this hour in this zone (so a daylight-saving change neither skips nor doubles it).
SMARTPLUS_RENTMANAGER_SYNC_TZ = env.str("SMARTPLUS_RENTMANAGER_SYNC_TZ", default="America/New_York")
SMARTPLUS_RENTMANAGER_SYNC_HOUR = env.int("SMARTPLUS_RENTMANAGER_SYNC_HOUR", default=2)
SMARTPLUS_RENTMANAGER_TIMEOUT = env.float("SMARTPLUS_RENTMANAGER_TIMEOUT", default=30.0)
SMARTPLUS_RENTMANAGER_RETRIES = env.int("SMARTPLUS_RENTMANAGER_RETRIES", default=3)
SMARTPLUS_RENTMANAGER_BACKOFF = env.float("SMARTPLUS_RENTMANAGER_BACKOFF", default=1.0)
SMARTPLUS_RENTMANAGER_PAGE_SIZE = env.int("SMARTPLUS_RENTMANAGER_PAGE_SIZE", default=1000)
# Rent Manager's numbers carry no country; landlines are validated as numbers of this one.
SMARTPLUS_RENTMANAGER_COUNTRY = env.str("SMARTPLUS_RENTMANAGER_COUNTRY", default="US")
# How long one connection's sync lock lives at most (a crashed worker frees it then).
SMARTPLUS_RENTMANAGER_LOCK_SECONDS = env.int("SMARTPLUS_RENTMANAGER_LOCK_SECONDS", default=3 * 3600)
# The queue of the sync's tasks (blank: the default queue). Its properties are synced one per task,
# as many at once as workers take them; a queue of their own keeps device commands and emails from
# waiting behind a night's sync.
SMARTPLUS_RENTMANAGER_QUEUE = env.str("SMARTPLUS_RENTMANAGER_QUEUE", default="")
if SMARTPLUS_RENTMANAGER_QUEUE:
    CELERY_TASK_ROUTES = {"rentmanager.tasks.*": {"queue": SMARTPLUS_RENTMANAGER_QUEUE}}
CELERY_BEAT_SCHEDULE["rentmanager-daily"] = {
    "task": "rentmanager.tasks.sync_all_task",
    "schedule": crontab(minute=5),  # hourly; rentmanager.services.due_connections picks the day's
}
