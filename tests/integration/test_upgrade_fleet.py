"""A scheduled firmware upgrade of 50 simulated devices, 10% of them dead, run by a real Celery
worker on Redis with beat's semantics: the portal ends with exactly what the devices know."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from devices import services as device_services
from devices.models import Device
from devices.simulator import Simulator, specs_for
from firmware import services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from firmware.models import Firmware
from firmware.tasks import upgrades_due_task
from tests.factories import build_world, make_device, make_mac
from tests.workers import TaskLog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEVICES = 50
OLD, NEW = "29.30.2.14", "29.30.2.900"
ROM = b"R29 firmware " * 4096


class Beat(threading.Thread):
    """What celery beat does with the schedule's "firmware-upgrades-due" entry: send the task every
    period (shortened from SMARTPLUS_UPGRADE_POLL_SECONDS so the test takes seconds)."""

    def __init__(self, period: float):
        super().__init__(daemon=True)
        self.period, self.stopped = period, threading.Event()

    def run(self):
        while not self.stopped.wait(self.period):
            upgrades_due_task.delay()


def test_beat_schedules_the_due_upgrade_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["firmware-upgrades-due"]
    assert entry["task"] == upgrades_due_task.name
    assert entry["schedule"] == django_settings.SMARTPLUS_UPGRADE_POLL_SECONDS


@pytest.fixture
def fleet_settings(settings, live_server, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMARTPLUS_BASE_URL = live_server.url
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    settings.SMARTPLUS_DEVICE_LAN_PORT = 18480  # the simulator's below
    settings.SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL = 2
    settings.SMARTPLUS_UPGRADE_DEADLINE = 4
    settings.SMARTPLUS_UPGRADE_ATTEMPTS = 2
    return settings


def test_scheduled_upgrade_of_fifty_devices_with_ten_percent_dead(fleet_settings, celery_worker_real):
    w = build_world()
    specs = specs_for(DEVICES, prefix="0C11E0", start=1, firmware=OLD)
    for spec in specs:
        make_mac(w.installer_a, spec.mac)
        make_device(w.community_a, f"Door {spec.mac[-3:]}", mac=spec.mac, firmware_version=OLD)
    firmware = Firmware(version=NEW, sha256=hashlib.sha256(ROM).hexdigest(), size=len(ROM))
    firmware.file.save("r29.rom", ContentFile(ROM), save=False)
    firmware.save()
    log = TaskLog()
    simulator = Simulator(
        django_settings.SMARTPLUS_BASE_URL,
        specs,
        dead_percent=10,
        lan_network="127.78.1.0/24",
        lan_port=18480,
        reboot_seconds=0.3,
        seed=7,
        provisioning_code=device_services.provisioning_code(actor=w.installer_a),
    )
    beat = Beat(period=1.0)
    try:
        simulator.start(timeout=30)
        assert len(simulator.dead_macs) == DEVICES // 10
        upgrade = services.upgrade_create(
            actor=w.installer_a,
            firmware=firmware,
            devices=list(Device.objects.filter(mac_address__mac__startswith="0C11E0")),
            timing=Timing.SCHEDULED,
            scheduled_at=timezone.now() + timedelta(seconds=2),
        )
        assert upgrade.status == UpgradeStatus.PENDING
        beat.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            upgrade.refresh_from_db()
            if upgrade.status == UpgradeStatus.EXECUTED:
                break
            time.sleep(0.5)
        assert upgrade.status == UpgradeStatus.EXECUTED, services.upgrade_counts(upgrade)
        truth = simulator.truth()
    finally:
        beat.stopped.set()
        simulator.stop()
        log.close()

    # Beat found it once it was due; the dispatch fanned out chunks, not one loop per device.
    assert log.named("firmware.tasks.upgrade_dispatch_task")[0] == (upgrade.pk,)
    assert len(log.named("firmware.tasks.operations_start_task")) >= 1
    operations = {op.mac: op for op in upgrade.operations.select_related("device")}
    assert len(operations) == DEVICES
    for mac, known in truth.items():
        op = operations[mac]
        device = op.device
        if mac in simulator.dead_macs:
            assert known["firmware_version"] == OLD
            assert op.status == OperationStatus.FAILED, mac
            assert op.reason.startswith(f"No report of {NEW} after 2 attempt(s); the device was last seen")
            assert device.firmware_version == OLD
        else:
            assert known["firmware_version"] == NEW, mac
            assert op.status == OperationStatus.SUCCESS, (mac, op.reason)
            assert (op.version_before, device.firmware_version, device.model) == (OLD, NEW, "R29")
    assert upgrade.executed_at >= upgrade.scheduled_at
