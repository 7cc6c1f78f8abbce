# ruff: noqa: F811  (pytest fixtures imported from the other apps' conftest modules)
"""The ledger per cycle (ansinh.reconciliation.ledger): what each service posts, in its own
transaction; the invariant "advance = credited + cash paid + returned + fees + outstanding"
with the outstanding computed from the lines; closing and adjustments in the next cycle;
catch-up posting; append-only entries; an inconsistent write refused (the service check on
every database, the deferred trigger on PostgreSQL)."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from ansinh.cashout import closing, receipts
from ansinh.cashout.models import CashEntry, EntryState
from ansinh.core.errors import InvalidTransition
from ansinh.disbursement import batches, statuses
from ansinh.disbursement.models import ImportSource, Instruction, Payout, PayoutChannel, ProviderBatch
from ansinh.payroll.models import Advance, PaymentCycle, PayrollLine, Receivable
from ansinh.reconciliation import ledger
from ansinh.reconciliation.models import LedgerEntry, LedgerKind
from tests.cashout.conftest import (  # noqa: F401
    ACCOUNT_PERSON,
    PAY_POINT_PEOPLE,
    approved,
    cash_cycle,
    cash_lists,
    cash_places,
    contract,
    extra_people,
    funded,
    people,
    village_b,
)
from tests.cashout.receipt_fixtures import entry_of, lists_fixture, places_fixture  # noqa: F401
from tests.disbursement.conftest import _no_throttle_wait  # noqa: F401
from tests.disbursement.test_flow import _reject_all_but_credit_none, answer_all, write
from tests.payroll.conftest import approver_a, preparer_a, provider_a, world  # noqa: F401

K = LedgerKind
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


def entries(cycle, kind=None):
    qs = LedgerEntry.objects.filter(cycle=cycle)
    return qs.filter(kind=kind) if kind else qs


def total(cycle, kind) -> int:
    return sum(entries(cycle, kind).values_list("amount", flat=True))


def lines_total(cycle) -> int:
    return sum(PayrollLine.objects.filter(cycle=cycle).values_list("amount", flat=True))


def assert_balanced(cycle) -> ledger.Balance:
    b = ledger.balance(cycle)
    assert b.differences == {}
    assert b.advance == b.credited + b.cash_paid + b.returned + b.fees + b.outstanding
    assert b.balanced
    ledger.check([cycle.pk])
    return b


def pay_cash(actor, entry, outcome="paid", **kw):
    if outcome == "paid":
        kw.setdefault("receiver_kind", "beneficiary")
        kw.setdefault("note", "Giấy xác nhận")
    return receipts.record_cash_receipt(
        actor=actor,
        entry_id=entry.pk,
        idempotency_key=str(uuid.uuid4()),
        outcome=outcome,
        occurred_at=timezone.now(),
        **kw,
    )


def credit_all_but(cycle, actor, tmp_path, rejected_e2e="none") -> bytes:
    """The bank's answer (pain.002) crediting every transfer but `rejected_e2e`, imported."""
    batches.build_batches(actor=actor, cycle=cycle)
    batch = ProviderBatch.objects.get(cycle=cycle, sequence=1)
    content, _ = write(batch)
    answer = _reject_all_but_credit_none(content, tmp_path, rejected_e2e)
    statuses.import_status(actor=actor, content=answer, source=ImportSource.PAIN002)
    return answer


# --- posting from each service ----------------------------------------------------------------------


def test_the_advance_opens_the_ledger(funded):
    advance = Advance.objects.get(cycle=funded)
    entry = entries(funded, K.ADVANCE).get()
    assert (entry.amount, entry.source, entry.line_id) == (advance.amount, f"advance:{advance.pk}", None)
    b = assert_balanced(funded)
    assert b.lines_total == lines_total(funded) and b.open_lines == b.lines_total
    # the funding request asks for the allowances and the fee: the fee's part is not allocated to lines
    assert b.unallocated == advance.amount - b.lines_total > 0
    assert b.outstanding == advance.amount and b.credited == b.cash_paid == b.returned == 0


def test_status_import_posts_credits(funded, people, preparer_a, tmp_path):
    answer = credit_all_but(funded, preparer_a, tmp_path)
    credited_lines = PayrollLine.objects.filter(payout__channel=PayoutChannel.ACCOUNT, cycle=funded)
    assert total(funded, K.CREDITED) == sum(credited_lines.values_list("amount", flat=True)) > 0
    assert entries(funded, K.CREDITED).count() == Payout.objects.filter(line__cycle=funded).count() == 1
    b = assert_balanced(funded)
    assert b.open_lines == lines_total(funded) - b.credited
    # the same file again posts nothing
    before = LedgerEntry.objects.count()
    statuses.import_status(actor=preparer_a, content=answer, source=ImportSource.PAIN002)
    assert LedgerEntry.objects.count() == before


def test_status_import_posts_a_failed_transfer_that_stays_outstanding(funded, people, preparer_a, tmp_path):
    batches.build_batches(actor=preparer_a, cycle=funded)
    rejected = Instruction.objects.get(line__beneficiary=people[ACCOUNT_PERSON])
    credit_all_but(funded, preparer_a, tmp_path, rejected.end_to_end_id)
    failed = entries(funded, K.TRANSFER_FAILED).get()
    assert (failed.amount, failed.line_id, failed.source) == (
        rejected.amount,
        rejected.line_id,
        f"failed:{rejected.pk}",
    )
    b = assert_balanced(funded)
    # the money is back in the funded account: the line is outstanding until resent or paid in cash
    assert b.credited == 0 and b.failed == rejected.amount and b.open_lines == lines_total(funded)


def test_cash_paid_and_cash_returned_at_closing(lists, provider_a, preparer_a):
    point = lists["pay_point"]
    paid, absent, died = (entry_of(point, n) for n in PAY_POINT_PEOPLE)
    pay_cash(provider_a, paid)
    cycle = point.cycle
    line_ids = list(paid.entry_lines.values_list("line_id", flat=True))
    assert sorted(entries(cycle, K.CASH_PAID).values_list("line_id", flat=True)) == sorted(line_ids)
    assert total(cycle, K.CASH_PAID) == paid.amount
    pay_cash(provider_a, absent, "not_paid", reason="absent")
    assert_balanced(cycle)
    assert not entries(cycle, K.CASH_RETURNED).exists()  # not paid is not returned until closing
    closing.close_cash_list(actor=preparer_a, cash_list=point)
    returned = entries(cycle, K.CASH_RETURNED)
    assert sorted(returned.values_list("source", flat=True)) == sorted(
        [f"cash_return:{absent.pk}", f"cash_return:{died.pk}"]
    )
    assert total(cycle, K.CASH_RETURNED) == absent.amount + died.amount
    b = assert_balanced(cycle)
    assert b.returned == absent.amount + died.amount and b.cash_paid == paid.amount
    # closing again posts nothing
    closing.close_cash_list(actor=preparer_a, cash_list=point)
    assert entries(cycle, K.CASH_RETURNED).count() == 2


def test_bulk_receipts_post_set_based(lists, provider_a):
    point = lists["pay_point"]
    items = [
        receipts.ReceiptItem(
            entry_id=entry_of(point, n).pk,
            idempotency_key=str(uuid.uuid4()),
            outcome="paid",
            receiver_kind="beneficiary",
            note="Giấy xác nhận",
        )
        for n in PAY_POINT_PEOPLE
    ]
    out = receipts.record_receipts_bulk(actor=provider_a, items=items)
    assert not out.errors
    cycle = point.cycle
    paid = sum(CashEntry.objects.filter(cash_list=point, state=EntryState.PAID).values_list("amount", flat=True))
    assert total(cycle, K.CASH_PAID) == paid > 0
    assert_balanced(cycle)


def test_a_payee_recovery_is_outside_the_advance(funded, people, preparer_a):
    from ansinh.payroll import receivables

    b = people[ACCOUNT_PERSON]
    r = Receivable.objects.create(
        beneficiary=b,
        programme=funded.programme,
        debtor_name=b.full_name,
        reason="manual",
        amount=300_000,
        detected_in=funded,
        area_path=b.area_path,
    )
    before = ledger.balance(funded)
    receivables.record_payee_recovery(
        actor=preparer_a, receivable=r, amount=120_000, on=date(2026, 3, 20), reference="PT-1"
    )
    entry = entries(funded, K.RECOVERY).get()
    assert entry.amount == 120_000 and entry.source.startswith("recovery:")
    after = assert_balanced(funded)
    assert after.recoveries == 120_000
    assert (after.advance, after.outstanding) == (before.advance, before.outstanding)


# --- closing, fees, adjustments ----------------------------------------------------------------------


def next_cycle(cycle) -> PaymentCycle:
    return PaymentCycle.objects.create(
        approving_unit=cycle.approving_unit,
        programme=cycle.programme,
        month=date(cycle.month.year, cycle.month.month + 1, 1),
        area=cycle.area,
        area_path=cycle.area_path,
    )


def test_fee_then_close_then_a_late_credit_goes_to_the_next_cycle(funded, people, preparer_a, tmp_path):
    batches.build_batches(actor=preparer_a, cycle=funded)
    late = Instruction.objects.get(line__beneficiary=people[ACCOUNT_PERSON])
    credit_all_but(funded, preparer_a, tmp_path, late.end_to_end_id)
    fee = ledger.post_fee(actor=preparer_a, cycle=funded, amount=20_000, source=f"fee:test:{funded.pk}")
    assert ledger.post_fee(actor=preparer_a, cycle=funded, amount=20_000, source=f"fee:test:{funded.pk}") == fee
    with pytest.raises(ledger.LedgerRefused):
        ledger.post_fee(actor=preparer_a, cycle=funded, amount=1, source=f"fee:test:{funded.pk}")
    b = assert_balanced(funded)
    assert b.fees == 20_000 and b.unallocated == b.advance - b.lines_total - 20_000
    april = next_cycle(funded)
    closed = ledger.close_ledger(actor=preparer_a, cycle=funded)
    assert ledger.close_ledger(actor=preparer_a, cycle=funded) == closed
    assert closed.balance["outstanding"] == b.outstanding
    # after acceptance the bank credits the rejected transfer after all (a status query): the
    # payout is booked in April's ledger as an adjustment of March
    now = timezone.now()
    with transaction.atomic():
        Instruction.objects.filter(pk=late.pk).update(state="credited", status_at=now)
        Payout.objects.create(
            line=late.line,
            channel=PayoutChannel.ACCOUNT,
            instruction=late,
            amount=late.line.amount,
            paid_at=now,
            area_path=late.line.area_path,
        )
        ledger.on_payouts(actor=None, line_ids=[late.line_id])
    entry = LedgerEntry.objects.get(source__startswith="payout:", line=late.line)
    assert (entry.cycle_id, entry.adjusts_id) == (april.pk, funded.pk)
    after = assert_balanced(funded)
    assert after.credited == b.credited + late.line.amount
    assert after.outstanding == b.outstanding - late.line.amount
    assert ledger.balance(april).entries == 0  # April's own money is untouched
    assert list(ledger.entries_of(april)) == [entry]


def test_a_status_import_after_closing_posts_its_credits_in_the_next_cycle(funded, people, preparer_a, tmp_path):
    """The pain.002 that credits a transfer comes after the cycle's ledger was closed: the import
    writes the payout and its entry in one statement on PostgreSQL (`ledger.new_payouts_sql`),
    elsewhere after it (`on_status_job`); either way the entry is an adjustment of the closed
    cycle in the next cycle's ledger, and the same report again posts nothing."""
    batches.build_batches(actor=preparer_a, cycle=funded)
    batch = ProviderBatch.objects.get(cycle=funded, sequence=1)
    content, _ = write(batch)
    accepted = answer_all(content, lambda t: ("ACSP", ""), message_id="BANK-1", group_status="ACSP")
    statuses.import_status(actor=preparer_a, content=accepted, source=ImportSource.PAIN002)
    waiting = Instruction.objects.get(batch=batch)
    assert waiting.state == "accepted" and not entries(funded, K.CREDITED).exists()
    april = next_cycle(funded)
    ledger.close_ledger(actor=preparer_a, cycle=funded)
    credit = answer_all(content, lambda t: ("ACSC", ""), message_id="BANK-2", group_status="ACSC")
    statuses.import_status(actor=preparer_a, content=credit, source=ImportSource.PAIN002)
    payout = Payout.objects.get(instruction=waiting)
    entry = LedgerEntry.objects.get(source=f"payout:{payout.pk}")
    assert (entry.kind, entry.amount, entry.line_id) == (K.CREDITED, payout.amount, waiting.line_id)
    assert (entry.cycle_id, entry.adjusts_id, entry.recorded_by_id) == (april.pk, funded.pk, preparer_a.pk)
    assert not entries(funded, K.CREDITED).exists()
    assert_balanced(funded)
    before = LedgerEntry.objects.count()
    statuses.import_status(actor=preparer_a, content=credit, source=ImportSource.PAIN002)
    assert LedgerEntry.objects.count() == before


# --- catch-up, command ---------------------------------------------------------------------------------


def test_post_cycle_catches_up_and_is_idempotent(funded, people, preparer_a, tmp_path):
    batches.build_batches(actor=preparer_a, cycle=funded)
    credit_all_but(funded, preparer_a, tmp_path)
    # a cycle paid before the ledger existed: its payouts are there, its ledger is not (made here
    # by taking the entries' rows out of the picture: a second cycle's payouts written directly)
    april = next_cycle(funded)
    line = PayrollLine.objects.filter(cycle=funded).first()
    assert line is not None
    assert ledger.post_cycle(actor=preparer_a, cycle=funded) == {}
    assert ledger.post_cycle(actor=preparer_a, cycle=april) == {}
    out = io.StringIO()
    call_command("post_ledger", "--all", stdout=out)
    assert "0" in out.getvalue()


def test_post_cycle_posts_what_the_operations_imply(funded, people, preparer_a):
    """Payouts written without the hooks (as before the ledger existed) are posted by the catch-up."""
    batches.build_batches(actor=preparer_a, cycle=funded)
    now = timezone.now()
    with transaction.atomic():
        for instruction in Instruction.objects.filter(batch__cycle=funded):
            Instruction.objects.filter(pk=instruction.pk).update(state="credited", status_at=now)
            Payout.objects.create(
                line=instruction.line,
                channel=PayoutChannel.ACCOUNT,
                instruction=instruction,
                amount=instruction.line.amount,
                paid_at=now,
                area_path=instruction.line.area_path,
            )
        assert ledger.differences(funded.pk)  # the ledger lacks them
        posted = ledger.post_cycle(actor=None, cycle=funded)
    assert posted == {K.CREDITED.value: 1}
    assert ledger.post_cycle(actor=None, cycle=funded) == {}
    assert_balanced(funded)


# --- refusals ------------------------------------------------------------------------------------------


def test_entries_are_append_only(funded):
    entry = entries(funded).first()
    entry.amount += 1
    with pytest.raises(InvalidTransition):
        entry.save()
    with pytest.raises(InvalidTransition):
        entry.delete()


@postgres_only
def test_postgres_refuses_update_and_delete_of_an_entry(funded):
    entry = entries(funded).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {LedgerEntry._meta.db_table} SET amount = amount + 1 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)


@postgres_only
def test_postgres_refuses_a_payout_or_an_entry_whose_key_names_nothing(funded, preparer_a):
    """The payouts' line and the entries' cycles are checked per statement by a trigger (no
    constraint checked at commit): a key that names no row is refused, nothing written."""
    batches.build_batches(actor=preparer_a, cycle=funded)
    instruction = Instruction.objects.filter(batch__cycle=funded).first()
    missing = PayrollLine.objects.order_by("-pk").first().pk + 1000
    payouts, entries_table = Payout._meta.db_table, LedgerEntry._meta.db_table
    with pytest.raises(IntegrityError, match="no such payroll line"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {payouts} (line_id, channel, instruction_id, amount, paid_at, area_path, month, "  # noqa: S608
            "beneficiary_id, commune_id, line_type) SELECT %s, 'account', i.id, i.amount, now(), i.area_path, "
            "%s, l.beneficiary_id, l.commune_id, 'regular' FROM disbursement_instruction i "
            "JOIN payroll_payrollline l ON l.id = i.line_id WHERE i.id = %s",
            [missing, funded.month, instruction.pk],
        )
    assert not Payout.objects.exists()
    before = LedgerEntry.objects.count()
    no_cycle = PaymentCycle.objects.order_by("-pk").first().pk + 1000
    for cycle_id, adjusts_id in ((no_cycle, None), (funded.pk, no_cycle)):
        with (
            pytest.raises(IntegrityError, match="no such payment cycle"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(
                f"INSERT INTO {entries_table} (cycle_id, adjusts_id, kind, amount, source, occurred_at, "  # noqa: S608
                "recorded_at, area_path) VALUES (%s, %s, 'fee', 1, %s, now(), now(), '/')",
                [cycle_id, adjusts_id, f"test:{uuid.uuid4()}"],
            )
    assert LedgerEntry.objects.count() == before


@postgres_only
def test_postgres_refuses_a_transfer_whose_line_or_account_names_nothing_or_changes(funded, preparer_a):
    """A transfer's line and account are checked per statement (a probe each) and fixed once
    written: a key naming nothing is refused, and so is a change of either."""
    batches.build_batches(actor=preparer_a, cycle=funded)
    first = Instruction.objects.filter(batch__cycle=funded).order_by("pk").first()
    table = Instruction._meta.db_table
    copy = (
        f"INSERT INTO {table} (batch_id, line_id, end_to_end_id, amount, creditor_name, account_id, "  # noqa: S608
        "institution_code, institution_bin, account_last4, remittance, state, bank_status, reason_code, reason, "
        "commune_id, area_path, in_file, notified) SELECT batch_id, %s, %s, amount, creditor_name, %s, "
        "institution_code, institution_bin, account_last4, remittance, 'rejected', '', '', '', commune_id, "
        f"area_path, false, false FROM {table} WHERE id = %s"
    )
    no_line = PayrollLine.objects.order_by("-pk").first().pk + 1000
    no_account = first.account_id + 100_000
    for line_id, account_id in ((no_line, first.account_id), (first.line_id, no_account)):
        with (
            pytest.raises(IntegrityError, match="does not exist"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(copy, [line_id, f"ANS-X-{line_id}", account_id, first.pk])
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        Instruction.objects.filter(pk=first.pk).update(account_id=first.account_id + 1)
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        Instruction.objects.filter(pk=first.pk).update(line_id=first.line_id + 1)
    first.state = "cancelled"
    first.save()  # every column written, the keys unchanged: allowed
    assert Instruction.objects.get(pk=first.pk).state == "cancelled"


def _payout_without_ledger(cycle):
    instruction = Instruction.objects.filter(batch__cycle=cycle).first()
    Instruction.objects.filter(pk=instruction.pk).update(state="credited")
    return Payout.objects.create(
        line=instruction.line,
        channel=PayoutChannel.ACCOUNT,
        instruction=instruction,
        amount=instruction.line.amount,
        paid_at=timezone.now(),
        area_path=instruction.line.area_path,
    )


def test_the_service_check_refuses_a_payout_the_ledger_lacks(funded, preparer_a):
    batches.build_batches(actor=preparer_a, cycle=funded)
    with pytest.raises(ledger.LedgerImbalance), transaction.atomic():
        _payout_without_ledger(funded)
        ledger.check([funded.pk])
    assert not Payout.objects.filter(line__cycle=funded).exists()
    assert ledger.balance(funded).balanced


@postgres_only
def test_the_trigger_refuses_to_commit_a_payout_the_ledger_lacks(funded, preparer_a):
    batches.build_batches(actor=preparer_a, cycle=funded)
    with pytest.raises(IntegrityError), transaction.atomic():
        _payout_without_ledger(funded)
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does
    assert not Payout.objects.filter(line__cycle=funded).exists()


@postgres_only
def test_the_trigger_refuses_an_entry_without_its_payout(funded):
    line = PayrollLine.objects.filter(cycle=funded).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            cycle=funded,
            kind=K.CREDITED,
            amount=line.amount,
            line=line,
            source="forged:1",
            occurred_at=timezone.now(),
            recorded_at=timezone.now(),
            area_path=funded.area_path,
        )
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not LedgerEntry.objects.filter(source="forged:1").exists()


@postgres_only
def test_the_trigger_refuses_cash_returned_without_its_entry(lists):
    point = lists["pay_point"]
    entry = entry_of(point, PAY_POINT_PEOPLE[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        CashEntry.objects.filter(pk=entry.pk).update(state=EntryState.RETURNED)
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- the page and the API -------------------------------------------------------------------------------


def test_ledger_page_and_api(funded, people, preparer_a, officer_b, client_for, api_client_for, tmp_path):
    credit_all_but(funded, preparer_a, tmp_path)
    b = ledger.balance(funded)
    page = client_for(preparer_a).get(f"/reconciliation/cycles/{funded.pk}/ledger/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sổ theo dõi kỳ chi trả" in html and "Tạm ứng nhận từ Kho bạc" in html and "Chuyển khoản đã ghi có" in html
    assert f'data-figure="outstanding">{b.outstanding:,} đ'.replace(",", ".") in html
    cycle_page = client_for(preparer_a).get(f"/payroll/cycles/{funded.pk}/").content.decode()
    assert f"/reconciliation/cycles/{funded.pk}/ledger/" in cycle_page
    # another area's cycle is a 404
    assert client_for(officer_b).get(f"/reconciliation/cycles/{funded.pk}/ledger/").status_code == 404
    answer = api_client_for(preparer_a).get(f"/api/v1/cycles/{funded.pk}/ledger")
    assert answer.status_code == 200
    data = answer.json()
    assert data["balance"]["advance"] == b.advance and data["balance"]["credited"] == b.credited
    assert data["balance"]["outstanding"] == b.outstanding and data["balance"]["balanced"] is True
    assert data["count"] == len(data["entries"]) == b.entries
    assert {e["kind"] for e in data["entries"]} == {"advance", "credited"}
    assert api_client_for(officer_b).get(f"/api/v1/cycles/{funded.pk}/ledger").status_code == 404


def test_closing_and_fee_read_as_vietnamese_sentences(funded, preparer_a):
    from django.utils import translation

    from ansinh.audit.models import AuditEvent
    from ansinh.web.audit_text import render

    ledger.post_fee(actor=preparer_a, cycle=funded, amount=15_000, source="fee:sentence")
    ledger.close_ledger(actor=preparer_a, cycle=funded)
    events = AuditEvent.objects.filter(action__startswith="reconciliation.ledger.").order_by("pk")
    with translation.override("vi"):
        texts = [e.text for e in render(list(events), preparer_a)]
        titles = [e.title for e in render(list(events), preparer_a)]
    assert "đã ghi phí dịch vụ 15.000 đồng cho tháng" in texts[0]
    assert "đã khóa sổ tháng" in texts[1] and titles == ["Ghi phí dịch vụ vào sổ", "Khóa sổ kỳ chi trả"]
