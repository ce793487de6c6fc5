"""URLs devices call: the device API and AutoP files (see docs/device-api.md).

The firmware download of an upgrade command is firmware's: `firmware.api_urls`."""

from django.urls import path, re_path

from . import api

app_name = "device_api"

urlpatterns = [
    path("device-api/v1/register", api.register, name="register"),
    path("device-api/v1/heartbeat", api.heartbeat, name="heartbeat"),
    path("device-api/v1/commands/<int:pk>/result", api.command_result, name="command_result"),
    re_path(r"^autop/(?P<mac>[0-9A-Fa-f:.\-]{12,17})\.cfg$", api.autop_file, name="autop"),
]
