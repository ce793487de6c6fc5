"""Writes of access credentials, and their delivery to the door devices they open.

Every change raises the credential version of the door devices it concerns (`DeviceUsers`) and
queues one `users` command per device (coalesced: one waiting per device). The command carries a
link; the device fetches its whole user list there (`device_users_payload`), so a device that was
offline gets the latest list at its next heartbeat, and acknowledges by reporting the command
done (`command_reported`: the version it fetched becomes its acknowledged one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import PinMode
from communities.models import Community
from devices import maintenance
from devices.choices import DOOR_PHONES, AccessMethod, CommandKind, CommandStatus, DeviceType, Place
from devices.models import Device, DeviceCommand
from residents.models import Apartment, Resident
from smartplus import audit, authz, bulk, deletion, roles
from smartplus.authz import get_for_actor, get_many_for_actor

from .choices import CredentialKind, CredentialScope
from .models import Credential, DeviceUsers

DOOR_DEVICE_TYPES = (*DOOR_PHONES, DeviceType.ACCESS_CONTROL)
PIN_RE = re.compile(r"^[0-9]{4,8}$")
CARD_RE = re.compile(r"^[0-9A-F]{4,20}$")
FIELDS = ("kind", "code", "name", "scope", "valid_from", "valid_until")
# Which relay access method a credential kind needs.
KIND_METHOD = {CredentialKind.PIN: AccessMethod.PIN, CredentialKind.RF_CARD: AccessMethod.RF_CARD}


# --- rules -------------------------------------------------------------------------------------


def _normal_code(kind: str, code) -> str:
    code = str(code or "").strip().replace(" ", "")
    return code.upper() if kind == CredentialKind.RF_CARD else code


def credential_field_errors(
    credential: Credential, community: Community, *, clash: bool = True
) -> dict[str, list[str]]:
    """What is wrong with the credential as it stands (the service's rules, for forms too);
    `clash=False` leaves out the uniqueness the caller checks itself (a bulk create)."""
    errors: dict[str, list[str]] = {}
    if credential.kind not in CredentialKind.values:
        errors["kind"] = [_("Choose PIN or RF Card.")]
        return errors
    if credential.scope not in CredentialScope.values:
        errors["scope"] = [_("Choose the devices the credential opens.")]
    if credential.kind == CredentialKind.PIN and not PIN_RE.match(credential.code):
        errors["code"] = [_("A PIN is 4 to 8 digits.")]
    elif credential.kind == CredentialKind.RF_CARD and not CARD_RE.match(credential.code):
        errors["code"] = [_("A card code is 4 to 20 digits or letters A-F.")]
    if credential.valid_from and credential.valid_until and credential.valid_until <= credential.valid_from:
        errors["valid_until"] = [_("Valid Until must be later than Valid From.")]
    if clash and "code" not in errors:
        message = _clash(credential, community)
        if message:
            errors["code"] = [message]
    return errors


def _clash_rule(credential: Credential, community: Community) -> tuple[dict, str]:
    """One code per door: the apartment's own doors hold each code once; the public doors hold a
    PIN once per community in PIN Mode "PIN" (a door could not tell two apartments' equal PINs
    apart), once per apartment in "APT+PIN" (the APT number is typed first). RF cards are read
    without an APT number, so a public card is once per community in both modes. Returns where
    the code must be unique (filter arguments besides kind, code and scope) and what a clash says."""
    if credential.scope == CredentialScope.PRIVATE:
        return {"apartment_id": credential.apartment_id}, _(
            "This code is already used for this apartment's devices."
        )
    if credential.kind == CredentialKind.PIN and community.pin_mode == PinMode.APT_PIN:
        return {"apartment_id": credential.apartment_id}, _("This PIN is already used in this apartment.")
    if credential.kind == CredentialKind.PIN:
        return {"community_id": community.pk}, _(
            "This PIN is already used in this community (PIN Mode: PIN). Choose another PIN."
        )
    return {"community_id": community.pk}, _("This card is already registered in this community.")


def _clash(credential: Credential, community: Community) -> str:
    where, message = _clash_rule(credential, community)
    same = Credential.objects.filter(
        kind=credential.kind, code=credential.code, scope=credential.scope, **where
    )
    if credential.pk:
        same = same.exclude(pk=credential.pk)
    return message if same.exists() else ""


def _clash_key(credential: Credential, community: Community) -> tuple[tuple, str]:
    """`_clash_rule` as a key: two credentials with equal keys may not both exist."""
    where, message = _clash_rule(credential, community)
    return (credential.kind, credential.code, credential.scope, *sorted(where.items())), message


def _lock_community(community_id: int) -> Community:
    # Serialises the uniqueness checks of one community's credentials (PIN Mode rules are not
    # a database constraint: they change with the community's setting).
    return Community.objects.select_for_update().get(pk=community_id)


def _authorize_scope(actor, action: str, credential: Credential) -> None:
    """A public credential is asked of the community, a personal one of its apartment (the
    predicate "access_control_permission" refuses property managers under Only Public Area)."""
    target = credential.apartment if credential.scope == CredentialScope.PRIVATE else credential.community
    authz.authorize(actor, action, Credential, parent=target)


def _set(credential: Credential, fields: dict) -> None:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown credential fields: {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        if key in ("name",):
            value = str(value or "").strip()
        if key in ("valid_from", "valid_until"):
            value = value or None
        setattr(credential, key, value)
    credential.code = _normal_code(credential.kind, credential.code)


# --- writes ------------------------------------------------------------------------------------


@transaction.atomic
def credential_create(*, actor, resident_id: int, fields: dict) -> Credential:
    """Add a PIN or RF card for an end user (family master or member) of the actor's."""
    resident = get_for_actor(
        Resident, actor, resident_id, roles.VIEW, queryset=Resident.objects.select_related("apartment")
    )
    credential = Credential(
        community_id=resident.community_id,
        apartment=resident.apartment,
        resident=resident,
        created_by=actor,
    )
    _set(credential, fields)
    credential.community = community = _lock_community(resident.community_id)
    if credential.scope in CredentialScope.values:
        _authorize_scope(actor, roles.ADD, credential)
    errors = credential_field_errors(credential, community)
    if errors:
        raise ValidationError(errors)
    credential.save()
    _deliver([credential])
    return credential


@transaction.atomic
def credential_update(*, actor, credential_id: int, fields: dict) -> Credential:
    credential = get_for_actor(
        Credential,
        actor,
        credential_id,
        roles.CHANGE,
        queryset=Credential.objects.select_related("apartment"),
    )
    community = _lock_community(credential.community_id)
    before = Credential(
        pk=credential.pk,
        community_id=credential.community_id,
        apartment_id=credential.apartment_id,
        apartment=credential.apartment,
        scope=credential.scope,
    )
    _set(credential, fields)
    credential.community = community
    if credential.scope in CredentialScope.values:
        _authorize_scope(actor, roles.CHANGE, credential)
    errors = credential_field_errors(credential, community)
    if errors:
        raise ValidationError(errors)
    credential.save()
    _deliver([before, credential])
    return credential


@transaction.atomic
def credential_delete(*, actor, credential_id: int) -> None:
    credential = get_for_actor(
        Credential,
        actor,
        credential_id,
        roles.DELETE,
        queryset=Credential.objects.select_related("apartment"),
    )
    _lock_community(credential.community_id)
    _deliver([credential])
    credential.delete()


@transaction.atomic
def credential_bulk_delete(*, actor, credential_ids: Iterable[int]) -> int:
    """Delete many at once: all or nothing (a foreign id is "not found")."""
    rows = get_many_for_actor(
        Credential,
        actor,
        list(credential_ids),
        roles.DELETE,
        queryset=Credential.objects.select_related("apartment"),
    )
    if not rows:
        return 0
    for community_id in sorted({c.community_id for c in rows.values()}):
        _lock_community(community_id)
    _deliver(list(rows.values()))
    deletion.delete_cascade(Credential.objects.filter(pk__in=list(rows)), summarize=False)
    return len(rows)


# Where a bulk create's refusals are told: the template's column of each field.
IMPORT_COLUMNS = {
    "apartment": "APT",
    "resident": "Name",
    "kind": "Type",
    "code": "Code",
    "valid_from": "Valid From",
    "valid_until": "Valid Until",
    "scope": "Devices",
}


def _name_key(text) -> str:
    return " ".join(str(text or "").split()).casefold()


@transaction.atomic
def credential_bulk_create(
    *, actor, community: Community, rows: list[tuple[int, dict]], dry_run: bool = False
) -> list[Credential]:
    """Add many credentials to one community's end users (the credentials template): each row
    `(row number, {"apartment": APT number, "resident": the end user's name, "kind", "code",
    "scope", "valid_from", "valid_until"})` meets the rules of `credential_create` (the code's
    format, the window, PIN Mode uniqueness against the stored credentials and the other rows,
    Only Public Area for property managers). All rows are written, or `ImportRejected` names
    every bad row and column and nothing is. Each door device concerned is queued once.
    `dry_run`: the checks only (an import's preview). Queries do not grow with the rows."""
    from smartplus.importing import ImportRejected
    from smartplus.xlsx import RowError

    from .permissions import MESSAGE

    authz.authorize(actor, roles.ADD, Credential, parent=community)
    community = _lock_community(community.pk)
    rows = list(rows)
    numbers = {str(data.get("apartment") or "").strip() for _, data in rows}
    apartments = {
        a.number: a
        for a in Apartment.objects.filter(community=community, number__in=numbers).select_related("building")
    }
    residents: dict[tuple[int, str], list[Resident]] = {}
    for resident in Resident.objects.filter(apartment__in=list(apartments.values())).order_by("pk"):
        residents.setdefault((resident.apartment_id, _name_key(resident.display_name)), []).append(resident)
    codes = {_normal_code(str(data.get("kind") or ""), data.get("code")) for _, data in rows}
    taken = {
        _clash_key(existing, community)[0]
        for existing in Credential.objects.filter(community=community, code__in=codes).only(
            "kind", "code", "scope", "apartment_id", "community_id"
        )
    }
    personal_allowed: bool | None = None
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    credentials: list[Credential] = []

    def refuse(number: int, field: str, message: str) -> None:
        errors.append(RowError(number, IMPORT_COLUMNS[field], str(message)))

    for number, data in rows:
        number_text = str(data.get("apartment") or "").strip()
        apartment = apartments.get(number_text)
        if apartment is None:
            refuse(number, "apartment", _("No APT “%(apt)s” in this community.") % {"apt": number_text})
            continue
        found = residents.get((apartment.pk, _name_key(data.get("resident"))), [])
        if len(found) != 1:
            what = {"name": str(data.get("resident") or "").strip(), "apt": apartment.number}
            refuse(
                number,
                "resident",
                _("No end user of APT %(apt)s is named “%(name)s”.") % what
                if not found
                else _(
                    "Several end users of APT %(apt)s are named “%(name)s”: "
                    "add the credential on the apartment's page."
                )
                % what,
            )
            continue
        credential = Credential(
            community=community,
            apartment=apartment,
            resident=found[0],
            created_by=actor,
            scope=CredentialScope.PUBLIC,
        )
        _set(credential, {k: data[k] for k in FIELDS if k in data and (k != "scope" or data[k])})
        if credential.scope == CredentialScope.PRIVATE:
            if personal_allowed is None:  # the community's setting: one answer for all its APTs
                personal_allowed = authz.can(actor, roles.ADD, Credential, parent=apartment)
            if not personal_allowed:
                refuse(number, "scope", MESSAGE)
                continue
        problems = credential_field_errors(credential, community, clash=False)
        if "code" not in problems and "kind" not in problems:
            key, message = _clash_key(credential, community)
            if key in taken:
                problems["code"] = [message]
            elif key in seen:
                problems["code"] = [_("Row %(row)d holds the same code: ") % {"row": seen[key]} + message]
            else:
                seen[key] = number
        for field, messages in problems.items():
            for message in messages:
                refuse(number, field, message)
        if not problems:
            credentials.append(credential)
    if errors:
        raise ImportRejected(errors)
    if dry_run or not credentials:
        return credentials
    bulk.bulk_insert(Credential, credentials)
    _deliver(credentials)
    return credentials


# --- delivery to the door devices -----------------------------------------------------------------


def door_devices_q_for(*, community_ids, building_ids, apartment_ids) -> Q:
    """The door devices that hold the public credentials of apartments in `building_ids`
    (the public area's that serve those buildings, and the buildings' own) and the personal
    credentials of `apartment_ids` (the apartments' own)."""
    public = Q(place=Place.PUBLIC, community_id__in=community_ids) & (
        Q(all_buildings=True) | Q(buildings__in=building_ids)
    )
    building = Q(place=Place.BUILDING, building_id__in=building_ids)
    private = Q(place=Place.APARTMENT, apartment_id__in=apartment_ids)
    return Q(device_type__in=DOOR_DEVICE_TYPES) & (public | building | private)


def _deliver(credentials: list[Credential]) -> None:
    """Raise the version of every door device the credentials concern and queue their fetch."""
    publics = [c for c in credentials if c.scope == CredentialScope.PUBLIC]
    privates = [c for c in credentials if c.scope == CredentialScope.PRIVATE]
    q = door_devices_q_for(
        community_ids={c.community_id for c in publics},
        building_ids={c.apartment.building_id for c in publics},
        apartment_ids={c.apartment_id for c in privates},
    )
    devices_changed(device_ids=Device.objects.filter(q).values_list("pk", flat=True).distinct())


def users_url() -> str:
    return settings.SMARTPLUS_BASE_URL.rstrip("/") + reverse("access_api:users")


def devices_changed(*, device_ids) -> list[int]:
    """The credentials these devices hold changed: raise their version, queue their fetch."""
    ids = sorted({int(pk) for pk in device_ids})
    if not ids:
        return []
    DeviceUsers.objects.bulk_create([DeviceUsers(device_id=pk) for pk in ids], ignore_conflicts=True)
    DeviceUsers.objects.filter(device_id__in=ids).update(version_wanted=F("version_wanted") + 1)
    maintenance.commands_queue_coalesced(device_ids=ids, kind=CommandKind.USERS, payload={"url": users_url()})
    return ids


def _device_credentials(device: Device):
    """The credentials a door device holds (whatever their window: the device keeps the window)."""
    if device.device_type not in DOOR_DEVICE_TYPES:
        return Credential.objects.none()
    qs = Credential.objects.filter(community_id=device.community_id)
    if device.place == Place.APARTMENT:
        qs = qs.filter(scope=CredentialScope.PRIVATE, apartment_id=device.apartment_id)
    elif device.place == Place.BUILDING:
        qs = qs.filter(scope=CredentialScope.PUBLIC, apartment__building_id=device.building_id)
    else:
        qs = qs.filter(scope=CredentialScope.PUBLIC)
        if not device.all_buildings:
            qs = qs.filter(apartment__building__in=device.buildings.all())
    return qs.select_related("resident", "apartment").order_by("pk")


def _when(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def akuvox_user(credential: Credential, relays: dict[str, str], pin_mode: str) -> dict | None:
    """One credential in the Akuvox user shape; None when no relay of the device takes its kind."""
    relay_numbers = relays.get(credential.kind, "")
    if not relay_numbers:
        return None
    resident = credential.resident
    name = (resident.display_name if resident else "") or credential.name or credential.code_shown
    is_pin = credential.kind == CredentialKind.PIN
    return {
        "ID": str(credential.pk),
        "Name": name[:63],
        "UserID": str(credential.pk),
        "PrivatePIN": credential.code if is_pin else "",
        "CardCode": "" if is_pin else credential.code,
        "WebRelay": "0",
        "ScheduleRelay": f"1001-{relay_numbers};",
        "LiftFloorNum": "0",
        # Not in the Akuvox shape: what this portal's devices need besides it.
        "APT": credential.apartment.number if is_pin and pin_mode == PinMode.APT_PIN else "",
        "ValidFrom": _when(credential.valid_from),
        "ValidUntil": _when(credential.valid_until),
        "ResidentID": str(credential.resident_id or ""),
        "ApartmentID": str(credential.apartment_id),
    }


def device_users_payload(*, device_id: int) -> dict:
    """What `GET /device-api/v1/users` answers the device: its whole list, at the current
    version (recorded as the version served, acknowledged when its command is reported done)."""
    with transaction.atomic():
        DeviceUsers.objects.bulk_create([DeviceUsers(device_id=device_id)], ignore_conflicts=True)
        state = DeviceUsers.objects.select_for_update().get(device_id=device_id)
        device = Device.objects.select_related("community").get(pk=device_id)
        relays: dict[str, str] = {}
        for relay in device.relays.filter(enabled=True, kind="relay").order_by("index"):
            for kind, method in KIND_METHOD.items():
                if method in relay.method_list:
                    relays[kind] = relays.get(kind, "") + str(relay.index)
        pin_mode = device.community.pin_mode
        users = [
            user
            for c in _device_credentials(device)
            if (user := akuvox_user(c, relays, pin_mode)) is not None
        ]
        DeviceUsers.objects.filter(pk=state.pk).update(version_served=state.version_wanted)
    return {"version": state.version_wanted, "pin_mode": pin_mode, "users": users}


def command_reported(sender, *, command: DeviceCommand, firmware_version: str = "", **kwargs) -> None:
    """devices' `command_reported`: a `users` command done acknowledges the version fetched."""
    if command.kind != CommandKind.USERS or command.status != CommandStatus.DONE:
        return
    DeviceUsers.objects.filter(device_id=command.device_id).update(
        version_acknowledged=F("version_served"), acknowledged_at=timezone.now()
    )


# --- what the residents app's writes do to credentials (residents.hooks) -------------------------


def apartment_resetting(apartment: Apartment) -> dict[str, int]:
    """Reset: the apartment's PINs go (the spec's list); RF cards are not on it, so a departing
    family member's cards stay with the apartment."""
    credentials = list(Credential.objects.filter(apartment=apartment).select_related("apartment"))
    if not credentials:
        return {}
    _deliver(credentials)
    audit.update(
        Credential.objects.filter(
            apartment=apartment, kind=CredentialKind.RF_CARD, resident__family_master__isnull=False
        ),
        resident=None,
    )
    gone = deletion.delete_cascade(
        Credential.objects.filter(apartment=apartment, kind=CredentialKind.PIN), summarize=False
    )
    removed = sum(gone.values())
    return {"access credentials": removed} if removed else {}


def residents_deleting(residents) -> None:
    """End users are deleted (their credentials cascade): the doors that held them fetch again."""
    credentials = list(Credential.objects.filter(resident__in=residents).select_related("apartment"))
    if credentials:
        _deliver(credentials)


def apartment_deleting(apartment: Apartment) -> None:
    """The apartment goes with its credentials: its public doors fetch again."""
    credentials = list(
        Credential.objects.filter(apartment=apartment, scope=CredentialScope.PUBLIC).select_related(
            "apartment"
        )
    )
    if credentials:
        _deliver(credentials)


def apartment_moved(apartment: Apartment) -> None:
    """The apartment moved to another building: its public credentials leave the old building's
    doors for the new one's (the old building is not known here: every public and building door
    of the community fetches again)."""
    if Credential.objects.filter(apartment=apartment, scope=CredentialScope.PUBLIC).exists():
        devices_changed(
            device_ids=Device.objects.filter(
                community_id=apartment.community_id,
                device_type__in=DOOR_DEVICE_TYPES,
                place__in=(Place.PUBLIC, Place.BUILDING),
            ).values_list("pk", flat=True)
        )


# --- what the devices app's writes do to the user lists (devices.hooks) ----------------------------


def door_devices_changed(device_ids) -> None:
    """Door devices were added, or their type, relays or buildings changed: their lists are
    queued, for the devices of communities with credentials (a new one gets the credentials that
    may open it) and those that were given a list before (it may be shorter now). Set-based: a
    template import adding many devices asks the same few queries."""
    doors = dict(
        Device.objects.filter(pk__in=list(device_ids), device_type__in=DOOR_DEVICE_TYPES).values_list(
            "pk", "community_id"
        )
    )
    if not doors:
        return
    listed = set(DeviceUsers.objects.filter(device_id__in=list(doors)).values_list("device_id", flat=True))
    with_credentials = set(
        Credential.objects.filter(community_id__in=set(doors.values()))
        .order_by()
        .values_list("community_id", flat=True)
        .distinct()
    )
    devices_changed(
        device_ids=[
            pk for pk, community_id in doors.items() if pk in listed or community_id in with_credentials
        ]
    )


def event_users(device, user_ids) -> dict[int, int]:
    """The residents behind the UserIDs (credential ids) a door device names in its events:
    the credentials of its own community only (devices.hooks.event_users)."""
    return dict(
        Credential.objects.filter(
            pk__in=user_ids, community_id=device.community_id, resident__isnull=False
        ).values_list("pk", "resident_id")
    )
