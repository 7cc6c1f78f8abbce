"""Arrears, recoveries and funeral support (issue 10 part 3): arrears for exactly the months
owed, receivables against whoever received an overpayment, deductions up to the province's
share, never over-recovered, idempotent re-generation, write-off by a second person with a TOTP
code, and funeral support paid once."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.audit.models import AuditEvent
from ansinh.payments.models import PayeeDesignation
from ansinh.payroll import adjustments, approval, receivables
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import (
    FuneralState,
    FuneralSupport,
    LineType,
    PaidMonth,
    PaymentCalendar,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
    Receivable,
    ReceivableReason,
    ReceivableState,
)
from ansinh.payroll.services import open_cycles
from ansinh.policy.entitlement import Claim, monthly_entitlement
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from ansinh.registry.services import record_decision
from tests.payroll.conftest import appraise

M1 = date(2026, 3, 1)
M2 = date(2026, 4, 1)
M3 = date(2026, 5, 1)
M4 = date(2026, 6, 1)
CODE = "D20.5.5.c"


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def person(commune, name="Nguyễn Văn A", birth=date(1940, 5, 17), start=date(2025, 1, 1), code=CODE):
    b = Beneficiary.objects.create(
        full_name=name, birth_date=birth, gender="male", commune=commune, area_path=commune.path, start_month=start
    )
    BeneficiaryCategory.objects.create(beneficiary=b, category=Category.objects.get(code=code), from_month=start)
    return b


def monthly(b, month, tree) -> int:
    e = monthly_entitlement(claims=[Claim(category_code=CODE)], month=month, birth_date=b.birth_date, province=tree.a)
    assert e is not None
    return e.amount


def cycle_for(tree, month) -> PaymentCycle:
    open_cycles(actor=None, month=month, area=tree.a)
    programme_id = Category.objects.get(code=CODE).programme_id
    return appraise(PaymentCycle.objects.get(month=month, area=tree.a, programme_id=programme_id))


def approve(cycle, approver):
    """The real approval path without the TOTP prompt (approval._approve: PayrollApproval,
    record_paid_months, apply_recoveries, the transition)."""
    approval._approve(approver, PaymentCycle.objects.get(pk=cycle.pk))
    return PaymentCycle.objects.get(pk=cycle.pk)


def run(tree, month, approver):
    cycle = cycle_for(tree, month)
    generate_payroll(actor=None, cycle=cycle)
    return approve(cycle, approver)


def lines(cycle, b=None):
    qs = PayrollLine.objects.filter(cycle=cycle)
    if b is not None:
        qs = qs.filter(beneficiary=b)
    return {ln.line_type: ln for ln in qs}


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def test_backdated_start_gets_arrears_for_exactly_the_owed_months(world, approver_a):
    tree = world.tree
    person(tree.a, "Đã nhận")
    run(tree, M1, approver_a)  # the first payroll ansinh approved for the area
    late = person(tree.a, "Quyết định muộn", start=date(2026, 1, 1))  # signed after M1's payroll
    cycle = cycle_for(tree, M2)
    summary = generate_payroll(actor=None, cycle=cycle)
    got = lines(cycle, late)
    amount = monthly(late, M1, tree)
    assert got[LineType.REGULAR].amount == monthly(late, M2, tree)
    # January and February are before the first approved payroll: never back-paid
    assert got[LineType.ARREARS].months == {"2026-03": amount}
    assert got[LineType.ARREARS].amount == amount
    assert summary["arrears_lines"] == 1
    approve(cycle, approver_a)
    assert set(PaidMonth.objects.filter(beneficiary=late).values_list("month", flat=True)) == {M1, M2}
    c3 = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=c3)
    assert LineType.ARREARS not in lines(c3, late)  # paid once


def test_paid_after_death_opens_a_receivable_against_the_payee(world, approver_a, officer_a):
    tree = world.tree
    b = person(tree.a, "Cụ Bà")
    rep = Representation.objects.create(
        beneficiary=b,
        representative=Representative.objects.create(full_name="Trần Văn Con", commune=tree.a, area_path=tree.a.path),
        kind="guardian",
    )
    PayeeDesignation.objects.create(beneficiary=b, representation=rep, from_month=M1)
    run(tree, M1, approver_a)
    run(tree, M2, approver_a)
    # the death on 15/03 is reported in May: April was paid after death
    record_decision(
        actor=None,
        beneficiary=b,
        kind="stop",
        number="12/QĐ",
        signed_on=date(2026, 5, 5),
        reason="died",
        death_date=date(2026, 3, 15),
    )
    c3 = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=c3)
    assert lines(c3, b) == {}  # nothing after death, and no next payment to deduct from
    r = Receivable.objects.get(beneficiary=b)
    assert r.reason == ReceivableReason.PAID_AFTER_DEATH
    assert r.representation == rep and r.debtor_name == "Trần Văn Con"
    assert r.months == [{"month": "2026-04", "amount": monthly(b, M2, tree)}]
    assert r.amount == monthly(b, M2, tree) and r.state == ReceivableState.OPEN
    # the month of death was paid in full and is not recovered
    assert PaidMonth.objects.filter(beneficiary=b, month=M1).exists()
    # re-generation does not duplicate it; the next month does not either
    generate_payroll(actor=None, cycle=c3)
    approve(c3, approver_a)
    c4 = cycle_for(tree, M4)
    generate_payroll(actor=None, cycle=c4)
    assert Receivable.objects.filter(beneficiary=b).count() == 1
    assert AuditEvent.objects.filter(action="payroll.receivable.detected").count() == 1


def test_late_raise_pays_arrears_and_late_lowering_recovers(world, approver_a):
    tree = world.tree
    b = person(tree.a, "Điều chỉnh", birth=date(1950, 1, 1))
    run(tree, M1, approver_a)
    run(tree, M2, approver_a)
    # the amount of March and April was too low: a higher category from March
    BeneficiaryCategory.objects.filter(beneficiary=b).update(to_month=date(2026, 2, 1))
    BeneficiaryCategory.objects.create(beneficiary=b, category=Category.objects.get(code="D20.5.3"), from_month=M1)
    Beneficiary.objects.get(pk=b.pk).save()  # the record changed since the last payroll
    higher = monthly_entitlement(
        claims=[Claim(category_code="D20.5.3")], month=M1, birth_date=b.birth_date, province=tree.a
    )
    c3 = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=c3)
    got = lines(c3, b)
    diff = higher.amount - monthly(b, M1, tree)
    if diff > 0:
        assert got[LineType.ARREARS].months == {"2026-03": diff, "2026-04": diff}
    elif diff < 0:
        assert Receivable.objects.get(beneficiary=b).amount == -2 * diff


def test_share_of_the_payment_and_never_over_recovered(world, approver_a, preparer_a):
    tree = world.tree
    b = person(tree.a, "Nợ")
    PaymentCalendar.objects.create(province=tree.province, area_path=tree.province.path, recovery_share_percent=50)
    programme = Category.objects.get(code=CODE).programme
    amount = monthly(b, M1, tree)
    big = receivables.record_receivable(
        actor=preparer_a, beneficiary=b, programme=programme, amount=amount * 3 // 4, reason="Nhận trùng"
    )
    c1 = cycle_for(tree, M1)
    generate_payroll(actor=None, cycle=c1)
    rec = lines(c1, b)[LineType.RECOVERY]
    assert rec.amount == -(amount * 50 // 100)  # half of the payment
    assert rec.receivable == big
    big.refresh_from_db()
    assert big.recovered == 0  # a draft changes nothing
    generate_payroll(actor=None, cycle=c1)  # re-generating a draft changes nothing either
    big.refresh_from_db()
    assert big.recovered == 0
    approve(c1, approver_a)
    big.refresh_from_db()
    assert big.recovered == amount * 50 // 100 and big.state == ReceivableState.OPEN
    adjustments.apply_recoveries(c1)  # idempotent
    big.refresh_from_db()
    assert big.recovered == amount * 50 // 100
    c2 = run(tree, M2, approver_a)
    big.refresh_from_db()
    assert big.recovered == big.amount and big.state == ReceivableState.RECOVERED
    assert lines(c2, b)[LineType.RECOVERY].amount == -(big.amount - amount * 50 // 100)  # only what remained
    c3 = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=c3)
    assert LineType.RECOVERY not in lines(c3, b)
    run_ = PayrollRun.objects.get(cycle=c2)
    assert run_.total_amount == sum(PayrollLine.objects.filter(cycle=c2).values_list("amount", flat=True))


def test_regeneration_is_idempotent(world, approver_a):
    tree = world.tree
    b = person(tree.a, "Chết muộn")
    other = person(tree.a, "Khác")
    run(tree, M1, approver_a)
    run(tree, M2, approver_a)
    record_decision(
        actor=None,
        beneficiary=b,
        kind="stop",
        number="1",
        signed_on=date(2026, 5, 2),
        reason="died",
        death_date=date(2026, 3, 2),
    )
    person(tree.a, "Mới", start=date(2026, 3, 1))
    c3 = cycle_for(tree, M3)
    first = generate_payroll(actor=None, cycle=c3)
    snap = sorted(PayrollLine.objects.filter(cycle=c3).values_list("beneficiary_id", "line_type", "amount", "months"))
    receivable_ids = set(Receivable.objects.values_list("pk", flat=True))
    second = generate_payroll(actor=None, cycle=c3)
    assert (
        sorted(PayrollLine.objects.filter(cycle=c3).values_list("beneficiary_id", "line_type", "amount", "months"))
        == snap
    )
    assert set(Receivable.objects.values_list("pk", flat=True)) == receivable_ids
    assert first["total_amount"] == second["total_amount"]
    assert LineType.REGULAR in lines(c3, other)


def test_write_off_needs_a_second_person_and_a_code(world, preparer_a, approver_a):
    tree = world.tree
    b = person(tree.a)
    programme = Category.objects.get(code=CODE).programme
    r = receivables.record_receivable(actor=preparer_a, beneficiary=b, programme=programme, amount=500_000, reason="x")
    with pytest.raises(ValidationError):
        receivables.request_write_off(actor=preparer_a, receivable=r, reason=" ")
    r = receivables.request_write_off(actor=preparer_a, receivable=r, reason="Không còn người nhận")
    assert r.state == ReceivableState.WRITE_OFF_REQUESTED
    with pytest.raises(receivables.ReceivableRefused):
        receivables.approve_write_off(actor=preparer_a, receivable=r, token="000000")  # the requester
    device = TOTPDevice.objects.create(user=approver_a, name="t", confirmed=True)
    with pytest.raises(ValidationError):
        receivables.approve_write_off(actor=approver_a, receivable=r, token="000000")
    r.refresh_from_db()
    assert r.state == ReceivableState.WRITE_OFF_REQUESTED
    r = receivables.approve_write_off(actor=approver_a, receivable=r, token=code(device))
    assert r.state == ReceivableState.WRITTEN_OFF and r.closed_by == approver_a
    assert AuditEvent.objects.filter(action="payroll.receivable.written_off").exists()


def test_recovered_from_the_payee_closes_when_complete(world, preparer_a):
    tree = world.tree
    b = person(tree.a)
    programme = Category.objects.get(code=CODE).programme
    r = receivables.record_receivable(actor=preparer_a, beneficiary=b, programme=programme, amount=300_000, reason="x")
    with pytest.raises(ValidationError):
        receivables.record_payee_recovery(
            actor=preparer_a, receivable=r, amount=400_000, on=date(2026, 5, 1), reference="PT01"
        )
    r = receivables.record_payee_recovery(
        actor=preparer_a, receivable=r, amount=100_000, on=date(2026, 5, 1), reference="PT01"
    )
    assert r.state == ReceivableState.OPEN and r.recovered == 100_000
    r = receivables.record_payee_recovery(
        actor=preparer_a, receivable=r, amount=200_000, on=date(2026, 5, 2), reference="PT02"
    )
    assert r.state == ReceivableState.RECOVERED and r.outstanding == 0


def test_funeral_support_is_paid_once_to_the_organiser(world, approver_a, officer_a):
    tree = world.tree
    b = person(tree.a, "Cụ Ông")
    run(tree, M1, approver_a)
    record_decision(
        actor=None,
        beneficiary=b,
        kind="stop",
        number="9",
        signed_on=date(2026, 4, 10),
        reason="died",
        death_date=date(2026, 4, 5),
    )
    support = receivables.record_funeral_support(
        actor=None,
        beneficiary=Beneficiary.objects.get(pk=b.pk),
        death_date=date(2026, 4, 5),
        organiser_name="Nguyễn Thị Lo",
        relationship="con gái",
    )
    assert support.category_code == "FUNERAL.D20" and support.amount > 0
    c2 = cycle_for(tree, M2)
    summary = generate_payroll(actor=None, cycle=c2)
    got = lines(c2, b)
    assert got[LineType.REGULAR].amount == monthly(b, M2, tree)  # the month of death is paid in full
    funeral = got[LineType.FUNERAL]
    assert funeral.amount == support.amount and funeral.payee_name == "Nguyễn Thị Lo"
    assert funeral.representation is None and funeral.channel == "pay_point" and funeral.funeral == support
    assert summary["per_line_type"]["funeral"] == {"lines": 1, "amount": support.amount}
    approve(c2, approver_a)
    support.refresh_from_db()
    assert support.state == FuneralState.PAID
    c3 = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=c3)
    assert lines(c3, b) == {}
    with pytest.raises(receivables.FuneralRefused):
        receivables.record_funeral_support(
            actor=None, beneficiary=b, death_date=date(2026, 4, 5), organiser_name="Ai đó"
        )
    assert FuneralSupport.objects.count() == 1


def test_manual_adjustments_of_accepted_lists(world, approver_a, preparer_a):
    from ansinh.payroll.models import ChangeItem, ChangeList

    tree = world.tree
    plus, minus = person(tree.a, "Cộng"), person(tree.a, "Trừ")
    cycle = cycle_for(tree, M1)
    cl, _created = ChangeList.objects.update_or_create(
        cycle=cycle, commune=tree.a, defaults={"area_path": tree.a.path, "state": "accepted"}
    )
    ChangeItem.objects.create(
        change_list=cl, beneficiary=plus, kind="manual", effective_month=M1, manual_amount=120_000, reason="Bù"
    )
    ChangeItem.objects.create(
        change_list=cl, beneficiary=minus, kind="manual", effective_month=M1, manual_amount=-80_000, reason="Trừ"
    )
    generate_payroll(actor=None, cycle=cycle)
    assert lines(cycle, plus)[LineType.ARREARS].months == {"manual": 120_000}
    r = Receivable.objects.get(beneficiary=minus)
    assert (r.reason, r.amount) == (ReceivableReason.MANUAL, 80_000)
    assert lines(cycle, minus)[LineType.RECOVERY].amount == -80_000
    generate_payroll(actor=None, cycle=cycle)  # idempotent
    assert Receivable.objects.filter(beneficiary=minus).count() == 1
    approve(cycle, approver_a)
    # the manual part is not a month's allowance
    assert set(PaidMonth.objects.filter(beneficiary=plus).values_list("month", "amount")) == {
        (M1, monthly(plus, M1, tree))
    }
    r.refresh_from_db()
    assert r.state == ReceivableState.RECOVERED
