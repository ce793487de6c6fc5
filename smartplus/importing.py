"""The shared import machinery: upload → check (preview) → confirm → import, for every template.

An import kind is a concrete `ImportJob` model whose `importer` names a class with three methods:

- `read(job, progress) -> Sheet`: the stored file read with `smartplus.xlsx.read_sheet`;
- `check(job, sheet, progress) -> Checked`: every rule, nothing written; the preview and errors;
- `apply(job, sheet, progress) -> dict`: the same checks under the writers' locks, then the
  writes; raises `ImportRejected` (nothing written) when a row is bad by now.

`analyse` and `run` move a job through its statuses and are what the views call inline for
small files and the Celery tasks call for large ones. Each takes the job's row lock and acts only
from the status it expects, so a task delivered twice does nothing the second time. A run writes
its rows and its DONE status in one transaction: a worker lost half-way leaves nothing written
and the job still queued for the redelivered task.

Progress is advisory and lives in the cache (shared by web and workers) while a job works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from . import audit
from .models import ImportStatus
from .xlsx import RowError, Sheet

logger = logging.getLogger(__name__)

# Per kind, the preview lists this many items (the counts are always complete).
PREVIEW_ITEMS = 200
PROGRESS_TTL = 6 * 3600
# Shown on the import's page while no worker has taken the job (translated when shown).
WAITING = gettext_noop("Waiting for a worker")
UNEXPECTED = gettext_noop(
    "An unexpected error stopped the import; nothing was written. Try again, or contact support."
)


class ImportRejected(ValidationError):
    """An import with bad rows: nothing was written; `rows` says where and why."""

    def __init__(self, rows: list[RowError]):
        # By row only: the sort is stable, so each row keeps its importer's column order.
        self.rows = sorted(rows, key=lambda e: e.row)
        super().__init__([str(r) for r in self.rows])


@dataclass
class Checked:
    """What an import would do: per kind {"create": n, "update": n, "items": [...]}, and errors."""

    summary: dict = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


class Preview:
    """Collects the preview: counts per kind and action, and the first items of each kind."""

    def __init__(self, kinds: list[str]):
        self.summary = {kind: {"create": 0, "update": 0, "items": []} for kind in kinds}

    def shows(self, kind: str) -> bool:
        """Whether the next item of `kind` is listed (else only counted: its text may be "")."""
        return len(self.summary[kind]["items"]) < PREVIEW_ITEMS

    def add(self, kind: str, action: str, row: int, text: str) -> None:
        entry = self.summary[kind]
        entry[action] += 1
        if len(entry["items"]) < PREVIEW_ITEMS:
            entry["items"].append([row, action, text])


# --- progress ----------------------------------------------------------------------------------


def _progress_key(job) -> str:
    return f"import-progress:{job._meta.label_lower}:{job.pk}"


class Progress:
    """Reports "<phase>: done of total" to the cache; cheap enough to call per row."""

    def __init__(self, job):
        self.key = _progress_key(job)
        self.phase = ""
        self.total = 0
        self._last = -1

    def __call__(self, done: int, *, phase: str | None = None, total: int | None = None) -> None:
        if phase is not None or total is not None:
            self.phase = phase if phase is not None else self.phase
            self.total = total if total is not None else self.total
            self._last = -1
        step = max(1, self.total // 50) if self.total else 1000
        if done - self._last < step and done != self.total:
            return
        self._last = done
        cache.set(self.key, {"phase": self.phase, "done": done, "total": self.total}, PROGRESS_TTL)


def progress_of(job) -> dict | None:
    """{"phase", "done", "total", "percent"} while the job works, else None."""
    if not job.in_progress:
        return None
    state = cache.get(_progress_key(job)) or {"phase": WAITING, "done": 0, "total": 0}
    total = state["total"]
    state["percent"] = int(100 * state["done"] / total) if total else 0
    return state


# --- the stored file ---------------------------------------------------------------------------


def stored_file(job) -> ContentFile:
    """The uploaded bytes as a file with the uploaded name (the reader checks both)."""
    content = bytes(job.content)
    return ContentFile(content, name=job.file_name)


def importer_for(job):
    return import_string(type(job).importer)()


# --- starting ----------------------------------------------------------------------------------


def start(model, *, request, upload, **fields):
    """A new job for an upload that passed the package checks; checked now or by a worker."""
    content = upload.read()
    job = model.objects.create(
        # Under django-hijack request.user is the installer acted as; the real login is real_user.
        user=getattr(request, "real_user", request.user),
        actor=request.actor,
        file_name=(upload.name or "upload.xlsx")[-255:],
        file_size=len(content),
        content=content,
        status=ImportStatus.CHECKING,
        **fields,
    )
    _dispatch("analyse", job)
    return job


def confirm(job) -> bool:
    """READY → QUEUED, then imported now or by a worker. False if the job was not ready."""
    with transaction.atomic():
        updated = (
            type(job).objects.filter(pk=job.pk, status=ImportStatus.READY).update(status=ImportStatus.QUEUED)
        )
    if updated:
        job.status = ImportStatus.QUEUED
        _dispatch("run", job)
    return bool(updated)


def runs_inline(job) -> bool:
    return job.file_size <= settings.SMARTPLUS_IMPORT_INLINE_BYTES


def _dispatch(step: str, job) -> None:
    label = job._meta.label_lower
    if runs_inline(job):
        (analyse if step == "analyse" else run)(label, job.pk)
        job.refresh_from_db()
        return
    from .tasks import analyse_import_task, run_import_task

    task = analyse_import_task if step == "analyse" else run_import_task
    cache.set(_progress_key(job), {"phase": WAITING, "done": 0, "total": 0}, PROGRESS_TTL)
    transaction.on_commit(partial(task.delay, label, job.pk))


# --- the two steps -----------------------------------------------------------------------------


def _claim(model, job_id: int, status: str):
    """The job, row-locked, if it is in `status` and no other worker holds it; else None."""
    return model.objects.select_for_update(skip_locked=True).filter(pk=job_id, status=status).first()


def _as_errors(exc: ValidationError) -> list[RowError]:
    if isinstance(exc, ImportRejected):
        return exc.rows
    return [RowError(0, "", message) for message in exc.messages]


def _audit_context(job):
    user, actor = job.user, job.actor
    if user is None:
        return None
    return audit.AuditContext(
        user.pk, user.get_username(), actor.pk if actor else None, actor.get_username() if actor else ""
    )


def analyse(label: str, job_id: int) -> None:
    """CHECKING → READY (the preview) or REJECTED (the errors). Writes nothing else."""
    model = apps.get_model(label)
    with transaction.atomic():
        job = _claim(model, job_id, ImportStatus.CHECKING)
        if job is None:
            return
        progress = Progress(job)
        importer = importer_for(job)
        try:
            with transaction.atomic():
                sheet = importer.read(job, progress)
                checked = importer.check(job, sheet, progress)
        except ValidationError as exc:
            job.errors, job.summary = _rows(_as_errors(exc)), []
            job.status = ImportStatus.REJECTED
        except Exception:
            logger.exception("Checking %s %s failed", label, job_id)
            job.errors, job.status = _rows([RowError(0, "", UNEXPECTED)]), ImportStatus.FAILED
        else:
            job.total_rows = len(sheet.rows)
            # Lists keep the kinds' order (PostgreSQL's jsonb reorders an object's keys).
            job.summary = [[kind, entry] for kind, entry in checked.summary.items()]
            job.errors = _rows(checked.errors)
            job.status = ImportStatus.REJECTED if checked.errors else ImportStatus.READY
        job.save(update_fields=["status", "total_rows", "summary", "errors", "modified"])
    cache.delete(_progress_key(job))


def run(label: str, job_id: int) -> None:
    """QUEUED → DONE with every row written, or REJECTED with nothing written."""
    model = apps.get_model(label)
    try:
        with transaction.atomic():
            job = _claim(model, job_id, ImportStatus.QUEUED)
            if job is None:
                return
            progress = Progress(job)
            importer = importer_for(job)
            token = audit.audit_context.set(_audit_context(job))
            try:
                sheet = importer.read(job, progress)
                with transaction.atomic(), audit.change_set():  # one import, one change set
                    job.result = list(importer.apply(job, sheet, progress).items())
            except ValidationError as exc:
                job.errors, job.status = _rows(_as_errors(exc)), ImportStatus.REJECTED
            else:
                job.status, job.errors, job.content = ImportStatus.DONE, [], b""
            finally:
                audit.audit_context.reset(token)
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "errors", "result", "content", "finished_at", "modified"])
    except Exception:
        logger.exception("Import %s %s failed", label, job_id)
        failed = _rows([RowError(0, "", UNEXPECTED)])
        model.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.FAILED, errors=failed, finished_at=timezone.now()
        )
    finally:
        cache.delete(f"import-progress:{label}:{job_id}")


# --- housekeeping ------------------------------------------------------------------------------


def purge(*, days: int) -> dict[str, int]:
    """Delete the imports never imported (rejected, failed, or never confirmed) uploaded more than
    `days` ago, with the files they hold; done imports stay, their files already emptied.
    {kind: count deleted}."""
    from .models import ImportJob

    before = timezone.now() - timedelta(days=days)
    deleted = {}
    for model in apps.get_models():
        if issubclass(model, ImportJob):
            _, counts = model.objects.filter(created__lt=before).exclude(status=ImportStatus.DONE).delete()
            deleted[str(model._meta.verbose_name_plural)] = counts.get(model._meta.label, 0)
    return deleted


def _rows(errors: list[RowError]) -> list[list]:
    return [[e.row, e.column, e.reason] for e in sorted(errors, key=lambda e: e.row)]


def row_errors(job) -> list[RowError]:
    return [RowError(row, column, reason) for row, column, reason in job.errors]


def error_workbook(job) -> bytes:
    """The uploaded file with an added "Error" column (the errors' download)."""
    from .xlsx import with_error_column

    return with_error_column(bytes(job.content), row_errors(job))


def read_stored(job, *, columns, required, max_rows, template, progress) -> Sheet:
    """The importers' `read`: the stored upload through the hardened reader."""
    from .xlsx import read_sheet

    progress(0, phase=gettext_noop("Reading the file"), total=0)
    return read_sheet(
        stored_file(job),
        columns=columns,
        required=required,
        max_rows=max_rows,
        template=template,
        progress=lambda n: progress(n),
    )
