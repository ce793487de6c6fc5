"""The simulator's event uploader: buffered while the portal is away, posted in batches, and
against the live portal the events land in the Door Log and Call History."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import urllib.request
from types import SimpleNamespace

import pytest

from devices import services
from devices.simulator import Simulator, specs_for
from devices.simulator.events import EventUploader, door_log_event
from devices.simulator.lanapi import LocalData
from devices.simulator.portal import PortalUnavailable, Reply
from logs.models import CallEvent, CapturedImage, DoorEvent
from tests.devices.test_simulator import lan_network, wait_until
from tests.factories import make_device, make_mac


def _run(coroutine):
    """asyncio.run in a thread of its own: the test thread may hold a running loop already
    (Playwright's sync API leaves one behind the e2e tests)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class FlakyPortal:
    def __init__(self):
        self.down = True
        self.batches: list[list[dict]] = []

    async def events(self, auth, events):
        if self.down:
            raise PortalUnavailable("connection refused")
        self.batches.append(list(events))
        return Reply(200, {"ok": True})

    async def event_image(self, auth, kind, event_id, jpeg):
        return Reply(201, {"ok": True})


def _device(portal):
    return SimpleNamespace(
        portal=portal, registered=True, up=True, local=LocalData(), mac="0C11AB000001",
        spec=SimpleNamespace(mac="0C11AB000001"), _auth=lambda: "Basic x", _problem=lambda *a: None,
    )  # fmt: skip


def test_events_wait_in_the_buffer_while_the_portal_is_away_then_go_in_batches():
    portal = FlakyPortal()
    uploader = EventUploader(_device(portal), batch_size=50)
    rng = random.Random(1)
    for _ in range(120):
        uploader.synthetic(rng, image_percent=0)
    assert _run(uploader.flush()) == 0 and len(uploader.buffer) == 120
    portal.down = False
    assert _run(uploader.flush()) == 120
    assert [len(b) for b in portal.batches] == [50, 50, 20]
    ids = [e["id"] for b in portal.batches for e in b]
    assert len(set(ids)) == 120  # in order, each once


def test_the_devices_own_door_log_is_uploaded_once():
    portal = FlakyPortal()
    portal.down = False
    device = _device(portal)
    uploader = EventUploader(device)
    entry = {"ID": "1", "Date": "2026-12-01", "Time": "10:00:00", "Name": "Lily", "Code": "1234",
             "Type": "PIN", "Relay": "1", "Status": "Failed", "UserID": "42"}  # fmt: skip
    device.local.door_log.insert(0, entry)
    uploader.collect_door_log()
    uploader.collect_door_log()
    _run(uploader.flush())
    [[event]] = portal.batches
    assert (event["method"], event["result"], event["credential"], event["user_id"]) == (
        "pin",
        "refused",
        "1234",
        42,
    )
    assert door_log_event(entry, "t")["relay"] == 1


@pytest.mark.django_db(transaction=True)
def test_simulated_events_reach_the_door_log(world, live_server, settings):
    settings.SMARTPLUS_BASE_URL = live_server.url
    settings.SMARTPLUS_DEVICE_NETWORKS = []
    [spec] = specs_for(1, prefix="0C11AC", start=1)
    make_mac(world.installer_a, spec.mac)
    make_device(world.community_a, "Events Gate", mac=spec.mac)
    sim = Simulator(
        live_server.url, [spec], lan_network=lan_network(), interval=0.3, reboot_seconds=0.2,
        slow_seconds=0.2, provisioning_code=services.provisioning_code(actor=world.installer_a),
        events_per_minute=600, image_percent=50,
    )  # fmt: skip
    sim.start(timeout=15)
    try:
        wait_until(lambda: DoorEvent.objects.count() >= 5, timeout=20, what="door events")
        wait_until(lambda: CallEvent.objects.exists(), timeout=20, what="a call")
        wait_until(lambda: CapturedImage.objects.exists(), timeout=20, what="an image")
        # A relay opened over the device's LAN API is in its door log, and so in the portal's.
        truth = sim.truth()[spec.mac]
        body = {"target": "relay", "action": "trig", "data": {"mode": 0, "num": 1, "level": 1, "delay": 1}}
        request = urllib.request.Request(
            f"http://{truth['lan_address']}:{truth['lan_port']}/api/relay/trig",
            data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=3) as response:
            assert json.loads(response.read())["retcode"] == 0
        relay = DoorEvent.objects.filter(method="app", event_id__regex=r"^[0-9a-f]{8}-1$")
        wait_until(relay.exists, timeout=20, what="the relay's door log entry")
    finally:
        sim.stop()
    assert set(DoorEvent.objects.values_list("community_id", flat=True)) == {world.community_a.pk}
