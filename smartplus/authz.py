"""Authorization: the one API every service asks before it reads or writes what it was given.

Built on `roles.py` (which actions a role may take on a model) and `scoping.py` (which rows an
actor sees). Views, webhooks, beat sweeps, the Rent Manager sync and device events all reach the
services, so the services ask here, whoever called them:

    device = get_for_actor(Device, actor, device_id, action=CHANGE)   # foreign id -> NotFound
    authorize(actor, CHANGE, apartment)                               # an object handed in
    authorize(actor, ADD, Apartment, parent=building)                 # a create under a parent

- a role without the action: `PermissionDenied` (a view shows 403);
- an object outside the actor's scope, or an id that does not exist: `NotFound` (a view shows
  404, so another tenant's object is indistinguishable from a missing one);
- a row-level rule (a property manager's Delete Account Permission, Log Access Control, a
  community's access-control permission, its feature plan): a *predicate* registered here by the
  app that owns the data (`register_predicate`, from the app's `ready()`), so the framework knows
  no app and each rule lives once. A failing predicate raises `PermissionDenied` with its message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404

from . import roles


class NotFound(Http404):
    """The object is not one of the actor's (or does not exist): the same answer for both."""


@dataclass(frozen=True)
class Predicate:
    """A row-level rule: `test(actor, obj)` is True when the action is allowed on `obj`."""

    name: str
    test: Callable[[object, Model], bool]
    message: str


# (model label, action) -> predicates that must all hold.
_PREDICATES: dict[tuple[str, str], list[Predicate]] = {}


def register_predicate(model: type[Model] | str, action: str, *, name: str, message: str):
    """Decorator: `test(actor, obj)` must hold for `action` on rows of `model` (and for creates
    under a parent, `obj` is the parent). Registered once per name; re-registering replaces."""

    def decorator(test: Callable[[object, Model], bool]):
        key = (roles.label_of(model), action)
        rules = [p for p in _PREDICATES.get(key, []) if p.name != name]
        rules.append(Predicate(name=name, test=test, message=message))
        _PREDICATES[key] = rules
        return test

    return decorator


def predicates_for(model: type[Model] | str, action: str) -> list[Predicate]:
    return list(_PREDICATES.get((roles.label_of(model), action), ()))


def _model_of(target) -> type[Model]:
    return target if isinstance(target, type) else type(target)


def _visible(model: type[Model], actor, pks: Iterable[int], action: str) -> set[int]:
    return set(model.objects.for_actor(actor, action).filter(pk__in=list(pks)).values_list("pk", flat=True))


def require_role(actor, action: str, model: type[Model] | str) -> None:
    """The actor's role holds `action` on `model` at all; no row is looked at."""
    if not roles.allows(actor, model, action):
        raise PermissionDenied


def _check_predicates(actor, model, action: str, obj) -> None:
    for predicate in predicates_for(model, action):
        if not predicate.test(actor, obj):
            raise PermissionDenied(predicate.message)


def authorize(
    actor, action: str, target, *, parent: Model | None = None, model: type[Model] | None = None
) -> None:
    """Raise unless `actor` may take `action` on `target`.

    `target` is an object (checked to be one of the actor's rows for that action) or, for a
    create, a model class together with the `parent` the new row goes under (the parent must be
    visible to the actor). `model` names the proxy whose rules govern an object loaded as its
    concrete class (a `User` that is a sub-account). Row-level predicates run last."""
    model = model or _model_of(target)
    require_role(actor, action, model)
    if isinstance(target, type):
        if parent is not None and (
            parent.pk is None or not _visible(type(parent), actor, [parent.pk], roles.VIEW)
        ):
            raise NotFound
        _check_predicates(actor, model, action, parent)
        return
    if target.pk is None or not _visible(model, actor, [target.pk], action):
        raise NotFound
    _check_predicates(actor, model, action, target)


def can(actor, action: str, target, *, parent: Model | None = None, model: type[Model] | None = None) -> bool:
    """`authorize` as a question, for templates and menus."""
    try:
        authorize(actor, action, target, parent=parent, model=model)
    except (PermissionDenied, Http404):
        return False
    return True


def get_for_actor(model: type[Model], actor, pk, action: str = roles.VIEW, *, queryset=None, lock=False):
    """The actor's row `pk` of `model` for `action`, or NotFound (PermissionDenied if the role
    lacks the action). `queryset` adds select_related and the like; `lock` takes a row lock
    (inside a transaction). Predicates run on the loaded row."""
    require_role(actor, action, model)
    qs = (queryset if queryset is not None else model.objects.all()).for_actor(actor, action)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        obj = qs.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound from exc
    _check_predicates(actor, model, action, obj)
    return obj


def get_many_for_actor(model: type[Model], actor, pks: Iterable, action: str = roles.VIEW, *, queryset=None):
    """The actor's rows for every id in `pks`, in one query, keyed by pk; NotFound if any id is
    not one of them (a bulk write is all or nothing). Predicates run on each row."""
    require_role(actor, action, model)
    wanted = set(pks)
    qs = (queryset if queryset is not None else model.objects.all()).for_actor(actor, action)
    try:
        rows = {obj.pk: obj for obj in qs.filter(pk__in=list(wanted))}
    except (ValueError, TypeError) as exc:
        raise NotFound from exc
    if len(rows) != len(wanted):
        raise NotFound
    for obj in rows.values():
        _check_predicates(actor, model, action, obj)
    return rows
