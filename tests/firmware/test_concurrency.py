"""Two devices reporting their new firmware at the same moment still make the upgrade Executed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from firmware import services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world, make_device
from tests.firmware.factories import make_firmware

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_two_devices_reporting_together_execute_the_upgrade(monkeypatch):
    w = build_world()
    lobby = make_device(w.community_a, "Alpha Lobby", firmware_version="29.30.2.14")
    devices = [FakeDevice(d.mac_address.mac) for d in (w.device_a, lobby)]
    for device in devices:
        device.register()
    upgrade = services.upgrade_create(
        actor=w.installer_a,
        firmware=make_firmware("29.30.2.900"),
        devices=[w.device_a, lobby],
        timing=Timing.NOW,
    )
    for chunk in services.upgrade_dispatch(upgrade_id=upgrade.pk):
        services.operations_start(operation_ids=chunk)
    commands = [device.commands()[0] for device in devices]

    # Both transactions have made their own operation final before either looks at the upgrade.
    both_settled = threading.Barrier(2, timeout=10)
    refresh = services._refresh_upgrade

    def after_both(upgrade_id):
        both_settled.wait()
        refresh(upgrade_id)

    monkeypatch.setattr(services, "_refresh_upgrade", after_both)
    errors = []

    def report(device, command):
        try:
            device.firmware_version = "29.30.2.900"
            assert device.result(command["id"], "done", firmware_version="29.30.2.900").status_code == 200
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=pair) for pair in zip(devices, commands, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert set(upgrade.operations.values_list("status", flat=True)) == {OperationStatus.SUCCESS}
    upgrade.refresh_from_db()
    assert upgrade.status == UpgradeStatus.EXECUTED
