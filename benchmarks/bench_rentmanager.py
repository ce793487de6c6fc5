"""Rent Manager: a first sync of SMARTPLUS_BENCH_RM_UNITS units (10,000) and _TENANTS tenants
(15,000) over HTTP from the fake server, against the floor of fetching the same pages alone.

Goals: the first sync ≤ 3x the fetch floor; a no-change re-sync ≤ 1.5x the floor with 0 rows
written outside the sync log; queries per unit reported for the first sync.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager

from accounts.choices import Role
from accounts.models import User
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
    # The members' account emails go to a broker queue, as in production (a worker sends them),
    # instead of being sent eagerly inside the timed sync.
    with fake_server() as url, real_queue("bench-rentmanager"):
        _run(report, url)


@contextmanager
def fake_server():
    """The fake Rent Manager in a process of its own, as the real one runs on a machine of its
    own: its request handling does not share the sync's interpreter."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rentmanager.fake",
            "--port",
            "0",
            "--generate",
            f"{PROPERTIES},{UNITS},{TENANTS}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line.startswith("fake Rent Manager on "):
            raise RuntimeError(f"the fake Rent Manager did not start: {line!r}")
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _run(report: Report, url: str) -> None:
    installer = User.objects.create_user(
        username="rm_bench", email="rm_bench@example.test", role=Role.INSTALLER
    )
    connection = Connection(installer=installer, base_url=url, username="smartplus")
    connection.set_password("rm-secret")
    connection.save()
    for p in client_for(connection).properties():
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
