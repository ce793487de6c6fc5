"""Weather: locate a community when its address changes (one geocoding call per new address),
refresh each distinct Location once per period, and queue a `weather` device command to each
eligible indoor monitor (C319 on 119.30.10.203 or later) when what it shows would change.

These run for the system (signals, beat, tasks): no actor, nothing user-chosen is fetched.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from communities.models import Community
from devices import liveness
from devices.choices import CommandKind, CommandStatus, DeviceModel
from devices.models import Device, DeviceCommand

from . import conditions
from .models import CommunityWeather, Location, Observation, WeatherDelivery
from .providers import Address, ProviderError, provider

log = logging.getLogger(__name__)

# "So far, only C319 with firmware version 119.30.10.203 and above supports this feature."
WEATHER_MODEL = DeviceModel.C319
WEATHER_MIN_FIRMWARE = (119, 30, 10, 203)
# A fetch that started this long ago without finishing is taken over by the next one.
CLAIM_SECONDS = 120
# Communities never located (made before weather existed, or by a path without the hook) that
# one refresh locates; the rest follow at the next refresh.
BACKFILL_PER_REFRESH = 5000
LOCATE_BATCH = 250  # communities per locate task of the backfill
ADDRESS_ONLY = ("pk", "country", "state", "city", "post_code")


# --- addresses --------------------------------------------------------------------------------


def _norm(text) -> str:
    return " ".join(str(text or "").split()).lower()


def address_key(community: Community) -> str:
    """What decides the place: country, state, city and post code, normalised. The street does
    not move the weather, so communities of one city share a Location; "" without a city."""
    if not _norm(community.city):
        return ""
    parts = (str(community.country or "").upper(), community.state, community.city, community.post_code)
    return "|".join(_norm(p) for p in parts)


def _address(community: Community) -> Address:
    return Address(
        city=" ".join(community.city.split()),
        country=str(community.country or "").upper(),
        state=" ".join(community.state.split()),
        post_code=community.post_code.strip(),
    )


def firmware_supports_weather(model: str, firmware_version: str) -> bool:
    """C319 at 119.30.10.203 or later, compared number by number (119.30.10.1000 is later)."""
    if model != WEATHER_MODEL:
        return False
    parts = (firmware_version or "").strip().split(".")
    if not all(p.isdigit() for p in parts):
        return False
    return tuple(int(p) for p in parts) >= WEATHER_MIN_FIRMWARE


# --- the communities hook -----------------------------------------------------------------------


def community_address_changed(community_id: int) -> None:
    """communities' hook, inside the create or edit: locate the community after commit."""
    if not settings.SMARTPLUS_WEATHER_ENABLED:
        return
    from smartplus.celery import enqueue

    from .tasks import community_locate_task

    transaction.on_commit(partial(enqueue, community_locate_task, community_id))


# --- geocoding ----------------------------------------------------------------------------------


def community_locate(*, community_id: int) -> Location | None:
    """Link the community to the Location of its address, geocoding an address no community had
    before (once: the Location is shared and kept). Running it again changes nothing. Raises
    ProviderError when the geocoder failed (the task retries; the old link stays meanwhile)."""
    communities_locate(community_ids=[community_id], raise_errors=True)
    link = CommunityWeather.objects.select_related("location").filter(community_id=community_id).first()
    return link.location if link else None


def communities_locate(*, community_ids, raise_errors: bool = False) -> int:
    """Link many communities to their Locations: one geocoding call per address key not seen
    before, the links written in one statement. A community whose address did not change is left
    alone; one whose key failed to geocode stays as it was (raised with `raise_errors`, else
    logged and tried at the next refresh). Returns the number of links written."""
    rows = list(Community.objects.filter(pk__in=list(community_ids)).only(*ADDRESS_ONLY))
    linked = dict(
        CommunityWeather.objects.filter(community_id__in=[c.pk for c in rows]).values_list(
            "community_id", "address_key"
        )
    )
    keys = {c.pk: address_key(c) for c in rows}
    changed = [c for c in rows if linked.get(c.pk) != keys[c.pk]]  # the street changed, or this ran twice
    gone = [c.pk for c in changed if not keys[c.pk]]
    if gone:
        CommunityWeather.objects.filter(community_id__in=gone).delete()
    changed = [c for c in changed if keys[c.pk]]
    if not changed:
        return 0
    wanted = {keys[c.pk]: c for c in changed}
    Location.objects.bulk_create([Location(key=k) for k in wanted], ignore_conflicts=True)
    locations = {loc.key: loc for loc in Location.objects.filter(key__in=wanted)}
    failed: set[str] = set()
    for key, location in locations.items():
        if location.geocoded_at is None:
            try:
                locations[key] = _geocode(location.pk, _address(wanted[key]))
            except ProviderError:
                if raise_errors:
                    raise
                failed.add(key)
    links = [
        CommunityWeather(community_id=c.pk, location=locations[keys[c.pk]], address_key=keys[c.pk])
        for c in changed
        if keys[c.pk] not in failed
    ]
    with transaction.atomic():
        # A community edited again meanwhile keeps its newer key's link (its own task is queued).
        locked = Community.objects.select_for_update().filter(pk__in=[link.community_id for link in links])
        still = {c.pk for c in locked.only(*ADDRESS_ONLY) if address_key(c) == keys[c.pk]}
        links = [link for link in links if link.community_id in still]
        CommunityWeather.objects.bulk_create(
            links,
            update_conflicts=True,
            unique_fields=["community"],
            update_fields=["location", "address_key", "linked_at"],
        )
    located = {link.location.pk for link in links if link.location.has_coordinates}
    if located:
        # Their monitors get the Location's weather now: fetched if stale, else the cached value.
        from smartplus.celery import fan_out

        from .tasks import location_refresh_task

        transaction.on_commit(partial(fan_out, location_refresh_task, [(pk,) for pk in sorted(located)]))
    return len(links)


def _geocode(location_id: int, address: Address) -> Location:
    # The row lock makes two communities with one new address cost one call.
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location_id)
        if location.geocoded_at is not None:
            return location
        try:
            place = provider().geocode(address)
        except ProviderError as exc:
            log.warning("weather: geocoding %r failed: %s", location.key, exc)
            Location.objects.filter(pk=location_id).update(geocode_error=str(exc)[:255])
            raise
        now = timezone.now()
        if place is None:
            log.info("weather: no place found for %r", location.key)
            # Stored in English; the panel shows it in the reader's language.
            location.geocode_error = gettext_noop("No place found for this address.")
        else:
            location.latitude, location.longitude, location.name = place.latitude, place.longitude, place.name
            location.geocode_error = ""
        location.geocoded_at = now
        location.save()
        return location


# --- refreshing ---------------------------------------------------------------------------------


def _period() -> timedelta:
    return timedelta(seconds=settings.SMARTPLUS_WEATHER_REFRESH_SECONDS)


def _fresh_since(now):
    # A little slack: the beat's run a period later finds the last fetch due.
    return now - _period() + timedelta(seconds=min(60, settings.SMARTPLUS_WEATHER_REFRESH_SECONDS / 10))


def refresh_plan(*, now=None) -> tuple[list[int], list[int]]:
    """The beat's selection: communities never located, and the Locations in use whose value
    is older than a period and that are not waiting for a retry's backoff."""
    now = now or timezone.now()
    unlocated = list(
        Community.objects.filter(weather__isnull=True)
        .exclude(city="")
        .order_by("pk")
        .values_list("pk", flat=True)[:BACKFILL_PER_REFRESH]
    )
    due = list(
        Location.objects.filter(latitude__isnull=False, longitude__isnull=False, communities__isnull=False)
        .exclude(observation__fetched_at__gt=_fresh_since(now))
        .exclude(observation__next_attempt_at__gt=now)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return unlocated, due


def retry_delay(failures: int) -> float:
    """Backoff with jitter: base · 2^(n-1), capped, between half and all of it."""
    delay = min(
        settings.SMARTPLUS_WEATHER_RETRY_BASE * 2 ** max(failures - 1, 0),
        settings.SMARTPLUS_WEATHER_RETRY_MAX,
    )
    return random.uniform(delay / 2, delay)


def location_refresh(*, location_id: int, now=None) -> Observation | None:
    """Fetch the Location's current weather unless a fetch within the period has it (one call per
    Location and period, however many communities and monitors), then deliver it. A failing or
    slow provider leaves the last good value; the reason and the next attempt are recorded."""
    now = now or timezone.now()
    location = Location.objects.filter(
        pk=location_id, latitude__isnull=False, longitude__isnull=False
    ).first()
    if location is None:
        return None
    observation, _ = Observation.objects.get_or_create(location=location)
    fresh = observation.fetched_at is not None and observation.fetched_at > _fresh_since(now)
    waiting = observation.next_attempt_at is not None and observation.next_attempt_at > now
    attempted = not fresh and not waiting and _claim(observation.pk, now)
    if attempted:
        observation = _fetch(location, observation.pk, now)
    else:
        observation.refresh_from_db()
    # The task schedules a retry only after an attempt of its own failed (one chain of retries).
    observation.failed_now = attempted and bool(observation.last_error)
    if observation.has_value:
        location_deliver(location_id=location_id)
    return observation


def _claim(observation_id: int, now) -> bool:
    """One fetch at a time per Location (a second task, a retry, the beat): a conditional UPDATE."""
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    return bool(
        Observation.objects.filter(pk=observation_id)
        .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=stale))
        .update(attempted_at=now)
    )


def _fetch(location: Location, observation_id: int, now) -> Observation:
    try:
        current = provider().current(location.latitude, location.longitude)
    except ProviderError as exc:
        observation = Observation.objects.get(pk=observation_id)
        failures = observation.failures + 1
        delay = retry_delay(failures)
        Observation.objects.filter(pk=observation_id).update(
            last_error=f"{exc}"[:255],
            failures=failures,
            next_attempt_at=now + timedelta(seconds=delay),
            attempted_at=None,
        )
        kept = (
            f"{observation.temperature_c} °C of {observation.fetched_at:%Y-%m-%d %H:%M} UTC"
            if observation.has_value
            else "nothing yet"
        )
        log.warning(
            "weather: fetching %s (%s) failed (%d in a row): %s; keeping %s; next try in %.0f s",
            location,
            location.pk,
            failures,
            exc,
            kept,
            delay,
        )
        observation.refresh_from_db()
        return observation
    Observation.objects.filter(pk=observation_id).update(
        temperature_c=current.temperature_c,
        weather_code=current.weather_code,
        observed_at=current.observed_at,
        fetched_at=timezone.now(),
        last_error="",
        failures=0,
        next_attempt_at=None,
        attempted_at=None,
    )
    return Observation.objects.get(pk=observation_id)


# --- delivering ---------------------------------------------------------------------------------


def weather_payload(observation: Observation, location: Location, unit: str) -> dict:
    with translation.override("en"):
        condition = str(conditions.condition(observation.weather_code))
    return {
        "temperature": conditions.in_unit(observation.temperature_c, unit),
        "unit": unit,
        "temperature_c": round(observation.temperature_c, 1),
        "weather_code": observation.weather_code,
        "condition": condition,
        "observed_at": observation.observed_at.isoformat() if observation.observed_at else None,
        "location": location.name,
    }


@transaction.atomic
def location_deliver(*, location_id: int) -> int:
    """Queue the Location's current weather to every eligible indoor monitor of its communities
    whose last delivery differs (°C or °F by the community's country). A monitor that has not
    collected its previous weather gets that command's payload replaced, not a second command.
    Returns the number of monitors given a new value."""
    # The observation's row lock serialises two deliveries of one Location.
    observation = (
        Observation.objects.select_for_update()
        .select_related("location")
        .filter(location_id=location_id)
        .first()
    )
    if observation is None or not observation.has_value:
        return 0
    location = observation.location
    countries = dict(
        CommunityWeather.objects.filter(location_id=location_id).values_list(
            "community_id", "community__country"
        )
    )
    if not countries:
        return 0
    monitors = Device.objects.filter(community_id__in=countries, model=WEATHER_MODEL).values_list(
        "pk", "community_id", "model", "firmware_version"
    )
    sent = {
        d.device_id: (d.temperature, d.unit, d.weather_code)
        for d in WeatherDelivery.objects.filter(
            device__community_id__in=countries, device__model=WEATHER_MODEL
        )
    }
    payloads = {unit: weather_payload(observation, location, unit) for unit in ("C", "F")}
    targets: dict[str, list[int]] = {"C": [], "F": []}
    for pk, community_id, model, version in monitors:
        if not firmware_supports_weather(model, version):
            continue
        unit = conditions.unit_for(countries[community_id])
        payload = payloads[unit]
        if sent.get(pk) == (payload["temperature"], unit, payload["weather_code"]):
            continue  # it shows this already
        targets[unit].append(pk)
    now = timezone.now()
    given = 0
    for unit, device_ids in targets.items():
        if not device_ids:
            continue
        payload = payloads[unit]
        waiting = dict(
            DeviceCommand.objects.filter(
                device_id__in=device_ids, kind=CommandKind.WEATHER, status=CommandStatus.QUEUED
            ).values_list("device_id", "pk")
        )
        if waiting:
            DeviceCommand.objects.filter(pk__in=waiting.values()).update(payload=payload)
        new = DeviceCommand.objects.bulk_create(
            DeviceCommand(device_id=pk, kind=CommandKind.WEATHER, payload=payload)
            for pk in device_ids
            if pk not in waiting
        )
        command_of = waiting | {c.device_id: c.pk for c in new}
        WeatherDelivery.objects.bulk_create(
            [
                WeatherDelivery(
                    device_id=pk,
                    temperature=payload["temperature"],
                    unit=unit,
                    weather_code=payload["weather_code"],
                    observed_at=observation.observed_at,
                    command_id=command_of[pk],
                    sent_at=now,
                )
                for pk in device_ids
            ],
            update_conflicts=True,
            unique_fields=["device"],
            update_fields=["temperature", "unit", "weather_code", "observed_at", "command", "sent_at"],
        )
        # Weather is not urgent: no LAN nudge, the monitors collect it at their next heartbeat.
        liveness.commands_queued(device_ids)
        given += len(device_ids)
    return given
