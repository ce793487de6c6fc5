"""MAC library: importing a 10,000-row MAC template, and the MAC list at 100 vs 10,000 MACs.

Import: what confirming an uploaded 10,000-row MAC template costs, through the import machinery:
`MacImporter.read` on the stored job (`smartplus.xlsx.read_sheet`: package checks, openpyxl
read-only) and `MacImporter.apply` (`maclib.services.mac_import`: validation, one existence
query, bulk insert, audit entry); the median of a few runs is reported, each in a transaction
rolled back afterwards. Goal: the whole import under 5 s.

List: page 1 of the MAC Library for an installer with 100 MACs and one with 10,000 (a third of
them bound to devices of the public area, a building or an apartment). Goal: median ratio
10,000 / 100 <= 1.2 with equal query counts; the last page of the big list is informational.
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from accounts.choices import Role
from accounts.models import User
from communities.models import Building, Community
from devices.choices import DeviceType, Place
from devices.models import Device
from maclib.imports import MacImporter
from maclib.models import MacAddress, MacImport
from residents.models import Apartment
from smartplus.models import ImportStatus

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
    ms,
    timeit_interleaved,
)

IMPORT_ROWS = 10_000
IMPORT_RUNS = 5  # at most; fewer when --repeat asks for fewer
IMPORT_GOAL_MS = 5_000
SMALL, LARGE = 100, 10_000
PER_PAGE = 10
SIZE_GOAL = 1.2
BATCH = 5_000
PLACES = (Place.PUBLIC, Place.BUILDING, Place.APARTMENT)


def _installer(username: str) -> User:
    return User.objects.create_user(username=username, email=f"{username}@example.test", role=Role.INSTALLER)


def mac_workbook(rows: int, first: int = 0x0C1108000000) -> bytes:
    """The MAC template with `rows` MACs, typed in the forms users type them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("MAC")
    sheet.append(["MAC"])
    for i in range(rows):
        mac = f"{first + i:012X}"
        if i % 3 == 1:
            mac = ":".join(mac[k : k + 2] for k in range(0, 12, 2)).lower()
        elif i % 3 == 2:
            mac = "-".join(mac[k : k + 2] for k in range(0, 12, 2))
        sheet.append([mac])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build_library(installer: User, size: int, first: int) -> None:
    """`size` MACs for the installer, one second apart, every third bound to a device."""
    community = Community.objects.create(
        installer=installer,
        name=f"Bench {installer.username}",
        country="US",
        city="Springfield",
        street="1 Main Street",
        post_code="12345",
    )
    building = Building.objects.create(community=community, name="Building1")
    apartment = Apartment.objects.create(
        community=community, building=building, number="403", family_sip_number=f"M{installer.pk:09d}"
    )
    start = timezone.now() - timedelta(days=30)
    for offset in range(0, size, BATCH):
        with transaction.atomic():
            macs = MacAddress.objects.bulk_create(
                (
                    MacAddress(
                        installer=installer, mac=f"{first + i:012X}", created=start + timedelta(seconds=i)
                    )
                    for i in range(offset, min(offset + BATCH, size))
                ),
                batch_size=BATCH,
            )
            Device.objects.bulk_create(
                (
                    Device(
                        community=community,
                        place=(place := PLACES[(offset + i) // 3 % 3]),
                        building=None if place == Place.PUBLIC else building,
                        apartment=apartment if place == Place.APARTMENT else None,
                        mac_address=entry,
                        device_type=DeviceType.INDOOR_MONITOR
                        if place == Place.APARTMENT
                        else DeviceType.GUARD_PHONE,
                        name=f"Device {offset + i}",
                    )
                    for i, entry in enumerate(macs)
                    if (offset + i) % 3 == 0
                ),
                batch_size=BATCH,
            )


class _Rollback(Exception):
    pass


def _no_progress(*args, **kwargs) -> None:
    pass


def _import_once(job_id: int) -> tuple[float, float]:
    """(read ms, write ms) of one confirm of the stored job, in a transaction rolled back after."""
    importer = MacImporter()
    try:
        with transaction.atomic():
            started = time.perf_counter()
            job = MacImport.objects.select_related("installer", "actor").get(pk=job_id)
            sheet = importer.read(job, _no_progress)
            read = time.perf_counter()
            result = importer.apply(job, sheet, _no_progress)
            done = time.perf_counter()
            raise _Rollback
    except _Rollback:
        pass
    if result != {"MACs added": IMPORT_ROWS} or sheet.errors:
        raise AssertionError(f"imported {result} of {IMPORT_ROWS} MACs ({len(sheet.errors)} bad rows)")
    return (read - started) * 1000, (done - read) * 1000


@benchmark("maclib")
def maclib_bench(report: Report, options: Options) -> None:
    """Import of a 10,000-row MAC template (goal < 5 s); MAC list 100 vs 10,000 MACs (goal ≤ 1.2)."""
    # --- import ---
    importer = _installer("bench-mac-import")
    content = mac_workbook(IMPORT_ROWS)
    job = MacImport.objects.create(
        installer=importer,
        user=importer,
        actor=importer,
        file_name="macs.xlsx",
        file_size=len(content),
        content=content,
        status=ImportStatus.QUEUED,
    )
    runs = max(1, min(options.repeat, IMPORT_RUNS))
    log(f"  importing {IMPORT_ROWS:,} MACs ({len(content) / 1024:.0f} KiB) {runs + 1} times ...")
    _import_once(job.pk)  # warm-up: first queries, openpyxl imports
    samples = [_import_once(job.pk) for _ in range(runs)]
    read_ms = statistics.median(s[0] for s in samples)
    write_ms = statistics.median(s[1] for s in samples)
    total_ms = statistics.median(s[0] + s[1] for s in samples)
    report.add(
        f"read {IMPORT_ROWS:,}-row .xlsx ({len(content) / 1024:.0f} KiB, median of {runs})", ms(read_ms)
    )
    report.add(f"mac_import {IMPORT_ROWS:,} MACs (validate + insert)", ms(write_ms))
    report.add(
        f"import {IMPORT_ROWS:,} MACs, total",
        ms(total_ms),
        f"< {IMPORT_GOAL_MS / 1000:.0f} s",
        total_ms < IMPORT_GOAL_MS,
    )
    report.add("per 1,000 MACs", ms(total_ms / (IMPORT_ROWS / 1000)))

    # --- list ---
    small, large = _installer("bench-mac-small"), _installer("bench-mac-large")
    log(f"  building MAC libraries of {SMALL} and {LARGE:,} MACs ...")
    build_library(small, SMALL, 0x0C1109000000)
    build_library(large, LARGE, 0x0C110A000000)
    analyze()
    url = reverse("maclib:mac_list")
    last = -(-LARGE // PER_PAGE)
    small_client, large_client = client_for(small), client_for(large)
    cases = {
        "small": lambda: get_ok(small_client, url),
        "large": lambda: get_ok(large_client, url),
        "large_last": lambda: get_ok(large_client, url, {"page": last}),
        "search": lambda: get_ok(large_client, url, {"q": "0c:11:0a:00:1"}),
    }
    for case, size in (("small", SMALL), ("large", LARGE)):
        content_html = cases[case]().content.decode()
        if f'data-testid="in-all">{size} In All' not in content_html or "Public Device" not in content_html:
            raise AssertionError(f"the {case} MAC list does not show its {size} MACs")
    queries = {case: capture_queries(fn) for case, fn in cases.items()}
    log(f"  timing {options.repeat} runs each after {options.warmup} warm-up runs ...")
    timings = timeit_interleaved(cases, repeat=options.repeat, warmup=options.warmup)

    report.add(f"MAC list page 1, {SMALL} MACs (median)", timings["small"].figure)
    report.add(f"MAC list page 1, {LARGE:,} MACs", timings["large"].figure)
    report.ratio(f"ratio {LARGE:,} / {SMALL}", timings["large"], timings["small"], SIZE_GOAL)
    report.same_queries(f"queries {SMALL} / {LARGE:,}", len(queries["small"]), len(queries["large"]))
    report.add(f"MAC list last page (page {last:,}), {LARGE:,} MACs", timings["large_last"].figure)
    report.add(f"MAC search (partial MAC), {LARGE:,} MACs", timings["search"].figure)

    if options.verbose:
        for case, logged in queries.items():
            report.note(f"queries of case {case}:\n{format_queries(logged)}")
        for query in queries["large"]:
            if query["sql"].lstrip().startswith('SELECT "maclib_macaddress"."id"'):
                report.note(f"EXPLAIN of the page query, case large:\n{explain(query['sql'])}")
