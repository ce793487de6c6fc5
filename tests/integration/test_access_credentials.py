"""Credentials end to end: a property manager's PIN reaches a simulated public door phone (real
Celery worker for the nudges, real device API under the live server), which acknowledges the
version and opens only for a valid credential; deleting it and a card's ended window refuse; the
door reports every attempt and the Door Log names the resident behind each credential."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from access import services
from access.models import DeviceUsers
from devices import services as device_services
from devices.simulator import Simulator, specs_for
from logs.models import DoorEvent
from tests.factories import build_world, make_device, make_mac

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LAN_NETWORK, LAN_PORT = "127.78.9.0/24", 18490


@pytest.fixture
def fleet_settings(settings, live_server):
    settings.SMARTPLUS_BASE_URL = live_server.url
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    settings.SMARTPLUS_DEVICE_LAN_PORT = LAN_PORT
    # Long: only the nudges the worker sends make the device heartbeat soon.
    settings.SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL = 30
    return settings


def _entry(address: str, **body) -> dict:
    request = urllib.request.Request(
        f"http://{address}:{LAN_PORT}/simulator/entry",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        answer = json.loads(reply.read())
    assert answer["retcode"] == 0, answer
    return answer["data"]


def _acknowledged(device, version: int, timeout: float = 30) -> DeviceUsers:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = DeviceUsers.objects.get(device=device)
        if state.version_acknowledged >= version:
            return state
        time.sleep(0.2)
    raise AssertionError(f"version {version} not acknowledged: {DeviceUsers.objects.get(device=device)}")


def test_pin_and_card_reach_the_door_and_open_it_only_while_valid(fleet_settings, celery_worker_real):
    w = build_world()
    (spec,) = specs_for(1, prefix="0C11E9", start=1, firmware="29.30.2.14")
    make_mac(w.installer_a, spec.mac)
    door = make_device(w.community_a, "Main Gate", mac=spec.mac, firmware_version="29.30.2.14")
    simulator = Simulator(
        django_settings.SMARTPLUS_BASE_URL,
        [spec],
        lan_network=LAN_NETWORK,
        lan_port=LAN_PORT,
        interval=30,
        seed=3,
        provisioning_code=device_services.provisioning_code(actor=w.installer_a),
    )
    try:
        simulator.start(timeout=30)
        address = simulator.truth()[spec.mac]["lan_address"]
        # The device heartbeats once so that the portal knows its LAN address (for the nudge).
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            door.refresh_from_db()
            if door.lan_address:
                break
            time.sleep(0.3)
        assert door.lan_address == address

        pin = services.credential_create(
            actor=w.pm_a, resident_id=w.resident_a.pk, fields={"kind": "pin", "code": "246810"}
        )
        state = _acknowledged(door, 1)
        assert state.acknowledged_at is not None
        known = simulator.truth()[spec.mac]
        assert known["users_version"] == 1
        assert [(u["Name"], u["PrivatePIN"]) for u in known["users"]] == [("Lily Zheng", "246810")]

        opened = _entry(address, pin="246810", relay="A")
        assert opened["opened"] is True
        assert opened["attempt"]["user_id"] == str(pin.pk)
        refused = _entry(address, pin="111111", relay="A")
        assert (refused["opened"], refused["reason"]) == (False, "unknown code")

        # The door uploads its door log every few seconds; a PIN deleted before its entry
        # arrives names nobody (the Door Log still shows the code).
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and not DoorEvent.objects.filter(device=door, result="success").exists()
        ):
            time.sleep(0.3)
        services.credential_delete(actor=w.pm_a, credential_id=pin.pk)
        _acknowledged(door, 2)
        assert _entry(address, pin="246810")["opened"] is False

        now = timezone.now()
        services.credential_create(
            actor=w.pm_a,
            resident_id=w.member_a.pk,
            fields={
                "kind": "rf_card",
                "code": "00C0FFEE",
                "valid_from": now - timedelta(days=7),
                "valid_until": now - timedelta(minutes=1),
            },
        )
        services.credential_create(
            actor=w.pm_a, resident_id=w.member_a.pk, fields={"kind": "rf_card", "code": "00BEEF00"}
        )
        _acknowledged(door, 4)
        expired = _entry(address, card="00c0ffee")
        assert (expired["opened"], expired["reason"]) == (False, "expired")
        assert _entry(address, card="00BEEF00")["opened"] is True

        attempts = simulator.truth()[spec.mac]["attempts"]
        assert [(a["method"], a["result"]) for a in attempts] == [
            ("pin", "granted"),
            ("pin", "refused"),
            ("pin", "refused"),
            ("rf_card", "refused"),
            ("rf_card", "granted"),
        ]

        # The door uploads its door log (every few seconds): what the Door Log page lists.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and DoorEvent.objects.filter(device=door).count() < 5:
            time.sleep(0.3)
        logged = sorted(
            DoorEvent.objects.filter(device=door).values_list(
                "method", "result", "credential", "resident_name"
            )
        )
        assert logged == [
            ("pin", "refused", "111111", ""),
            ("pin", "refused", "246810", ""),  # the deleted PIN names nobody any more
            ("pin", "success", "246810", "Lily Zheng"),
            ("rf_card", "refused", "00C0FFEE", ""),
            ("rf_card", "success", "00BEEF00", "Jim Wang"),
        ]
        assert set(DoorEvent.objects.filter(device=door).values_list("community_id", flat=True)) == {
            w.community_a.pk
        }
    finally:
        simulator.stop()
