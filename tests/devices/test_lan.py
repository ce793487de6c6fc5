"""The LAN nudge and relay dial only what the device's own connection proves: the address its
heartbeats come from (through the trusted proxies), on the one LAN API port, inside
SMARTPLUS_DEVICE_NETWORKS. Nothing in a heartbeat's body chooses where the portal connects."""

from __future__ import annotations

import socket

import pytest

from devices import lan, maintenance
from devices.choices import CommandStatus
from devices.models import Device
from tests.factories import build_world

ADDRESSES = {
    "127.77.0.5": "loopback",
    "10.1.2.3": "private",
    "192.168.1.20": "private",
    "172.16.0.9": "private",
    "169.254.10.10": "link-local",
    "169.254.169.254": "metadata",
    "::ffff:169.254.169.254": "metadata, IPv4-mapped",
    "fe80::1": "link-local IPv6",
    "fd00:ec2::254": "metadata IPv6",
    "8.8.8.8": "public",
}


@pytest.fixture
def dialled(monkeypatch):
    """Every (host, port) a socket is asked to connect to; nothing is really dialled."""
    calls: list = []

    def refuse(self, address, *args, **kwargs):
        calls.append(tuple(address[:2]))
        raise ConnectionRefusedError("test: not dialling")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return calls


@pytest.mark.parametrize(
    ("networks", "allowed"),
    [
        (["127.0.0.0/8"], {"127.77.0.5"}),
        (["10.0.0.0/8", "192.168.0.0/16"], {"10.1.2.3", "192.168.1.20"}),
        ([], set()),
        # Even a careless allowlist never reaches the metadata service.
        (["169.254.0.0/16", "fd00::/8"], {"169.254.10.10"}),
    ],
)
def test_only_allowlisted_addresses_are_dialled(settings, dialled, networks, allowed):
    settings.SMARTPLUS_DEVICE_NETWORKS = networks
    for address in ADDRESSES:
        with pytest.raises((lan.NotAllowed, lan.DeviceUnreachable)) as exc:
            lan.call(address, "cloud", "poll")
        assert isinstance(exc.value, lan.DeviceUnreachable) == (address in allowed), address
    assert {host for host, _port in dialled} == allowed


def test_refusals_say_why(settings):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    assert (
        lan.refusal("10.1.2.3")
        == "The device's LAN address 10.1.2.3 is outside the networks the portal may reach."
    )
    assert lan.refusal("169.254.169.254") == "169.254.169.254 is never dialled by the portal."
    assert lan.refusal("router.local") == "“router.local” is not an IP address."
    assert lan.refusal(None) == "The device has not reported its LAN address yet."
    settings.SMARTPLUS_DEVICE_NETWORKS = []
    assert "SMARTPLUS_DEVICE_NETWORKS is empty" in lan.refusal("127.0.0.1")


@pytest.mark.django_db
def test_the_nudge_task_skips_devices_outside_the_allowlist(settings, dialled):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    w = build_world()
    for address in ("169.254.169.254", "10.0.0.7", "169.254.1.1"):
        Device.objects.filter(pk=w.device_a.pk).update(lan_address=address)
        assert maintenance.device_nudge(device_id=w.device_a.pk) is False
    assert dialled == []
    settings.SMARTPLUS_DEVICE_LAN_PORT = 1
    Device.objects.filter(pk=w.device_a.pk).update(lan_address="127.77.0.9")
    with pytest.raises(lan.DeviceUnreachable):
        maintenance.device_nudge(device_id=w.device_a.pk)
    assert dialled == [("127.77.0.9", 1)]


@pytest.mark.django_db
def test_an_unreachable_device_still_gets_its_command_at_the_next_heartbeat(
    settings, django_capture_on_commit_callbacks
):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    w = build_world()
    settings.SMARTPLUS_DEVICE_LAN_PORT = 1  # nothing listens
    Device.objects.filter(pk=w.device_a.pk).update(lan_address="127.77.9.9")
    with django_capture_on_commit_callbacks(execute=True):
        command = maintenance.device_reboot(actor=w.installer_a, device=w.device_a)
    command.refresh_from_db()
    assert command.status == CommandStatus.QUEUED


# --- which address and port: what the device's connection proves -------------------------------


def heartbeat_from(device, remote_addr: str, **headers):
    """A heartbeat arriving from `remote_addr` whose body claims another host and port."""
    body = {"firmware_version": device.firmware_version, "lan_address": "127.0.0.1", "lan_port": 18999}
    return device.post("/device-api/v1/heartbeat", body, REMOTE_ADDR=remote_addr, **headers, **device.auth())


@pytest.mark.django_db
def test_a_device_reporting_another_host_or_port_is_never_dialled_there(settings, dialled, client):
    from django.utils import timezone

    from tests.devices.deviceapi import FakeDevice

    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    settings.SMARTPLUS_DEVICE_LAN_PORT = 8480
    w = build_world()
    device = FakeDevice(w.device_a.mac_address.mac)
    device.register()
    assert heartbeat_from(device, "127.77.0.9").status_code == 200
    stored = Device.objects.get(pk=w.device_a.pk)
    assert stored.lan_address == "127.77.0.9"  # where it came from, not the body's 127.0.0.1

    with pytest.raises(lan.DeviceUnreachable):
        maintenance.device_nudge(device_id=w.device_a.pk)
    assert dialled == [("127.77.0.9", 8480)]

    # Remote Control relays to the same place, whatever path the user asks for.
    Device.objects.filter(pk=w.device_a.pk).update(last_seen_at=timezone.now())
    client.force_login(w.installer_a)
    remote = client.post(f"/devices/{w.device_a.pk}/remote-control/")["Location"]
    assert client.get(remote + "admin/login/").status_code == 502
    assert dialled == [("127.77.0.9", 8480), ("127.77.0.9", 8480)]


@pytest.mark.django_db
def test_behind_trusted_proxies_the_address_is_the_one_the_proxy_saw(settings, dialled):
    from tests.devices.deviceapi import FakeDevice

    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    w = build_world()
    device = FakeDevice(w.device_a.mac_address.mac)
    device.register()
    # The proxy (10.0.0.2) appends the address it was reached from; what the device wrote left of
    # it is never trusted.
    settings.SMARTPLUS_TRUSTED_PROXIES = 1
    heartbeat_from(device, "10.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1, 127.77.0.10")
    assert Device.objects.get(pk=w.device_a.pk).lan_address == "127.77.0.10"
    settings.SMARTPLUS_TRUSTED_PROXIES = 0
    heartbeat_from(device, "10.0.0.2", HTTP_X_FORWARDED_FOR="127.77.0.11")
    assert Device.objects.get(pk=w.device_a.pk).lan_address == "10.0.0.2"
    assert maintenance.device_nudge(device_id=w.device_a.pk) is False  # outside the networks
    assert dialled == []


@pytest.mark.django_db
def test_firmware_without_the_nudge_is_asked_once_and_the_nudge_given_up(settings):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str, str]] = []

    class RealFirmware(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            seen.append((self.path, self.headers["Content-Type"], body))
            reply = json.dumps({"retcode": -1, "action": "poll", "message": "No handlers for this request"})
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), RealFirmware)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
        settings.SMARTPLUS_DEVICE_LAN_PORT = server.server_port
        w = build_world()
        Device.objects.filter(pk=w.device_a.pk).update(lan_address="127.0.0.1")
        assert maintenance.device_nudge(device_id=w.device_a.pk) is False  # no retry either
    finally:
        server.shutdown()
        server.server_close()
    # Akuvox's request shape: the target/action/data body as text/plain JSON.
    assert seen == [("/api/cloud/poll", "text/plain", '{"target": "cloud", "action": "poll", "data": {}}')]
