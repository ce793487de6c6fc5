"""Community Intercom Devices list for a 100-device vs a 100,000-device community.

Goals: page 1 of the community's device list must not get slower with the number of devices
(median ratio 100,000 / 100 <= 1.2, equal query counts), and its last page, read backwards by
FastPaginator with "N In All" from the stored Device Count, must cost about what page 1 does
(last / page 1 <= 1.5). Also timed: the list sorted by Created Time (newest first, its last page
too), a name/MAC search, the Device Type filter and the Public Area list at 100,000.

Both communities belong to the same installer and have the same 20 buildings in the tree; a quarter
of the devices are in the public area, a quarter in buildings and half in apartments, named in
random order and created at random times, so neither ordering is simply the insertion order.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from communities.models import Building, Community
from devices.choices import DeviceType, Place
from devices.models import Device
from maclib.models import MacAddress
from residents.models import Apartment

from .harness import (
    Options,
    Report,
    analyze,
    benchmark,
    capture_queries,
    client_for,
    explain,
    format_queries,
    get_ok,
    log,
    profile,
    timeit_interleaved,
)

SMALL, LARGE = 100, 100_000
BUILDINGS = 20
DEVICES_PER_APARTMENT = 2
BATCH = 5_000
PER_PAGE = 10
SIZE_GOAL = 1.2
LAST_PAGE_GOAL = 1.5
TEXT_SEARCH = "Lobby"  # about one device name in nine
TYPES = [t for t in DeviceType if t != DeviceType.INDOOR_MONITOR]
WORDS = ["Front", "Back", "Side", "Garage", "Lobby", "Pool", "Gym", "North", "South"]
KINDS = ["Gate", "Door", "Panel", "Entrance", "Monitor"]


def _place(i: int, buildings: list[Building], apartments: list[Apartment]) -> dict:
    if i % 4 == 0:
        return {"place": Place.PUBLIC}
    if i % 4 == 1:
        return {"place": Place.BUILDING, "building": buildings[i % len(buildings)]}
    apartment = apartments[(i // 2) % len(apartments)]
    return {"place": Place.APARTMENT, "building_id": apartment.building_id, "apartment": apartment}


def build_community(installer: User, tag: int, devices: int, rng: random.Random) -> Community:
    """A community with BUILDINGS buildings and `devices` devices bound to MACs of the library."""
    community = Community.objects.create(
        installer=installer,
        name=f"Bench devices {devices}",
        number_of_apartments=max(devices, 1),
        country="US",
        city="Springfield",
        street="1 Main Street",
        post_code="12345",
    )
    buildings = Building.objects.bulk_create(
        Building(community=community, name=f"Building {b + 1:02d}") for b in range(BUILDINGS)
    )
    apartment_count = max(1, devices // 2 // DEVICES_PER_APARTMENT)
    apartments = Apartment.objects.bulk_create(
        (
            Apartment(
                community=community,
                building=buildings[i % BUILDINGS],
                number=f"{i + 1}",
                family_sip_number=f"D{tag}{i:08d}",
            )
            for i in range(apartment_count)
        ),
        batch_size=BATCH,
    )
    for start in range(0, devices, BATCH):
        stop = min(start + BATCH, devices)
        with transaction.atomic():
            macs = MacAddress.objects.bulk_create(
                MacAddress(installer=installer, mac=f"0C{tag:02X}{i:08X}") for i in range(start, stop)
            )
            Device.objects.bulk_create(
                Device(
                    community=community,
                    mac_address=mac,
                    device_type=DeviceType.INDOOR_MONITOR if i % 4 >= 2 else rng.choice(TYPES),
                    name=f"{rng.choice(WORDS)} {rng.choice(KINDS)} {rng.randrange(10_000):04d}",
                    last_seen_at=timezone.now() if rng.random() < 0.7 else None,
                    **_place(i, buildings, apartments),
                )
                for i, mac in zip(range(start, stop), macs, strict=True)
            )
        if devices >= 10 * BATCH and (start // BATCH) % 5 == 4:
            log(f"    {stop:,} / {devices:,} devices")
    # bulk_create stamps every row "now": spread the binding times over two years instead.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE devices_device SET created = %s - (random() * interval '730 days') "
            "WHERE community_id = %s",
            [timezone.now() - timedelta(minutes=1), community.pk],
        )
    Community.objects.filter(pk=community.pk).update(device_count=devices)
    community.refresh_from_db()
    return community


def _check(response, *needles: str) -> None:
    content = response.content.decode()
    for needle in needles:
        if needle not in content:
            raise AssertionError(f"{response.request['PATH_INFO']} does not show {needle!r}")


@benchmark("devices")
def community_devices(report: Report, options: Options) -> None:
    """Community device list page 1: 100 vs 100,000 devices (goal ≤ 1.2); last page vs page 1 (≤ 1.5)."""
    rng = random.Random(20240716)  # the same data on every run
    installer = User.objects.create_user(
        username="bench-devices", email="bench-devices@example.test", role=Role.INSTALLER
    )
    log(f"  building communities with {SMALL} and {LARGE:,} devices ...")
    small = build_community(installer, 1, SMALL, rng)
    large = build_community(installer, 2, LARGE, rng)
    # The binding-time UPDATE left a dead version of every row behind; autovacuum would clear it.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM devices_device")
    analyze()

    small_url = reverse("devices:community_devices", args=[small.pk])
    large_url = reverse("devices:community_devices", args=[large.pk])
    public_url = reverse("devices:public_devices", args=[large.pk])
    last = -(-LARGE // PER_PAGE)
    public_count = Device.objects.filter(community=large, place=Place.PUBLIC).count()
    client = client_for(installer)
    by_created = {"sort": "-created"}
    cases = {
        "small": lambda: get_ok(client, small_url),
        "large": lambda: get_ok(client, large_url),
        "large_last": lambda: get_ok(client, large_url, {"page": last}),
        "created": lambda: get_ok(client, large_url, by_created),
        "created_last": lambda: get_ok(client, large_url, {**by_created, "page": last}),
        "text": lambda: get_ok(client, large_url, {"q": TEXT_SEARCH}),
        "mac": lambda: get_ok(client, large_url, {"q": "0c:02:00:01"}),
        "type": lambda: get_ok(client, large_url, {"device_type": str(DeviceType.GUARD_PHONE.value)}),
        "public": lambda: get_ok(client, public_url),
    }
    # The pages really list the community's devices (not an empty or foreign list).
    _check(cases["small"](), f'data-testid="in-all">{SMALL} In All')
    _check(cases["large"](), f'data-testid="in-all">{LARGE} In All')
    first_by_name = Device.objects.filter(community=large).order_by("name", "pk").first()
    _check(cases["large"](), first_by_name.mac_address.mac)
    last_by_name = Device.objects.filter(community=large).order_by("-name", "-pk").first()
    _check(cases["large_last"](), f'value="{last}"', last_by_name.mac_address.mac)
    newest = Device.objects.filter(community=large).order_by("-created", "-pk").first()
    _check(cases["created"](), newest.mac_address.mac)
    oldest = Device.objects.filter(community=large).order_by("created", "pk").first()
    _check(cases["created_last"](), oldest.mac_address.mac)
    _check(cases["public"](), f'data-testid="in-all">{public_count} In All')

    queries = {case: capture_queries(fn) for case, fn in cases.items()}

    log(f"  timing {options.repeat} runs each after {options.warmup} warm-up runs ...")
    timings = timeit_interleaved(cases, repeat=options.repeat, warmup=options.warmup)

    def count(case: str) -> int:
        return len(queries[case])

    report.add(f"device list page 1, {SMALL} devices (median)", timings["small"].figure)
    report.add(f"device list page 1, {LARGE:,} devices", timings["large"].figure)
    report.ratio(f"ratio {LARGE:,} / {SMALL}", timings["large"], timings["small"], SIZE_GOAL)
    report.same_queries(f"queries {SMALL} / {LARGE:,}", count("small"), count("large"))
    report.add(f"device list last page (page {last:,}), {LARGE:,} devices", timings["large_last"].figure)
    report.ratio("ratio last page / page 1", timings["large_last"], timings["large"], LAST_PAGE_GOAL)
    report.add(f"sorted by Created Time (newest first), page 1, {LARGE:,}", timings["created"].figure)
    report.add(f"sorted by Created Time, last page, {LARGE:,}", timings["created_last"].figure)
    report.ratio(
        "ratio last page / page 1, by Created Time",
        timings["created_last"],
        timings["created"],
        LAST_PAGE_GOAL,
    )
    report.same_queries(
        "queries page 1 / last page / by Created Time", count("large"), count("large_last"), count("created")
    )
    report.add(f'search q="{TEXT_SEARCH}", {LARGE:,} devices', timings["text"].figure)
    report.add('search q="0c:02:00:01" (a MAC prefix)', timings["mac"].figure)
    report.add("Device Type = Guard phone", timings["type"].figure)
    report.add(f"Public Area list page 1 ({public_count:,} devices)", timings["public"].figure)
    report.add("queries: search / type / public", f"{count('text')} / {count('type')} / {count('public')}")

    if options.verbose:
        for case, logged in queries.items():
            report.note(f"queries of case {case}:\n{format_queries(logged)}")
        for case in ("large", "large_last", "created", "created_last", "text", "mac", "type", "public"):
            for i, query in enumerate(queries[case], 1):
                sql = query["sql"]
                if sql.lstrip().upper().startswith("SELECT") and "devices_device" in sql:
                    report.note(f"EXPLAIN of query {i}, case {case}:\n{explain(sql)}")
        report.note(f"profile of the list, case large (10 requests):\n{profile(cases['large'])}")
