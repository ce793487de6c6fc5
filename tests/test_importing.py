"""The shared import machinery (smartplus.importing, smartplus.tasks, smartplus.views.imports),
with the MAC template as the example kind: each step acts once, a failure writes nothing, progress
shows while a job works, large files go through Celery, and the audit names the uploader.

The MAC rules themselves are tested in tests/maclib; the file checks in tests/imports.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from maclib.imports import MacImporter
from maclib.models import MacAddress, MacImport
from smartplus import importing
from smartplus.models import AuditLog, ImportStatus
from smartplus.tasks import analyse_import_task, run_import_task
from smartplus.xlsx import RowError
from tests.maclib.workbooks import mac_file, upload

pytestmark = pytest.mark.django_db

LABEL = "maclib.macimport"
HTMX = {"HTTP_HX_REQUEST": "true"}
MACS = ("0C1105FA0001", "0C1105FA0002", "0C1105FA0003")
IMPORT_ENTRY = "MAC library import: 3 MAC(s)"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # Progress lives in the cache; the test Redis is shared (and flushed) by parallel runs.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "importing"}
    }


def started(world, *, user=None, actor=None, macs=MACS) -> MacImport:
    actor = actor or world.installer_a
    request = SimpleNamespace(user=user or actor, actor=actor)
    return importing.start(
        MacImport, request=request, upload=upload(mac_file(*macs)), installer=world.installer_a
    )


def queued(world, **kwargs) -> MacImport:
    """A checked job, confirmed, whose run has not happened yet."""
    job = started(world, **kwargs)
    assert job.status == ImportStatus.READY
    MacImport.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    job.refresh_from_db()
    return job


def added() -> set[str]:
    return set(MacAddress.objects.filter(mac__in=MACS).values_list("mac", flat=True))


def import_entries():
    return AuditLog.objects.filter(object_repr=IMPORT_ENTRY)


def reload(job: MacImport) -> MacImport:
    job.refresh_from_db()
    return job


def page(client, job: MacImport) -> str:
    return client.get(reverse("maclib:macimport_detail", args=[job.pk])).content.decode()


def status_block(client, job: MacImport) -> str:
    url = reverse("maclib:macimport_detail", args=[job.pk]) + "?status=1"
    return client.get(url, **HTMX).content.decode()


# --- each step acts once --------------------------------------------------------------------------


def test_analyse_of_a_checked_job_does_nothing(world, monkeypatch):
    job = started(world)
    assert job.status == ImportStatus.READY
    before = (job.status, job.summary, job.errors, job.total_rows, job.modified)
    checks = []
    monkeypatch.setattr(MacImporter, "check", lambda *args: checks.append(args))
    importing.analyse(LABEL, job.pk)
    analyse_import_task.delay(LABEL, job.pk)  # a task delivered twice
    assert checks == []
    job = reload(job)
    assert (job.status, job.summary, job.errors, job.total_rows, job.modified) == before


def test_analyse_twice_checks_once(world, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = 0
    with django_capture_on_commit_callbacks(execute=False):
        job = started(world)  # left waiting for a worker
    assert job.status == ImportStatus.CHECKING
    checks = []
    check = MacImporter.check
    monkeypatch.setattr(MacImporter, "check", lambda self, *args: checks.append(1) or check(self, *args))
    importing.analyse(LABEL, job.pk)
    importing.analyse(LABEL, job.pk)
    assert checks == [1]
    assert reload(job).status == ImportStatus.READY


def test_run_twice_writes_once(world):
    job = queued(world)
    importing.run(LABEL, job.pk)
    job = reload(job)
    assert job.status == ImportStatus.DONE and job.result == [["MACs added", 3]]
    finished = job.finished_at
    importing.run(LABEL, job.pk)
    run_import_task.delay(LABEL, job.pk)  # a task delivered twice
    assert added() == set(MACS)
    assert MacAddress.objects.filter(mac__in=MACS).count() == 3
    assert import_entries().count() == 1
    job = reload(job)
    assert (job.status, job.result, job.finished_at) == (ImportStatus.DONE, [["MACs added", 3]], finished)


def test_a_job_not_yet_confirmed_is_not_run(world):
    job = started(world)
    importing.run(LABEL, job.pk)
    assert reload(job).status == ImportStatus.READY
    assert added() == set()


def test_a_job_that_no_longer_exists_is_skipped(world):
    job = queued(world)
    MacImport.objects.filter(pk=job.pk).delete()
    importing.run(LABEL, job.pk)
    importing.analyse(LABEL, job.pk)
    assert added() == set()


# --- failures write nothing -----------------------------------------------------------------------


def test_an_unexpected_error_in_the_run_fails_the_job_and_writes_nothing(world, client, monkeypatch):
    apply = MacImporter.apply

    def apply_then_crash(self, job, sheet, progress):
        apply(self, job, sheet, progress)  # the rows are written ...
        raise RuntimeError("worker bug")  # ... and then something unforeseen happens

    monkeypatch.setattr(MacImporter, "apply", apply_then_crash)
    client.force_login(world.installer_a)
    job = started(world)
    response = client.post(reverse("maclib:macimport_confirm", args=[job.pk]))
    assert response.status_code == 302
    job = reload(job)
    assert job.status == ImportStatus.FAILED
    assert job.errors == [[0, "", importing.UNEXPECTED]]
    assert job.finished_at is not None
    assert added() == set() and not import_entries().exists()
    body = page(client, job)
    assert 'data-status="failed"' in body
    assert "The import failed; nothing was written." in body
    assert importing.UNEXPECTED in body
    assert 'data-testid="confirm-import"' not in body


def test_an_unexpected_error_in_the_check_fails_the_job(world, client, monkeypatch):
    def crash(self, job, sheet, progress):
        raise RuntimeError("checker bug")

    monkeypatch.setattr(MacImporter, "check", crash)
    job = started(world)
    assert job.status == ImportStatus.FAILED
    assert job.errors == [[0, "", importing.UNEXPECTED]]
    assert not importing.confirm(job)
    client.force_login(world.installer_a)
    assert "The import failed; nothing was written." in page(client, job)


def test_a_run_whose_rows_went_bad_is_rejected_with_its_errors_and_writes_nothing(world, monkeypatch):
    apply = MacImporter.apply
    late = [RowError(3, "MAC", "0C1105FA0002 was taken meanwhile."), RowError(2, "MAC", "also bad")]

    def apply_then_reject(self, job, sheet, progress):
        apply(self, job, sheet, progress)
        raise importing.ImportRejected(late)

    monkeypatch.setattr(MacImporter, "apply", apply_then_reject)
    job = queued(world)
    uploaded = bytes(job.content)  # not a new mac_file(): its zip entries carry the time made
    importing.run(LABEL, job.pk)
    job = reload(job)
    assert job.status == ImportStatus.REJECTED
    assert job.errors == [[2, "MAC", "also bad"], [3, "MAC", "0C1105FA0002 was taken meanwhile."]]
    assert job.result == [] and job.finished_at is not None
    assert added() == set() and not import_entries().exists()
    # The file is kept: its errors can be downloaded.
    assert uploaded and bytes(job.content) == uploaded


def test_the_file_is_emptied_once_done_and_has_no_errors_download(world, client):
    client.force_login(world.installer_a)
    job = started(world)
    assert bytes(job.content) == mac_file(*MACS) and job.file_size == len(job.content)
    client.post(reverse("maclib:macimport_confirm", args=[job.pk]))
    job = reload(job)
    assert job.status == ImportStatus.DONE
    assert bytes(job.content) == b""
    assert client.get(reverse("maclib:macimport_errors", args=[job.pk])).status_code == 404
    assert reverse("maclib:macimport_errors", args=[job.pk]) not in page(client, job)


# --- progress -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ImportStatus.CHECKING, ImportStatus.QUEUED])
def test_progress_is_reported_while_the_job_works(world, client, status):
    job = started(world)
    MacImport.objects.filter(pk=job.pk).update(status=status)
    job = reload(job)
    assert importing.progress_of(job) == {
        "phase": "Waiting for a worker",
        "done": 0,
        "total": 0,
        "percent": 0,
    }
    progress = importing.Progress(job)
    progress(0, phase="Checking the MACs", total=40)
    progress(10)
    assert importing.progress_of(job) == {
        "phase": "Checking the MACs",
        "done": 10,
        "total": 40,
        "percent": 25,
    }
    client.force_login(world.installer_a)
    block = status_block(client, job)
    assert block.lstrip().startswith('<div id="import-status"')
    assert 'hx-trigger="every 1s"' in block
    assert "Checking the MACs: 10 of 40 rows" in block
    assert 'aria-valuenow="25"' in block and "<html" not in block


@pytest.mark.parametrize("status", [ImportStatus.READY, ImportStatus.REJECTED, ImportStatus.DONE])
def test_progress_is_none_once_the_job_stopped_working(world, client, status):
    job = started(world)
    importing.Progress(job)(5, phase="Checking the MACs", total=10)
    MacImport.objects.filter(pk=job.pk).update(status=status)
    job = reload(job)
    assert importing.progress_of(job) is None
    client.force_login(world.installer_a)
    block = status_block(client, job)
    assert "hx-trigger" not in block and 'data-testid="import-progress"' not in block


def test_the_steps_leave_no_progress_behind(world):
    job = queued(world)
    importing.Progress(job)(1, phase="Adding the MACs", total=3)
    importing.run(LABEL, job.pk)
    from django.core.cache import cache

    assert cache.get(f"import-progress:{LABEL}:{job.pk}") is None


# --- large files: through Celery, after the commit ---------------------------------------------------


def test_a_large_file_is_checked_and_imported_by_the_tasks_after_the_commit(
    world, client, settings, django_capture_on_commit_callbacks
):
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = 0
    client.force_login(world.installer_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("maclib:mac_import"), {"file": upload(mac_file(*MACS))})
        job = MacImport.objects.get()
        # Answered before the check: the page shows the job waiting for a worker.
        assert response["Location"] == reverse("maclib:macimport_detail", args=[job.pk])
        assert job.status == ImportStatus.CHECKING
        assert "Waiting for a worker" in page(client, job)
    assert [(c.func, c.args) for c in callbacks] == [(analyse_import_task.delay, (LABEL, job.pk))]
    job = reload(job)
    assert job.status == ImportStatus.READY and job.summary[0][1]["create"] == 3

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("maclib:macimport_confirm", args=[job.pk]))
        assert reload(job).status == ImportStatus.QUEUED and added() == set()
    assert [(c.func, c.args) for c in callbacks] == [(run_import_task.delay, (LABEL, job.pk))]
    job = reload(job)
    assert job.status == ImportStatus.DONE and job.result == [["MACs added", 3]]
    assert added() == set(MACS)


def test_a_file_at_the_inline_size_is_checked_in_the_request(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = len(mac_file(*MACS))
    with django_capture_on_commit_callbacks() as callbacks:
        job = started(world)
    assert job.status == ImportStatus.READY and callbacks == []


# --- the audit names the uploader ------------------------------------------------------------------


def test_the_audit_entry_names_the_uploader_when_run_outside_a_request(world):
    job = queued(world, user=world.distributor_a, actor=world.installer_a)
    importing.run(LABEL, job.pk)
    (entry,) = import_entries()
    assert (entry.user, entry.user_name) == (world.distributor_a, "dist_a")
    assert (entry.actor, entry.actor_name) == (world.installer_a, "inst_a")
    assert entry.installer == world.installer_a


def test_the_audit_entry_names_the_acting_distributor_also_when_the_task_runs_it(
    granted_world, client, settings, django_capture_on_commit_callbacks
):
    world = granted_world
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = 0
    client.force_login(world.distributor_a)
    client.post(reverse("hijack:acquire"), {"user_pk": world.installer_a.pk})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("maclib:mac_import"), {"file": upload(mac_file(*MACS))})
    job = MacImport.objects.get()
    assert (job.user, job.actor, job.installer) == (world.distributor_a, world.installer_a, world.installer_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("maclib:macimport_confirm", args=[job.pk]))
    assert reload(job).status == ImportStatus.DONE
    (entry,) = import_entries()
    assert (entry.user, entry.actor) == (world.distributor_a, world.installer_a)
    assert (entry.user_name, entry.actor_name) == ("dist_a", "inst_a")


def test_the_audit_entry_names_the_uploader_when_run_in_the_request(world, client):
    client.force_login(world.sub_a)
    client.post(reverse("maclib:mac_import"), {"file": upload(mac_file(*MACS))})
    job = MacImport.objects.get()
    client.post(reverse("maclib:macimport_confirm", args=[job.pk]))
    (entry,) = import_entries()
    assert (entry.user, entry.actor, entry.installer) == (world.sub_a, world.sub_a, world.installer_a)


# --- housekeeping ---------------------------------------------------------------------------------


def test_purge_deletes_old_imports_never_imported_and_keeps_the_rest(world):
    def aged(job, days, status):
        MacImport.objects.filter(pk=job.pk).update(
            created=timezone.now() - timedelta(days=days), status=status
        )
        return job.pk

    old_ready = aged(started(world), 8, ImportStatus.READY)
    old_rejected = aged(started(world), 8, ImportStatus.REJECTED)
    old_done = aged(started(world), 30, ImportStatus.DONE)
    recent_rejected = aged(started(world), 6, ImportStatus.REJECTED)

    out = StringIO()
    call_command("purge_imports", "--days", "7", stdout=out)

    assert set(MacImport.objects.values_list("pk", flat=True)) == {old_done, recent_rejected}
    assert not MacImport.objects.filter(pk__in=[old_ready, old_rejected]).exists()
    assert "MAC imports: 2 deleted" in out.getvalue()
