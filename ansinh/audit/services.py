"""Writing the audit log. Call `record` from inside the service's transaction."""

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import connection, models

from ansinh.core.bulk import insert_rows
from ansinh.core.masking import mask_mapping

from .models import AuditEvent

_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _SCALARS:  # most values of a snapshot: nothing to convert
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, foreign keys as ids."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.name] = getattr(obj, field.attname)
    return _jsonable(data)


def actor_label(actor) -> str:
    if actor is None:
        return "system"
    token = getattr(actor, "api_token", None)
    name = getattr(actor, "username", str(actor))
    return f"{name} (API {token.key_prefix}…)" if token is not None else name


def build_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    area=None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEvent:
    """An unsaved audit event; batch writers collect these and write them with `record_many`
    in the same transaction as the rows they describe. Masking happens here, so every path
    (record, record_many) stores only masked CCCD and account numbers."""
    if area is None and obj is not None:
        area = getattr(obj, "audit_area", None) or getattr(obj, "area", None)
    return AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        api_token=getattr(actor, "api_token", None),
        actor_label=actor_label(actor)[:200],
        area=area,
        area_path=getattr(area, "path", "") or "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        before=mask_mapping(_jsonable(before)) if before is not None else None,
        after=mask_mapping(_jsonable(after)) if after is not None else None,
        note=note,
    )


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    area=None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEvent:
    """Append one audit event. `actor` is a User (optionally with `.api_token` set by the API
    auth) or None for system jobs. CCCD, account numbers and secrets are masked."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must be called inside the service's transaction")
    event = build_event(actor=actor, action=action, obj=obj, area=area, before=before, after=after, note=note)
    event.save()
    return event


def record_many(events: list[AuditEvent], batch_size: int = 2000) -> None:
    """Append events made by `build_event` (already masked), `batch_size` rows per statement:
    COPY on PostgreSQL (`core.bulk.insert_rows`; the append-only trigger refuses only UPDATE
    and DELETE), bulk_create elsewhere. The events get their pk."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record_many must be called inside the batch's transaction")
    insert_rows(AuditEvent, events, batch_size=batch_size)


def history(obj: models.Model):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related("actor")


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """The keys whose values differ, as (before, after) restricted to them: what an audit event
    of a change stores."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
