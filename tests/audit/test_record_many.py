"""record_many: batch writing of audit events (COPY on PostgreSQL, bulk_create elsewhere)."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from ansinh.audit.models import AuditEvent
from ansinh.audit.services import build_event, history, record_many


def _events(tree, officer, n):
    return [
        build_event(
            actor=officer,
            action="test.batch",
            obj=tree.a,
            before={"cccd": "089195012345", "i": i},
            after={"account_number": "0123456789012", "rep": {"cccd": "089195099999"}, "i": i},
            note="batch",
        )
        for i in range(n)
    ]


@pytest.mark.django_db
def test_record_many_stores_masked_events_in_batches(tree, officer_a):
    with transaction.atomic():
        events = _events(tree, officer_a, 7)
        record_many(events, batch_size=3)
    assert all(e.pk is not None for e in events)
    stored = list(AuditEvent.objects.filter(action="test.batch").order_by("pk"))
    assert [e.pk for e in stored] == sorted(e.pk for e in events)
    for i, e in enumerate(stored):
        assert e.before == {"cccd": "********2345", "i": i}
        assert e.after == {"account_number": "*********9012", "rep": {"cccd": "********9999"}, "i": i}
        assert e.actor_id == officer_a.pk and e.area_id == tree.a.pk and e.area_path == tree.a.path
        assert e.note == "batch" and e.at is not None
    assert len(list(history(tree.a))) == 7
    # nothing unmasked reached the table in any form
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditevent WHERE CAST(before AS TEXT) LIKE %s", ["%012345%"])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_record_many_outside_a_transaction_is_refused(tree):
    with pytest.raises(RuntimeError):
        record_many(_events(tree, None, 2))
    assert not AuditEvent.objects.filter(action="test.batch").exists()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="database-level guard is PostgreSQL only")
def test_postgresql_refuses_update_and_delete_of_batch_written_rows(tree, officer_a):
    with transaction.atomic():
        events = _events(tree, officer_a, 3)
        record_many(events)
    ids = [e.pk for e in events]
    for statement in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = ANY(%s)",
        "DELETE FROM audit_auditevent WHERE id = ANY(%s)",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [ids])
    assert AuditEvent.objects.filter(pk__in=ids, action="test.batch").count() == 3
