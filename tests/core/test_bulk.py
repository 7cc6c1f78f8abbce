"""core.bulk.insert_rows writes what bulk_create would write.

On PostgreSQL it takes ids from the sequence and writes with COPY; the comparison with
bulk_create is the point there. On SQLite it is bulk_create itself, and the same tests check
the fallback keeps the contract (pks set, instances saved)."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ansinh.audit.models import AuditEvent
from ansinh.core.bulk import insert_rows

ON_POSTGRESQL = connection.vendor == "postgresql"

# values COPY's text format must escape: tab, newline, backslash, quotes, NUL-free unicode, JSON null
AWKWARD = {
    "name": 'Nguyễn Thị Ánh\t"Út"\nback\\slash',
    "empty": "",
    "none": None,
    "nested": {"list": [1, 2.5, True, None, "đ"], "deep": {"k": "\\N"}},
    "number": 12345678901234,
}


def _event(area, **kw) -> AuditEvent:
    return AuditEvent(
        actor=None,
        actor_label="system",
        area=area,
        area_path=area.path,
        action="test.bulk",
        object_type="areas.area",
        object_id=str(area.pk),
        object_repr=str(area),
        **kw,
    )


def _stored(pk: int) -> dict:
    """The row as the database holds it, JSON as its canonical text, time as a value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT actor_id, api_token_id, actor_label, area_id, area_path, action, object_type, object_id, "
            "object_repr, before, after, note, at FROM audit_auditevent WHERE id = %s",
            [pk],
        )
        columns = [c[0] for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "after"),
    [(None, AWKWARD), ({}, []), ({"a": 1}, None), (None, "plain string"), (None, None)],
)
def test_insert_rows_writes_what_bulk_create_writes(tree, before, after):
    started = timezone.now()
    with transaction.atomic():
        by_copy = insert_rows(AuditEvent, [_event(tree.a, before=before, after=after, note="n") for _ in range(3)])
        by_orm = AuditEvent.objects.bulk_create([_event(tree.a, before=before, after=after, note="n")])
    ended = timezone.now()
    assert all(e.pk is not None and not e._state.adding for e in by_copy)
    assert len({e.pk for e in by_copy}) == 3
    copied, created = _stored(by_copy[0].pk), _stored(by_orm[0].pk)
    copied_at, created_at = copied.pop("at"), created.pop("at")
    assert copied == created
    assert copied["area_id"] == tree.a.pk and copied["actor_id"] is None
    # auto_now_add: set on the instance and stored as the same aware moment
    for event in by_copy:
        assert started <= event.at <= ended
    fetched = AuditEvent.objects.get(pk=by_copy[0].pk)
    assert fetched.at == by_copy[0].at
    assert timezone.is_aware(fetched.at)
    assert isinstance(copied_at, dt.datetime) and isinstance(created_at, dt.datetime)
    # JSON read back through the ORM is the value given (None is SQL NULL, not JSON null)
    assert fetched.before == before and fetched.after == after
    if before is None:
        assert copied["before"] is None


def _beneficiary(tree):
    from ansinh.registry.models import Beneficiary

    # field defaults left to the model: ethnicity, flags, status, quality_issues (default=list)
    return Beneficiary(
        full_name="Nguyễn Thị Ánh",
        name_key="nguyen thi anh",
        birth_date=dt.date(1950, 3, 1),
        gender="female",
        commune=tree.a,
        village=tree.village_a,
        area_path=tree.village_a.path,
        start_month=dt.date(2026, 1, 1),
        has_issues=True,
        quality_issues=[{"field": "phone", "message": "No phone\tnumber"}],
    )


@pytest.mark.django_db
def test_insert_rows_applies_defaults_auto_now_and_related_ids_as_bulk_create(tree):
    from ansinh.registry.models import Beneficiary

    started = timezone.now()
    with transaction.atomic():
        by_copy = insert_rows(Beneficiary, [_beneficiary(tree), _beneficiary(tree)])
        by_orm = Beneficiary.objects.bulk_create([_beneficiary(tree)])
    ended = timezone.now()
    skip = {"id", "created_at", "updated_at"}
    columns = [f.attname for f in Beneficiary._meta.concrete_fields if f.attname not in skip]
    copied = Beneficiary.objects.filter(pk=by_copy[0].pk).values(*columns).get()
    created = Beneficiary.objects.filter(pk=by_orm[0].pk).values(*columns).get()
    assert copied == created
    assert copied["ethnicity"] == "Kinh" and copied["status"] == "active"
    assert copied["village_id"] == tree.village_a.pk and copied["commune_id"] == tree.a.pk
    stored = Beneficiary.objects.get(pk=by_copy[1].pk)
    assert started <= stored.created_at <= ended and started <= stored.updated_at <= ended
    assert stored.created_at == by_copy[1].created_at


@pytest.mark.django_db
@pytest.mark.skipif(not ON_POSTGRESQL, reason="the COPY path is PostgreSQL only")
def test_postgresql_uses_copy_in_batches(tree):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        events = insert_rows(AuditEvent, [_event(tree.a, after={"i": i}) for i in range(5)], batch_size=2)
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum("nextval" in s for s in sql) == 3  # 2 + 2 + 1
    assert not any(s.lstrip().upper().startswith("INSERT") for s in sql)
    pks = [e.pk for e in events]
    assert pks == sorted(pks) and len(set(pks)) == 5
    stored = dict(AuditEvent.objects.filter(pk__in=pks).values_list("pk", "after"))
    assert stored == {e.pk: {"i": i} for i, e in enumerate(events)}


@pytest.mark.django_db
def test_rows_with_a_pk_already_set_go_through_bulk_create(tree):
    taken = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        events = insert_rows(AuditEvent, [_event(tree.a, pk=taken + 1000), _event(tree.a, pk=taken + 1001)])
    assert [e.pk for e in events] == [taken + 1000, taken + 1001]
    assert AuditEvent.objects.filter(pk__in=[taken + 1000, taken + 1001]).count() == 2


@pytest.mark.django_db
def test_a_failing_batch_writes_nothing(tree):
    """An error in a later batch rolls back the earlier ones with the caller's transaction."""
    before = AuditEvent.objects.count()
    bad = _event(tree.a)
    bad.action = "x" * 500  # over max_length: PostgreSQL refuses it (SQLite does not check)
    if not ON_POSTGRESQL:
        pytest.skip("SQLite does not enforce varchar lengths")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011 - DataError through COPY
        insert_rows(AuditEvent, [_event(tree.a), _event(tree.a), bad], batch_size=2)
    assert AuditEvent.objects.count() == before
