"""WSGI entry point of the device API service: `gunicorn smartplus.device_wsgi:application` with
DJANGO_SETTINGS_MODULE=smartplus.settings.device_api (or settings of your own on its pattern).

Heartbeats, AutoP files and firmware downloads get workers of their own, so they never wait behind
page renders, exports or the Remote Control relay of the portal's `web` service (docs/deploy.md)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

# Importing this module ran smartplus/__init__.py (Celery), which defaults the settings to the
# demo's; serving the whole portal here by mistake would defeat the separate service.
if settings.ROOT_URLCONF != "smartplus.device_urls":
    raise ImproperlyConfigured(
        "smartplus.device_wsgi serves the device API only: set DJANGO_SETTINGS_MODULE to "
        f"smartplus.settings.device_api (ROOT_URLCONF is {settings.ROOT_URLCONF!r})."
    )
