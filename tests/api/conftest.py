from datetime import date

import pytest

from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.factories import cccd_for


@pytest.fixture
def register(tree, policy, officer_a):
    """register(**overrides) -> a beneficiary of commune A created through the service."""

    def _register(actor=None, representatives=(), **overrides):
        birth = overrides.pop("birth_date", date(1950, 5, 17))
        gender = overrides.pop("gender", "female")
        data = BeneficiaryInput(
            full_name=overrides.pop("full_name", "Nguyễn Thị Ánh"),
            birth_date=birth,
            gender=gender,
            commune_id=overrides.pop("commune_id", tree.a.pk),
            village_id=overrides.pop("village_id", tree.village_a.pk),
            cccd=overrides.pop("cccd", cccd_for(birth, gender)),
            phone=overrides.pop("phone", "0912345678"),
            categories=overrides.pop("categories", [CategoryInput(code="D20.5.6")]),
            decision_number=overrides.pop("decision_number", "15/QĐ-UBND"),
            decision_date=overrides.pop("decision_date", date(2025, 1, 10)),
            representatives=[
                RepresentationInput(person=PersonInput(**r.pop("person")), **r) for r in map(dict, representatives)
            ],
            **overrides,
        )
        return services.create_beneficiary(actor=actor or officer_a, data=data)

    return _register


@pytest.fixture
def clients(personas, api_client_for):
    """{'officer_a': client, 'viewer_a': client, 'officer_b': client}, each with its own token."""
    return {name: api_client_for(user) for name, user in personas.items()}
