"""Working days and due dates. Public holidays come from the `holidays` package
(`holidays.country_holidays("VN")`: New Year, Tết, Hùng Kings, 30/4, 1/5, National Day and the
days the government moves), never from a hand-made list; Saturdays and Sundays are not working
days. Working Saturdays that the government sometimes swaps in are not known to the package and
are treated as days off (a deadline never lands on one)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from .models import DEFAULT_DAYS, DeadlineKind, NonWorkingRule, PaymentCalendar


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def shift_to_working_day(day: date, rule: str) -> date:
    """`day` if it is a working day, else the previous (rule `previous`) or next working day."""
    step = timedelta(days=-1 if rule == NonWorkingRule.PREVIOUS else 1)
    while not is_working_day(day):
        day += step
    return day


def working_days_before(day: date, count: int) -> date:
    """The working day `count` working days before `day` (`day` itself for 0)."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def calendar_for(province) -> PaymentCalendar:
    """The province's calendar, or an unsaved one with the plan's defaults."""
    found = PaymentCalendar.objects.filter(province=province).first() if province is not None else None
    return found or PaymentCalendar(province=province, **{f"{k}_day": v for k, v in DEFAULT_DAYS.items()})


def due_date(calendar: PaymentCalendar, month: date, kind: str) -> date:
    """The due date of a deadline of the cycle of `month`: the calendar's day of that month,
    moved off weekends and public holidays by the calendar's rule."""
    return shift_to_working_day(month.replace(day=calendar.day_of(kind)), calendar.non_working_rule)


def due_dates(calendar: PaymentCalendar, month: date) -> dict[str, date]:
    return {kind: due_date(calendar, month, kind) for kind in DeadlineKind.values}
