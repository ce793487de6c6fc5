"""Rent Manager: a first sync of SMARTPLUS_BENCH_RM_UNITS units (10,000) and _TENANTS tenants
(15,000) in 10 properties over HTTP from the fake server, against the floor of fetching the same
pages alone.

The sync as deployed: its properties are tasks on a real Celery worker of 2 processes (this
machine's cores), several synced at once. Goals: the first sync ≤ 3x the fetch floor; a no-change
re-sync ≤ 1.5x the floor. The same sync worked in this one process, one property after another,
is printed beside it (no goal), with its queries per unit and the rows its re-sync writes (0).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

from accounts.choices import Role
from accounts.models import User
from rentmanager.models import Connection, SyncedProperty, SyncRun
from rentmanager.sync import client_for, run_sync

from . import fleet_support as fs
from .harness import Options, Report, benchmark, capture_queries, flush_database, log, ms

UNITS = int(os.environ.get("SMARTPLUS_BENCH_RM_UNITS", "10000"))
TENANTS = int(os.environ.get("SMARTPLUS_BENCH_RM_TENANTS", str(UNITS * 3 // 2)))
PROPERTIES = 10
WORKER_PROCESSES = 2
FIRST_GOAL, RESYNC_GOAL = 3.0, 1.5
PAGE_SIZE, TIMEOUT = 1000, 120.0
SYNC_TIMEOUT = 600


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

    settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE = PAGE_SIZE
    settings.SMARTPLUS_RENTMANAGER_TIMEOUT = TIMEOUT
    log(f"seeding the fake Rent Manager: {UNITS:,} units, {TENANTS:,} tenants ...")
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    # The members' account emails go to a broker queue no worker reads here (in production a
    # worker sends them), instead of being sent inside the timed sync.
    mail_queue, sync_queue = f"bench-rm-mail-{tag}", f"bench-rm-sync-{tag}"
    routes = {"rentmanager.tasks.*": {"queue": sync_queue}}
    with fake_server() as (url, fake_pid), fs.real_queue(mail_queue, routes):
        floor = _in_one_process(report, url)
        flush_database()
        with fs.Processes(report, "rentmanager") as processes:
            env = fs.portal_env(
                mail_queue,
                SMARTPLUS_RENTMANAGER_QUEUE=sync_queue,
                SMARTPLUS_RENTMANAGER_PAGE_SIZE=PAGE_SIZE,
                SMARTPLUS_RENTMANAGER_TIMEOUT=TIMEOUT,
            )
            worker = fs.start_worker(processes, sync_queue, env, concurrency=WORKER_PROCESSES)
            try:
                fs.wait_for_worker(processes, sync_queue)
                roots = {"celery worker": worker.pid, "fake Rent Manager": fake_pid}
                _on_workers(report, url, floor, processes, roots)
            finally:
                fs.delete_queue(sync_queue)


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
        yield line.rsplit(" ", 1)[1].strip(), process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _link(url: str, username: str) -> Connection:
    installer = User.objects.create_user(
        username=username, email=f"{username}@example.test", role=Role.INSTALLER
    )
    connection = Connection(installer=installer, base_url=url, username="smartplus")
    connection.set_password("rm-secret")
    connection.save()
    for p in client_for(connection).properties():
        SyncedProperty.objects.create(connection=connection, rm_id=p["PropertyID"], name=p["Name"])
    return connection


def _in_one_process(report: Report, url: str) -> float:
    """The fetch floor, and the sync worked here one property after another; returns the floor."""
    connection = _link(url, "rm_bench")
    floor = min(_fetch_floor(connection) for _ in range(2))
    report.add("fetch floor (all pages, no writes)", ms(floor * 1000))

    log("first sync in this process ...")
    started = time.perf_counter()
    queries = capture_queries(lambda: run_sync(connection_id=connection.pk, inline=True))
    first = time.perf_counter() - started
    report.add("first sync, one process, one property at a time", ms(first * 1000))
    report.add("first sync, one process / fetch floor", f"{first / floor:.2f}")
    report.add("queries per unit (first sync)", f"{len(queries) / max(UNITS, 1):.1f}")
    report.add("first sync status", connection.runs.first().status)

    log("no-change re-sync in this process ...")
    started = time.perf_counter()
    queries = capture_queries(lambda: run_sync(connection_id=connection.pk, inline=True))
    again = time.perf_counter() - started
    writes = [
        q
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "rentmanager_sync" not in q["sql"]
    ]
    report.add("no-change re-sync, one process", ms(again * 1000))
    report.add("no-change re-sync, one process / fetch floor", f"{again / floor:.2f}")
    report.add("rows written by the re-sync", str(len(writes)), "0", not writes)
    return floor


def _on_workers(report: Report, url: str, floor: float, processes, roots: dict[str, int]) -> None:
    connection = _link(url, "rm_bench_workers")
    for label, goal in (("first sync", FIRST_GOAL), ("no-change re-sync", RESYNC_GOAL)):
        log(f"{label} on the worker ...")
        before = fs.cpu_mark()
        started = time.perf_counter()
        run = run_sync(connection_id=connection.pk)
        finished = SyncRun.objects.filter(pk=run.pk, finished_at__isnull=False)
        fs.wait_for(f"the {label} to end", finished.exists, SYNC_TIMEOUT, interval=0.02, processes=processes)
        elapsed = time.perf_counter() - started
        after = fs.cpu_mark()
        # The backends as the run left them: the worker's connect during the first sync.
        cpu = fs.cpu_use(before, after, roots, fs.database_processes(), singles={"bench": os.getpid()})
        run.refresh_from_db()
        name = f"{label} {UNITS:,} units / {TENANTS:,} tenants" if label == "first sync" else label
        report.add(f"{name}, {WORKER_PROCESSES} worker processes", ms(elapsed * 1000))
        report.add(f"{label} / fetch floor", f"{elapsed / floor:.2f}", f"≤ {goal}", elapsed / floor <= goal)
        report.add(f"{label} status (workers)", run.status)
        report.note(f"{label} on the workers, {cpu}")
