"""Registering many receiving accounts at once (`services.register_accounts`): the rules of
`register_account` (which is the bulk function with one row) — the number checked per
institution, encrypted with the MultiFernet, found by the keyed hash, masked in the audit —
written with a bounded number of queries; all or nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ansinh.audit.models import AuditEvent
from ansinh.payments import crypto, queries, services
from ansinh.payments.models import ReceivingAccount


def _row(b, institution, number, **extra):
    return services.AccountInput(
        beneficiary=b, kind="bank", institution=institution, number=number, holder_name=b.full_name, **extra
    )


def test_many_accounts_in_a_bounded_number_of_queries(beneficiary, officer_a, agribank):
    def write(numbers):
        with CaptureQueriesContext(connection) as ctx:
            accounts = services.register_accounts(
                actor=officer_a, accounts=[_row(beneficiary, agribank, n) for n in numbers]
            )
        return accounts, len(ctx.captured_queries)

    few, q_few = write([f"7602205{i:08d}" for i in range(2)])
    many, q_many = write([f"7603205{i:08d}" for i in range(30)])
    assert q_many == q_few
    assert len(many) == 30 and all(a.pk for a in many)
    first = ReceivingAccount.objects.get(pk=many[0].pk)
    assert crypto.decrypt(first.number_encrypted) == "760320500000000" and first.last4 == "0000"
    assert list(queries.find_accounts("7603 2050 0000 000")) == [first]
    assert first.name_score == 100 and first.created_by == officer_a
    events = AuditEvent.objects.filter(action="payments.account.registered")
    assert events.count() == 32
    assert "760320500000000" not in str(events.get(object_id=str(first.pk)).after)


def test_a_wrong_row_writes_nothing_and_says_which(beneficiary, officer_a, agribank):
    rows = [_row(beneficiary, agribank, "760220500000001"), _row(beneficiary, agribank, "12AB")]
    with pytest.raises(services.AccountRowError) as exc:
        services.register_accounts(actor=officer_a, accounts=rows)
    assert exc.value.index == 1 and "number" in exc.value.message_dict
    assert not ReceivingAccount.objects.exists()


def test_the_same_account_twice_is_refused(beneficiary, officer_a, agribank):
    rows = [_row(beneficiary, agribank, "760220500000001"), _row(beneficiary, agribank, "7602 2050 0000 001")]
    with pytest.raises(services.AccountRowError) as exc:
        services.register_accounts(actor=officer_a, accounts=rows)
    assert exc.value.index == 1 and "number" in exc.value.message_dict
    services.register_accounts(actor=officer_a, accounts=rows[:1])
    with pytest.raises(ValidationError) as again:  # already registered for the beneficiary
        services.register_account(
            actor=officer_a,
            beneficiary=beneficiary,
            kind="bank",
            institution=agribank,
            number="760220500000001",
            holder_name=beneficiary.full_name,
        )
    assert "number" in again.value.message_dict
    assert ReceivingAccount.objects.count() == 1
