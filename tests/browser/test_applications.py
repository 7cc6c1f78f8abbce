"""An application in a real browser (issue 12, point 7): a daughter applies online for her mother
on a phone-sized screen, with a photo of the CCCD; the commune officer accepts it and posts it
publicly; once the two working days of the posting have passed the officer records the
chairperson's decision, which creates the beneficiary in the registry; the applicant sees the
outcome on the status page."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from ansinh.applications import services
from ansinh.applications.models import Application, State
from ansinh.registry.models import Beneficiary, Status
from tests.applications.conftest import PNG, a_working_day
from tests.factories import cccd_for

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ANSINH_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"applications-{name}.png"), full_page=True)


def _go(page, selector) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def test_online_application_to_a_decision_that_creates_the_beneficiary(
    phone_page, page, login, live_server, tree, policy, officer_a, monkeypatch, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    # a working day: posted on a Saturday or a holiday (Vietnam's time), the posting would start
    # on the next working day and not be on the public list yet (this failed on Saturdays)
    working = a_working_day()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: working)
    photo = tmp_path / "cccd.png"
    photo.write_bytes(PNG)
    cccd = cccd_for(date(1942, 7, 3), "female", "880001")

    # the daughter applies on her phone
    phone = phone_page
    phone.goto(f"{live_server.url}/ho-so/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone.fill("#id_full_name", "Nguyễn Thị Mẹ")
    phone.fill("#id_birth_date", "03/07/1942")
    phone.check("input[name=gender][value=female]")
    phone.fill("#id_cccd", cccd)
    phone.fill("#id_phone", "0912 345 678")
    phone.select_option("#id_commune", str(tree.a.pk))
    phone.select_option("#id_village", str(tree.village_a.pk))
    phone.select_option("#id_entitlement", "D20.5.5.c||")
    phone.fill("#id_rep_name", "Trần Thị Con")
    phone.fill("#id_rep_phone", "0987654321")
    phone.fill("#id_rep_relationship", "con gái")
    phone.set_input_files("#id_files_cccd_copy", str(photo))
    _shot(phone, "form")
    _go(phone, "[data-form=application] button[type=submit]")
    reference = phone.locator("[data-reference]").inner_text().strip()
    _shot(phone, "sent")
    app = Application.objects.get(reference=reference)
    assert app.attachments.count() == 1 and app.state == State.SUBMITTED

    # the commune officer accepts it and posts it publicly
    login(page, officer_a)
    page.goto(f"{live_server.url}/applications/")
    _go(page, f"text={reference}")
    page.check("input[name=outcome][value=accept]")
    _go(page, "[data-form=review] button[type=submit]")
    _go(page, "[data-form=post] button[type=submit]")
    app.refresh_from_db()
    assert app.state == State.POSTED
    assert page.locator("[data-wait]").is_visible()  # no decision during the posting

    # the posting is on the public list, without the CCCD or the phone
    phone.goto(f"{live_server.url}/ho-so/niem-yet/{tree.a.code}/")
    posting = phone.locator("[data-list=posting]").inner_text()
    assert "Nguyễn Thị Mẹ" in posting and cccd not in posting and "0912" not in posting
    _shot(phone, "posting")

    # two working days later: the chairperson's decision
    day = services.decidable_from(app)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    page.reload()
    page.check("input[name=approve][value='1']")
    page.fill("#id_number", "125/QĐ-UBND")
    page.fill("#id_signed_on", day.strftime("%d/%m/%Y"))
    page.fill("#id_signer", "Lê Văn Chủ Tịch")
    _shot(page, "decide")
    _go(page, "[data-form=decide] button[type=submit]")
    assert page.locator("[data-state=decided_approved]").is_visible()
    b = Beneficiary.objects.get(cccd=cccd)
    assert b.status == Status.ACTIVE and b.start_month == day.replace(day=1)
    assert b.categories.get().category.code == "D20.5.5.c"
    assert b.representations.get().representative.full_name == "Trần Thị Con"
    _go(page, "[data-beneficiary]")
    assert "Nguyễn Thị Mẹ" in page.content()

    # the applicant sees the outcome
    phone.goto(f"{live_server.url}/ho-so/trang-thai/")
    phone.fill("#id_reference", reference)
    phone.fill("#id_last4", "5678")
    _go(phone, "[data-form=status] button[type=submit]")
    assert phone.locator("[data-outcome=approved]").is_visible()
    assert "125/QĐ-UBND" in phone.locator("[data-status]").inner_text()
    _shot(phone, "status")
    assert not phone.console_errors and not page.console_errors
