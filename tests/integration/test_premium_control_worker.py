"""A property manager's switch reaches the door phone under a real Celery worker: the AutoP
command is queued in the switch's transaction, the worker nudges the device on its LAN, and the
device, heartbeating, collects the command and finds the switch in its AutoP file."""

from __future__ import annotations

import time

import pytest

from devices.models import Device
from pmportal.services import premium_control_set
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world
from tests.integration.test_nudge_connections import device_lan  # noqa: F401  (fixture)
from tests.pmportal.support import set_plan

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_package_notification_nudges_the_r29_and_lands_in_its_autop_file(device_lan, celery_worker_real):  # noqa: F811
    world = build_world()
    set_plan(world.community_a)
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    Device.objects.filter(pk=world.device_a.pk).update(lan_address="127.0.0.1")
    premium_control_set(
        actor=world.pm_a, community=world.community_a, control="package_notification", enabled=True
    )
    deadline = time.monotonic() + 20
    while device_lan.polls < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert device_lan.polls == 1  # the worker asked the R29 to heartbeat now
    [command] = device.commands()
    assert command["kind"] == "autop"
    assert "Config.DoorSetting.PACKAGE.Enable = 1" in device.autop().content.decode()
