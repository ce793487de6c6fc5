"""The device API service (`smartplus.device_wsgi`): production settings, only the device URLs and
the middleware they need.

Devices carry no session, cookie, CSRF token or login (each call is authenticated with its MAC and
secret in the view), and read no HTML, so only SecurityMiddleware does work for them: it redirects
plain HTTP to HTTPS when SECURE_SSL_REDIRECT is on, as for the portal. DeviceAPIMiddleware then
hands device URLs to their view; allauth refuses to start without its middleware, which therefore
sees only the other URLs (each a 404 here). Everything else (database, cache, keys,
SMARTPLUS_BASE_URL for the links in commands) is the portal's, from the same environment.
"""

from .production import *  # noqa: F403

ROOT_URLCONF = "smartplus.device_urls"
WSGI_APPLICATION = "smartplus.device_wsgi.application"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "devices.middleware.DeviceAPIMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
# No `SELECT 1` before each request's first query: a heartbeat is one statement, and the check
# would be a second round trip. A connection the database dropped fails one call (Django then
# closes it; the device retries at its next interval) instead.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
