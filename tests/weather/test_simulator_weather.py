"""The simulated monitors against the real portal (live server) and the fake provider: a C319 on
119.30.10.203 shows the weather (its state and its LAN API's /api/weather/get); a C319 on
119.30.10.202 and an X933H are never sent it."""

from __future__ import annotations

import json

import pytest

from devices.choices import CommandKind, DeviceType
from devices.models import Device, DeviceCommand
from devices.simulator import DeviceSpec
from tests.devices.test_simulator import lan_get, portal, simulate, wait_until  # noqa: F401
from tests.factories import make_apartment, make_device, make_mac
from weather.models import Location
from weather.tasks import weather_refresh_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_simulated_c319_shows_the_weather_and_the_others_get_none(world, fake_weather, simulate):  # noqa: F811
    specs = [
        DeviceSpec("0C11AC000001", "119.30.10.203"),
        DeviceSpec("0C11AC000002", "119.30.10.202"),
        DeviceSpec("0C11AC000003", "933.30.10.210"),  # an X933H
    ]
    for i, spec in enumerate(specs):
        make_mac(world.installer_a, spec.mac)
        apartment = make_apartment(world.building_a, f"50{i}")
        make_device(
            world.community_a,
            f"Monitor {i}",
            apartment=apartment,
            device_type=DeviceType.INDOOR_MONITOR,
            mac=spec.mac,
        )
    sim = simulate(specs)
    wait_until(
        lambda: (
            Device.objects.filter(
                mac_address__mac__in=[s.mac for s in specs], firmware_version__gt=""
            ).count()
            == 3
        ),
        what="every monitor reporting its firmware",
    )

    weather_refresh_task()  # eager; on commit (a real transaction) it locates, fetches and delivers
    shown = wait_until(lambda: sim.truth()[specs[0].mac]["weather"], what="the weather on the C319")
    location = Location.objects.get()
    assert shown["unit"] == "F" and shown["location"] == location.name
    status, body = lan_get(sim.truth()[specs[0].mac], "/api/weather/get")
    reply = json.loads(body)
    assert status == 200 and reply["retcode"] == 0
    assert (
        reply["data"]["temperature"] == shown["temperature"]
        and reply["data"]["condition"] == shown["condition"]
    )

    assert sim.truth()[specs[1].mac]["weather"] == {} and sim.truth()[specs[2].mac]["weather"] == {}
    others = DeviceCommand.objects.filter(device__mac_address__mac__in=[specs[1].mac, specs[2].mac])
    assert not others.filter(kind=CommandKind.WEATHER).exists()
    status, body = lan_get(sim.truth()[specs[1].mac], "/api/weather/get")
    assert json.loads(body)["data"] == {}
