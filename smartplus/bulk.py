"""Bulk inserts for imports: PostgreSQL COPY, or Django's bulk_create on other databases.

An import of 10,000 rows writes some 30,000 objects. bulk_create spends most of its time turning
each value into SQL parameters; COPY streams the rows as text and PostgreSQL parses them, several
times faster. The ids come first, from the table's own sequence in one query, so the objects carry
their primary keys as bulk_create would leave them, and rows referring to them can follow.

Only what the import writes is supported: text, numbers, booleans, dates, JSON and foreign keys.
No signals are sent (as with bulk_create); the audit entries of an AuditedModel's rows are
written here in bulk instead (`smartplus.audit.record_many`), in the caller's change set.
"""

from __future__ import annotations

import gc
import itertools
import json
import operator
import re
import threading
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext

from .models import AuditAction, AuditedModel


class BulkErrors(ValidationError):
    """What a bulk service refuses, per row: {index in the rows it was given: {field: [messages]}}.
    The caller maps an index back to where the row came from (a file's row, a sync's record)."""

    def __init__(self, rows: dict[int, dict[str, list[str]]]):
        self.rows = rows
        super().__init__(
            [
                gettext("Row %(row)s: %(message)s") % {"row": i + 1, "message": m}
                for i, fields in sorted(rows.items())
                for ms in fields.values()
                for m in ms
            ]
        )


def raise_errors(rows: dict[int, dict[str, list[str]]]) -> None:
    if rows:
        raise BulkErrors(rows)


# A bulk job holds tens of thousands of live objects (rows read, instances planned, entries).
# Each of the collector's automatic full collections walks all of them to find next to nothing:
# 14 walks, some 40% of a 10,000-row import. Young collections still run, and reference counting
# frees whatever is not in a cycle; the full collections resume when the last job ends.
_NO_FULL_COLLECTIONS = 10**9
_deferring = 0
_thresholds: tuple[int, int, int] | None = None
_deferring_lock = threading.Lock()


@contextmanager
def full_collections_deferred():
    """No automatic full garbage collection while the block runs (re-entrant, any thread)."""
    global _deferring, _thresholds
    with _deferring_lock:
        if _deferring == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(_thresholds[0], _thresholds[1], _NO_FULL_COLLECTIONS)
        _deferring += 1
    try:
        yield
    finally:
        with _deferring_lock:
            _deferring -= 1
            if _deferring == 0:
                gc.set_threshold(*_thresholds)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_SPECIAL = re.compile(r"[\\\t\n\r]")


def _text(value) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    # Most values hold nothing to escape: a search is cheaper than a translated copy.
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def _number(value) -> str:
    return "\\N" if value is None else str(value)


def _boolean(value) -> str:
    return "\\N" if value is None else ("t" if value else "f")


@lru_cache(maxsize=256)  # the created / modified stamps: one time for every row
def _moment(value) -> str:
    return "\\N" if value is None else value.isoformat()


class JSONText(str):
    """A JSON column's value given as its JSON text already (`insert_rows` writes it as it is):
    for callers that encode many values of one fixed shape faster than the encoder does."""


def _converter(field):
    """How a column's values are written in COPY's text format."""
    if isinstance(field, models.JSONField):
        encode = (field.encoder or DjangoJSONEncoder)().encode  # one encoder for every row

        def convert(value):
            if value is None:
                return "\\N"
            return _text(value if type(value) is JSONText else encode(value))

        return convert
    if isinstance(field, models.BooleanField):
        return _boolean
    if isinstance(field, models.DateField | models.TimeField):  # DateTimeField is a DateField
        return _moment
    if isinstance(field, models.IntegerField | models.AutoField | models.DecimalField | models.FloatField):
        return _number
    if isinstance(field, models.ForeignKey) and isinstance(
        field.target_field, models.AutoField | models.IntegerField
    ):
        return _number
    return _text


@cache
def _defaults(model: type[models.Model]) -> dict:
    callables = [f.name for f in model._meta.concrete_fields if f.has_default() and callable(f.default)]
    if callables:  # one value (a time, a list) would be shared among all instances
        raise TypeError(f"{model.__name__}: fields with callable defaults: {', '.join(callables)}")
    return {name: value for name, value in model().__dict__.items() if name != "_state"}


def blank(model: type[models.Model]) -> models.Model:
    """A new instance with the model's defaults, its values copied from one made once: a tenth
    of the cost of `model()` for a model of twenty fields. Imports build tens of thousands."""
    obj = model.__new__(model)
    obj.__dict__.update(_defaults(model), _state=ModelState())
    return obj


def clone(obj: models.Model) -> models.Model:
    """A new, unsaved instance with `obj`'s field values (what `copy.copy` gives, without the
    pickling protocol's cost) and no cached relations."""
    new = type(obj).__new__(type(obj))
    new.__dict__.update(obj.__dict__, _state=ModelState())
    return new


@cache
def _attnames(model: type[models.Model]) -> dict[str, str]:
    return {f.name: f.attname for f in model._meta.concrete_fields if f.many_to_one}


def attach(obj: models.Model, **related: models.Model | None) -> None:
    """`obj.<name> = <object>` for each foreign key named, without the descriptor's per-call type
    and router checks (the caller passes objects of the right models, from this database). An
    object not saved yet gets its id filled in by `bulk_insert`."""
    attnames = _attnames(type(obj))
    values, cache = obj.__dict__, obj._state.fields_cache
    for name, target in related.items():
        # The key from the target's __dict__: `.pk` costs three calls, and a sync attaches 85,000.
        values[attnames[name]] = None if target is None else target.__dict__.get(target._meta.pk.attname)
        cache[name] = target


def _fill_auto_fields(model, objs: Sequence[models.Model]) -> None:
    """What save() would set: auto_now / auto_now_add timestamps, and each foreign key from the
    related object assigned before that was saved (an unsaved one is refused, as save() does)."""
    now = timezone.now()
    meta = model._meta
    stamped = [
        f.attname
        for f in meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    relations = [
        (f.cache_name, f.attname, f.target_field.attname) for f in meta.concrete_fields if f.is_relation
    ]
    # Django's _prepare_related_fields_for_save, without its per-field descriptor calls: an import
    # writes 30,000 objects.
    for obj in objs:
        values, cache = obj.__dict__, obj._state.fields_cache
        for attname in stamped:
            values[attname] = now
        for name, attname, target in relations:
            related = cache.get(name)
            if related is None:
                continue
            key = related.__dict__.get(target)
            if key is None:
                raise ValueError(
                    f"bulk_insert() prohibited to prevent data loss due to unsaved related object '{name}'."
                )
            if values.get(attname) is None:
                values[attname] = key
            elif values[attname] != key:
                del cache[name]  # the id set by hand wins, as in save()


def bulk_insert(
    model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = 2000, audit: bool = True
) -> None:
    """Insert `objs` (new, without pk) and set their primary keys. An AuditedModel's rows get
    their "Created" entries, naming the row without its field values (the values are the row
    itself, and the caller's own entry sums the job up): the values would triple the cost of
    an import's 30,000 entries. `audit=False` for rows whose entries the caller writes."""
    objs = list(objs)
    if not objs:
        return
    _insert(model, objs, batch_size)
    if audit and issubclass(model, AuditedModel):
        from . import audit as audit_log

        audit_log.record_many(action=AuditAction.CREATE, instances=objs, changes={})


def bulk_update(
    model: type[models.Model], objs: Sequence[models.Model], fields, *, batch_size: int = 1000
) -> None:
    """`bulk_update`, with an "Updated" entry for each AuditedModel row whose audited fields
    changed since it was loaded (what its save() would record)."""
    objs = list(objs)
    if not objs:
        return
    fields = sorted(fields)
    if issubclass(model, AuditedModel):
        from . import audit as audit_log

        diffs = audit_log.update_diffs(objs, fields)
        changed = [(obj, diff) for obj, diff in zip(objs, diffs, strict=True) if diff]
        if changed:
            audit_log.record_many(
                action=AuditAction.UPDATE, instances=[o for o, _ in changed], changes=[d for _, d in changed]
            )
    model.objects.bulk_update(objs, fields, batch_size=batch_size)


def _batches(items: Iterable, size: int):
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


_COPY_CHUNK = 64 * 1024


class _CopyStream:
    """COPY's input as a file that formats its lines as COPY reads them. PostgreSQL parses and
    writes the rows sent while the next ones are formatted (its process and ours run at once),
    instead of after all of them; and the text is never held whole."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.lines = 0
        self.error: BaseException | None = None

    def read(self, size: int = _COPY_CHUNK) -> str:
        chunk, length = [], 0
        try:
            for line in self._lines:
                chunk.append(line)
                length += len(line)
                if length >= size:
                    break
        except BaseException as exc:  # psycopg2 reports it as a cancelled COPY: kept for `copy`
            self.error = exc
            raise
        self.lines += len(chunk)
        return "".join(chunk)

    def copy(self, cursor, sql: str) -> int:
        """Run `sql` (COPY ... FROM STDIN) with these lines; the number of lines. A line that
        failed to be made raises its own error, not the cancelled COPY's."""
        try:
            cursor.copy_expert(sql, self, _COPY_CHUNK)
        except Exception as exc:
            if self.error is not None:
                raise self.error from exc
            raise
        return self.lines


def insert_rows(
    model: type[models.Model],
    *,
    constants: dict[str, object],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    batch_size: int = 5000,
) -> int:
    """Insert rows given as plain values, no model instances: each row's `columns` (attnames) in
    order, every row sharing `constants`; the other fields take their stamp (auto_now(_add)) or
    their default, ids the table's sequence. No ids come back and no signals are sent. For
    many rows that nothing refers to (audit entries): an import's 30,000 would otherwise be
    built as instances and converted field by field. `rows` is read while the COPY streams
    (`_CopyStream`): making a row must not query. Returns the number of rows."""
    meta = model._meta
    now = timezone.now()
    # Every other column: its stamp or its default, the same for every row.
    others = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in meta.concrete_fields
        if not f.primary_key and f.attname not in constants and f.attname not in columns
    }
    constants = {**others, **constants}
    if connection.vendor != "postgresql":
        written = 0
        for batch in _batches(rows, batch_size):
            objs = []
            for values in batch:
                obj = model(**constants)
                obj.__dict__.update(
                    (name, json.loads(value) if type(value) is JSONText else value)
                    for name, value in zip(columns, values, strict=True)
                )
                objs.append(obj)
            model.objects.bulk_create(objs)
            written += len(objs)
        return written
    fields = {f.attname: f for f in meta.concrete_fields}
    # The constants' text once; each row converts only its own columns.
    prefix = "".join(f"{_converter(fields[name])(value)}\t" for name, value in constants.items())
    converters = [_converter(fields[name]) for name in columns]
    names = ", ".join(connection.ops.quote_name(fields[n].column) for n in (*constants, *columns))
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
    lines = (
        prefix + "\t".join([convert(v) for convert, v in zip(converters, values, strict=True)]) + "\n"
        for values in rows
    )
    with connection.cursor() as cursor:
        return _CopyStream(lines).copy(cursor, sql)


def _insert(model, objs: list, batch_size: int) -> None:
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    _fill_auto_fields(model, objs)
    meta = model._meta
    table = meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        fields = list(meta.concrete_fields)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        # Field values live in the instance's __dict__ under their attnames; reading them there
        # skips descriptors (a CountryField's builds a Country object per read).
        values_of = operator.itemgetter(*[f.attname for f in fields])
        converters = [_converter(f) for f in fields]
        lines = (
            "\t".join([convert(v) for convert, v in zip(converters, values_of(obj.__dict__), strict=True)])
            + "\n"
            for obj in objs
        )
        sql = f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN"
        _CopyStream(lines).copy(cursor, sql)
    alias = connection.alias
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
