"""The device fleet under real processes: upgrade dispatch, a rollout to simulated devices, heartbeats.

Nothing runs eagerly here: tasks go through Redis to a real Celery worker (`celery -A smartplus
worker -c 2` on a queue of its own, so other runs sharing the broker neither take nor hand over
jobs), device calls go over HTTP to gunicorn, and the devices are `python -m devices.simulator`.
Every subprocess works on the benchmark database, logs to a temp file (shown in the notes if the
benchmark fails) and is stopped on the way out, also on errors and Ctrl-C (see fleet_support).

upgrade_dispatch — 10,000 R29 devices, an upgrade created with "Upgrade now" (upgrade_create in a
transaction; its commit enqueues the dispatch), timed until every operation is In progress with
its upgrade command queued for the device (the database polled every 0.2 s). Goal ≤ 10 s.

rollout — 1,000 simulated devices, a 256 KB .rom upgrade with "Upgrade now", gunicorn -w 3, the
worker nudging devices over their LAN API. Throughput = live devices reaching Success / seconds
from the upgrade's creation to the last live Success (its finished_at). Run on fresh data, all
healthy, then 10% dead (registered, one heartbeat, then silent), and that pair once more; the
faster run of each kind counts. Goal: dead / healthy ≥ 0.8.
The PostgreSQL connections opened from the upgrade's creation until the worker has stopped
(pg_stat_database.sessions of the bench database, after minus before) are shown against a goal of
≤ 4 per worker process: the worker's tasks share their connection and the nudges (in batches
that carry the devices' LAN addresses) never touch the database.
With SMARTPLUS_UPGRADE_DEADLINE=20 and 2 attempts, the dead run's time until the upgrade is
Executed (the dead devices Failed) is shown as information.

heartbeats — 1,000 registered devices, gunicorn -w 3 (sync workers), and an asyncio load generator
in this process: 32 connections, each a POST /device-api/v1/heartbeat (Basic auth, JSON body,
Connection: close), 2 s warm-up, then 10 s measured. Only 200 replies count; any other reply is
a failure of its own. Goal ≥ 1,000 heartbeats/s on 2 cores. The latency (connect to last byte) is
mostly the wait in gunicorn's accept queue: 32 connections / the rate. Then the device API service
as docker-compose.yml runs it (smartplus.device_wsgi on smartplus.settings.device_api, gunicorn
gthread) against a bare Django view returning JSON on the same settings and command line
(benchmarks/bare_wsgi.py), alternated twice, best run each: heartbeats/s, the bare view's
requests/s, their ratio (goal ≥ 0.8) and the CPU per request (gunicorn + PostgreSQL backends), the
figure docs/deploy.md sizes the service from.

CPU use of every process group during the measured windows is read from /proc, so a noisy
machine shows in the notes ("everything else" is what the rest of the machine used meanwhile).
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import math
import os
import pstats
import shutil
import tempfile
import time
import uuid
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from communities.models import Community
from devices.choices import CommandStatus, DeviceType, Place
from devices.models import Device, DeviceCommand
from devices.services import provisioning_code
from devices.simulator import specs_for
from devices.simulator.spec import pick_roles
from firmware import selectors, services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from firmware.models import Firmware, FirmwareUpgrade, UpgradeOperation
from maclib.models import MacAddress

from . import fleet_support as fs
from .harness import Options, Report, analyze, benchmark, flush_database, log

OLD, NEW = "29.30.2.14", "29.30.2.900"
BATCH = 5_000

DISPATCH_DEVICES = 10_000
DISPATCH_EXTRA = 2 * services.CHUNK  # not in the timed upgrade: two chunks run in process for a profile
DISPATCH_GOAL = 10.0  # seconds
DISPATCH_TIMEOUT = 120

ROLLOUT_DEVICES = 1_000
ROLLOUT_LAN_PORT = 18490
ROLLOUT_DEAD_PERCENT = 10
ROLLOUT_GOAL = 0.8
# Each kind runs twice, alternated, and the faster run of each counts: one run's throughput moved
# by up to 20 % with what else the machine did (0.73 and 0.91 for the same code).
ROLLOUT_ROUNDS = 2
ROLLOUT_WEB_WORKERS = 3
ROLLOUT_INTERVAL = 10  # heartbeat interval, seconds
ROLLOUT_DEADLINE, ROLLOUT_ATTEMPTS = 20, 2
ROLLOUT_TIMEOUT = 180  # for the live devices to succeed
ROM = (b"R29 bench firmware image " * 11_000)[: 256 * 1024]
# Connections opened to the database during a rollout: the worker's tasks share one connection
# per pool process (CONN_MAX_AGE) and the nudges read nothing, so a few per worker process, not
# one per nudge (about 1,000 before). gunicorn's are opened before, at the devices' registration.
ROLLOUT_WORKER_CONCURRENCY = 2
ROLLOUT_CONNECTIONS_PER_WORKER = 4

HEARTBEAT_DEVICES = 1_000
# Sync workers on 2 cores, measured on a quiet machine (heartbeats/s): -w 2 1,169 (the cores not
# saturated: a worker waits on PostgreSQL for about half of each heartbeat), -w 3 1,202 and 1,214,
# -w 4 1,205 and 1,208, -w 5 1,206. From 3 on the cores are saturated and more workers only add
# memory and context switches (CPU per heartbeat 1.36 ms at -w 3, 1.39 ms at -w 4), so -w 3, as
# the rollout uses.
HEARTBEAT_WORKERS = 3
HEARTBEAT_CONCURRENCY = 32
HEARTBEAT_WARMUP, HEARTBEAT_SECONDS = 2.0, 10.0
HEARTBEAT_GOAL = 1_000
# The device API service against a bare view on the same server (goal: ≥ 0.8 of its rate).
DEVICE_SERVICE_ROUNDS = 2
DEVICE_SERVICE_GOAL = 0.8
HEARTBEAT_BODY = b'{"firmware_version": "29.30.2.14", "lan_address": "127.77.0.1", "lan_port": 8480}'


# --- data ------------------------------------------------------------------------------------------


def seed_fleet(tag: str, count: int, prefix: str, secrets: list[str] | None = None) -> tuple[User, Community]:
    """An installer, a community and `count` public R29 door phones on OLD, bound to the MACs
    `specs_for(count, prefix)` gives (the simulator's), bulk-created like other benches do."""
    installer = User.objects.create_user(
        username=f"bench-{tag}", email=f"bench-{tag}@example.test", role=Role.INSTALLER
    )
    community = Community.objects.create(
        installer=installer,
        name=f"Bench fleet {tag}",
        number_of_apartments=count,
        country="US",
        city="Springfield",
        street="1 Main Street",
        post_code="12345",
    )
    specs = specs_for(count, prefix=prefix, firmware=OLD)
    for start in range(0, count, BATCH):
        chunk = specs[start : start + BATCH]
        with transaction.atomic():
            macs = MacAddress.objects.bulk_create(MacAddress(installer=installer, mac=s.mac) for s in chunk)
            Device.objects.bulk_create(
                Device(
                    community=community,
                    mac_address=mac,
                    place=Place.PUBLIC,
                    device_type=DeviceType.MULTI_TENANT_DOOR_PHONE,
                    name=f"Door {start + i + 1:05d}",
                    firmware_version=OLD,
                    model="R29",
                    api_secret_hash=_hash(secrets[start + i]) if secrets else "",
                )
                for i, mac in enumerate(macs)
            )
    Community.objects.filter(pk=community.pk).update(device_count=count)
    return installer, community


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()  # as devices.fleet stores a secret


def unique_queue(label: str) -> str:
    return f"bench-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def status_counts(upgrade: FirmwareUpgrade) -> dict[str, int]:
    return services.upgrade_counts(upgrade)


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {n:,}" for status, n in sorted(counts.items())) or "no operations"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


# --- upgrade_dispatch ----------------------------------------------------------------------------------


@benchmark("upgrade_dispatch")
def upgrade_dispatch(report: Report, options: Options) -> None:
    """Upgrade now of 10,000 devices until each one's command is queued, real worker (goal ≤ 10 s)."""
    log(f"  seeding {DISPATCH_DEVICES + DISPATCH_EXTRA:,} R29 devices ...")
    installer, _community = seed_fleet("dispatch", DISPATCH_DEVICES + DISPATCH_EXTRA, "0C11D0")
    # The heavier case: every device reported a LAN address the portal may dial, so each one's
    # operation also queues a nudge (nothing listens there; the nudges are only counted).
    Device.objects.update(lan_address="127.77.0.1")  # and SMARTPLUS_DEVICE_LAN_PORT 9 (discard)
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    firmware = Firmware.objects.create(
        version=NEW,
        url=f"https://firmware.example.test/r29/{NEW}.rom",
        sha256=hashlib.sha256(b"R29 " + NEW.encode()).hexdigest(),
        size=48 * 1024 * 1024,
    )
    analyze()
    # What the Add Upgrade form hands the service: the chosen devices, read before the click.
    chosen = list(selectors.upgrade_devices(actor=installer, model=firmware.model))
    timed, extra = chosen[:DISPATCH_DEVICES], chosen[DISPATCH_DEVICES:]
    queue = unique_queue("dispatch")

    with fs.Processes(report, "dispatch") as processes, fs.real_queue(queue):
        worker = fs.start_worker(
            processes,
            queue,
            fs.portal_env(queue, SMARTPLUS_DEVICE_NETWORKS="127.0.0.0/8", SMARTPLUS_DEVICE_LAN_PORT="9"),
        )
        fs.wait_for_worker(processes, queue)

        log(f"  Upgrade now of {DISPATCH_DEVICES:,} devices ...")
        sessions = fs.database_sessions()
        before = fs.cpu_mark()
        began = time.monotonic()
        with transaction.atomic():
            upgrade = services.upgrade_create(
                actor=installer, firmware=firmware, devices=timed, timing=Timing.NOW
            )
        committed_at = timezone.now()  # the dispatch task is on the queue
        committed = time.monotonic()

        launched = UpgradeOperation.objects.filter(
            upgrade=upgrade, status=OperationStatus.IN_PROGRESS, command__status=CommandStatus.QUEUED
        )
        fs.wait_for(
            f"all {DISPATCH_DEVICES:,} operations In progress with a queued upgrade command",
            lambda: launched.count() == DISPATCH_DEVICES,
            DISPATCH_TIMEOUT,
            processes=processes,
            progress=lambda: describe_counts(status_counts(upgrade)),
        )
        elapsed = time.monotonic() - began
        after = fs.cpu_mark()
        cpu = fs.cpu_use(
            before,
            after,
            {"celery worker": worker.pid},
            fs.database_processes(),
            singles={"bench": os.getpid()},
        )
        backlog = fs.queue_length(queue)
        sessions = fs.database_sessions() - sessions
        upgrade.refresh_from_db()
        spread = UpgradeOperation.objects.filter(upgrade=upgrade).aggregate(
            first=Min("started_at"), last=Max("started_at")
        )
        processes.stop(worker)  # the in-process chunks below run alone

        chunks = math.ceil(DISPATCH_DEVICES / services.CHUNK)
        report.add(
            f"dispatch of {DISPATCH_DEVICES:,} devices, Upgrade now → all queued",
            seconds(elapsed),
            f"≤ {DISPATCH_GOAL:g} s",
            elapsed <= DISPATCH_GOAL,
        )
        report.add(
            f"  upgrade_create ({DISPATCH_DEVICES:,} operations) until commit", seconds(committed - began)
        )
        report.add("  commit → dispatch task running", seconds(_since(committed_at, upgrade.started_at)))
        report.add(
            f"  first → last of {chunks} chunk tasks starting (worker -c 2)",
            seconds(_since(spread["first"], spread["last"])),
        )
        report.add(
            "  tasks sent",
            f"1 dispatch + {chunks} chunks + {DISPATCH_DEVICES:,} nudges + {chunks} deadline checks",
        )
        report.add("  messages still queued when all were launched", f"{backlog:,}")
        report.add("  PostgreSQL connections opened meanwhile", f"{sessions:,}")
        _profile_chunks(report, options, installer, firmware, extra)
        report.note(f"upgrade_dispatch: CPU from Upgrade now until all launched: {cpu}")
    log(f"  dispatched in {elapsed:.2f} s")


def _since(start: datetime, end: datetime | None) -> float:
    return (end - start).total_seconds() if end else float("nan")


def _profile_chunks(report: Report, options: Options, installer, firmware, devices) -> None:
    """One chunk of operations_start in this process (timed, queries counted; its on-commit sends
    go to the benchmark's queue on Redis as the worker's do), and one under cProfile."""
    with transaction.atomic():
        upgrade = services.upgrade_create(
            actor=installer, firmware=firmware, devices=devices, timing=Timing.NOW
        )
    first, second = services.upgrade_dispatch(upgrade_id=upgrade.pk)
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        services.operations_start(operation_ids=first)
        took = time.perf_counter() - began
    report.add(
        f"  one chunk of {len(first)} in this process (operations_start)",
        f"{took * 1000:.0f} ms, {len(queries.captured_queries)} queries",
    )
    profiler = cProfile.Profile()
    profiler.enable()
    services.operations_start(operation_ids=second)
    profiler.disable()
    if options.verbose:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(30)
        report.note(
            f"upgrade_dispatch: cProfile of operations_start, {len(second)} operations:\n" + out.getvalue()
        )


# --- rollout --------------------------------------------------------------------------------------------


@benchmark("rollout")
def rollout(report: Report, options: Options) -> None:
    """1,000 simulated devices upgraded: throughput with 10% dead / all healthy (goal ≥ 0.8)."""
    media = tempfile.mkdtemp(prefix="bench-rollout-media-")
    # One queue for gunicorn (a failed result schedules a deadline check) and each run's worker;
    # emptied between the runs.
    queue = unique_queue("rollout")
    try:
        with (
            override_settings(MEDIA_ROOT=media),
            fs.Processes(report, "rollout") as processes,
            fs.real_queue(queue),
        ):
            port = fs.free_port()
            env = fs.portal_env(
                queue,
                MEDIA_ROOT=media,
                SMARTPLUS_BASE_URL=f"http://127.0.0.1:{port}",
                SMARTPLUS_DEVICE_NETWORKS="127.0.0.0/8",
                SMARTPLUS_DEVICE_LAN_PORT=ROLLOUT_LAN_PORT,
                SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL=ROLLOUT_INTERVAL,
                SMARTPLUS_UPGRADE_DEADLINE=ROLLOUT_DEADLINE,
                SMARTPLUS_UPGRADE_ATTEMPTS=ROLLOUT_ATTEMPTS,
            )
            web = fs.start_gunicorn(processes, port, ROLLOUT_WEB_WORKERS, env)
            fs.wait_for_portal(processes, port)
            tries: dict[int, list[dict]] = {0: [], ROLLOUT_DEAD_PERCENT: []}
            order = (0, ROLLOUT_DEAD_PERCENT) * ROLLOUT_ROUNDS
            for index, dead in enumerate(order):
                if index:
                    # Fresh data: each run starts as the first did (its worker is gone, so are
                    # the simulator's devices; the tasks the worker left behind go too).
                    fs.delete_queue(queue)
                    flush_database()
                tries[dead].append(_rollout_run(processes, web, port, env, queue, dead, index))
    finally:
        shutil.rmtree(media, ignore_errors=True)

    runs = {percent: max(results, key=lambda r: r["throughput"]) for percent, results in tries.items()}
    healthy, dead = runs[0], runs[ROLLOUT_DEAD_PERCENT]
    ratio = dead["throughput"] / healthy["throughput"]
    for percent, run in runs.items():
        label = "healthy" if percent == 0 else f"{percent}% dead"
        report.add(
            f"rollout, {label}: {run['live']:,} live devices to Success",
            f"{run['throughput']:.1f} devices/s",
        )
        report.add(f"  {label}: creation → last live Success", seconds(run["elapsed"]))
        report.add(f"  {label}: live operations that needed a 2nd attempt", f"{run['retried']}")
        report.add(f"  {label}: commands", run["timeline"])
        goal = ROLLOUT_CONNECTIONS_PER_WORKER * ROLLOUT_WORKER_CONCURRENCY
        most = max(r["sessions"] for r in tries[percent])  # of every run, not only the best
        report.add(
            f"  {label}: PostgreSQL connections opened, creation → worker stopped "
            f"(worker -c {ROLLOUT_WORKER_CONCURRENCY}, most of {len(tries[percent])} runs)",
            f"{most:,}",
            f"≤ {goal}",
            most <= goal,
        )
    report.add(
        f"throughput ratio {ROLLOUT_DEAD_PERCENT}% dead / healthy",
        f"{ratio:.2f}",
        f"≥ {ROLLOUT_GOAL}",
        ratio >= ROLLOUT_GOAL,
    )
    report.add(
        f"{ROLLOUT_DEAD_PERCENT}% dead: creation → Executed (dead Failed after {ROLLOUT_ATTEMPTS} "
        f"attempts, deadline {ROLLOUT_DEADLINE} s)",
        seconds(dead["executed"]),
    )
    report.note(
        "rollout: throughput of each run, in the order run (the best of each kind is shown): "
        + ", ".join(
            f"{'healthy' if p == 0 else f'{p}% dead'} {r['throughput']:.1f}/s"
            for p, r in sorted(
                ((p, r) for p, results in tries.items() for r in results), key=lambda pr: pr[1]["index"]
            )
        )
    )
    if any(run["retried"] for run in runs.values()):
        report.note(
            f"rollout: live devices reached the {ROLLOUT_DEADLINE} s deadline and were sent a second "
            "upgrade command: the rollout took longer than the deadline, which distorts the throughputs."
        )
    report.note(
        "rollout: CPU during creation → last live Success (cores)\n"
        + "\n".join(f"  {'healthy' if p == 0 else f'{p}% dead'}: {r['cpu']}" for p, r in runs.items())
    )


def _rollout_run(
    processes: fs.Processes,
    web: fs.Service,
    port: int,
    env: dict,
    queue: str,
    dead_percent: int,
    index: int,
) -> dict:
    label = "healthy" if dead_percent == 0 else f"{dead_percent}% dead"
    log(f"  rollout run {index + 1}: {ROLLOUT_DEVICES:,} devices, {label}")
    prefix = "0C11C0"
    installer, _community = seed_fleet(f"rollout-{index}", ROLLOUT_DEVICES, prefix)
    firmware = Firmware(version=NEW, sha256=hashlib.sha256(ROM).hexdigest(), size=len(ROM))
    firmware.file.save("r29-bench.rom", ContentFile(ROM), save=False)
    firmware.save()
    analyze()
    specs = specs_for(ROLLOUT_DEVICES, prefix=prefix, firmware=OLD)
    seed = 7
    dead_macs = {specs[i].mac for i in pick_roles(ROLLOUT_DEVICES, dead_percent, 0, seed)[0]}
    live = ROLLOUT_DEVICES - len(dead_macs)
    worker = fs.start_worker(processes, queue, env, concurrency=ROLLOUT_WORKER_CONCURRENCY)
    simulator = fs.start_simulator(
        processes,
        port,
        count=ROLLOUT_DEVICES,
        mac_prefix=prefix,
        firmware=OLD,
        dead_percent=dead_percent,
        interval=ROLLOUT_INTERVAL,
        reboot_seconds=0.2,
        lan_network=f"127.{90 + index}.0.0/16",
        lan_port=ROLLOUT_LAN_PORT,  # each run has its own addresses, so one port serves all
        seed=seed,
        # The installer's code, as set on devices at installation: adopted at first contact.
        provisioning_code=provisioning_code(actor=installer),
    )
    try:
        fs.wait_for_worker(processes, queue)
        heard = Device.objects.exclude(api_secret_hash="").filter(lan_address__isnull=False)
        fs.wait_for(
            f"all {ROLLOUT_DEVICES:,} simulated devices registered, with a heartbeat each",
            lambda: "live devices registered" in simulator.output() and heard.count() == ROLLOUT_DEVICES,
            60 + 2 * ROLLOUT_INTERVAL,
            interval=0.5,
            processes=processes,
            progress=lambda: f"{heard.count():,} heard from",
        )
        chosen = list(selectors.upgrade_devices(actor=installer, model=firmware.model))
        roots = {"gunicorn": web.pid, "celery worker": worker.pid, "simulator": simulator.pid}
        sessions = fs.database_sessions()
        before = fs.cpu_mark()
        began = time.time()
        with transaction.atomic():
            upgrade = services.upgrade_create(
                actor=installer, firmware=firmware, devices=chosen, timing=Timing.NOW
            )
        succeeded = UpgradeOperation.objects.filter(upgrade=upgrade, status=OperationStatus.SUCCESS)
        fs.wait_for(
            f"{live:,} live devices reporting {NEW} ({label})",
            lambda: succeeded.count() >= live,
            ROLLOUT_TIMEOUT,
            interval=0.2,
            processes=processes,
            progress=lambda: describe_counts(status_counts(upgrade)),
        )
        after = fs.cpu_mark()
        last = succeeded.aggregate(last=Max("finished_at"))["last"]
        elapsed = last.timestamp() - began
        cpu = fs.cpu_use(before, after, roots, fs.database_processes())
        wrong = set(succeeded.values_list("mac", flat=True)) & dead_macs
        if wrong:
            raise fs.BenchFailure(f"dead devices reported success: {sorted(wrong)[:5]}")
        retried = succeeded.filter(attempts__gt=1).count()
        timeline = _timeline(succeeded, began)
        executed = float("nan")
        if dead_macs:
            executed_upgrade = FirmwareUpgrade.objects.filter(pk=upgrade.pk, status=UpgradeStatus.EXECUTED)
            deadline = 3.5 * ROLLOUT_DEADLINE * ROLLOUT_ATTEMPTS + 30
            fs.wait_for(
                f"the upgrade Executed, its {len(dead_macs)} dead devices Failed",
                executed_upgrade.exists,
                deadline,
                interval=0.5,
                processes=processes,
                progress=lambda: describe_counts(status_counts(upgrade)),
            )
            upgrade.refresh_from_db()
            executed = upgrade.executed_at.timestamp() - began
            failed = set(
                UpgradeOperation.objects.filter(upgrade=upgrade, status=OperationStatus.FAILED).values_list(
                    "mac", flat=True
                )
            )
            if failed != dead_macs:
                raise fs.BenchFailure(
                    f"Failed operations are not exactly the dead devices: {len(failed)} failed, "
                    f"{len(dead_macs)} dead, {len(failed ^ dead_macs)} differ"
                )
    finally:
        processes.stop(simulator)
        processes.stop(worker)
    # Read once the worker has stopped: each of its backends has then reported its session.
    time.sleep(0.5)
    sessions = fs.database_sessions() - sessions
    log(f"    {live} live devices in {elapsed:.1f} s ({live / elapsed:.1f}/s), {retried} retried")
    return {
        "live": live,
        "elapsed": elapsed,
        "throughput": live / elapsed,
        "retried": retried,
        "executed": executed,
        "cpu": cpu,
        "timeline": timeline,
        "sessions": sessions,
        "index": index,
    }


def _timeline(succeeded, began: float) -> str:
    """When the live devices collected their command (after the nudge) and how long they took from
    there to their report, in seconds after the upgrade's creation: what paces the rollout."""
    rows = DeviceCommand.objects.filter(pk__in=succeeded.values("command_id")).values_list(
        "delivered_at", "finished_at"
    )
    delivered = sorted(d.timestamp() - began for d, _f in rows if d)
    took = sorted((f - d).total_seconds() for d, f in rows if d and f)
    if not delivered or not took:
        return "no delivered commands"

    def at(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    return (
        f"delivered at {at(delivered, 0):.1f} / {at(delivered, 0.5):.1f} / {delivered[-1]:.1f} s "
        f"(first / median / last), delivered → reported {at(took, 0.5):.2f} s median, {took[-1]:.2f} s max"
    )


# --- heartbeats -----------------------------------------------------------------------------------------


@benchmark("heartbeats")
def heartbeats(report: Report, options: Options) -> None:
    """Heartbeats per second through gunicorn on 2 cores, 1,000 devices (goal ≥ 1,000/s)."""
    secrets = [
        f"bench-heartbeat-secret-{i:04d}-{hashlib.sha256(str(i).encode()).hexdigest()[:16]}"
        for i in range(HEARTBEAT_DEVICES)
    ]
    prefix = "0C11B0"
    seed_fleet("heartbeats", HEARTBEAT_DEVICES, prefix, secrets)
    analyze()
    macs = [spec.mac for spec in specs_for(HEARTBEAT_DEVICES, prefix=prefix)]
    credentials = list(zip(macs, secrets, strict=True))

    with fs.Processes(report, "heartbeats") as processes:
        port = fs.free_port()
        # Heartbeats send no task; the queue is named only so nothing could land on a shared one.
        env = fs.portal_env(unique_queue("heartbeats"), SMARTPLUS_BASE_URL=f"http://127.0.0.1:{port}")
        web = fs.start_gunicorn(processes, port, HEARTBEAT_WORKERS, env)
        fs.wait_for_portal(processes, port)
        _check_heartbeat(port, credentials[0])
        requests = fs.heartbeat_requests(port, credentials, HEARTBEAT_BODY)
        marks: list[fs.CpuMark] = []
        log(
            f"  {HEARTBEAT_CONCURRENCY} connections, {HEARTBEAT_WARMUP:g} s warm-up + "
            f"{HEARTBEAT_SECONDS:g} s measured against gunicorn -w {HEARTBEAT_WORKERS} ..."
        )
        started = timezone.now()
        result = fs.run_heartbeat_load(
            port,
            requests,
            concurrency=HEARTBEAT_CONCURRENCY,
            warmup=HEARTBEAT_WARMUP,
            seconds=HEARTBEAT_SECONDS,
            mark=lambda: marks.append(fs.cpu_mark()),
        )
        cpu = fs.cpu_use(
            marks[0],
            marks[1],
            {f"gunicorn -w {HEARTBEAT_WORKERS}": web.pid},
            fs.database_processes(),
            singles={"load generator (this process)": os.getpid()},
        )
        processes.ensure_alive()
        # The load generator connects from 127.0.0.1: the address each heartbeat records.
        heard = Device.objects.filter(last_seen_at__gte=started, lan_address="127.0.0.1").count()

    failures = sum(result.other.values())
    report.add(
        f"heartbeats/s, gunicorn -w {HEARTBEAT_WORKERS} sync, {HEARTBEAT_CONCURRENCY} connections",
        f"{result.rate:,.0f}/s",
        f"≥ {HEARTBEAT_GOAL:,}/s",
        result.rate >= HEARTBEAT_GOAL,
    )
    report.add("  latency p50 / p95", f"{result.percentile(0.50):.1f} ms / {result.percentile(0.95):.1f} ms")
    report.add(
        "  replies other than 200",
        ", ".join(f"{kind}: {n}" for kind, n in sorted(result.other.items())) or "0",
        "0",
        failures == 0,
    )
    report.add(f"  devices whose heartbeat was recorded (of {HEARTBEAT_DEVICES:,})", f"{heard:,}")
    report.add("  load generator CPU", f"{result.client_cpu / result.seconds:.2f} cores")
    # What a noisy machine cannot hide: the CPU each heartbeat costs, whoever else used the cores.
    gunicorn = cpu.cores[f"gunicorn -w {HEARTBEAT_WORKERS}"]
    database = cpu.cores["PostgreSQL backends"]
    per_heartbeat = (gunicorn + database) / result.rate * 1000 if result.rate else float("nan")
    client = result.client_cpu / result.ok * 1000 if result.ok else float("nan")
    report.add(
        "  CPU per heartbeat: gunicorn + PostgreSQL backends, load generator",
        f"{per_heartbeat:.2f} ms + {client:.2f} ms",
    )
    report.add(
        f"  ceiling on {cpu.total:.0f} idle cores at that CPU per heartbeat",
        f"{cpu.total * 1000 / (per_heartbeat + client):,.0f}/s",
    )
    report.note(f"heartbeats: CPU during the {HEARTBEAT_SECONDS:g} s measured: {cpu}")
    _in_process(report, options, credentials)
    log(f"  {result.rate:,.0f} heartbeats/s, {failures} failures")
    _device_service(report, credentials)


def _device_service(report: Report, credentials: list[tuple[str, str]]) -> None:
    """The device API service as compose runs it (smartplus.device_wsgi, settings.device_api,
    gunicorn gthread) against a bare Django view returning JSON on the same settings and command
    line: the heartbeat's own cost above the server's. Alternated, twice each, the best run kept,
    so a load spike on the shared machine does not decide the ratio."""
    runs: dict[str, list[tuple[fs.LoadResult, float]]] = {"device API": [], "bare view": []}
    heard: dict[int, int] = {}
    apps = {
        "device API": "smartplus.device_wsgi:application",
        "bare view": "benchmarks.bare_wsgi:application",
    }
    label = f"gunicorn -w {HEARTBEAT_WORKERS} {' '.join(fs.DEVICE_API_WORKER_ARGS)}"
    for _round in range(DEVICE_SERVICE_ROUNDS):
        for name, app in apps.items():
            with fs.Processes(report, f"device-service-{name.replace(' ', '-')}") as processes:
                port = fs.free_port()
                env = fs.device_api_env(SMARTPLUS_BASE_URL=f"http://127.0.0.1:{port}")
                web = fs.start_device_api(processes, port, HEARTBEAT_WORKERS, env, app)
                requests = fs.heartbeat_requests(port, credentials, HEARTBEAT_BODY)
                fs.wait_for(
                    f"{name} answering on 127.0.0.1:{port}",
                    lambda port=port, first=requests[0]: _answers(port, first),
                    60,
                    interval=0.3,
                    processes=processes,
                )
                marks: list[fs.CpuMark] = []
                started = timezone.now()
                log(f"  {name}: {HEARTBEAT_CONCURRENCY} connections against {label} ...")
                result = fs.run_heartbeat_load(
                    port,
                    requests,
                    concurrency=HEARTBEAT_CONCURRENCY,
                    warmup=HEARTBEAT_WARMUP,
                    seconds=HEARTBEAT_SECONDS,
                    mark=lambda marks=marks: marks.append(fs.cpu_mark()),
                )
                cpu = fs.cpu_use(marks[0], marks[1], {"gunicorn": web.pid}, fs.database_processes())
                processes.ensure_alive()
                server = cpu.cores["gunicorn"] + cpu.cores["PostgreSQL backends"]
                per_request = server / result.rate * 1000 if result.rate else float("nan")
                if name == "device API":
                    # Written by the heartbeats' own flushes (every SMARTPLUS_DEVICE_LIVENESS_FLUSH s).
                    heard[len(runs[name])] = Device.objects.filter(last_seen_at__gte=started).count()
                runs[name].append((result, per_request))
                log(f"    {result.rate:,.0f}/s, {per_request:.2f} ms CPU each")
    best = {name: max(results, key=lambda r: r[0].rate) for name, results in runs.items()}
    recorded = heard[runs["device API"].index(best["device API"])]
    (service, service_cpu), (bare, bare_cpu) = best["device API"], best["bare view"]
    failures = sum(service.other.values()) + sum(bare.other.values())
    report.add(f"device API service, {label}: heartbeats/s", f"{service.rate:,.0f}/s")
    report.add("bare JSON view, same settings and server: requests/s", f"{bare.rate:,.0f}/s")
    ratio = service.rate / bare.rate if bare.rate else float("nan")
    report.add(
        "  heartbeats / bare view requests",
        f"{ratio:.2f}",
        f"≥ {DEVICE_SERVICE_GOAL}",
        ratio >= DEVICE_SERVICE_GOAL,
    )
    report.add(
        "  CPU per request (gunicorn + PostgreSQL backends): heartbeat, bare view",
        f"{service_cpu:.2f} ms, {bare_cpu:.2f} ms",
    )
    report.add(
        "  heartbeats/s per core of device API (gunicorn + PostgreSQL)",
        f"{1000 / service_cpu:,.0f}/s" if service_cpu else "n/a",
    )
    report.add(
        f"  devices whose heartbeat reached the database during the run (of {HEARTBEAT_DEVICES:,})",
        f"{recorded:,}",
        f"{HEARTBEAT_DEVICES:,}",
        recorded == HEARTBEAT_DEVICES,
    )
    report.add("  replies other than 200", str(failures), "0", failures == 0)


def _answers(port: int, request: bytes) -> bool:
    """One real heartbeat answered 200: the service has loaded Django and reached the database."""
    try:
        result = fs.run_heartbeat_load(port, [request], concurrency=1, warmup=0, seconds=0.3)
    except OSError:
        return False
    return result.ok > 0


def _check_heartbeat(port: int, credential: tuple[str, str]) -> None:
    """One heartbeat by hand: right credentials are 200, a wrong secret 401 (so counting 200s is right)."""
    import base64

    mac, secret = credential
    for password, expected in ((secret, 200), (secret + "x", 401)):
        auth = "Basic " + base64.b64encode(f"{mac}:{password}".encode()).decode()
        status = fs.http_status(
            port,
            "POST",
            "/device-api/v1/heartbeat",
            {"Authorization": auth, "Content-Type": "application/json"},
        )
        if status != expected:
            raise fs.BenchFailure(
                f"a heartbeat with {'a wrong' if expected == 401 else 'its'} secret answered "
                f"{status}, expected {expected}"
            )


def _in_process(report: Report, options: Options, credentials: list[tuple[str, str]]) -> None:
    """Heartbeats through Django's WSGIHandler in this process (every middleware, the real view and
    queries, no HTTP server): the part of a heartbeat's cost that is the portal's own code."""
    import base64

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    auths = ["Basic " + base64.b64encode(f"{mac}:{secret}".encode()).decode() for mac, secret in credentials]

    def start_response(status: str, headers) -> None:
        if not status.startswith("200"):
            raise fs.BenchFailure(f"an in-process heartbeat answered {status}")

    def call(i: int) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/device-api/v1/heartbeat",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(HEARTBEAT_BODY),
            "CONTENT_LENGTH": str(len(HEARTBEAT_BODY)),
            "CONTENT_TYPE": "application/json",
            "HTTP_AUTHORIZATION": auths[i % len(auths)],
        }
        b"".join(handler(environ, start_response))

    # Keep the connection across requests as gunicorn's workers do (request_finished closes it otherwise).
    old_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 600
    connection.close()
    try:
        runs = 1_000
        for i in range(200):
            call(i)
        queries: list[str] = []  # not CaptureQueriesContext: request_started empties its query log

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            call(0)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(runs):
            call(i)
        cpu, wall = (time.process_time() - cpu) / runs * 1000, (time.perf_counter() - wall) / runs * 1000
        report.add(
            "  one heartbeat in process (WSGIHandler, no server): wall, CPU",
            f"{wall:.2f} ms, {cpu:.2f} ms, {len(queries)} queries",
        )
        if options.verbose:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(runs):
                call(i)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(30)
            report.note(f"heartbeats: cProfile of {runs:,} heartbeats in process:\n{out.getvalue()}")
    finally:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = old_age
