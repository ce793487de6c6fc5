"""The device-facing HTTP API (/device-api/v1/) and AutoP files (/autop/<MAC>.cfg).

No session, no CSRF, no actor: a device authenticates each call with HTTP Basic (MAC and the
secret issued at first contact). The work is in `devices.fleet`; these views parse and reply.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from smartplus.http import client_address

from . import fleet
from .fleet import Refused

MAX_BODY = 16 * 1024


def _error(exc: Refused) -> JsonResponse:
    response = JsonResponse({"error": exc.code, "message": exc.message}, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="device-api"'
    return response


def _json(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise Refused(413, "too_large", "The request body is too large.")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, "bad_json", "The request body is not JSON.") from exc
    if not isinstance(data, dict):
        raise Refused(400, "bad_json", "The request body must be a JSON object.")
    return data


def _device(request) -> fleet.DeviceAuth:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise fleet.UNAUTHORIZED
    try:
        mac, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise fleet.UNAUTHORIZED from exc
    return fleet.authenticate(mac, secret)


def device_api(view):
    """JSON errors for Refused, CSRF-exempt (devices hold no cookie)."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Refused as exc:
            return _error(exc)

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


@device_api
@require_POST
def register(request):
    data = _json(request)
    secret = fleet.register(
        mac=str(data.get("mac", "")),
        model=str(data.get("model", "")),
        firmware_version=str(data.get("firmware_version", "")),
    )
    return JsonResponse({"secret": secret, "heartbeat_interval": fleet.heartbeat_interval()}, status=201)


@device_api
@require_POST
def heartbeat(request):
    device = _device(request)
    data = _json(request)
    commands = fleet.heartbeat(
        device,
        firmware_version=str(data.get("firmware_version") or ""),
        # Where the connection came from, not what the body says: the only address the portal
        # will dial the device at (docs/device-api.md, "Which address the portal dials").
        lan_address=client_address(request),
    )
    return JsonResponse({"heartbeat_interval": fleet.heartbeat_interval(), "commands": commands})


@device_api
@require_POST
def command_result(request, pk: int):
    device = _device(request)
    data = _json(request)
    fleet.command_result(
        device,
        command_id=pk,
        status=str(data.get("status", "")),
        message=str(data.get("message") or ""),
        firmware_version=str(data.get("firmware_version") or ""),
    )
    return JsonResponse({"ok": True})


@device_api
@require_GET
def autop_file(request, mac: str):
    device = _device(request)
    if fleet.stored_mac(mac) != device.mac:
        raise Refused(404, "not_found", "A device reads only its own AutoP file.")
    return HttpResponse(fleet.autop_file(device), content_type="text/plain; charset=utf-8")
