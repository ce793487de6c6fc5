"""Firmware upgrades: create, edit while Pending, delete, and their execution per device.

Execution is a state machine on `UpgradeOperation` rows, driven by thin Celery tasks that take
ids: beat finds due upgrades, a dispatch fans the operations out in chunks, each operation
queues an upgrade command for its device and waits for the device to report the new version.
Every step acts only on rows still in the state it expects, so running it twice is harmless.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from devices import liveness
from devices.choices import CommandKind, CommandStatus
from devices.models import Device, DeviceCommand
from maclib.models import MacAddress
from smartplus import authz, roles
from smartplus.scoping import tenant_installer_id

from . import links, selectors
from .choices import FINAL_OPERATION_STATUSES, OperationStatus, Timing, UpgradeStatus
from .models import Firmware, FirmwareUpgrade, UpgradeOperation
from .versions import is_downgrade

CHUNK = 200  # operations started by one task
FAILED_RETRY_BASE = 30  # seconds before a failed attempt is tried again (doubles, with jitter)


# --- scheduling helpers ------------------------------------------------------------------------


def visibility_timeout() -> int:
    return int(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))


def backoff(base: float, attempt: int) -> float:
    """base·2^(attempt-1) plus up to 10% jitter, kept below the broker's visibility timeout: a
    countdown past it would have the task delivered twice."""
    delay = base * 2 ** max(attempt - 1, 0)
    delay += random.uniform(0, delay * 0.1)
    return min(delay, visibility_timeout() * 0.9)


def _on_commit(task, *args, countdown: float | None = None) -> None:
    from smartplus.celery import enqueue

    transaction.on_commit(partial(enqueue, task, *args, countdown=countdown))


# --- Add / Edit / Delete -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceMatch:
    """ "Select all matching": every device of the firmware's model that the Add Upgrade page's
    search finds, resolved by the service at save time (the form posts no id list). With
    `kept_from`, an Edit keeps its upgrade's devices (those still the actor's, of the model)."""

    search: str = ""
    kept_from: int | None = None


def _selection(*, actor, firmware: Firmware, devices, match: DeviceMatch | None):
    """The chosen devices as a queryset of the actor's devices of the firmware's model.

    Explicit devices are authorized one by one (another tenant's device is not found, never named
    nor counted); "all matching" runs the page's filter again from `for_actor`."""
    authz.authorize(actor, roles.VIEW, firmware)
    if match is not None:
        authz.require_role(actor, roles.CHANGE, Device)
        selection = selectors.upgrade_devices(actor=actor, model=firmware.model, search=match.search)
        if match.kept_from is not None:
            selection = selection.filter(upgrade_operations__upgrade_id=match.kept_from)
        return selection.order_by()
    chosen = {d.pk: d for d in (devices or [])}
    authz.get_many_for_actor(Device, actor, set(chosen))
    selection = selectors.upgrade_devices(actor=actor, model=firmware.model).filter(pk__in=list(chosen))
    found = set(selection.values_list("pk", flat=True))
    if len(found) != len(chosen):
        named = ", ".join([d.name for pk, d in chosen.items() if pk not in found][:5])
        raise ValidationError(
            {
                "devices": [
                    gettext("Not a %(model)s of your communities: %(names)s.")
                    % {"model": firmware.model, "names": named}
                ]
            }
        )
    return selection.order_by()


def _when(timing: str, scheduled_at):
    now = timezone.now()
    if timing == Timing.NOW:
        return now
    if scheduled_at is None:
        raise ValidationError({"scheduled_at": [_("Choose the date and time of the upgrade.")]})
    if scheduled_at <= now:
        raise ValidationError({"scheduled_at": [_("Choose a time in the future, or Upgrade now.")]})
    return scheduled_at


def _targets(actor, firmware, devices, match, timing, scheduled_at):
    """The selection and the time, their refusals reported together (one message per field)."""
    errors: dict[str, list[str]] = {}
    selection = when = None
    try:
        selection = _selection(actor=actor, firmware=firmware, devices=devices, match=match)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        when = _when(timing, scheduled_at)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return selection, when


def downgrade_count(selection, firmware: Firmware) -> int:
    """How many of the selected devices run a newer version than the firmware (one query)."""
    versions = selection.values("firmware_version").annotate(n=Count("pk")).order_by()
    return sum(row["n"] for row in versions if is_downgrade(row["firmware_version"], firmware.version))


def _check(*, firmware: Firmware, selection, allow_downgrade: bool, upgrade: FirmwareUpgrade | None) -> int:
    """The upgrade's rules on its devices, in a fixed number of queries whatever their number.
    Returns how many devices are selected."""
    if not firmware.model:
        raise ValidationError({"firmware": [_("This firmware names no known model.")]})
    count = selection.count()
    if not count:
        raise ValidationError({"devices": [_("Select at least one device.")]})
    pending = _pending_elsewhere(selection, upgrade)
    if pending:
        raise ValidationError({"devices": [pending]})
    downgrades = downgrade_count(selection, firmware)
    if downgrades and not allow_downgrade:
        raise ValidationError(
            {
                "confirm_downgrade": [
                    gettext(
                        "%(downgrades)s of the %(count)s selected device(s) run a newer version than "
                        "%(version)s: the upgrade would downgrade them. Tick the confirmation "
                        "to downgrade them, or change the selection."
                    )
                    % {"downgrades": downgrades, "count": count, "version": firmware.version}
                ]
            },
            code="downgrade",
        )
    return count


def _pending_elsewhere(selection, upgrade: FirmwareUpgrade | None) -> str:
    """Why some selected devices cannot be added: they wait in another Pending upgrade (a device is
    in at most one Pending operation: the `operation_one_pending_per_device` constraint)."""
    others = UpgradeOperation.objects.filter(
        status=OperationStatus.PENDING, device_id__in=selection.values("pk")
    ).select_related("upgrade__firmware")
    if upgrade is not None:
        others = others.exclude(upgrade_id=upgrade.pk)
    first = list(others.order_by("device_name", "pk")[:5])
    if not first:
        return ""
    total = others.count() if len(first) == 5 else len(first)
    names = ", ".join(f"{op.device_name} ({op.upgrade.firmware.version})" for op in first)
    more = gettext(" and %(n)s more") % {"n": total - len(first)} if total > len(first) else ""
    return gettext(
        "%(total)s selected device(s) already wait in another Pending upgrade: %(names)s%(more)s. "
        "Remove them from that upgrade (or delete it) first, or leave them out."
    ) % {"total": total, "names": names, "more": more}


def _insert_operations(upgrade: FirmwareUpgrade, selection) -> None:
    """One INSERT … SELECT of the selected devices not yet in the upgrade: no row goes through
    Python, so 10,000 devices cost what 10 do. The partial unique constraint refuses a device
    that another save made Pending meanwhile; that is reported like the check above."""
    op, device, mac = UpgradeOperation._meta.db_table, Device._meta.db_table, MacAddress._meta.db_table
    chosen, params = selection.values("pk").query.sql_with_params()
    sql = (
        f"INSERT INTO {op} "
        "(upgrade_id, device_id, device_name, mac, status, reason, version_before, attempts) "
        f"SELECT %s, d.id, d.name, COALESCE(m.mac, ''), %s, '', '', 0 FROM {device} d "
        f"LEFT JOIN {mac} m ON m.id = d.mac_address_id "
        f"WHERE d.id IN ({chosen}) "
        f"AND NOT EXISTS (SELECT 1 FROM {op} o WHERE o.upgrade_id = %s AND o.device_id = d.id)"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [upgrade.pk, OperationStatus.PENDING, *params, upgrade.pk])
    except IntegrityError as exc:
        reason = _pending_elsewhere(selection, upgrade) or gettext(
            "Another upgrade took some of these devices."
        )
        raise ValidationError({"devices": [reason]}) from exc


def _dispatch_if_due(upgrade: FirmwareUpgrade) -> None:
    if upgrade.scheduled_at <= timezone.now():
        from .tasks import upgrade_dispatch_task

        _on_commit(upgrade_dispatch_task, upgrade.pk)


@transaction.atomic
def upgrade_create(
    *,
    actor,
    firmware: Firmware,
    devices=None,
    match: DeviceMatch | None = None,
    timing: str,
    scheduled_at=None,
    reset_after_upgrade: bool = False,
    allow_downgrade: bool = False,
) -> FirmwareUpgrade:
    """Add Upgrade of explicit `devices`, or of every device the `match` finds."""
    # Created in the actor's own tenant: no tenant object but the firmware and devices is given.
    authz.require_role(actor, roles.ADD, FirmwareUpgrade)
    selection, when = _targets(actor, firmware, devices, match, timing, scheduled_at)
    _check(firmware=firmware, selection=selection, allow_downgrade=allow_downgrade, upgrade=None)
    upgrade = FirmwareUpgrade.objects.create(
        installer_id=tenant_installer_id(actor),
        firmware=firmware,
        model=firmware.model,
        scheduled_at=when,
        reset_after_upgrade=reset_after_upgrade,
        created_by=actor,
    )
    _insert_operations(upgrade, selection)
    _dispatch_if_due(upgrade)
    return upgrade


@transaction.atomic
def upgrade_update(
    *,
    actor,
    upgrade: FirmwareUpgrade,
    firmware: Firmware,
    devices=None,
    match: DeviceMatch | None = None,
    timing: str,
    scheduled_at=None,
    reset_after_upgrade: bool = False,
    allow_downgrade: bool = False,
) -> FirmwareUpgrade:
    """Edit while Pending: the devices, firmware, timing and reset may all change."""
    upgrade = authz.get_for_actor(FirmwareUpgrade, actor, upgrade.pk, roles.CHANGE, lock=True)
    if upgrade.status != UpgradeStatus.PENDING:
        authz.authorize(actor, roles.VIEW, firmware)
        raise ValidationError(_("This upgrade has started; only a Pending upgrade can be edited."))
    selection, when = _targets(actor, firmware, devices, match, timing, scheduled_at)
    _check(firmware=firmware, selection=selection, allow_downgrade=allow_downgrade, upgrade=upgrade)
    upgrade.firmware, upgrade.model = firmware, firmware.model
    upgrade.scheduled_at, upgrade.reset_after_upgrade = when, reset_after_upgrade
    upgrade.save()
    upgrade.operations.exclude(device_id__in=selection.values("pk")).delete()
    _insert_operations(upgrade, selection)
    _dispatch_if_due(upgrade)
    return upgrade


@transaction.atomic
def upgrade_delete(*, actor, upgrade: FirmwareUpgrade) -> None:
    """Delete the record; what has not started is cancelled (a command a device has already
    collected runs to its end on the device, and stays on the device's page)."""
    authz.authorize(actor, roles.DELETE, upgrade)
    # Operations first, then the upgrade: the order a device's report takes, so the two never
    # wait on each other.
    list(
        UpgradeOperation.objects.select_for_update()
        .filter(upgrade_id=upgrade.pk)
        .values_list("pk", flat=True)
    )
    upgrade = FirmwareUpgrade.objects.select_for_update().get(pk=upgrade.pk)
    commands = upgrade.operations.filter(command__isnull=False).values("command_id")
    DeviceCommand.objects.filter(pk__in=commands, status=CommandStatus.QUEUED).update(
        status=CommandStatus.CANCELLED, finished_at=timezone.now(), message="The upgrade was deleted."
    )
    upgrade.delete()


def upgrade_counts(upgrade: FirmwareUpgrade) -> dict[str, int]:
    """How many operations are in each status (the detail page's summary)."""
    from django.db.models import Count

    rows = upgrade.operations.values("status").annotate(n=Count("pk"))
    return {r["status"]: r["n"] for r in rows}


# --- execution -----------------------------------------------------------------------------------


def upgrades_due() -> list[int]:
    return list(
        FirmwareUpgrade.objects.filter(status=UpgradeStatus.PENDING, scheduled_at__lte=timezone.now())
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )


def upgrade_dispatch(*, upgrade_id: int) -> list[list[int]]:
    """Start a due upgrade: Pending → Processing. Returns the chunks of operation ids still to
    start (none when the upgrade is not due, gone, or already Executed)."""
    now = timezone.now()
    with transaction.atomic():
        upgrade = FirmwareUpgrade.objects.select_for_update().filter(pk=upgrade_id).first()
        if upgrade is None or upgrade.status == UpgradeStatus.EXECUTED:
            return []
        if upgrade.status == UpgradeStatus.PENDING:
            if upgrade.scheduled_at > now:
                return []  # edited to a later time after beat picked it
            upgrade.status, upgrade.started_at = UpgradeStatus.PROCESSING, now
            upgrade.save(update_fields=["status", "started_at", "modified"])
        ids = list(
            upgrade.operations.filter(status=OperationStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            _refresh_upgrade(upgrade_id)
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _final(op: UpgradeOperation, status: str, reason: str = "", now=None) -> None:
    op.status, op.reason, op.finished_at = status, reason[:255], now or timezone.now()
    op.deadline = None


def _refresh_upgrade(upgrade_id: int) -> None:
    """Executed once every operation is final (a conditional update: safe to repeat).

    Called inside the transaction that made an operation final. The upgrade's row lock orders
    two devices reporting at once: without it each would still see the other's operation open
    (not yet committed) and neither would mark the upgrade Executed.
    """
    locked = FirmwareUpgrade.objects.select_for_update().filter(
        pk=upgrade_id, status=UpgradeStatus.PROCESSING
    )
    if not locked.exists():
        return
    open_ops = UpgradeOperation.objects.filter(upgrade_id=upgrade_id).exclude(
        status__in=FINAL_OPERATION_STATUSES
    )
    if not open_ops.exists():
        FirmwareUpgrade.objects.filter(pk=upgrade_id, status=UpgradeStatus.PROCESSING).update(
            status=UpgradeStatus.EXECUTED, executed_at=timezone.now(), modified=timezone.now()
        )


def _command(op: UpgradeOperation) -> DeviceCommand:
    firmware = op.upgrade.firmware
    return DeviceCommand(
        device_id=op.device_id,
        kind=CommandKind.UPGRADE,
        requested_by_id=op.upgrade.created_by_id,
        payload={
            "version": firmware.version,
            "url": links.download_url(firmware.pk),
            "sha256": firmware.sha256,
            "size": firmware.size,
            "reset_after_upgrade": op.upgrade.reset_after_upgrade,
        },
    )


def _launch(ops: list[UpgradeOperation], now, *, starting: bool = False) -> None:
    """Queue each operation's next attempt: a new upgrade command, In progress until a deadline;
    after commit, nudge the devices the portal may dial and schedule the deadline's check.

    Operations of one attempt number share a deadline (jitter per batch), so each batch is one
    UPDATE (a CASE per row and column was most of a 10,000-device dispatch).
    """
    if not ops:
        return
    from devices import lan
    from devices.tasks import devices_nudge_task, nudge_batches
    from smartplus.celery import fan_out

    from .tasks import operations_check_task

    commands = DeviceCommand.objects.bulk_create([_command(op) for op in ops])
    liveness.commands_queued(op.device_id for op in ops)
    for op, command in zip(ops, commands, strict=True):
        op.command, op.status = command, OperationStatus.IN_PROGRESS
    # Per row, the new command and the version before come from subqueries, not a CASE per row.
    new_command = DeviceCommand.objects.filter(
        pk__in=[c.pk for c in commands], device_id=OuterRef("device_id")
    ).values("pk")[:1]
    per_row = {"command_id": Subquery(new_command)}
    if starting:
        per_row |= {
            "started_at": now,
            "version_before": Subquery(
                Device.objects.filter(pk=OuterRef("device_id")).values("firmware_version")[:1]
            ),
        }
    by_attempt: dict[int, list[UpgradeOperation]] = {}
    for op in ops:
        by_attempt.setdefault(op.attempts + 1, []).append(op)
    for attempt, batch in by_attempt.items():
        deadline = now + timedelta(seconds=backoff(settings.SMARTPLUS_UPGRADE_DEADLINE, attempt))
        for op in batch:
            op.attempts, op.deadline = attempt, deadline
        UpgradeOperation.objects.filter(pk__in=[op.pk for op in batch]).update(
            status=OperationStatus.IN_PROGRESS, attempts=attempt, deadline=deadline, **per_row
        )
        _on_commit(
            operations_check_task, [op.pk for op in batch], countdown=(deadline - now).total_seconds() + 1
        )
    # Only where the portal may dial the device; the others collect at their next heartbeat. The
    # address goes with the task (a nudge per device read the device, and so opened a database
    # connection per device in the worker); the batches dial a few devices at a time.
    nudge = [
        [op.device_id, op.device.lan_address]
        for op in ops
        if op.device is not None and not lan.refusal(op.device.lan_address)
    ]
    if nudge:
        transaction.on_commit(
            partial(fan_out, devices_nudge_task, nudge_batches(nudge), countdown=liveness.nudge_delay())
        )


def operations_start(*, operation_ids: list[int]) -> None:
    """Start Pending operations: already on the version → done; otherwise queue the command."""
    now = timezone.now()
    with transaction.atomic():
        ops = list(
            UpgradeOperation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                pk__in=operation_ids, status=OperationStatus.PENDING, upgrade__status=UpgradeStatus.PROCESSING
            )
            .select_related("upgrade__firmware", "device")
            .order_by("pk")
        )
        if not ops:
            return
        busy = set(
            UpgradeOperation.objects.filter(
                device_id__in=[op.device_id for op in ops], status=OperationStatus.IN_PROGRESS
            ).values_list("device_id", flat=True)
        )
        launch = []
        for op in ops:
            target = op.upgrade.firmware.version
            op.started_at = now
            if op.device is None:
                _final(op, OperationStatus.FAILED, "The device was deleted.", now)
            elif op.device.firmware_version == target:
                op.version_before = target
                _final(op, OperationStatus.ALREADY_ON_VERSION, f"The device already runs {target}.", now)
            elif op.device_id in busy:
                _final(op, OperationStatus.FAILED, "Another upgrade of this device is in progress.", now)
            else:
                op.version_before = op.device.firmware_version
                launch.append(op)
        finals = [op for op in ops if op.is_final]
        UpgradeOperation.objects.bulk_update(
            finals, ["status", "reason", "started_at", "finished_at", "version_before"]
        )
        _launch(launch, now, starting=True)
        _refresh_upgrade(ops[0].upgrade_id)


def _last_seen(device: Device | None) -> str:
    if device is None or device.last_seen_at is None:
        return "the device has never connected"
    return f"the device was last seen {device.last_seen_at:%Y-%m-%d %H:%M} UTC"


def operations_check(*, operation_ids: list[int]) -> list[tuple[list[int], float]]:
    """Past its deadline with no report: try again (a new command), or Failed after the last
    attempt. Returns the operations whose deadline is still ahead, with when to look again."""
    now = timezone.now()
    later: dict[int, float] = {}
    with transaction.atomic():
        ops = list(
            UpgradeOperation.objects.select_for_update(of=("self",))
            .filter(pk__in=operation_ids, status=OperationStatus.IN_PROGRESS)
            .select_related("upgrade__firmware", "device", "command")
            .order_by("pk")
        )
        retry, failed = [], []
        for op in ops:
            if op.deadline and op.deadline > now:
                later[op.pk] = (op.deadline - now).total_seconds() + 1
                continue
            if op.command_id and op.command.status == CommandStatus.QUEUED:
                DeviceCommand.objects.filter(pk=op.command_id).update(
                    status=CommandStatus.CANCELLED,
                    finished_at=now,
                    message="Not collected before the deadline.",
                )
            if op.attempts >= settings.SMARTPLUS_UPGRADE_ATTEMPTS:
                why = op.reason or f"No report of {op.upgrade.firmware.version}"
                last = _last_seen(op.device)
                _final(op, OperationStatus.FAILED, f"{why} after {op.attempts} attempt(s); {last}.", now)
                failed.append(op)
            else:
                retry.append(op)
        UpgradeOperation.objects.bulk_update(failed, ["status", "reason", "finished_at", "deadline"])
        _launch(retry, now)
        for upgrade_id in {op.upgrade_id for op in failed}:
            _refresh_upgrade(upgrade_id)
    if not later:
        return []
    return [(list(later), max(later.values()))]


def _settle(op: UpgradeOperation, version: str, now) -> None:
    target = op.upgrade.firmware.version
    if version == target:
        _final(op, OperationStatus.SUCCESS, "", now)
        if op.upgrade.reset_after_upgrade:
            # The device factory-resets after the upgrade and registers again.
            Device.objects.filter(pk=op.device_id).update(api_secret_hash="")
            liveness.forget(devices=[op.device_id])
    else:
        op.reason = f"The device reported {version or 'no version'} instead of {target}."
        _fail_attempt(op, now)
    op.save(update_fields=["status", "reason", "finished_at", "deadline"])
    _refresh_upgrade(op.upgrade_id)


def _fail_attempt(op: UpgradeOperation, now) -> None:
    """A failed attempt: Failed after the last one, else looked at again after a backoff."""
    if op.attempts >= settings.SMARTPLUS_UPGRADE_ATTEMPTS:
        _final(op, OperationStatus.FAILED, f"{op.reason} ({op.attempts} attempt(s))", now)
        return
    from .tasks import operations_check_task

    delay = backoff(FAILED_RETRY_BASE, op.attempts)
    op.deadline = now + timedelta(seconds=delay)
    _on_commit(operations_check_task, [op.pk], countdown=delay + 1)


@transaction.atomic
def version_reported(*, device_id: int, version: str, **kwargs) -> None:
    """A heartbeat brought a new firmware version: it settles the device's running upgrade."""
    now = timezone.now()
    ops = (
        UpgradeOperation.objects.select_for_update(of=("self",))
        .filter(device_id=device_id, status=OperationStatus.IN_PROGRESS, upgrade__firmware__version=version)
        .select_related("upgrade__firmware")
    )
    for op in ops:
        _settle(op, version, now)


def command_reported(*, command: DeviceCommand, firmware_version: str, **kwargs) -> None:
    """The device's result of an upgrade command (called inside its transaction)."""
    if command.kind != CommandKind.UPGRADE:
        return
    now = timezone.now()
    op = (
        UpgradeOperation.objects.select_for_update(of=("self",))
        .filter(command=command, status=OperationStatus.IN_PROGRESS)
        .select_related("upgrade__firmware")
        .first()
    )
    if op is None:
        return
    if command.status == CommandStatus.DONE:
        _settle(op, firmware_version or "", now)
        return
    op.reason = command.message or "The device reported a failure."
    _fail_attempt(op, now)
    op.save(update_fields=["status", "reason", "finished_at", "deadline"])
    _refresh_upgrade(op.upgrade_id)
