"""The provider's settlement (ansinh.reconciliation.settlement): the statement's lists and totals
from the records, the fee under both rules, what blocks a submission, acceptance closing the
ledger and moving the cycle, returning with comments, doing a step twice."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.payroll.models import ContractPurpose, CycleState, FeeKind, ProviderContract
from ansinh.reconciliation import lists
from ansinh.reconciliation import settlement as svc
from ansinh.reconciliation.models import ProviderSettlement, SettlementState
from tests.reconciliation.settlement_fixtures import *  # noqa: F403
from tests.reconciliation.settlement_fixtures import (
    ACCOUNT_PERSON,
    HOME_PEOPLE,
    PAY_POINT_PEOPLE,
    amount_of,
)

ST = SettlementState


# --- the fee -------------------------------------------------------------------------------------


def _contract(kind: str, flat: int = 0, bp: int = 0) -> ProviderContract:
    return ProviderContract(number="HĐ", fee_kind=kind, fee_flat=flat, fee_basis_points=bp)


def test_fee_by_hand():
    assert svc.compute_fee(_contract(FeeKind.FLAT, flat=5000), 1598, 999) == 7_990_000
    # 1.5 % of 1,093,860,000 = 16,407,900
    assert svc.compute_fee(_contract(FeeKind.PERCENT, bp=150), 3, 1_093_860_000) == 16_407_900
    # 1.5 % of 1,000,033 = 15,000.495 → 15,000 ; of 1,000,034 = 15,000.51 → 15,001
    assert svc.compute_fee(_contract(FeeKind.PERCENT, bp=150), 1, 1_000_033) == 15_000
    assert svc.compute_fee(_contract(FeeKind.PERCENT, bp=150), 1, 1_000_034) == 15_001
    assert svc.compute_fee(None, 10, 10_000_000) == 0
    assert svc.compute_fee(_contract(FeeKind.PERCENT, bp=150), 1, -500_000) == 0  # recoveries only


@settings(max_examples=60, deadline=None)
@given(flat=st.integers(0, 50_000), served=st.integers(0, 200_000), paid=st.integers(0, 10**13))
def test_flat_fee_is_exact(flat, served, paid):
    assert svc.compute_fee(_contract(FeeKind.FLAT, flat=flat), served, paid) == flat * served


@settings(max_examples=60, deadline=None)
@given(bp=st.integers(0, 10_000), paid=st.integers(0, 10**13), served=st.integers(0, 1000))
def test_percent_fee_rounds_once_half_up(bp, paid, served):
    fee = svc.compute_fee(_contract(FeeKind.PERCENT, bp=bp), served, paid)
    assert isinstance(fee, int)
    assert fee == (paid * bp * 2 + 10_000) // 20_000  # half away from zero, in integers
    assert abs(fee * 10_000 - paid * bp) <= 5_000


# --- the statement ----------------------------------------------------------------------------------


def test_statement_lists_and_totals(paid_cycle):
    cycle = paid_cycle
    a = {name: amount_of(cycle, name) for name in (*PAY_POINT_PEOPLE, *HOME_PEOPLE, ACCOUNT_PERSON)}
    st_ = svc.statement(cycle, ContractPurpose.REGULAR)
    assert st_.blockers == []
    assert st_.totals[lists.ACCOUNT] == {"people": 1, "amount": a[ACCOUNT_PERSON]}
    assert st_.totals[lists.PAY_POINT] == {"people": 1, "amount": a[PAY_POINT_PEOPLE[0]]}
    assert st_.totals[lists.HOME_OR_REP] == {"people": 2, "amount": a[PAY_POINT_PEOPLE[1]] + a[HOME_PEOPLE[0]]}
    unpaid = a[PAY_POINT_PEOPLE[2]] + a[HOME_PEOPLE[1]]
    assert st_.totals[lists.NOT_PAID] == {"people": 2, "amount": unpaid}
    assert st_.returned == unpaid
    assert st_.served == 4
    assert st_.amount_paid == a[ACCOUNT_PERSON] + a[PAY_POINT_PEOPLE[0]] + a[PAY_POINT_PEOPLE[1]] + a[HOME_PEOPLE[0]]
    assert st_.fee == 4 * 5000  # the contract's flat 5,000 đồng per beneficiary paid

    names = {k: [r["name"] for r in st_.rows(k)] for k in lists.KINDS}
    assert names[lists.ACCOUNT] == [ACCOUNT_PERSON]
    assert names[lists.PAY_POINT] == [PAY_POINT_PEOPLE[0]]
    assert sorted(names[lists.HOME_OR_REP]) == sorted([PAY_POINT_PEOPLE[1], HOME_PEOPLE[0]])
    rep_row = next(r for r in st_.rows(lists.HOME_OR_REP) if r["name"] == PAY_POINT_PEOPLE[1])
    assert rep_row["by_representative"] and rep_row["payee"] == "Lê Văn Đại Diện" and not rep_row["at_home"]
    with translation.override("vi"):
        unpaid_rows = {r["name"]: r for r in st_.rows(lists.NOT_PAID)}
    assert set(unpaid_rows) == {PAY_POINT_PEOPLE[2], HOME_PEOPLE[1]}
    assert "Vắng nhà" in unpaid_rows[PAY_POINT_PEOPLE[2]]["reason"]
    assert unpaid_rows[HOME_PEOPLE[1]]["returned_amount"] == a[HOME_PEOPLE[1]]
    # nothing under the funeral contract in this payroll
    assert svc.purposes_of(cycle) == [ContractPurpose.REGULAR]


@pytest.mark.parametrize("transfer_state", ["rejected"])
def test_a_failed_transfer_not_paid_another_way_is_returned(paid_cycle, transfer_state):
    st_ = svc.statement(paid_cycle)
    failed = amount_of(paid_cycle, ACCOUNT_PERSON)
    unpaid = amount_of(paid_cycle, PAY_POINT_PEOPLE[2]) + amount_of(paid_cycle, HOME_PEOPLE[1])
    assert st_.totals[lists.ACCOUNT] == {"people": 0, "amount": 0}
    assert st_.totals[lists.NOT_PAID] == {"people": 3, "amount": unpaid + failed}
    assert st_.returned == unpaid + failed
    assert st_.fee == 3 * 5000
    with translation.override("vi"):
        row = next(r for r in st_.rows(lists.NOT_PAID) if r["name"] == ACCOUNT_PERSON)
    assert "Tài khoản đã đóng" in row["reason"] and row["returned_amount"] == failed


# --- submission, acceptance ---------------------------------------------------------------------------


def test_submission_is_blocked_while_a_cash_list_is_open(paying, provider_a):
    with translation.override("vi"), pytest.raises(svc.SettlementRefused) as refused:
        svc.submit(actor=provider_a, cycle=paying)
    assert "chưa khóa sổ" in str(refused.value)
    assert not ProviderSettlement.objects.exists()


@pytest.mark.parametrize("transfer_state", ["sent"])
def test_submission_is_blocked_while_a_transfer_waits(paid_cycle, provider_a, transfer_state):
    with translation.override("vi"), pytest.raises(svc.SettlementRefused) as refused:
        svc.submit(actor=provider_a, cycle=paid_cycle)
    assert "chờ ngân hàng trả lời" in str(refused.value)


def test_only_the_provider_submits_and_only_the_office_accepts(paid_cycle, provider_a, preparer_a, officer_b):
    with pytest.raises(svc.SettlementForbidden):
        svc.submit(actor=preparer_a, cycle=paid_cycle)
    with pytest.raises(svc.SettlementForbidden):
        svc.submit(actor=officer_b, cycle=paid_cycle)
    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    with pytest.raises(svc.SettlementForbidden):
        svc.accept(actor=provider_a, settlement=obj)
    obj.refresh_from_db()
    assert obj.state == ST.SUBMITTED


def test_acceptance_posts_the_fee_closes_the_ledger_and_settles_the_cycle(paid_cycle, provider_a, preparer_a):
    from ansinh.reconciliation import ledger
    from ansinh.reconciliation.models.ledger import LedgerClosing, LedgerEntry

    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    assert obj.state == ST.SUBMITTED and obj.fee == 20_000 and obj.beneficiaries_served == 4
    assert svc.submit(actor=provider_a, cycle=paid_cycle).pk == obj.pk  # twice: unchanged
    svc.accept(actor=preparer_a, settlement=obj)
    obj.refresh_from_db()
    paid_cycle.refresh_from_db()
    assert obj.state == ST.ACCEPTED and obj.decided_by == preparer_a
    assert paid_cycle.state == CycleState.SETTLED
    assert paid_cycle.deadlines.get(kind="provider_settlement").done_at is not None
    assert LedgerClosing.objects.filter(cycle=paid_cycle).exists()
    fee = LedgerEntry.objects.get(source=f"settlement:{obj.pk}")
    assert fee.amount == 20_000
    assert ledger.balance(paid_cycle).fees == 20_000
    # again: nothing more
    svc.accept(actor=preparer_a, settlement=obj)
    assert LedgerEntry.objects.filter(kind="fee").count() == 1
    actions = list(
        AuditEvent.objects.filter(action__startswith="reconciliation.settlement").values_list("action", flat=True)
    )
    assert actions.count("reconciliation.settlement.submitted") == 1
    assert actions.count("reconciliation.settlement.accepted") == 1


def test_returned_with_comments_then_submitted_again(paid_cycle, provider_a, preparer_a):
    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    with pytest.raises(svc.SettlementRefused):
        svc.return_settlement(actor=preparer_a, settlement=obj, comment="  ")
    svc.return_settlement(actor=preparer_a, settlement=obj, comment="Thiếu chữ ký người nhận")
    obj.refresh_from_db()
    assert obj.state == ST.RETURNED and obj.comment == "Thiếu chữ ký người nhận"
    with pytest.raises(svc.SettlementRefused):
        svc.accept(actor=preparer_a, settlement=obj)
    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    assert obj.state == ST.SUBMITTED
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.PAYING


def test_records_changed_after_submission_refuse_acceptance(paid_cycle, provider_a, preparer_a):
    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    ProviderSettlement.objects.filter(pk=obj.pk).update(fee=1)  # what was submitted no longer matches…
    obj.refresh_from_db()
    obj.totals = obj.totals | {"fee": 1}
    obj.save(update_fields=["totals"])
    with pytest.raises(svc.SettlementRefused):
        svc.accept(actor=preparer_a, settlement=obj)
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.PAYING


def test_the_settled_step_needs_the_accepted_settlement(paid_cycle, preparer_a):
    from ansinh.payroll import services

    with translation.override("vi"), pytest.raises(services.TransitionRefused):
        services.transition(actor=preparer_a, cycle=paid_cycle, to_state=CycleState.SETTLED)


def test_statement_xlsx_has_the_title_block_and_the_lists(paid_cycle, preparer_a):
    import io

    from openpyxl import load_workbook

    st_ = svc.statement(paid_cycle)
    data = svc.statement_xlsx(st_, actor=preparer_a)
    ws = load_workbook(io.BytesIO(data)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in values
    assert ACCOUNT_PERSON in values and HOME_PEOPLE[1] in values
    assert 20_000 in values
    assert AuditEvent.objects.filter(action="reconciliation.settlement.exported").count() == 1
    assert date.today().year > 2000
