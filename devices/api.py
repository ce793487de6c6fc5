"""The device-facing HTTP API (/device-api/v1/) and AutoP files (/autop/<MAC>.cfg).

No session, no CSRF, no actor: a device authenticates each call with HTTP Basic (MAC and the
secret issued at first contact). The work is in `devices.fleet`; these views parse and reply.
Whatever a client sends, the answer is JSON: a 4xx with a reason, never a 500 or Django's HTML.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from allauth.core import ratelimit
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from smartplus.http import client_address

from . import fleet
from .fleet import Refused

# Device bodies are a handful of short fields; anything bigger is refused before it is read.
MAX_BODY = 16 * 1024
# The bodies are flat objects: deeper nesting is refused before json parses it (no RecursionError).
MAX_DEPTH = 4
RATE_LIMIT_ACTION = "device_register"

_SPECIAL = re.compile(rb'[\\"\[\]{}]')


def _error(exc: Refused) -> JsonResponse:
    response = JsonResponse({"error": exc.code, "message": exc.message}, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="device-api"'
    if exc.status == 429:
        response["Retry-After"] = "60"
    return response


def _too_deep(body: bytes) -> bool:
    """Whether the body nests deeper than MAX_DEPTH, brackets inside strings aside; one pass
    from one special character to the next (a regular expression over strings could backtrack)."""
    if body.count(b"{") + body.count(b"[") <= MAX_DEPTH:
        return False  # too few brackets to nest that deep: the usual body, at C speed
    depth, in_string, escaped_until = 0, False, -1
    for match in _SPECIAL.finditer(body):
        position = match.start()
        if position < escaped_until:
            continue
        char = body[position]
        if in_string:
            if char == 0x5C:  # backslash: the next byte is escaped
                escaped_until = position + 2
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in b"]}":
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _clean_text(value) -> None:
    """Strings that PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates) are
    refused here, for keys and values alike, rather than failing at the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Refused(400, "bad_json", "Strings may not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Refused(400, "bad_json", "Strings must be valid Unicode.") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean_text(key)
            _clean_text(item)
    elif isinstance(value, list):
        for item in value:
            _clean_text(item)


def _body(request, max_body: int = MAX_BODY) -> bytes:
    """The request body, read at most `max_body` bytes far (a larger one is a JSON 413, never
    Django's HTML 400 for DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_body:
        raise Refused(413, "too_large", f"The request body is larger than {max_body} bytes.")
    body = request.read(max_body + 1)
    if len(body) > max_body:
        raise Refused(413, "too_large", f"The request body is larger than {max_body} bytes.")
    return body


def parse_json(request, *, max_body: int = MAX_BODY) -> dict:
    """The one parser of device request bodies: a JSON object of at most MAX_BODY bytes (a batch
    of events passes its own cap) and MAX_DEPTH levels, UTF-8, no NUL, no NaN or Infinity. An
    empty body is {}."""
    body = _body(request, max_body)
    if not body.strip():
        return {}
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, "bad_content_type", "Send the body as application/json.")
    if _too_deep(body):
        raise Refused(400, "bad_json", f"The body may nest at most {MAX_DEPTH} levels.")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused(400, "bad_json", "The request body is not JSON.") from exc
    if not isinstance(data, dict):
        raise Refused(400, "bad_json", "The request body must be a JSON object.")
    _clean_text(data)
    return data


def text_field(data: dict, name: str, max_length: int, *, required: bool = False) -> str:
    """A string field: absent or null is "", another type or a longer text is a 400."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Refused(400, f"bad_{name}", f"{name} is required.")
        return ""
    if not isinstance(value, str):
        raise Refused(400, f"bad_{name}", f"{name} must be a string.")
    if len(value) > max_length:
        raise Refused(400, f"bad_{name}", f"{name} may be at most {max_length} characters long.")
    return value


def _credentials(request) -> tuple[str, str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 1024:
        raise fleet.UNAUTHORIZED
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:  # not base64, not ASCII, not UTF-8
        raise fleet.UNAUTHORIZED from exc
    # Secrets are hex, MACs may be written with ":" separators: the secret follows the last colon.
    mac, _, secret = decoded.rpartition(":")
    if "\x00" in decoded:
        raise fleet.UNAUTHORIZED
    return mac, secret


def read_body(request, max_body: int) -> bytes:
    """A raw (non-JSON) body, such as a captured JPEG, of at most `max_body` bytes."""
    return _body(request, max_body)


def _device(request) -> fleet.DeviceAuth:
    mac, secret = _credentials(request)
    return fleet.authenticate(mac, secret)


def authenticated_device(request) -> fleet.DeviceAuth:
    """The device calling (HTTP Basic with its MAC and secret), or Refused 401: for the device
    API views of the apps above devices (access's user list, logs' events)."""
    return _device(request)


def device_api(view):
    """JSON errors for Refused, a too large body and a wrong method; CSRF-exempt (devices hold
    no cookie)."""

    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Refused as exc:
            return _error(exc)
        except RequestDataTooBig:
            return _error(Refused(413, "too_large", "The request body is too large."))
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = _error(Refused(405, "method_not_allowed", f"Use {allowed or 'another method'}."))
            response["Allow"] = allowed
        return response

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


# --- first contact -----------------------------------------------------------------------------


def _rate_limited(request, mac: str, *, dry_run: bool) -> bool:
    """The login limits' mechanism (allauth's, per client address behind the declared proxies,
    and per MAC), counting first contacts that got no secret."""
    try:
        return not ratelimit.consume(request, action=RATE_LIMIT_ACTION, key=mac, dry_run=dry_run)
    except PermissionDenied as exc:  # no client address at all
        raise Refused(400, "no_address", "The client's address is unknown.") from exc


def _pending() -> JsonResponse:
    return JsonResponse(
        {
            "status": "pending",
            "message": "Waiting for the installer to adopt this device; ask again later.",
            "retry_after": fleet.heartbeat_interval(),
        },
        status=202,
    )


@device_api
@require_POST
def register(request):
    data = parse_json(request)
    mac = fleet.stored_mac(text_field(data, "mac", 32, required=True))
    if not mac:
        raise Refused(400, "bad_mac", "mac must be 12 hex digits.")
    claim_token = text_field(data, "claim_token", 128, required=True)
    if not fleet.CLAIM_TOKEN_RE.match(claim_token):
        raise Refused(400, "bad_claim_token", "claim_token must be 16-128 URL-safe characters.")
    model = text_field(data, "model", 16)
    firmware_version = text_field(data, "firmware_version", 32)
    provisioning_code = text_field(data, "provisioning_code", 128)
    if _rate_limited(request, mac, dry_run=True):
        raise Refused(429, "rate_limited", "Too many first contacts; try again in a minute.")
    secret = fleet.register(
        mac=mac,
        claim_token=claim_token,
        model=model,
        firmware_version=firmware_version,
        provisioning_code=provisioning_code,
        source_address=client_address(request),
    )
    if secret is None:
        _rate_limited(request, mac, dry_run=False)
        return _pending()
    return JsonResponse({"secret": secret, "heartbeat_interval": fleet.heartbeat_interval()}, status=201)


# --- calls of a registered device --------------------------------------------------------------


@device_api
@require_POST
def heartbeat(request):
    mac, secret = _credentials(request)  # a malformed header is refused before the body is read
    data = parse_json(request)
    firmware_version = text_field(data, "firmware_version", 32)
    text_field(data, "model", 16)
    text_field(data, "status", 32)
    commands = fleet.heartbeat(
        mac,
        secret,
        firmware_version=firmware_version,
        # Where the connection came from, not what the body says: the only address the portal
        # will dial the device at (docs/device-api.md, "Which address the portal dials").
        lan_address=client_address(request),
    )
    return JsonResponse({"heartbeat_interval": fleet.heartbeat_interval(), "commands": commands})


@device_api
@require_POST
def command_result(request, pk: int):
    device = _device(request)
    data = parse_json(request)
    fleet.command_result(
        device,
        command_id=pk,
        status=text_field(data, "status", 16),
        message=text_field(data, "message", 2000),
        firmware_version=text_field(data, "firmware_version", 32),
    )
    return JsonResponse({"ok": True})


@device_api
@require_GET
def autop_file(request, mac: str):
    device = _device(request)
    if fleet.stored_mac(mac) != device.mac:
        raise Refused(404, "not_found", "A device reads only its own AutoP file.")
    return HttpResponse(fleet.autop_file(device), content_type="text/plain; charset=utf-8")
