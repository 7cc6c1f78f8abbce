from datetime import date

import pytest

from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from tests.factories import cccd_for


@pytest.fixture
def make_input(tree, policy):
    def _make(**overrides) -> BeneficiaryInput:
        birth = overrides.pop("birth_date", date(1940, 5, 17))
        gender = overrides.pop("gender", "female")
        data = BeneficiaryInput(
            full_name=overrides.pop("full_name", "Nguyễn Thị Ánh"),
            birth_date=birth,
            gender=gender,
            commune_id=overrides.pop("commune_id", tree.a.pk),
            village_id=overrides.pop("village_id", tree.village_a.pk),
            cccd=overrides.pop("cccd", cccd_for(birth, gender)),
            phone=overrides.pop("phone", "0912345678"),
            categories=overrides.pop("categories", [CategoryInput(code="D20.5.5.c")]),
            decision_number=overrides.pop("decision_number", "15/QĐ-UBND"),
            decision_date=overrides.pop("decision_date", date(2024, 3, 12)),
        )
        for k, v in overrides.items():
            setattr(data, k, v)
        return data

    return _make
