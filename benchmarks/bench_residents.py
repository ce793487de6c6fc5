"""Resident search (community level) and APT list for a 100-apartment vs a 100,000-apartment community.

Goals: page 1 of the resident search must not get slower with the size of the community (median
ratio 100,000 / 100 <= 1.2, equal query counts), and its last page must cost about what page 1 does
(median ratio last / page 1 at 100,000 <= 1.5: FastPaginator reads pages in the second half
backwards and takes "N In All" from the stored End User Count). Informational: the APT list of a
2,000-apartment building, a filtered search (App Status = Registered) and a text search at 100,000.

Both communities belong to the same installer and have the same 50 buildings in the tree, so only
the number of apartments and end users differs between the two page-1 figures. Every apartment has
a family master, about a fifth also a family member.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from communities.models import Building, Community
from residents.choices import AppStatus
from residents.models import Apartment, Resident

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
BUILDINGS = 50  # per community; 2,000 apartments each in the large one
MEMBER_SHARE = 0.2  # family members: about one apartment in five
BATCH = 5_000
PER_PAGE = 10  # the default "Lines per page"
SIZE_GOAL = 1.2  # page 1 at 100,000 / page 1 at 100
LAST_PAGE_GOAL = 1.5  # last page / page 1 at 100,000
TEXT_SEARCH = "Harbor"  # a last name about one end user in eleven has

FIRST_NAMES = ["Lily", "Jim", "Ava", "Noah", "Mia", "Liam", "Zoe", "Omar", "Emma", "Lucas", "Sofia", "Yuki"]
LAST_NAMES = ["Zheng", "Wang", "Smith", "Garcia", "Khan", "Novak", "Harbor", "Rossi", "Kim", "Silva", "Ito"]


def _resident(community: Community, apartment: Apartment, rng: random.Random, now, **fields) -> Resident:
    activated = rng.random() < 0.85
    return Resident(
        community=community,
        apartment=apartment,
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        activated=activated,
        expires_at=now + timedelta(days=rng.randint(-60, 365)) if activated else None,
        app_registered_at=now - timedelta(days=rng.randint(1, 900)) if rng.random() < 0.6 else None,
        **fields,
    )


def build_community(installer: User, tag: str, apartments: int, rng: random.Random) -> Community:
    """A community with BUILDINGS buildings sharing `apartments` APTs, their end users and counters."""
    community = Community.objects.create(
        installer=installer,
        name=f"Bench {tag}",
        number_of_apartments=apartments,
        country="US",
        city="Springfield",
        street="1 Main Street",
        post_code="12345",
    )
    buildings = Building.objects.bulk_create(
        Building(community=community, name=f"Building {b + 1:02d}") for b in range(BUILDINGS)
    )
    per_building = -(-apartments // BUILDINGS)
    now = timezone.now()
    end_users = 0
    # Loaded in chunks: apartments, then their family masters, then some family members.
    for start in range(0, apartments, BATCH):
        with transaction.atomic():
            apts = Apartment.objects.bulk_create(
                (
                    Apartment(
                        community=community,
                        building=buildings[i // per_building],
                        number=f"{i // per_building + 1:02d}{i % per_building + 1:04d}",
                        floor=(i % per_building) // 20 % 128 + 1,
                        name=f"Unit {i}" if i % 3 == 0 else "",
                        family_sip_number=f"{tag[0].upper()}{i:09d}",
                    )
                    for i in range(start, min(start + BATCH, apartments))
                ),
                batch_size=BATCH,
            )
            masters = Resident.objects.bulk_create(
                (
                    _resident(community, apt, rng, now, email=f"r{start + k}@{tag}.example.test")
                    for k, apt in enumerate(apts)
                ),
                batch_size=BATCH,
            )
            members = Resident.objects.bulk_create(
                (
                    _resident(community, master.apartment, rng, now, family_master=master)
                    for master in masters
                    if rng.random() < MEMBER_SHARE
                ),
                batch_size=BATCH,
            )
            end_users += len(masters) + len(members)
        if apartments >= 10 * BATCH and (start // BATCH) % 5 == 4:
            log(f"    {start + BATCH:,} / {apartments:,} apartments")
    Community.objects.filter(pk=community.pk).update(apartment_count=apartments, end_user_count=end_users)
    community.refresh_from_db()
    return community


def _check(response, *needles: str) -> None:
    content = response.content.decode()
    for needle in needles:
        if needle not in content:
            raise AssertionError(f"{response.request['PATH_INFO']} does not show {needle!r}")


@benchmark("residents")
def resident_search(report: Report, options: Options) -> None:
    """Resident search page 1: 100 vs 100,000 apartments (goal ≤ 1.2); last page vs page 1 (goal ≤ 1.5)."""
    rng = random.Random(20240715)  # the same data on every run
    installer = User.objects.create_user(
        username="bench-residents", email="bench-residents@example.test", role=Role.INSTALLER
    )
    log(f"  building communities with {SMALL} and {LARGE:,} apartments ...")
    small = build_community(installer, "small", SMALL, rng)
    large = build_community(installer, "large", LARGE, rng)
    analyze()

    small_url = reverse("residents:community_residents", args=[small.pk])
    large_url = reverse("residents:community_residents", args=[large.pk])
    building = Building.objects.filter(community=large).order_by("name").first()
    apt_url = reverse("residents:building_apartments", args=[building.pk])
    last = -(-large.end_user_count // PER_PAGE)
    client = client_for(installer)
    cases = {
        "small": lambda: get_ok(client, small_url),
        "large": lambda: get_ok(client, large_url),
        "large_last": lambda: get_ok(client, large_url, {"page": last}),
        "apt_list": lambda: get_ok(client, apt_url),
        "registered": lambda: get_ok(client, large_url, {"app_status": AppStatus.REGISTERED}),
        "text": lambda: get_ok(client, large_url, {"q": TEXT_SEARCH}),
    }
    # The pages really list the community's end users (not an empty or foreign list).
    _check(cases["small"](), f'data-testid="in-all">{small.end_user_count} In All')
    _check(cases["large"](), f'data-testid="in-all">{large.end_user_count} In All')
    oldest = Resident.objects.filter(community=large).order_by("created", "pk").first()
    _check(cases["large_last"](), f'value="{last}"', oldest.email)
    _check(cases["apt_list"](), f'data-testid="in-all">{building.apartments.count()} In All')
    registered = Resident.objects.filter(community=large, app_registered_at__isnull=False).count()
    _check(cases["registered"](), f'data-testid="in-all">{registered} In All')

    queries = {case: capture_queries(fn) for case, fn in cases.items()}

    log(f"  timing {options.repeat} runs each after {options.warmup} warm-up runs ...")
    timings = timeit_interleaved(cases, repeat=options.repeat, warmup=options.warmup)

    def count(case: str) -> int:
        return len(queries[case])

    report.add(
        f"search page 1, {SMALL} APTs ({small.end_user_count} end users, median)", timings["small"].figure
    )
    report.add(f"search page 1, {LARGE:,} APTs ({large.end_user_count:,} end users)", timings["large"].figure)
    report.ratio(f"ratio {LARGE:,} / {SMALL}", timings["large"], timings["small"], SIZE_GOAL)
    report.same_queries(f"queries {SMALL} / {LARGE:,}", count("small"), count("large"))
    on_last = large.end_user_count - (last - 1) * PER_PAGE
    report.add(
        f"search last page (page {last:,}, {on_last} rows), {LARGE:,} APTs", timings["large_last"].figure
    )
    report.ratio("ratio last page / page 1", timings["large_last"], timings["large"], LAST_PAGE_GOAL)
    report.same_queries("queries page 1 / last page", count("large"), count("large_last"))
    report.add(
        f"APT list page 1, building of {building.apartments.count():,} APTs", timings["apt_list"].figure
    )
    report.add("queries, APT list", str(count("apt_list")))
    report.add(
        f"search App Status = Registered ({registered:,}), {LARGE:,} APTs", timings["registered"].figure
    )
    report.add("queries, App Status = Registered", str(count("registered")))
    report.add(f'search q="{TEXT_SEARCH}", {LARGE:,} APTs', timings["text"].figure)
    report.add(f'queries, q="{TEXT_SEARCH}"', str(count("text")))

    if options.verbose:
        for case, logged in queries.items():
            report.note(f"queries of case {case}:\n{format_queries(logged)}")
        for case in ("large", "large_last", "apt_list", "registered", "text"):
            for i, query in enumerate(queries[case], 1):
                sql = query["sql"]
                if sql.lstrip().upper().startswith("SELECT") and "residents_resident" in sql:
                    report.note(f"EXPLAIN of query {i}, case {case}:\n{explain(sql)}")
        report.note(f"profile of the search, case large (10 requests):\n{profile(cases['large'])}")
