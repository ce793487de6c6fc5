"""Logs: the Door Log of a 10,000-event vs a 5,000,000-event community, a date range on the large
one, and event ingestion through the device API service under gunicorn.

Goals: page 1 must not get slower with the number of events (median ratio ≤ 1.2, equal query
counts: seek pagination on (community, occurred_at desc, id desc), no COUNT); a one-day range of
the large community about as fast; ≥ 2,000 events/s ingested in batches of 50 on 2 workers.
Rows are generated in SQL (generate_series) with the secondary indexes dropped and rebuilt with
their migration's definitions, so 5,000,000 rows load in well under two minutes.
`SMARTPLUS_BENCH_LOG_EVENTS` overrides the large size (develop at 100,000; the machine is shared).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from communities.models import Community
from devices.models import Device
from logs.models import DoorEvent

from . import fleet_support as fs
from .bench_fleet import seed_fleet
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
    timeit_interleaved,
)

SMALL = 10_000
LARGE = int(os.environ.get("SMARTPLUS_BENCH_LOG_EVENTS", 5_000_000))
SPAN = dt.timedelta(days=365)  # both communities' events spread over one year
SIZE_GOAL = 1.2
RANGE_GOAL = 1.5  # a one-day range of the large log vs page 1 of the small one
LOAD_GOAL_SECONDS = 120

INGEST_DEVICES = 20
INGEST_BATCH = 50
INGEST_WORKERS = 2
INGEST_CONCURRENCY = 8
INGEST_WARMUP, INGEST_SECONDS = 2.0, 10.0
INGEST_REQUESTS = 4_000  # distinct batches (200,000 events): every event sent is new
INGEST_GOAL = 2_000


def _fill(community: Community, device: Device, count: int, now: dt.datetime) -> None:
    """`count` door events of `community` spread evenly over SPAN before `now`, in one INSERT."""
    step = SPAN.total_seconds() / count
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {DoorEvent._meta.db_table}
                (community_id, device_id, device_name, apartment_id, occurred_at, event_id, received_at,
                 resident_id, resident_name, relay, method, credential, result)
            SELECT %s, %s, %s, NULL, %s - make_interval(secs => g * %s), 'e' || g, %s,
                   NULL, '', 1, (ARRAY['pin', 'rf_card', 'face', 'app'])[1 + g %% 4],
                   lpad((g %% 100000000)::text, 8, '0'),
                   CASE WHEN g %% 10 = 0 THEN 'refused' ELSE 'success' END
            FROM generate_series(1, %s) AS g
            """,
            [community.pk, device.pk, device.name, now, step, now, count],
        )


def _foreign_keys() -> list[tuple[str, str]]:
    """The table's foreign keys (deferred: checked row by row at commit, a queue of 5,000,000
    triggers); dropped for the load and added again, which validates them in one scan each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [DoorEvent._meta.db_table],
        )
        return cursor.fetchall()


def _secondary_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = %s AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
            [DoorEvent._meta.db_table],
        )
        return cursor.fetchall()


def _load(small: tuple, large: tuple) -> float:
    started = time.perf_counter()
    now = timezone.now()
    indexes, keys = _secondary_indexes(), _foreign_keys()
    table = DoorEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    _fill(*small, SMALL, now)
    _fill(*large, LARGE, now)
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    analyze()
    return time.perf_counter() - started


def _community(installer, name: str) -> tuple[Community, Device]:
    from devices.choices import DeviceType, Place
    from maclib.models import MacAddress

    community = Community.objects.create(
        installer=installer, name=name, country="US", city="Springfield", street="1 Main", post_code="12345"
    )
    mac = MacAddress.objects.create(
        installer=installer, mac=hashlib.sha256(name.encode()).hexdigest()[:12].upper()
    )
    device = Device.objects.create(
        community=community,
        mac_address=mac,
        place=Place.PUBLIC,
        device_type=DeviceType.MULTI_TENANT_DOOR_PHONE,
        name=f"{name} Gate",
    )
    return community, device


@benchmark("door_log")
def door_log(report: Report, options: Options) -> None:
    """Door Log page 1 at 10,000 vs 5,000,000 events (goal ratio ≤ 1.2, equal queries), a date range."""
    from accounts.choices import Role
    from accounts.models import User

    installer = User.objects.create_user(
        username="bench-logs", email="bench-logs@example.test", role=Role.INSTALLER
    )
    small = _community(installer, "Small Logs")
    large = _community(installer, "Large Logs")
    log(f"  generating {SMALL:,} + {LARGE:,} door events in SQL ...")
    seconds = _load(small, large)
    report.add(
        f"generate {SMALL + LARGE:,} door events (generate_series, indexes rebuilt)",
        f"{seconds:.1f} s",
        f"< {LOAD_GOAL_SECONDS} s",
        seconds < LOAD_GOAL_SECONDS,
    )

    client = client_for(installer)
    small_url = reverse("logs:door_log", args=[small[0].pk])
    large_url = reverse("logs:door_log", args=[large[0].pk])
    middle = timezone.localdate() - dt.timedelta(days=180)
    day = {"start": middle.isoformat(), "end": middle.isoformat()}
    refused = {"result": "refused", "method": "pin"}
    html = get_ok(client, large_url).content.decode()
    older = re.search(r'href="[^"]*older=([0-9._]+)[^"]*" data-testid="older"', html).group(1)
    deep = {"older": older}
    timings = timeit_interleaved(
        {
            "small": lambda: get_ok(client, small_url),
            "large": lambda: get_ok(client, large_url),
            "large_day": lambda: get_ok(client, large_url, day),
            "large_refused": lambda: get_ok(client, large_url, refused),
            "large_next": lambda: get_ok(client, large_url, deep),
        },
        repeat=options.repeat,
        warmup=options.warmup,
    )
    report.add(f"page 1, {SMALL:,} events", timings["small"].figure)
    report.add(f"page 1, {LARGE:,} events", timings["large"].figure)
    report.ratio(f"  page 1 ratio {LARGE:,} / {SMALL:,}", timings["large"], timings["small"], SIZE_GOAL)
    report.add(f"one-day date range, {LARGE:,} events", timings["large_day"].figure)
    report.ratio("  date range / small page 1", timings["large_day"], timings["small"], RANGE_GOAL)
    report.add(f"Type PIN + Result Refused, {LARGE:,} events", timings["large_refused"].figure)
    report.add(f"page 2 (Older), {LARGE:,} events", timings["large_next"].figure)
    cases = [(small_url, {}), (large_url, {}), (large_url, day), (large_url, deep)]
    counts = [len(capture_queries(lambda u=u, p=p: get_ok(client, u, p))) for u, p in cases]
    report.same_queries("  queries: small, large, date range, page 2", *counts)
    rows = get_ok(client, large_url, day).content.decode().count('data-testid="door-event"')
    report.add("  rows on the date-range page", str(rows), "50", rows == 50)
    if options.verbose:
        queries = capture_queries(lambda: get_ok(client, large_url, day))
        report.note("door_log, date range on the large log:\n" + format_queries(queries))
        select = next(q["sql"] for q in queries if "logs_doorevent" in q["sql"])
        report.note("EXPLAIN:\n" + explain(select))


def _requests(port: int, credentials: list[tuple[str, str]]) -> list[bytes]:
    import base64

    now = timezone.now()
    requests = []
    for i in range(INGEST_REQUESTS):
        mac, secret = credentials[i % len(credentials)]
        events = [
            {
                "type": "door",
                "id": f"b{i}-{j}",
                "time": (now - dt.timedelta(seconds=i * INGEST_BATCH + j)).isoformat(),
                "relay": 1,
                "method": "pin",
                "credential": f"{i:08d}",
                "result": "success" if j % 10 else "refused",
            }
            for j in range(INGEST_BATCH)
        ]
        body = json.dumps({"events": events}).encode()
        auth = base64.b64encode(f"{mac}:{secret}".encode()).decode()
        head = (
            f"POST /device-api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


@benchmark("event_ingestion")
def event_ingestion(report: Report, options: Options) -> None:
    """Door events/s through the device API service under gunicorn, batches of 50 (goal ≥ 2,000/s)."""
    secrets = [
        f"bench-events-secret-{i:04d}-{hashlib.sha256(str(i).encode()).hexdigest()[:16]}"
        for i in range(INGEST_DEVICES)
    ]
    prefix = "0C11E0"
    from devices.simulator import specs_for

    seed_fleet("events", INGEST_DEVICES, prefix, secrets)
    analyze()
    macs = [spec.mac for spec in specs_for(INGEST_DEVICES, prefix=prefix)]
    credentials = list(zip(macs, secrets, strict=True))
    with fs.Processes(report, "event-ingestion") as processes:
        port = fs.free_port()
        env = fs.device_api_env(SMARTPLUS_BASE_URL=f"http://127.0.0.1:{port}")
        web = fs.start_device_api(processes, port, INGEST_WORKERS, env)
        requests = _requests(port, credentials)
        probe = _requests(port, credentials[:1])[:1]
        fs.wait_for(
            f"device API answering on 127.0.0.1:{port}",
            lambda: fs.run_heartbeat_load(port, probe, concurrency=1, warmup=0, seconds=0.3).ok > 0,
            60,
            interval=0.3,
            processes=processes,
        )
        marks: list[fs.CpuMark] = []
        log(
            f"  {INGEST_CONCURRENCY} connections, batches of {INGEST_BATCH}, gunicorn -w {INGEST_WORKERS} ..."
        )
        before = DoorEvent.objects.count()
        result = fs.run_heartbeat_load(
            port,
            requests,
            concurrency=INGEST_CONCURRENCY,
            warmup=INGEST_WARMUP,
            seconds=INGEST_SECONDS,
            mark=lambda: marks.append(fs.cpu_mark()),
        )
        cpu = fs.cpu_use(marks[0], marks[1], {"gunicorn": web.pid}, fs.database_processes())
        processes.ensure_alive()
        stored = DoorEvent.objects.count() - before
    rate = result.rate * INGEST_BATCH
    report.add(
        f"events/s, device API gunicorn -w {INGEST_WORKERS}, batches of {INGEST_BATCH}",
        f"{rate:,.0f}/s",
        f"≥ {INGEST_GOAL:,}/s",
        rate >= INGEST_GOAL,
    )
    report.add(
        "  latency p50 / p95 per batch",
        f"{result.percentile(0.50):.1f} ms / {result.percentile(0.95):.1f} ms",
    )
    failures = sum(result.other.values())
    other = ", ".join(f"{k}: {n}" for k, n in sorted(result.other.items())) or "0"
    report.add("  replies other than 200", other, "0", failures == 0)
    report.add("  events stored (warm-up included)", f"{stored:,}")
    # What a noisy machine cannot hide: the CPU each event costs, whoever else used the cores.
    used = cpu.cores["gunicorn"] + cpu.cores["PostgreSQL backends"]
    if rate and used:
        report.add("  CPU per event: gunicorn + PostgreSQL backends", f"{used / rate * 1000:.3f} ms")
        report.add(
            f"  ceiling on {cpu.total:.0f} cores at that CPU per event", f"{cpu.total * rate / used:,.0f}/s"
        )
    report.note(f"event_ingestion: CPU during the {INGEST_SECONDS:g} s measured: {cpu}")
