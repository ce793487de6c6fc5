"""The device-facing firmware download (under /device-api/, so DeviceAPIMiddleware serves it bare)."""

from django.urls import path

from . import api

app_name = "firmware_api"

urlpatterns = [
    path("device-api/v1/firmware/<str:token>", api.firmware_download, name="download"),
]
