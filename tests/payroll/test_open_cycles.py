"""Opening the cycles of a month: one per approving unit and programme, with five deadlines;
idempotent; limited to an area on request; the command prints a JSON summary."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

from django.core.management import call_command

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.audit.models import AuditEvent
from ansinh.payroll.models import CycleDeadline, PaymentCycle
from ansinh.payroll.services import open_cycles
from ansinh.policy.models import Kind, Programme

from .conftest import MONTH


def _programmes() -> int:
    return Programme.objects.filter(categories__kind=Kind.MONTHLY).distinct().count()


def test_one_cycle_per_approving_unit_and_programme_with_its_deadlines(world):
    summary = open_cycles(actor=None, month=date(2026, 2, 17))
    programmes = _programmes()
    assert programmes >= 2  # social assistance and người có công at least
    assert summary["cycles_created"] == 2 * programmes
    assert PaymentCycle.objects.filter(month=MONTH).count() == 2 * programmes
    assert CycleDeadline.objects.count() == 5 * 2 * programmes
    a = PaymentCycle.objects.filter(approving_unit=world.unit_a).first()
    assert a.area == world.tree.a and a.area_path == world.tree.a.path and a.state == "open"
    assert AuditEvent.objects.filter(action="payroll.cycles.opened").count() == 1


def test_opening_twice_creates_nothing_more(world):
    open_cycles(actor=None, month=MONTH)
    again = open_cycles(actor=None, month=MONTH)
    assert again["cycles_created"] == 0 and again["deadlines_created"] == 0
    assert PaymentCycle.objects.count() == 2 * _programmes()
    assert AuditEvent.objects.filter(action="payroll.cycles.opened").count() == 1


def test_an_area_limits_the_units(world):
    summary = open_cycles(actor=None, month=MONTH, area=world.tree.a)
    assert summary["approving_units"] == 1
    assert set(PaymentCycle.objects.values_list("approving_unit", flat=True)) == {world.unit_a.pk}


def test_programmes_limit_the_cycles_to_those_with_monthly_allowances(world):
    btxh = Programme.objects.get(code="BTXH")
    one_off_only = Programme.objects.exclude(categories__kind=Kind.MONTHLY).first()
    wanted = [btxh] + ([one_off_only] if one_off_only else [])
    summary = open_cycles(actor=None, month=MONTH, programmes=wanted)
    assert summary["programmes"] == ["BTXH"] and summary["cycles_created"] == 2
    assert set(PaymentCycle.objects.values_list("programme__code", flat=True)) == {"BTXH"}
    assert CycleDeadline.objects.count() == 5 * 2
    # the others can be opened later; the BTXH cycles are left alone
    rest = open_cycles(actor=None, month=MONTH)
    assert rest["cycles_created"] == 2 * (_programmes() - 1)


def test_a_responsibility_not_in_force_that_month_opens_nothing(world, tree):
    office = create_org_unit(actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH", area=tree.district)
    assign_responsibility(
        actor=None, org_unit=office, area=tree.district, function=Function.APPROVE, valid_to=date(2025, 6, 30)
    )
    open_cycles(actor=None, month=MONTH)
    assert not PaymentCycle.objects.filter(approving_unit=office).exists()
    open_cycles(actor=None, month=date(2023, 7, 1))
    assert PaymentCycle.objects.filter(approving_unit=office, area=tree.district).count() == _programmes()


def test_the_command_prints_a_json_summary(world, tree):
    out = StringIO()
    call_command("open_cycles", "--period", "2026-02", "--area", tree.a.code, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["month"] == "2026-02" and summary["approving_units"] == 1
    out = StringIO()
    call_command("open_cycles", "--period", "2026-02", "--area", tree.a.code, stdout=out)
    assert json.loads(out.getvalue())["cycles_created"] == 0
