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
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from maclib.validators import normalize_mac

from . import autop
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
    return secret


def authenticate(mac: str, secret: str) -> DeviceAuth:
    """The device whose MAC and secret these are, with whether it has queued commands."""
    normal = stored_mac(mac)
    if not normal or not secret:
        raise UNAUTHORIZED
    queued = DeviceCommand.objects.filter(device=OuterRef("pk"), status=CommandStatus.QUEUED)
    row = (
        Device.objects.filter(mac_address__mac=normal)
        .annotate(has_queued=Exists(queued))
        .values_list("pk", "api_secret_hash", "firmware_version", "lan_address", "lan_port", "has_queued")
        .first()
    )
    if row is None or not row[1] or not hmac.compare_digest(row[1], _hash(secret)):
        raise UNAUTHORIZED
    return DeviceAuth(row[0], normal, row[2], row[3], row[4], row[5])


def heartbeat(
    device: DeviceAuth, *, firmware_version: str, lan_address: str | None, lan_port: int
) -> list[dict]:
    """Record the heartbeat and hand over the queued commands (they become delivered)."""
    version = str(firmware_version or device.firmware_version)[:32]
    now = timezone.now()
    fields = {"last_seen_at": now, "lan_address": lan_address, "lan_port": lan_port}
    if version != device.firmware_version:
        fields |= {"firmware_version": version, "model": model_for_firmware(version)}
    Device.objects.filter(pk=device.pk).update(**fields)
    if version != device.firmware_version:
        from firmware import services as firmware_services

        firmware_services.version_reported(device_id=device.pk, version=version)
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
        if command.kind == CommandKind.UPGRADE:
            from firmware import services as firmware_services

            firmware_services.command_reported(command=command, firmware_version=firmware_version)
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
