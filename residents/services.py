"""Apartment and end-user writes, and every rule of the spec's Resident and Device module.

- APT: 1-6 digits and "#", never starting with "#", unique within the community.
- A community never holds more apartments than its "Number of apartments".
- Names are required and at most 64 characters; email is unique among end users (any case).
- A family member's email cannot be edited once set.
- Phone numbers are checked against the chosen Country / Region.
- Reset removes exactly the spec's list and keeps the rest (see `apartment_reset`).
- Deleting end users (also by a reset) needs, for a property manager, the assignment's Delete
  Account Permission: a predicate of `smartplus.authz` (residents/permissions.py).

The UI, the xlsx import (bulk services below) and the Rent Manager sync call these functions, so a
rule lives once.
Each multi-row write runs in one transaction.
"""

from __future__ import annotations

import secrets
from functools import partial

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from communities.models import Building, Community
from smartplus import audit, authz, bulk, deletion, phones, roles
from smartplus.authz import get_for_actor
from smartplus.bulk import attach
from smartplus.models import AuditAction, NumberSequence
from smartplus.validators import model_field_errors

from . import hooks
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
FAMILY_SIP_SEQUENCE = "residents_family_sip_number"  # migration 0006


# --- validation ------------------------------------------------------------------------------


EMAIL_TAKEN = _("This email is already used by another end user.")
PHONE_FIELDS = ("mobile_number", "landline1", "landline2", "landline3")


def apartment_clash_message(number: str, building_name: str) -> str:
    return gettext("APT %(number)s already exists in this community (%(building)s).") % {
        "number": number,
        "building": building_name,
    }


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
        errors["email"] = [gettext("The email of a family member cannot be edited once set.")]
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
    values = {
        "name": community.name,
        "have": have,
        "limit": limit,
        "room": max(limit - have, 0),
        "adding": adding,
    }
    if adding > 1:
        return (
            gettext(
                "%(name)s has %(have)s apartments and room for %(room)s more (Number of apartments "
                "%(limit)s); this file adds %(adding)s. Delete an apartment first, or raise the Number "
                "of apartments in the community's settings."
            )
            % values
        )
    return (
        gettext(
            "%(name)s already has %(have)s apartments and its Number of apartments is %(limit)s. Delete "
            "an apartment first, or raise the Number of apartments in the community's settings."
        )
        % values
    )


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


def _counts(community_id: int, *, apartments: int = 0, end_users: int = 0) -> None:
    Community.objects.filter(pk=community_id).update(
        apartment_count=F("apartment_count") + apartments, end_user_count=F("end_user_count") + end_users
    )


def _lock_community(community_id: int) -> Community:
    """Serialise writes that check the community's capacity or counters."""
    return Community.objects.select_for_update().get(pk=community_id)


# --- app accounts ----------------------------------------------------------------------------


def _new_app_account(resident: Resident) -> None:
    """No usable app password until the account email delivers one (the worker makes it).
    What make_password(None) gives, without its 40 calls to secrets.choice: an import makes
    thousands."""
    resident.app_password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
    resident.app_registered_at = None


def _send_account_emails(residents) -> None:
    """After the commit, each end user with an email gets its account email from the one task
    that sends it; many are handed to the fan-out task, which queues that task for each."""
    ids = [r.pk for r in residents if r.email]
    if not ids:
        return
    from .tasks import send_resident_account_email, send_resident_account_emails

    if len(ids) == 1:
        transaction.on_commit(partial(send_resident_account_email.delay, ids[0]))
    else:
        transaction.on_commit(partial(send_resident_account_emails.delay, ids))


def _send_account_email(resident: Resident) -> None:
    _send_account_emails([resident])


# --- apartments ------------------------------------------------------------------------------


def _requirement_errors(community: Community, provided) -> dict[str, list[str]]:
    """What a new apartment of the community must come with and the caller does not add."""
    errors: dict[str, list[str]] = {}
    for requirement in hooks.requirements(community):
        if requirement.key not in provided:
            errors.setdefault(requirement.field, []).append(requirement.message)
    return errors


@transaction.atomic
def apartment_create(
    *, actor, building: Building, apartment: dict, resident: dict | None, provided=()
) -> Apartment:
    """Add APT (with its family master unless "Add Resident Later").

    A community may require more with each new apartment (Basic: an indoor monitor, see
    `hooks.apartment_requirements`); a caller that adds it in the same transaction names it in
    `provided` (devices.services.apartment_create_with_indoor_monitor).
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
    errors.update(_requirement_errors(community, provided))
    _raise(errors)
    apt.family_sip_number = family_sip_numbers(1)[0]
    apt.save()
    if master is not None:
        master.apartment = apt
        _new_app_account(master)
        _save_resident(master)
        _send_account_email(master)
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
            raise ValidationError({"building": gettext("Choose a building of this community.")})
        building = Building.objects.select_for_update().filter(pk=building.pk).first()
        if building is None:
            raise ValidationError({"building": gettext("This building no longer exists.")})
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
        # What else stores the apartment's building (its devices and cameras) moves with it.
        for hook in hooks.apartment_moved:
            hook(apt)
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
    """Delete APT with its end users, credentials and logs, and what the apps above add to it
    (`hooks.apartment_deleting`: its intercoms, whose MACs stay in the library); audit logs stay.
    """
    authz.authorize(actor, roles.DELETE, apartment)
    _lock_community(apartment.community_id)
    for hook in hooks.apartment_deleting:
        hook(apartment)
    # Set-based: one DELETE per kind of row, one audit change set with the APT's entry on top.
    removed = deletion.delete_cascade(Apartment.objects.filter(pk=apartment.pk))
    end_users = removed.get(str(Resident._meta.verbose_name_plural), 0)
    _counts(apartment.community_id, apartments=-1, end_users=-end_users)


def apartment_deletion_summary(*, apartment: Apartment) -> list[str]:
    summary = [
        gettext("APT %(number)s of %(building)s and its Family SIP Number")
        % {"number": apartment.number, "building": apartment.building.name}
    ]
    residents = list(apartment.residents.order_by("family_master_id", "pk"))
    if residents:
        names = ", ".join(r.display_name for r in residents)
        summary.append(
            gettext("%(count)s end user account(s): %(names)s") % {"count": len(residents), "names": names}
        )
    for hook in hooks.apartment_deletion_summaries:
        summary.extend(hook(apartment))
    summary.append(gettext("its access credentials, logs, messages and alarms (audit logs stay)"))
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
    for hook in hooks.apartment_resetting:
        for what, count in (hook(apartment) or {}).items():
            removed[what] = removed.get(what, 0) + count
    for hook in hooks.residents_deleting:
        hook(members)
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
    removed["access credentials"] = removed.get("access credentials", 0) + sum(
        deletion.delete_cascade(credentials, summarize=False).values()
    )
    for log in RESET_REMOVED_LOGS:  # added to what the apps' hooks removed under the same name
        what = str(log._meta.verbose_name_plural)
        removed[what] = removed.get(what, 0) + log.objects.filter(apartment=apartment).delete()[0]
    _counts(apartment.community_id, end_users=-removed["family members"])
    # The audit log shows counts as "before → after" (the family master's fields log themselves).
    changes = {what: [count, 0] for what, count in removed.items() if count}
    audit.record(action=AuditAction.RESET, instance=apartment, changes=changes)
    return removed


def resident_app_password_reset_refusal(resident: Resident | None) -> str | None:
    """Why Reset Password cannot send the family master a new app password, or None; the dialog
    and resident_app_password_reset both ask it."""
    if resident is None:
        return gettext("This APT has no resident account yet.")
    if not resident.email:
        if not resident.display_name:
            return gettext(
                "The resident has no email: the new password is sent by email. "
                "Enter the resident's email first."
            )
        return gettext(
            "%(name)s has no email: the new password is sent by email. Enter the resident's email first."
        ) % {"name": resident.display_name}
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
        raise ValidationError(gettext("Add the apartment's resident (family master) before family members."))
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
    for hook in hooks.residents_deleting:
        hook(Resident.objects.filter(Q(pk=resident.pk) | Q(family_master_id=resident.pk)))
    removed = deletion.delete_cascade(Resident.objects.filter(pk=resident.pk))
    count = removed.get(str(Resident._meta.verbose_name_plural), 0)
    _counts(resident.community_id, end_users=-count)
    return count


def resident_deletion_summary(*, resident: Resident) -> list[str]:
    summary = [gettext("the SmartPlus app account of %(name)s") % {"name": resident.display_name}]
    if resident.is_family_master:
        members = list(resident.family_members.all())
        if members:
            summary.append(
                gettext("%(count)s family member account(s): %(names)s")
                % {"count": len(members), "names": ", ".join(m.display_name for m in members)}
            )
        summary.append(
            gettext("APT %(number)s stays, without a resident") % {"number": resident.apartment.number}
        )
    return summary


# --- bulk writes (imports, the Rent Manager sync) ---------------------------------------------
#
# The single-row services' rules, checked for many rows with one query per rule, and written
# set-based. Errors come back per row (smartplus.bulk.BulkErrors); nothing is written then.


def family_sip_numbers(count: int) -> list[str]:
    """`count` new Family SIP Numbers, unique (and the column's unique constraint says so too).

    PostgreSQL: the sequence of migration 0006, all `count` in one query and without a lock, so
    concurrent imports into other communities never wait for each other's numbers. Other
    databases (SQLite, the demo) count in a locked NumberSequence row.
    """
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [FAMILY_SIP_SEQUENCE, count])
            return [str(n) for (n,) in cursor.fetchall()]
    return [str(n) for n in NumberSequence.allocate("family_sip", start=FAMILY_SIP_START, count=count)]


def _add_error(errors: dict, index: int, field: str, message: str) -> None:
    errors.setdefault(index, {}).setdefault(field, []).append(message)


@transaction.atomic
def apartment_bulk_create(
    *, actor, community: Community, apartments: list[Apartment], provided=()
) -> list[Apartment]:
    """Add APT for many apartments of one community (their family masters follow with
    `family_master_bulk_create`). Each apartment comes with its (saved) building set;
    `provided` as in `apartment_create`."""
    authz.authorize(actor, roles.ADD, Apartment, parent=community)
    community = _lock_community(community.pk)
    errors: dict[int, dict] = {}
    numbers: dict[str, int] = {}
    room = community.number_of_apartments - community.apartment_count
    for index, apt in enumerate(apartments):
        building = apt.building  # perhaps created just before: its id is set from it here
        if building.pk is None or building.community_id != community.pk:
            raise authz.NotFound
        attach(apt, community=community, building=building)
        problems = apartment_field_errors(apt, only=APARTMENT_FIELDS)  # what a caller sets
        if problems:
            errors[index] = problems
        elif numbers.setdefault(apt.number, index) != index:
            _add_error(
                errors, index, "number", gettext("APT %(number)s is given twice.") % {"number": apt.number}
            )
        if index == room:  # the first one over the Number of apartments
            _add_error(errors, index, "__all__", capacity_message(community, len(apartments)))
    if apartments:
        for field, messages in _requirement_errors(community, provided).items():
            errors.setdefault(0, {}).setdefault(field, []).extend(messages)
    for clash in Apartment.objects.filter(community=community, number__any_of=list(numbers)).select_related(
        "building"
    ):
        _add_error(
            errors,
            numbers[clash.number],
            "number",
            apartment_clash_message(clash.number, clash.building.name),
        )
    bulk.raise_errors(errors)
    for apt, number in zip(apartments, family_sip_numbers(len(apartments)), strict=True):
        apt.family_sip_number = number
    bulk.bulk_insert(Apartment, apartments, audit=False)
    _counts(community.pk, apartments=len(apartments))
    audit.record_many(action=AuditAction.CREATE, instances=apartments)
    return apartments


def _resident_bulk_errors(residents: list[Resident], errors: dict) -> None:
    """The end users' own fields, the Country / Region of each (one check per country), and
    their emails' uniqueness (one query)."""
    emails: dict[str, int] = {}
    known_countries: dict[str, bool] = {}
    for index, person in enumerate(residents):
        # The fields a caller sets (the others are the services' own); the country once per code.
        problems = resident_field_errors(person, check_country=False, only=RESIDENT_FIELDS)
        code = person.__dict__["country"] if "country" in person.__dict__ else str(person.country)
        if code and code not in known_countries:
            known_countries[code] = code in countries  # django-countries' lookup costs 5 µs
        if code and not known_countries[code]:
            problems.setdefault("country", []).append(
                gettext("Select a valid choice. %(value)s is not one of the available choices.")
                % {"value": code}
            )
        email = person.email.lower()
        if email and "email" not in problems and emails.setdefault(email, index) != index:
            problems["email"] = [gettext("%(email)s is given twice.") % {"email": person.email}]
        for field, messages in problems.items():
            for message in messages:
                _add_error(errors, index, field, message)
    if emails:
        pks = {index: residents[index].pk for index in emails.values()}
        for email, pk in (
            Resident.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__any_of=list(emails))
            .values_list("email_lower", "pk")
        ):
            index = emails[email]
            if pk != pks[index]:
                _add_error(errors, index, "email", EMAIL_TAKEN)


@transaction.atomic
def family_master_bulk_create(*, actor, community: Community, residents: list[Resident]) -> list[Resident]:
    """The resident (family master) of each of many apartments that have none: Add APT's
    Resident part, or Edit APT adding one. Each comes with its (saved) apartment set."""
    authz.authorize(actor, roles.ADD, Resident, parent=community)
    errors: dict[int, dict] = {}
    for person in residents:
        apartment = person.apartment  # perhaps created just before: its id is set from it here
        if apartment.pk is None or apartment.community_id != community.pk:
            raise authz.NotFound
        attach(person, community=community, apartment=apartment, family_master=None)
    apartment_ids = [r.apartment_id for r in residents]
    if len(set(apartment_ids)) != len(apartment_ids):
        raise ValueError("each family master needs its own apartment")
    _resident_bulk_errors(residents, errors)
    taken = set(
        Resident.objects.filter(apartment_id__any_of=apartment_ids, family_master__isnull=True).values_list(
            "apartment_id", flat=True
        )
    )
    for index, person in enumerate(residents):
        if person.apartment_id in taken:
            _add_error(
                errors,
                index,
                "__all__",
                gettext("APT %(number)s already has its resident.") % {"number": person.apartment.number},
            )
    bulk.raise_errors(errors)
    return _insert_end_users(community, residents)


def _insert_end_users(community: Community, people: list[Resident]) -> list[Resident]:
    """The checked new end users of a bulk create: app accounts, one insert, the End User
    counter, one audit entry each and their account emails (after the commit)."""
    for person in people:
        _new_app_account(person)
    try:
        with transaction.atomic():
            bulk.bulk_insert(Resident, people, audit=False)
    except IntegrityError as exc:  # a concurrent add of one of the emails
        if "resident_email_unique" in str(exc):
            raise ValidationError({"email": EMAIL_TAKEN}) from exc
        raise
    _counts(community.pk, end_users=len(people))
    audit.record_many(action=AuditAction.CREATE, instances=people)
    _send_account_emails(people)
    return people


@transaction.atomic
def family_member_bulk_create(*, actor, community: Community, members: list[Resident]) -> list[Resident]:
    """`family_member_create` for many new family members of one community (the Rent Manager
    sync's tenants): each comes with its (saved) apartment set, which must have its family
    master; each gets the master's subscription and time zone."""
    authz.authorize(actor, roles.ADD, Resident, parent=community)
    errors: dict[int, dict] = {}
    for person in members:
        apartment = person.apartment
        if apartment.pk is None or apartment.community_id != community.pk:
            raise authz.NotFound
    # Only what a member takes from its master, as plain values (a sync adds 15,000 members at
    # a time): the master's id, then its subscription and time zone.
    masters = {
        row[0]: row[1:]
        for row in Resident.objects.filter(
            apartment_id__any_of=sorted({p.apartment_id for p in members}), family_master__isnull=True
        ).values_list("apartment_id", "pk", "activated", "expires_at", "time_zone")
    }
    for index, person in enumerate(members):
        master = masters.get(person.apartment_id)
        if master is None:
            _add_error(
                errors,
                index,
                "__all__",
                gettext("Add the apartment's resident (family master) before family members."),
            )
            continue
        attach(person, community=community, apartment=person.apartment)
        person.family_master_id, person.activated, person.expires_at, person.time_zone = master
    _resident_bulk_errors(members, errors)
    bulk.raise_errors(errors)
    return _insert_end_users(community, members)


@transaction.atomic
def apartment_bulk_update(*, actor, apartments: list[Apartment], fields) -> list[Apartment]:
    """Edit APT's apartment fields for many apartments: `fields` are the ones set on them."""
    fields = sorted(fields)
    if not set(fields) <= set(APARTMENT_FIELDS) - {"number"}:
        raise ValueError(f"{fields} cannot be set here")
    authz.get_many_for_actor(Apartment, actor, [a.pk for a in apartments], roles.CHANGE)
    errors = {}
    for index, apt in enumerate(apartments):
        problems = apartment_field_errors(apt, only=fields)
        if problems:
            errors[index] = problems
    bulk.raise_errors(errors)
    if apartments and fields:
        Apartment.objects.bulk_update(apartments, fields, batch_size=1000)
        audit.record_many(action=AuditAction.UPDATE, instances=apartments)
    return apartments


@transaction.atomic
def family_master_bulk_update(*, actor, residents: list[Resident], fields) -> list[Resident]:
    """Edit APT's resident fields for many family masters; a changed email gets its account
    email, as in `apartment_update`."""
    fields = sorted(fields)
    if not set(fields) <= set(RESIDENT_FIELDS):
        raise ValueError(f"{fields} cannot be set here")
    authz.get_many_for_actor(Resident, actor, [r.pk for r in residents], roles.CHANGE)
    if any(not r.is_family_master for r in residents):
        raise ValueError("Edit family members through family_member_update")
    errors: dict[int, dict] = {}
    _resident_bulk_errors(residents, errors)
    bulk.raise_errors(errors)
    if not residents or not fields:
        return residents
    new_email = [
        r for r in residents if r.email and r.email.lower() != (r._audit_snapshot.get("email") or "").lower()
    ]
    try:
        with transaction.atomic():
            Resident.objects.bulk_update(residents, fields, batch_size=1000)
    except IntegrityError as exc:
        if "resident_email_unique" in str(exc):
            raise ValidationError({"email": EMAIL_TAKEN}) from exc
        raise
    audit.record_many(action=AuditAction.UPDATE, instances=residents)
    _send_account_emails(new_email)
    return residents


def community_recount(*, community_id: int) -> None:
    """Recompute the stored counters from the rows (an operator's repair tool)."""
    counters = {
        "apartment_count": Apartment.objects.filter(community_id=community_id).count(),
        "end_user_count": Resident.objects.filter(community_id=community_id).count(),
    }
    for hook in hooks.community_recounts:
        counters.update(hook(community_id))
    Community.objects.filter(pk=community_id).update(**counters)


# --- subscriptions (billing fills them) -------------------------------------------------------------


def subscriptions_extend(*, actor, resident_ids, expires_at, activate: bool = False) -> int:
    """Family masters paid for: activated (an activation) and expiring at `expires_at`, in one
    UPDATE (the audit records it). The actor is the paying order's installer, so an id outside
    its tenant changes nothing. Returns the number of accounts changed."""
    authz.require_role(actor, roles.CHANGE, Resident)
    rows = Resident.objects.for_actor(actor, roles.CHANGE).filter(
        pk__any_of=(wanted := sorted(set(resident_ids))), family_master__isnull=True
    )
    if rows.count() != len(wanted):
        raise authz.NotFound  # all or nothing: the caller passes ids that still exist
    values = {"expires_at": expires_at, **({"activated": True} if activate else {})}
    return audit.update(rows, **values)
