"""Audit trail: every create, update and delete of an AuditedModel, with the real and acting user.

The request middleware fills `audit_context`; Celery tasks and commands run without one and are
recorded as the system. Signals are used (as NetBox's change log does) so no write path is missed.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import functools
import uuid
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
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


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _values(instance) -> dict:
    skip = _SENSITIVE | set(instance.audit_exclude)
    return {
        f.attname: _plain(getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if f.attname not in skip and f.name not in {"created", "modified"}
    }


def record(*, action: str, instance=None, installer_id=None, changes=None, obj_repr=None) -> None:
    from .models import AuditLog

    ctx = audit_context.get()
    AuditLog.objects.create(
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


@functools.cache
def _recorded_attnames(model) -> tuple[str, ...]:
    """The attnames an entry of the model records (as `_values`)."""
    skip = _SENSITIVE | set(model.audit_exclude)
    return tuple(
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in skip and f.name not in {"created", "modified"}
    )


def record_many(*, action: str, instances, related=None) -> None:
    """The entries `_on_save` writes for each of `instances`, in one bulk insert: for writes that
    send no save signal (bulk_insert, bulk_update). `action` "create" records every field;
    "update" what differs from the loaded values (nothing changed: no entry). `related(instance)`
    adds changes of related rows to an instance's entry (its relays), as `record_related` does.

    Values are read from the instances' __dict__ (what `_values` reads through the descriptors:
    an import records 30,000 objects).
    """
    from django.db.models.base import ModelState

    from .bulk import bulk_insert
    from .models import AuditLog

    ctx = audit_context.get()
    base = AuditLog(
        user_id=ctx.user_id if ctx else None,
        user_name=ctx.user_name if ctx else "system",
        actor_id=ctx.actor_id if ctx else None,
        actor_name=ctx.actor_name if ctx else "",
        remote_addr=ctx.remote_addr if ctx else None,
        action=action,
    ).__dict__
    plain_types = (str, int, bool, type(None))
    entries = []
    for instance in instances:
        recorded = _recorded_attnames(type(instance))
        values = instance.__dict__
        now = {}
        for attname in recorded:
            value = values[attname] if attname in values else getattr(instance, attname)
            now[attname] = value if type(value) in plain_types else _plain(value)
        if action == "create":
            changes = {k: [None, v] for k, v in now.items()}
        else:
            before = getattr(instance, "_audit_snapshot", None) or {}
            changes = {k: [_plain(before.get(k)), v] for k, v in now.items() if _plain(before.get(k)) != v}
        if related is not None:
            changes.update(related(instance))
        # What a later save diffs against (`_on_save` reads only the recorded fields).
        instance._audit_snapshot = now
        if not changes:
            continue
        entry = object.__new__(AuditLog)
        entry.__dict__.update(
            base,
            _state=ModelState(),
            installer_id=instance.audit_installer_id(),
            object_type_id=ContentType.objects.get_for_model(instance, for_concrete_model=False).pk,
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            changes=changes,
        )
        entries.append(entry)
        if len(entries) == RECORD_BATCH:  # an import's 30,000 entries are not all held at once
            bulk_insert(AuditLog, entries)
            entries = []
    bulk_insert(AuditLog, entries)


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
