"""The payment section over the web and the API, with the three personas: officer_a works,
viewer_a reads (numbers masked, 403 on writes, nothing written), officer_b gets 404."""

import json

import pytest

from ansinh.payments import services
from ansinh.payments.models import PayeeDesignation, PaymentMethod, ReceivingAccount

from .conftest import add_month

NUMBER = "760220501234567"


@pytest.fixture
def account(beneficiary, officer_a, agribank):
    return services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number=NUMBER,
        holder_name="NGUYEN THI ANH",
    )


def _counts():
    return (PaymentMethod.objects.count(), PayeeDesignation.objects.count(), ReceivingAccount.objects.count())


def test_officer_registers_an_account_and_changes_the_method_over_the_api(beneficiary, officer_a, api_client_for):
    api = api_client_for(officer_a)
    base = f"/api/v1/beneficiaries/{beneficiary.pk}"
    r = api.post(
        f"{base}/receiving-accounts",
        {"kind": "bank", "institution": "VBA", "number": "7602 2050 1234 567", "holder_name": "Thị Ánh Nguyễn"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] == NUMBER  # the commune officer holds payments.view_account
    assert (body["name_score"], body["status"], body["bin"]) == (100, "pending", "970405")
    month = add_month(services.first_open_month(), 1).isoformat()
    # a new receiving account is not set directly: it is asked for and waits for approval
    r = api.post(
        f"{base}/payment-methods",
        {"method": "account", "account_id": body["id"], "from_month": month},
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    r = api.post(
        f"{base}/account-changes", {"account_id": body["id"], "from_month": month}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert (r.json()["status"], r.json()["account"]["number"]) == ("awaiting", NUMBER)
    assert api.get(f"{base}/payment-methods").json() == []


def test_a_past_month_is_refused_over_the_api(beneficiary, officer_a, api_client_for):
    past = add_month(services.first_open_month(), -1).isoformat()
    r = api_client_for(officer_a).post(
        f"/api/v1/beneficiaries/{beneficiary.pk}/payment-methods",
        {"method": "pay_point", "cash_reason": "choice", "from_month": past},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert not PaymentMethod.objects.exists()


def test_viewer_sees_numbers_masked_and_cannot_write(beneficiary, account, viewer_a, api_client_for, client_for):
    api = api_client_for(viewer_a)
    base = f"/api/v1/beneficiaries/{beneficiary.pk}"
    listed = api.get(f"{base}/receiving-accounts")
    assert listed.status_code == 200
    assert listed.json()[0]["number"] == "•••• 4567"
    assert NUMBER not in listed.content.decode()
    before = _counts()
    r = api.post(f"{base}/payment-methods", {"method": "home", "cash_reason": "frail"}, content_type="application/json")
    assert r.status_code == 403
    r = api.post(
        f"{base}/receiving-accounts",
        {"kind": "bank", "institution": "VBA", "number": "123456789", "holder_name": "X"},
        content_type="application/json",
    )
    assert r.status_code == 403
    page = client_for(viewer_a).get(f"/beneficiaries/{beneficiary.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "•••• 4567" in html and NUMBER not in html
    assert client_for(viewer_a).post(f"/beneficiaries/{beneficiary.pk}/payment-method/", {}).status_code == 403
    assert _counts() == before


def test_officer_of_another_commune_reaches_nothing(beneficiary, account, officer_b, api_client_for, client_for):
    api = api_client_for(officer_b)
    base = f"/api/v1/beneficiaries/{beneficiary.pk}"
    before = _counts()
    assert api.get(f"{base}/receiving-accounts").status_code == 404
    assert api.get(f"{base}/payment-methods").status_code == 404
    r = api.post(f"{base}/payment-methods", {"method": "home", "cash_reason": "frail"}, content_type="application/json")
    assert r.status_code == 404
    web = client_for(officer_b)
    assert web.get(f"/beneficiaries/{beneficiary.pk}/payment-method/").status_code == 404
    assert web.post(f"/beneficiaries/{beneficiary.pk}/receiving-accounts/new/", {}).status_code == 404
    assert _counts() == before


def test_officer_changes_method_and_payee_on_the_detail_page(beneficiary, guardian, account, officer_a, client_for):
    web = client_for(officer_a)
    month = add_month(services.first_open_month(), 1).strftime("%m/%Y")
    r = web.post(
        f"/beneficiaries/{beneficiary.pk}/payment-method/",
        {"method": "account", "account": account.pk, "from_month": month},
    )
    assert r.status_code == 302
    r = web.post(f"/beneficiaries/{beneficiary.pk}/payment-payee/", {"payee": guardian.pk, "from_month": month})
    assert r.status_code == 302
    page = web.get(f"/beneficiaries/{beneficiary.pk}/").content.decode()
    assert 'data-section="payments"' in page
    assert 'data-state="change-awaiting"' in page  # the account waits for a second person's approval
    assert NUMBER in page  # the commune officer may see the full number
    # a past month is refused on the form, nothing written
    past = add_month(services.first_open_month(), -1).strftime("%m/%Y")
    r = web.post(
        f"/beneficiaries/{beneficiary.pk}/payment-method/",
        {"method": "home", "cash_reason": "frail", "from_month": past},
    )
    assert r.status_code == 422
    assert PaymentMethod.objects.count() == 0


def test_officer_adds_an_account_on_the_web(beneficiary, officer_a, client_for, agribank):
    web = client_for(officer_a)
    assert web.get(f"/beneficiaries/{beneficiary.pk}/receiving-accounts/new/").status_code == 200
    r = web.post(
        f"/beneficiaries/{beneficiary.pk}/receiving-accounts/new/",
        {"kind": "bank", "institution": agribank.pk, "number": NUMBER, "holder_name": "NGUYEN THI AN", "holder": ""},
    )
    assert r.status_code == 302
    saved = ReceivingAccount.objects.get()
    assert saved.status == "pending" and saved.name_score < 100
    assert json.dumps(saved.holder_name) == '"NGUYEN THI AN"'


def test_a_weak_holder_name_is_confirmed_then_the_account_activated_on_the_web(
    beneficiary, officer_a, viewer_a, client_for, agribank
):
    weak = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number=NUMBER,
        holder_name="NGUYEN THI AN",
    )
    url = f"/beneficiaries/{beneficiary.pk}/receiving-accounts/{weak.pk}/check/"
    assert client_for(viewer_a).post(url, {"action": "confirm_name"}).status_code == 403
    web = client_for(officer_a)
    page = web.get(f"/beneficiaries/{beneficiary.pk}/").content.decode()
    assert "data-confirm-name" in page
    # activation is refused while the name is unconfirmed
    web.post(url, {"action": "activate"})
    weak.refresh_from_db()
    assert weak.status == "pending" and weak.name_confirmed_at is None
    assert web.post(url, {"action": "confirm_name"}).status_code == 302
    assert web.post(url, {"action": "activate"}).status_code == 302
    weak.refresh_from_db()
    assert weak.status == "active" and weak.name_confirmed_by == officer_a
    # activating does not make it receive the money: that is an approved account change
    assert not PaymentMethod.objects.filter(beneficiary=beneficiary, account=weak).exists()


def test_confirm_name_and_activate_over_the_api(beneficiary, officer_a, officer_b, api_client_for, agribank):
    weak = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number=NUMBER,
        holder_name="NGUYEN THI AN",
    )
    base = f"/api/v1/beneficiaries/{beneficiary.pk}/receiving-accounts/{weak.pk}"
    assert api_client_for(officer_b).post(f"{base}/confirm-name").status_code == 404
    api = api_client_for(officer_a)
    assert api.post(f"{base}/activate").status_code == 422
    assert api.post(f"{base}/confirm-name").status_code == 200
    r = api.post(f"{base}/activate")
    assert r.status_code == 200 and r.json()["status"] == "active"
