"""URLs devices call for their credentials (under /device-api/, served bare like the others)."""

from django.urls import path

from . import api

app_name = "access_api"

urlpatterns = [
    path("device-api/v1/users", api.users, name="users"),
]
