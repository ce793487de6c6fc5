"""The weather-refresh beat task on a real Celery worker (Redis broker) against the fake provider
over HTTP: the communities are located, each place fetched once, and the eligible monitor
collects the weather at its heartbeat; a second refresh within the period calls nobody."""

from __future__ import annotations

import pytest

from devices.choices import CommandKind, DeviceType
from devices.models import DeviceCommand
from tests.devices.deviceapi import FakeDevice
from tests.factories import make_apartment, make_device
from tests.weather.conftest import fake_weather  # noqa: F401
from tests.workers import TaskLog, wait_until
from weather.models import Observation
from weather.tasks import weather_refresh_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_refresh_on_a_worker_brings_the_weather_to_the_monitor(world, fake_weather, celery_worker_real):  # noqa: F811
    apartment = make_apartment(world.building_a, "201")
    device = make_device(
        world.community_a, "Monitor", apartment=apartment, device_type=DeviceType.INDOOR_MONITOR
    )
    monitor = FakeDevice(device.mac_address.mac, firmware_version="119.30.10.203")
    assert monitor.register().status_code == 201
    assert monitor.heartbeat().status_code == 200
    runs = TaskLog()
    try:
        weather_refresh_task.delay()
        queued = DeviceCommand.objects.filter(device=device, kind=CommandKind.WEATHER)
        assert wait_until(queued.exists), "the worker did not deliver the weather"
        # world: three communities in one place (Springfield, US) -> one geocoding, one fetch.
        assert fake_weather.calls == {"geocode": 1, "forecast": 1}
        [command] = monitor.commands()
        assert command["kind"] == "weather" and command["weather"]["unit"] == "F"
        observation = Observation.objects.get()
        assert command["weather"]["temperature_c"] == round(observation.temperature_c, 1)

        weather_refresh_task.delay()
        assert wait_until(lambda: len(runs.named("weather.tasks.weather_refresh_task")) == 2)
        assert fake_weather.calls == {"geocode": 1, "forecast": 1}  # cached for the period
        assert monitor.commands() == []
    finally:
        runs.close()
