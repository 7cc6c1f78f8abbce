"""A funded payment cycle with transfers to make: commune A's People's Committee approves, the
district post office pays from its funded account at VBA; four beneficiaries paid into real
(encrypted) accounts, one at a pay point. Built through the services (generation, approval with a
TOTP code, funding request, advance)."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.payments import crypto
from ansinh.payments.models import Institution, PaymentMethod, ReceivingAccount
from ansinh.payroll import approval, funding
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import ContractPurpose, CycleState, FeeKind, PaymentCycle
from ansinh.payroll.services import ContractInput, create_contract, open_cycles
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory
from tests.payroll.conftest import appraise, approver_a, preparer_a, provider_a, world  # noqa: F401

MONTH = date(2026, 3, 1)
NUMBERS = {
    "Trần Văn Một": "1000200030001",
    "Lê Thị Hai": "1000200030002",
    "Phạm Văn Ba": "1000200030003",
    "Nguyễn Thị Bốn": "1000200030004",
}


def vba() -> Institution:
    """Agribank (its NAPAS BIN): loaded by a migration, gone after a transactional test flushed
    the tables, so made again when missing."""
    institution, _ = Institution.objects.get_or_create(
        code="VBA", defaults={"bin": "970405", "name": "Agribank", "number_min_length": 13, "number_max_length": 13}
    )
    return institution


def person(tree, name, **kw):
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1940, 5, 17),
        gender="male",
        commune=tree.a,
        village=tree.village_a,
        area_path=tree.village_a.path,
        start_month=date(2025, 1, 1),
        phone=kw.pop("phone", "+84912000001"),
        **kw,
    )
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code="D20.5.5.c"), from_month=date(2025, 1, 1)
    )
    return b


def open_account(b, number: str, holder: str | None = None, status: str = "active") -> ReceivingAccount:
    return ReceivingAccount.objects.create(
        beneficiary=b,
        kind="bank",
        institution=vba(),
        number_encrypted=crypto.encrypt(number),
        number_hash=crypto.number_hash(number),
        last4=number[-4:],
        holder_name=holder or b.full_name.upper(),
        status=status,
    )


@pytest.fixture
def people(world):  # noqa: F811
    tree = world.tree
    out = {}
    for name, number in NUMBERS.items():
        b = person(tree, name)
        acc = open_account(b, number)
        PaymentMethod.objects.create(beneficiary=b, method="account", account=acc, from_month=MONTH)
        out[name] = b
    cash = person(tree, "Võ Văn Tiền Mặt")
    PaymentMethod.objects.create(beneficiary=cash, method="pay_point", cash_reason="choice", from_month=MONTH)
    out["cash"] = cash
    return out


@pytest.fixture
def contract(world):  # noqa: F811
    return create_contract(
        actor=None,
        data=ContractInput(
            number="HĐ-01/2026",
            paying_unit=world.unit_a,
            provider=world.post,
            areas=[world.tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
            provider_account_number="1234567890123",
            provider_institution=vba(),
        ),
    )


def totp_code(user, steps: int = 0) -> str:
    """A code of the user's device, `steps` periods ahead (within the device's tolerance): each
    approval in one test uses a later code."""
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True, tolerance=3
    )
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.ANSINH_SANDBOX_BANK_DELAYS = False


@pytest.fixture
def approved(world, people, contract, preparer_a, approver_a):  # noqa: F811
    open_cycles(actor=None, month=MONTH, area=world.tree.a)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    cycle = appraise(PaymentCycle.objects.get(month=MONTH, area=world.tree.a, programme_id=programme_id))
    generate_payroll(actor=preparer_a, cycle=cycle)
    approval.approve_payroll(actor=approver_a, cycle=cycle, token=totp_code(approver_a))
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED
    return cycle


@pytest.fixture
def funded(approved, preparer_a):  # noqa: F811
    request = funding.make_funding_request(actor=preparer_a, cycle=approved)
    funding.record_advance(
        actor=preparer_a, cycle=approved, amount=request.total, received_on=date(2026, 3, 3), reference="KB-001"
    )
    approved.refresh_from_db()
    assert approved.state == CycleState.FUNDED
    return approved
