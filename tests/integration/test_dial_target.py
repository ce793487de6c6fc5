"""A device that reports another host or port is never dialled there: not by the nudge a real
Celery worker runs, not by the Remote Control relay. Both dial the heartbeat's source address on
SMARTPLUS_DEVICE_LAN_PORT (the issue's reproduction had the worker POST to a reported
127.0.0.1:18999 and the relay reach the portal's own /admin/login/)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from devices import maintenance
from devices.models import Device
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world
from tests.workers import TaskLog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEVICE_ADDRESS = "127.79.5.5"


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with an Akuvox success envelope and keeps (method, path)."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path))
        body = json.dumps({"retcode": 0, "action": "poll", "message": "OK", "data": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


def serve(address: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, 0), Recorder)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def listeners():
    device, trap = serve(DEVICE_ADDRESS), serve("127.0.0.1")
    yield device, trap
    for server in (device, trap):
        server.shutdown()
        server.server_close()


def test_nudge_and_relay_dial_the_source_address_on_the_lan_port(settings, listeners, celery_worker_real):
    device_lan, trap = listeners
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    settings.SMARTPLUS_DEVICE_LAN_PORT = device_lan.server_port
    w = build_world()
    device = FakeDevice(w.device_a.mac_address.mac)
    device.register()
    # The device connects from its own address but claims the trap's host and port.
    body = {"firmware_version": "29.30.2.14", "lan_address": "127.0.0.1", "lan_port": trap.server_port}
    reply = device.post("/device-api/v1/heartbeat", body, REMOTE_ADDR=DEVICE_ADDRESS, **device.auth())
    assert reply.status_code == 200
    assert Device.objects.get(pk=w.device_a.pk).lan_address == DEVICE_ADDRESS

    log = TaskLog()
    try:
        maintenance.device_reboot(actor=w.installer_a, device=w.device_a)  # nudges after commit
        deadline = time.monotonic() + 20
        while not device_lan.seen and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        log.close()
    assert log.named("devices.tasks.device_nudge_task") == [(w.device_a.pk,)]
    assert device_lan.seen == [("POST", "/api/cloud/poll")]

    client = Client()
    client.force_login(w.installer_a)
    remote = client.post(f"/devices/{w.device_a.pk}/remote-control/")["Location"]
    assert client.get(remote + "admin/login/").status_code == 200
    assert device_lan.seen[-1] == ("GET", "/admin/login/")
    assert trap.seen == []
