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
