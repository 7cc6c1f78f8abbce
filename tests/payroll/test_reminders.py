"""Reminders of deadlines to the officers who answer for them: before the due date and the day
after a missed one, in the application and by SMS; a re-run sends nothing twice."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

from django.core.management import call_command

from ansinh.notifications.models import Channel, Message
from ansinh.payroll.queries import due_and_overdue
from ansinh.payroll.reminders import send_cycle_reminders
from ansinh.payroll.services import open_cycles

from .conftest import MONTH


def test_the_commune_officer_is_reminded_a_working_day_before_the_change_list(world, officer_a, officer_b):
    open_cycles(actor=None, month=MONTH)
    # commune changes due Monday 2/2/2026; one working day before: Friday 30/1
    assert send_cycle_reminders(today=date(2026, 1, 29))["before"] == 0
    counts = send_cycle_reminders(today=date(2026, 1, 30))
    assert counts["before"] >= 1
    mine = Message.objects.filter(user=officer_a, template_key="payroll.deadline_soon")
    assert mine.filter(channel=Channel.IN_APP).count() == 1  # one per unit, not per programme
    assert "02/02/2026" in mine.first().text and "UBND Châu Phú A" in mine.first().text
    assert not Message.objects.filter(user=officer_b, text__contains="Châu Phú A").exists()


def test_a_missed_deadline_is_sent_once_the_day_after(world, officer_a, preparer_a):
    open_cycles(actor=None, month=MONTH)
    first = send_cycle_reminders(today=date(2026, 2, 3))
    assert first["overdue"] >= 1
    total = Message.objects.count()
    again = send_cycle_reminders(today=date(2026, 2, 3))
    assert again["overdue"] == 0 and again["before"] == 0 and again["already_sent"] > 0
    assert Message.objects.count() == total
    missed = Message.objects.filter(template_key="payroll.deadline_missed")
    assert missed.filter(user=officer_a).exists()
    # the office officer (with a mobile number) is reminded of the payroll in the app and by SMS
    soon = Message.objects.filter(user=preparer_a, template_key="payroll.deadline_soon")
    assert set(soon.values_list("channel", flat=True)) == {Channel.IN_APP, Channel.SMS}


def test_the_command_and_the_tasks_page_list(world, officer_a):
    open_cycles(actor=None, month=MONTH)
    out = StringIO()
    call_command("send_cycle_reminders", "--date", "2026-02-03", stdout=out)
    assert json.loads(out.getvalue())["overdue"] >= 1
    tasks = due_and_overdue(officer_a, date(2026, 2, 3))
    assert {d.kind for d in tasks.overdue} == {"commune_changes"}
    assert all(d.cycle.approving_unit_id == world.unit_a.pk for d in tasks.overdue)


def test_the_task_runs_the_same_work(world, officer_a):
    open_cycles(actor=None, month=MONTH)
    out = StringIO()
    call_command("send_cycle_reminders", "--enqueue", stdout=out)  # immediate backend in tests
    assert "enqueued" in json.loads(out.getvalue())
