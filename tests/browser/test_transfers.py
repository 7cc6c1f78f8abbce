"""The transfer leg in a real browser (issue 11, "Browser test"): the office officer makes the
month's batch and downloads its pain.001; the provider's bank (the sandbox bank's page) answers
it with a pain.002, one account having been closed at the bank meanwhile; the officer feeds the
answer back, finds the rejected transfer on the exceptions list and switches it to cash; a second
person approves the switch with a code of their authenticator app; the payees' SMS are in the
sandbox gateway's outbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from ansinh.accounts import otp
from ansinh.disbursement.formats import pain001, pain002
from ansinh.disbursement.models import ExceptionState, Instruction, InstructionState, TransferException
from ansinh.notifications.models import Message
from ansinh.payroll import fixes
from ansinh.payroll.models import Channel, CycleState
from tests.browser.test_payroll_cycle import KEY, current_code
from tests.disbursement.conftest import (  # noqa: F401 (fixtures)
    _no_throttle_wait,
    approved,
    contract,
    funded,
    people,
)
from tests.payroll.conftest import approver_a, preparer_a, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ANSINH_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"transfers-{name}.png"), full_page=True)


def _go(page, selector) -> None:
    with page.expect_navigation():
        (page.locator(selector) if isinstance(selector, str) else selector).click()


def _message(page) -> str:
    alert = page.locator(".alert")
    alert.first.wait_for()
    return alert.first.inner_text()


def test_export_answer_import_switch_to_cash_and_sms(
    page,
    login,
    live_server,
    tmp_path,
    funded,  # noqa: F811
    people,  # noqa: F811
    preparer_a,  # noqa: F811
    approver_a,  # noqa: F811
    settings,
):
    # the sandbox bank's seeded failures off, so that only the closed account set up here is rejected
    settings.ANSINH_SANDBOX_BANK_RANDOM_FAILURES = False
    base = live_server.url
    rejected_person = people["Lê Thị Hai"]

    # 1. The office officer opens the cycle's transfers and makes the batch.
    login(page, preparer_a)
    page.goto(f"{base}{reverse('payroll:cycle', args=[funded.pk])}")
    _go(page, '[data-section="transfers"] a')
    _go(page, '[data-form="transfers-build"] button[type=submit]')
    assert "4" in _message(page)
    assert Instruction.objects.count() == 4
    _shot(page, "1-built")

    # 2. … and downloads the transfer order (pain.001): a valid file, the batch now exported.
    with page.expect_download() as download:
        page.locator('[data-link="pain001"]').first.click()
    order = tmp_path / "lenh-chuyen-khoan.xml"
    download.value.save_as(order)
    pain001.validate(order)
    assert {t.end_to_end_id for t in pain001.iter_transfers(order)} == set(
        Instruction.objects.values_list("end_to_end_id", flat=True)
    )
    funded.refresh_from_db()
    assert funded.state == CycleState.SENT_TO_PROVIDER

    # 3. Meanwhile one payee closed their account at the bank; the bank answers the order.
    closed = Instruction.objects.get(line__beneficiary=rejected_person).account
    closed.status = "closed"
    closed.save(update_fields=["status"])
    page.goto(f"{base}{reverse('payroll:sandbox_bank')}")
    page.set_input_files('[data-form="sandbox-receive"] input[type=file]', str(order))
    with page.expect_download() as download:
        page.locator('[data-form="sandbox-receive"] button[type=submit]').click()
    answer = tmp_path / "ket-qua.xml"
    download.value.save_as(answer)
    report = pain002.Report(answer)
    assert report.group.original_message_id == Instruction.objects.first().batch.message_id
    report.close()
    _shot(page, "2-sandbox-bank")

    # 4. The officer feeds the answer back on the transfers page.
    page.goto(f"{base}{reverse('payroll:transfers', args=[funded.pk])}")
    form = page.locator('[data-form="transfer-status-file"]').first
    form.locator("input[type=file]").set_input_files(str(answer))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    _message(page)
    target = Instruction.objects.get(line__beneficiary=rejected_person)
    assert target.state == InstructionState.REJECTED
    assert Instruction.objects.filter(state=InstructionState.CREDITED).count() == 3
    funded.refresh_from_db()
    assert funded.state == CycleState.PAYING
    _shot(page, "3-answer-imported")

    # 5. The rejected transfer is on the exceptions list: the officer switches it to cash.
    page.goto(f"{base}{reverse('payroll:transfer_exceptions')}")
    rows = page.locator('[data-list="transfer-exceptions"] tbody tr')
    assert rows.count() == 1 and rejected_person.full_name in rows.first.inner_text()
    _go(page, rows.first.locator("a").first)
    assert "Tài khoản đã đóng" in page.inner_text("main") or "đóng" in page.inner_text("main")
    page.fill('[data-form="exception-to-cash"] textarea[name=reason]', "Tài khoản đã đóng, chi tiền mặt tháng này")
    _go(page, '[data-form="exception-to-cash"] button[type=submit]')
    _message(page)
    exception = TransferException.objects.get(instruction=target)
    assert exception.state == ExceptionState.IN_HAND
    _shot(page, "4-switch-asked")

    # 6. A second person approves the switch with a code of their authenticator app.
    device = otp.set_device(actor=None, user=approver_a, key_hex=KEY)
    page.context.clear_cookies()
    login(page, approver_a)
    page.goto(f"{base}{reverse('payroll:cycle', args=[funded.pk])}")
    decide = page.locator('[data-form="fix-decide"]').first
    decide.locator("input[name=token]").fill(current_code(device))
    with page.expect_navigation():
        decide.locator('button[value="approve"]').click()
    _message(page)
    exception.refresh_from_db()
    assert exception.state == ExceptionState.RESOLVED and exception.resolution == "to_cash"
    assert fixes.effective_channel(target.line)[0] == Channel.PAY_POINT
    _shot(page, "5-switch-approved")

    # 7. The payees' notices are in the sandbox gateway: three credited, one failed.
    page.context.clear_cookies()
    login(page, preparer_a)
    page.goto(f"{base}{reverse('notifications:list')}")
    text = page.inner_text('[data-list="notifications"]')
    assert Message.objects.filter(template_key="payment.credited").count() == 3
    assert Message.objects.filter(template_key="payment.failed").count() == 1
    credited = Message.objects.filter(template_key="payment.credited").first()
    assert credited.text in text
    assert "03/2026" in credited.text
    _shot(page, "6-sms")
    assert not page.console_errors
