"""Weather from the fake provider over HTTP to the indoor monitors, through the device API: who
gets it, what it costs the provider, what a failure leaves in place, when geocoding happens."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from communities.choices import TimeFormat
from communities.models import Community
from devices.choices import CommandKind, CommandStatus, DeviceType
from devices.models import DeviceCommand
from tests.devices.deviceapi import FakeDevice
from tests.factories import PASSWORD, make_apartment, make_device
from weather import services
from weather.fakeprovider.server import weather_for
from weather.models import CommunityWeather, Location, Observation, WeatherDelivery
from weather.tasks import weather_refresh_task

pytestmark = pytest.mark.django_db


def monitor(community, building, number: str, firmware: str):
    apartment = make_apartment(building, number)
    device = make_device(
        community, f"Monitor {number}", apartment=apartment, device_type=DeviceType.INDOOR_MONITOR
    )
    fake = FakeDevice(device.mac_address.mac, firmware_version=firmware)
    assert fake.register().status_code == 201
    assert fake.heartbeat().status_code == 200  # the portal now knows its firmware and model
    return device, fake


def age_observations(seconds: float) -> None:
    past = timezone.now() - timedelta(seconds=seconds)
    Observation.objects.update(fetched_at=past, next_attempt_at=None)


def test_only_a_c319_on_119_30_10_203_or_later_receives_the_weather(
    world, fake_weather, django_capture_on_commit_callbacks
):
    community = world.community_a  # US: °F
    _new, new_fake = monitor(community, world.building_a, "201", "119.30.10.203")
    _later, later_fake = monitor(community, world.building_a, "202", "119.30.10.1000")  # 1000 > 203
    _old, old_fake = monitor(community, world.building_a, "203", "119.30.10.202")
    _x933h, x933h_fake = monitor(community, world.building_a, "204", "933.30.10.210")

    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()  # locates the community (never located before), fetches, delivers

    location = Location.objects.get()
    temperature_c, code = weather_for(location.latitude, location.longitude)
    expected_f = services.conditions.in_unit(temperature_c, "F")
    [command] = new_fake.commands()
    assert command["kind"] == "weather"
    assert command["weather"]["temperature"] == expected_f and command["weather"]["unit"] == "F"
    assert command["weather"]["weather_code"] == code and command["weather"]["condition"]
    assert [c["kind"] for c in later_fake.commands()] == ["weather"]
    assert old_fake.commands() == [] and x933h_fake.commands() == []
    assert new_fake.result(command["id"], "done").status_code == 200
    assert DeviceCommand.objects.get(pk=command["id"]).status == CommandStatus.DONE


def test_a_community_outside_the_us_reads_celsius(world, fake_weather, django_capture_on_commit_callbacks):
    community = world.community_b
    Community.objects.filter(pk=community.pk).update(country="DE", city="Berlin")
    _device, fake = monitor(community, world.building_b, "301", "119.30.10.203")
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    [command] = fake.commands()
    location = Location.objects.get(key="de||berlin|12345")
    assert command["weather"]["unit"] == "C"
    assert command["weather"]["temperature_c"] == weather_for(location.latitude, location.longitude)[0]


def test_500_communities_in_40_places_cost_40_provider_calls_per_refresh(
    world, fake_weather, django_capture_on_commit_callbacks
):
    Community.objects.all().delete()
    Community.objects.bulk_create(
        Community(
            installer=world.installer_a, name=f"C{i}", country="US", city=f"Town {i % 40}", street=f"{i} Main"
        )
        for i in range(500)
    )
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    assert fake_weather.calls == {"geocode": 40, "forecast": 40}
    assert Location.objects.count() == 40 and CommunityWeather.objects.count() == 500

    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()  # within the period: the cached values, no call
    assert fake_weather.calls == {"geocode": 40, "forecast": 40}

    age_observations(settings_period())
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()  # the next period: once per place again, and no geocoding
    assert fake_weather.calls == {"geocode": 40, "forecast": 80}


def settings_period() -> int:
    from django.conf import settings

    return settings.SMARTPLUS_WEATHER_REFRESH_SECONDS


def test_a_failing_provider_keeps_the_last_value_logs_why_and_backs_off(
    world, fake_weather, caplog, django_capture_on_commit_callbacks
):
    _device, fake = monitor(world.community_a, world.building_a, "201", "119.30.10.203")
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    [first] = fake.commands()
    good = Observation.objects.get()

    fake_weather.fail = True
    age_observations(settings_period())
    caplog.set_level(logging.WARNING, logger="weather.services")
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    kept = Observation.objects.get()
    assert kept.temperature_c == good.temperature_c and kept.weather_code == good.weather_code
    assert kept.last_error == "HTTP 500: Fake provider failure" and kept.failures == 1
    assert kept.next_attempt_at > timezone.now()
    assert "HTTP 500: Fake provider failure" in caplog.text and "keeping" in caplog.text
    assert fake.commands() == []  # the monitor keeps what it shows; nothing new is sent

    calls = fake_weather.calls["forecast"]
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()  # still backing off: the provider is left alone
    assert fake_weather.calls["forecast"] == calls

    # The community page shows the value the monitors keep, when it was fetched, and why not newer.
    client = world_client(world)
    page = client.get(reverse("communities:community_detail", args=[world.community_a.pk])).content.decode()
    assert f"{first['weather']['temperature']} °F" in page
    assert "HTTP 500: Fake provider failure" in page
    assert timezone.localtime(kept.fetched_at).strftime("%Y-%m-%d %H:%M") in page

    fake_weather.fail = False
    Observation.objects.update(next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    assert Observation.objects.get().last_error == "" and Observation.objects.get().failures == 0


def world_client(world):
    from django.test import Client

    client = Client()
    assert client.login(username=world.installer_a.username, password=PASSWORD)
    return client


def test_a_slow_provider_times_out_and_keeps_the_last_value(
    world, fake_weather, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    good = Observation.objects.get()
    settings.SMARTPLUS_WEATHER_READ_TIMEOUT = 0.3
    fake_weather.slow = 1.0
    age_observations(settings_period())
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    kept = Observation.objects.get()
    assert kept.temperature_c == good.temperature_c
    assert kept.last_error == "no answer within 0.3 s"


def test_geocoding_happens_when_the_address_changes_only(
    world, fake_weather, django_capture_on_commit_callbacks
):
    installer = world.installer_a
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()  # the world's communities are located first
    fake_weather.reset()
    with django_capture_on_commit_callbacks(execute=True):
        community = community_services.community_create(
            actor=installer, name="Geo", country="US", city="Portland", street="1 Oak", post_code="97201"
        )
    assert fake_weather.calls["geocode"] == 1
    assert CommunityWeather.objects.get(community=community).location.name.startswith("Portland")

    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(
            actor=installer, community=community, street="2 Elm", name="Geo 2"
        )
        community_services.community_update(actor=installer, community=community, time_format=TimeFormat.H12)
        weather_refresh_task()
    assert (
        fake_weather.calls["geocode"] == 1
    )  # the street does not move the weather; refresh geocodes nothing

    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(
            actor=installer, community=community, city="Salem", post_code="97301"
        )
    assert fake_weather.calls["geocode"] == 2
    assert CommunityWeather.objects.get(community=community).location.name.startswith("Salem")

    with django_capture_on_commit_callbacks(execute=True):
        other = community_services.community_create(
            actor=installer,
            name="Geo Other",
            country="US",
            city="  salem ",
            street="9 Pine",
            post_code="97301",
        )
    assert fake_weather.calls["geocode"] == 2  # a known place: its Location is shared
    assert (
        CommunityWeather.objects.get(community=other).location_id
        == CommunityWeather.objects.get(community=community).location_id
    )


def test_a_typed_address_goes_only_into_query_parameters(
    world, fake_weather, django_capture_on_commit_callbacks
):
    hostile = "http://169.254.169.254/latest"
    Community.objects.filter(pk=world.community_a.pk).update(city=hostile)
    with django_capture_on_commit_callbacks(execute=True):
        services.community_locate(community_id=world.community_a.pk)
    [request] = [r for r in fake_weather.requests if r["kind"] == "geocode"]
    assert request["name"] == hostile  # asked about, at the configured geocoder, never dialled


def test_an_unknown_place_is_reported_and_not_geocoded_again(
    world, fake_weather, django_capture_on_commit_callbacks
):
    Community.objects.filter(pk=world.community_a.pk).update(city="Nowhere Town")
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
        weather_refresh_task()
    location = CommunityWeather.objects.get(community=world.community_a).location
    assert not location.has_coordinates and location.geocode_error == "No place found for this address."
    geocodes = [r for r in fake_weather.requests if r["kind"] == "geocode" and r["name"] == "Nowhere Town"]
    assert len(geocodes) == 1
    page = world_client(world).get(reverse("communities:community_detail", args=[world.community_a.pk]))
    assert "No place found for this address." in page.content.decode()


def test_the_same_value_is_not_sent_twice_and_a_waiting_command_is_updated(
    world, fake_weather, django_capture_on_commit_callbacks
):
    device, fake = monitor(world.community_a, world.building_a, "201", "119.30.10.203")
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    location = Location.objects.get()
    assert services.location_deliver(location_id=location.pk) == 0  # it has this value already
    weather = DeviceCommand.objects.filter(device=device, kind=CommandKind.WEATHER)
    assert weather.count() == 1

    fake_weather.shift = 10  # ten degrees warmer next period
    age_observations(settings_period())
    with django_capture_on_commit_callbacks(execute=True):
        weather_refresh_task()
    # Not collected yet: the waiting command carries the new value; still one to collect.
    [command] = fake.commands()
    temperature_c, _code = weather_for(location.latitude, location.longitude, 10)
    assert command["weather"]["temperature_c"] == temperature_c
    assert weather.count() == 1
    assert WeatherDelivery.objects.get(device=device).command_id == command["id"]


def test_versions_are_compared_number_by_number():
    supports = services.firmware_supports_weather
    assert supports("C319", "119.30.10.203") and supports("C319", "119.30.10.1000")
    assert supports("C319", "119.31.0.1") and supports("C319", "119.30.10.203.1")
    assert not supports("C319", "119.30.10.202") and not supports("C319", "119.30.9.999")
    assert not supports("C319", "119.30.10.203-beta") and not supports("C319", "")
    assert not supports("X933H", "119.30.10.300") and not supports("", "933.30.10.210")
