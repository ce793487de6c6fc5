"""The APT list and the resident search run a constant number of queries, whatever the size.

A community of 10 apartments and one of 5,000 (a family master in every apartment, a family member
in every fifth) are bulk-loaded once for the module; every page is requested for both and the
captured queries are compared. The unfiltered search takes "N In All" from the stored End User
Count (no COUNT) and reads pages in the second half backwards (small OFFSET); those backward reads
must list exactly the rows a plain OFFSET would, in the same order, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from communities.models import Building, Community
from residents.choices import ActiveStatus, AppStatus
from residents.models import Apartment, Resident
from residents.services import community_recount
from tests.factories import CommunityFactory, InstallerFactory, make_building
from tests.querycounts import PER_PAGE, list_query_counts
from tests.querycounts import counts as _counts
from tests.querycounts import get_captured as _get
from tests.querycounts import offsets as _offsets
from tests.querycounts import pages as _pages

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 5_000
MEMBER_EVERY = 5  # a family member in every fifth apartment
MAX_QUERIES = 15
BATCH = 1_000

FIRST_NAMES = ["Lily", "Jim", "Ava", "Noah", "Mia", "Liam", "Zoe", "Omar"]
LAST_NAMES = ["Zheng", "Wang", "Smith", "Garcia", "Khan", "Novak"]
# Registered, Normal and named Wang: odd family masters with i % 6 == 1 (2 of 10, 834 of 5,000).
FILTER = {"q": "Wang", "app_status": AppStatus.REGISTERED, "active": ActiveStatus.NORMAL}


@dataclass
class Site:
    community: Community
    building: Building
    apartments: int
    residents: int  # end users: family masters and family members


def _load(community: Community, building: Building, apartments: int, tag: str, names=None) -> list[Resident]:
    """`apartments` APTs in `building`, each with a family master; returns the masters, oldest first."""
    now = timezone.now()
    apts = Apartment.objects.bulk_create(
        (
            Apartment(
                community=community,
                building=building,
                number=f"{i + 1:05d}",
                floor=i % 100 + 1 if i % 3 else None,
                name=f"Unit {i}" if i % 2 else "",
                family_sip_number=f"T{community.pk % 1000:03d}{i:06d}",  # unique, 10 characters
            )
            for i in range(apartments)
        ),
        batch_size=BATCH,
    )
    names = names or (
        (FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]) for i in range(apartments)
    )
    return Resident.objects.bulk_create(
        (
            Resident(
                community=community,
                apartment=apt,
                first_name=first,
                last_name=last,
                email=f"{tag}-{i}@example.test",
                activated=i % 4 != 0,
                expires_at=now + timedelta(days=30) if i % 4 == 1 else None,
                app_registered_at=now if i % 2 else None,
            )
            for i, (apt, (first, last)) in enumerate(zip(apts, names, strict=True))
        ),
        batch_size=BATCH,
    )


def build_site(installer: User, apartments: int, tag: str) -> Site:
    """A community whose first building holds `apartments` APTs, loaded in bulk, counters set."""
    community = CommunityFactory(installer=installer, name=f"Site {tag}", number_of_apartments=apartments)
    building = make_building(community, "Block A")
    make_building(community, "Block B")  # an empty second node in the tree
    masters = _load(community, building, apartments, tag)
    Resident.objects.bulk_create(
        (
            Resident(
                community=community,
                apartment=master.apartment,
                family_master=master,
                first_name=FIRST_NAMES[(i + 3) % len(FIRST_NAMES)],
                last_name=LAST_NAMES[i % len(LAST_NAMES)],
            )
            for i, master in enumerate(masters)
            if i % MEMBER_EVERY == 0
        ),
        batch_size=BATCH,
    )
    community_recount(community_id=community.pk)
    community.refresh_from_db()
    assert community.apartment_count == apartments
    return Site(community, building, apartments, community.end_user_count)


@pytest.fixture(scope="module")
def sites(django_db_setup, django_db_blocker):
    """Both communities, loaded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        installer = InstallerFactory()
        yield {
            "installer": installer,
            "small": build_site(installer, SMALL, "small"),
            "large": build_site(installer, LARGE, "large"),
        }
        transaction.set_rollback(True)


# --- helpers ----------------------------------------------------------------------------------


def _search_url(community: Community) -> str:
    return reverse("residents:community_residents", kwargs={"community_pk": community.pk})


def _apt_url(building: Building) -> str:
    return reverse("residents:building_apartments", kwargs={"building_pk": building.pk})


def _pks(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


def _page_query(queries: list[str], table: str) -> str:
    (sql,) = [sql for sql in queries if sql.startswith(f'SELECT "{table}"."id"')]
    return sql


# --- constant query counts --------------------------------------------------------------------


def _query_counts(client, site: Site) -> dict[str, int]:
    search, apts = _search_url(site.community), _apt_url(site.building)
    last = _pages(site.residents)
    filtered_last = client.get(search, FILTER).context["table"].paginator.num_pages
    cases = {
        "search, page 1": (search, {}, site.residents),
        "search, last page": (search, {"page": last}, site.residents),
        "search, filtered": (search, FILTER, None),
        "search, filtered, last page": (search, {**FILTER, "page": filtered_last}, None),
        "search, by Resident": (search, {"sort": "resident"}, site.residents),
        "search, by Resident desc, last page": (search, {"sort": "-resident", "page": last}, site.residents),
        "APT list, page 1": (apts, {}, site.apartments),
        "APT list, last page": (apts, {"page": _pages(site.apartments)}, site.apartments),
    }
    counts = list_query_counts(client, cases)
    return counts


def test_query_counts_are_the_same_for_10_and_5000_apartments(client, sites):
    client.force_login(sites["installer"])
    small = _query_counts(client, sites["small"])
    large = _query_counts(client, sites["large"])
    assert small == large
    assert max(large.values()) <= MAX_QUERIES


@pytest.mark.parametrize("which", ["first", "last"])
def test_unfiltered_search_takes_the_stored_count_and_runs_no_count(client, sites, which):
    site = sites["large"]
    client.force_login(sites["installer"])
    params = {"page": _pages(site.residents)} if which == "last" else {}
    response, queries = _get(client, _search_url(site.community), params)
    assert response.context["table"].paginator.count == site.community.end_user_count
    assert _counts(queries) == []


def test_filtered_search_counts_the_matching_rows(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    response, queries = _get(client, _search_url(site.community), FILTER)
    assert len(_counts(queries)) == 1
    assert response.context["table"].paginator.count == 834


# --- the last page is read backwards, and right ---------------------------------------------------


def test_last_page_of_the_search_is_read_backwards_and_shows_the_oldest_residents(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    last = _pages(site.residents)
    response, queries = _get(client, _search_url(site.community), {"page": last})

    sql = _page_query(queries, "residents_resident")
    assert '"residents_resident"."created" ASC' in sql  # reversed: oldest first, then flipped back
    assert _offsets(queries) == []  # the last page is the first rows read backwards: no OFFSET at all

    newest_first = Resident.objects.filter(community=site.community).order_by("-created", "-pk")
    expected = list(newest_first.values_list("pk", flat=True)[(last - 1) * PER_PAGE :])
    assert _pks(response) == expected
    oldest = Resident.objects.filter(community=site.community).order_by("created", "pk").first()
    assert _pks(response)[-1] == oldest.pk
    assert response.context["table"].page.number == last


def test_second_half_pages_use_small_offsets(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    pages = _pages(site.residents)
    newest_first = list(
        Resident.objects.filter(community=site.community)
        .order_by("-created", "-pk")
        .values_list("pk", flat=True)
    )
    for page in (pages // 2 + 2, pages - 3):
        response, queries = _get(client, _search_url(site.community), {"page": page})
        assert max(_offsets(queries), default=0) < site.residents // 2, page
        assert _pks(response) == newest_first[(page - 1) * PER_PAGE : page * PER_PAGE], page


def test_last_page_of_the_apt_list_shows_the_oldest_apartments(client, sites):
    site = sites["large"]
    client.force_login(sites["installer"])
    response, queries = _get(client, _apt_url(site.building), {"page": _pages(site.apartments)})
    assert max(_offsets(queries), default=0) == 0
    numbers = [row.record.number for row in response.context["table"].page.object_list]
    assert numbers == [f"{n:05d}" for n in range(PER_PAGE, 0, -1)]  # APT 00001 was created first


# --- every resident exactly once, whatever the ordering ----------------------------------------

# The `sort` value, and the Python sort key and direction of the list the table must show.
ORDERINGS = {
    None: (lambda r: (r.created, r.pk), True),  # the table's default, -created
    "created": (lambda r: (r.created, r.pk), False),
    "-created": (lambda r: (r.created, r.pk), True),
    "resident": (lambda r: (r.first_name, r.last_name, r.pk), False),
    "-resident": (lambda r: (r.first_name, r.last_name, r.pk), True),
}


@pytest.mark.parametrize("rows", [25, 35])
@pytest.mark.parametrize("sort", list(ORDERINGS))
@pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "filtered"])
def test_all_pages_together_list_every_resident_once_in_order(client, rows, sort, filtered):
    """Pages 1, the middle ones and the last (read backwards) join into exactly the whole list.

    Names repeat and creation times tie in threes, so only the id decides between many rows.
    """
    community = CommunityFactory(number_of_apartments=rows)
    names = [(["Ann", "Bob"][i % 2], ["Lee", "Lee", "Ng"][i % 3]) for i in range(rows)]
    _load(community, make_building(community, "Block A"), rows, f"ties{rows}", names)
    base = timezone.now() - timedelta(days=1)
    for r in Resident.objects.filter(community=community):
        Resident.objects.filter(pk=r.pk).update(created=base + timedelta(minutes=(r.pk % 3)))
    community_recount(community_id=community.pk)

    residents = list(Resident.objects.filter(community=community))
    params = {"sort": sort} if sort else {}
    if filtered:  # "Lee" matches two thirds of the rows; the count is a real COUNT then
        params["q"] = "Lee"
        residents = [r for r in residents if r.last_name == "Lee"]
    key, descending = ORDERINGS[sort]
    expected = [r.pk for r in sorted(residents, key=key, reverse=descending)]

    client.force_login(community.installer)
    url = _search_url(community)
    listed = []
    for page in range(1, _pages(len(residents)) + 1):
        response = client.get(url, {**params, "page": page})
        assert response.context["table"].page.number == page
        listed += _pks(response)
    assert len(listed) == len(set(listed)) == len(residents)
    assert listed == expected
