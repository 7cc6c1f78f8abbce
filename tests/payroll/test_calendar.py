"""Due dates from the province's calendar: weekends and Vietnamese public holidays (the
`holidays` package) move them to the previous or next working day, as configured."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from ansinh.payroll import services
from ansinh.payroll.calendar import (
    calendar_for,
    due_dates,
    is_working_day,
    shift_to_working_day,
    working_days_before,
)
from ansinh.payroll.models import CycleDeadline, DeadlineKind, NonWorkingRule, PaymentCalendar

from .conftest import MONTH


def test_tet_2026_is_not_a_working_day():
    for day in range(16, 21):
        assert not is_working_day(date(2026, 2, day))
    assert is_working_day(date(2026, 2, 13)) and is_working_day(date(2026, 2, 23))


@pytest.mark.parametrize(
    "rule, expected",
    [
        (
            NonWorkingRule.PREVIOUS,
            {
                "commune_changes": date(2026, 2, 2),  # Monday
                "payroll_funding": date(2026, 2, 4),
                "transfers": date(2026, 2, 6),  # Sunday 8 → Friday 6
                "provider_settlement": date(2026, 2, 13),  # Friday 20 is Tết → Friday 13
                "office_settlement": date(2026, 2, 25),
            },
        ),
        (
            NonWorkingRule.NEXT,
            {
                "commune_changes": date(2026, 2, 2),
                "payroll_funding": date(2026, 2, 4),
                "transfers": date(2026, 2, 9),
                "provider_settlement": date(2026, 2, 23),
                "office_settlement": date(2026, 2, 25),
            },
        ),
    ],
)
def test_deadlines_of_february_2026(rule, expected):
    calendar = calendar_for(None)
    calendar.non_working_rule = rule
    assert due_dates(calendar, MONTH) == expected


def test_national_day_2026_moves_day_two_to_the_previous_working_day():
    # 31/8 (substituted day off), 1/9 and 2/9 (National Day): day 2 → Friday 28 August
    assert shift_to_working_day(date(2026, 9, 2), NonWorkingRule.PREVIOUS) == date(2026, 8, 28)
    assert shift_to_working_day(date(2026, 9, 2), NonWorkingRule.NEXT) == date(2026, 9, 3)


def test_working_days_before_skips_weekends_and_holidays():
    assert working_days_before(date(2026, 2, 23), 1) == date(2026, 2, 13)
    assert working_days_before(date(2026, 2, 4), 0) == date(2026, 2, 4)
    assert working_days_before(date(2026, 2, 2), 1) == date(2026, 1, 30)


def test_a_province_calendar_moves_the_open_deadlines_of_its_cycles(world, tree):
    services.open_cycles(actor=None, month=MONTH)
    data = services.CalendarInput(
        days=dict(zip(DeadlineKind.values, [3, 5, 10, 18, 24], strict=True)),
        non_working_rule=NonWorkingRule.NEXT,
        remind_days_before=2,
    )
    result = services.update_calendar(actor=None, province=tree.province, data=data, today=date(2026, 1, 15))
    assert result["deadlines_moved"] > 0
    assert PaymentCalendar.objects.get(province=tree.province).remind_days_before == 2
    due = CycleDeadline.objects.filter(kind=DeadlineKind.PROVIDER_SETTLEMENT).values_list("due_date", flat=True)
    assert set(due) == {date(2026, 2, 18) if is_working_day(date(2026, 2, 18)) else date(2026, 2, 23)}


def test_a_calendar_refuses_days_not_in_every_month(world, tree):
    data = services.CalendarInput(days=dict.fromkeys(DeadlineKind.values, 30))
    with pytest.raises(ValidationError):
        services.update_calendar(actor=None, province=tree.province, data=data)
    with pytest.raises(ValidationError):
        services.update_calendar(
            actor=None, province=tree.a, data=services.CalendarInput(days=dict.fromkeys(DeadlineKind.values, 5))
        )
