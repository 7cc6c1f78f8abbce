"""Funding (issue 10 part 5): the funding request's totals equal the payroll's summary plus the
expected fee; its XLSX reads back; advances move the cycle to "funded" only when they cover the
request (a shortfall says how much is missing); the same treasury reference twice is harmless;
roles; pages and API."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.payroll import approval, funding, services
from ansinh.payroll.generation import expected_fee, generate_payroll, summarize
from ansinh.payroll.models import (
    Advance,
    ContractPurpose,
    CycleState,
    FeeKind,
    FundingRequest,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
)
from ansinh.payroll.services import TransitionForbidden, TransitionRefused
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory
from tests.payroll.conftest import appraise

S = CycleState
M1 = date(2026, 3, 1)


def person(commune, name, birth=date(1940, 5, 17), code="D20.5.5.c"):
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=birth,
        gender="male",
        commune=commune,
        area_path=commune.path,
        start_month=date(2025, 1, 1),
    )
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code=code), from_month=date(2025, 1, 1)
    )
    return b


def approve(cycle, approver) -> PaymentCycle:
    """Approve the generated payroll through the real service, with a current TOTP code of the
    approver's device."""
    device = TOTPDevice.objects.create(user=approver, name="test", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    approval.approve_payroll(actor=approver, cycle=cycle, token=f"{totp.token():0{device.digits}d}")
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def contract(world):
    return services.create_contract(
        actor=None,
        data=services.ContractInput(
            number="HĐ-01/2026",
            paying_unit=world.unit_a,
            provider=world.post,
            areas=[world.tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        ),
    )


@pytest.fixture
def generated(world, contract):
    tree = world.tree
    person(tree.a, "Già Một", birth=date(1930, 1, 1))
    person(tree.a, "Già Hai", birth=date(1935, 2, 2))
    services.open_cycles(actor=None, month=M1, area=tree.a)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    cycle = appraise(PaymentCycle.objects.get(month=M1, area=tree.a, programme_id=programme_id))
    generate_payroll(actor=None, cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def approved(generated, approver_a):
    return approve(generated, approver_a)


def test_the_request_totals_equal_the_summary_plus_the_fee(approved, preparer_a):
    req = funding.make_funding_request(actor=preparer_a, cycle=approved, number="12/ĐNTƯ")
    summary = summarize(approved)
    fee = expected_fee(approved, summary)["fee_total"]
    assert fee == 2 * 5000
    assert req.allowances_total == summary["total_amount"] > 0
    assert req.fee_total == fee and req.total == summary["total_amount"] + fee
    assert req.content_hash == approved.approval.content_hash
    assert req.per_channel["channels"]["pay_point"]["people"] == 2
    assert sum(v["amount"] for v in req.per_channel["channels"].values()) == req.allowances_total
    assert AuditEvent.objects.filter(action="payroll.funding.requested", object_id=str(approved.pk)).count() == 1
    # idempotent: the same request again, nothing new
    again = funding.make_funding_request(actor=preparer_a, cycle=approved)
    assert again.pk == req.pk and FundingRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="payroll.funding.requested").count() == 1


def test_recoveries_reduce_the_request_and_funeral_lines_are_their_own_row(generated, approver_a, preparer_a):
    # lines of other types, added to the draft the way the adjustments part writes them
    approved = generated
    regular = list(PayrollLine.objects.filter(cycle=approved).order_by("pk"))
    first, second = regular
    for line, line_type, amount in ((first, "recovery", -200_000), (second, "funeral", 10_000_000)):
        PayrollLine.objects.create(
            cycle=approved,
            beneficiary_id=line.beneficiary_id,
            line_type=line_type,
            amount=amount,
            payee_name=line.payee_name,
            channel=line.channel,
            area_path=line.area_path,
            commune_id=line.commune_id,
        )
    run = PayrollRun.objects.get(cycle=approved)  # the draft's summary, as generation stores it
    summary = summarize(approved)
    run.lines, run.total_amount = summary["lines"], summary["total_amount"]
    run.save()
    approved = approve(approved, approver_a)
    req = funding.make_funding_request(actor=preparer_a, cycle=approved)
    types = req.per_channel["line_types"]
    assert types["recovery"]["amount"] == -200_000 and types["funeral"]["amount"] == 10_000_000
    assert req.allowances_total == sum(ln.amount for ln in regular) - 200_000 + 10_000_000


def test_only_an_approved_payroll_and_only_the_office(world, approved, preparer_a, approver_a, officer_a):
    with pytest.raises(TransitionForbidden):
        funding.make_funding_request(actor=officer_a, cycle=approved)
    with pytest.raises(TransitionForbidden):
        funding.make_funding_request(actor=approver_a, cycle=approved)
    PaymentCycle.objects.filter(pk=approved.pk).update(state=S.PAYROLL_GENERATED)
    with pytest.raises(funding.FundingRefused):
        funding.make_funding_request(actor=preparer_a, cycle=approved)
    assert not FundingRequest.objects.exists()


def test_a_short_advance_keeps_the_cycle_approved_and_names_the_shortfall(approved, preparer_a):
    req = funding.make_funding_request(actor=preparer_a, cycle=approved)
    with pytest.raises(funding.FundingRefused):  # no advance without a request… and none below 1 đồng
        funding.record_advance(actor=preparer_a, cycle=approved, amount=0, received_on=date(2026, 3, 3), reference="X")
    result = funding.record_advance(
        actor=preparer_a, cycle=approved, amount=req.total - 1000, received_on=date(2026, 3, 3), reference="KB-001"
    )
    approved.refresh_from_db()
    assert approved.state == S.APPROVED and not result.funded and result.shortfall == 1000
    assert "1.000" in result.message
    with pytest.raises(TransitionRefused) as refused:
        services.transition(actor=preparer_a, cycle=approved, to_state=S.FUNDED)
    assert "1.000" in str(refused.value)
    result = funding.record_advance(
        actor=preparer_a, cycle=approved, amount=1000, received_on=date(2026, 3, 4), reference="KB-002"
    )
    approved.refresh_from_db()
    assert result.funded and approved.state == S.FUNDED
    assert AuditEvent.objects.filter(action="payroll.advance.recorded").count() == 2
    event = AuditEvent.objects.filter(action="payroll.cycle.transitioned", object_id=str(approved.pk)).latest("pk")
    assert event.after["state"] == S.FUNDED


def test_a_full_advance_funds_at_once_and_the_same_reference_twice_is_harmless(approved, preparer_a):
    req = funding.make_funding_request(actor=preparer_a, cycle=approved)
    day = date(2026, 3, 3)
    first = funding.record_advance(
        actor=preparer_a, cycle=approved, amount=req.total, received_on=day, reference="KB-9"
    )
    assert first.funded and first.created
    again = funding.record_advance(
        actor=preparer_a, cycle=approved, amount=req.total, received_on=day, reference="KB-9"
    )
    assert again.advance.pk == first.advance.pk and not again.created
    assert Advance.objects.count() == 1
    with pytest.raises(funding.FundingRefused):
        funding.record_advance(actor=preparer_a, cycle=approved, amount=5, received_on=day, reference="KB-9")
    approved.refresh_from_db()
    assert approved.state == S.FUNDED


def test_without_a_request_no_advance_and_no_step(approved, preparer_a, officer_a):
    with pytest.raises(funding.FundingRefused):
        funding.record_advance(actor=preparer_a, cycle=approved, amount=1, received_on=date(2026, 3, 3), reference="K")
    with pytest.raises(TransitionRefused):
        services.transition(actor=preparer_a, cycle=approved, to_state=S.FUNDED)
    funding.make_funding_request(actor=preparer_a, cycle=approved)
    with pytest.raises(TransitionForbidden):
        funding.record_advance(actor=officer_a, cycle=approved, amount=1, received_on=date(2026, 3, 3), reference="K")


def test_the_xlsx_reads_back_in_vietnamese_without_personal_data(approved, preparer_a):
    req = funding.make_funding_request(actor=preparer_a, cycle=approved, number="12/ĐNTƯ")
    content = funding.funding_request_xlsx(req, actor=preparer_a)
    ws = load_workbook(io.BytesIO(content)).active
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(cells)
    assert "GIẤY ĐỀ NGHỊ TẠM ỨNG KINH PHÍ CHI TRẢ" in text
    assert "Tháng 03/2026" in text and "12/ĐNTƯ" in text
    assert "UBND CHÂU PHÚ A" in text
    assert funding.format_number(req.total) in cells
    assert funding.format_number(req.fee_total) in cells
    assert "Mai táng phí" in text and "Truy lĩnh" in text and "Thu hồi" in text
    assert "Bằng chữ:" in text and "đồng" in text
    assert "Già Một" not in text and "Già Hai" not in text
    assert AuditEvent.objects.filter(action="payroll.funding.exported").count() == 1


def test_amount_in_words():
    assert funding.format_number(1_598_000) == "1.598.000"
    assert funding.amount_in_words(1_598_000) == "Một triệu năm trăm chín mươi tám nghìn đồng"


def test_pages_and_api(approved, client_for, api_client_for, preparer_a, viewer_a, officer_b):
    client = client_for(preparer_a)
    page = reverse("payroll:cycle", args=[approved.pk])
    assert "Lập giấy đề nghị tạm ứng" in client.get(page).content.decode()
    response = client.post(reverse("payroll:funding_request", args=[approved.pk]), {"number": "7/ĐN"})
    assert response.status_code == 302
    req = FundingRequest.objects.get(cycle=approved)
    xlsx = client.get(reverse("payroll:funding_xlsx", args=[approved.pk]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "GIẤY ĐỀ NGHỊ" in str(load_workbook(io.BytesIO(xlsx.content)).active["A5"].value)
    response = client.post(
        reverse("payroll:advance", args=[approved.pk]),
        {"amount": str(req.total), "received_on": "2026-03-03", "reference": "KB-WEB"},
        follow=True,
    )
    assert response.status_code == 200
    approved.refresh_from_db()
    assert approved.state == S.FUNDED
    assert "KB-WEB" in client.get(page).content.decode()
    viewer = client_for(viewer_a)
    assert viewer.post(reverse("payroll:funding_request", args=[approved.pk])).status_code == 403
    outsider = client_for(officer_b)
    assert outsider.get(reverse("payroll:funding_xlsx", args=[approved.pk])).status_code == 404
    api = api_client_for(preparer_a)
    got = api.get(f"/api/v1/payroll/cycles/{approved.pk}/funding-request")
    assert got.status_code == 200 and got.json()["total"] == req.total
    advances = api.get(f"/api/v1/payroll/cycles/{approved.pk}/advances")
    assert advances.status_code == 200 and advances.json()[0]["reference"] == "KB-WEB"
    assert api_client_for(officer_b).get(f"/api/v1/payroll/cycles/{approved.pk}/funding-request").status_code == 404


def test_audit_sentences_are_vietnamese(approved, preparer_a):
    from tests.web.test_audit_text import ENGLISH, RAW, rendered_texts

    req = funding.make_funding_request(actor=preparer_a, cycle=approved)
    funding.funding_request_xlsx(req, actor=preparer_a)
    funding.record_advance(actor=preparer_a, cycle=approved, amount=1000, received_on=date(2026, 3, 3), reference="KB")
    actions = ("payroll.funding.requested", "payroll.funding.exported", "payroll.advance.recorded")
    events = list(AuditEvent.objects.filter(action__in=actions).select_related("actor").order_by("id"))
    assert {e.action for e in events} == set(actions)
    texts = rendered_texts(events, preparer_a)
    assert any("giấy đề nghị tạm ứng kỳ 03/2026" in t for t in texts)
    assert any("1.000 đồng" in t and "KB" in t for t in texts)
    for text in texts:
        assert not ENGLISH.search(text), text
        assert not any(p.search(text) for p in RAW), text
