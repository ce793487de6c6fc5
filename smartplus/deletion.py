"""Set-based deletes: a queryset's rows and everything that cascades from them, in a number of
queries that does not grow with the rows.

Django's Collector loads every row, deletes in batches of 100 and, with the audit's post_delete
signal, inserts one audit entry per row: some four queries a row, 40,000 for a community of
10,000 apartments. Here each model of the cascade costs one DELETE (its rows chosen by subqueries
on its parents' rows), each SET_NULL relation one UPDATE and each audited model one SELECT (for
its audit entries), and all the entries go in with one bulk insert, in the caller's change set.
No delete signals are sent; the audit is the only receiver the project has.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.db import models, transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError, RestrictedError, get_candidate_relations_to_delete
from django.utils.translation import gettext

from . import audit
from .models import AuditAction, AuditedModel


def _relations(model):
    for rel in get_candidate_relations_to_delete(model._meta):
        yield rel.related_model, rel.field, rel.field.remote_field.on_delete


def _plan(root) -> list[type[models.Model]]:
    """The models the root's delete cascades to, parents before children."""
    edges: dict[type, set[type]] = {}
    todo, seen = [root], {root}
    while todo:
        model = todo.pop()
        meta = model._meta
        if meta.parents or any(hasattr(f, "bulk_related_objects") for f in meta.private_fields):
            raise NotImplementedError(f"{model.__name__}: multi-table or generic relations")
        for related, _field, on_delete in _relations(model):
            if on_delete is models.CASCADE and related is not model:
                edges.setdefault(related, set()).add(model)
                if related not in seen:
                    seen.add(related)
                    todo.append(related)
    order, placed = [], set()
    while len(order) < len(seen):
        ready = [m for m in seen - placed if edges.get(m, set()) <= placed]
        if not ready:
            raise NotImplementedError(f"cascade cycle among {sorted(m.__name__ for m in seen - placed)}")
        for model in sorted(ready, key=lambda m: m._meta.label):
            order.append(model)
            placed.add(model)
    return order


def _sets(root_queryset, order) -> dict[type, models.QuerySet]:
    """Each model's rows to delete, as a queryset over its parents' (no row is loaded)."""
    sets = {}
    for model in order:
        if not sets:
            chosen = Q(pk__in=root_queryset.order_by().values("pk"))
        else:
            conditions = [
                Q(**{f"{field.name}__in": sets[parent].values("pk")})
                for parent, field, on_delete in _incoming(model, sets)
                if on_delete is models.CASCADE
            ]
            chosen = reduce(operator.or_, conditions)
        # A self-cascade one level deep (a family master's family members) joins its rows' set.
        for related, field, on_delete in _relations(model):
            if related is model and on_delete is models.CASCADE:
                chosen |= Q(**{f"{field.name}__in": model._base_manager.filter(chosen).values("pk")})
        sets[model] = model._base_manager.filter(chosen)
    return sets


def _incoming(model, sets):
    for parent in sets:
        for related, field, on_delete in _relations(parent):
            if related is model:
                yield parent, field, on_delete


def _outside(related, field, parent_rows, sets):
    rows = related._base_manager.filter(**{f"{field.name}__in": parent_rows.values("pk")})
    if related in sets:
        rows = rows.exclude(pk__in=sets[related].values("pk"))
    return rows


def _count_label(model) -> str:
    return str(model._meta.verbose_name_plural)


@transaction.atomic
def delete_cascade(queryset, *, summarize: bool = True) -> dict[str, int]:
    """Delete `queryset`'s rows and what cascades from them, as Collector would, set-based.

    Every deleted row of an audited model gets its "Deleted" entry; with `summarize` the root
    rows' entries list how many rows of each kind went with them ("apartments: 300 → 0"), so an
    installer reading the log sees the whole delete at its top entry. Returns {verbose name
    plural: rows deleted}. A self-cascade deeper than one level (none in this project) is left
    to the database's foreign key check, which then refuses the delete.
    """
    root = queryset.model
    order = _plan(root)
    sets = _sets(queryset, order)
    # PROTECT / RESTRICT on rows that stay refuse the delete; SET_NULL / SET_DEFAULT update them.
    updates = []
    for parent in order:
        for related, field, on_delete in _relations(parent):
            if on_delete in (models.CASCADE, models.DO_NOTHING):
                continue
            rows = _outside(related, field, sets[parent], sets)
            if on_delete in (models.PROTECT, models.RESTRICT):
                blocking = list(rows[:5])
                if blocking:
                    error = ProtectedError if on_delete is models.PROTECT else RestrictedError
                    raise error(
                        gettext("%(related)s still refer to these %(parent)s")
                        % {"related": _count_label(related), "parent": _count_label(parent)},
                        blocking,
                    )
            elif on_delete in (models.SET_NULL, models.SET_DEFAULT):
                value = None if on_delete is models.SET_NULL else field.get_default()
                updates.append((rows, field.name, value))
            else:
                raise NotImplementedError(f"{related.__name__}.{field.name}: on_delete {on_delete}")
    # Each entry's name and tenant, read while the rows (and their parents) still exist; the
    # required parents come along, for names such as "PM @ community", in the same query.
    root_pks = set(queryset.values_list("pk", flat=True))
    entries = []
    for model in reversed(order):  # the root last: the log lists it first
        if not issubclass(model, AuditedModel):
            continue
        parents = [f.name for f in model._meta.concrete_fields if f.is_relation and not f.null]
        rows = list(sets[model].select_related(*parents).order_by("pk"))
        if model is root:  # rows it took along (family members) before the rows asked for
            rows.sort(key=lambda row: (row.pk in root_pks, row.pk))
        for instance, tenant in zip(rows, model.audit_installer_ids(rows), strict=True):
            entries.append(
                {
                    "model": model,
                    "object_id": instance.pk,
                    "object_repr": str(instance),
                    "installer_id": tenant,
                    "changes": {},
                }
            )
    for rows, name, value in updates:
        if issubclass(rows.model, AuditedModel):
            audit.update(rows, **{name: value})
        else:
            rows.update(**{name: value})
    deleted: dict[type, int] = {}
    for model in reversed(order):  # children first: their sets are subqueries on their parents
        qs = sets[model]
        deleted[model] = qs._raw_delete(qs.db)
    along = {**deleted, root: deleted[root] - len(root_pks)}
    summary = {  # many-to-many links are part of their rows, not things of their own
        _count_label(model): [count, 0]
        for model, count in along.items()
        if count > 0 and not model._meta.auto_created
    }
    if summarize:
        for entry in entries:
            if entry["model"] is root and entry["object_id"] in root_pks:
                entry["changes"] = summary
    if entries:
        audit.record_many(action=AuditAction.DELETE, rows=entries)
    return {
        _count_label(model): count
        for model, count in deleted.items()
        if count and not model._meta.auto_created
    }
