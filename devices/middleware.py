"""Device requests skip the browser's middleware."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import Resolver404, resolve

DEVICE_PREFIXES = ("/device-api/", "/autop/")


class DeviceAPIMiddleware:
    """Calls from devices (the device API, AutoP files) go straight to their view: they carry no
    session, CSRF token, login or HTML, and a heartbeat is the portal's most frequent request, so
    the session, auth, hijack, messages, actor, allauth and htmx middleware would be pure cost
    (about 40% of a heartbeat's CPU). Sits right after SecurityMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(DEVICE_PREFIXES):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            # Devices read JSON: a path the API does not have is a JSON 404, not an HTML page.
            return JsonResponse({"error": "not_found", "message": "No such device API call."}, status=404)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
