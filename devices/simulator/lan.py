"""The devices' LAN API (the portal's nudge, system info, the web interface) on loopback addresses.

One aiohttp application serves every device; each device gets its own listening socket on its own
address, and a request is routed to the device whose address it arrived on. A device that is
restarting or dead has its listener closed, so callers get "connection refused" as from a real
intercom that is off; a request on a connection opened before that gets retcode -1.
"""

from __future__ import annotations

import html
import logging
import os

from aiohttp import web

from .device import Device

log = logging.getLogger("devices.simulator")


def envelope(action: str, data: dict | None = None, *, retcode: int = 0, message: str = "OK") -> dict:
    return {"retcode": retcode, "action": action, "message": message, "data": data or {}}


class LanServer:
    def __init__(self) -> None:
        self._by_address: dict[str, Device] = {}
        self._sites: dict[str, web.TCPSite] = {}
        app = web.Application()
        app.router.add_post("/api/cloud/poll", self.poll)
        app.router.add_get("/api/system/info", self.info)
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
            raise OSError(exc.errno, f"LAN API of {device.mac} cannot listen on {where}: {reason}") from exc
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

    async def poll(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if device is None:
            return web.json_response(envelope("poll", retcode=-1, message="Device unavailable"), status=503)
        device.nudge()
        return web.json_response(envelope("poll"))

    async def info(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if device is None:
            return web.json_response(envelope("info", retcode=-1, message="Device unavailable"), status=503)
        data = {
            "mac": device.mac,
            "model": device.model,
            "firmware_version": device.firmware_version,
            "status": "busy" if device.busy else "idle",
            "cloud": "connected" if device.online else "disconnected",
        }
        return web.json_response(envelope("info", data))

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
