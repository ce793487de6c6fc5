"""The device side of the portal: first contact, heartbeats, command results and AutoP files.

Devices are not actors: each call is authenticated by MAC and the secret issued at first
contact, and touches only that device's rows. A heartbeat is kept to one read and one write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from maclib.models import MacAddress
from maclib.validators import normalize_mac

from . import autop, hooks, liveness, signals
from .choices import CommandKind, CommandStatus
from .models import Device, DeviceCommand, ProvisioningCode, RegistrationRequest, model_for_firmware


class Refused(Exception):
    """The device API refuses the call: `status` is the HTTP status, `code` the error code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


UNAUTHORIZED = Refused(401, "unauthorized", "Unknown device or wrong secret.")


def secret_hash(secret: str) -> str:
    """How secrets, claim tokens and provisioning codes are stored: SHA-256 (they are random)."""
    return hashlib.sha256(secret.encode()).hexdigest()


_hash = secret_hash


@dataclass(frozen=True)
class DeviceAuth:
    """The authenticated device, as read once per call."""

    pk: int
    mac: str
    firmware_version: str
    lan_address: str | None
    has_queued: bool
    claim_open: bool = False


def stored_mac(raw: str) -> str:
    """The MAC in its stored form, or "" for anything that is not a MAC."""
    try:
        return normalize_mac(raw or "")
    except ValidationError:
        return ""


CLAIM_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{16,128}$")
SECRET_SALT = "devices.fleet.device-secret"


def _secret_for(device_pk: int, claim_hash: str) -> str:
    """The secret of an adopted claim, derived (never stored): the same claim token gets the same
    secret however often it asks, so a device whose reply was lost gets in by asking again."""
    return salted_hmac(SECRET_SALT, f"{device_pk}:{claim_hash}", algorithm="sha256").hexdigest()


def _code_matches(installer_id: int, code: str) -> bool:
    stored = (
        ProvisioningCode.objects.filter(installer_id=installer_id).values_list("code_hash", flat=True).first()
    )
    return bool(stored) and hmac.compare_digest(stored, _hash(code))


def adopt(device_pk: int, claim_hash: str, firmware_version: str = "") -> str:
    """Open the claim `claim_hash` on the device: its secret replaces any earlier one, the other
    registration requests go, and the device is asked to pull its configuration. Inside the
    caller's transaction, on a locked device row."""
    secret = _secret_for(device_pk, claim_hash)
    changes = {"api_secret_hash": _hash(secret), "claim_hash": claim_hash}
    version = str(firmware_version or "")[:32]
    if version:
        changes.update(firmware_version=version, model=model_for_firmware(version))
    Device.objects.filter(pk=device_pk).update(**changes)
    liveness.forget(devices=[device_pk])
    RegistrationRequest.objects.filter(device_id=device_pk).delete()
    # A device making first contact is new or factory-reset: it pulls its configuration, and
    # whatever the apps above keep on it (a door's user list) is sent again, since a reset
    # device holds nothing of it any more.
    if not DeviceCommand.objects.filter(
        device_id=device_pk, kind=CommandKind.AUTOP, status=CommandStatus.QUEUED
    ).exists():
        DeviceCommand.objects.create(device_id=device_pk, kind=CommandKind.AUTOP)
        liveness.commands_queued([device_pk])
    hooks.announce_devices_changed([device_pk])
    return secret


def register(
    *,
    mac: str,
    claim_token: str,
    model: str = "",
    firmware_version: str = "",
    provisioning_code: str = "",
    source_address: str | None = None,
) -> str | None:
    """First contact: the secret, or None for "pending" (one answer for an unknown or unbound
    MAC, another device's claim, a claim not adopted yet or one already closed).

    The secret goes to the claim the installer adopted (on the device page, or at once by the
    provisioning code of the installer owning the device, while its registration is open: never
    registered, factory-reset or re-added). Any other first contact of a bound MAC is recorded
    as a registration request for the installer to adopt or reject."""
    normal = stored_mac(mac)
    claim = _hash(claim_token)
    row = (
        Device.objects.filter(mac_address__mac=normal)
        .values_list("pk", "api_secret_hash", "claim_hash", "community__installer_id")
        .first()
    )
    if row is None:
        return None  # nothing stored for MACs the portal does not know
    pk, secret_hash, claim_hash, installer_id = row
    if claim_hash and hmac.compare_digest(claim_hash, claim):
        secret = _secret_for(pk, claim)
        if secret_hash != _hash(secret):  # SECRET_KEY rotated while the claim was open
            Device.objects.filter(pk=pk, claim_hash=claim).update(api_secret_hash=_hash(secret))
            liveness.forget(devices=[pk])
        return secret
    if (
        not secret_hash
        and not claim_hash
        and provisioning_code
        and _code_matches(installer_id, provisioning_code)
    ):
        with transaction.atomic():
            # Re-checked under the lock: of two first contacts at once, one claim wins.
            if Device.objects.select_for_update().filter(pk=pk, api_secret_hash="", claim_hash="").exists():
                return adopt(pk, claim, firmware_version)
    _request(pk, claim, model, firmware_version, source_address)
    return None


def _request(pk: int, claim: str, model: str, firmware_version: str, source_address: str | None) -> None:
    """Record (or refresh) the registration request of this claim; keep the most recent few."""
    now = timezone.now()
    values = {
        "model": str(model or "")[:16],
        "firmware_version": str(firmware_version or "")[:32],
        "source_address": source_address,
        "last_seen_at": now,
    }
    with transaction.atomic():
        updated = RegistrationRequest.objects.filter(device_id=pk, claim_hash=claim).update(
            attempts=F("attempts") + 1, **values
        )
        if updated:
            return
        try:
            with transaction.atomic():
                RegistrationRequest.objects.create(
                    device_id=pk, claim_hash=claim, first_seen_at=now, **values
                )
        except IntegrityError:
            return  # the same claim's other request just made it
        stale = list(
            RegistrationRequest.objects.filter(device_id=pk)
            .order_by("-last_seen_at", "-pk")
            .values_list("pk", flat=True)[RegistrationRequest.MAX_PER_DEVICE :]
        )
        if stale:
            RegistrationRequest.objects.filter(pk__in=stale).delete()


def _auth_sql() -> str:
    # The hot path of every device call, as plain SQL: building it through the ORM cost more
    # than running it. Same columns and indexes as Device.objects.filter(mac_address__mac=...).
    device, mac, command = Device._meta.db_table, MacAddress._meta.db_table, DeviceCommand._meta.db_table
    return (
        f"SELECT d.id, d.api_secret_hash, d.firmware_version, d.lan_address, "
        f"EXISTS (SELECT 1 FROM {command} c WHERE c.device_id = d.id AND c.status = 'queued'), "
        f"d.claim_hash <> '' "
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
    return DeviceAuth(row[0], normal, row[2], row[3], bool(row[4]), bool(row[5]))


def _heartbeat_sql() -> str:
    # Authentication and the heartbeat's write in one statement, one round trip: the secret's
    # hash is compared in the WHERE (a hash of a random secret: no timing to learn from), and the
    # row comes back only for the right secret. Liveness may be lost in a crash (the next
    # heartbeat restores it), so on PostgreSQL this statement's commit does not wait for the disk.
    device, mac, command = Device._meta.db_table, MacAddress._meta.db_table, DeviceCommand._meta.db_table
    quick = (
        ", (SELECT set_config('synchronous_commit', 'off', true)) AS quick"
        if connection.vendor == "postgresql"
        else ""
    )
    return (
        f"UPDATE {device} SET last_seen_at = %s, lan_address = %s FROM {mac} m{quick} "
        f"WHERE m.id = {device}.mac_address_id AND m.mac = %s AND {device}.api_secret_hash = %s "
        f"RETURNING {device}.id, {device}.firmware_version, "
        f"EXISTS (SELECT 1 FROM {command} c WHERE c.device_id = {device}.id AND c.status = 'queued'), "
        f"{device}.claim_hash <> ''"
    )


def heartbeat(mac: str, secret: str, *, firmware_version: str, lan_address: str | None) -> list[dict]:
    """Authenticate the device by MAC and secret, record the heartbeat and hand over the queued
    commands (they become delivered). `lan_address` is the heartbeat's source address, the one
    address the portal dials. A known device with nothing new is answered from Redis when the
    liveness cache is on (devices.liveness); this is the database path."""
    normal = stored_mac(mac)
    if not normal or not secret:
        raise UNAUTHORIZED
    now = timezone.now()
    presented = _hash(secret)
    reported = str(firmware_version or "")[:32]
    if liveness.heartbeat(normal, presented, reported, lan_address, now):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _heartbeat_sql(),
            [connection.ops.adapt_datetimefield_value(now), lan_address, normal, presented],
        )
        row = cursor.fetchone()
    if row is None:
        raise UNAUTHORIZED
    device = DeviceAuth(row[0], normal, row[1], lan_address, bool(row[2]), bool(row[3]))
    if device.claim_open:
        # The device holds its secret: its claim token gets nothing any more.
        Device.objects.filter(pk=device.pk).update(claim_hash="")
    version = reported or device.firmware_version
    if version != device.firmware_version:
        model = model_for_firmware(version)
        Device.objects.filter(pk=device.pk).update(firmware_version=version, model=model)
        signals.firmware_version_reported.send(sender=Device, device_id=device.pk, version=version)
    commands = _deliver(device, now) if device.has_queued else []
    liveness.remember(normal, device.pk, presented, version)
    return commands


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
    if command.kind in (CommandKind.UPGRADE, CommandKind.USERS):
        return {"id": command.pk, "kind": command.kind, **command.payload}
    if command.kind == CommandKind.WEATHER:
        return {"id": command.pk, "kind": "weather", "weather": command.payload}
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
            # The device forgot its secret: registration is open again (a new claim is adopted by
            # the installer's provisioning code or on the device page).
            Device.objects.filter(pk=device.pk).update(api_secret_hash="", claim_hash="")
            liveness.forget(devices=[device.pk])
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
