"""Second-person approval of receiving accounts with a TOTP code: the rule holds on every path
(services, web, API), the approver is a second person with the right on the commune, the code
is current and used once, approval sets the method from the month and sends two notices."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.accounts import otp
from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.notifications.models import Message
from ansinh.payments import queries, services
from ansinh.payments.models import AccountChange, AccountStatus, ChangeStatus, PaymentMethod
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import PersonInput, RepresentationInput
from tests.conftest import make_user

from .conftest import add_month

NUMBER = "760220501234567"


def code(device: TOTPDevice, steps: int = 0) -> str:
    """The code the authenticator app shows now (or `steps` periods later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture(autouse=True)
def _english():
    """Service messages read in English here (the catalog's Vietnamese is checked elsewhere)."""
    with translation.override("en"):
        yield


@pytest.fixture
def approver(tree):
    """An approver on the district above commune A."""
    return make_user("approver_d", Role.APPROVER, tree.district)


@pytest.fixture
def device(approver):
    return enrolled(approver)


@pytest.fixture
def paid_by_guardian(beneficiary, officer_a):
    """The beneficiary is paid in cash to her son (with a phone) until now."""
    link = registry_services.add_representation(
        actor=officer_a,
        beneficiary=beneficiary,
        data=RepresentationInput(
            person=PersonInput(
                full_name="Trần Văn Bình", birth_date=__import__("datetime").date(1970, 2, 3), gender="male"
            ),
            kind="guardian",
            relationship="con",
        ),
    )
    link.representative.phone = "+84987654321"
    link.representative.save(update_fields=["phone"])
    m0 = services.first_open_month()
    services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=link, from_month=m0)
    services.set_payment_method(
        actor=officer_a, beneficiary=beneficiary, method="pay_point", cash_reason="choice", from_month=m0
    )
    return link


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


@pytest.fixture
def change(beneficiary, officer_a, account, paid_by_guardian):
    return services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=account)


def test_an_account_cannot_be_made_the_receiving_one_without_approval(beneficiary, officer_a, account):
    with pytest.raises(ValidationError) as exc:
        services.set_payment_method(actor=officer_a, beneficiary=beneficiary, method="account", account=account)
    assert "approval" in str(exc.value.message_dict["account"])
    assert not PaymentMethod.objects.filter(method="account").exists()


def test_the_api_cannot_bypass_the_approval(beneficiary, officer_a, account, api_client_for):
    api = api_client_for(officer_a)
    r = api.post(
        f"/api/v1/beneficiaries/{beneficiary.pk}/payment-methods",
        {"method": "account", "account_id": account.pk},
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert not PaymentMethod.objects.filter(method="account").exists()


def test_the_web_turns_a_new_account_into_a_request(beneficiary, officer_a, account, client_for):
    client = client_for(officer_a)
    month = add_month(services.first_open_month(), 1)
    r = client.post(
        f"/beneficiaries/{beneficiary.pk}/payment-method/",
        {"method": "account", "account": account.pk, "from_month": f"{month:%m/%Y}"},
    )
    assert r.status_code == 302
    assert not PaymentMethod.objects.filter(method="account").exists()
    change = AccountChange.objects.get()
    assert (change.status, change.account, change.from_month) == (ChangeStatus.AWAITING, account, month)
    page = client.get(f"/beneficiaries/{beneficiary.pk}/").content.decode()
    assert 'data-state="change-awaiting"' in page and "Officer A" in page


def test_approval_sets_the_method_from_the_month_and_notifies_two_phones(beneficiary, change, approver, device):
    assert services.approve_account_changes(actor=approver, changes=[change], token=code(device)) == 1
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED and change.decided_by == approver
    month = change.from_month
    assert queries.method_on([beneficiary.pk], month)[beneficiary.pk].account_id == change.account_id
    assert queries.method_on([beneficiary.pk], add_month(month, -1))[beneficiary.pk].method == "pay_point"
    change.account.refresh_from_db()
    assert change.account.status == AccountStatus.ACTIVE
    notices = list(Message.objects.filter(template_key="account.changed").order_by("phone"))
    assert sorted(m.phone for m in notices) == ["+84912345678", "+84987654321"]
    for m in notices:
        assert "***4567" in m.text and NUMBER not in m.text and NUMBER[-8:] not in m.text
        assert f"{month:%m/%Y}" in m.text
    assert AuditEvent.objects.filter(action="payments.account_change.approved", actor=approver).exists()


def test_the_maker_cannot_approve_their_own_request(beneficiary, tree, account, paid_by_guardian, agribank):
    both = make_user("maker_checker", Role.COMMUNE_OFFICER, tree.a)
    from ansinh.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=both, role=Role.APPROVER, area=tree.a)
    change = services.request_account_change(actor=both, beneficiary=beneficiary, account=account)
    dev = enrolled(both)
    with pytest.raises(ValidationError) as exc:
        services.approve_account_changes(actor=both, changes=[change], token=code(dev))
    assert "second person" in " ".join(exc.value.messages)
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING


def test_the_one_who_recorded_the_account_cannot_approve_either(beneficiary, tree, officer_a, paid_by_guardian):
    from ansinh.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=officer_a, role=Role.APPROVER, area=tree.a)
    other = make_user("officer_a2", Role.COMMUNE_OFFICER, tree.a)
    account = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=__import__("ansinh.payments.models", fromlist=["Institution"]).Institution.objects.get(code="VBA"),
        number=NUMBER,
        holder_name="NGUYEN THI ANH",
    )
    change = services.request_account_change(actor=other, beneficiary=beneficiary, account=account)
    with pytest.raises(ValidationError):
        services.approve_account_changes(actor=officer_a, changes=[change], token=code(enrolled(officer_a)))


def test_an_approver_of_another_commune_is_refused(change, tree, client_for):
    elsewhere = make_user("approver_b", Role.APPROVER, tree.b)
    dev = enrolled(elsewhere)
    with pytest.raises(ValidationError):
        services.approve_account_changes(actor=elsewhere, changes=[change], token=code(dev))
    client = client_for(elsewhere)
    page = client.get("/account-changes/").content.decode()
    assert f'data-change="{change.pk}"' not in page
    r = client.post("/account-changes/", {"change": change.pk, "token": code(dev)})
    assert r.status_code == 422
    assert client.post(f"/account-changes/{change.pk}/reject/", {"note": "x"}).status_code == 404
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING


def test_a_wrong_or_reused_code_is_refused(beneficiary, change, approver, device, account, officer_a):
    with pytest.raises(ValidationError) as exc:
        services.approve_account_changes(
            actor=approver, changes=[change], token="000000" if code(device) != "000000" else "111111"
        )
    assert "token" in exc.value.message_dict
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # counted although nothing was written
    used = code(device)
    services.approve_account_changes(actor=approver, changes=[change], token=used)
    # the same code again, on another change: refused (replay)
    services.set_payment_method(
        actor=officer_a, beneficiary=beneficiary, method="pay_point", cash_reason="choice", from_month=change.from_month
    )
    again = services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=account)
    with pytest.raises(ValidationError):
        services.approve_account_changes(actor=approver, changes=[again], token=used)
    assert services.approve_account_changes(actor=approver, changes=[again], token=code(device, 1)) == 1


def test_no_device_no_approval(change, approver):
    assert not otp.has_device(approver)
    with pytest.raises(ValidationError) as exc:
        services.approve_account_changes(actor=approver, changes=[change], token="123456")
    assert "token" in exc.value.message_dict


def test_a_weak_name_must_be_confirmed_before_approval(beneficiary, officer_a, agribank, approver, device):
    weak = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number=NUMBER,
        holder_name="LE VAN KHAC HAN",
    )
    change = services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=weak)
    with pytest.raises(ValidationError) as exc:
        services.approve_account_changes(actor=approver, changes=[change], token=code(device))
    assert "confirm it first" in " ".join(exc.value.messages)
    services.confirm_holder_name(actor=officer_a, account=weak)
    assert services.approve_account_changes(actor=approver, changes=[change], token=code(device)) == 1


def test_one_awaiting_change_per_beneficiary_and_withdraw_by_the_requester(
    beneficiary, change, officer_a, agribank, tree, approver
):
    second = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number="7602205099999",
        holder_name="NGUYEN THI ANH",
    )
    with pytest.raises(ValidationError) as exc:
        services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=second)
    assert "awaits approval" in str(exc.value)
    with pytest.raises(ValidationError):
        services.withdraw_account_change(actor=approver, change=change)
    services.withdraw_account_change(actor=officer_a, change=change)
    assert services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=second)


def test_reject_needs_a_note_and_the_right(change, approver, officer_a):
    with pytest.raises(ValidationError):
        services.reject_account_change(actor=approver, change=change, note="  ")
    with pytest.raises(ValidationError):
        services.reject_account_change(actor=officer_a, change=change, note="giấy tờ sai")
    rejected = services.reject_account_change(actor=approver, change=change, note="giấy tờ sai")
    assert rejected.status == ChangeStatus.REJECTED and rejected.decision_note == "giấy tờ sai"
    assert not PaymentMethod.objects.filter(method="account").exists()


def test_an_account_in_effect_cannot_be_closed_until_another_method_is_set(
    beneficiary, change, approver, device, officer_a
):
    services.approve_account_changes(actor=approver, changes=[change], token=code(device))
    account = change.account
    with pytest.raises(ValidationError) as exc:
        services.close_account(actor=officer_a, account=account, reason="ngân hàng đóng")
    assert "first set another payment method" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError):
        services.reject_account(actor=officer_a, account=account, reason="sai")  # active: cannot be rejected
    services.set_payment_method(
        actor=officer_a,
        beneficiary=beneficiary,
        method="pay_point",
        cash_reason="no_account",
        from_month=services.first_open_month(),
    )
    closed = services.close_account(actor=officer_a, account=account, reason="ngân hàng đóng")
    assert closed.status == AccountStatus.CLOSED
    assert AuditEvent.objects.filter(action="payments.account.closed", note="ngân hàng đóng").exists()


def test_a_pending_account_is_rejected_with_a_reason(beneficiary, officer_a, account):
    with pytest.raises(ValidationError):
        services.reject_account(actor=officer_a, account=account, reason="")
    assert services.reject_account(actor=officer_a, account=account, reason="sai số").status == AccountStatus.REJECTED
    with pytest.raises(ValidationError):
        services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=account)


def test_an_account_waiting_for_approval_cannot_be_closed(change, officer_a):
    with pytest.raises(ValidationError):
        services.close_account(actor=officer_a, account=change.account, reason="x")


def test_the_approver_approves_several_from_the_page_with_one_code(change, approver, device, client_for, beneficiary):
    client = client_for(approver)
    page = client.get("/account-changes/").content.decode()
    assert f'data-change="{change.pk}"' in page and "•••• 4567" in page and NUMBER not in page
    r = client.post("/account-changes/", {"change": [change.pk], "token": "12"})
    assert r.status_code == 422
    r = client.post("/account-changes/", {"change": [change.pk], "token": code(device)})
    assert r.status_code == 302
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED


def test_api_lists_approves_and_rejects(change, approver, device, api_client_for, officer_a, officer_b):
    api = api_client_for(approver)
    listed = api.get("/api/v1/account-changes").json()
    assert [c["id"] for c in listed] == [change.pk] and listed[0]["account"]["number"] == "•••• 4567"
    assert api_client_for(officer_b).get("/api/v1/account-changes").json() == []
    assert (
        api_client_for(officer_a)
        .post(f"/api/v1/account-changes/{change.pk}/approve", {"token": "123456"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        api_client_for(officer_b)
        .post(f"/api/v1/account-changes/{change.pk}/approve", {"token": "123456"}, content_type="application/json")
        .status_code
        == 404
    )
    r = api.post(
        f"/api/v1/account-changes/{change.pk}/approve", {"token": code(device)}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "approved"


def test_api_requests_a_change(beneficiary, officer_a, account, api_client_for):
    r = api_client_for(officer_a).post(
        f"/api/v1/beneficiaries/{beneficiary.pk}/account-changes",
        {"account_id": account.pk},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "awaiting"
