"""The device API: first contact, authentication, heartbeats, commands and their results."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices import maintenance
from devices.choices import CommandStatus, DeviceStatus
from devices.models import Device, RegistrationRequest
from firmware import links
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world, make_mac

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_first_contact_with_the_installers_code_issues_a_secret_and_stores_only_its_hash(world):
    device = FakeDevice(world.device_a.mac_address.mac, "29.30.2.20")
    response = device.register(configure=False)
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert len(secret) >= 40
    stored = Device.objects.get(pk=world.device_a.pk)
    assert stored.api_secret_hash and secret not in stored.api_secret_hash
    assert device.claim_token not in stored.claim_hash
    assert stored.firmware_version == "29.30.2.20"
    assert stored.registration_state == "adopted"
    # Another claim on the same MAC, even with the code, gets "pending" and no secret.
    again = FakeDevice(world.device_a.mac_address.mac).register()
    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    assert "secret" not in again.json()


def test_first_contact_has_the_device_pull_its_configuration(world):
    maintenance.device_settings_update(
        actor=world.installer_a, device=world.device_a, transport=2, autop_commands="Config.A.B.C = 1"
    )
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()  # collects the AutoP command queued at first contact, then applies it
    assert "Config.Account1.SIP.TransType = 2" in device.config
    assert "Config.A.B.C = 1" in device.config
    assert device.commands() == []


def test_unknown_unbound_and_foreign_macs_get_the_same_pending_reply_and_store_nothing(world):
    unbound = make_mac(world.installer_a)
    # Installer B's code on installer A's device, a wrong code, an unbound MAC, an unknown MAC.
    code_b = FakeDevice(world.device_b.mac_address.mac).installer_code()
    replies = [
        FakeDevice(world.device_a.mac_address.mac).register(code=code_b),
        FakeDevice(world.device_a.mac_address.mac).register(code="not-the-code"),
        FakeDevice(unbound.mac).register(code=code_b),
        FakeDevice("0C11FFFFFFF0").register(code=code_b),
    ]
    bodies = {json.dumps(r.json(), sort_keys=True) for r in replies}
    assert [r.status_code for r in replies] == [202] * 4
    assert len(bodies) == 1
    assert not Device.objects.exclude(api_secret_hash="").exists()
    # Only the bound MAC's requests are kept, for its installer to see.
    assert RegistrationRequest.objects.filter(device=world.device_a).count() == 2
    assert RegistrationRequest.objects.count() == 2
    assert FakeDevice("not-a-mac").register().status_code == 400


def test_unknown_macs_and_wrong_secrets_get_the_same_401(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    wrong = device.heartbeat(**device.auth(secret="guess"))
    unknown = device.heartbeat(**device.auth(mac="0C11FFFFFFFF"))
    unregistered = FakeDevice(world.device_b.mac_address.mac).heartbeat(
        **device.auth(mac=world.device_b.mac_address.mac)
    )
    missing = device.post("/device-api/v1/heartbeat", {})
    for response in (wrong, unknown, unregistered, missing):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="device-api"'
        assert response.json()["message"] == "Unknown device or wrong secret."


def test_a_device_cannot_read_or_report_for_another_installers_device(world):
    a = FakeDevice(world.device_a.mac_address.mac)
    b = FakeDevice(world.device_b.mac_address.mac)
    a.register(), b.register()
    command = maintenance.device_reboot(actor=world.installer_b, device=world.device_b)
    # A's credentials on B's AutoP file and on B's command.
    assert a.autop(mac=world.device_b.mac_address.mac).status_code == 404
    assert a.result(command.pk).status_code == 404
    command.refresh_from_db()
    assert command.status == CommandStatus.QUEUED
    # B's MAC with A's secret.
    assert a.heartbeat(**a.auth(mac=world.device_b.mac_address.mac)).status_code == 401


def test_heartbeat_makes_the_device_online_and_records_what_it_reports(world, settings):
    settings.SMARTPLUS_DEVICE_OFFLINE_AFTER = 60
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    Device.objects.filter(pk=world.device_a.pk).update(last_seen_at=None)
    assert Device.objects.get(pk=world.device_a.pk).status == DeviceStatus.OFFLINE
    device.firmware_version = "28.31.1.209"
    response = device.heartbeat(lan_address="192.168.1.30", lan_port=8080)
    assert response.status_code == 200
    assert response.json() == {
        "heartbeat_interval": settings.SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL,
        "commands": [],
    }
    stored = Device.objects.get(pk=world.device_a.pk)
    assert stored.status == DeviceStatus.ONLINE
    assert (stored.firmware_version, stored.model) == ("28.31.1.209", "R28")
    # The address the heartbeat came from (the test client's), never the one the body claims.
    assert stored.lan_address == "127.0.0.1"


def test_a_heartbeat_with_nothing_queued_is_one_statement(world):
    device = FakeDevice(world.device_a.mac_address.mac, "29.30.2.14")
    device.register()
    device.heartbeat()
    with CaptureQueriesContext(connection) as queries:
        assert device.heartbeat().status_code == 200
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["UPDATE"]  # authenticates and records in one round trip
    # A wrong secret is one statement too, and writes nothing.
    seen = Device.objects.values_list("last_seen_at", flat=True).get(pk=world.device_a.pk)
    device.secret = "0" * len(device.secret)
    assert device.heartbeat().status_code == 401
    assert Device.objects.values_list("last_seen_at", flat=True).get(pk=world.device_a.pk) == seen


def test_bad_heartbeat_fields_are_refused_with_a_reason(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    # The body's lan_address and lan_port are not read (the source address is the device's).
    assert device.heartbeat(lan_address="evil.example", lan_port=70000).status_code == 200
    assert device.post("/device-api/v1/heartbeat", ["x"], **device.auth()).status_code == 400


def test_commands_are_delivered_once_and_results_are_idempotent(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    reboot = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    # A double click does not reboot twice.
    assert maintenance.device_reboot(actor=world.installer_a, device=world.device_a).pk == reboot.pk
    assert device.commands() == [{"id": reboot.pk, "kind": "reboot"}]
    reboot.refresh_from_db()
    assert reboot.status == CommandStatus.DELIVERED and reboot.delivered_at
    assert device.commands() == []
    assert device.result(reboot.pk, "done", "rebooting").status_code == 200
    assert device.result(reboot.pk, "failed", "late duplicate").status_code == 200
    reboot.refresh_from_db()
    assert (reboot.status, reboot.message) == (CommandStatus.DONE, "rebooting")
    assert device.result(reboot.pk, "maybe").status_code == 400


def test_a_factory_reset_done_lets_the_device_register_again(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    reset = maintenance.device_reset(actor=world.installer_a, device=world.device_a)
    [command] = device.commands()
    assert command == {"id": reset.pk, "kind": "reset"}
    device.result(reset.pk, "done")
    assert device.heartbeat().status_code == 401  # the old secret is gone
    device.claim_token = "a-new-claim-after-the-reset"  # the device forgot its claim too
    assert device.register().status_code == 201
    assert device.heartbeat().status_code == 200


def test_an_autop_command_names_the_devices_file(world, settings):
    settings.SMARTPLUS_BASE_URL = "https://portal.example"
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    maintenance.device_settings_update(
        actor=world.installer_a, device=world.device_a, transport=0, autop_commands=""
    )
    [command] = device.commands()
    assert command["kind"] == "autop"
    assert command["url"] == f"https://portal.example/autop/{world.device_a.mac_address.mac}.cfg"


def test_firmware_links_expire_and_cannot_be_altered(settings, tmp_path):
    from django.core.files.base import ContentFile

    from firmware.models import Firmware

    settings.MEDIA_ROOT = tmp_path
    firmware = Firmware(version="29.30.2.900", sha256="0" * 64, size=4)
    firmware.file.save("r29.rom", ContentFile(b"ROM!"), save=False)
    firmware.save()
    url = links.download_url(firmware.pk)
    path = url.split("://", 1)[1].split("/", 1)[1]
    client = FakeDevice("0C1105000001").client
    response = client.get("/" + path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"ROM!"
    assert client.get("/" + path[:-2] + "xx").status_code == 403
    settings.SMARTPLUS_FIRMWARE_LINK_TTL = -1
    assert client.get("/" + path).status_code == 403


def test_device_urls_that_do_not_exist_are_404(client):
    assert client.get("/device-api/v1/nope").status_code == 404
    assert client.post("/device-api/v2/heartbeat").status_code == 404
    assert client.get("/autop/not-a-mac.cfg").status_code == 404
