"""MAC library writes: add, import and remove, with the spec's rules.

- A MAC is 12 hex digits, typed with or without ":" or "-", stored upper-case.
- A MAC belongs to one installer at a time (unique across the platform). Whether another
  installer holds it is never revealed beyond "cannot be added".
- An installer's staff register MACs for their installer; a distributor for any of its installers.
- A MAC bound to a device cannot be removed: the message names the device.
- An import is atomic: any bad row writes nothing, and every bad row is reported.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from smartplus import audit, authz, roles
from smartplus.importing import ImportRejected
from smartplus.models import AuditAction
from smartplus.xlsx import RowError

from .models import MacAddress
from .validators import normalize_mac

TAKEN = _("%(mac)s cannot be added: it is already registered in a MAC library.")


def installers_for(actor):
    """The installers whose MAC library the actor may add to (a distributor: all of its own;
    an installer's staff: their installer). Scoping decides, through the "accounts.user" row."""
    return User.objects.for_actor(actor).filter(role=roles.INSTALLER).order_by("username")


def _authorize_add(actor, installer) -> None:
    """The MAC goes to `installer`'s library: one of the actor's installers (else not found)."""
    if installer is None:
        raise PermissionDenied(gettext("Choose the installer whose MAC library the MAC goes to."))
    # The library's owner under the "accounts.user" rules, whichever proxy the caller loaded.
    authz.authorize(actor, roles.ADD, MacAddress, parent=User(pk=installer.pk))


# How the Owner column names a bound device. Devices, the app above that binds MACs, registers it
# in its ready(): maclib imports nothing of devices and reads the binding through the MAC's
# reverse one-to-one (`MacAddress.device`).
_device_owner_label: Callable[[object], str] | None = None


def register_owner_label(fn: Callable[[object], str]) -> None:
    """`fn(device)` -> the Owner column for a MAC bound to `device`."""
    global _device_owner_label
    _device_owner_label = fn


# A distributor sees its installers' MACs, not their communities: the Owner column names only the
# kind of place a device is installed at (the building and apartment names are the installer's).
PLACE_KIND = {
    "public": _("Public Device"),
    "building": _("Building Device"),
    "apartment": _("Apartment Device"),
}


def owner_label(mac: MacAddress) -> str:
    """The Owner column: "Public Device", "Building1" / "Building1-403", or "" when unbound.

    Expects `device__building` and `device__apartment` loaded (selectors.mac_list).
    """
    device = getattr(mac, "device", None)
    if device is None:
        return ""
    return _device_owner_label(device) if _device_owner_label is not None else gettext("Bound")


@transaction.atomic
def mac_add(*, actor, installer, mac: str) -> MacAddress:
    """New: one MAC typed by hand into the installer's library."""
    _authorize_add(actor, installer)
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
        raise ValidationError({"mac": TAKEN % {"mac": value}}) from exc
    return entry


def _taken_message(installer, mac: str) -> str:
    if MacAddress.objects.filter(mac=mac, installer=installer).exists():
        return gettext("%(mac)s is already in this MAC library.") % {"mac": mac}
    return TAKEN % {"mac": mac}


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
            errors.append(
                RowError(
                    row,
                    "MAC",
                    gettext("%(mac)s is already on row %(row)s of this file.")
                    % {"mac": mac, "row": seen[mac]},
                )
            )
            continue
        seen[mac] = row
        wanted.append((row, mac))
    if not rows:
        errors.append(RowError(2, "MAC", gettext("The file has no MAC under the MAC header.")))
    existing = dict(
        MacAddress.objects.filter(mac__any_of=[m for _, m in wanted]).values_list("mac", "installer_id")
    )
    for row, mac in wanted:
        if mac in existing:
            reason = (
                gettext("%(mac)s is already in this MAC library.") % {"mac": mac}
                if existing[mac] == installer.pk
                else TAKEN % {"mac": mac}
            )
            errors.append(RowError(row, "MAC", reason))
    return wanted, sorted(errors, key=lambda e: e.row)


@transaction.atomic
def mac_import(*, actor, installer, rows: list[tuple[int, object]]) -> int:
    """Import (row number, typed MAC) pairs. All or nothing; every bad row is reported."""
    _authorize_add(actor, installer)
    wanted, errors = mac_import_check(installer=installer, rows=rows)
    if errors:
        raise ImportRejected(errors)
    try:
        with transaction.atomic():
            added = MacAddress.objects.bulk_create(
                [MacAddress(installer=installer, mac=mac, added_by=actor) for _, mac in wanted],
                batch_size=2000,
            )
    except IntegrityError as exc:  # a concurrent add of one of the MACs
        raise ImportRejected(
            [RowError(0, "MAC", gettext("Another user added one of these MACs meanwhile; try again."))]
        ) from exc
    # bulk_create sends no signals: each MAC's entry in bulk, and one for the whole import, all in
    # one change set (the import's job or request).
    audit.record_many(action=AuditAction.CREATE, instances=added, installer_id=installer.pk)
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
    authz.authorize(actor, roles.VIEW, mac)  # another tenant's MAC: not found, nothing told
    # The device reached through the reverse one-to-one: maclib imports nothing of devices.
    entry = (
        MacAddress.objects.select_related("device__community", "device__building", "device__apartment")
        .filter(pk=mac.pk)
        .first()
    )
    device = getattr(entry, "device", None) if entry is not None else None
    if device is None:
        return None
    if not roles.allows(actor, "devices.device", roles.VIEW):
        # The installer's communities are not the distributor's to read.
        kind = PLACE_KIND.get(device.place) or gettext("Bound")
        return gettext(
            "%(mac)s is bound to a device (%(kind)s) of the installer. "
            "The installer must delete the device first to unbind the MAC."
        ) % {"mac": entry.mac, "kind": kind}
    return gettext(
        "%(mac)s is bound to the device “%(device)s” (%(community)s, %(location)s). "
        "Delete the device first to unbind the MAC."
    ) % {
        "mac": entry.mac,
        "device": device.name,
        "community": device.community.name,
        "location": device.location,
    }


@transaction.atomic
def mac_delete(*, actor, mac: MacAddress) -> None:
    """Remove a MAC; refused while a device is bound to it."""
    entry = authz.get_for_actor(MacAddress, actor, mac.pk, roles.DELETE, lock=True)
    reason = mac_delete_refusal(actor=actor, mac=entry)
    if reason:
        raise ValidationError(reason)
    entry.delete()
