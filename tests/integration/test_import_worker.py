"""A real Celery worker on the Redis broker checks and imports a large residents+devices template:
upload → CHECKING (progress on the import's page) → READY → confirm → QUEUED (progress) → DONE, then
the account emails' fan-out through a real SMTP server; a bad row leaves the job REJECTED, unwritten."""

from __future__ import annotations

import email
import io
import re
import time
from email import policy

import pytest
from django.contrib.auth.hashers import check_password, is_password_usable
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from devices import template_import
from devices.choices import DeviceType, Place
from devices.models import Device, Relay
from maclib.models import MacAddress
from residents import tasks as resident_tasks
from residents.models import Apartment, Resident, ResidentImport
from smartplus import importing
from smartplus.models import ImportStatus
from tests.factories import build_world
from tests.workers import Gate, TaskLog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 3000
BUILDINGS = 30
DOOR_PHONE_EVERY = 10  # these rows also bring a door phone, which gets its Relay1
EMAIL_EVERY = 25  # 120 account emails...
EMAIL_BATCH = 50  # ... fanned out in 3 batches (the real batch is 500; 600 SMTP emails take too long)
DEVICES = ROWS + ROWS // DOOR_PHONE_EVERY
NUMBERS = [str(10000 + i) for i in range(ROWS)]
UNKNOWN_MAC = "0C11FFFFFFFF"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENDED = (ImportStatus.READY, ImportStatus.REJECTED, ImportStatus.FAILED, ImportStatus.DONE)


def monitor_mac(i: int) -> str:
    return f"A1B2C3{i:06X}"


def door_mac(i: int) -> str:
    return f"A1B2C4{i:06X}"


def large_template(*, bad_row: int | None = None) -> bytes:
    """ROWS apartments in BUILDINGS buildings, each with its resident and an indoor monitor, made
    with openpyxl as a spreadsheet program would. `bad_row` (Excel's row) names an unknown MAC."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(template_import.COLUMNS)
    for i in range(ROWS):
        devices = f"Living Room,{DeviceType.INDOOR_MONITOR},{monitor_mac(i)}"
        if i % DOOR_PHONE_EVERY == 0:
            devices += f"; Door {i},{DeviceType.SINGLE_TENANT_DOOR_PHONE},{door_mac(i)}"
        if i + 2 == bad_row:
            devices = f"Living Room,{DeviceType.INDOOR_MONITOR},{UNKNOWN_MAC}"
        address = f"import.{i}@example.test" if i % EMAIL_EVERY == 0 else None
        sheet.append(
            [f"Block {i % BUILDINGS:02d}", NUMBERS[i], None, devices, f"First{i}", f"Last{i}", address]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def world(settings):
    w = build_world()
    w.community_a.number_of_apartments = 5000
    w.community_a.save(update_fields=["number_of_apartments"])
    MacAddress.objects.bulk_create(
        [MacAddress(installer=w.installer_a, mac=monitor_mac(i)) for i in range(ROWS)]
        + [MacAddress(installer=w.installer_a, mac=door_mac(i)) for i in range(0, ROWS, DOOR_PHONE_EVERY)]
    )
    w.community_a.refresh_from_db()
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = 1024  # every upload here goes to the worker
    return w


@pytest.fixture
def web(world) -> Client:
    """Installer A's browser, as far as Django's test client goes."""
    web = Client()
    web.force_login(world.installer_a)
    return web


@pytest.fixture
def task_log():
    log = TaskLog()
    yield log
    log.close()


def upload(web: Client, world, content: bytes) -> ResidentImport:
    url = reverse("devices:community_import", args=[world.community_a.pk])
    response = web.post(url, {"file": SimpleUploadedFile("residents.xlsx", content, content_type=XLSX)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ResidentImport.objects.get()
    assert response["Location"] == reverse("devices:residentimport_detail", args=[job.pk])
    return job


def status_block(web: Client, job: ResidentImport) -> str:
    """The import page's status block, as its htmx poll gets it."""
    url = reverse("devices:residentimport_detail", args=[job.pk])
    response = web.get(f"{url}?status=1", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def wait_for_status(web: Client, job: ResidentImport, timeout: float = 40) -> str:
    """Polls the page as the browser does until the job has left CHECKING / QUEUED."""
    deadline = time.monotonic() + timeout
    while True:
        html = status_block(web, job)
        status = re.search(r'data-status="(\w+)"', html).group(1)
        if status in ENDED:
            job.refresh_from_db()
            return html
        assert time.monotonic() < deadline, f"still {status} after {timeout} s"
        time.sleep(0.1)


def wait_for_progress(web: Client, job: ResidentImport, phase: str, timeout: float = 10) -> tuple[str, dict]:
    """The status block and `importing.progress_of` once both show the held worker's progress."""
    job.refresh_from_db()
    deadline = time.monotonic() + timeout
    while True:
        html, seen = status_block(web, job), importing.progress_of(job)
        if re.search(rf"{phase}: [\d,]+ of {ROWS:,} rows", html) and seen and seen["phase"] == phase:
            return html, seen
        assert time.monotonic() < deadline, html
        time.sleep(0.05)


def counters(community) -> tuple[int, int, int]:
    community.refresh_from_db()
    return community.apartment_count, community.end_user_count, community.device_count


def assert_nothing_written(world, before: tuple[int, int, int], buildings: int) -> None:
    community = world.community_a
    assert not Apartment.objects.filter(community=community, number__in=NUMBERS).exists()
    assert not Resident.objects.filter(first_name__startswith="First").exists()
    assert not Device.objects.filter(mac_address__mac__startswith="A1B2C").exists()
    assert community.buildings.count() == buildings
    assert counters(community) == before


def test_large_import_is_checked_and_written_by_the_worker(
    web, world, monkeypatch, smtp_server, task_log, celery_worker_real
):
    community = world.community_a
    before = counters(community)
    monkeypatch.setattr(resident_tasks, "EMAIL_BATCH", EMAIL_BATCH)

    # --- the check: the worker's progress on the page, then the preview ---
    gate = Gate(monkeypatch, "Checking the rows")
    job = upload(web, world, large_template())
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKING  # not checked inline
    assert gate.reached.wait(30), "the worker did not start checking"
    html, seen = wait_for_progress(web, job, "Checking the rows")
    gate.release.set()
    assert seen["total"] == ROWS and 0 < seen["percent"] < 100
    assert 'data-status="checking"' in html and 'data-testid="import-progress"' in html
    assert 'hx-trigger="every 1s"' in html  # the page keeps polling itself

    html = wait_for_status(web, job)
    assert job.status == ImportStatus.READY, job.errors[:5]
    assert job.total_rows == ROWS
    assert {kind: (entry["create"], entry["update"]) for kind, entry in job.summary} == {
        "buildings": (BUILDINGS, 0),
        "apartments": (ROWS, 0),
        "residents": (ROWS, 0),
        "devices": (DEVICES, 0),
    }
    assert "3,000 row(s) checked, no errors" in html and 'data-testid="confirm-import"' in html
    assert 'data-testid="create-devices">3,300<' in html
    assert importing.progress_of(job) is None
    assert_nothing_written(world, before, buildings=1)

    # --- the import: confirmed, written by the worker, its progress on the page again ---
    gate = Gate(monkeypatch, "Checking the rows")  # the import checks every row again, under locks
    response = web.post(reverse("devices:residentimport_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert gate.reached.wait(30), "the worker did not start the import"
    html, seen = wait_for_progress(web, job, "Checking the rows")
    gate.release.set()
    assert seen["total"] == ROWS and 0 < seen["percent"] < 100
    assert 'data-status="queued"' in html and "<strong>Importing</strong>" in html

    html = wait_for_status(web, job)
    assert job.status == ImportStatus.DONE, job.errors[:5]
    assert dict(job.result) == {
        "buildings created": BUILDINGS,
        "apartments created": ROWS,
        "residents created": ROWS,
        "devices created": DEVICES,
    }
    assert job.content == b"" and job.finished_at is not None
    assert 'data-testid="import-done"' in html and "Imported 3,000 row(s)" in html
    assert importing.progress_of(job) is None and cache.get(importing._progress_key(job)) is None

    # Every row is in the database, where the file put it, and the counters follow.
    apartments = Apartment.objects.filter(community=community, number__in=NUMBERS)
    assert apartments.count() == ROWS
    assert set(apartments.values_list("building__name", flat=True)) == {
        f"Block {b:02d}" for b in range(BUILDINGS)
    }
    masters = Resident.objects.filter(apartment__in=apartments, family_master__isnull=True)
    assert set(masters.values_list("apartment__number", "first_name", "last_name", "community")) == {
        (NUMBERS[i], f"First{i}", f"Last{i}", community.pk) for i in range(ROWS)
    }
    devices = Device.objects.filter(community=community, apartment__in=apartments)
    assert set(devices.values_list("mac_address__mac", "apartment__number", "device_type", "place")) == {
        (monitor_mac(i), NUMBERS[i], DeviceType.INDOOR_MONITOR, Place.APARTMENT) for i in range(ROWS)
    } | {
        (door_mac(i), NUMBERS[i], DeviceType.SINGLE_TENANT_DOOR_PHONE, Place.APARTMENT)
        for i in range(0, ROWS, DOOR_PHONE_EVERY)
    }
    assert Relay.objects.filter(device__in=devices, name="Relay1").count() == ROWS // DOOR_PHONE_EVERY
    assert counters(community) == (before[0] + ROWS, before[1] + ROWS, before[2] + DEVICES)

    # --- the account emails: fanned out by the worker in batches, one email each ---
    with_email = ROWS // EMAIL_EVERY
    smtp_server.wait_for(with_email, timeout=40)
    assert len(smtp_server.messages) == with_email
    fan_out = task_log.named("residents.tasks.send_resident_account_emails")
    assert len(fan_out) == 1 + with_email // EMAIL_BATCH + 1  # the whole list, then 50 + 50 + 20
    assert sorted(len(ids) for (ids,) in fan_out) == [20, 50, 50, with_email]
    assert len(task_log.named("residents.tasks.send_resident_account_email")) == with_email
    passwords = {}
    for envelope in smtp_server.messages:
        body = email.message_from_bytes(envelope.content, policy=policy.default).get_content()
        passwords[envelope.rcpt_tos[0]] = re.search(r"^Password:\s*(\S+)\s*$", body, re.MULTILINE).group(1)
    assert set(passwords) == {f"import.{i}@example.test" for i in range(0, ROWS, EMAIL_EVERY)}
    for resident in masters.exclude(email=""):
        assert check_password(passwords[resident.email], resident.app_password)
    no_email = masters.filter(email="").values_list("app_password", flat=True)
    assert not any(is_password_usable(p) for p in no_email)


def test_large_import_with_a_bad_row_is_rejected_by_the_worker_check(web, world, celery_worker_real):
    before, bad = counters(world.community_a), 1789
    job = upload(web, world, large_template(bad_row=bad))

    html = wait_for_status(web, job)
    assert job.status == ImportStatus.REJECTED
    assert job.errors == [
        [
            bad,
            "Device",
            f"“Living Room,2,{UNKNOWN_MAC}”: {UNKNOWN_MAC} is not in your MAC library. "
            "Add it in the MAC Library module first.",
        ]
    ]
    assert 'data-testid="import-rejected"' in html and "1 error(s) to correct" in html
    assert f"<td>{bad}</td><td>Device</td>" in html and 'data-testid="confirm-import"' not in html

    # Confirming it does nothing; nothing at all was written.
    web.post(reverse("devices:residentimport_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert_nothing_written(world, before, buildings=1)
    response = web.get(reverse("devices:residentimport_errors", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith(XLSX)


def test_row_gone_bad_after_the_check_rejects_the_workers_import(web, world, task_log, celery_worker_real):
    """Between the preview and the confirmation a MAC left the library: the worker's import
    checks every row again, writes nothing and leaves that row's error."""
    before = counters(world.community_a)
    job = upload(web, world, large_template())
    wait_for_status(web, job)
    assert job.status == ImportStatus.READY

    row = 2 + 2345
    MacAddress.objects.filter(mac=monitor_mac(2345)).delete()
    web.post(reverse("devices:residentimport_confirm", args=[job.pk]))
    html = wait_for_status(web, job)
    assert job.status == ImportStatus.REJECTED
    assert [(r, c) for r, c, _ in job.errors] == [(row, "Device")]
    assert f"{monitor_mac(2345)} is not in your MAC library" in job.errors[0][2]
    assert f"<td>{row}</td><td>Device</td>" in html and 'data-testid="download-errors"' in html
    assert job.content and job.finished_at is not None  # kept for the errors' download
    assert_nothing_written(world, before, buildings=1)
    assert not task_log.named("residents.tasks.send_resident_account_emails")
