"""Remote maintenance of one device (the spec's Settings dialog): Connection Type and AutoP
commands, One-Time AutoP, Reboot, Reset, Remote Control, and the LAN nudge behind them.

Every operation is a queued `DeviceCommand` the device collects on its next heartbeat; the nudge
only makes that heartbeat come sooner where the portal may reach the device's LAN. Each
operation adds a command (DeviceCommand ADD) and changes the device, which must be the actor's.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from smartplus import authz, roles

from . import autop, lan, liveness
from .choices import CommandKind, CommandStatus, DeviceStatus
from .models import Device, DeviceCommand

log = logging.getLogger(__name__)
REMOTE_SALT = "smartplus.devices.remote-control"
RECENT_COMMANDS = 20


def _queue(*, actor, device: Device, kind: str, payload: dict | None = None) -> DeviceCommand:
    """Queue a command, nudge the device after commit. The same operation already waiting for
    the device is not queued twice (a double click reboots once)."""
    if kind in (CommandKind.REBOOT, CommandKind.RESET, CommandKind.AUTOP):
        # The device row's lock serialises a double click's two requests: without it both see
        # nothing waiting and both queue (every caller runs inside a transaction).
        Device.objects.select_for_update().filter(pk=device.pk).values_list("pk", flat=True).first()
        waiting = DeviceCommand.objects.filter(device=device, kind=kind, status=CommandStatus.QUEUED).first()
        if waiting is not None:
            return waiting
    command = DeviceCommand.objects.create(
        device=device, kind=kind, payload=payload or {}, requested_by=actor
    )
    liveness.commands_queued([device.pk])
    from smartplus.celery import enqueue

    from .tasks import device_nudge_task

    transaction.on_commit(partial(enqueue, device_nudge_task, device.pk, countdown=liveness.nudge_delay()))
    return command


def commands_queue_coalesced(*, device_ids, kind: str, payload: dict, requested_by=None) -> int:
    """Queue `kind` for many devices at once, one waiting command per device: a device that has
    one waiting gets its payload refreshed instead of a second one (the apps above devices use it
    for state the device fetches whole, like its access credentials). Set-based; the caller
    authorized the change and holds the transaction. Returns how many commands were added."""
    ids = sorted({int(pk) for pk in device_ids})
    if not ids:
        return 0
    # The devices' row locks serialise two changes of the same devices: both would see nothing
    # waiting and both queue.
    list(Device.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    waiting = DeviceCommand.objects.filter(device_id__in=ids, kind=kind, status=CommandStatus.QUEUED)
    waiting_ids = set(waiting.values_list("device_id", flat=True))
    waiting.update(payload=payload)
    new = [
        DeviceCommand(device_id=pk, kind=kind, payload=payload, requested_by=requested_by)
        for pk in ids
        if pk not in waiting_ids
    ]
    DeviceCommand.objects.bulk_create(new)
    liveness.commands_queued(ids)
    targets = [
        [pk, address]
        for pk, address in Device.objects.filter(pk__in=ids, lan_address__isnull=False).values_list(
            "pk", "lan_address"
        )
        if not lan.refusal(address)
    ]
    if targets:
        from smartplus.celery import fan_out

        from .tasks import devices_nudge_task, nudge_batches

        transaction.on_commit(
            partial(fan_out, devices_nudge_task, nudge_batches(targets), countdown=liveness.nudge_delay())
        )
    return len(new)


@transaction.atomic
def device_settings_update(*, actor, device: Device, transport: int, autop_commands: str) -> Device:
    """Submit of the Settings dialog: keep the settings and have the device pull its AutoP file."""
    # Remote maintenance queues a command (its ADD) and changes the device (one of the actor's).
    authz.require_role(actor, roles.ADD, DeviceCommand)
    authz.authorize(actor, roles.CHANGE, device)
    try:
        commands = autop.normalise(autop_commands)
    except ValidationError as exc:
        raise ValidationError({"autop_commands": exc.messages}) from exc
    device = Device.objects.select_for_update().get(pk=device.pk)
    device.transport, device.autop_commands = transport, commands
    device.save(update_fields=["transport", "autop_commands", "modified"])
    _queue(actor=actor, device=device, kind=CommandKind.AUTOP)
    return device


@transaction.atomic
def device_one_time_autop(*, actor, device: Device, commands: str) -> DeviceCommand:
    """One-Time AutoP: served once in the device's AutoP file, then gone."""
    authz.require_role(actor, roles.ADD, DeviceCommand)
    authz.authorize(actor, roles.CHANGE, device)
    try:
        lines = autop.normalise(commands)
    except ValidationError as exc:
        raise ValidationError({"commands": exc.messages}) from exc
    if not lines:
        raise ValidationError({"commands": [gettext("Enter at least one command.")]})
    return _queue(actor=actor, device=device, kind=CommandKind.ONE_TIME_AUTOP, payload={"commands": lines})


@transaction.atomic
def device_reboot(*, actor, device: Device) -> DeviceCommand:
    authz.require_role(actor, roles.ADD, DeviceCommand)
    authz.authorize(actor, roles.CHANGE, device)
    return _queue(actor=actor, device=device, kind=CommandKind.REBOOT)


@transaction.atomic
def device_reset(*, actor, device: Device) -> DeviceCommand:
    """Factory reset: the device forgets its settings and its secret, then registers again."""
    authz.require_role(actor, roles.ADD, DeviceCommand)
    authz.authorize(actor, roles.CHANGE, device)
    return _queue(actor=actor, device=device, kind=CommandKind.RESET)


def recent_commands(*, actor, device: Device):
    """The device page's Remote Maintenance list: its latest operations and their state."""
    authz.authorize(actor, roles.VIEW, device)
    return (
        DeviceCommand.objects.for_actor(actor)
        .filter(device=device)
        .order_by("-created", "-pk")[:RECENT_COMMANDS]
    )


def autop_refresh(*, device_ids, requested_by=None) -> list[DeviceCommand]:
    """Have these devices pull their AutoP file again: what an app above devices calls after a
    change their file renders (pmportal's Premium controls). The caller authorized the change
    and holds the transaction; a device with an AutoP already waiting is not queued twice."""
    return [
        _queue(actor=requested_by, device=device, kind=CommandKind.AUTOP)
        for device in Device.objects.filter(pk__in=list(device_ids)).order_by("pk")
    ]


# --- the LAN nudge -----------------------------------------------------------------------------


def device_nudge(*, device_id: int) -> bool:
    """Ask the device to heartbeat now, at the address its heartbeats come from and on the LAN API
    port. Only inside SMARTPLUS_DEVICE_NETWORKS, else a no-op (the device collects its commands
    at its next heartbeat anyway), as for firmware without the nudge. Raises DeviceUnreachable to
    retry."""
    address = Device.objects.filter(pk=device_id).values_list("lan_address", flat=True).first()
    if not address or lan.refusal(address):
        return False
    try:
        lan.nudge(address)
    except lan.Unsupported:
        return False
    return True


NUDGE_THREADS = 16  # dials at once per task: a dead device holds one for the connect timeout


def devices_nudge(*, targets: list) -> list:
    """Ask many devices to heartbeat now, dialling a few at a time; no database access, so a
    rollout's nudges open no connection. `targets` are [device id, LAN address] as read when
    their commands were queued (each address is checked against the allowlist again when it is
    dialled, on the LAN API port). Returns the targets that did not answer, to be tried again."""
    from concurrent.futures import ThreadPoolExecutor

    def dial(target) -> bool:
        _pk, address = target
        try:
            lan.nudge(address)
        except lan.DeviceUnreachable:
            return False
        except (lan.NotAllowed, lan.Unsupported):
            pass  # not to be dialled (any more), or no nudge in its firmware: it collects at its heartbeat
        return True

    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(NUDGE_THREADS, len(targets))) as pool:
        answered = list(pool.map(dial, targets))
    return [t for t, ok in zip(targets, answered, strict=True) if not ok]


# --- Remote Control ------------------------------------------------------------------------------


def remote_control_refusal(device: Device) -> str:
    """Why the portal cannot relay to the device's web interface now, or ""."""
    if device.status != DeviceStatus.ONLINE:
        return gettext("The device is offline: Remote Control needs a device that is online.")
    return lan.refusal(device.lan_address)


def remote_control_token(*, actor, user, device: Device) -> str:
    """A time-limited token for the relay, bound to the device and to the user who asked."""
    authz.require_role(actor, roles.ADD, DeviceCommand)
    authz.authorize(actor, roles.CHANGE, device)
    reason = remote_control_refusal(device)
    if reason:
        raise ValidationError(reason)
    return signing.dumps({"d": device.pk, "u": user.pk}, salt=REMOTE_SALT)


def remote_control_device(*, token: str, user) -> Device:
    """The device a relay token opens, checked again on every request; ValidationError says why."""
    try:
        data = signing.loads(token, salt=REMOTE_SALT, max_age=settings.SMARTPLUS_REMOTE_CONTROL_TTL)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            gettext("This Remote Control link has expired; open it again from the device.")
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError(gettext("This Remote Control link is not valid.")) from exc
    if data.get("u") != user.pk:
        raise ValidationError(gettext("This Remote Control link was opened by another user."))
    device = Device.objects.filter(pk=data.get("d")).first()
    if device is None:
        raise ValidationError(gettext("The device no longer exists."))
    reason = remote_control_refusal(device)
    if reason:
        raise ValidationError(reason)
    return device


def relay(*, device: Device, method: str, path: str, body: bytes, content_type: str) -> lan.Reply:
    """One request to the device's web interface: at the address its heartbeats come from, on the
    LAN API port, without the portal's device credentials (the user logs in to the device)."""
    headers = {"Content-Type": content_type} if content_type else {}
    return lan.request(
        device.lan_address, method, path, body=body or None, headers=headers, authenticate=False
    )
