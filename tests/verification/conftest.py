"""People of communes A and B registered through the registry's services, police of both."""

from __future__ import annotations

from datetime import date

import pytest

from ansinh.accounts.roles import Role
from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.verification.models import SyntheticResident
from tests.conftest import make_user
from tests.factories import cccd_for


def register(commune, *, full_name, birth_date, gender, tail, reps=()):
    data = BeneficiaryInput(
        full_name=full_name,
        birth_date=birth_date,
        gender=gender,
        commune_id=commune.pk,
        village_id=None,
        cccd=cccd_for(birth_date, gender, tail),
        phone="",
        categories=[CategoryInput(code="D20.5.6")],
        decision_number=f"{tail}/QĐ",
        decision_date=date(2025, 1, 10),
        representatives=[RepresentationInput(person=PersonInput(**r), kind="authorised") for r in reps],
    )
    return services.create_beneficiary(actor=None, data=data)


def resident(person, **changes) -> SyntheticResident:
    values = {"full_name": person.full_name, "birth_date": person.birth_date, "gender": person.gender} | changes
    return SyntheticResident.objects.create(cccd=person.cccd, **values)


@pytest.fixture
def police_a(tree):
    return make_user("police_a", Role.COMMUNE_POLICE, tree.a)


@pytest.fixture
def police_b(tree):
    return make_user("police_b", Role.COMMUNE_POLICE, tree.b)


@pytest.fixture
def people(tree, policy):
    """Commune A: one person of each outcome (match, mismatch, not found, deceased) plus one
    without a CCCD and a representative who matches; commune B: one person who matches."""
    a = tree.a
    match = register(
        a,
        full_name="Lê Văn Khớp",
        birth_date=date(1950, 1, 2),
        gender="male",
        tail="810001",
        reps=[
            {
                "full_name": "Lê Thị Con",
                "birth_date": date(1980, 3, 4),
                "gender": "female",
                "cccd": cccd_for(date(1980, 3, 4), "female", "810009"),
            }
        ],
    )
    mismatch = register(a, full_name="Trần Thị Lệch", birth_date=date(1948, 5, 6), gender="female", tail="810002")
    unknown = register(a, full_name="Phạm Văn Lạ", birth_date=date(1947, 7, 8), gender="male", tail="810003")
    dead = register(a, full_name="Võ Thị Mất", birth_date=date(1940, 9, 10), gender="female", tail="810004")
    no_cccd = register(a, full_name="Đỗ Văn Trống", birth_date=date(1945, 2, 3), gender="male", tail="810005")
    no_cccd.cccd = ""
    no_cccd.save(update_fields=["cccd"])
    in_b = register(tree.b, full_name="Hồ Văn Bê", birth_date=date(1949, 4, 4), gender="male", tail="810006")

    resident(match)
    resident(match.representations.get().representative)
    resident(mismatch, full_name="Trần Thị Lech", birth_date=date(1949, 5, 6))
    resident(dead, death_date=date(2026, 3, 15))
    resident(in_b)
    return type(
        "People",
        (),
        {"match": match, "mismatch": mismatch, "unknown": unknown, "dead": dead, "no_cccd": no_cccd, "in_b": in_b},
    )
