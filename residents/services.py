"""Apartment and end-user writes, and every rule of the spec's Resident and Device module.

- APT: 1-6 digits and "#", never starting with "#", unique within the community.
- A community never holds more apartments than its "Number of apartments".
- Names are required and at most 64 characters; email is unique among end users (any case).
- A family member's email cannot be edited once set.
- Phone numbers are checked against the chosen Country / Region.
- Reset removes exactly the spec's list and keeps the rest (see `apartment_reset`).
- Deleting end users (also by a reset) needs, for a property manager, the assignment's Delete
  Account Permission: a predicate of `smartplus.authz` (residents/permissions.py).

The UI, the xlsx import and the Rent Manager sync call these functions, so a rule lives once.
Each multi-row write runs in one transaction.
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from communities.models import Building, Community
from devices.models import Device, ThirdPartyCamera
from smartplus import audit, authz, deletion, phones, roles
from smartplus.authz import get_for_actor
from smartplus.models import AuditAction, NumberSequence
from smartplus.validators import model_field_errors

from .choices import CredentialKind
from .models import AccessCredential, Alarm, Apartment, CallHistory, DoorLog, Message, Resident

APARTMENT_FIELDS = ("floor", "number", "name", "web_relay_id", "call_type", "call_mode")
RESIDENT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "language",
    "country",
    "mobile_number",
    "landline1",
    "landline2",
    "landline3",
    "accessible_floors",
)
# What an apartment reset empties on the family master (the spec's "emails, mobile numbers,
# country/region, and landlines").
RESET_CLEARED_FIELDS = ("email", "country", "mobile_number", "landline1", "landline2", "landline3")
RESET_REMOVED_CREDENTIALS = (
    CredentialKind.PIN,
    CredentialKind.FACE,
    CredentialKind.NFC,
    CredentialKind.BLUETOOTH,
    CredentialKind.QR_CODE,
)
RESET_REMOVED_LOGS = (DoorLog, CallHistory, Message, Alarm)
FAMILY_SIP_START = 6_000_000_000


# --- validation ------------------------------------------------------------------------------


EMAIL_TAKEN = "This email is already used by another end user."
PHONE_FIELDS = ("mobile_number", "landline1", "landline2", "landline3")


def apartment_clash_message(number: str, building_name: str) -> str:
    return f"APT {number} already exists in this community ({building_name})."


def apartment_field_errors(apartment: Apartment, *, only=None) -> dict[str, list[str]]:
    """The rules of an APT's own fields (number, name, floor, web relay, call type); no query.
    `only`: just these fields (see `model_field_errors`)."""
    return model_field_errors(apartment, exclude=["family_sip_number", "community", "building"], only=only)


def _apartment_errors(apartment: Apartment) -> dict[str, list[str]]:
    errors = apartment_field_errors(apartment)
    if "number" not in errors:
        clash = (
            Apartment.objects.filter(community_id=apartment.community_id, number=apartment.number)
            .exclude(pk=apartment.pk)
            .select_related("building")
            .first()
        )
        if clash is not None:
            errors["number"] = [apartment_clash_message(clash.number, clash.building.name)]
    return errors


def resident_field_errors(
    resident: Resident, *, check_country: bool = True, only=None
) -> dict[str, list[str]]:
    """The rules of an end user's own fields: names, email format, phones for the Country /
    Region; no query. Values are stripped and phones normalised in place.

    `check_country=False` skips validating the country against the country list (the import
    derives it from a calling code; the list check costs half a millisecond a row). `only`: just
    these fields (see `model_field_errors`).
    """
    errors: dict[str, list[str]] = {}
    resident.first_name = resident.first_name.strip()
    resident.last_name = resident.last_name.strip()
    resident.email = resident.email.strip()
    # The code itself: the field's descriptor builds a Country object on every read.
    country = resident.__dict__["country"] if "country" in resident.__dict__ else str(resident.country)
    for field in PHONE_FIELDS:
        number = getattr(resident, field)
        if not number or not number.strip():
            setattr(resident, field, "")
            continue
        try:
            value = phones.normalize(number, country, mobile=field == "mobile_number")
        except ValidationError as exc:
            errors[field] = exc.messages
        else:
            setattr(resident, field, value)
    exclude = ["apartment", "community", "family_master", *([] if check_country else ["country"])]
    for field, messages in model_field_errors(resident, exclude=exclude, only=only).items():
        errors.setdefault(field, messages)
    return errors


def _resident_errors(resident: Resident, *, locked_email: str | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    resident.email = resident.email.strip()
    if locked_email and resident.email.lower() != locked_email.lower():
        errors["email"] = ["The email of a family member cannot be edited once set."]
    elif locked_email:
        resident.email = locked_email
    for field, messages in resident_field_errors(resident).items():
        errors.setdefault(field, messages)
    if resident.email and "email" not in errors:
        taken = Resident.objects.filter(email__iexact=resident.email).exclude(pk=resident.pk).exists()
        if taken:
            errors["email"] = [EMAIL_TAKEN]
    return errors


def capacity_message(community: Community, adding: int = 1) -> str:
    """The community would hold more apartments than its "Number of apartments"."""
    have, limit = community.apartment_count, community.number_of_apartments
    text = f"{community.name} already has {have} apartments and its Number of apartments is {limit}."
    if adding > 1:
        text = (
            f"{community.name} has {have} apartments and room for {max(limit - have, 0)} more "
            f"(Number of apartments {limit}); this file adds {adding}."
        )
    return f"{text} Delete an apartment first, or raise the Number of apartments in the community's settings."


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _set(obj, fields: dict, allowed: tuple[str, ...]) -> None:
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(f"{name} cannot be set here")
        if value is None and not obj._meta.get_field(name).null:
            value = ""
        setattr(obj, name, value)


def _save_resident(resident: Resident) -> None:
    """Save; a concurrent insert of the same email still ends as a message at the field."""
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        if "resident_email_unique" in str(exc):
            raise ValidationError({"email": EMAIL_TAKEN}) from exc
        raise


def _counts(community_id: int, *, apartments: int = 0, end_users: int = 0, devices: int = 0) -> None:
    Community.objects.filter(pk=community_id).update(
        apartment_count=F("apartment_count") + apartments,
        end_user_count=F("end_user_count") + end_users,
        device_count=F("device_count") + devices,
    )


def _lock_community(community_id: int) -> Community:
    """Serialise writes that check the community's capacity or counters."""
    return Community.objects.select_for_update().get(pk=community_id)


# --- app accounts ----------------------------------------------------------------------------


def _new_app_account(resident: Resident) -> None:
    """No usable app password until the account email delivers one (the worker makes it)."""
    resident.app_password = make_password(None)
    resident.app_registered_at = None


def _send_account_email(resident: Resident) -> None:
    if resident.email:
        from .tasks import send_resident_account_email

        transaction.on_commit(partial(send_resident_account_email.delay, resident.pk))


# --- apartments ------------------------------------------------------------------------------


def _prepare_indoor_monitor(*, actor, community, building, apartment, data: dict | None):
    """Basic plan: the Add APT form's indoor monitor, validated with the devices' own rules."""
    from devices import services as devices
    from devices.choices import DeviceType, Place

    # Whether the actor may add it is a predicate on the APT's ADD (devices/permissions.py).
    if not devices.requires_indoor_monitor(community):
        return None
    data = data or {}
    return devices.prepare_device(
        community=community,
        place=Place.APARTMENT,
        building=building,
        apartment=apartment,
        mac=data.get("mac"),
        fields={**data.get("fields", {}), "device_type": DeviceType.INDOOR_MONITOR},
        relays=data.get("relays", []),
    )


@transaction.atomic
def apartment_create(
    *, actor, building: Building, apartment: dict, resident: dict | None, indoor_monitor: dict | None = None
) -> Apartment:
    """Add APT (with its family master unless "Add Resident Later").

    In a community whose feature plan needs an indoor monitor in every apartment (Basic),
    `indoor_monitor` ({"mac", "fields", "relays"}) is required and added with the APT; its
    errors come back keyed "monitor_<field>".
    """
    authz.authorize(actor, roles.ADD, Apartment, parent=building)
    community = _lock_community(building.community_id)
    # A building being deleted at this moment either finishes first (then this is a 404-like
    # PermissionDenied) or waits for this APT and then refuses.
    building = Building.objects.select_for_update().filter(pk=building.pk).first()
    if building is None:
        raise PermissionDenied
    errors: dict = {}
    if community.apartment_count >= community.number_of_apartments:
        errors["__all__"] = [capacity_message(community)]
    apt = Apartment(community=community, building=building)
    _set(apt, apartment, APARTMENT_FIELDS)
    errors.update(_apartment_errors(apt))
    master = None
    if resident is not None:
        master = Resident(community=community, apartment=apt)
        _set(master, resident, RESIDENT_FIELDS)
        errors.update(_resident_errors(master))
    monitor = _prepare_indoor_monitor(
        actor=actor, community=community, building=building, apartment=apt, data=indoor_monitor
    )
    if monitor is not None:
        errors.update({f"monitor_{name}": messages for name, messages in monitor.errors.items()})
    _raise(errors)
    apt.family_sip_number = str(NumberSequence.allocate("family_sip", start=FAMILY_SIP_START)[0])
    apt.save()
    if master is not None:
        master.apartment = apt
        _new_app_account(master)
        _save_resident(master)
        _send_account_email(master)
    if monitor is not None:
        from devices.services import save_prepared

        monitor.device.apartment = apt
        save_prepared(monitor, created=True)
    _counts(community.pk, apartments=1, end_users=1 if master else 0)
    return apt


@transaction.atomic
def apartment_update(
    *, actor, apartment: Apartment, building=None, fields: dict, resident: dict | None
) -> Apartment:
    """Edit APT: the apartment's fields, and its family master's (added now if it had none)."""
    authz.authorize(actor, roles.CHANGE, apartment)
    apt = Apartment.objects.select_for_update().get(pk=apartment.pk)
    if building is not None and building.pk != apt.building_id:
        authz.authorize(actor, roles.VIEW, building)
        if building.community_id != apt.community_id:
            raise ValidationError({"building": "Choose a building of this community."})
        building = Building.objects.select_for_update().filter(pk=building.pk).first()
        if building is None:
            raise ValidationError({"building": "This building no longer exists."})
        apt.building = building
    _set(apt, fields, APARTMENT_FIELDS)
    errors = _apartment_errors(apt)
    master = apt.residents.filter(family_master__isnull=True).first()
    is_new = master is None
    old_email = "" if is_new else master.email
    if resident is not None:
        if is_new:
            authz.authorize(actor, roles.ADD, Resident, parent=apt)
            master = Resident(community_id=apt.community_id, apartment=apt)
        _set(master, resident, RESIDENT_FIELDS)
        errors.update(_resident_errors(master))
    _raise(errors)
    moved = apt.building_id != apartment.building_id
    apt.save()
    if moved:
        # An apartment's devices and cameras store its building too: they move with it.
        audit.update(Device.objects.filter(apartment=apt), building=apt.building_id)
        audit.update(ThirdPartyCamera.objects.filter(apartment=apt), building=apt.building_id)
    if resident is not None:
        if is_new:
            _new_app_account(master)
        _save_resident(master)
        if is_new:
            _counts(apt.community_id, end_users=1)
        if master.email and master.email.lower() != old_email.lower():
            _send_account_email(master)
    return apt


@transaction.atomic
def apartment_delete(*, actor, apartment: Apartment) -> None:
    """Delete APT with its end users, devices, credentials and logs (audit logs stay).

    The devices' MACs stay in the MAC library, unbound.
    """
    authz.authorize(actor, roles.DELETE, apartment)
    _lock_community(apartment.community_id)
    # Set-based: one DELETE per kind of row, one audit change set with the APT's entry on top.
    removed = deletion.delete_cascade(Apartment.objects.filter(pk=apartment.pk))
    end_users = removed.get(str(Resident._meta.verbose_name_plural), 0)
    devices = removed.get(str(Device._meta.verbose_name_plural), 0)
    _counts(apartment.community_id, apartments=-1, end_users=-end_users, devices=-devices)


def apartment_deletion_summary(*, apartment: Apartment) -> list[str]:
    summary = [f"APT {apartment.number} of {apartment.building.name} and its Family SIP Number"]
    residents = list(apartment.residents.order_by("family_master_id", "pk"))
    if residents:
        names = ", ".join(r.display_name for r in residents)
        summary.append(f"{len(residents)} end user account(s): {names}")
    devices = list(apartment.devices.order_by("name").values_list("name", flat=True))
    if devices:
        summary.append(
            f"{len(devices)} intercom device(s): {', '.join(devices)} (their MACs stay in the MAC library)"
        )
    cameras = apartment.cameras.count()
    if cameras:
        summary.append(f"{cameras} third-party camera(s)")
    summary.append("its access credentials, logs, messages and alarms (audit logs stay)")
    return summary


@transaction.atomic
def apartment_reset(*, actor, apartment: Apartment) -> dict[str, int]:
    """Empty the apartment for the next tenants, exactly as the spec lists.

    Removed: family-member accounts; the family master's email, mobile number, country/region
    and landlines; logs and histories; messages and alarms; PIN, face, NFC, Bluetooth and QR
    credentials. Kept: the family master's subscription (activation, expiration), free family
    member accounts, time zone and language; the apartment's call settings; audit logs. The app
    becomes unregistered and its login credentials are reset without an email.
    """
    # Reset deletes the family members' accounts: a property manager needs the Delete Account
    # Permission for it (a predicate on "reset", residents/permissions.py).
    authz.authorize(actor, "reset", apartment)
    _lock_community(apartment.community_id)
    removed: dict[str, int] = {}
    members = Resident.objects.filter(apartment=apartment, family_master__isnull=False)
    # RF cards are not on the spec's reset list: a departing member's cards stay with the APT.
    audit.update(
        AccessCredential.objects.filter(resident__in=members, kind=CredentialKind.RF_CARD), resident=None
    )
    gone = deletion.delete_cascade(members, summarize=False)
    removed["family members"] = gone.get(str(Resident._meta.verbose_name_plural), 0)
    master = Resident.objects.filter(apartment=apartment, family_master__isnull=True).first()
    if master is not None:
        for field in RESET_CLEARED_FIELDS:
            setattr(master, field, "")
        master.app_registered_at = None
        master.app_password = make_password(None)
        master.credentials_reset_at = timezone.now()
        master.account_email_sent_to = ""  # the next address given gets a new account email
        master.save()
    credentials = AccessCredential.objects.filter(apartment=apartment, kind__in=RESET_REMOVED_CREDENTIALS)
    removed["access credentials"] = sum(deletion.delete_cascade(credentials, summarize=False).values())
    for log in RESET_REMOVED_LOGS:
        removed[str(log._meta.verbose_name_plural)] = log.objects.filter(apartment=apartment).delete()[0]
    _counts(apartment.community_id, end_users=-removed["family members"])
    # The audit log shows counts as "before → after" (the family master's fields log themselves).
    changes = {what: [count, 0] for what, count in removed.items() if count}
    audit.record(action=AuditAction.RESET, instance=apartment, changes=changes)
    return removed


def resident_app_password_reset_refusal(resident: Resident | None) -> str | None:
    """Why Reset Password cannot send the family master a new app password, or None; the dialog
    and resident_app_password_reset both ask it."""
    if resident is None:
        return "This APT has no resident account yet."
    if not resident.email:
        return (
            f"{resident.display_name or 'The resident'} has no email: the new password is sent by "
            "email. Enter the resident's email first."
        )
    return None


@transaction.atomic
def resident_app_password_reset(*, actor, apartment_id: int) -> Resident:
    """Edit APT's Reset Password: the family master gets a new SmartPlus app password by email, in
    their language (the worker makes it; the current one works until then)."""
    apartment = get_for_actor(Apartment, actor, apartment_id, roles.CHANGE)
    master = (
        Resident.objects.select_for_update(of=("self",))
        .filter(apartment=apartment, family_master__isnull=True)
        .first()
    )
    if master is not None:
        authz.authorize(actor, roles.CHANGE, master)
    reason = resident_app_password_reset_refusal(master)
    if reason:
        raise ValidationError(reason)
    master.app_password_reset_requested_at = timezone.now()
    Resident.objects.filter(pk=master.pk).update(
        app_password_reset_requested_at=master.app_password_reset_requested_at
    )
    audit.record(
        action=AuditAction.RESET, instance=master, changes={"app password": ["", "new password emailed"]}
    )
    from .tasks import send_resident_account_email

    transaction.on_commit(partial(send_resident_account_email.delay, master.pk, reset=True))
    return master


# --- end users -------------------------------------------------------------------------------


@transaction.atomic
def family_member_create(*, actor, apartment: Apartment, fields: dict) -> Resident:
    authz.authorize(actor, roles.ADD, Resident, parent=apartment)
    master = Resident.objects.filter(apartment=apartment, family_master__isnull=True).first()
    if master is None:
        raise ValidationError("Add the apartment's resident (family master) before family members.")
    member = Resident(
        community_id=apartment.community_id,
        apartment=apartment,
        family_master=master,
        # A family member's app runs on the family master's subscription.
        activated=master.activated,
        expires_at=master.expires_at,
        time_zone=master.time_zone,
    )
    _set(member, fields, RESIDENT_FIELDS)
    _raise(_resident_errors(member))
    _new_app_account(member)
    _save_resident(member)
    _counts(apartment.community_id, end_users=1)
    _send_account_email(member)
    return member


@transaction.atomic
def family_member_update(*, actor, member: Resident, fields: dict) -> Resident:
    authz.authorize(actor, roles.CHANGE, member)
    current = Resident.objects.select_for_update().get(pk=member.pk)
    if current.is_family_master:
        raise ValueError("Edit the family master through apartment_update")
    old_email = current.email
    _set(current, fields, RESIDENT_FIELDS)
    _raise(_resident_errors(current, locked_email=old_email or None))
    _save_resident(current)
    if current.email and not old_email:
        _send_account_email(current)
    return current


@transaction.atomic
def resident_delete(*, actor, resident: Resident) -> int:
    """Delete an end user; a family master takes its family members along. Returns how many."""
    authz.authorize(actor, roles.DELETE, resident)  # with the Delete Account Permission predicate
    _lock_community(resident.community_id)
    removed = deletion.delete_cascade(Resident.objects.filter(pk=resident.pk))
    count = removed.get(str(Resident._meta.verbose_name_plural), 0)
    _counts(resident.community_id, end_users=-count)
    return count


def resident_deletion_summary(*, resident: Resident) -> list[str]:
    summary = [f"the SmartPlus app account of {resident.display_name}"]
    if resident.is_family_master:
        members = list(resident.family_members.all())
        if members:
            summary.append(
                f"{len(members)} family member account(s): " + ", ".join(m.display_name for m in members)
            )
        summary.append(f"APT {resident.apartment.number} stays, without a resident")
    return summary


def community_recount(*, community_id: int) -> None:
    """Recompute the stored counters from the rows (an operator's repair tool)."""
    Community.objects.filter(pk=community_id).update(
        apartment_count=Apartment.objects.filter(community_id=community_id).count(),
        end_user_count=Resident.objects.filter(community_id=community_id).count(),
        device_count=Device.objects.filter(community_id=community_id).count(),
    )
