"""Rent Manager: a first sync of SMARTPLUS_BENCH_RM_UNITS units (10,000) and _TENANTS tenants
(15,000) over HTTP from the fake server, against the floor of fetching the same pages alone.

Goals: the first sync ≤ 3x the fetch floor; a no-change re-sync ≤ 1.5x the floor with 0 rows
written outside the sync log; queries per unit reported for the first sync.
"""

from __future__ import annotations

import os
import time

from accounts.choices import Role
from accounts.models import User
from rentmanager.fake import seed as seeds
from rentmanager.fake import serve
from rentmanager.models import Connection, SyncedProperty
from rentmanager.sync import client_for, run_sync

from .fleet_support import real_queue
from .harness import Options, Report, benchmark, capture_queries, log, ms

UNITS = int(os.environ.get("SMARTPLUS_BENCH_RM_UNITS", "10000"))
TENANTS = int(os.environ.get("SMARTPLUS_BENCH_RM_TENANTS", str(UNITS * 3 // 2)))
PROPERTIES = 10
FIRST_GOAL, RESYNC_GOAL = 3.0, 1.5


def _fetch_floor(connection: Connection) -> float:
    client = client_for(connection)
    started = time.perf_counter()
    client.properties()
    for prop in connection.properties.all():
        client.units(prop.rm_id)
        client.tenants(prop.rm_id)
    return time.perf_counter() - started


@benchmark("rentmanager")
def bench_rentmanager(report: Report, options: Options) -> None:
    """Rent Manager sync of 10,000 units / 15,000 tenants vs fetching the same pages alone."""
    from django.conf import settings

    settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE = 1000
    settings.SMARTPLUS_RENTMANAGER_TIMEOUT = 120.0
    log(f"seeding the fake Rent Manager: {UNITS:,} units, {TENANTS:,} tenants ...")
    fake = serve(seeds.generate(PROPERTIES, UNITS, TENANTS))
    # The members' account emails go to a broker queue, as in production (a worker sends them),
    # instead of being sent eagerly inside the timed sync.
    with real_queue("bench-rentmanager"):
        _run(report, fake)


def _run(report: Report, fake) -> None:
    try:
        installer = User.objects.create_user(
            username="rm_bench", email="rm_bench@example.test", role=Role.INSTALLER
        )
        connection = Connection(installer=installer, base_url=fake.url, username="smartplus")
        connection.set_password("rm-secret")
        connection.save()
        for p in fake.data["Properties"]:
            SyncedProperty.objects.create(connection=connection, rm_id=p["PropertyID"], name=p["Name"])
        floor = min(_fetch_floor(connection) for _ in range(2))
        report.add("fetch floor (all pages, no writes)", ms(floor * 1000))

        log("first sync ...")
        started = time.perf_counter()
        queries = capture_queries(lambda: run_sync(connection_id=connection.pk))
        first = time.perf_counter() - started
        run = connection.runs.first()
        report.add(f"first sync {UNITS:,} units / {TENANTS:,} tenants", ms(first * 1000))
        report.add(
            "first sync / fetch floor", f"{first / floor:.2f}", f"≤ {FIRST_GOAL}", first / floor <= FIRST_GOAL
        )
        report.add("queries per unit (first sync)", f"{len(queries) / max(UNITS, 1):.1f}")
        report.add("first sync status", run.status)

        log("no-change re-sync ...")
        started = time.perf_counter()
        queries = capture_queries(lambda: run_sync(connection_id=connection.pk))
        again = time.perf_counter() - started
        writes = [
            q
            for q in queries
            if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            and "rentmanager_sync" not in q["sql"]
        ]
        report.add("no-change re-sync", ms(again * 1000))
        report.add(
            "re-sync / fetch floor", f"{again / floor:.2f}", f"≤ {RESYNC_GOAL}", again / floor <= RESYNC_GOAL
        )
        report.add("rows written by the re-sync", str(len(writes)), "0", not writes)
    finally:
        fake.stop()
