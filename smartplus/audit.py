"""Audit trail: every create, update and delete of an AuditedModel, with the real and acting user.

The request middleware fills `audit_context`; Celery tasks and commands run without one and are
recorded as the system. Signals record single-row saves and deletes (as NetBox's change log does);
set-based writes, which send no signals, record through `record_many`, `update` and
`smartplus.bulk`. Every entry belongs to a change set: one id per request, task or job
(`change_set`), so one import or one delete reads as one change in the log.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
import functools
import json
import operator
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_delete, post_save


@dataclass(frozen=True)
class AuditContext:
    user_id: int | None
    user_name: str
    actor_id: int | None
    actor_name: str
    remote_addr: str | None = None


audit_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "audit_context", default=None
)

_SENSITIVE = {"password", "app_password", "last_login"}

# --- change sets -------------------------------------------------------------------------------

_change_set: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "audit_change_set", default=None
)


def current_change_set() -> uuid.UUID | None:
    return _change_set.get()


@contextlib.contextmanager
def change_set(id: uuid.UUID | str | None = None) -> Iterator[uuid.UUID]:
    """Group every entry written inside into one change set (a job, an import, a command).

    Inside another change set (a request running a job eagerly) the outer one goes on: what one
    person's action caused stays one change set.
    """
    outer = _change_set.get()
    if outer is not None:
        yield outer
        return
    token = _change_set.set(uuid.UUID(str(id)) if id else uuid.uuid4())
    try:
        yield _change_set.get()
    finally:
        _change_set.reset(token)


def _entry_change_set() -> uuid.UUID:
    # Outside any change set (a shell) each write is a change set of its own.
    return _change_set.get() or uuid.uuid4()


def start_change_set(id: uuid.UUID | str | None = None) -> contextvars.Token:
    """For callers whose start and end are two hooks (a request, a Celery task); end it with
    `end_change_set(token)`."""
    try:
        value = uuid.UUID(str(id)) if id else uuid.uuid4()
    except ValueError:
        value = uuid.uuid4()
    return _change_set.set(value)


def end_change_set(token: contextvars.Token) -> None:
    _change_set.reset(token)


_PLAIN_TYPES = frozenset({str, int, bool, float, type(None)})


def _plain(value):
    if type(value) in _PLAIN_TYPES:  # most values; a bulk record turns 200,000 of them
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


@functools.cache
def _audited_fields(model) -> tuple[str, ...]:
    skip = _SENSITIVE | set(model.audit_exclude)
    return tuple(
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in skip and f.name not in {"created", "modified"}
    )


def _values(instance) -> dict:
    # Loaded values straight from the instance's __dict__ (as the fields' descriptors would
    # read them); a deferred one through the descriptor.
    data = instance.__dict__
    return {
        name: _plain(data[name] if name in data else getattr(instance, name))
        for name in _audited_fields(type(instance))
    }


def _null(value) -> str:
    return "null"


def _boolean(value) -> str:
    return "true" if value else "false"


# How json.dumps writes a value that `_plain` keeps as it is, per type; None: not a scalar. Filled
# in as types are met (str and int subclasses: the models' choices enums).
_SCALAR_JSON: dict[type, Callable[[object], str] | None] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    bool: _boolean,
    type(None): _null,
}


def _scalar_json(kind: type) -> Callable[[object], str] | None:
    if kind not in _SCALAR_JSON:
        if issubclass(kind, str):
            _SCALAR_JSON[kind] = encode_basestring_ascii
        elif issubclass(kind, int) and not issubclass(kind, bool):
            _SCALAR_JSON[kind] = int.__repr__
        else:
            _SCALAR_JSON[kind] = None
    return _SCALAR_JSON[kind]


@functools.cache
def _created_shape(model) -> tuple[Callable[[dict], tuple], str]:
    """The audited fields' getter from an instance's __dict__, and the JSON text of a "Created"
    entry's changes ({field: [null, value]}, json.dumps' layout) with a %s per value."""
    names = _audited_fields(model)
    pairs = ", ".join(json.dumps(name).replace("%", "%%") + ": [null, %s]" for name in names)
    return operator.itemgetter(*names), "{" + pairs + "}"


def _created(instance) -> tuple[dict, str | None]:
    """`_values(instance)`, and the JSON of its "Created" changes when every value is a scalar
    (None: build the dict): an import records 30,000 of these, the dict and the encoder cost
    three times as much."""
    getter, template = _created_shape(type(instance))
    names = _audited_fields(type(instance))
    try:
        values = getter(instance.__dict__)
    except KeyError:  # a deferred field: read through its descriptor
        return _values(instance), None
    if len(names) == 1:
        values = (values,)
    try:
        texts = tuple([_SCALAR_JSON[type(value)](value) for value in values])
    except (KeyError, TypeError):  # a type not met yet, or not a scalar (None in the table)
        if any(_scalar_json(type(value)) is None for value in values):
            return _values(instance), None
        texts = tuple([_SCALAR_JSON[type(value)](value) for value in values])
    return dict(zip(names, values, strict=True)), template % texts


def _created_changes(instance, related: Callable[[object], dict] | None):
    """A "Created" entry's changes: every audited field from None, and `related(instance)`'s
    rows joined (as `record_related` does); JSON text already when it can be. Renews the
    instance's snapshot."""
    from .bulk import JSONText

    now, text = _created(instance)
    instance._audit_snapshot = now
    extra = related(instance) if related is not None else None
    if text is not None and not extra:
        return JSONText(text)
    return {**{k: [None, v] for k, v in now.items()}, **(extra or {})}


def record(*, action: str, instance=None, installer_id=None, changes=None, obj_repr=None) -> None:
    from .models import AuditLog

    ctx = audit_context.get()
    AuditLog.objects.create(
        change_set=_entry_change_set(),
        installer_id=installer_id if installer_id is not None else instance.audit_installer_id(),
        user_id=ctx.user_id if ctx else None,
        user_name=ctx.user_name if ctx else "system",
        actor_id=ctx.actor_id if ctx else None,
        actor_name=ctx.actor_name if ctx else "",
        action=action,
        object_type=ContentType.objects.get_for_model(instance, for_concrete_model=False)
        if instance is not None
        else None,
        object_id=str(instance.pk) if instance is not None else "",
        object_repr=(obj_repr if obj_repr is not None else str(instance))[:200],
        changes=changes or {},
        remote_addr=ctx.remote_addr if ctx else None,
    )


RECORD_BATCH = 2000


def record_related(*, instance, created: bool, name: str, before, after) -> None:
    """Record a change of related rows (relays, many-to-many links) that sends no save signal.

    On a create it joins the object's "Created" entry, so one user action stays one entry.
    """
    if before == after:
        return
    if created:
        from .models import AuditLog

        entry = (
            AuditLog.objects.filter(
                object_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
                object_id=str(instance.pk),
                action="create",
            )
            .order_by("-pk")
            .first()
        )
        if entry is not None:
            entry.changes[name] = [None, after]
            entry.save(update_fields=["changes"])
            return
    record(action="update", instance=instance, changes={name: [before, after]})


def record_as(*, user, actor, remote_addr=None, **kwargs) -> None:
    """Record with explicit users, for events that happen while the request's users change."""
    token = audit_context.set(
        AuditContext(user.pk, user.get_username(), actor.pk, actor.get_username(), remote_addr)
    )
    try:
        record(**kwargs)
    finally:
        audit_context.reset(token)


def _content_type(model):
    return ContentType.objects.get_for_model(model, for_concrete_model=False)


def _installer_ids(instances: Sequence) -> list[int | None]:
    """Each instance's tenant, one query per model at most (not one per row as `record`)."""
    by_model: dict[type, list[int]] = {}
    for index, instance in enumerate(instances):
        by_model.setdefault(type(instance), []).append(index)
    result: list[int | None] = [None] * len(instances)
    for model, indexes in by_model.items():
        ids = model.audit_installer_ids([instances[i] for i in indexes])
        for index, installer_id in zip(indexes, ids, strict=True):
            result[index] = installer_id
    return result


def record_many(
    *,
    action: str,
    instances: Sequence | None = None,
    rows: Iterable[dict] | None = None,
    changes: dict | Sequence[dict] | None = None,
    installer_id: int | None = None,
    related: Callable[[object], dict] | None = None,
) -> int:
    """Record many rows with one bulk insert, all in the current change set (or one new one).

    What the save and delete signals record one row at a time, for writes that send none
    (bulk inserts, `update()`, set-based deletes).
    - `instances`: model instances (for a delete, loaded before it). `changes` is None (a create
      then records every field, as the save signal does; other actions record none), one dict
      for every instance, or a list with one dict per instance.
    - `rows`: entries without an instance, dicts of `model` (the class), `object_id`,
      `object_repr` and optionally `installer_id` and `changes`.
    - `installer_id`: every entry's tenant, when the caller knows it (saves the lookup).
    - `related(instance)`: changes of related rows joined to an instance's entry (its relays), as
      `record_related` does for a single save.
    With `changes` None, "create" records every field and "update" what differs from the values
    loaded (`_audit_snapshot`; an instance with nothing changed gets no entry): exactly what the
    save signal records for one row. Each instance's snapshot is then renewed, so a later save
    diffs against what was recorded. Returns the number of entries written.
    """
    from . import bulk
    from .models import AuditLog

    instances = list(instances or ())
    rows = list(rows or ())
    if isinstance(changes, Sequence) and not isinstance(changes, dict | str):
        if len(changes) != len(instances):
            raise ValueError("changes: one dict per instance")
        per_instance = list(changes)
    elif changes is None and action == "create":
        per_instance = [_created_changes(instance, related) for instance in instances]
    elif changes is None and action == "update":
        per_instance = []
        for instance in instances:
            now = _values(instance)
            before = getattr(instance, "_audit_snapshot", None) or {}
            per_instance.append(
                {k: [_plain(before.get(k)), v] for k, v in now.items() if _plain(before.get(k)) != v}
            )
            instance._audit_snapshot = now
    else:
        per_instance = [changes or {}] * len(instances)
    if related is not None and not (changes is None and action == "create"):  # "create" joined them
        per_instance = [{**diff, **related(i)} for i, diff in zip(instances, per_instance, strict=True)]
    if changes is None and action == "update":
        kept = [(i, d) for i, d in zip(instances, per_instance, strict=True) if d]
        instances, per_instance = [i for i, _ in kept], [d for _, d in kept]
    tenants = [installer_id] * len(instances) if installer_id is not None else _installer_ids(instances)
    ctx = audit_context.get()
    # What every entry shares is written once; each entry is a tuple of its own five values, not
    # an AuditLog instance: an import records 30,000 entries, a delete of 10,000 apartments too.
    constants = {
        "change_set": _entry_change_set(),
        "user_id": ctx.user_id if ctx else None,
        "user_name": ctx.user_name if ctx else "system",
        "actor_id": ctx.actor_id if ctx else None,
        "actor_name": ctx.actor_name if ctx else "",
        "remote_addr": ctx.remote_addr if ctx else None,
        "action": action,
    }
    types: dict[type, int | None] = {}

    def type_id(model) -> int | None:
        if model is None:
            return None
        if model not in types:
            types[model] = _content_type(model).pk
        return types[model]

    # Everything that may query (content types, a __str__ reading a relation) is done before the
    # COPY starts: COPY formats the entries as it streams them, and no query can run meanwhile.
    heads = [
        (tenant, type_id(type(instance)), str(instance.pk), str(instance)[:200])
        for instance, tenant in zip(instances, tenants, strict=True)
    ]
    heads += [
        (
            row.get("installer_id", installer_id),
            type_id(row.get("model")),
            str(row.get("object_id", "")),
            str(row.get("object_repr", ""))[:200],
        )
        for row in rows
    ]
    diffs = [*per_instance, *(row.get("changes") for row in rows)] if rows else per_instance
    return bulk.insert_rows(
        AuditLog,
        constants=constants,
        columns=("installer_id", "object_type_id", "object_id", "object_repr", "changes"),
        rows=((*head, diff or {}) for head, diff in zip(heads, diffs, strict=True)),
        batch_size=RECORD_BATCH,
    )


def _audited_attnames(model, names: Iterable[str]) -> list[str]:
    skip = _SENSITIVE | set(model.audit_exclude)
    fields = [model._meta.get_field(name) for name in names]
    return [
        f.attname
        for f in fields
        if f.attname not in skip and f.name not in skip and f.name not in {"created", "modified"}
    ]


def update(queryset, **values) -> int:
    """`queryset.update(**values)`, recording each changed row as its save() would, in bulk.

    The rows are locked and read first and then written by primary key, so the entries are
    exactly the rows changed. Fields the model leaves out of the audit (derived counters,
    secrets) are written without a read or an entry.
    """
    model = queryset.model
    audited = _audited_attnames(model, values)
    if not audited:
        return queryset.update(**values)
    from . import bulk

    light = getattr(model, "audit_repr_fields", None)
    # Thousands of instances made at once: no full collection walking them half-way.
    with bulk.full_collections_deferred(), transaction.atomic(using=queryset.db):
        returned = _update_returning(queryset, values, audited, light)
        if returned is not None:
            count, before, after = returned
        else:
            locked = queryset.select_for_update(of=("self",)).order_by("pk")
            if light is not None:
                # Only what the entries need: the changed fields, and what the row's name and
                # tenant are made of (a fulfilment updates 3,000 residents; whole rows were most).
                locked = locked.only(*audited, *light)
            before = list(locked)
            if not before:
                return 0
            pks = [row.pk for row in before]
            count = model._base_manager.filter(pk__any_of=pks).update(**values)
            written = model._base_manager.filter(pk__any_of=pks).values_list("pk", *audited)
            after = {pk: rest for pk, *rest in written}
        changed, diffs = [], []
        for row in before:
            diff = {}
            for name, new in zip(audited, after[row.pk], strict=True):
                old = _plain(getattr(row, name))
                if old != _plain(new):
                    diff[name] = [old, _plain(new)]
                setattr(row, name, new)
            if diff:
                changed.append(row)
                diffs.append(diff)
        if changed:
            record_many(action="update", instances=changed, changes=diffs)
    return count


def _update_returning(queryset, values: dict, audited: list[str], light):
    """`update`'s lock, read, write and re-read as one statement, where that is plain to do:
    PostgreSQL, constant values, and a model that names the fields its entries need. The locked
    old rows come from a sub-select the UPDATE joins, and RETURNING gives them with the new
    values as stored. (count, old instances, {pk: new audited values}), or None."""
    from django.db import connections

    model = queryset.model
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or light is None:
        return None
    opts = model._meta
    set_fields = [opts.get_field(name) for name in values]
    if any(
        hasattr(value, "resolve_expression") or isinstance(value, models.Model) or not f.concrete
        for f, value in zip(set_fields, values.values(), strict=True)
    ):
        return None
    wanted = {"pk", opts.pk.attname, *audited, *light}
    fields = [f for f in opts.concrete_fields if f.attname in wanted or f.name in wanted]
    if any(hasattr(f, "from_db_value") for f in fields):
        return None  # values that need converting on the way out: the ORM path does it
    qn = connection.ops.quote_name
    table, pk = qn(opts.db_table), qn(opts.pk.column)
    inner, inner_params = queryset.order_by().values_list("pk").query.sql_with_params()
    columns = ", ".join(qn(f.column) for f in fields)
    new_columns = [opts.get_field(name) for name in audited]
    sql = (
        f"UPDATE {table} AS t SET {', '.join(f'{qn(f.column)} = %s' for f in set_fields)} "
        f"FROM (SELECT {columns} FROM {table} WHERE {pk} IN ({inner}) ORDER BY {pk} FOR UPDATE) AS old "
        f"WHERE t.{pk} = old.{pk} "
        f"RETURNING {', '.join(f'old.{qn(f.column)}' for f in fields)}, "
        f"{', '.join(f't.{qn(f.column)}' for f in new_columns)}"
    )
    params = [
        f.get_db_prep_save(value, connection) for f, value in zip(set_fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        rows = cursor.fetchall()
    names, width = [f.attname for f in fields], len(fields)
    at = names.index(opts.pk.attname)
    rows.sort(key=lambda row: row[at])
    before = []
    for row in rows:  # what from_db makes, without its per-row overhead (no snapshot: the diff is made here)
        obj = model.__new__(model)
        state = ModelState()
        state.db, state.adding = queryset.db, False
        obj.__dict__.update(zip(names, row[:width], strict=True), _state=state)
        before.append(obj)
    after = {row[at]: row[width:] for row in rows}
    return len(rows), before, after


def update_diffs(instances: Sequence, fields: Iterable[str]) -> list[dict]:
    """For `bulk_update`: each instance's audited `fields` as changed since it was loaded."""
    if not instances:
        return []
    audited = _audited_attnames(type(instances[0]), fields)
    diffs = []
    for instance in instances:
        before = getattr(instance, "_audit_snapshot", None) or {}
        diff = {}
        for name in audited:
            old, new = _plain(before.get(name)), _plain(getattr(instance, name))
            if old != new:
                diff[name] = [old, new]
        diffs.append(diff)
    return diffs


def _on_save(sender, instance, created, raw=False, **kwargs):
    if raw:  # fixtures
        return
    now = _values(instance)
    if created:
        record(action="create", instance=instance, changes={k: [None, v] for k, v in now.items()})
    else:
        before = getattr(instance, "_audit_snapshot", None) or {}
        diff = {k: [_plain(before.get(k)), v] for k, v in now.items() if _plain(before.get(k)) != v}
        if not diff:
            return
        record(action="update", instance=instance, changes=diff)
    instance._audit_snapshot = {
        f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields
    }


def _on_delete(sender, instance, **kwargs):
    record(action="delete", instance=instance)


def connect_signals() -> None:
    from django.apps import apps

    from .models import AuditedModel

    for model in apps.get_models():
        # Proxies too: Django sends the signals with the proxy class (SubAccount, ...) as sender.
        if issubclass(model, AuditedModel):
            post_save.connect(_on_save, sender=model, dispatch_uid=f"audit-save-{model._meta.label}")
            post_delete.connect(_on_delete, sender=model, dispatch_uid=f"audit-del-{model._meta.label}")
