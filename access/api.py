"""The device API's credential list: `GET /device-api/v1/users`, the link of a `users` command."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from devices import api

from . import services


@api.device_api
@require_GET
def users(request):
    device = api.authenticated_device(request)
    return JsonResponse(services.device_users_payload(device_id=device.pk))
