"""Dashboard (community list) page 1 for an installer with 10 vs 1,000 communities.

Goal: page 1 must not get slower with the number of communities (median ratio <= 1.2) and must run
the same number of queries. Both installers have the same staff (a pool of property managers and a
few sub-accounts), and every community has two property managers assigned, so only the number of
communities differs between the two figures.
"""

from __future__ import annotations

import random

from django.urls import reverse

from accounts.choices import Role
from accounts.models import PropertyManagerAssignment, User
from communities.models import Community

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

SMALL, LARGE = 10, 1_000
PROPERTY_MANAGERS = 20  # per installer, the same for both so only the community count varies
PMS_PER_COMMUNITY = 2
SUB_ACCOUNTS = 3
BATCH = 500
RATIO_GOAL = 1.2

WORDS = ["Maple", "Cedar", "Harbor", "Lake", "Park", "River", "Oak", "Summit", "Garden", "Bay", "Pine"]
KINDS = ["Court", "Residences", "Towers", "Gardens", "Plaza", "Heights", "Village", "House"]


def build_installer(tag: str, communities: int, rng: random.Random) -> User:
    """An installer with `communities` communities, its property managers and its sub-accounts."""
    installer = User.objects.create_user(
        username=f"bench-{tag}", email=f"bench-{tag}@example.test", role=Role.INSTALLER
    )
    pms = User.objects.bulk_create(
        User(
            username=f"bench-{tag}-pm{i}@example.test",
            email=f"bench-{tag}-pm{i}@example.test",
            first_name=rng.choice(WORDS),
            last_name=f"Manager{i}",
            role=Role.PROPERTY_MANAGER,
            installer=installer,
        )
        for i in range(PROPERTY_MANAGERS)
    )
    User.objects.bulk_create(
        User(
            username=f"bench-{tag}-sub{i}",
            email=f"bench-{tag}-sub{i}@example.test",
            role=Role.SUB_INSTALLER,
            installer=installer,
        )
        for i in range(SUB_ACCOUNTS)
    )
    # Names in random order, so the name ordering of page 1 is not simply the insertion order.
    numbers = list(range(communities))
    rng.shuffle(numbers)
    rows = Community.objects.bulk_create(
        (
            Community(
                installer=installer,
                name=f"{WORDS[n % len(WORDS)]} {KINDS[n % len(KINDS)]} {n:04d}",
                country="US",
                city="Springfield",
                street=f"{n + 1} Main Street",
                post_code="12345",
            )
            for n in numbers
        ),
        batch_size=BATCH,
    )
    PropertyManagerAssignment.objects.bulk_create(
        (
            PropertyManagerAssignment(community=community, property_manager=pms[(i + k) % len(pms)])
            for i, community in enumerate(rows)
            for k in range(PMS_PER_COMMUNITY)
        ),
        batch_size=BATCH,
    )
    return installer


@benchmark("communities")
def dashboard_page_one(report: Report, options: Options) -> None:
    """Dashboard page 1: 10 vs 1,000 communities (goal: ratio <= 1.2, equal query counts)."""
    rng = random.Random(20240601)  # the same data on every run
    log(f"  building installers with {SMALL} and {LARGE:,} communities ...")
    small = build_installer("small", SMALL, rng)
    large = build_installer("large", LARGE, rng)
    analyze()

    url = reverse("communities:dashboard")
    small_client, large_client = client_for(small), client_for(large)
    cases = {
        "small": lambda: get_ok(small_client, url),
        "large": lambda: get_ok(large_client, url),
        "large_100": lambda: get_ok(large_client, url, {"per_page": 100}),
    }
    # The page really lists the installer's communities (not an empty or foreign list).
    for case, count in (("small", SMALL), ("large", LARGE)):
        content = cases[case]().content.decode()
        if f"{count} Community(ies)" not in content:
            raise AssertionError(f"dashboard of the {case} installer does not show {count} communities")

    queries = {case: capture_queries(fn) for case, fn in cases.items()}

    log(f"  timing {options.repeat} runs each after {options.warmup} warm-up runs ...")
    timings = timeit_interleaved(cases, repeat=options.repeat, warmup=options.warmup)
    t_small, t_large, t_100 = timings["small"], timings["large"], timings["large_100"]

    q_small, q_large = len(queries["small"]), len(queries["large"])
    report.add(f"dashboard page 1, {SMALL} communities (median)", t_small.figure)
    report.add(f"dashboard page 1, {LARGE:,} communities", t_large.figure)
    report.ratio(f"ratio {LARGE:,} / {SMALL}", t_large, t_small, RATIO_GOAL)
    report.same_queries(f"queries {SMALL} / {LARGE:,}", q_small, q_large)
    report.add(f"dashboard, {LARGE:,} communities, per_page=100", t_100.figure)
    report.add("queries, per_page=100", str(len(queries["large_100"])))

    if options.verbose:
        for case, logged in queries.items():
            report.note(f"queries of the dashboard, case {case}:\n{format_queries(logged)}")
        for i, query in enumerate(queries["large"], 1):
            if query["sql"].lstrip().upper().startswith("SELECT"):
                report.note(f"EXPLAIN of query {i}, case large:\n{explain(query['sql'])}")
        report.note(f"profile of the dashboard, case large (10 requests):\n{profile(cases['large'])}")
