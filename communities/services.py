"""Community writes and every rule of the spec's community settings.

- Feature Plan and Permission Of Access Control Management cannot change once set (super manager can).
- Home Automation cannot be turned off once submitted on.
- Landline Service is not available with Home Automation.
- Community Calls only when the installer's distributor enabled it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import audit, authz, bulk, deletion, roles
from smartplus.bulk import attach
from smartplus.models import AuditAction
from smartplus.scoping import tenant_installer_id
from smartplus.validators import model_field_errors

from . import hooks
from .choices import FeaturePlan, Integration
from .models import Building, Community

SETTINGS_FIELDS = (
    "name",
    "number_of_apartments",
    "home_automation",
    "community_calls",
    "landline_service",
    "feature_plan",
    "country",
    "state",
    "city",
    "post_code",
    "street",
    "time_zone",
    "time_format",
    "date_format",
    "access_control_permission",
    "pin_mode",
    "charge_mode",
    "send_expiration_email",
    "send_renew_email",
)
IMMUTABLE_ONCE_SET = ("feature_plan", "access_control_permission")
# The spec (Property Management): "The following fields cannot be changed once they are generated
# automatically" for a community synchronised from Rent Manager; the super manager still can.
INTEGRATION_LOCKED = (
    "number_of_apartments",
    "home_automation",
    "landline_service",
    "feature_plan",
    "access_control_permission",
)
INTEGRATION_LOCKED_MESSAGE = _(
    "%(label)s was set by the Rent Manager integration and cannot be changed. Contact your super manager."
)


def community_calls_allowed(*, installer) -> bool:
    distributor = installer.distributor
    return bool(distributor and distributor.community_calls_enabled)


def _validate(*, actor, community: Community, before: dict | None) -> None:
    errors: dict[str, str] = {}
    if before is not None and not roles.allows(actor, Community, "change_locked_settings"):
        for field in IMMUTABLE_ONCE_SET:
            if getattr(community, field) != before[field]:
                label = Community._meta.get_field(field).verbose_name
                errors[field] = gettext(
                    "%(label)s cannot be changed once set. Contact your super manager."
                ) % {"label": label}
    if (
        before is not None
        and community.integration != Integration.NONE
        and not roles.allows(actor, Community, "change_locked_settings")
    ):
        for field in INTEGRATION_LOCKED:
            if getattr(community, field) != before[field]:
                label = Community._meta.get_field(field).verbose_name
                errors[field] = INTEGRATION_LOCKED_MESSAGE % {"label": label}
    if before is not None and before["home_automation"] and not community.home_automation:
        errors["home_automation"] = gettext("Home Automation Service cannot be turned off once submitted.")
    if before is not None and community.number_of_apartments < community.apartment_count:
        errors["number_of_apartments"] = gettext(
            "This community already has %(count)s apartments; "
            "delete some before lowering the Number of apartments."
        ) % {"count": community.apartment_count}
    if community.home_automation and community.landline_service:
        errors["landline_service"] = gettext(
            "Landline service is not available for Home Automation Service at the moment."
        )
    was_on = before is not None and before["community_calls"]
    if (
        community.community_calls
        and not was_on
        and not community_calls_allowed(installer=community.installer)
    ):
        errors["community_calls"] = gettext(
            "Community Calls is not enabled for your account by your distributor."
        )
    try:
        community.full_clean()
    except ValidationError as exc:
        # Report field errors and rule errors together, not one round after the other.
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def community_create(*, actor, integration: str = Integration.NONE, **fields) -> Community:
    # No tenant object is given: the community goes into the actor's own tenant.
    authz.require_role(actor, roles.ADD, Community)
    installer_id = tenant_installer_id(actor)
    if installer_id is None:
        raise PermissionDenied
    community = Community(installer_id=installer_id, integration=Integration(integration), **fields)
    _validate(actor=actor, community=community, before=None)
    community.save()
    hooks.announce_address_changed(community.pk)
    return community


@transaction.atomic
def community_update(*, actor, community: Community, **fields) -> Community:
    # Lock the row so two concurrent edits cannot both pass the immutability checks.
    current = authz.get_for_actor(Community, actor, community.pk, roles.CHANGE, lock=True)
    before = {name: getattr(current, name) for name in SETTINGS_FIELDS}
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"{name} is not a community setting")
        setattr(current, name, value)
    _validate(actor=actor, community=current, before=before)
    current.save()
    if any(getattr(current, name) != before[name] for name in hooks.ADDRESS_FIELDS):
        hooks.announce_address_changed(current.pk)  # weather finds the new place
    return current


@transaction.atomic
def integration_capacity_raise(*, actor, community: Community, number_of_apartments: int) -> Community:
    """The integration's own change of a locked field: a synchronised property that gained units
    gets room for them (never lowered here). Only for integrated communities."""
    current = authz.get_for_actor(Community, actor, community.pk, roles.CHANGE, lock=True)
    if current.integration == Integration.NONE:
        raise ValidationError(gettext("Only an integrated community's capacity follows its integration."))
    if number_of_apartments > current.number_of_apartments:
        before = {name: getattr(current, name) for name in SETTINGS_FIELDS}
        current.number_of_apartments = number_of_apartments
        _validate(
            actor=actor, community=current, before={**before, "number_of_apartments": number_of_apartments}
        )
        current.save()
    return current


@transaction.atomic
def community_delete(*, actor, community: Community) -> dict[str, int]:
    """Delete the community with everything in it, set-based (a bounded number of queries for
    10,000 apartments), as one audit change set: an entry per deleted row, the community's own
    entry on top with the counts. Devices go, their MACs stay in the MAC library, unbound.
    Returns {what: rows deleted}."""
    current = authz.get_for_actor(Community, actor, community.pk, roles.DELETE, lock=True)
    with audit.change_set():
        return deletion.delete_cascade(Community.objects.filter(pk=current.pk))


def community_delete_name_error(*, community: Community, typed_name: str) -> str | None:
    """Deleting a whole community takes its name typed out: why the typed one does not confirm."""
    typed = (typed_name or "").strip()
    if typed == community.name:
        return None
    if not typed:
        return gettext("Type the community name, %(name)s, to confirm.") % {"name": community.name}
    return gettext("“%(typed)s” is not the community's name. Type %(name)s exactly to confirm.") % {
        "typed": typed,
        "name": community.name,
    }


def community_deletion_summary(*, community: Community) -> list[str]:
    """What deleting the community removes, for the confirmation dialog."""
    summary = [gettext("the community “%(name)s” and all of its settings") % {"name": community.name}]
    apartments = community.apartment_count
    if apartments:
        summary.append(
            gettext(
                "%(buildings)s building(s), %(apartments)s apartment(s) and %(end_users)s end user account(s)"
            )
            % {
                "buildings": community.buildings.count(),
                "apartments": apartments,
                "end_users": community.end_user_count,
            }
        )
    devices = community.device_count
    cameras = community.cameras.count()
    if devices or cameras:
        summary.append(
            gettext(
                "%(devices)s intercom device(s) and %(cameras)s third-party camera(s) "
                "(their MACs stay in the MAC library, unbound)"
            )
            % {"devices": devices, "cameras": cameras}
        )
    pms = community.pm_assignments.count()
    if pms:
        summary.append(
            gettext("%(count)s property manager assignment(s) (the property manager accounts stay)")
            % {"count": pms}
        )
    return summary


# --- buildings -------------------------------------------------------------------------------


def default_building_name(*, community: Community) -> str:
    """ "Building1", "Building2", ... the first one not taken, as the spec's tree names them."""
    taken = {n.lower() for n in community.buildings.values_list("name", flat=True)}
    n = 1
    while f"building{n}" in taken:
        n += 1
    return f"Building{n}"


def building_field_errors(building: Building) -> dict:
    """The rules of a building's own name (required, at most 128 characters); no query."""
    building.name = building.name.strip()
    return model_field_errors(building, exclude=["community"])


def _building_errors(building: Building) -> dict:
    errors = building_field_errors(building)
    if "name" not in errors:
        clash = (
            Building.objects.filter(community_id=building.community_id, name__iexact=building.name)
            .exclude(pk=building.pk)
            .exists()
        )
        if clash:
            errors["name"] = [
                gettext("%(community)s already has a building named %(name)s.")
                % {"community": building.community.name, "name": building.name}
            ]
    return errors


@transaction.atomic
def building_create(*, actor, community: Community, name: str) -> Building:
    authz.authorize(actor, roles.ADD, Building, parent=community)
    building = Building(community=community, name=name)
    errors = _building_errors(building)
    if errors:
        raise ValidationError(errors)
    building.save()
    return building


@transaction.atomic
def building_bulk_create(*, actor, community: Community, buildings: list[Building]) -> list[Building]:
    """`building_create` for many new buildings of one community, in one insert."""
    authz.authorize(actor, roles.ADD, Building, parent=community)
    errors: dict[int, dict] = {}
    names = {}
    for index, building in enumerate(buildings):
        attach(building, community=community)
        problems = building_field_errors(building)
        if not problems and names.setdefault(building.name.lower(), index) != index:
            problems = {"name": [gettext("%(name)s is given twice.") % {"name": building.name}]}
        if problems:
            errors[index] = problems
    taken = set(
        Building.objects.filter(community=community)
        .annotate(lower=Lower("name"))
        .filter(lower__any_of=list(names))
        .values_list("lower", flat=True)
    )
    for name in taken:
        errors.setdefault(names[name], {})["name"] = [
            gettext("%(community)s already has a building named %(name)s.")
            % {"community": community.name, "name": buildings[names[name]].name}
        ]
    bulk.raise_errors(errors)
    bulk.bulk_insert(Building, buildings, audit=False)
    audit.record_many(action=AuditAction.CREATE, instances=buildings)
    return buildings


@transaction.atomic
def building_rename(*, actor, building: Building, name: str) -> Building:
    current = authz.get_for_actor(Building, actor, building.pk, roles.CHANGE, lock=True)
    current.name = name
    errors = _building_errors(current)
    if errors:
        raise ValidationError(errors)
    current.save()
    return current


def building_contents(*, building: Building) -> list[str]:
    """What a building still holds; a building is deleted only when this is empty."""
    contents = []
    apartments = building.apartments.count()
    if apartments:
        contents.append(gettext("%(count)s apartment(s)") % {"count": apartments})
    # Apartments' devices and cameras are counted with their apartments.
    devices = building.devices.filter(apartment__isnull=True).count()
    if devices:
        contents.append(gettext("%(count)s intercom device(s)") % {"count": devices})
    cameras = building.cameras.filter(apartment__isnull=True).count()
    if cameras:
        contents.append(gettext("%(count)s third-party camera(s)") % {"count": cameras})
    # A public device serving only this building would be left serving none.
    public = building.public_devices.model.objects.filter(pk__in=building.public_devices.values("pk"))
    served_by_one = public.annotate(served=Count("buildings")).filter(served=1).order_by("name")
    only_here = [d.name for d in served_by_one]
    if only_here:
        contents.append(
            gettext("the public device(s) %(names)s that serve only this building")
            % {"names": ", ".join(only_here)}
        )
    return contents


def _still_holds(building: Building, contents: list[str]) -> str:
    # Translators: joins the things a building still holds: "2 apartment(s) and 1 intercom device(s)".
    held = gettext(" and ").join(contents)
    return gettext("%(name)s still holds %(contents)s. Delete or move them first.") % {
        "name": building.name,
        "contents": held,
    }


def building_delete_refusal(building: Building) -> str | None:
    """Why the building cannot be deleted (it still holds something), or None; the dialog and
    building_delete both ask it."""
    contents = building_contents(building=building)
    return _still_holds(building, contents) if contents else None


def building_deletion_summary(*, building: Building) -> list[str]:
    """What deleting the building removes, for the confirmation dialog."""
    return [gettext("the building “%(name)s”") % {"name": building.name}]


@transaction.atomic
def building_delete(*, actor, building: Building) -> None:
    current = authz.get_for_actor(Building, actor, building.pk, roles.DELETE, lock=True)
    reason = building_delete_refusal(current)
    if reason:
        raise ValidationError(reason)
    current.delete()


def premium_plans_extend(*, actor, community_ids, expires_at) -> int:
    """Premium feature plans paid for (billing's fulfilment): in force until `expires_at`, in one
    UPDATE. The actor is the paying order's installer."""
    authz.require_role(actor, roles.CHANGE, Community)
    rows = Community.objects.for_actor(actor, roles.CHANGE).filter(
        pk__any_of=(wanted := sorted(set(community_ids))), feature_plan=FeaturePlan.PREMIUM
    )
    if rows.count() != len(wanted):
        raise authz.NotFound  # all or nothing: the caller passes ids that still exist
    return audit.update(rows, plan_expires_at=expires_at)
