"""The LAN nudge and relay never dial outside SMARTPLUS_DEVICE_NETWORKS."""

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
    """Every address a socket is asked to connect to; nothing is really dialled."""
    calls: list = []

    def refuse(self, address, *args, **kwargs):
        calls.append(address[0])
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
            lan.call(address, 80, "cloud", "poll")
        assert isinstance(exc.value, lan.DeviceUnreachable) == (address in allowed), address
    assert set(dialled) == allowed


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
    Device.objects.filter(pk=w.device_a.pk).update(lan_address="127.77.0.9", lan_port=1)
    with pytest.raises(lan.DeviceUnreachable):
        maintenance.device_nudge(device_id=w.device_a.pk)
    assert dialled == ["127.77.0.9"]


@pytest.mark.django_db
def test_an_unreachable_device_still_gets_its_command_at_the_next_heartbeat(
    settings, django_capture_on_commit_callbacks
):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    w = build_world()
    Device.objects.filter(pk=w.device_a.pk).update(lan_address="127.77.9.9", lan_port=1)  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        command = maintenance.device_reboot(actor=w.installer_a, device=w.device_a)
    command.refresh_from_db()
    assert command.status == CommandStatus.QUEUED
