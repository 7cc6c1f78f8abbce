"""Due dates of complaints, in working days after the day received: Saturdays, Sundays and the
Vietnamese public holidays of the `holidays` package are skipped (`payroll.calendar`'s rule,
the same helper). A complaint received on a day off starts counting on the next working day.

How many working days (settings, environment variables of the same names):

- feedback (phản ánh): `ANSINH_COMPLAINT_DAYS_FEEDBACK`, default 10 working days; no statute
  sets one for feedback on a payment, 10 working days is the service standard of the pilot plan.
- complaint (khiếu nại): `ANSINH_COMPLAINT_DAYS_COMPLAINT`, default 30 working days. Luật Khiếu
  nại 2011 (Law 02/2011/QH13): art. 27 gives 10 working days from receipt to accept (thụ lý) a
  first complaint, art. 28 then 30 days to settle it (45 for a complicated case; 45/60 in remote
  areas). 30 working days from receipt stays inside 10 working days + 30 days however art. 28's
  "ngày" is read, and warns before the legal limit rather than after it."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from ansinh.payroll.calendar import is_working_day

from .models import Kind

DEFAULT_DAYS: dict[str, int] = {Kind.FEEDBACK: 10, Kind.COMPLAINT: 30}


def days_for(kind: str) -> int:
    name = "ANSINH_COMPLAINT_DAYS_COMPLAINT" if kind == Kind.COMPLAINT else "ANSINH_COMPLAINT_DAYS_FEEDBACK"
    configured = getattr(settings, name, None)
    return int(configured) if configured else DEFAULT_DAYS[kind]


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after `day` (`day` itself for 0)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def due_date(received_on: date, kind: str) -> date:
    return add_working_days(received_on, days_for(kind))
