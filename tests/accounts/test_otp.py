"""The second factor: enrolling an authenticator app (unconfirmed until its first code), codes
verified once and throttled, re-enrolment and removal only with a current code; audited."""

import re

import pytest
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.accounts import otp
from ansinh.audit.models import AuditEvent
from tests.payments.test_approval import code


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_a_device_counts_only_once_confirmed(officer_a):
    device = otp.start_enrolment(actor=officer_a)
    assert not device.confirmed and not otp.has_device(officer_a)
    assert not otp.verify(officer_a, code(device))  # unconfirmed: verifies nothing
    with pytest.raises(ValidationError):
        otp.confirm_enrolment(actor=officer_a, token="000000" if code(device) != "000000" else "111111")
    otp.confirm_enrolment(actor=officer_a, token=code(device, 1))
    assert otp.has_device(officer_a)
    assert AuditEvent.objects.filter(action="accounts.otp.enrolled", actor=officer_a).count() == 1


def test_a_code_is_accepted_once(officer_a):
    device = TOTPDevice.objects.create(user=officer_a, name="t", confirmed=True)
    token = code(device)
    assert otp.verify(officer_a, token)
    assert not otp.verify(officer_a, token)
    assert not otp.verify(officer_a, "abc")
    assert otp.verify(officer_a, code(device, 1))


def test_re_enrolment_and_removal_need_a_current_code(officer_a):
    old = TOTPDevice.objects.create(user=officer_a, name="t", confirmed=True)
    with pytest.raises(ValidationError):
        otp.start_enrolment(actor=officer_a, token="")
    new = otp.start_enrolment(actor=officer_a, token=code(old))
    assert otp.has_device(officer_a)  # the old device works until the new one is confirmed
    otp.confirm_enrolment(actor=officer_a, token=code(new))
    assert list(TOTPDevice.objects.filter(user=officer_a).values_list("pk", flat=True)) == [new.pk]
    with pytest.raises(ValidationError):
        otp.remove_device(actor=officer_a, token="")
    otp.remove_device(actor=officer_a, token=code(new, 1))
    assert not TOTPDevice.objects.filter(user=officer_a).exists()
    assert AuditEvent.objects.filter(action="accounts.otp.removed").count() == 1


def test_the_enrolment_page_shows_secret_uri_and_inline_qr(officer_a, client_for):
    client = client_for(officer_a)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and 'data-state="not-enrolled"' in page.content.decode()
    assert not TOTPDevice.objects.exists()  # looking at the page writes nothing
    assert client.post("/account/two-factor/", {"action": "start"}).status_code == 302
    html = client.get("/account/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=officer_a)
    assert "<svg" in html and "otpauth://totp/" in html
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1)
    assert len(secret.split()[0]) == 4 and otp.secret_groups(device) == secret
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    r = client.post("/account/two-factor/", {"action": "confirm", "token": "12"})
    assert r.status_code == 422
    r = client.post("/account/two-factor/", {"action": "confirm", "token": code(device)})
    assert r.status_code == 302
    assert 'data-state="enrolled"' in client.get("/account/two-factor/").content.decode()


def test_the_approvals_page_links_to_enrolment_without_a_device(tree, client_for):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    approver = make_user("approver_x", Role.APPROVER, tree.a)
    html = client_for(approver).get("/account-changes/").content.decode()
    assert 'data-state="no-device"' in html and "/account/two-factor/" in html
    nav = client_for(approver).get("/").content.decode()
    assert 'data-nav="account_changes"' in nav
