"""URLconf of the device API service (`smartplus.device_wsgi`): only what devices call.

The device API (register, heartbeat, command results), AutoP files and the firmware download. The
portal's own URLconf (`smartplus.urls`) includes the same patterns, so a single process (the demo,
the tests) serves devices too, and links built anywhere (`reverse`) are the same. Errors are JSON,
as every device API reply is; no portal page is rendered here."""

from django.http import JsonResponse
from django.urls import include, path

urlpatterns = [
    path("", include("devices.api_urls")),
    path("", include("firmware.api_urls")),
    path("", include("logs.api_urls")),
    path("", include("access.api_urls")),
]


def not_found(request, exception=None):
    return JsonResponse({"error": "not_found", "message": "No such device API address."}, status=404)


def server_error(request):
    return JsonResponse({"error": "server_error", "message": "The portal failed; try later."}, status=500)


handler404 = not_found
handler500 = server_error
