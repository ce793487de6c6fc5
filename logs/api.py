"""The device API's events: a device posts batches of its door and call events, and the JPEGs
it captured (docs/device-api.md, "Events"). HTTP Basic as the device; JSON errors."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from devices.api import authenticated_device, device_api, parse_json, read_body
from devices.fleet import Refused

from . import services


def _sender(request) -> services.Sender:
    device = authenticated_device(request)
    return services.sender_for(device.pk, device.mac)


@device_api
@require_POST
def events(request):
    sender = _sender(request)  # authenticated before the body is read
    data = parse_json(request, max_body=settings.SMARTPLUS_EVENT_BODY_MAX)
    if set(data) - {"events"}:
        raise Refused(400, "bad_json", "The body holds only events.")
    received = services.events_ingest(sender=sender, events=data.get("events"))
    return JsonResponse({"ok": True, "received": received})


@device_api
@require_POST
def event_image(request, kind: str, event_id: str):
    sender = _sender(request)
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type != "image/jpeg":
        raise Refused(415, "bad_content_type", "Send the image as image/jpeg.")
    content = read_body(request, settings.SMARTPLUS_CAPTURE_MAX_BYTES)
    image, created = services.event_image_store(sender=sender, kind=kind, event_id=event_id, content=content)
    return JsonResponse({"ok": True, "image": image.pk, "stored": created}, status=201 if created else 200)
