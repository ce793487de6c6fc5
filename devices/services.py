"""Intercom devices, relays and third-party cameras: every rule of the spec's device forms.

- A device's MAC must be in the community installer's MAC library and bound to no other device;
  adding a device binds its MAC, deleting it (or changing its MAC) unbinds it.
- Device types per place (choices.PLACE_TYPES): indoor monitors belong to apartments.
- Relays: at most four, a Relay Name whenever the relay is On, DTMF Code from the keypad, the
  access methods of 6.7.0; one SR01 security relay, for door phones.
- Public area: All Buildings, or a chosen set of the community's buildings.
- Building: Contact Display Settings.
- Indoor monitors: Arming Function; "Works offline" only in apartments and only with the
  distributor's Doorphone Offline Solution, at most one per apartment.
- Door phones: "Does the device have internet access?" (and the relaying indoor monitor's IP
  Address when No) only with the Doorphone Offline Solution.
- Feature plan Basic: every apartment keeps at least one indoor monitor.
- Cameras: RTSP address as rtsp://ip:port or rtsp://domain:port (never fetched by the server);
  the password is stored encrypted and never returned to a page; Link Device takes only R29
  door phones of the camera's own place (the reported model, or until one is reported the Model
  chosen at Add Device).

The UI, the xlsx import and the Add APT form of a Basic community call these functions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from communities.choices import FeaturePlan
from communities.models import Building, Community
from maclib.models import MacAddress
from maclib.validators import normalize_mac
from residents import hooks as residents_hooks
from residents import services as residents_services
from residents.models import Apartment
from smartplus import audit, authz, bulk, crypto, roles, scoping
from smartplus.bulk import attach
from smartplus.models import AuditAction
from smartplus.validators import FieldChecks, model_field_errors

from . import fleet, hooks, liveness
from .choices import (
    DOOR_PHONE_MODELS,
    DOOR_PHONES,
    PLACE_TYPES,
    AccessMethod,
    ContactDisplay,
    DeviceType,
    Place,
    RelayKind,
)
from .models import (
    MAX_RELAYS,
    Device,
    ProvisioningCode,
    RegistrationRequest,
    Relay,
    ThirdPartyCamera,
    model_for_firmware,
)

DEVICE_FIELDS = (
    "device_type",
    "name",
    "network_group",
    "all_buildings",
    "contact_display",
    "arming_function",
    "works_offline",
    "internet_access",
    "offline_ip",
    "chosen_model",
)
CAMERA_FIELDS = ("name", "rtsp_address", "username")
MAX_CAMERA_PASSWORD = 128
# Plans whose apartments must each have an indoor monitor ("1Monitor_All": one monitor, all APTs).
INDOOR_MONITOR_PLANS = frozenset({FeaturePlan.BASIC, FeaturePlan.ONE_MONITOR_ALL})
LINKABLE_MODEL = "R29"
# Device.known_model as a filter: the reported model, or the chosen one until a model is reported.
LINKABLE_MODEL_Q = Q(model=LINKABLE_MODEL) | Q(model="", chosen_model=LINKABLE_MODEL)
GONE = _("It was deleted meanwhile (by another user or with its apartment or building).")


# --- questions the forms ask too -------------------------------------------------------------


def offline_solution_enabled(community: Community) -> bool:
    """Whether the super manager enabled the Doorphone Offline Solution for the distributor."""
    distributor = community.installer.distributor
    return bool(distributor and distributor.doorphone_offline_enabled)


def requires_indoor_monitor(community: Community) -> bool:
    """Basic: an indoor monitor in every apartment. The guide hides the Add APT dialog's device
    selection when the community has Home Automation, whose panels take the monitor's place."""
    return community.feature_plan in INDOOR_MONITOR_PLANS and not community.home_automation


def _lock_community(community_id: int) -> Community:
    return (
        Community.objects.select_related("installer__distributor")
        .select_for_update(of=("self",))
        .get(pk=community_id)
    )


def _count_devices(community_id: int, delta: int) -> None:
    Community.objects.filter(pk=community_id).update(device_count=F("device_count") + delta)


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# --- access methods and firmware ----------------------------------------------------------------

# 6.7.0: "only door phones R28 with firmware version 28.30.10.7 and above and X912 with firmware
# version 912.30.10.204 and above support" choosing the access methods of each relay.
ACCESS_METHOD_FIRMWARE = {"R28": (28, 30, 10, 7), "X912": (912, 30, 10, 204)}


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return None


def access_method_note(device: Device) -> str:
    """Why the device ignores its relays' access methods, or "" (supported, or model unknown)."""
    if not device.model:
        return ""
    minimum = ACCESS_METHOD_FIRMWARE.get(device.model)
    version = _version(device.firmware_version)
    if minimum is not None and version is not None and version >= minimum:
        return ""
    return gettext(
        "Access methods are applied only by R28 door phones with firmware 28.30.10.7 or later and X912 "
        "with firmware 912.30.10.204 or later: this %(model)s (%(firmware)s) opens every relay by any method."
    ) % {"model": device.model, "firmware": device.firmware_version}


# --- MAC binding -------------------------------------------------------------------------------


def _bind_mac(community: Community, raw_mac, device: Device | None) -> tuple[MacAddress | None, list[str]]:
    """The library entry for a typed MAC, locked; or the reason it cannot be bound here."""
    try:
        mac = normalize_mac(raw_mac)
    except ValidationError as exc:
        return None, exc.messages
    entry = MacAddress.objects.select_for_update().filter(mac=mac).first()
    # Another installer's MAC reads exactly like an unknown one: nothing about it is revealed.
    if entry is None or entry.installer_id != community.installer_id:
        return None, [not_in_library_message(mac)]
    bound = (
        Device.objects.filter(mac_address=entry)
        .exclude(pk=device.pk if device else None)
        .select_related("building", "apartment", "community")
        .first()
    )
    if bound is not None:
        return None, [bound_message(mac, bound)]
    return entry, []


def not_in_library_message(mac: str) -> str:
    return gettext("%(mac)s is not in your MAC library. Add it in the MAC Library module first.") % {
        "mac": mac
    }


def bound_message(mac: str, bound: Device) -> str:
    """Expects the bound device's community, building and apartment loaded."""
    return gettext("%(mac)s is already bound to “%(device)s” (%(community)s, %(location)s).") % {
        "mac": mac,
        "device": bound.name,
        "community": bound.community.name,
        "location": bound.location,
    }


# --- relays ------------------------------------------------------------------------------------


def _relay(kind: str, index: int, data: dict, prefix: str, errors: dict) -> Relay:
    relay = Relay(
        kind=kind,
        index=index,
        enabled=bool(data.get("enabled")),
        name=(data.get("name") or "").strip(),
        dtmf_code=(data.get("dtmf_code") or "").strip(),
    )
    methods = list(dict.fromkeys(data.get("access_methods") or []))
    unknown = [m for m in methods if m not in AccessMethod.values]
    if unknown:
        errors[f"{prefix}_access_methods"] = [
            gettext("Unknown access method: %(methods)s.") % {"methods": ", ".join(unknown)}
        ]
    # Stored in the form's order, whatever order they were ticked in.
    relay.access_methods = ",".join(m for m in AccessMethod.values if m in methods)
    if relay.enabled and not relay.name:
        if kind == RelayKind.SECURITY:
            message = gettext("Enter the Relay Name of the security relay, or switch it Off.")
        else:
            message = gettext("Enter the Relay Name of Relay%(index)s, or switch it Off.") % {"index": index}
        errors[f"{prefix}_name"] = [message]
    for name, messages in model_field_errors(relay, exclude=["device"]).items():
        errors.setdefault(f"{prefix}_{name}", messages)
    return relay


def _relays(relays: list[dict], security: dict | None, device: Device, errors: dict) -> list[Relay]:
    if len(relays) > MAX_RELAYS:
        errors["relays"] = [gettext("A device has at most %(count)s relays.") % {"count": MAX_RELAYS}]
        relays = relays[:MAX_RELAYS]
    built = [_relay(RelayKind.RELAY, i, data, f"relay{i}", errors) for i, data in enumerate(relays, start=1)]
    if security is not None:
        if device.device_type not in DOOR_PHONES:
            errors["security_relay"] = [
                gettext("Only a door phone connects to an Akuvox SR01 security relay.")
            ]
        built.append(_relay(RelayKind.SECURITY, 1, security, "security_relay", errors))
    return built


def relay_summary(relays) -> list[str]:
    """Relays as the audit log shows them."""
    lines = []
    # The audit log keeps its entries in English, whoever's language the request is in.
    with translation.override(settings.LANGUAGE_CODE):
        return _relay_lines(relays, lines)


def _relay_lines(relays, lines: list[str]) -> list[str]:
    for r in relays:
        methods = ", ".join(r.method_labels) or "no access method"
        lines.append(f"{r}{'' if r.enabled else ' (Off)'}; DTMF {r.dtmf_code or '-'}; {methods}")
    return lines


# --- devices -----------------------------------------------------------------------------------


@dataclass
class PreparedDevice:
    """A validated device, ready to save once its apartment exists (Add APT of a Basic community)."""

    device: Device
    relays: list[Relay]
    buildings: list[Building] | None = None
    errors: dict = field(default_factory=dict)


def _normalise(device: Device, *, offline: bool) -> None:
    """Fields that a place or type does not have take their defaults (the form hides them)."""
    if device.place != Place.PUBLIC:
        device.all_buildings = True
    if device.place == Place.BUILDING:
        device.contact_display = device.contact_display or ContactDisplay.ALL
    else:
        device.contact_display = ""
    if device.device_type != DeviceType.INDOOR_MONITOR:
        device.arming_function = False
    if not (device.device_type == DeviceType.INDOOR_MONITOR and device.place == Place.APARTMENT and offline):
        device.works_offline = False
    if not (device.device_type in DOOR_PHONES and offline):
        device.internet_access = True
    if device.internet_access:
        device.offline_ip = None
    if device.device_type not in DOOR_PHONES:
        device.chosen_model = ""


# The foreign keys are the caller's to check: validating them would query once each.
DEVICE_UNCHECKED_FIELDS = ("community", "building", "apartment", "mac_address", "place")


def device_field_errors(
    device: Device, *, offline: bool, checks: FieldChecks | None = None
) -> dict[str, list[str]]:
    """The rules of one device's own fields (type for its place, name, offline settings); no query.

    `offline`: whether the Doorphone Offline Solution is enabled (`offline_solution_enabled`).
    `checks`: a `FieldChecks` of Device shared by many devices checked together.
    """
    errors: dict[str, list[str]] = {}
    if device.device_type not in PLACE_TYPES[device.place]:
        if device.device_type in DeviceType.values:
            kind, where = DeviceType(device.device_type).label.lower(), Place(device.place).label.lower()
            errors["device_type"] = [
                gettext("A %(type)s cannot be added to the %(place)s.") % {"type": kind, "place": where}
            ]
        else:
            errors["device_type"] = [gettext("Choose a device type.")]
    device.name = (device.name or "").strip()
    device.chosen_model = device.chosen_model or ""
    _normalise(device, offline=offline)
    if device.chosen_model and device.chosen_model not in DOOR_PHONE_MODELS:
        errors["chosen_model"] = [
            gettext("Choose a door phone model (%(models)s) or Unknown.")
            % {"models": ", ".join(DOOR_PHONE_MODELS)}
        ]
    if not device.internet_access and not device.offline_ip:
        errors["offline_ip"] = [
            gettext(
                "Enter the static IP address of the indoor monitor that transfers calls for this door phone."
            )
        ]
    own = (
        checks(device) if checks is not None else model_field_errors(device, exclude=DEVICE_UNCHECKED_FIELDS)
    )
    for name, messages in own.items():
        errors.setdefault(name, messages)
    return errors


def prepare_device(
    *,
    community: Community,
    place: str,
    building: Building | None = None,
    apartment: Apartment | None = None,
    device: Device | None = None,
    mac,
    fields: dict,
    relays: list[dict],
    security_relay: dict | None = None,
    buildings: list[Building] | None = None,
) -> PreparedDevice:
    """Validate a new or changed device without writing; errors are keyed by form field."""
    errors: dict[str, list[str]] = {}
    if device is None:
        device = Device(community=community, place=place, building=building, apartment=apartment)
    for name, value in fields.items():
        if name not in DEVICE_FIELDS:
            raise ValueError(f"{name} cannot be set here")
        setattr(device, name, value)
    errors.update(device_field_errors(device, offline=offline_solution_enabled(community)))
    entry, mac_errors = _bind_mac(community, mac, device if device.pk else None)
    if mac_errors:
        errors["mac"] = mac_errors
    else:
        device.mac_address = entry
    chosen = None
    if device.place == Place.PUBLIC and not device.all_buildings:
        chosen = list(buildings or [])
        if not chosen:
            errors["buildings"] = [gettext("Choose at least one building, or tick All Buildings.")]
        elif any(b.community_id != community.pk for b in chosen):
            errors["buildings"] = [gettext("Choose buildings of this community.")]
    if device.works_offline and apartment is not None and apartment.pk:
        other = Device.objects.filter(apartment=apartment, works_offline=True).exclude(pk=device.pk).first()
        if other is not None:
            errors["works_offline"] = [
                gettext(
                    "“%(name)s” already transfers calls for offline door phones in this apartment; "
                    "an apartment has one such indoor monitor."
                )
                % {"name": other.name}
            ]
    built = _relays(relays, security_relay, device, errors)
    return PreparedDevice(device=device, relays=built, buildings=chosen, errors=errors)


def save_prepared(prepared: PreparedDevice, *, created: bool, served_changed: bool = False) -> Device:
    """Write a validated device with its relays; the caller holds the transaction. A new device,
    or one whose relays changed (or `served_changed`: its type or buildings), is announced to the
    apps above (`hooks.devices_changed`: a door device gets its user list again)."""
    device = prepared.device
    before = [] if created else relay_summary(device.relays.all())
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError as exc:
        if "device_one_offline_monitor_per_apartment" in str(exc):
            raise ValidationError(
                {"works_offline": gettext("This apartment already has an indoor monitor that works offline.")}
            ) from exc
        raise
    if not created:
        device.relays.all().delete()
    for relay in prepared.relays:
        relay.device = device
    Relay.objects.bulk_create(prepared.relays)
    if device.place == Place.PUBLIC:
        device.buildings.set(prepared.buildings or [])
    after = relay_summary(prepared.relays)
    audit.record_related(instance=device, created=created, name="relays", before=before, after=after)
    if created:
        _count_devices(device.community_id, 1)
    if created or served_changed or before != after:
        hooks.announce_devices_changed([device.pk])
    return device


def _authorize_place(actor, model, community: Community, building, apartment, buildings=()) -> None:
    """A create under `community`, at a building or apartment and serving `buildings`: each one
    the actor's (another tenant's is not found)."""
    authz.authorize(actor, roles.ADD, model, parent=community)
    for where in (building, apartment):
        if where is not None:
            authz.authorize(actor, roles.VIEW, where)
    if buildings:
        authz.get_many_for_actor(Building, actor, [b.pk for b in buildings])


def _placed(community: Community, building, apartment) -> tuple[str, Building | None, Apartment | None]:
    """The place, building and apartment of a new device or camera, all of the community's
    (the caller authorized them: `_authorize_place`)."""
    if apartment is not None:
        building = apartment.building
    for where in (building, apartment):
        if where is not None and where.community_id != community.pk:
            raise PermissionDenied
    if apartment is not None:
        return Place.APARTMENT, building, apartment
    return (Place.BUILDING if building is not None else Place.PUBLIC), building, None


@transaction.atomic
def device_create(
    *,
    actor,
    community: Community,
    building: Building | None = None,
    apartment: Apartment | None = None,
    mac,
    fields: dict,
    relays: list[dict],
    security_relay: dict | None = None,
    buildings: list[Building] | None = None,
) -> Device:
    """Add Device to the public area (no building), a building, or an apartment."""
    _authorize_place(actor, Device, community, building, apartment, buildings)
    community = _lock_community(community.pk)
    if apartment is not None:
        apartment = (
            Apartment.objects.select_for_update(of=("self",)).select_related("building").get(pk=apartment.pk)
        )
    place, building, apartment = _placed(community, building, apartment)
    prepared = prepare_device(
        community=community,
        place=place,
        building=building,
        apartment=apartment,
        mac=mac,
        fields=fields,
        relays=relays,
        security_relay=security_relay,
        buildings=buildings,
    )
    _raise(prepared.errors)
    return save_prepared(prepared, created=True)


@transaction.atomic
def device_update(
    *,
    actor,
    device: Device,
    mac,
    fields: dict,
    relays: list[dict],
    security_relay: dict | None = None,
    buildings: list[Building] | None = None,
) -> Device:
    """Edit a device; its place stays. A new MAC is bound and the old one goes back unbound."""
    authz.authorize(actor, roles.CHANGE, device)
    if buildings:
        authz.get_many_for_actor(Building, actor, [b.pk for b in buildings])
    community = _lock_community(device.community_id)
    current = (
        Device.objects.select_for_update(of=("self",))
        .select_related("building", "apartment")
        .filter(pk=device.pk)
        .first()
    )
    if current is None:
        raise ValidationError(GONE)
    was_indoor_monitor = current.device_type == DeviceType.INDOOR_MONITOR
    was_linkable = current.known_model == LINKABLE_MODEL
    old_mac_id = current.mac_address_id
    served_before = _served(current)
    prepared = prepare_device(
        community=community,
        place=current.place,
        building=current.building,
        apartment=current.apartment,
        device=current,
        mac=mac,
        fields=fields,
        relays=relays,
        security_relay=security_relay,
        buildings=buildings,
    )
    errors = prepared.errors
    if was_indoor_monitor and current.device_type != DeviceType.INDOOR_MONITOR:
        reason = _last_indoor_monitor(community, current)
        if reason:
            errors.setdefault("device_type", []).append(reason)
    if current.device_type not in DOOR_PHONES and current.cameras.exists():
        names = ", ".join(c.name for c in current.cameras.all())
        errors.setdefault("device_type", []).append(
            gettext(
                "Cameras are linked to this door phone (%(cameras)s). Unlink them before changing its type."
            )
            % {"cameras": names}
        )
    elif was_linkable and current.known_model != LINKABLE_MODEL and current.cameras.exists():
        names = ", ".join(c.name for c in current.cameras.all())
        errors.setdefault("chosen_model", []).append(
            gettext(
                "Cameras are linked to this %(model)s (%(cameras)s). Unlink them before changing its model."
            )
            % {"model": LINKABLE_MODEL, "cameras": names}
        )
    _raise(errors)
    if current.mac_address_id != old_mac_id:
        # Another MAC is another device: its registration opens, the old one's secret and
        # liveness are not its.
        current.api_secret_hash = current.claim_hash = ""
        current.last_seen_at = current.lan_address = None
        liveness.forget(macs=[old_mac_id])
        RegistrationRequest.objects.filter(device=current).delete()
    served_changed = _served(current, prepared.buildings or []) != served_before
    return save_prepared(prepared, created=False, served_changed=served_changed)


def _served(device: Device, buildings: list[Building] | None = None) -> tuple:
    """What decides the credentials a door device holds besides its place and relays: its type
    and the buildings it serves (`buildings`, else the stored ones)."""
    if device.place != Place.PUBLIC or device.all_buildings:
        ids = set()
    elif buildings is None:
        ids = set(device.buildings.values_list("pk", flat=True))
    else:
        ids = {b.pk for b in buildings}
    return (device.device_type, device.all_buildings, ids)


def _last_indoor_monitor(community: Community, device: Device, *, lock: bool = True) -> str:
    """Why the apartment cannot lose this indoor monitor, or ""."""
    if device.place != Place.APARTMENT or not requires_indoor_monitor(community):
        return ""
    if lock:
        Apartment.objects.select_for_update().filter(pk=device.apartment_id).first()
    others = (
        Device.objects.filter(apartment_id=device.apartment_id, device_type=DeviceType.INDOOR_MONITOR)
        .exclude(pk=device.pk)
        .exists()
    )
    if others:
        return ""
    return gettext(
        "APT %(number)s must keep an indoor monitor: %(community)s uses the %(plan)s feature plan. "
        "Add another indoor monitor first."
    ) % {
        "number": device.apartment.number,
        "community": community.name,
        "plan": community.get_feature_plan_display(),
    }


def device_delete_refusal(device: Device, *, lock: bool = False) -> str | None:
    """Why the device cannot be deleted (the last indoor monitor of a Basic-plan apartment), or
    None: the Delete Device dialog says it before the click, device_delete asks it under its
    locks. Expects the device's community and apartment loaded."""
    if device.device_type != DeviceType.INDOOR_MONITOR:
        return None
    return _last_indoor_monitor(device.community, device, lock=lock) or None


@transaction.atomic
def device_delete(*, actor, device: Device) -> None:
    """Delete a device and unbind its MAC (the MAC stays in the library)."""
    authz.authorize(actor, roles.DELETE, device)
    community = _lock_community(device.community_id)
    current = (
        Device.objects.select_for_update(of=("self",))
        .select_related("apartment")
        .filter(pk=device.pk)
        .first()
    )
    if current is None:
        raise ValidationError(GONE)
    current.community = community
    reason = device_delete_refusal(current, lock=True)
    if reason:
        raise ValidationError(reason)
    current.delete()
    liveness.forget(macs=[current.mac_address_id])
    _count_devices(community.pk, -1)


def device_deletion_summary(*, device: Device) -> list[str]:
    summary = [
        gettext("the device “%(name)s” (%(type)s, %(location)s)")
        % {"name": device.name, "type": device.get_device_type_display(), "location": device.location},
        gettext("its relays; the MAC %(mac)s stays in the MAC library, unbound")
        % {"mac": device.mac_address.mac},
    ]
    cameras = list(device.cameras.values_list("name", flat=True))
    if cameras:
        summary.append(
            gettext("its link to the camera(s) %(cameras)s (the cameras stay)")
            % {"cameras": ", ".join(cameras)}
        )
    return summary


# --- bulk writes (the template import) ----------------------------------------------------------

# A new door phone or access control opens its door with Relay1, as the Add Device dialog's first
# relay does (On, every access method); indoor monitors and guard phones get theirs in Edit.
DEFAULT_RELAY_TYPES = frozenset((*DOOR_PHONES, DeviceType.ACCESS_CONTROL))
DEFAULT_RELAY = {
    "enabled": True,
    "name": "Relay1",
    "dtmf_code": "",
    "access_methods": list(AccessMethod.values),
}


def default_relays(device: Device) -> list[dict]:
    """The relays a device added without any gets (the `relays` argument of `device_create`)."""
    return [dict(DEFAULT_RELAY)] if device.device_type in DEFAULT_RELAY_TYPES else []


def _add_error(errors: dict, index: int, field: str, message: str) -> None:
    errors.setdefault(index, {}).setdefault(field, []).append(message)


def _mac_bulk_errors(community: Community, devices: list[Device], errors: dict) -> None:
    """`_bind_mac` for many: each MAC in the installer's library (locked), bound to no device."""
    wanted: dict[int, int] = {}
    for index, device in enumerate(devices):
        if device.mac_address_id is None:
            _add_error(errors, index, "mac", gettext("Enter the device's MAC address."))
        elif wanted.setdefault(device.mac_address_id, index) != index:
            _add_error(errors, index, "mac", gettext("This MAC is given twice."))
    entries = dict(
        MacAddress.objects.select_for_update()
        .filter(pk__any_of=list(wanted))
        .order_by("pk")
        .values_list("pk", "installer_id")
    )
    for pk, index in wanted.items():
        if entries.get(pk) != community.installer_id:
            _add_error(
                errors,
                index,
                "mac",
                gettext("This MAC is not in your MAC library. Add it in the MAC Library module first."),
            )
    for bound in Device.objects.filter(mac_address_id__any_of=list(wanted)).select_related(
        "community", "building", "apartment", "mac_address"
    ):
        index = wanted[bound.mac_address_id]
        _add_error(errors, index, "mac", bound_message(bound.mac_address.mac, bound))


@transaction.atomic
def device_bulk_create(*, actor, community: Community, devices: list[Device]) -> list[Device]:
    """Add Device for many new devices of one community, each with its default relays
    (`default_relays`). Each device comes with its place, its saved building or apartment, its
    MAC library entry (`mac_address_id`) and its fields set."""
    authz.authorize(actor, roles.ADD, Device, parent=community)
    community = _lock_community(community.pk)
    offline = offline_solution_enabled(community)
    checks = FieldChecks(Device, exclude=DEVICE_UNCHECKED_FIELDS)
    errors: dict[int, dict] = {}
    offline_apartments: dict[int, int] = {}
    for index, device in enumerate(devices):
        # Perhaps created just before: their ids are set from them here.
        building, apartment = device.building, device.apartment
        for where in (building, apartment):
            if where is not None and (where.pk is None or where.community_id != community.pk):
                raise authz.NotFound
        if apartment is not None and building != apartment.building:
            raise ValueError("an apartment's device is in the apartment's building")
        attach(device, community=community, building=building, apartment=apartment)
        problems = device_field_errors(device, offline=offline, checks=checks)
        if device.place == Place.PUBLIC and not device.all_buildings:
            problems["buildings"] = [gettext("Choose at least one building, or tick All Buildings.")]
        if device.works_offline and offline_apartments.setdefault(device.apartment_id, index) != index:
            problems["works_offline"] = [gettext("An apartment has one indoor monitor that works offline.")]
        if problems:
            errors[index] = problems
    if offline_apartments:
        for apartment_id in Device.objects.filter(
            apartment_id__any_of=list(offline_apartments), works_offline=True
        ).values_list("apartment_id", flat=True):
            _add_error(
                errors,
                offline_apartments[apartment_id],
                "works_offline",
                gettext("This apartment already has an indoor monitor that works offline."),
            )
    _mac_bulk_errors(community, devices, errors)
    bulk.raise_errors(errors)
    for device in devices:
        device.model = model_for_firmware(device.firmware_version)  # what Device.save() sets
    bulk.bulk_insert(Device, devices, audit=False)
    relays: dict[int, list[Relay]] = {}
    for device in devices:
        built = []
        for number, data in enumerate(default_relays(device), start=1):
            relay = _relay(RelayKind.RELAY, number, data, f"relay{number}", {})
            relay.device = device
            built.append(relay)
        relays[device.pk] = built
    bulk.bulk_insert(Relay, [r for built in relays.values() for r in built], audit=False)
    _count_devices(community.pk, len(devices))
    hooks.announce_devices_changed([d.pk for d in devices])

    def relay_changes(device):  # as `record_related` joins them to the "Created" entry
        after = relay_summary(relays[device.pk])
        return {"relays": [None, after]} if after else {}

    audit.record_many(action=AuditAction.CREATE, instances=devices, related=relay_changes)
    return devices


@transaction.atomic
def device_bulk_rename(*, actor, devices: list[Device]) -> list[Device]:
    """Edit Device's Device Name for many devices (their new names set on them)."""
    authz.get_many_for_actor(Device, actor, [d.pk for d in devices], roles.CHANGE)
    errors = {}
    for index, device in enumerate(devices):
        device.name = (device.name or "").strip()
        problems = model_field_errors(device, exclude=[], only=("name",))
        if problems:
            errors[index] = problems
    bulk.raise_errors(errors)
    if devices:
        Device.objects.bulk_update(devices, ["name"], batch_size=1000)
        audit.record_many(action=AuditAction.UPDATE, instances=devices)
    return devices


# --- third-party cameras -----------------------------------------------------------------------


def _same_place(camera: ThirdPartyCamera, device: Device) -> bool:
    if device.community_id != camera.community_id or device.place != camera.place:
        return False
    if camera.place == Place.BUILDING:
        return device.building_id == camera.building_id
    if camera.place == Place.APARTMENT:
        return device.apartment_id == camera.apartment_id
    return True


@sensitive_variables("password")
def _camera_errors(camera: ThirdPartyCamera, password: str | None, linked: list[Device]) -> dict:
    for name in CAMERA_FIELDS:
        setattr(camera, name, (getattr(camera, name) or "").strip())
    errors = model_field_errors(
        camera, exclude=["community", "building", "apartment", "place", "password_ciphertext"]
    )
    if password is not None:
        if not password:
            errors["password"] = [gettext("Enter the password the camera's manufacturer provided.")]
        elif len(password) > MAX_CAMERA_PASSWORD:
            errors["password"] = [
                gettext("Use at most %(count)s characters.") % {"count": MAX_CAMERA_PASSWORD}
            ]
    refused = [
        d.name
        for d in linked
        if not (_same_place(camera, d) and d.known_model == LINKABLE_MODEL and d.device_type in DOOR_PHONES)
    ]
    if refused:
        errors["linked_devices"] = [
            gettext("%(devices)s: only R29 door phones of the camera's own %(place)s can be linked.")
            % {"devices": ", ".join(refused), "place": Place(camera.place).label.lower()}
        ]
    return errors


@transaction.atomic
@sensitive_variables("password")
def camera_create(
    *,
    actor,
    community: Community,
    building: Building | None = None,
    apartment: Apartment | None = None,
    fields: dict,
    password: str,
    linked_devices: list[Device] = (),
) -> ThirdPartyCamera:
    _authorize_place(actor, ThirdPartyCamera, community, building, apartment)
    if linked_devices:
        authz.get_many_for_actor(Device, actor, [d.pk for d in linked_devices])
    place, building, apartment = _placed(community, building, apartment)
    camera = ThirdPartyCamera(
        community=community,
        place=place,
        building=building,
        apartment=apartment,
        **{k: v for k, v in fields.items() if k in CAMERA_FIELDS},
    )
    linked = list(linked_devices)
    _raise(_camera_errors(camera, password or "", linked))
    camera.password_ciphertext = crypto.encrypt(password)
    camera.save()
    camera.linked_devices.set(linked)
    _audit_links(camera, [], linked, created=True)
    return camera


def _audit_links(camera: ThirdPartyCamera, before: list[Device], after: list[Device], created=False) -> None:
    old, new = sorted(d.name for d in before), sorted(d.name for d in after)
    audit.record_related(instance=camera, created=created, name="linked_devices", before=old, after=new)


@transaction.atomic
@sensitive_variables("password")
def camera_update(
    *,
    actor,
    camera: ThirdPartyCamera,
    fields: dict,
    password: str | None = None,
    linked_devices: list[Device] = (),
) -> ThirdPartyCamera:
    """Edit a camera; an empty or missing password keeps the stored one."""
    authz.authorize(actor, roles.CHANGE, camera)
    if linked_devices:
        authz.get_many_for_actor(Device, actor, [d.pk for d in linked_devices])
    current = ThirdPartyCamera.objects.select_for_update().filter(pk=camera.pk).first()
    if current is None:
        raise ValidationError(GONE)
    for name, value in fields.items():
        if name not in CAMERA_FIELDS:
            raise ValueError(f"{name} cannot be set here")
        setattr(current, name, value)
    linked = list(linked_devices)
    _raise(_camera_errors(current, password or None, linked))
    if password:
        current.password_ciphertext = crypto.encrypt(password)
    current.save()
    before = list(current.linked_devices.all())
    current.linked_devices.set(linked)
    _audit_links(current, before, linked)
    return current


@transaction.atomic
def camera_delete(*, actor, camera: ThirdPartyCamera) -> None:
    authz.authorize(actor, roles.DELETE, camera)
    camera.delete()


def camera_password(camera: ThirdPartyCamera) -> str:
    """The clear password, for what hands it to apps and devices; never for a page or a log."""
    return crypto.decrypt(camera.password_ciphertext)


def rotate_camera_passwords(*, batch_size: int = 500) -> int:
    """Re-encrypt every camera password and every provisioning code with the first key; returns
    how many changed."""
    return _rotate(ThirdPartyCamera, "password_ciphertext", batch_size) + _rotate(
        ProvisioningCode, "code_ciphertext", batch_size
    )


def _rotate(model, field_name: str, batch_size: int) -> int:
    changed = 0
    queryset = model.objects.order_by("pk").only("pk", field_name)
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(queryset.filter(pk__gt=last_pk).select_for_update()[:batch_size])
            if not batch:
                return changed
            stale = [row for row in batch if not crypto.is_current(getattr(row, field_name))]
            for row in stale:
                setattr(row, field_name, crypto.rotate(getattr(row, field_name)))
            model.objects.bulk_update(stale, [field_name])
            changed += len(stale)
            last_pk = batch[-1].pk


# --- what the residents app asks of its devices (registered in apps.py) ---------------------------

INDOOR_MONITOR = "indoor_monitor"


def indoor_monitor_requirement(community: Community) -> residents_hooks.Requirement | None:
    """Basic: a new apartment comes with its indoor monitor."""
    if not requires_indoor_monitor(community):
        return None
    return residents_hooks.Requirement(
        key=INDOOR_MONITOR,
        field="monitor_mac",
        message=gettext(
            "The feature plan of %(community)s needs an indoor monitor in every apartment: "
            "add it with the APT."
        )
        % {"community": community.name},
    )


@transaction.atomic
def apartment_create_with_indoor_monitor(
    *, actor, building: Building, apartment: dict, resident: dict | None, indoor_monitor: dict
) -> Apartment:
    """Add APT of a Basic community: `residents.services.apartment_create` and the apartment's
    indoor monitor ({"mac", "fields", "relays"}) in one transaction. The apartment's and the
    monitor's errors come back together, the monitor's keyed "monitor_<field>"."""
    authz.require_role(actor, roles.ADD, Device)
    errors: dict[str, list[str]] = {}
    apt = None
    try:
        with transaction.atomic():
            apt = residents_services.apartment_create(
                actor=actor,
                building=building,
                apartment=apartment,
                resident=resident,
                provided={INDOOR_MONITOR},
            )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    community = _lock_community(building.community_id)
    monitor = prepare_device(
        community=community,
        place=Place.APARTMENT,
        building=building,
        apartment=apt,
        mac=indoor_monitor.get("mac"),
        fields={**indoor_monitor.get("fields", {}), "device_type": DeviceType.INDOOR_MONITOR},
        relays=indoor_monitor.get("relays", []),
    )
    errors.update({f"monitor_{name}": messages for name, messages in monitor.errors.items()})
    _raise(errors)
    monitor.device.apartment = apt
    save_prepared(monitor, created=True)
    return apt


def _create_with_monitor(*, actor, building, form) -> Apartment:
    return apartment_create_with_indoor_monitor(
        actor=actor,
        building=building,
        apartment=form.apartment_data(),
        resident=form.resident_data() if form.adds_resident() else None,
        indoor_monitor=form.indoor_monitor_data(),
    )


def apartment_add_dialog(community: Community) -> residents_hooks.ApartmentAdd | None:
    """Basic: the Add APT dialog asks for the indoor monitor too."""
    if not requires_indoor_monitor(community):
        return None
    from .forms import ApartmentWithMonitorForm

    return residents_hooks.ApartmentAdd(form_class=ApartmentWithMonitorForm, create=_create_with_monitor)


def apartment_panels(actor, apartment: Apartment) -> dict:
    """The apartment page's Intercom Devices and Third Party Devices."""
    from . import selectors

    return {
        "devices": selectors.apartment_devices(actor=actor, apartment=apartment),
        "cameras": selectors.apartment_cameras(actor=actor, apartment=apartment),
    }


def apartment_deletion_summary(apartment: Apartment) -> list[str]:
    summary = []
    names = list(apartment.devices.order_by("name").values_list("name", flat=True))
    if names:
        summary.append(
            gettext("%(count)s intercom device(s): %(names)s (their MACs stay in the MAC library)")
            % {"count": len(names), "names": ", ".join(names)}
        )
    cameras = apartment.cameras.count()
    if cameras:
        summary.append(gettext("%(count)s third-party camera(s)") % {"count": cameras})
    return summary


def apartment_deleting(apartment: Apartment) -> None:
    """Its devices go with it (the cascade): the community's Device Count follows."""
    count = apartment.devices.count()
    if count:
        _count_devices(apartment.community_id, -count)


def apartment_moved(apartment: Apartment) -> None:
    """An apartment's devices and cameras store its building too: they move with it."""
    audit.update(Device.objects.filter(apartment=apartment), building=apartment.building_id)
    audit.update(ThirdPartyCamera.objects.filter(apartment=apartment), building=apartment.building_id)


def community_recount(community_id: int) -> dict[str, int]:
    return {"device_count": Device.objects.filter(community_id=community_id).count()}


# --- First contact: adopting a registration, the provisioning code ---------------------------------


@transaction.atomic
def registration_adopt(*, actor, registration_request: RegistrationRequest) -> Device:
    """Adopt a pending first contact: its device gets the secret of that claim (any earlier
    secret stops working) and every other request of the device is dropped."""
    request = authz.get_for_actor(
        RegistrationRequest, actor, registration_request.pk, roles.CHANGE, lock=True
    )
    device = authz.get_for_actor(Device, actor, request.device_id, roles.CHANGE, lock=True)
    fleet.adopt(device.pk, request.claim_hash, request.firmware_version)
    audit.record(
        action=AuditAction.UPDATE,
        instance=device,
        changes={"registration": [None, f"adopted from {request.source_address or 'unknown address'}"]},
    )
    return device


@transaction.atomic
def registration_reject(*, actor, registration_request: RegistrationRequest) -> None:
    """Reject a pending first contact (a device asking again shows up again)."""
    request = authz.get_for_actor(RegistrationRequest, actor, registration_request.pk, roles.DELETE)
    authz.authorize(actor, roles.CHANGE, request.device)
    request.delete()


def _tenant_installer(actor) -> int:
    installer_id = scoping.tenant_installer_id(actor)
    if installer_id is None:
        raise PermissionDenied(gettext("Provisioning codes belong to installers."))
    return installer_id


def _new_code() -> tuple[str, dict]:
    code = secrets.token_urlsafe(18)
    return code, {"code_ciphertext": crypto.encrypt(code), "code_hash": fleet.secret_hash(code)}


def provisioning_code(*, actor) -> str:
    """The tenant's provisioning code (made on first use), for the installer's device settings."""
    authz.require_role(actor, roles.VIEW, ProvisioningCode)
    installer_id = _tenant_installer(actor)
    stored = ProvisioningCode.objects.filter(installer_id=installer_id).values_list(
        "code_ciphertext", flat=True
    )
    ciphertext = stored.first()
    if ciphertext is None:
        code, fields = _new_code()
        try:
            with transaction.atomic():
                ProvisioningCode.objects.create(installer_id=installer_id, **fields)
            return code
        except IntegrityError:  # made by a request at the same moment
            ciphertext = stored.get()
    return crypto.decrypt(ciphertext)


@transaction.atomic
def provisioning_code_regenerate(*, actor) -> str:
    """A new provisioning code; the old one stops adopting devices at once."""
    authz.require_role(actor, roles.CHANGE, ProvisioningCode)
    installer_id = _tenant_installer(actor)
    code, fields = _new_code()
    ProvisioningCode.objects.update_or_create(installer_id=installer_id, defaults=fields)
    audit.record(
        action=AuditAction.UPDATE,
        installer_id=installer_id,
        obj_repr="Provisioning code",
        changes={"provisioning_code": [None, "regenerated"]},
    )
    return code
