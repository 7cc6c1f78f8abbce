"""A small hand-built month for the monitoring dashboard (issue 13, part 5).

Month M = 11/2026, district 884 with communes A and B (tests/conftest.py's tree):

A: b1 account opened 05/2026, paid 500.000 by transfer in M; b2 account opened 10/2026, paid
   400.000 in cash in M; b3 no account; b4 account opened 12/2026 (after M); b5 stopped after
   09/2026 (account opened 03/2026). Its change list of M was late (overdue).
B: b6 account opened 01/2026, paid 600.000 by transfer in M; b7 no account. Its change list
   was submitted on time.

So in M: A 4 receiving, 2 with an account, 1 paid through it; B 2, 1, 1.
Money of M: advance 2.000.000 (the district's cycle), paid 1.100.000 by transfer and 400.000 in
cash, 300.000 of cash returned (b3). One open complaint in A (overdue), one closed in B; an
open transfer exception in A (b2's rejected transfer); an open reconciliation exception in B and
a resolved one in A."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

M = date(2026, 11, 1)


def transfer_of(ln, batch, state):
    """The transfer of the payroll line `ln` in `batch`, in `state`, to the person's account."""
    from ansinh.disbursement.models import Instruction

    account = ln.beneficiary.receiving_accounts.get()
    return Instruction.objects.create(
        batch=batch,
        line=ln,
        end_to_end_id=f"ANS-{ln.pk}-1",
        amount=ln.amount,
        creditor_name=account.holder_name,
        account=account,
        institution_code="VBA",
        institution_bin="970405",
        account_last4=account.last4,
        remittance="Tro cap",
        state=state,
        commune=ln.commune,
        area_path=ln.area_path,
    )


def _person(name, commune, village=None, start=date(2026, 1, 1), end=None, tail="000001"):
    from ansinh.registry.models import Beneficiary
    from tests.factories import cccd_for

    birth = date(1950, 3, 4)
    return Beneficiary.objects.create(
        full_name=name,
        birth_date=birth,
        gender="female",
        cccd=cccd_for(birth, "female", tail),
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        start_month=start,
        end_month=end,
        status="active" if end is None else "stopped",
        stop_reason="" if end is None else "died",
        death_date=None if end is None else end,
    )


def _account(b, opened_on):
    from ansinh.payments.models import Institution, ReceivingAccount

    return ReceivingAccount.objects.create(
        beneficiary=b,
        kind="bank",
        institution=Institution.objects.get(code="VBA"),
        number_encrypted="x",
        number_hash=f"{b.pk:064d}",
        last4="6789",
        holder_name=b.full_name.upper(),
        status="active",
        opened_on=opened_on,
    )


@pytest.fixture
def month_world(tree, policy, officer_a):
    from io import StringIO

    from ansinh.accounts.models import OrgKind
    from ansinh.accounts.services import create_org_unit
    from ansinh.cashout.models import CashEntry, CashList
    from ansinh.complaints.models import Complaint
    from ansinh.disbursement.models import Payout
    from ansinh.payroll.models import (
        Advance,
        ChangeList,
        CycleDeadline,
        DeadlineKind,
        PaymentCycle,
        PayrollLine,
    )
    from ansinh.policy.models import Programme

    call_command("load_institutions", stdout=StringIO())
    a, b = tree.a, tree.b
    b1 = _person("Nguyễn Thị Một", a, tree.village_a, tail="000001")
    b2 = _person("Trần Thị Hai", a, tail="000002")
    b3 = _person("Lê Thị Ba", a, tail="000003")
    b4 = _person("Phạm Thị Bốn", a, start=date(2026, 6, 1), tail="000004")
    b5 = _person("Hồ Thị Năm", a, end=date(2026, 9, 1), tail="000005")
    b6 = _person("Võ Thị Sáu", b, tail="000006")
    b7 = _person("Đỗ Thị Bảy", b, tail="000007")
    _account(b1, date(2026, 5, 12))
    _account(b2, date(2026, 10, 31))
    _account(b4, date(2026, 12, 1))
    _account(b5, date(2026, 3, 1))
    _account(b6, date(2026, 1, 5))

    unit = create_org_unit(actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH Châu Đốc", area=tree.district)
    programme = Programme.objects.order_by("code").first()
    cycle = PaymentCycle.objects.create(
        approving_unit=unit, programme=programme, month=M, area=tree.district, area_path=tree.district.path
    )
    at = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)

    def line(person, amount, channel):
        return PayrollLine.objects.create(
            cycle=cycle,
            beneficiary=person,
            amount=amount,
            payee_name=person.full_name,
            channel=channel,
            commune=person.commune,
            area_path=person.area_path,
        )

    from ansinh.disbursement.models import ProviderBatch, TransferException
    from ansinh.payroll import services as payroll
    from ansinh.payroll.models import ContractPurpose, FeeKind

    post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện Châu Đốc", area=tree.district)
    contract = payroll.create_contract(
        actor=None,
        data=payroll.ContractInput(
            number="HĐ-01/2026",
            paying_unit=unit,
            provider=post,
            areas=[tree.district],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        ),
    )
    batch = ProviderBatch.objects.create(
        cycle=cycle,
        provider=post,
        contract=contract,
        message_id=f"ANS-C{cycle.pk}-1",
        state="reported",
        approval_hash="0" * 64,
        area_path=cycle.area_path,
        created_at=at,
    )

    def instruction(ln, state):
        return transfer_of(ln, batch, state)

    for person, amount, channel in ((b1, 500_000, "account"), (b2, 400_000, "cash"), (b6, 600_000, "account")):
        ln = line(person, amount, "account")
        sent = instruction(ln, "credited" if channel == "account" else "rejected")
        Payout.objects.create(
            line=ln,
            channel=channel,
            instruction=sent if channel == "account" else None,
            amount=amount,
            paid_at=at,
            area_path=person.area_path,
        )
        if channel == "cash":  # the transfer was rejected and paid in cash; the exception is still open
            TransferException.objects.create(
                kind="rejected", instruction=sent, batch=batch, line=ln, commune=a, area_path=ln.area_path
            )
    l3 = line(b3, 300_000, "pay_point")

    from ansinh.cashout.models import PayPoint

    point = PayPoint.objects.create(
        commune=a, area_path=a.path, name="Nhà văn hóa khóm", kind="commune_hall", address="Khóm Châu Long 1"
    )
    cash_list = CashList.objects.create(
        cycle=cycle, kind="pay_point", pay_point=point, commune=a, area_path=a.path, built_at=at
    )
    CashEntry.objects.create(
        cash_list=cash_list,
        cycle=cycle,
        beneficiary=b3,
        payee_name=b3.full_name,
        amount=l3.amount,
        state="returned",
        commune=a,
        area_path=b3.area_path,
    )
    Advance.objects.create(
        cycle=cycle, amount=2_000_000, received_on=date(2026, 11, 5), reference="KB-01", recorded_by=officer_a
    )
    ChangeList.objects.create(cycle=cycle, commune=a, area_path=a.path, state="accepted", overdue=True, submitted_at=at)
    ChangeList.objects.create(
        cycle=cycle, commune=b, area_path=b.path, state="accepted", overdue=False, submitted_at=at
    )
    done = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    late = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)
    for kind, due, done_at in (
        (DeadlineKind.COMMUNE_CHANGES, date(2026, 11, 2), done),
        (DeadlineKind.PAYROLL_FUNDING, date(2026, 11, 4), late),
        (DeadlineKind.TRANSFERS, date(2026, 11, 8), None),
    ):
        CycleDeadline.objects.create(cycle=cycle, kind=kind, due_date=due, done_at=done_at, area_path=cycle.area_path)

    def complaint(ref, commune, state, due):
        return Complaint.objects.create(
            reference=ref,
            channel="phone",
            kind="complaint",
            topic="not_paid",
            text="Chưa nhận được tiền tháng này.",
            name="Người khiếu nại",
            commune=commune,
            area_path=commune.path,
            routed_to="commune",
            received_on=date(2026, 11, 3),
            due_on=due,
            state=state,
        )

    # the ledger (issue 13, part 1) posts what the records imply: the advance, the payouts, the return
    from django.db import transaction

    from ansinh.reconciliation import ledger

    with transaction.atomic():
        ledger.post_cycle(actor=None, cycle=cycle)

    # reconciliation exceptions (issue 13, part 2): one open in B, one resolved in A
    from ansinh.reconciliation.models import ReconException

    for key, commune, state in (("line:b6", b, "open"), ("line:b1", a, "resolved")):
        ReconException.objects.create(
            kind="amount_differs",
            key=key,
            state=state,
            cycle=cycle,
            commune=commune,
            area_path=commune.path,
            owner_role="office_officer",
            due_date=date(2026, 11, 25),
        )

    complaint("KN-1", a, "lodged", date(2026, 11, 20))
    complaint("KN-2", b, "resolved", date(2026, 11, 20))
    return type("World", (), {"cycle": cycle, "people": [b1, b2, b3, b4, b5, b6, b7], "unit": unit})
