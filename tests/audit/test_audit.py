import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from ansinh.audit.models import AuditEvent
from ansinh.audit.services import history, record


@pytest.mark.django_db
def test_record_masks_cccd_and_account_numbers(tree, officer_a):
    with transaction.atomic():
        event = record(
            actor=officer_a,
            action="test.changed",
            obj=tree.a,
            before={"cccd": "089195012345", "name": "A"},
            after={"account_number": "0123456789012", "nested": {"cccd": "089195099999"}},
        )
    assert event.before == {"cccd": "********2345", "name": "A"}
    assert event.after["account_number"] == "*********9012"
    assert event.after["nested"]["cccd"] == "********9999"
    assert event.area == tree.a and event.area_path == tree.a.path
    assert list(history(tree.a)) == [event]


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused(tree):
    with pytest.raises(RuntimeError):
        record(actor=None, action="test.changed", obj=tree.a)


@pytest.mark.django_db
def test_orm_refuses_to_change_or_delete_events(tree):
    with transaction.atomic():
        event = record(actor=None, action="test.changed", obj=tree.a)
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="database-level guard is PostgreSQL only")
def test_postgresql_refuses_update_and_delete_of_log_rows(tree):
    with transaction.atomic():
        record(actor=None, action="test.changed", obj=tree.a)
    for statement in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="test.changed").count() == 1
