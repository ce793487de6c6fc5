"""The devices' LAN HTTP API (Akuvox's, plus the portal's nudge) and web page, on loopback addresses.

One aiohttp application serves every device; each device gets its own listening socket on its own
address, and a request is routed to the device whose address it arrived on. A device that is
restarting or dead has its listener closed, so callers get "connection refused" as from a real
intercom that is off; a request on a connection opened before that gets retcode -1.

What each call answers is `lanapi.py`'s; here are the transport and the device's HTTP API
authentication, one mode for the whole fleet: none, allowlist (the caller's source address),
basic or digest (realm "HTTPAPI", MD5), as configured on a real device's web interface.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import json
import logging
import os
from dataclasses import dataclass, field

from aiohttp import web

from devices import digest

from .device import Device
from .lanapi import UNSUPPORTED, ApiError, LanApi

log = logging.getLogger("devices.simulator")

AUTH_MODES = ("none", "allowlist", "basic", "digest")
MAX_BODY = 64 * 1024


def envelope(action: str, data: dict | None = None, *, retcode: int = 0, message: str = "OK") -> dict:
    return {"retcode": retcode, "action": action, "message": message, "data": data or {}}


@dataclass
class LanAuth:
    """The HTTP API authentication of every simulated device (Akuvox default account admin/admin)."""

    mode: str = "none"
    username: str = "admin"
    password: str = "admin"
    allow: tuple[str, ...] = ("127.0.0.1",)
    verifier: digest.Verifier = field(init=False)

    def __post_init__(self) -> None:
        if self.mode not in AUTH_MODES:
            modes = ", ".join(AUTH_MODES)
            raise ValueError(f"LAN API authentication must be one of {modes}, not {self.mode!r}")
        self.verifier = digest.Verifier(self.username, self.password)

    def refusal(self, request: web.Request, body: bytes) -> web.Response | None:
        """The 401 / 403 for a caller that did not authenticate, or None."""
        if self.mode == "none":
            return None
        if self.mode == "allowlist":
            if request.remote in self.allow:
                return None
            return web.json_response(envelope("auth", retcode=-1, message="Forbidden"), status=403)
        header = request.headers.get("Authorization", "")
        if self.mode == "basic":
            scheme, _, token = header.partition(" ")
            try:
                user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = None
            given = f"{user}:{password}" if scheme.lower() == "basic" and user is not None else ""
            if given and hmac.compare_digest(given, f"{self.username}:{self.password}"):
                return None
            challenge = f'Basic realm="{digest.REALM}"'
        else:
            if header and self.verifier.check(header, request.method, request.raw_path, body):
                return None
            challenge = self.verifier.challenge()
        response = web.json_response(envelope("auth", retcode=-1, message="Unauthorized"), status=401)
        response.headers["WWW-Authenticate"] = challenge
        return response


def _json_body(body: bytes) -> dict:
    """Akuvox clients send JSON as text/plain (some as application/json): the type is not read."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("Error param: the body is not JSON") from exc
    if not isinstance(parsed, dict):
        raise ApiError("Error param: the body must be a JSON object")
    return parsed


class LanServer:
    def __init__(self, auth: LanAuth | None = None) -> None:
        self.auth = auth or LanAuth()
        self._by_address: dict[str, Device] = {}
        self._sites: dict[str, web.TCPSite] = {}
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/api", self.api)
        app.router.add_route("*", "/api/{target}/{action}", self.api)
        app.router.add_get("/fcgi/do", self.fcgi)
        # The simulator's own: someone at the door types a PIN or presents a card.
        app.router.add_post("/simulator/entry", self.entry)
        app.router.add_get("/simulator/attempts", self.attempts)
        app.router.add_get("/", self.index)
        # No access log: a thousand devices nudged every interval would drown the real messages.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        await self._runner.setup()

    async def stop(self) -> None:
        self._sites.clear()
        await self._runner.cleanup()

    async def open(self, device: Device) -> None:
        """Start listening on the device's address (power on, or back from a restart)."""
        if device.lan_address in self._sites:
            return
        self._by_address[device.lan_address] = device
        site = web.TCPSite(self._runner, device.lan_address, device.lan_port, backlog=16)
        try:
            await site.start()
        except OSError as exc:
            await site.stop()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            where = f"{device.lan_address}:{device.lan_port}"
            raise OSError(
                exc.errno,
                f"LAN API of {device.mac} cannot listen on {where}: {reason} "
                "(another simulator or demo on these addresses? pick another --lan-network or --lan-port)",
            ) from exc
        self._sites[device.lan_address] = site

    async def close(self, device: Device) -> None:
        """Stop listening: the device is restarting or has died."""
        site = self._sites.pop(device.lan_address, None)
        if site is not None:
            await site.stop()

    def _device(self, request: web.Request) -> Device | None:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        device = self._by_address.get(sockname[0]) if sockname else None
        return device if device is not None and device.up else None

    async def api(self, request: web.Request) -> web.Response:
        """`/api/<target>/<action>` and the generic `POST /api` with `{"target", "action", "data"}`."""
        path_target, path_action = request.match_info.get("target", ""), request.match_info.get("action", "")
        device = self._device(request)
        if device is None:
            reply = envelope(path_action, retcode=-1, message="Device unavailable")
            return web.json_response(reply, status=503)
        body = await request.read()
        refused = self.auth.refusal(request, body)
        if refused is not None:
            return refused
        action = path_action
        try:
            payload = _json_body(body)
            # The body's action wins (clients post {"action": "add"} to /api/user/set); the generic
            # /api names its target in the body too.
            target = path_target or str(payload.get("target") or "")
            action = str(payload.get("action") or path_action)
            wrapped = "action" in payload or "target" in payload
            data = payload.get("data", {}) if wrapped else payload
            if not isinstance(data, dict):
                raise ApiError("Error param: data must be a JSON object")
            if not target or not action:
                raise ApiError(UNSUPPORTED)
            result = LanApi(device).call(target, action, data, dict(request.query), request.method)
        except ApiError as exc:
            return web.json_response(envelope(action, retcode=-1, message=str(exc)))
        return web.json_response(envelope(action, result))

    async def entry(self, request: web.Request) -> web.Response:
        """`POST /simulator/entry {"pin": "1234", "apt": "101"?, "relay": "A"}` or `{"card": ...}`:
        the envelope's data is `{"opened", "reason", "attempt"}`."""
        device = self._device(request)
        if device is None:
            return web.json_response(envelope("entry", retcode=-1, message="Device unavailable"), status=503)
        try:
            result = LanApi(device).entry(_json_body(await request.read()))
        except ApiError as exc:
            return web.json_response(envelope("entry", retcode=-1, message=str(exc)))
        return web.json_response(envelope("entry", result))

    async def attempts(self, request: web.Request) -> web.Response:
        """`GET /simulator/attempts`: every entry tried at this device, oldest first."""
        device = self._device(request)
        if device is None:
            return web.json_response(
                envelope("attempts", retcode=-1, message="Device unavailable"), status=503
            )
        return web.json_response(envelope("attempts", {"item": list(device.local.attempts)}))

    async def fcgi(self, request: web.Request) -> web.Response:
        """The legacy "Open Relay via HTTP": `/fcgi/do?action=OpenDoor&UserName=&Password=&DoorNum=1`,
        with the relay's own credentials in the query (here the fleet's LAN API account)."""
        device = self._device(request)
        if device is None:
            return web.Response(status=503, text="Device unavailable")
        query = request.query
        if query.get("action") != "OpenDoor":
            return web.Response(status=404, text="Unknown action")
        user, password = query.get("UserName", ""), query.get("Password", "")
        try:
            door = int(query.get("DoorNum", "1"))
        except ValueError:
            door = 0
        api = LanApi(device)
        granted = hmac.compare_digest(f"{user}:{password}", f"{self.auth.username}:{self.auth.password}")
        if not 1 <= door <= 3:
            result = "-2"
        elif granted:
            api.open_relay(door, name=user, code="", kind="HTTP")
            result = "0"
        else:
            api.log_door(name=user, code="", kind="HTTP", relay=door, success=False)
            result = "-1"
        # The page's hidden hcSingleResult: 0 opened, -1 wrong credentials, -2 no such door.
        page = f"<form name='hiddenValForm_Div'><input id=hcSingleResult type=hidden value='{result}'></form>"
        return web.Response(text=page, content_type="text/html")

    async def index(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if device is None:
            return web.Response(status=503, text="Device unavailable")
        model, mac, firmware = (html.escape(v) for v in (device.model, device.mac, device.firmware_version))
        page = (
            "<!doctype html>\n<html><head><meta charset='utf-8'>"
            f"<title>{model} {mac}</title></head><body>\n"
            f"<h1>Akuvox {model}</h1>\n<dl>\n<dt>Model</dt><dd>{model}</dd>\n"
            f"<dt>MAC</dt><dd>{mac}</dd>\n<dt>Firmware</dt><dd>{firmware}</dd>\n</dl>\n"
            "</body></html>\n"
        )
        return web.Response(text=page, content_type="text/html")
