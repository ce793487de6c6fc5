"""The MAC list runs the same number of queries for 10 MACs as for 5,000.

Two installers (each with its own distributor) get 10 and 5,000 MACs, bulk-loaded once for the
module; every third MAC is bound to a device of the public area, a building or an apartment, so
the Owner column needs the device with its building and apartment on every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from devices.choices import DeviceType, Place
from devices.models import Device
from maclib.models import MacAddress
from tests.factories import (
    CommunityFactory,
    DistributorFactory,
    InstallerFactory,
    make_apartment,
    make_building,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 5_000
PER_PAGE = 10
MAX_QUERIES = 12
BATCH = 1_000
PLACES = (Place.PUBLIC, Place.BUILDING, Place.APARTMENT)


@dataclass
class Library:
    installer: User
    distributor: User
    macs: int


def build_library(size: int, tag: str) -> Library:
    distributor = DistributorFactory(username=f"dist-{tag}")
    installer = InstallerFactory(username=f"inst-{tag}", distributor=distributor)
    community = CommunityFactory(installer=installer, name=f"Site {tag}")
    building = make_building(community, "Building1")
    apartment = make_apartment(building, "403")
    start = timezone.now() - timedelta(days=1)
    prefix = 0x0C1106000000 if tag == "small" else 0x0C1107000000
    macs = MacAddress.objects.bulk_create(
        (
            MacAddress(installer=installer, mac=f"{prefix + i:012X}", created=start + timedelta(seconds=i))
            for i in range(size)
        ),
        batch_size=BATCH,
    )
    devices = []
    for i, entry in enumerate(macs[::3]):
        place = PLACES[i % 3]
        devices.append(
            Device(
                community=community,
                place=place,
                building=None if place == Place.PUBLIC else building,
                apartment=apartment if place == Place.APARTMENT else None,
                mac_address=entry,
                device_type=DeviceType.INDOOR_MONITOR if place == Place.APARTMENT else DeviceType.GUARD_PHONE,
                name=f"Device {i}",
            )
        )
    Device.objects.bulk_create(devices, batch_size=BATCH)
    return Library(installer, distributor, size)


@pytest.fixture(scope="module")
def libraries(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield {"small": build_library(SMALL, "small"), "large": build_library(LARGE, "large")}
        transaction.set_rollback(True)


def _get(client, params: dict):
    client.get(reverse("maclib:mac_list"), params)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("maclib:mac_list"), params)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


def _pages(rows: int) -> int:
    return -(-rows // PER_PAGE)


def _query_counts(client, library: Library) -> dict[str, int]:
    cases = {
        "page 1": {},
        "last page": {"page": _pages(library.macs)},
        "middle page": {"page": _pages(library.macs) // 2 + 1},
        "search": {"q": "0c:11:0"},
        "bound": {"status": "bound"},
        "unbound, last page": {"status": "unbound", "page": 1},
        "by MAC": {"sort": "mac"},
        "by Installer desc": {"sort": "-installer"},
    }
    counts = {}
    for case, params in cases.items():
        response, queries = _get(client, params)
        table = response.context["table"]
        assert table.page.object_list, f"{case}: an empty page proves nothing"
        owners = {row.get_cell("owner") for row in table.page.object_list}
        if case == "page 1":
            assert table.paginator.count == library.macs
            assert owners >= {"--", "Public Device"}
        counts[case] = len(queries)
    return counts


def test_installer_list_runs_the_same_queries_for_10_and_5000_macs(client, libraries):
    counts = {}
    for size in ("small", "large"):
        client.force_login(libraries[size].installer)
        counts[size] = _query_counts(client, libraries[size])
    assert counts["small"] == counts["large"]
    assert max(counts["large"].values()) <= MAX_QUERIES


def test_distributor_list_runs_the_same_queries_for_10_and_5000_macs(client, libraries):
    counts = {}
    for size in ("small", "large"):
        client.force_login(libraries[size].distributor)
        counts[size] = _query_counts(client, libraries[size])
    assert counts["small"] == counts["large"]
    assert max(counts["large"].values()) <= MAX_QUERIES


def test_the_page_reads_owners_in_the_same_query_as_the_macs(client, libraries):
    library = libraries["large"]
    client.force_login(library.installer)
    _, queries = _get(client, {})
    (page,) = [sql for sql in queries if sql.startswith('SELECT "maclib_macaddress"."id"')]
    assert '"devices_device"' in page and '"communities_building"' in page and '"residents_apartment"' in page
    assert not any('FROM "devices_device"' in sql for sql in queries)


def test_the_last_page_is_read_backwards_and_shows_the_oldest_macs(client, libraries):
    library = libraries["large"]
    client.force_login(library.installer)
    last = _pages(library.macs)
    response, queries = _get(client, {"page": last})
    offsets = [int(n) for sql in queries for n in re.findall(r"\bOFFSET (\d+)", sql)]
    assert max(offsets, default=0) == 0
    oldest_first = list(
        MacAddress.objects.filter(installer=library.installer)
        .order_by("created", "pk")
        .values_list("mac", flat=True)
    )
    listed = [row.record.mac for row in response.context["table"].page.object_list]
    assert listed == list(reversed(oldest_first[:PER_PAGE]))
