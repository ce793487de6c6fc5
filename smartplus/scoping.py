"""Tenant scoping: the only code that knows which rows each role sees.

Every tenant-owned model declares `scope_root` ("community", "installer" or "distributor") and
`scope_path`, the lookup path from the model to that root. Shared reference data that every
permitted role reads whole (the firmware catalogue) declares `scope_root = "global"`, so its reads
go through `for_actor` too and the role check stays in one place. Request code reads through
`Model.objects.for_actor(actor, action)`; the default manager stays unfiltered for Celery,
migrations and the admin.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models
from django.db.models import Q

from . import roles


def tenant_installer_id(actor) -> int | None:
    """The installer whose *whole* tenant the actor works on: an installer itself, a sub-installer
    its installer; None for everyone else. A property manager belongs to an installer's tenant
    (`member_installer_id`) but sees only its assigned communities, so it has no whole tenant."""
    role = roles.role_of(actor)
    if role == roles.INSTALLER:
        return actor.pk
    if role == roles.SUB_INSTALLER:
        return actor.installer_id
    return None


def member_installer_id(user) -> int | None:
    """The installer account `user` belongs to (an installer itself; a sub-installer or property
    manager its installer), whatever the user may see: whose audit log shows changes to the user.
    Never a scope: for what an actor may see or write, use `tenant_installer_id`."""
    if roles.role_of(user) == roles.PROPERTY_MANAGER:
        return user.installer_id
    return tenant_installer_id(user)


# role -> fn(actor) returning a `values("pk")` subquery of the actor's communities. The apps that
# own the links fill it in their ready() (communities: an installer's own communities; accounts:
# a property manager's assignments), so the framework needs no import of them.
_community_ids: dict[str, Callable] = {}


def register_community_visibility(role: str, fn: Callable) -> None:
    """Tell the framework how `role` finds its communities: `fn(actor)` -> a subquery of ids."""
    _community_ids[role] = fn


def visible_community_ids(actor):
    """A subquery of the community ids the actor may see, or None for every community.

    A role that no app registered sees none (an empty list: `pk__in=[]` matches nothing).
    """
    role = roles.role_of(actor)
    if role == roles.SUPER_MANAGER:
        return None
    fn = _community_ids.get(role)
    return fn(actor) if fn is not None else []


def _join(path: str, field: str) -> str:
    return f"{path}__{field}" if path else field


def scope_q(actor, model) -> Q | None:
    """The filter restricting `model` to the actor's rows; None means unrestricted."""
    role = roles.role_of(actor)
    if role == roles.SUPER_MANAGER:
        return None
    root, path = model.scope_root, model.scope_path
    if root == "community":
        installer_id = tenant_installer_id(actor)
        if installer_id is not None:
            # Installers and sub-installers: one join to the owner, no subquery.
            return Q(**{_join(path, "installer_id"): installer_id})
        return Q(**{_join(path, "pk__in") if path else "pk__in": visible_community_ids(actor)})
    if root == "installer":
        if role == roles.DISTRIBUTOR:
            # A distributor reaches its installers' rows only where roles.py grants it (MACs).
            return Q(**{_join(path, "distributor_id"): actor.pk}) if path else Q(distributor_id=actor.pk)
        installer_id = tenant_installer_id(actor)
        if installer_id is None and role in roles.ASSIGNED_ROLES and hasattr(model, "assigned_scope_q"):
            # Tenant rows that also belong to communities (orders): an assigned role sees those
            # of its communities that the model says it may (`assigned_scope_q(community ids)`).
            return model.assigned_scope_q(visible_community_ids(actor))
        return Q(**{_join(path, "pk") if path else "pk": installer_id}) if installer_id else Q(pk__in=[])
    if root == "global":
        return None
    if root == "distributor":
        if role == roles.DISTRIBUTOR:
            return Q(**{_join(path, "pk") if path else "pk": actor.pk})
        return Q(pk__in=[])
    raise ValueError(f"{model.__name__} has an unknown scope_root {root!r}")


class ScopedQuerySet(models.QuerySet):
    def for_actor(self, actor, action: str = roles.VIEW):
        """The rows `actor` may take `action` on; none when the role lacks the action."""
        if not roles.allows(actor, self.model, action):
            return self.none()
        q = scope_q(actor, self.model)
        return self if q is None else self.filter(q)


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass
