"""The form applies the importer's rules for identity numbers and phones (one rule, all paths):
an old 9-digit CMND is kept apart with a warning, a CCCD that lost its leading zero is restored,
a landline is a contact that receives no SMS."""

from datetime import date

from ansinh.registry.models import Beneficiary
from ansinh.web.forms_registry import beneficiary_initial
from tests.factories import cccd_for
from tests.web.test_registry import new_form, url


def test_form_keeps_an_old_id_card_and_a_landline_with_warnings(client_for, officer_a, tree, policy):
    response = client_for(officer_a).post(url("create"), new_form(tree, cccd="351 234 567", phone="0296 3 123 456"))
    assert response.status_code == 302
    b = Beneficiary.objects.get()
    assert (b.cccd, b.legacy_id_number, b.phone) == ("", "351234567", "+842963123456")
    messages = " ".join(i["message"] for i in b.quality_issues)
    assert "cần cập nhật CCCD" in messages and "không nhận được SMS" in messages
    # the edit form shows the old card where the CCCD goes; saving it unchanged keeps it
    assert beneficiary_initial(b)["cccd"] == "351234567"


def test_form_restores_a_lost_leading_zero_only_when_it_fits(client_for, officer_a, tree, policy):
    cccd = cccd_for(date(1948, 2, 3), "male", tail="654321")  # 089048654321
    response = client_for(officer_a).post(url("create"), new_form(tree, cccd=cccd.lstrip("0")))
    assert response.status_code == 302
    assert Beneficiary.objects.get().cccd == cccd
    other = cccd_for(date(1948, 2, 3), "female", tail="654322").lstrip("0")  # a woman's number
    response = client_for(officer_a).post(url("create"), new_form(tree, full_name="Lê Văn Tư", cccd=other))
    assert response.status_code == 422
    assert other in response.context["form"].errors["cccd"][0]
