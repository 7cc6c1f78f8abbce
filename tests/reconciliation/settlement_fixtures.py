"""Fixtures of the settlement tests: commune A's cycle of March 2026 (tests/cashout/conftest.py:
three people at a pay point, two at home, one account holder), paid through the services where
they exist (cash receipts, closing the lists) and with the credited transfer written directly
(the transfer leg is tested in tests/disbursement), then brought into the ledger.

`paid_cycle` is in state "paying" with:
- Trần Văn Điểm paid at the pay point (to the beneficiary),
- Lê Thị Chi paid at the pay point to a listed representative,
- Phạm Văn Làng Hai absent (returned at closing),
- Nguyễn Thị Tại Nhà paid at home,
- Võ Văn Ở Nhà never visited (returned at closing),
- Đặng Thị Tài Khoản credited to the account (or, `transfer_state` "rejected", the transfer
  rejected and not paid another way)."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from ansinh.cashout import closing, receipts
from ansinh.disbursement.models import BatchState, Instruction, Payout, ProviderBatch
from ansinh.payroll.models import Channel, CycleState, PaymentCycle, PayrollLine
from tests.cashout.conftest import (  # noqa: F401
    ACCOUNT_PERSON,
    HOME_PEOPLE,
    PAY_POINT_PEOPLE,
    cash_cycle,
    cash_lists,
    cash_places,
    extra_people,
    people,
    village_b,
)
from tests.cashout.receipt_fixtures import add_representative, entry_of
from tests.disbursement.conftest import (  # noqa: F401
    _no_throttle_wait,
    approved,
    contract,
    funded,
)
from tests.payroll.conftest import approver_a, preparer_a, provider_a, world  # noqa: F401


def pay(actor, entry, **kw):
    kw.setdefault("receiver_kind", "beneficiary")
    if kw["receiver_kind"] == "beneficiary":
        kw.setdefault("note", "Giấy xác nhận của công an xã")
    return receipts.record_cash_receipt(
        actor=actor,
        entry_id=entry.pk,
        idempotency_key=uuid.uuid4().hex,
        outcome="paid",
        occurred_at=timezone.now(),
        **kw,
    )


def not_paid(actor, entry, reason="absent"):
    return receipts.record_cash_receipt(
        actor=actor,
        entry_id=entry.pk,
        idempotency_key=uuid.uuid4().hex,
        outcome="not_paid",
        reason=reason,
        note="Vắng nhà",
        occurred_at=timezone.now(),
    )


def transfer(cycle, contract, state: str) -> Instruction:  # noqa: F811
    """The account holder's transfer, written directly: credited (with its payout) or rejected."""
    line = PayrollLine.objects.get(cycle=cycle, channel=Channel.ACCOUNT)
    now = timezone.now()
    batch = ProviderBatch.objects.create(
        cycle=cycle,
        provider=contract.provider,
        contract=contract,
        message_id=f"ANS-C{cycle.pk}-1",
        state=BatchState.REPORTED,
        approval_hash="0" * 64,
        instructions_count=1,
        total_amount=line.amount,
        area_path=cycle.area_path,
        created_at=now,
    )
    inst = Instruction.objects.create(
        batch=batch,
        line=line,
        end_to_end_id=f"ANS-{line.pk}-1",
        amount=line.amount,
        creditor_name=line.account_holder,
        account=line.account,
        institution_code="VBA",
        institution_bin="970405",
        account_last4=line.account_last4,
        remittance="Tro cap",
        state=state,
        bank_status="ACSC" if state == "credited" else "RJCT",
        reason="" if state == "credited" else "Tài khoản đã đóng",
        status_at=now,
        commune=line.commune,
        area_path=line.area_path,
        in_file=True,
    )
    if state == "credited":
        Payout.objects.create(
            line=line, channel="account", instruction=inst, amount=line.amount, paid_at=now, area_path=line.area_path
        )
    return inst


@pytest.fixture
def transfer_state() -> str:
    return "credited"


@pytest.fixture
def paying(cash_lists, contract, transfer_state):  # noqa: F811
    """The cycle being paid, its cash lists open, nothing recorded yet but the transfer."""
    from ansinh.reconciliation import ledger

    cycle = cash_lists[0].cycle
    PaymentCycle.objects.filter(pk=cycle.pk).update(state=CycleState.PAYING)
    cycle.refresh_from_db()
    transfer(cycle, contract, transfer_state)
    ledger.post_cycle(actor=None, cycle=cycle)
    return cycle


@pytest.fixture
def paid_cycle(paying, cash_lists, provider_a, preparer_a):  # noqa: F811
    by_kind = {cl.kind: cl for cl in cash_lists}
    point, home = by_kind["pay_point"], by_kind["home"]
    pay(provider_a, entry_of(point, PAY_POINT_PEOPLE[0]))
    chi = entry_of(point, PAY_POINT_PEOPLE[1])
    link = add_representative(chi.beneficiary)
    pay(
        provider_a,
        chi,
        receiver_kind="representative",
        representation_id=link.pk,
        receiver_cccd=link.representative.cccd,
    )
    not_paid(provider_a, entry_of(point, PAY_POINT_PEOPLE[2]))
    pay(provider_a, entry_of(home, HOME_PEOPLE[0]))
    for cl in (point, home):
        closing.close_cash_list(actor=preparer_a, cash_list=cl)
    paying.refresh_from_db()
    return paying


def amount_of(cycle, name: str) -> int:
    return sum(PayrollLine.objects.filter(cycle=cycle, beneficiary__full_name=name).values_list("amount", flat=True))
