"""Complaints on the conftest tree (communes A and B): a beneficiary in each commune with a
payroll line of this month and a transfer exception on it (written directly: the tests need the
rows, not an approved month), and the provider's staff of A."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import timezone

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.complaints import services
from ansinh.complaints.models import Channel, Kind, Topic
from tests.conftest import make_user
from tests.factories import cccd_for

CCCD_A = cccd_for(date(1950, 5, 17), "female", "555001")
CCCD_B = cccd_for(date(1948, 2, 3), "male", "555002")


@pytest.fixture
def provider_a(tree):
    return make_user("provider_a", Role.PROVIDER_STAFF, tree.a)


def lodge(officer, commune, **kw):
    values = {
        "channel": Channel.PHONE,
        "kind": Kind.FEEDBACK,
        "topic": Topic.NOT_PAID,
        "commune": commune,
        "name": "Nguyễn Thị Gọi",
        "phone": "0912 345 678",
        "text": "Tháng này tôi chưa nhận được tiền trợ cấp.",
    } | kw
    return services.lodge_by_staff(actor=officer, **values)


@dataclass
class Side:
    beneficiary: object
    line: object
    exception: object


def _side(tree, commune, village, name, cccd, contract_number):
    from ansinh.disbursement.models import BatchState, ExceptionKind, ProviderBatch, TransferException
    from ansinh.payroll import services as payroll
    from ansinh.payroll.models import Channel as PayChannel
    from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCycle, PayrollLine
    from ansinh.registry.models import Beneficiary

    today = timezone.localdate()
    unit = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name=f"UBND {commune.name}", area=commune)
    post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name=f"Bưu điện {commune.name}", area=commune)
    assign_responsibility(actor=None, org_unit=unit, area=commune, function=Function.APPROVE)
    payroll.open_cycles(actor=None, month=today.replace(day=1), area=commune)
    contract = payroll.create_contract(
        actor=None,
        data=payroll.ContractInput(
            number=contract_number,
            paying_unit=unit,
            provider=post,
            areas=[commune],
            purpose=ContractPurpose.REGULAR,
            valid_from=today.replace(month=1, day=1),
            valid_to=today.replace(month=12, day=31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        ),
    )
    cycle = PaymentCycle.objects.filter(approving_unit=unit).order_by("programme__code").first()
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1950, 5, 17),
        gender="female",
        cccd=cccd,
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        start_month=date(2025, 1, 1),
    )
    line = PayrollLine.objects.create(
        cycle=cycle,
        beneficiary=b,
        amount=500_000,
        payee_name=name,
        channel=PayChannel.PAY_POINT,
        area_path=b.area_path,
        commune=commune,
    )
    batch = ProviderBatch.objects.create(
        cycle=cycle,
        provider=post,
        contract=contract,
        message_id=f"ANS-KN-{commune.pk}",
        state=BatchState.REPORTED,
        approval_hash="0" * 64,
        area_path=cycle.area_path,
        created_at=timezone.now(),
    )
    exc = TransferException.objects.create(
        kind=ExceptionKind.REJECTED, batch=batch, line=line, commune=commune, area_path=b.area_path
    )
    return Side(b, line, exc)


@pytest.fixture
def paid(tree, policy):
    """(A's side, B's side)."""
    return (
        _side(tree, tree.a, tree.village_a, "Ôn Thị Khiếu", CCCD_A, "HĐ-KN-A/2026"),
        _side(tree, tree.b, None, "Hồ Văn Nại", CCCD_B, "HĐ-KN-B/2026"),
    )
