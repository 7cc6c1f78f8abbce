"""Receivables and funeral support on the pages (issue 10 part 3): the list and the detail,
scoped, CCCD masked; recovered from the payee; the write-off asked by the office and approved
by a second person with a TOTP code; funeral support recorded with the death on the decision
form and shown on the beneficiary's page and on the cycle's lines."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.payroll import receivables
from ansinh.payroll.models import FuneralSupport, Receivable, ReceivableState
from ansinh.policy.models import Category
from tests.conftest import make_user
from tests.payroll.test_adjustments import CODE, person


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def receivable(world, preparer_a):
    b = person(world.tree.a, "Người Nợ")
    b.cccd = "089123456789"
    b.save()
    programme = Category.objects.get(code=CODE).programme
    return receivables.record_receivable(
        actor=preparer_a, beneficiary=b, programme=programme, amount=400_000, reason="Nhận trùng tháng 3"
    )


def test_list_and_detail_are_scoped_and_mask_the_cccd(client_for, preparer_a, officer_b, receivable):
    client = client_for(preparer_a)
    page = client.get(reverse("payroll:receivables")).content.decode()
    assert "Người Nợ" in page and "089123456789" not in page and "6789" in page
    detail = client.get(reverse("payroll:receivable", args=[receivable.pk]))
    assert detail.status_code == 200 and "400.000" in detail.content.decode()
    other = client_for(officer_b)
    assert other.get(reverse("payroll:receivable", args=[receivable.pk])).status_code == 404
    assert "Người Nợ" not in other.get(reverse("payroll:receivables")).content.decode()


def test_recovered_and_written_off_through_the_pages(client_for, preparer_a, approver_a, tree, receivable):
    client = client_for(preparer_a)
    client.post(
        reverse("payroll:receivable_recover", args=[receivable.pk]),
        {"amount": "100000", "on": "01/05/2026", "reference": "PT-01"},
    )
    receivable.refresh_from_db()
    assert receivable.recovered == 100_000
    client.post(reverse("payroll:receivable_write_off", args=[receivable.pk]), {"reason": "Không còn ai nhận"})
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.WRITE_OFF_REQUESTED
    # the requester holds no approver's role; an approver without an authenticator app cannot approve
    assert (
        client_for(preparer_a)
        .post(reverse("payroll:receivable_write_off_approve", args=[receivable.pk]), {"token": "123456"})
        .status_code
        == 403
    )
    client_for(make_user("other_approver_a", "approver", tree.a)).post(
        reverse("payroll:receivable_write_off_approve", args=[receivable.pk]), {"token": "123456"}
    )
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.WRITE_OFF_REQUESTED
    device = TOTPDevice.objects.create(user=approver_a, name="t", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    approver = client_for(approver_a)
    approver.post(
        reverse("payroll:receivable_write_off_approve", args=[receivable.pk]),
        {"token": f"{totp.token():0{device.digits}d}"},
    )
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.WRITTEN_OFF and receivable.closed_by == approver_a


def test_read_only_cannot_act(client_for, viewer_a, receivable):
    response = client_for(viewer_a).post(reverse("payroll:receivable_write_off", args=[receivable.pk]), {"reason": "x"})
    assert response.status_code in (403, 404)
    assert Receivable.objects.get(pk=receivable.pk).state == ReceivableState.OPEN


def test_funeral_support_recorded_with_the_death(world, client_for, officer_a):
    b = person(world.tree.a, "Cụ Mất")
    client = client_for(officer_a)
    data = {
        "kind": "stop",
        "number": "15/QĐ-UBND",
        "signed_on": "2026-04-10",
        "effective_month": "",
        "reason": "died",
        "death_date": "2026-04-02",
        "event_date": "",
        "backdating_reason": "",
        "to_commune": "",
        "note": "",
        "organiser_name": "Lê Văn Lo",
        "organiser_relationship": "con trai",
        "organiser_cccd": "",
        "organiser_phone": "0912345678",
        "cat-TOTAL_FORMS": "1",
        "cat-INITIAL_FORMS": "0",
        "cat-MIN_NUM_FORMS": "0",
        "cat-MAX_NUM_FORMS": "5",
        "cat-0-entitlement": "",
        "cat-0-units": "1",
    }
    response = client.post(reverse("registry:decision", args=[b.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    support = FuneralSupport.objects.get(beneficiary=b)
    assert support.organiser_name == "Lê Văn Lo" and support.death_date == date(2026, 4, 2)
    assert support.organiser_phone == "+84912345678" and support.amount > 0
    page = client.get(reverse("registry:detail", args=[b.pk])).content.decode()
    assert "Lê Văn Lo" in page and 'data-section="funeral-support"' in page
