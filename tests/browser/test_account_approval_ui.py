"""A change of receiving account in a real browser: the commune officer records an account held
by the beneficiary's guardian and chooses it for the payment; it waits for approval; a second
person, the approver, approves it with a code of their authenticator app; the account receives
the money from the next month, and two notices are queued."""

import time
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.accounts.roles import Role
from ansinh.notifications.models import Message
from ansinh.payments import queries, services
from ansinh.payments.models import AccountChange, ChangeStatus, Institution
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.browser

NUMBER = "7602205012344321"


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def beneficiary_with_guardian(tree, officer_a):
    from django.conf import settings

    from ansinh.policy.services import load_policy

    load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
    birth = date(1938, 4, 9)
    b = registry_services.create_beneficiary(
        actor=officer_a,
        data=BeneficiaryInput(
            full_name="Phan Thị Lành",
            birth_date=birth,
            gender="female",
            commune_id=tree.a.pk,
            village_id=tree.village_a.pk,
            cccd=cccd_for(birth, "female", "404040"),
            phone="0912000111",
            categories=[CategoryInput(code="D20.5.6", condition="severe:adult")],
            decision_number="30/QĐ-UBND",
            decision_date=date(2025, 1, 10),
        ),
    )
    link = registry_services.add_representation(
        actor=officer_a,
        beneficiary=b,
        data=RepresentationInput(
            person=PersonInput(
                full_name="Phan Văn Hậu", birth_date=date(1968, 8, 8), gender="male", phone="0987000222"
            ),
            kind="guardian",
            relationship="con",
            is_payee=True,
        ),
    )
    # paid in cash to the guardian since this month
    services.designate_payee(
        actor=officer_a, beneficiary=b, representation=link, from_month=services.first_open_month()
    )
    services.set_payment_method(
        actor=officer_a, beneficiary=b, method="pay_point", cash_reason="choice", from_month=services.first_open_month()
    )
    return b, link


def test_guardian_account_waits_for_a_second_person_then_pays_from_next_month(
    page, login, live_server, tree, officer_a, beneficiary_with_guardian
):
    b, link = beneficiary_with_guardian
    # browser tests run on a flushed database: the bank list a migration loads may be gone
    call_command("load_institutions", stdout=StringIO())
    login(page, officer_a)
    page.goto(f"{live_server.url}/beneficiaries/{b.pk}/")
    page.click('[data-action="add-account"]')
    page.select_option("#id_kind", "bank")
    page.select_option("#id_institution", str(Institution.objects.get(code="VBA").pk))
    page.fill("#id_number", NUMBER)
    page.fill("#id_holder_name", "PHAN VAN HAU")
    page.select_option("#id_holder", str(link.pk))
    page.check("#id_use_for_payment")
    page.click("#account-form button[type=submit]")
    waiting = page.locator('[data-state="change-awaiting"]')
    waiting.wait_for()
    assert "Officer A" in waiting.inner_text()
    change = AccountChange.objects.get(beneficiary=b)
    assert change.status == ChangeStatus.AWAITING
    assert queries.method_on([b.pk], change.from_month)[b.pk].method == "pay_point"  # nothing paid to it yet
    assert not page.console_errors

    approver = make_user("lanhdao_a", Role.APPROVER, tree.district)
    device = TOTPDevice.objects.create(user=approver, name="test", confirmed=True)
    page.context.clear_cookies()
    login(page, approver)
    page.click('[data-nav="account_changes"]')
    row = page.locator(f'tr[data-change="{change.pk}"]')
    assert "PHAN VAN HAU" in row.inner_text() and "•••• 4321" in row.inner_text()
    assert NUMBER not in page.content()  # the approver sees the number masked
    row.locator('input[name="change"]').check()
    page.fill("#id_token", current_code(device))
    page.click("#approve-form button[type=submit]")
    page.locator(".alert-success, [role=alert]").first.wait_for()
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED

    page.goto(f"{live_server.url}/beneficiaries/{b.pk}/")
    month = change.from_month
    assert month == services.default_month()
    page.locator("#payments details summary").first.click()
    history = page.locator("#payments details").first.inner_text()
    assert f"{month:%m/%Y}" in history and "•••• 4321" in history
    assert sorted(Message.objects.filter(template_key="account.changed").values_list("phone", flat=True)) == [
        "+84912000111",
        "+84987000222",
    ]
    assert not page.console_errors
