from datetime import date

import pytest

from ansinh.payments.models import Institution
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.factories import cccd_for


def add_month(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def beneficiary(tree, policy, officer_a):
    birth = date(1940, 5, 17)
    data = BeneficiaryInput(
        full_name="Nguyễn Thị Ánh",
        birth_date=birth,
        gender="female",
        commune_id=tree.a.pk,
        village_id=tree.village_a.pk,
        cccd=cccd_for(birth, "female"),
        phone="0912345678",
        categories=[CategoryInput(code="D20.5.5.c")],
        decision_number="15/QĐ-UBND",
        decision_date=date(2024, 3, 12),
    )
    return registry_services.create_beneficiary(actor=officer_a, data=data)


@pytest.fixture
def guardian(beneficiary, officer_a):
    """A current representation of the beneficiary: her son."""
    return registry_services.add_representation(
        actor=officer_a,
        beneficiary=beneficiary,
        data=RepresentationInput(
            person=PersonInput(full_name="Trần Văn Bình", birth_date=date(1970, 2, 3), gender="male"),
            kind="guardian",
            relationship="con",
        ),
    )


@pytest.fixture
def agribank(db):
    return Institution.objects.get(code="VBA")


def mark_paid(b, month: date | None = None) -> None:
    """A payroll line for `b` (a month of a commune committee's cycle): the beneficiary has been
    paid through the system, so a payee change waits for the next month."""
    from ansinh.accounts.models import OrgKind
    from ansinh.accounts.services import create_org_unit
    from ansinh.payroll.models import PaymentCycle, PayrollLine
    from ansinh.policy.models import Programme

    unit = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name=f"UBND {b.pk}", area=b.commune)
    cycle = PaymentCycle.objects.create(
        approving_unit=unit,
        programme=Programme.objects.order_by("pk").first(),
        month=month or b.start_month,
        area=b.commune,
        area_path=b.commune.path,
    )
    PayrollLine.objects.create(
        cycle=cycle,
        beneficiary=b,
        amount=500_000,
        payee_name=b.full_name,
        channel="pay_point",
        area_path=b.area_path,
        commune=b.commune,
    )
