"""The device side of the portal: first contact, heartbeats, command results and AutoP files.

Devices are not actors: each call is authenticated by MAC and the secret issued at first
contact, and touches only that device's rows. A heartbeat is kept to one read and one write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from maclib.models import MacAddress
from maclib.validators import normalize_mac

from . import autop, signals
from .choices import CommandKind, CommandStatus
from .models import Device, DeviceCommand, model_for_firmware


class Refused(Exception):
    """The device API refuses the call: `status` is the HTTP status, `code` the error code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


UNAUTHORIZED = Refused(401, "unauthorized", "Unknown device or wrong secret.")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class DeviceAuth:
    """The authenticated device, as read once per call."""

    pk: int
    mac: str
    firmware_version: str
    lan_address: str | None
    lan_port: int
    has_queued: bool


def stored_mac(raw: str) -> str:
    """The MAC in its stored form, or "" for anything that is not a MAC."""
    try:
        return normalize_mac(raw or "")
    except ValidationError:
        return ""


def register(*, mac: str, model: str = "", firmware_version: str = "") -> str:
    """First contact of a MAC bound to a device: issue its secret (shown once, stored hashed)."""
    normal = stored_mac(mac)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = (
            Device.objects.select_for_update()
            .filter(mac_address__mac=normal)
            .only("pk", "api_secret_hash")
            .first()
        )
        if device is None:
            raise Refused(404, "unknown_mac", "This MAC is not bound to a device in the portal.")
        if device.api_secret_hash:
            raise Refused(
                409,
                "already_registered",
                "This device already has its secret. A factory reset from the portal issues a new one.",
            )
        version = str(firmware_version or "")[:32]
        Device.objects.filter(pk=device.pk).update(
            api_secret_hash=_hash(secret),
            firmware_version=version,
            model=model_for_firmware(version),
            last_seen_at=timezone.now(),
        )
        # A device making first contact is new or factory-reset: it pulls its configuration.
        if not DeviceCommand.objects.filter(
            device=device, kind=CommandKind.AUTOP, status=CommandStatus.QUEUED
        ).exists():
            DeviceCommand.objects.create(device=device, kind=CommandKind.AUTOP)
    return secret


def _auth_sql() -> str:
    # The hot path of every device call, as plain SQL: building it through the ORM cost more
    # than running it. Same columns and indexes as Device.objects.filter(mac_address__mac=...).
    device, mac, command = Device._meta.db_table, MacAddress._meta.db_table, DeviceCommand._meta.db_table
    return (
        f"SELECT d.id, d.api_secret_hash, d.firmware_version, d.lan_address, d.lan_port, "
        f"EXISTS (SELECT 1 FROM {command} c WHERE c.device_id = d.id AND c.status = 'queued') "
        f"FROM {device} d JOIN {mac} m ON m.id = d.mac_address_id WHERE m.mac = %s"
    )


def authenticate(mac: str, secret: str) -> DeviceAuth:
    """The device whose MAC and secret these are, with whether it has queued commands."""
    normal = stored_mac(mac)
    if not normal or not secret:
        raise UNAUTHORIZED
    with connection.cursor() as cursor:
        cursor.execute(_auth_sql(), [normal])
        row = cursor.fetchone()
    if row is None or not row[1] or not hmac.compare_digest(row[1], _hash(secret)):
        raise UNAUTHORIZED
    return DeviceAuth(row[0], normal, row[2], row[3], row[4], bool(row[5]))


def _record(pk: int, now, lan_address: str | None) -> None:
    """The heartbeat's one write. Liveness may be lost in a crash (the next heartbeat restores
    it), so on PostgreSQL this statement's commit does not wait for the disk."""
    table = Device._meta.db_table
    asynchronous = (
        " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS quick"
        if connection.vendor == "postgresql"
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seen_at = %s, lan_address = %s{asynchronous} WHERE id = %s",
            [connection.ops.adapt_datetimefield_value(now), lan_address, pk],
        )


def heartbeat(device: DeviceAuth, *, firmware_version: str, lan_address: str | None) -> list[dict]:
    """Record the heartbeat and hand over the queued commands (they become delivered).
    `lan_address` is the heartbeat's source address, the one address the portal dials."""
    version = str(firmware_version or device.firmware_version)[:32]
    now = timezone.now()
    if version == device.firmware_version:
        _record(device.pk, now, lan_address)
    else:
        Device.objects.filter(pk=device.pk).update(
            last_seen_at=now,
            lan_address=lan_address,
            firmware_version=version,
            model=model_for_firmware(version),
        )
        signals.firmware_version_reported.send(sender=Device, device_id=device.pk, version=version)
    if not device.has_queued:
        return []
    return _deliver(device, now)


def _deliver(device: DeviceAuth, now) -> list[dict]:
    with transaction.atomic():
        commands = list(
            DeviceCommand.objects.select_for_update(skip_locked=True)
            .filter(device_id=device.pk, status=CommandStatus.QUEUED)
            .order_by("pk")
        )
        DeviceCommand.objects.filter(pk__in=[c.pk for c in commands]).update(
            status=CommandStatus.DELIVERED, delivered_at=now
        )
    return [describe(c, device.mac) for c in commands]


def autop_url(mac: str) -> str:
    return f"{settings.SMARTPLUS_BASE_URL.rstrip('/')}/autop/{mac}.cfg"


def describe(command: DeviceCommand, mac: str) -> dict:
    """A command as the device receives it."""
    if command.kind in (CommandKind.AUTOP, CommandKind.ONE_TIME_AUTOP):
        return {"id": command.pk, "kind": "autop", "url": autop_url(mac)}
    if command.kind == CommandKind.UPGRADE:
        return {"id": command.pk, "kind": "upgrade", **command.payload}
    return {"id": command.pk, "kind": command.kind}


def command_result(
    device: DeviceAuth, *, command_id: int, status: str, message: str = "", firmware_version: str = ""
) -> None:
    """A device reports a command done or failed; reporting again changes nothing."""
    if status not in (CommandStatus.DONE, CommandStatus.FAILED):
        raise Refused(400, "bad_status", "status must be “done” or “failed”.")
    with transaction.atomic():
        command = DeviceCommand.objects.select_for_update().filter(pk=command_id, device_id=device.pk).first()
        if command is None:
            raise Refused(404, "unknown_command", "No such command for this device.")
        if command.is_final:
            return
        command.status = status
        command.message = str(message or "")[:255]
        command.finished_at = timezone.now()
        command.save(update_fields=["status", "message", "finished_at"])
        if command.kind == CommandKind.RESET and status == CommandStatus.DONE:
            # The device forgot its secret: its next first contact issues a new one.
            Device.objects.filter(pk=device.pk).update(api_secret_hash="")
        # Firmware settles its upgrade operation here (the firmware version comes with the result).
        signals.command_reported.send(
            sender=DeviceCommand, command=command, firmware_version=firmware_version
        )
    if firmware_version and firmware_version != device.firmware_version:
        version = str(firmware_version)[:32]
        Device.objects.filter(pk=device.pk).update(
            firmware_version=version, model=model_for_firmware(version)
        )


def autop_file(device: DeviceAuth) -> str:
    """The device's AutoP file. Pending one-time commands are served in it once, then done."""
    with transaction.atomic():
        full = Device.objects.select_related("mac_address").get(pk=device.pk)
        once = list(
            DeviceCommand.objects.select_for_update(skip_locked=True)
            .filter(
                device_id=device.pk,
                kind=CommandKind.ONE_TIME_AUTOP,
                status__in=(CommandStatus.QUEUED, CommandStatus.DELIVERED),
            )
            .order_by("pk")
        )
        text = autop.render(full, list(full.relays.all()), [c.payload.get("commands", "") for c in once])
        DeviceCommand.objects.filter(pk__in=[c.pk for c in once]).update(
            status=CommandStatus.DONE, finished_at=timezone.now(), message="Served in the AutoP file."
        )
    return text


def heartbeat_interval() -> int:
    return settings.SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL
