"""Rent Manager writes: linking an installer (super manager), Sync now, and the scheduled sync.

The sync itself (rentmanager.sync) writes through the communities and residents services as the
connection's installer; here are the connection's own rows and the lock around a run.
"""

from __future__ import annotations

import datetime
import zoneinfo
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from smartplus import authz, roles

from . import locks
from .choices import Kind, Outcome, RunStatus
from .integrations.client import RentManagerClient, RentManagerError
from .locks import is_locked
from .models import Connection, PropertyRun, SyncedProperty, SyncProblem, SyncRun


def connection_check(*, base_url: str, username: str, password: str, location_id=None) -> list[dict]:
    """Test connection: sign in and list the properties, or a RentManagerError saying what failed
    (bad credentials, unreachable, no properties)."""
    client = RentManagerClient(
        base_url=base_url,
        username=username,
        password=password,
        location_id=location_id,
        timeout=settings.SMARTPLUS_RENTMANAGER_TIMEOUT,
        retries=1,
        backoff=settings.SMARTPLUS_RENTMANAGER_BACKOFF,
        page_size=settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE,
    )
    return client.test()


def _installer(actor, installer_id) -> User:
    installer = User.objects.filter(pk=installer_id, role=roles.INSTALLER).first()
    if installer is None:
        raise authz.NotFound
    return installer


@transaction.atomic
def connection_save(
    *,
    actor,
    installer,
    base_url: str,
    username: str,
    password: str = "",
    location_id: int | None = None,
    properties: list[tuple[int, str]],
) -> Connection:
    """Link (or re-link) an installer to Rent Manager with the picked properties (id, name). A
    blank password keeps the stored one. Properties no longer picked stop syncing; their
    communities stay."""
    authz.require_role(actor, roles.ADD, Connection)
    authz.require_role(actor, roles.CHANGE, Connection)
    installer = _installer(actor, getattr(installer, "pk", installer))
    connection = Connection.objects.select_for_update().filter(installer=installer).first()
    if connection is None:
        if not password:
            raise ValidationError({"password": _("Enter the API user's password.")})
        connection = Connection(installer=installer)
    connection.base_url, connection.username, connection.location_id = base_url, username, location_id
    if password:
        connection.set_password(password)
    if not properties:
        raise ValidationError({"properties": _("Pick at least one property to sync.")})
    connection.full_clean(exclude=["installer", "password_encrypted"])
    connection.save()
    picked = {int(rm_id): name for rm_id, name in properties}
    dropped = SyncedProperty.objects.filter(connection=connection).exclude(rm_id__in=list(picked))
    if connection.pk and dropped.exists():
        _refuse_while_syncing(connection, _("Properties can be unpicked once the running sync has ended."))
    dropped.delete()
    known = set(SyncedProperty.objects.filter(connection=connection).values_list("rm_id", flat=True))
    SyncedProperty.objects.bulk_create(
        SyncedProperty(connection=connection, rm_id=rm_id, name=name[:128])
        for rm_id, name in picked.items()
        if rm_id not in known
    )
    return connection


@transaction.atomic
def connection_delete(*, actor, connection: Connection) -> None:
    """Unlink: the sync stops; the communities it made stay the installer's."""
    current = authz.get_for_actor(Connection, actor, connection.pk, roles.DELETE, lock=True)
    _refuse_while_syncing(current, _("The installer can be unlinked once the running sync has ended."))
    current.delete()


def is_syncing(connection: Connection) -> bool:
    running = SyncRun.objects.filter(
        connection=connection, status__in=[RunStatus.PENDING, RunStatus.IN_PROGRESS]
    )
    return running.exists() or is_locked(connection.pk)


def _refuse_while_syncing(connection: Connection, message) -> None:
    """A property's links are written by the sync while it runs: deleting them then would leave
    the links it commits afterwards pointing at nothing."""
    if is_syncing(connection):
        raise ValidationError(message)


@transaction.atomic
def sync_now(*, actor, connection: Connection) -> SyncRun:
    """ "Sync now": a pending run, worked by a Celery task after the commit."""
    current = authz.get_for_actor(Connection, actor, connection.pk, "sync", lock=True)
    if is_syncing(current):
        raise ValidationError(_("A sync of this connection is already running; its result appears below."))
    run = SyncRun.objects.create(connection=current, trigger=f"Sync now by {actor.get_username()}"[:64])
    from .tasks import sync_connection_task

    transaction.on_commit(partial(sync_connection_task.delay, current.pk, run.pk))
    return run


def sync_run_locked(*, connection_id: int, run_id: int | None = None) -> SyncRun | None:
    """Run the sync unless another run of the connection holds the lock (then this run is marked
    skipped). The run keeps the lock until its last property ends. Safe to run twice: a twin
    finds the run started and does nothing."""
    from .sync import run_create, run_sync

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return None
    if run_id is None:
        run_id = run_create(connection=connection).pk
    token = locks.run_token(run_id)
    if not locks.take(connection_id, token) and locks.holder(connection_id) != token:
        SyncRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
            status=RunStatus.SKIPPED, finished_at=timezone.now()
        )
        return None
    try:
        run = run_sync(connection_id=connection_id, run_id=run_id)
    except BaseException:
        # Before any property was sent the lock is free again; after, the properties (or the
        # reconcile) end the run and give it back.
        if not PropertyRun.objects.filter(run_id=run_id).exists():
            locks.release(connection_id, token)
        raise
    if run.finished_at is not None:
        locks.release(connection_id, token)  # ended here, or by the reconcile before it started
    return run


def runs_reconcile(now: datetime.datetime | None = None) -> int:
    """End the runs in which nothing happened for SMARTPLUS_RENTMANAGER_LOCK_SECONDS (a lost
    message, a killed worker): no property started or finished, and none is being written. Their
    unfinished properties are failed, nothing of them having been written, and the next run syncs
    them. A run that never sent its properties is failed. Returns the number of runs ended."""
    from .sync import Log, run_finish

    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS)
    recent = Q(parts__started_at__gte=cutoff) | Q(parts__finished_at__gte=cutoff)
    stale = (
        SyncRun.objects.filter(
            status__in=[RunStatus.PENDING, RunStatus.IN_PROGRESS],
            finished_at__isnull=True,
            started_at__lt=cutoff,
        )
        .exclude(recent)
        .distinct()
    )
    ended = 0
    for run in stale.select_related("connection"):
        log_ = Log(run)
        with transaction.atomic():
            # A part being written holds its row: skipped here, it ends the run itself.
            lost = list(
                PropertyRun.objects.select_for_update(skip_locked=True)
                .filter(run=run, finished_at__isnull=True)
                .select_related("prop")
            )
            for part in lost:
                log_.not_synced(part.prop, "its task did not report in time")
            SyncProblem.objects.bulk_create(log_.problems)
            PropertyRun.objects.filter(pk__in=[p.pk for p in lost]).update(
                finished_at=timezone.now(), counts={Kind.PROPERTY: {Outcome.FAILED: 1}}
            )
        parts = PropertyRun.objects.filter(run=run)
        if parts.filter(finished_at__isnull=True).exists():
            continue
        if run.status == RunStatus.PENDING:
            failure = "The sync did not start in time."
        elif not parts.exists():
            failure = "The sync stopped before its properties were sent."
        else:
            failure = ""
        run_finish(run_id=run.pk, failure=failure)
        ended += 1
    return ended


def local_today(now: datetime.datetime | None = None) -> tuple[datetime.date, int]:
    zone = zoneinfo.ZoneInfo(settings.SMARTPLUS_RENTMANAGER_SYNC_TZ)
    local = (now or timezone.now()).astimezone(zone)
    return local.date(), local.hour


def due_connections(now: datetime.datetime | None = None) -> list[int]:
    """The connections whose daily sync is due, each claimed for today by a conditional UPDATE
    (so two beat wake-ups never both send it). Due: the local time in SMARTPLUS_RENTMANAGER_SYNC_TZ
    is at or past SMARTPLUS_RENTMANAGER_SYNC_HOUR and today's sync was not sent yet. On the day
    clocks spring forward, 02:00 does not exist and the 03:00 wake-up sends it; on the day they
    fall back, the date says it was sent already."""
    today, hour = local_today(now)
    if hour < settings.SMARTPLUS_RENTMANAGER_SYNC_HOUR:
        return []
    due = []
    candidates = Connection.objects.filter(enabled=True).filter(
        Q(last_scheduled_on__isnull=True) | Q(last_scheduled_on__lt=today)
    )
    for pk in candidates.values_list("pk", flat=True):
        claimed = (
            Connection.objects.filter(pk=pk)
            .filter(Q(last_scheduled_on__isnull=True) | Q(last_scheduled_on__lt=today))
            .update(last_scheduled_on=today)
        )
        if claimed:
            due.append(pk)
    return due


def sync_error_reason(exc: RentManagerError) -> str:
    return str(exc)


__all__ = ["PermissionDenied"]
