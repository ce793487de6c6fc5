"""The device lists run a constant number of queries, whatever the number of devices.

A community of 10 devices and one of 5,000 (a quarter in the public area, a quarter in a building,
half in two apartments) are bulk-loaded once for the module; every list is requested for both and
the captured queries are compared. The unfiltered community list takes "N In All" from the stored
Device Count (no COUNT) and reads its last page backwards (no big OFFSET).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from communities.models import Building, Community
from devices.choices import DeviceType, Place
from devices.models import Device
from maclib.models import MacAddress
from residents.models import Apartment
from residents.services import community_recount
from tests.factories import CommunityFactory, InstallerFactory, make_apartment, make_building
from tests.querycounts import PER_PAGE, list_query_counts
from tests.querycounts import counts as _counts
from tests.querycounts import get_captured as _get
from tests.querycounts import offsets as _offsets
from tests.querycounts import pages as _pages

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 5_000
MAX_QUERIES = 15
BATCH = 1_000
TYPES = [t.value for t in DeviceType if t != DeviceType.INDOOR_MONITOR]
# Every 7th device is named "Gate …": a filtered list with a real COUNT.
FILTER = {"q": "gate"}


@dataclass
class Site:
    community: Community
    building: Building
    apartments: list[Apartment]
    devices: int
    public: int
    in_building: int


def _place(i: int, building: Building, apartments: list[Apartment]) -> dict:
    if i % 4 == 0:
        return {"place": Place.PUBLIC}
    if i % 4 == 1:
        return {"place": Place.BUILDING, "building": building}
    apartment = apartments[i % 2]
    return {"place": Place.APARTMENT, "building": building, "apartment": apartment}


def build_site(installer: User, devices: int, tag: int) -> Site:
    community = CommunityFactory(installer=installer, name=f"Site {devices}")
    building = make_building(community, "Block A")
    make_building(community, "Block B")  # a second node in the tree
    apartments = [make_apartment(building, "101"), make_apartment(building, "102")]
    now = timezone.now()
    for start in range(0, devices, BATCH):
        stop = min(start + BATCH, devices)
        macs = MacAddress.objects.bulk_create(
            MacAddress(installer=installer, mac=f"0C{tag:02X}{i:08X}") for i in range(start, stop)
        )
        Device.objects.bulk_create(
            Device(
                community=community,
                mac_address=mac,
                device_type=DeviceType.INDOOR_MONITOR if i % 4 >= 2 else TYPES[i % len(TYPES)],
                name=f"{'Gate' if i % 7 == 0 else 'Panel'} {i:05d}",
                created=now - timedelta(seconds=devices - i),
                last_seen_at=now if i % 3 == 0 else None,
                **_place(i, building, apartments),
            )
            for i, mac in zip(range(start, stop), macs, strict=True)
        )
    community_recount(community_id=community.pk)
    community.refresh_from_db()
    assert community.device_count == devices
    return Site(
        community,
        building,
        apartments,
        devices,
        public=-(-devices // 4),
        in_building=Device.objects.filter(building=building, place=Place.BUILDING).count(),
    )


@pytest.fixture(scope="module")
def sites(django_db_setup, django_db_blocker):
    """Both communities, loaded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        installer = InstallerFactory()
        yield {
            "installer": installer,
            "small": build_site(installer, SMALL, 1),
            "large": build_site(installer, LARGE, 2),
        }
        transaction.set_rollback(True)


# --- helpers ----------------------------------------------------------------------------------


def _urls(site: Site) -> dict[str, str]:
    return {
        "community": reverse("devices:community_devices", args=[site.community.pk]),
        "public": reverse("devices:public_devices", args=[site.community.pk]),
        "building": reverse("devices:building_devices", args=[site.building.pk]),
        "apartment": reverse("residents:apartment_detail", args=[site.apartments[0].pk]),
    }


def _query_counts(client, site: Site) -> dict[str, int]:
    urls = _urls(site)
    filtered_pages = client.get(urls["community"], FILTER).context["table"].paginator.num_pages
    cases = {
        "community, page 1": (urls["community"], {}, site.devices),
        "community, last page": (urls["community"], {"page": _pages(site.devices)}, site.devices),
        "community, by name": (urls["community"], {"sort": "name"}, site.devices),
        "community, by -created, last page": (
            urls["community"],
            {"sort": "-created", "page": _pages(site.devices)},
            site.devices,
        ),
        "community, search": (urls["community"], FILTER, None),
        "community, search, last page": (urls["community"], {**FILTER, "page": filtered_pages}, None),
        "community, type": (urls["community"], {"device_type": str(DeviceType.INDOOR_MONITOR.value)}, None),
        "public, page 1": (urls["public"], {}, site.public),
        "public, last page": (urls["public"], {"page": _pages(site.public)}, site.public),
        "building, page 1": (urls["building"], {}, site.in_building),
        "building, last page": (urls["building"], {"page": _pages(site.in_building)}, site.in_building),
    }
    counts = list_query_counts(client, cases)
    response, queries = _get(client, urls["apartment"])
    assert len(response.context["devices"]) > 0
    counts["apartment page"] = len(queries)
    return counts


# --- constant query counts --------------------------------------------------------------------


def test_query_counts_are_the_same_for_10_and_5000_devices(client, sites):
    client.force_login(sites["installer"])
    small = _query_counts(client, sites["small"])
    large = _query_counts(client, sites["large"])
    assert small == large
    assert max(large.values()) <= MAX_QUERIES


@pytest.mark.parametrize("which", ["first", "last"])
def test_unfiltered_community_list_takes_the_stored_count_and_runs_no_count(client, sites, which):
    site = sites["large"]
    client.force_login(sites["installer"])
    params = {"page": _pages(site.devices)} if which == "last" else {}
    response, queries = _get(client, _urls(site)["community"], params)
    assert response.context["table"].paginator.count == site.community.device_count
    assert _counts(queries) == []
    assert max(_offsets(queries), default=0) < site.devices // 2


def test_filtered_community_list_counts_the_matching_rows(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    response, queries = _get(client, _urls(site)["community"], FILTER)
    assert len(_counts(queries)) == 1
    assert response.context["table"].paginator.count == -(-site.devices // 7)


def test_last_page_of_the_community_list_shows_the_last_names_in_order(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    last = _pages(site.devices)
    response, _ = _get(client, _urls(site)["community"], {"page": last})
    names = [row.record.name for row in response.context["table"].page.object_list]
    everything = list(
        Device.objects.filter(community=site.community).order_by("name", "pk").values_list("name", flat=True)
    )
    assert names == everything[(last - 1) * PER_PAGE :]


def test_rows_read_their_location_without_more_queries(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    response, _ = _get(client, _urls(site)["community"], {"sort": "-created"})
    rows = response.context["table"].page.object_list
    with CaptureQueriesContext(connection) as ctx:
        locations = {row.get_cell("location") for row in rows}
        macs = {row.get_cell("mac") for row in rows}
    assert len(ctx.captured_queries) == 0
    assert len(macs) == len(rows)
    assert locations <= {"Public Area", "Block A", "Block A-101", "Block A-102"}
    assert len(locations) > 1
