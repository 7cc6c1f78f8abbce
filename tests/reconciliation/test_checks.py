# ruff: noqa: F811 - the fixtures are imported from statement_fixtures and used as arguments
"""Reconciliation checks and exceptions (issue 13 part 2): each kind found on a small built case,
re-running is harmless, resolution through the existing services (payment fixes, receivables,
write-off by a second person), state following what the exception links to."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.db import connection
from django.utils import timezone

from ansinh.audit.models import AuditEvent
from ansinh.disbursement.models import (
    ExceptionKind,
    Instruction,
    InstructionState,
    TransferException,
)
from ansinh.payments.models import AccountStatus, PaymentMethod, ReceivingAccount
from ansinh.payroll import fixes, receivables
from ansinh.payroll.models import Channel, FixKind, PayrollLine, Receivable, ReceivableState
from ansinh.reconciliation import camt053, checks, resolution, statements
from ansinh.reconciliation.models import ReconException, ReconKind, ReconResolution, ReconState
from ansinh.registry.models import Beneficiary, Representation, Representative
from tests.disbursement.conftest import MONTH, open_account, totp_code
from tests.reconciliation.statement_fixtures import (  # noqa: F401
    END,
    _no_throttle_wait,
    approved,
    approver_a,
    contract,
    funded,
    people,
    preparer_a,
    provider_a,
    sent,
    world,
)

K = ReconKind


def _statement(entries) -> bytes:
    out = io.BytesIO()
    camt053.write(
        out,
        message_id="T-1",
        created_at=datetime(2026, 4, 1, 6, 0),
        statement_id="T-1",
        account_number="1234567890123",
        account_name="",
        from_date=date(2026, 3, 1),
        to_date=END,
        opening_balance=0,
        closing_balance=sum(e.amount if e.credit else -e.amount for e in entries),
        entries=entries,
    )
    return out.getvalue()


def _found(cycle, kind):
    return ReconException.objects.filter(cycle=cycle, kind=kind)


def test_list_problems_holder_not_listed_and_no_account(funded, people, preparer_a):
    # the cash payee has an active account and chose it for the month after the list was made
    cash = people["cash"]
    account = open_account(cash, "1000200030009")
    PaymentMethod.objects.filter(beneficiary=cash).update(cancelled_at=timezone.now())
    PaymentMethod.objects.create(beneficiary=cash, method="account", account=account, from_month=MONTH)
    # an account holder on the account list whose account was closed since
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    result = checks.run_checks(actor=preparer_a, cycle=funded, today=date(2026, 3, 20))
    holder = _found(funded, K.HOLDER_NOT_LISTED).get()
    assert holder.beneficiary == cash and holder.line.channel == Channel.PAY_POINT
    assert holder.owner_role == "commune_officer"
    assert holder.due_date == date(2026, 3, 27)  # five working days after Friday 20 March
    missing = _found(funded, K.NO_ACCOUNT_LISTED).get()
    assert missing.beneficiary == people["Lê Thị Hai"] and missing.detail == {"account_status": "closed"}
    assert result["opened"] == 2
    # running again opens nothing and writes no audit event
    events = AuditEvent.objects.count()
    again = checks.run_checks(actor=preparer_a, cycle=funded)
    assert again["opened"] == 0 and ReconException.objects.count() == 2
    assert AuditEvent.objects.count() == events


def test_no_account_resolved_by_a_switch_to_cash_approved_by_a_second_person(funded, people, preparer_a, approver_a):
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    checks.run_checks(actor=preparer_a, cycle=funded)
    exc = _found(funded, K.NO_ACCOUNT_LISTED).get()
    fix = resolution.ask_fix(actor=preparer_a, exception=exc, kind=FixKind.TO_CASH, reason="Tài khoản đã đóng")
    exc.refresh_from_db()
    assert exc.state == ReconState.IN_HAND and exc.fix == fix
    fixes.approve_fix(actor=approver_a, fix=fix, token=totp_code(approver_a, 1))
    exc = resolution.refresh(exc)
    assert exc.state == ReconState.RESOLVED and exc.resolution == ReconResolution.TO_CASH
    assert AuditEvent.objects.filter(action="reconciliation.exception.fix_asked").count() == 1
    # the line is now paid in cash: the check no longer finds it, and nothing new is opened
    assert checks.run_checks(actor=preparer_a, cycle=funded)["opened"] == 0


def test_money_checks_against_the_statement(sent, contract, people, preparer_a):
    credited = list(Instruction.objects.filter(state=InstructionState.CREDITED).order_by("end_to_end_id"))
    assert len(credited) == 4
    one, two, three, four = credited
    day = END

    def debit(i, amount=None):
        return camt053.Entry(
            line=None, credit=False, amount=amount or i.amount, booking_date=day, end_to_end_id=i.end_to_end_id
        )

    entries = [
        debit(one, one.amount + 50_000),  # the provider paid more than the payroll
        debit(two),
        debit(two),  # booked twice
        camt053.Entry(
            line=None,
            credit=True,
            amount=two.amount,
            booking_date=day,
            end_to_end_id=two.end_to_end_id,
            is_return=True,
            return_reason="AC04",
        ),  # and returned
        debit(three),
        # four: missing from the statement
        camt053.Entry(
            line=None, credit=False, amount=120_000, booking_date=date(2026, 3, 12), end_to_end_id="NOT-OURS"
        ),
    ]
    job = statements.import_statement(actor=preparer_a, content=_statement(entries), provider=contract.provider)
    assert job.state == "applied", job.refused_reason
    checks.run_checks(actor=preparer_a, cycle=sent)
    differs = _found(sent, K.AMOUNT_DIFFERS).get()
    assert differs.instruction == one and differs.amount == one.amount + 50_000
    assert differs.detail["expected"] == one.amount
    assert _found(sent, K.DUPLICATE).get().instruction == two
    failed = _found(sent, K.TRANSFER_FAILED).get()
    assert failed.instruction == two and failed.detail["reason"] == "AC04"
    assert _found(sent, K.NOT_ON_STATEMENT).get().instruction == four
    unknown = _found(sent, K.UNKNOWN_ENTRY).get()
    assert unknown.amount == 120_000 and unknown.detail["end_to_end_id"] == "NOT-OURS"
    assert checks.run_checks(actor=preparer_a, cycle=sent)["opened"] == 0


def test_transfer_exceptions_are_mirrored_not_duplicated(sent, preparer_a):
    first, second = Instruction.objects.order_by("pk")[:2]
    rejected = TransferException.objects.create(
        kind=ExceptionKind.REJECTED,
        instruction=first,
        batch=first.batch,
        line=first.line,
        commune=first.commune,
        area_path=first.area_path,
    )
    cannot = TransferException.objects.create(
        kind=ExceptionKind.CANNOT_WITHDRAW,
        instruction=second,
        batch=second.batch,
        line=second.line,
        commune=second.commune,
        area_path=second.area_path,
    )
    checks.run_checks(actor=preparer_a, cycle=sent)
    failed = _found(sent, K.TRANSFER_FAILED).get()
    assert failed.transfer_exception == rejected and failed.key == f"te:{rejected.pk}"
    assert _found(sent, K.CANNOT_WITHDRAW).get().transfer_exception == cannot
    # the disbursement side resolves it: the reconciliation exception follows
    TransferException.objects.filter(pk=cannot.pk).update(
        state="resolved", resolution="noted", resolved_at=timezone.now()
    )
    checks.run_checks(actor=preparer_a, cycle=sent)
    mirrored = _found(sent, K.CANNOT_WITHDRAW).get()
    assert mirrored.state == ReconState.RESOLVED and mirrored.resolution == ReconResolution.NOTED


def test_after_death_recovered_through_a_receivable(sent, people, preparer_a):
    dead = people["Phạm Văn Ba"]
    Beneficiary.objects.filter(pk=dead.pk).update(death_date=date(2026, 1, 15))
    checks.run_checks(actor=preparer_a, cycle=sent)
    exc = _found(sent, K.AFTER_DEATH).get()
    assert exc.beneficiary == dead and exc.amount > 0
    resolution.recover(actor=preparer_a, exception=exc, note="Chi sau khi chết, thu hồi từ người nhận")
    exc.refresh_from_db()
    assert exc.state == ReconState.RESOLVED and exc.resolution == ReconResolution.RECOVERY
    owed = Receivable.objects.get(pk=exc.receivable_id)
    assert owed.amount == exc.amount and owed.beneficiary == dead


def test_shared_account_for_people_it_does_not_represent(sent, people, preparer_a):
    one = ReceivingAccount.objects.get(beneficiary=people["Trần Văn Một"])
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(number_hash=one.number_hash)
    checks.run_checks(actor=preparer_a, cycle=sent)
    shared = _found(sent, K.SHARED_ACCOUNT)
    assert {e.beneficiary.full_name for e in shared} == {"Trần Văn Một", "Lê Thị Hai"}
    assert all(e.detail == {"people": 2} for e in shared)


def test_a_guardian_holding_one_account_for_two_people_is_fine(sent, people, preparer_a, world):
    guardian = Representative.objects.create(
        full_name="Ngô Văn Giám Hộ", commune=world.tree.a, area_path=world.tree.a.path
    )
    accounts = []
    for name in ("Trần Văn Một", "Lê Thị Hai"):
        rep = Representation.objects.create(beneficiary=people[name], representative=guardian, kind="guardian")
        account = ReceivingAccount.objects.get(beneficiary=people[name])
        ReceivingAccount.objects.filter(pk=account.pk).update(holder_representation=rep)
        accounts.append(account)
    ReceivingAccount.objects.filter(pk=accounts[1].pk).update(number_hash=accounts[0].number_hash)
    checks.run_checks(actor=preparer_a, cycle=sent)
    assert not _found(sent, K.SHARED_ACCOUNT).exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="an approved line is immutable (trigger)")
def test_representative_not_on_the_list(funded, people, preparer_a, world):
    person = people["Nguyễn Thị Bốn"]
    rep = Representative.objects.create(full_name="Đỗ Văn Ủy Quyền", commune=world.tree.a, area_path=world.tree.a.path)
    ended = Representation.objects.create(
        beneficiary=person, representative=rep, kind="authorised", valid_to=date(2026, 2, 28)
    )
    PayrollLine.objects.filter(cycle=funded, beneficiary=person).update(representation=ended)
    checks.run_checks(actor=preparer_a, cycle=funded)
    assert _found(funded, K.REPRESENTATIVE).get().beneficiary == person


def test_write_off_needs_a_second_person(sent, contract, preparer_a, approver_a):
    one = Instruction.objects.filter(state=InstructionState.CREDITED).order_by("pk").first()
    entries = [
        camt053.Entry(
            line=None, credit=False, amount=one.amount + 1_000, booking_date=END, end_to_end_id=one.end_to_end_id
        )
    ]
    statements.import_statement(actor=preparer_a, content=_statement(entries), provider=contract.provider)
    checks.run_checks(actor=preparer_a, cycle=sent)
    exc = _found(sent, K.AMOUNT_DIFFERS).get()
    resolution.request_write_off(
        actor=preparer_a, exception=exc, reason="Chênh lệch nhỏ, không thu hồi được", amount=1_000
    )
    exc.refresh_from_db()
    assert exc.state == ReconState.IN_HAND
    assert exc.receivable.state == ReceivableState.WRITE_OFF_REQUESTED and exc.receivable.amount == 1_000
    with pytest.raises(receivables.ReceivableRefused):
        resolution.approve_write_off(actor=preparer_a, exception=exc, token=totp_code(preparer_a))
    exc.refresh_from_db()
    assert exc.state == ReconState.IN_HAND
    resolution.approve_write_off(actor=approver_a, exception=exc, token=totp_code(approver_a, 1))
    exc.refresh_from_db()
    assert exc.state == ReconState.RESOLVED and exc.resolution == ReconResolution.WRITTEN_OFF
    assert exc.receivable.state == ReceivableState.WRITTEN_OFF
    actions = set(
        AuditEvent.objects.filter(action__startswith="reconciliation.exception").values_list("action", flat=True)
    )
    assert {"reconciliation.exception.write_off_requested", "reconciliation.exception.write_off_approved"} <= actions


def test_note_and_who_may_act(funded, people, preparer_a, approver_a, provider_a):
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    with pytest.raises(checks.ChecksForbidden):
        checks.run_checks(actor=provider_a, cycle=funded)
    assert not ReconException.objects.exists()
    checks.run_checks(actor=preparer_a, cycle=funded)
    exc = _found(funded, K.NO_ACCOUNT_LISTED).get()
    for user in (approver_a, provider_a):
        with pytest.raises(resolution.ResolutionForbidden):
            resolution.note(actor=user, exception=exc, note="x")
    with pytest.raises(resolution.ResolutionRefused):
        resolution.recover(actor=preparer_a, exception=exc, note="x")
    resolution.note(actor=preparer_a, exception=exc, note="Đã mở lại tài khoản")
    exc.refresh_from_db()
    assert exc.state == ReconState.RESOLVED and exc.resolution == ReconResolution.NOTED
    assert exc.resolved_by == preparer_a


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_large_cycle_is_checked_on_two_connections_with_the_same_result(
    sent, contract, people, preparer_a, monkeypatch
):
    """For a large cycle (committed data, no transaction of the caller) the detectors of
    checks.BESIDE run on a second connection in a worker thread: the same exceptions, each once."""
    one = ReceivingAccount.objects.get(beneficiary=people["Trần Văn Một"])
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(number_hash=one.number_hash)
    credited = list(Instruction.objects.filter(state=InstructionState.CREDITED).order_by("end_to_end_id"))
    two = credited[1]
    entries = [
        camt053.Entry(line=None, credit=False, amount=i.amount, booking_date=END, end_to_end_id=i.end_to_end_id)
        for i in [*credited[:3], two]  # the last one missing, the second booked twice
    ]
    job = statements.import_statement(actor=preparer_a, content=_statement(entries), provider=contract.provider)
    assert job.state == "applied", job.refused_reason
    threads = []
    subjects_beside = checks._subjects_beside

    def spy(kinds, cycle, zone, language):
        import threading

        threads.append(threading.current_thread().name)
        return subjects_beside(kinds, cycle, zone, language)

    monkeypatch.setattr(checks, "_subjects_beside", spy)
    monkeypatch.setattr(checks, "PARALLEL_FROM", 1)
    result = checks.run_checks(actor=preparer_a, cycle=sent)
    assert threads and threads[0].startswith("reconciliation-checks")
    assert {e.beneficiary.full_name for e in _found(sent, K.SHARED_ACCOUNT)} == {"Trần Văn Một", "Lê Thị Hai"}
    assert _found(sent, K.DUPLICATE).get().instruction == two
    assert _found(sent, K.NOT_ON_STATEMENT).get().instruction == credited[3]
    assert result["per_kind"][K.SHARED_ACCOUNT] == {"found": 2, "opened": 2, "closed": 0}
    # the same as on one connection: a second run finds the same subjects, opens and closes nothing
    monkeypatch.setattr(checks, "PARALLEL_FROM", 10**9)
    again = checks.run_checks(actor=preparer_a, cycle=sent)
    assert again["opened"] == again["closed"] == 0
    found = {k: v["found"] for k, v in result["per_kind"].items()}
    assert {k: v["found"] for k, v in again["per_kind"].items()} == found
