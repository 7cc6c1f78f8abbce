"""The API applies the importer's rules for identity numbers and phones (one rule, all paths)."""

from ansinh.registry.models import Beneficiary
from tests.api.test_registry_api import JSON, new_beneficiary


def test_api_keeps_an_old_id_card_and_converts_an_old_phone(clients, tree, policy):
    body = new_beneficiary(tree, cccd="351234567", phone="0168 612 3456")
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 201, response.content
    b = Beneficiary.objects.get()
    assert (b.cccd, b.legacy_id_number, b.phone) == ("", "351234567", "+84386123456")
    assert b.has_issues


def test_api_refuses_an_old_id_card_for_a_representative(clients, tree, policy):
    rep = {"full_name": "Lê Thị Hoa", "cccd": "351234567", "kind": "guardian", "is_payee": True}
    response = clients["officer_a"].post("/api/v1/beneficiaries", new_beneficiary(tree, representatives=[rep]), JSON)
    assert response.status_code == 422
    assert "31/12/2024" in response.content.decode()
    assert not Beneficiary.objects.exists()
