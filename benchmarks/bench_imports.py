"""Residents and devices template import: 3,000 and 10,000 rows against their floor.

Import = what the confirm step costs: `TemplateImporter.read` of the stored job (package checks,
openpyxl read-only) and `TemplateImporter.apply` (`apply_import`: every check again under the
writers' locks, then the writes by COPY), then `SET CONSTRAINTS ALL IMMEDIATE` so the deferred
foreign-key checks that a commit would run are paid too; the transaction is rolled back and the
tables vacuumed (untimed) before every run, so every run starts from the same state.

Floor, same rows: `openpyxl.load_workbook(read_only=True)` iterating every row with values_only,
plus a COPY of the very rows the import wrote (buildings, apartments, residents, devices, captured
once with COPY ... TO STDOUT) into the real tables, with the same constraint checks and rolled
back. Real tables, not TEMP ones: their indexes, unique checks and foreign keys are work any
import of these rows must do, and TEMP tables would skip the WAL the import writes. A second
floor adds the import's audit entries (one per object, as the dialogs write them), COPYed alike.

Goals: import / floor with audit entries ≤ 2.5 per size (that floor writes every row the import
writes; the rows-only ratio is printed beside it without a goal); rejection of the 10,000-row
file with one bad row near the end (row 9,999: a MAC not in the library) / the valid import
≤ 1.2; peak memory of the 10,000-row import (tracemalloc in process, RSS growth in a fresh
subprocess) ≤ 200 MB. The preview step (read + `plan_import`) is informational.
"""

from __future__ import annotations

import gc
import io
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from openpyxl import load_workbook

from accounts.choices import Role
from accounts.models import User
from communities.choices import FeaturePlan
from communities.models import Community
from devices import template_import
from maclib.models import MacAddress
from residents.models import ResidentImport
from smartplus import importing, phones
from smartplus.models import ImportStatus

from .harness import Options, Report, analyze, benchmark, log, ms, profile, timeit_interleaved

SIZES = (3_000, 10_000)
PER_BUILDING = 100
RUNS = 3  # at most; fewer when --repeat asks for fewer (10,000 rows take seconds)
FLOOR_GOAL = 2.5
REJECT_GOAL = 1.2
MEMORY_GOAL_MB = 200
BAD_ROW = 9_999  # the bad row's place among the data rows (Excel row 10,000)
FIRST_MAC = 0x0C1107000000
UNKNOWN_MAC = "0C11070FFFFF"
# The tables the import fills, in the order they are copied (parents first).
TABLES = ("communities_building", "residents_apartment", "residents_resident", "devices_device")
# The import's audit entries (one per object, as the dialogs write them): a second floor counts them.
AUDIT_TABLE = "smartplus_auditlog"
MAC_TABLES = ("maclib_macaddress", "smartplus_numbersequence", "communities_community")
FIRST_NAMES = ("Ryan", "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Zoe")
LAST_NAMES = ("Chen", "Smith", "Garcia", "Nguyen", "Brown", "Müller", "Rossi", "Kim", "Silva", "Khan")
AREA_CODES = ("201", "212", "312", "415", "617", "713", "305", "206")


class _Rollback(Exception):
    pass


def _no_progress(*args, **kwargs) -> None:
    # Not importing.Progress: it writes to the shared Redis cache that the test suites running
    # on this machine read (about 150 cache writes a run, a few milliseconds).
    pass


# --- the data ------------------------------------------------------------------------------------


def _mac(i: int) -> str:
    return f"{FIRST_MAC + i:012X}"


def mobile_numbers(count: int) -> list[str]:
    """`count` distinct US mobile numbers that `phones.normalize` accepts, typed as people type
    them (555-01xx numbers are fictional and refused, so they are not used)."""
    numbers: list[str] = []
    exchange, line = 230, 1000
    while len(numbers) < count:
        area = AREA_CODES[len(numbers) % len(AREA_CODES)]
        digits = f"{area}{exchange}{line:04d}"
        line += 7
        if line > 9999:
            exchange, line = exchange + 1, 1000
        typed = digits if len(numbers) % 2 else f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        try:
            phones.normalize(typed, "US", mobile=True)
        except ValidationError:  # e.g. an exchange that is not in service: skip the candidate
            continue
        numbers.append(typed)
    return numbers


def template_rows(count: int, *, bad_row: int | None = None) -> list[list]:
    """The template's rows as an installer fills them: 100 APTs per building, each with its
    resident and an indoor monitor whose MAC is in the library."""
    mobiles = mobile_numbers(count)
    rows = []
    for i in range(count):
        building, unit = divmod(i, PER_BUILDING)
        apt = f"{building + 1}{unit + 1:03d}"
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i // len(FIRST_NAMES) % len(LAST_NAMES)]
        mac = UNKNOWN_MAC if bad_row is not None and i + 1 == bad_row else _mac(i)
        rows.append(
            [
                f"Building {building + 1}",
                apt,
                f"{last} family",
                f"Living Room,2,{mac}",
                first,
                last,
                f"{first.lower()}.{last.lower().replace('ü', 'ue')}.{i}@example.test",
                mobiles[i],
                "1",  # the template formats the column as text
                None,
                None,
                None,
                i % 6,
                i % 51,
            ]
        )
    return rows


def template_file(rows: list[list]) -> bytes:
    """The downloaded template with its sample row replaced by `rows`."""
    workbook = load_workbook(io.BytesIO(template_import.template()))
    sheet = workbook["Template"]
    for index, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=index, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _job(community: Community, installer: User, content: bytes, name: str) -> ResidentImport:
    return ResidentImport.objects.create(
        installer=installer,
        user=installer,
        actor=installer,
        community=community,
        file_name=name,
        file_size=len(content),
        content=content,
        status=ImportStatus.QUEUED,
    )


# --- one run of each step ------------------------------------------------------------------------


def _load(job_id: int) -> ResidentImport:
    return ResidentImport.objects.select_related("community", "actor").get(pk=job_id)


def _commit_checks() -> None:
    """What COMMIT would check now: the deferred foreign keys. (The run is then rolled back.)"""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def confirm(job_id: int, phases: dict[str, list[float]] | None = None, *, capture: bool = False):
    """Read + apply the job's file in a rolled-back transaction; the result (or the rejection).
    `capture`: also the rows the import wrote, per table, in COPY's text format."""
    importer = template_import.TemplateImporter()
    outcome: dict = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            job = _load(job_id)
            last_entry = _last_audit_id() if capture else 0
            sheet = importer.read(job, _no_progress)
            read = time.perf_counter()
            try:
                outcome["result"] = importer.apply(job, sheet, _no_progress)
                _commit_checks()
            except importing.ImportRejected as exc:
                outcome["rejected"] = exc.rows
            done = time.perf_counter()
            if phases is not None:
                phases.setdefault("read", []).append((read - started) * 1000)
                phases.setdefault("apply", []).append((done - read) * 1000)
            if capture:
                outcome["copied"] = _capture(job.community_id, last_entry)
            raise _Rollback
    except _Rollback:
        pass
    return outcome


def preview(job_id: int) -> importing.Checked:
    importer = template_import.TemplateImporter()
    job = _load(job_id)
    return importer.check(job, importer.read(job, _no_progress), _no_progress)


def _last_audit_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {AUDIT_TABLE}")
        return cursor.fetchone()[0]


def _capture(community_id: int, last_entry: int) -> dict[str, bytes]:
    copied = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            buffer = io.BytesIO()
            sql = f"COPY (SELECT * FROM {table} WHERE community_id = {int(community_id)}) TO STDOUT"
            cursor.copy_expert(sql, buffer)
            copied[table] = buffer.getvalue()
        buffer = io.BytesIO()
        cursor.copy_expert(
            f"COPY (SELECT * FROM {AUDIT_TABLE} WHERE id > {int(last_entry)}) TO STDOUT", buffer
        )
        copied[AUDIT_TABLE] = buffer.getvalue()
    return copied


def floor(content: bytes, copied: dict[str, bytes], *, audit: bool = False) -> int:
    """openpyxl read-only parse of every row, and COPY of the import's rows (`audit`: and of its
    audit entries); rolled back."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                for table in (*TABLES, AUDIT_TABLE) if audit else TABLES:
                    cursor.copy_expert(f"COPY {table} FROM STDIN", io.BytesIO(copied[table]))
            _commit_checks()
            raise _Rollback
    except _Rollback:
        pass
    return rows


def vacuum() -> None:
    """Clear what the last rolled-back run left (dead rows and index entries, row locks)."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join((*TABLES, AUDIT_TABLE, *MAC_TABLES))}")


# --- memory --------------------------------------------------------------------------------------


def traced_peak_mb(job_id: int) -> float:
    """tracemalloc's peak of Python allocations during one confirm (a run of its own: tracing
    makes it several times slower)."""
    gc.collect()
    tracemalloc.start()
    try:
        confirm(job_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# A fresh interpreter, set up like a worker: Django, the modules, a connection; then one import.
_RSS_CHILD = """
import json, resource, sys
from benchmarks import harness
harness.setup_django()
from django.conf import settings
from django.db import connection
settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = harness.BENCH_DB_NAME
from benchmarks import bench_imports
connection.ensure_connection()
bench_imports.mobile_numbers(1)  # phonenumbers' US metadata, loaded once per process
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
def peak_mb():
    # VmHWM: this program's own high-water mark. Not ru_maxrss: Linux carries the forked copy of
    # the parent's size over the exec into it, so it read the benchmark's own growth.
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
before = rss_mb()
outcome = bench_imports.confirm(int(sys.argv[1]))
peak = peak_mb()
print(json.dumps({"before": before, "peak": peak, "result": outcome.get("result")}))
"""


def rss_growth_mb(job_id: int) -> tuple[float, float]:
    """(RSS before the import, peak RSS during it) of a fresh process, in MB."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(job_id)],
        cwd=root,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if not figures["result"]:
        raise AssertionError(f"the subprocess's import wrote nothing: {figures}")
    return figures["before"], figures["peak"]


# --- the benchmark -------------------------------------------------------------------------------


def _expect(outcome: dict, rows: int) -> None:
    expected = {
        "buildings created": -(-rows // PER_BUILDING),
        "apartments created": rows,
        "residents created": rows,
        "devices created": rows,
    }
    if outcome.get("result") != expected:
        found = outcome.get("result") or outcome.get("rejected", [])[:5]
        raise AssertionError(f"the {rows:,}-row import gave {found}, expected {expected}")
    counts = {
        table: data.count(b"\n") for table, data in outcome.get("copied", {}).items() if table in TABLES
    }
    if counts and counts != dict(zip(TABLES, expected.values(), strict=True)):
        raise AssertionError(f"captured {counts} rows for the floor, expected {expected}")


@dataclass
class World:
    contents: dict[int, bytes]  # the filled template per size
    jobs: dict[int, int]  # the stored job's id per size
    bad_job: int  # the largest file with one bad row


def build_world() -> World:
    """An installer with one MAC per row in the library, a Premium community with room for the
    rows, and a stored job per file."""
    installer = User.objects.create_user(
        username="bench-imports", email="bench-imports@example.test", role=Role.INSTALLER
    )
    community = Community.objects.create(
        installer=installer,
        name="Bench imports",
        feature_plan=FeaturePlan.PREMIUM,
        number_of_apartments=max(SIZES),
        country="US",
        city="Springfield",
        street="1 Main Street",
        post_code="12345",
    )
    MacAddress.objects.bulk_create(
        (MacAddress(installer=installer, mac=_mac(i)) for i in range(max(SIZES))), batch_size=5_000
    )
    log(f"  writing the templates of {', '.join(f'{n:,}' for n in SIZES)} rows ...")
    largest = template_rows(max(SIZES))
    contents = {size: template_file(largest[:size]) for size in SIZES}
    bad_content = template_file(template_rows(max(SIZES), bad_row=BAD_ROW))
    jobs = {size: _job(community, installer, contents[size], f"residents-{size}.xlsx").pk for size in SIZES}
    bad_job = _job(community, installer, bad_content, "residents-bad.xlsx").pk
    vacuum()
    analyze()
    return World(contents, jobs, bad_job)


@benchmark("imports")
def imports_bench(report: Report, options: Options) -> None:
    """Template import of 3,000 / 10,000 rows vs its floor with audit (≤ 2.5); one bad row (≤ 1.2); memory."""
    world = build_world()
    contents, jobs, bad_job = world.contents, world.jobs, world.bad_job

    # Each import once, to check what it writes and capture those rows for the floor.
    copied = {}
    for size in SIZES:
        outcome = confirm(jobs[size], capture=True)
        _expect(outcome, size)
        copied[size] = outcome["copied"]
        if floor(contents[size], copied[size]) != size + 1:
            raise AssertionError(f"the floor did not read {size + 1:,} rows")
        vacuum()
    rejected = confirm(bad_job).get("rejected")
    if not rejected or [(e.row, e.column) for e in rejected] != [(BAD_ROW + 1, "Device")]:
        raise AssertionError(f"the file with one bad row was rejected with {rejected}")
    checked = preview(jobs[max(SIZES)])
    if checked.errors or checked.summary["apartments"]["create"] != max(SIZES):
        raise AssertionError(f"the preview gave {checked.errors[:3]} / {checked.summary['apartments']}")

    phases: dict[int, dict[str, list[float]]] = {size: {} for size in SIZES}
    cases: dict[str, Callable[[], object]] = {}
    for size in SIZES:
        cases[f"import {size}"] = lambda size=size: confirm(jobs[size], phases[size])
        cases[f"floor {size}"] = lambda size=size: floor(contents[size], copied[size])
        cases[f"floor+audit {size}"] = lambda size=size: floor(contents[size], copied[size], audit=True)
        cases[f"preview {size}"] = lambda size=size: preview(jobs[size])
    cases["rejected"] = lambda: confirm(bad_job)
    runs = max(1, min(options.repeat, RUNS))
    warmup = min(options.warmup, 1)
    log(f"  timing {runs} run(s) of each after {warmup} warm-up run(s), interleaved ...")
    timings = timeit_interleaved(cases, repeat=runs, warmup=warmup, before=vacuum)

    for size in SIZES:
        kib = len(contents[size]) / 1024
        report.add(
            f"import {size:,} rows ({kib:.0f} KiB; median of {runs})", timings[f"import {size}"].figure
        )
        timed = phases[size]
        report.add(
            "  of which read / check + write",
            " / ".join(ms(statistics.median(timed[phase][-runs:])) for phase in ("read", "apply")),
        )
        report.add(f"floor {size:,} rows (openpyxl parse + COPY)", timings[f"floor {size}"].figure)
        # Informational: this floor skips the audit entries the import must write (one per object).
        rows_only = timings[f"import {size}"].median / timings[f"floor {size}"].median
        report.add(
            f"  import / rows-only floor, {size:,} rows (no goal: fewer rows than written)",
            f"{rows_only:.2f}",
        )
        entries = copied[size][AUDIT_TABLE].count(b"\n")
        report.add(f"floor with its {entries:,} audit entries", timings[f"floor+audit {size}"].figure)
        report.ratio(
            f"ratio import / floor with audit entries, {size:,} rows",
            timings[f"import {size}"],
            timings[f"floor+audit {size}"],
            FLOOR_GOAL,
        )
        report.add(f"preview {size:,} rows (read + plan_import)", timings[f"preview {size}"].figure)
    large = max(SIZES)
    report.add(f"rejected {large:,} rows, 1 bad row (row {BAD_ROW:,})", timings["rejected"].figure)
    report.ratio(
        "ratio rejected / valid import", timings["rejected"], timings[f"import {large}"], REJECT_GOAL
    )

    log("  measuring the memory of a 10,000-row import ...")
    vacuum()
    traced = traced_peak_mb(jobs[large])
    report.add(f"peak Python memory, import {large:,} (tracemalloc)", f"{traced:.1f} MB")
    vacuum()
    before, peak = rss_growth_mb(jobs[large])
    growth = peak - before
    report.add(
        f"RSS growth, import {large:,} (fresh process, {before:.0f} → {peak:.0f} MB)",
        f"{growth:.1f} MB",
        f"≤ {MEMORY_GOAL_MB} MB",
        growth <= MEMORY_GOAL_MB,
    )

    if options.verbose:
        vacuum()
        report.note(
            f"profile of one {large:,}-row import:\n{profile(cases[f'import {large}'], runs=1, top=40)}"
        )
