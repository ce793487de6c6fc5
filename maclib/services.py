"""MAC library writes: add, import and remove, with the spec's rules.

- A MAC is 12 hex digits, typed with or without ":" or "-", stored upper-case.
- A MAC belongs to one installer at a time (unique across the platform). Whether another
  installer holds it is never revealed beyond "cannot be added".
- An installer's staff register MACs for their installer; a distributor for any of its installers.
- A MAC bound to a device cannot be removed: the message names the device.
- An import is atomic: any bad row writes nothing, and every bad row is reported.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from smartplus import audit, roles
from smartplus.importing import ImportRejected
from smartplus.models import AuditAction
from smartplus.scoping import tenant_installer_id
from smartplus.xlsx import RowError

from .models import MacAddress
from .validators import normalize_mac

TAKEN = "{mac} cannot be added: it is already registered in a MAC library."


def installers_for(actor):
    """The installers whose MAC library the actor may add to (a distributor: all of its own)."""
    role = roles.role_of(actor)
    if role == roles.DISTRIBUTOR:
        return User.objects.filter(role=roles.INSTALLER, distributor_id=actor.pk).order_by("username")
    installer_id = tenant_installer_id(actor)
    return User.objects.filter(pk=installer_id) if installer_id else User.objects.none()


def _require_add(actor, installer) -> None:
    if not roles.allows(actor, MacAddress, roles.ADD):
        raise PermissionDenied
    if installer is None or not installers_for(actor).filter(pk=installer.pk).exists():
        raise PermissionDenied


# A distributor sees its installers' MACs, not their communities: the Owner column names only the
# kind of place a device is installed at (the building and apartment names are the installer's).
PLACE_KIND = {"public": "Public Device", "building": "Building Device", "apartment": "Apartment Device"}


def owner_label(mac: MacAddress) -> str:
    """The Owner column: "Public Device", "Building1" / "Building1-403", or "" when unbound.

    Expects `device__building` and `device__apartment` loaded (selectors.mac_list).
    """
    device = getattr(mac, "device", None)
    if device is None:
        return ""
    from devices.choices import Place

    return "Public Device" if device.place == Place.PUBLIC else device.location


@transaction.atomic
def mac_add(*, actor, installer, mac: str) -> MacAddress:
    """New: one MAC typed by hand into the installer's library."""
    _require_add(actor, installer)
    try:
        value = normalize_mac(mac)
    except ValidationError as exc:
        raise ValidationError({"mac": exc.messages}) from exc
    if MacAddress.objects.filter(mac=value).exists():
        raise ValidationError({"mac": _taken_message(installer, value)})
    entry = MacAddress(installer=installer, mac=value, added_by=actor)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:  # a concurrent add of the same MAC
        raise ValidationError({"mac": TAKEN.format(mac=value)}) from exc
    return entry


def _taken_message(installer, mac: str) -> str:
    if MacAddress.objects.filter(mac=mac, installer=installer).exists():
        return f"{mac} is already in this MAC library."
    return TAKEN.format(mac=mac)


def mac_import_check(
    *, installer, rows: list[tuple[int, object]]
) -> tuple[list[tuple[int, str]], list[RowError]]:
    """The (row, MAC) pairs an import would add, and every bad row; writes nothing."""
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    wanted: list[tuple[int, str]] = []
    for row, raw in rows:
        try:
            mac = normalize_mac(raw)
        except ValidationError as exc:
            errors.append(RowError(row, "MAC", exc.messages[0]))
            continue
        if mac in seen:
            errors.append(RowError(row, "MAC", f"{mac} is already on row {seen[mac]} of this file."))
            continue
        seen[mac] = row
        wanted.append((row, mac))
    if not rows:
        errors.append(RowError(2, "MAC", "The file has no MAC under the MAC header."))
    existing = dict(
        MacAddress.objects.filter(mac__in=[m for _, m in wanted]).values_list("mac", "installer_id")
    )
    for row, mac in wanted:
        if mac in existing:
            reason = (
                f"{mac} is already in this MAC library."
                if existing[mac] == installer.pk
                else TAKEN.format(mac=mac)
            )
            errors.append(RowError(row, "MAC", reason))
    return wanted, sorted(errors, key=lambda e: e.row)


@transaction.atomic
def mac_import(*, actor, installer, rows: list[tuple[int, object]]) -> int:
    """Import (row number, typed MAC) pairs. All or nothing; every bad row is reported."""
    _require_add(actor, installer)
    wanted, errors = mac_import_check(installer=installer, rows=rows)
    if errors:
        raise ImportRejected(errors)
    try:
        with transaction.atomic():
            MacAddress.objects.bulk_create(
                [MacAddress(installer=installer, mac=mac, added_by=actor) for _, mac in wanted],
                batch_size=2000,
            )
    except IntegrityError as exc:  # a concurrent add of one of the MACs
        raise ImportRejected(
            [RowError(0, "MAC", "Another user added one of these MACs meanwhile; try again.")]
        ) from exc
    # bulk_create sends no signals: one audit entry for the whole import.
    audit.record(
        action=AuditAction.CREATE,
        installer_id=installer.pk,
        obj_repr=f"MAC library import: {len(wanted)} MAC(s)",
        changes={"macs": [None, len(wanted)]},
    )
    return len(wanted)


def mac_delete_refusal(*, actor, mac: MacAddress) -> str | None:
    """Why the MAC cannot be removed (a device is bound to it), or None; the dialog and
    mac_delete both ask it. A distributor is not told which of the installer's devices it is."""
    # The device reached through the reverse one-to-one: maclib imports nothing of devices.
    entry = (
        MacAddress.objects.select_related("device__community", "device__building", "device__apartment")
        .filter(pk=mac.pk)
        .first()
    )
    device = getattr(entry, "device", None) if entry is not None else None
    if device is None:
        return None
    if roles.role_of(actor) == roles.DISTRIBUTOR:
        kind = PLACE_KIND.get(device.place, "Bound")
        return (
            f"{entry.mac} is bound to a device ({kind}) of the installer. "
            "The installer must delete the device first to unbind the MAC."
        )
    return (
        f"{entry.mac} is bound to the device “{device.name}” ({device.community.name}, "
        f"{device.location}). Delete the device first to unbind the MAC."
    )


@transaction.atomic
def mac_delete(*, actor, mac: MacAddress) -> None:
    """Remove a MAC; refused while a device is bound to it."""
    if not MacAddress.objects.for_actor(actor, roles.DELETE).filter(pk=mac.pk).exists():
        raise PermissionDenied
    entry = MacAddress.objects.select_for_update().get(pk=mac.pk)
    reason = mac_delete_refusal(actor=actor, mac=entry)
    if reason:
        raise ValidationError(reason)
    entry.delete()
