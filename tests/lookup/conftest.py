"""Small builders for the lookup tests: people of commune A (one with an HIV-related category), an
approved cycle of this month and of last month with their payroll lines, a credited transfer, a
cash-list entry at a pay point with its days."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from ansinh.cashout.models import CashEntry, CashList, CashListKind, PayDay, PayPoint, PayPointKind
from ansinh.disbursement.models import Instruction, InstructionState, Payout, PayoutChannel, ProviderBatch
from ansinh.lookup.status import previous_month
from ansinh.payroll.models import ContractPurpose, CycleState, FeeKind, PaymentCycle, PayrollLine
from ansinh.payroll.services import ContractInput, create_contract
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from tests.disbursement.conftest import open_account, vba
from tests.payroll.conftest import world  # noqa: F401

THIS_MONTH = timezone.localdate().replace(day=1)
LAST_MONTH = previous_month(THIS_MONTH)

CCCD = "089150012345"  # Trần Văn Một, phone +84912345678
HIV_CCCD = "089150099999"  # Lê Thị Hai, HIV-related category, paid at a pay point
UNKNOWN = "089150000000"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def person(tree, name: str, cccd: str, phone: str, category: str = "D20.5.5.c") -> Beneficiary:
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=dt.date(1940, 5, 17),
        gender="male",
        cccd=cccd,
        phone=phone,
        commune=tree.a,
        village=tree.village_a,
        area_path=tree.village_a.path,
        start_month=dt.date(2025, 1, 1),
    )
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code=category), from_month=dt.date(2025, 1, 1)
    )
    return b


def cycle(world, month: dt.date, state: str = CycleState.APPROVED, lines=()) -> PaymentCycle:  # noqa: F811
    """A cycle of commune A with `lines` = [(beneficiary, amount, channel, line_type)], written
    while a draft, then moved to `state` (an approved payroll is immutable)."""
    programme = Category.objects.get(code="D20.5.5.c").programme
    c = PaymentCycle.objects.create(
        approving_unit=world.unit_a,
        programme=programme,
        month=month,
        area=world.tree.a,
        area_path=world.tree.a.path,
        state=CycleState.PAYROLL_GENERATED,
    )
    for b, amount, channel, line_type in lines:
        PayrollLine.objects.create(
            cycle=c,
            beneficiary=b,
            line_type=line_type,
            amount=amount,
            payee_name=b.full_name,
            channel=channel,
            area_path=b.area_path,
            commune=b.commune,
            basis={"categories": [bc.category.code for bc in b.categories.all()]},
        )
    PaymentCycle.objects.filter(pk=c.pk).update(state=state)
    c.refresh_from_db()
    return c


def credit(world, c: PaymentCycle, b: Beneficiary, on: dt.datetime) -> Instruction:  # noqa: F811
    """A credited transfer of b's lines of cycle c, with its payout."""
    contract = create_contract(
        actor=None,
        data=ContractInput(
            number=f"HĐ-{c.pk}",
            paying_unit=world.unit_a,
            provider=world.post,
            areas=[world.tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=dt.date(2025, 1, 1),
            valid_to=dt.date(2030, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
            provider_account_number="1234567890123",
            provider_institution=vba(),
        ),
    )
    batch = ProviderBatch.objects.create(
        cycle=c,
        provider=world.post,
        contract=contract,
        message_id=f"MSG-{c.pk}",
        approval_hash="x" * 64,
        area_path=c.area_path,
        created_at=on,
    )
    lines = list(PayrollLine.objects.filter(cycle=c, beneficiary=b))
    account = open_account(b, "1000200030001")
    instruction = Instruction.objects.create(
        batch=batch,
        line=lines[0],
        end_to_end_id=f"E2E-{lines[0].pk}",
        amount=sum(ln.amount for ln in lines),
        creditor_name=b.full_name.upper(),
        account=account,
        institution_code="VBA",
        institution_bin="970405",
        account_last4="0001",
        remittance="Tro cap",
        state=InstructionState.CREDITED,
        status_at=on,
        commune=b.commune,
        area_path=b.area_path,
    )
    for ln in lines:
        Payout.objects.create(
            line=ln,
            channel=PayoutChannel.ACCOUNT,
            instruction=instruction,
            amount=ln.amount,
            paid_at=on,
            area_path=b.area_path,
        )
    return instruction


def cash_entry(world, c: PaymentCycle, b: Beneficiary, amount: int) -> CashEntry:  # noqa: F811
    point = PayPoint.objects.create(
        commune=world.tree.a,
        area_path=world.tree.a.path,
        name="Bưu điện Châu Phú A",
        kind=PayPointKind.POST_OFFICE,
        address="12 Lê Lợi, khóm Châu Long 1",
    )
    PayDay.objects.create(
        pay_point=point,
        month=c.month,
        day=c.month + dt.timedelta(days=9),
        opens=dt.time(7, 30),
        closes=dt.time(11, 0),
        area_path=point.area_path,
    )
    cash_list = CashList.objects.create(
        cycle=c,
        kind=CashListKind.PAY_POINT,
        pay_point=point,
        commune=world.tree.a,
        area_path=world.tree.a.path,
        built_at=timezone.now(),
    )
    return CashEntry.objects.create(
        cash_list=cash_list,
        cycle=c,
        beneficiary=b,
        payee_name=b.full_name,
        amount=amount,
        commune=b.commune,
        area_path=b.area_path,
    )


def representative_of(b: Beneficiary, name: str, phone: str) -> Representation:
    rep = Representative.objects.create(
        full_name=name, phone=phone, commune=b.commune, area_path=b.commune.path, name_key=name.lower()
    )
    return Representation.objects.create(beneficiary=b, representative=rep, kind="authorised", relationship="con")


@pytest.fixture
def people(world):  # noqa: F811
    tree = world.tree
    one = person(tree, "Trần Văn Một", CCCD, "+84912345678")
    hiv = person(tree, "Lê Thị Hai", HIV_CCCD, "+84987654321", category="D20.5.8")
    return type("People", (), {"one": one, "hiv": hiv})


@pytest.fixture
def paid(world, people):  # noqa: F811
    """Last month: 500.000 đ each. This month: Một 750.000 đ by transfer (regular 500.000 + arrears
    250.000), credited on day 8; Hai 600.000 đ in cash at the pay point (on the list, days set)."""
    last = cycle(
        world,
        LAST_MONTH,
        CycleState.CLOSED,
        [(people.one, 500_000, "account", "regular"), (people.hiv, 500_000, "pay_point", "regular")],
    )
    now = cycle(
        world,
        THIS_MONTH,
        CycleState.PAYING,
        [
            (people.one, 500_000, "account", "regular"),
            (people.one, 250_000, "account", "arrears"),
            (people.hiv, 600_000, "pay_point", "regular"),
        ],
    )
    credited_on = timezone.make_aware(dt.datetime.combine(THIS_MONTH + dt.timedelta(days=7), dt.time(9, 0)))
    credit(world, now, people.one, credited_on)
    cash_entry(world, now, people.hiv, 600_000)
    return type("Paid", (), {"last": last, "now": now, "credited_on": credited_on.date()})


def without_csrf(content: bytes) -> str:
    return CSRF.sub("", content.decode())
