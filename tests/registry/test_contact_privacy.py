"""Phone numbers on screens and in the API follow the same rule as exports
(`registry.privacy.contact_visible`): in full for the commune's officers, masked for readers such
as a province monitor."""

from ansinh.registry import services
from tests.registry.test_hardening import rep_input


def test_phones_are_masked_for_a_reader_without_contact_rights(
    make_input, officer_a, viewer_a, api_client_for, client_for
):
    b = services.create_beneficiary(actor=officer_a, data=make_input(representatives=[rep_input()]))
    officer = api_client_for(officer_a).get(f"/api/v1/beneficiaries/{b.pk}").json()
    reader = api_client_for(viewer_a).get(f"/api/v1/beneficiaries/{b.pk}").json()
    assert officer["phone"] == "+84912345678" and officer["representatives"][0]["phone"] == "+84987654321"
    assert reader["phone"] == "09xx xxx 678" and reader["phone_display"] == "09xx xxx 678"
    assert reader["representatives"][0]["phone"] == "09xx xxx 321"
    listed = api_client_for(viewer_a).get("/api/v1/beneficiaries").json()["items"]
    assert [item["phone"] for item in listed] == ["09xx xxx 678"]
    page = client_for(viewer_a).get(f"/beneficiaries/{b.pk}/").content.decode()
    assert "09xx xxx 678" in page and "0912 345 678" not in page and "+84912345678" not in page
    assert "0987 654 321" not in page
    page = client_for(officer_a).get(f"/beneficiaries/{b.pk}/").content.decode()
    assert "0912 345 678" in page
