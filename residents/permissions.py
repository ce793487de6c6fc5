"""Row-level rules on end users and their data, as predicates of `smartplus.authz`.

Registered from `ResidentsConfig.ready()`; services reach them through `authz.authorize`, views
and templates through `authz.can`, so each rule lives here once. The target is the row acted on
(a resident, an apartment) or, for a question about a whole community, the community.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import PropertyManagerAssignment
from communities.choices import AccessControlPermission
from communities.models import Community
from smartplus import authz, roles


def _community_id(obj) -> int | None:
    if obj is None:
        return None
    return obj.pk if isinstance(obj, Community) else obj.community_id


def _assignment_has(actor, obj, flag: str) -> bool:
    """Assigned roles (property managers) need the assignment's flag; the others' scope suffices."""
    if not roles.is_assigned(actor):
        return True
    return PropertyManagerAssignment.objects.filter(
        property_manager_id=actor.pk, community_id=_community_id(obj), **{flag: True}
    ).exists()


@authz.register_predicate(
    "residents.resident",
    roles.DELETE,
    name="delete_account_permission",
    message=_("Deleting accounts needs the Delete Account Permission."),
)
@authz.register_predicate(
    "residents.apartment",
    "reset",
    name="delete_account_permission",
    message=_(
        "Resetting an APT deletes its family members' accounts: it needs the Delete Account Permission."
    ),
)
def delete_account_permission(actor, obj) -> bool:
    """ "With Delete Account Permission enabled, the property manager can delete resident
    accounts" (and reset an APT, which deletes its family members' accounts)."""
    return _assignment_has(actor, obj, "delete_account_permission")


@authz.register_predicate(
    "residents.doorlog",
    roles.VIEW,
    name="log_access_control",
    message=_("Door logs need the Log Access Control permission."),
)
@authz.register_predicate(
    "residents.callhistory",
    roles.VIEW,
    name="log_access_control",
    message=_("Call history needs the Log Access Control permission."),
)
def log_access_control(actor, obj) -> bool:
    """ "With Log Access Control enabled, the property manager can check door logs, call history
    and captured images." No portal page lists logs yet: a future one asks
    `authz.can(actor, VIEW, DoorLog, parent=community)` before listing."""
    return _assignment_has(actor, obj, "log_access_control")


@authz.register_predicate(
    "residents.accesscredential",
    roles.ADD,
    name="access_control_permission",
    message=_("This community's Permission Of Access Control Management is Only Public Area."),
)
@authz.register_predicate(
    "residents.accesscredential",
    roles.CHANGE,
    name="access_control_permission",
    message=_("This community's Permission Of Access Control Management is Only Public Area."),
)
def access_control_permission(actor, obj) -> bool:
    """The community's "Permission Of Access Control Management": with Only Public Area a property
    manager creates credentials for public devices only and sets no personal authentication.
    `obj` is the community (a public-area credential) or an apartment / resident / credential
    (a private one)."""
    if obj is None or not roles.is_assigned(actor) or isinstance(obj, Community):
        return True
    setting = (
        Community.objects.filter(pk=_community_id(obj))
        .values_list("access_control_permission", flat=True)
        .first()
    )
    return setting == AccessControlPermission.PUBLIC_AND_PRIVATE
