"""Writing many new rows at once, for every app's batch writers (registry import, audit log).

`insert_rows` behaves as `bulk_create` does: field defaults, `auto_now_add`, related ids taken
from the related instances, the instances get their pk and count as saved. On PostgreSQL the
ids are taken from the table's sequence first and the rows go in with COPY, which is several
times cheaper than bulk_create, whose array parameters psycopg builds and escapes in Python
(benchmarks/README.md: 50,000-row import). Every other database, and every model COPY cannot
serve the same way (no sequence-backed id, database defaults, generated columns, multi-table
inheritance, pks already set), goes through bulk_create.

Like bulk_create, it must run inside the caller's transaction to be all-or-nothing."""

from __future__ import annotations

import datetime as dt
from functools import partial
from operator import attrgetter
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.fields import AutoFieldMixin, Field

BATCH = 5000

M = TypeVar("M", bound=models.Model)

# Field classes (exactly these, not subclasses) whose get_db_prep_save returns a value of the
# listed types unchanged (Django 5.2: CharField/TextField.to_python keeps a str, BooleanField a
# bool, DateField a date, the PostgreSQL integer adaptation dumps the same text as the int).
# Other values and fields go through get_db_prep_save as bulk_create does.
_PLAIN: dict[type[Field], frozenset[type]] = {
    models.CharField: frozenset({str, type(None)}),
    models.TextField: frozenset({str, type(None)}),
    models.BooleanField: frozenset({bool, type(None)}),
    models.DateField: frozenset({dt.date, type(None)}),
    models.IntegerField: frozenset({int, type(None)}),
    models.BigIntegerField: frozenset({int, type(None)}),
    models.SmallIntegerField: frozenset({int, type(None)}),
    models.PositiveIntegerField: frozenset({int, type(None)}),
    models.PositiveSmallIntegerField: frozenset({int, type(None)}),
}
_INT_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField, models.BigIntegerField)


def _plain_types(field: Field) -> frozenset[type]:
    if isinstance(field, models.ForeignKey):
        return frozenset({int, type(None)}) if type(field.target_field) in _INT_KEYS else frozenset()
    return _PLAIN.get(type(field), frozenset())


def _writer(field: Field, db):
    """value(obj) -> the value COPY writes for this field, as bulk_create would send it."""
    read = attrgetter(field.attname) if type(field).pre_save is Field.pre_save else partial(field.pre_save, add=True)
    plain = _plain_types(field)
    prep = field.get_db_prep_save
    if type(field) is models.DateTimeField:
        # an aware datetime (auto_now_add, timezone.now) passes DateTimeField.get_prep_value
        # and PostgreSQL's adapt_datetimefield_value unchanged; a naive one gets Django's warning
        def aware_value(obj):
            v = read(obj)
            return v if type(v) is dt.datetime and v.tzinfo is not None else prep(v, connection=db)

        return aware_value

    def value(obj):
        v = read(obj)
        return v if type(v) in plain else prep(v, connection=db)

    return value


def _copy_ready(model: type[M], objs: list[M]) -> bool:
    meta = model._meta
    return (
        isinstance(meta.pk, AutoFieldMixin)
        and not meta.parents
        and not any(f.generated or f.has_db_default() for f in meta.concrete_fields)
        and all(obj.pk is None for obj in objs)
    )


def insert_rows(model: type[M], objs: list[M], *, batch_size: int = BATCH) -> list[M]:
    """Insert unsaved instances of `model` and return them (with their pk). PostgreSQL: one
    `nextval` query and one COPY per batch of `batch_size` rows; elsewhere bulk_create."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: no per-thread proxy per value
    if db.vendor != "postgresql" or len(objs) < 2 or not _copy_ready(model, objs):
        return model._default_manager.bulk_create(objs, batch_size=batch_size)
    from psycopg import sql

    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    writers = [_writer(f, db) for f in fields]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in [meta.pk, *fields])
    )
    with db.wrap_database_errors, db.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(batch)],
            )
            for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                # what bulk_create does first; a private method, not in django-stubs
                obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
                obj.pk = pk
            with cursor.cursor.copy(statement) as copy:
                for obj in batch:
                    copy.write_row([obj.pk, *[value(obj) for value in writers]])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias
    return objs
