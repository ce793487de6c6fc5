"""The floor of the device API bench: a trivial Django view returning JSON, on exactly the device
API service's settings, middleware and gunicorn command line (`gunicorn benchmarks.bare_wsgi:application`).

It answers the heartbeat's path with a heartbeat's reply and does nothing else (no authentication,
no query), so what the device API costs above it is the heartbeat's own work."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

application = get_wsgi_application()
settings.ROOT_URLCONF = __name__  # the device API's settings, this module's one URL


def bare(request):
    return JsonResponse({"heartbeat_interval": 60, "commands": []})


urlpatterns = [path("device-api/v1/heartbeat", bare)]
