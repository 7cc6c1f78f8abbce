"""What the public lookup tells a beneficiary: the status of ONE month's allowance, nothing else.

The month: the current month once its payroll is approved; before that (the first days of a
month, while the communes' changes are gathered and the payroll is appraised), the previous month
if it was approved, with a note that this month's list is being prepared; else "being prepared".
Never an older month, never a category, a decision, an account number, a CCCD or a phone.

For each approved cycle of that month with lines of the person (normally one): the net amount
(regular + arrears − recovery, funeral support included), the channel and where the money is:
- a payout recorded: credited to the account on a date, or paid in cash on a date;
- a live cash-list entry (cashout): to be paid on the pay point's days at its address, or at home
  on the route's days; not received (owed next month when still entitled);
- a transfer instruction: being transferred, held for a check, or failed (the commune calls);
- nothing yet: approved, the transfer or the cash list is being prepared.
Cash lists are being built by another part of the system: every read of them is defensive (no
entry, no day, no place simply says less)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ansinh.payroll.models import Channel, CycleState, PayrollLine

APPROVED_STATES = (
    CycleState.APPROVED,
    CycleState.FUNDED,
    CycleState.SENT_TO_PROVIDER,
    CycleState.PAYING,
    CycleState.SETTLED,
    CycleState.CLOSED,
)


class State:
    CREDITED = "credited"
    PAID_CASH = "paid_cash"
    CASH_SCHEDULED = "cash_scheduled"
    HOME_SCHEDULED = "home_scheduled"
    NOT_RECEIVED = "not_received"
    TRANSFERRING = "transferring"
    CHECKING = "checking"
    TRANSFER_FAILED = "transfer_failed"
    APPROVED = "approved"


@dataclass
class PayDayText:
    day: dt.date
    opens: dt.time
    closes: dt.time


@dataclass
class Payment:
    amount: int
    channel: str  # the channel's label
    state: str
    date: dt.date | None = None
    place: str = ""
    address: str = ""
    days: list[PayDayText] = field(default_factory=list)
    owed: bool = False


@dataclass
class MonthStatus:
    month: dt.date  # the month shown
    current: dt.date  # this month
    payments: list[Payment]

    @property
    def is_current(self) -> bool:
        return self.month == self.current


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


@dataclass
class _Line:
    id: int
    cycle_id: int
    beneficiary_id: int
    line_type: str
    amount: int
    channel: str
    month: dt.date
    payout_channel: str | None
    payout_at: dt.datetime | None
    instruction_id_: int | None
    instruction_state: str | None
    instruction_at: dt.datetime | None
    has_cash_entry: bool


def _tables() -> dict[str, str]:
    from ansinh.cashout.models import CashEntry
    from ansinh.disbursement.models import Instruction, Payout
    from ansinh.payroll.models import PaymentCycle

    return {m.__name__: m._meta.db_table for m in (PayrollLine, PaymentCycle, Payout, Instruction, CashEntry)}


def _line_columns(t: dict[str, str]) -> str:
    """A line `l` of cycle `c`, with its payout (one per line at most), its latest transfer
    instruction and whether a live cash-list entry exists (13 columns, read by `_lines`)."""
    return (
        "l.id, l.cycle_id, l.beneficiary_id, l.line_type, l.amount, l.channel, c.month, "  # noqa: S608
        f"(SELECT p.channel FROM {t['Payout']} p WHERE p.line_id = l.id), "
        f"(SELECT p.paid_at FROM {t['Payout']} p WHERE p.line_id = l.id), "
        f"(SELECT i.id FROM {t['Instruction']} i WHERE i.line_id = l.id ORDER BY i.id DESC LIMIT 1), "
        f"(SELECT i.state FROM {t['Instruction']} i WHERE i.line_id = l.id ORDER BY i.id DESC LIMIT 1), "
        f"(SELECT i.status_at FROM {t['Instruction']} i WHERE i.line_id = l.id ORDER BY i.id DESC LIMIT 1), "
        f"EXISTS (SELECT 1 FROM {t['CashEntry']} e WHERE e.cycle_id = l.cycle_id "
        "AND e.beneficiary_id = l.beneficiary_id AND e.state <> 'cancelled')"
    )


@functools.cache
def _lines_sql() -> str:
    """The lines of one person in approved cycles of two months (`_line_columns`).
    Plain SQL: the hot path of the public page, where the ORM spent more compiling this than the
    database answering it (PostgreSQL and SQLite alike: scalar subqueries, no LATERAL)."""
    t = _tables()
    states = ", ".join(["%s"] * len(APPROVED_STATES))
    return (
        f"SELECT {_line_columns(t)} "  # noqa: S608
        f"FROM {t['PayrollLine']} l JOIN {t['PaymentCycle']} c ON c.id = l.cycle_id "
        f"WHERE l.beneficiary_id = %s AND c.month IN (%s, %s) AND c.state IN ({states}) "
        "ORDER BY c.month, l.cycle_id, l.id"
    )


@functools.cache
def person_lines_sql(person_sql: str) -> str:
    """The person that `person_sql` selects (its id and full name, at most one row) with their
    lines as in `_lines_sql`, in ONE statement: a row per line, or one row whose line columns are
    NULL when the person has no line in an approved cycle of the two months, or no row at all
    when `person_sql` finds nobody. Parameters: those of `person_sql`, then `lines_params`."""
    t = _tables()
    states = ", ".join(["%s"] * len(APPROVED_STATES))
    return (
        f"SELECT m.id, m.full_name, {_line_columns(t)} FROM ({person_sql}) m "  # noqa: S608
        f"LEFT JOIN ({t['PayrollLine']} l JOIN {t['PaymentCycle']} c ON c.id = l.cycle_id "
        f"AND c.month IN (%s, %s) AND c.state IN ({states})) ON l.beneficiary_id = m.id "
        "ORDER BY c.month, l.cycle_id, l.id"
    )


def lines_params(current: dt.date) -> list:
    """The parameters of the two months and the approved states (`_lines_sql`, `person_lines_sql`)."""
    ops = connection.ops
    months = [ops.adapt_datefield_value(current), ops.adapt_datefield_value(previous_month(current))]
    return months + [str(s) for s in APPROVED_STATES]


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _as_datetime(value) -> dt.datetime | None:
    """A timestamp as the backend returns it: aware (PostgreSQL) or a UTC text (SQLite)."""
    if value is None or isinstance(value, dt.datetime) and timezone.is_aware(value):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return timezone.make_aware(parsed, dt.UTC) if parsed is not None and timezone.is_naive(parsed) else parsed


def _lines(rows) -> list[_Line]:
    """Rows of `_line_columns` (rows of a person without lines, all NULL, are skipped)."""
    return [
        _Line(
            id=row[0],
            cycle_id=row[1],
            beneficiary_id=row[2],
            line_type=row[3],
            amount=row[4],
            channel=row[5],
            month=_as_date(row[6]),
            payout_channel=row[7],
            payout_at=_as_datetime(row[8]),
            instruction_id_=row[9],
            instruction_state=row[10],
            instruction_at=_as_datetime(row[11]),
            has_cash_entry=bool(row[12]),
        )
        for row in rows
        if row[0] is not None
    ]


def month_status(beneficiary_id: int, *, today: dt.date | None = None) -> MonthStatus:
    """One query in the usual case (`_lines_sql`); a cash-list entry is read only when there is one."""
    current = first_of_month(today or timezone.localdate())
    with connection.cursor() as cur:
        cur.execute(_lines_sql(), [beneficiary_id, *lines_params(current)])
        return status_of(cur.fetchall(), current)


def status_of(rows, current: dt.date) -> MonthStatus:
    """The month's status from rows of `_line_columns` (`current`: the first of this month)."""
    lines = _lines(rows)
    if not lines:
        return MonthStatus(month=current, current=current, payments=[])
    month = max(line.month for line in lines)
    by_cycle: dict[int, list[_Line]] = {}
    for line in lines:
        if line.month == month:
            by_cycle.setdefault(line.cycle_id, []).append(line)
    return MonthStatus(month=month, current=current, payments=[_payment(group) for group in by_cycle.values()])


def _payment(lines: list[_Line]) -> Payment:
    from ansinh.disbursement.models import InstructionState, PayoutChannel

    main = next((ln for ln in lines if ln.line_type == "regular"), lines[0])
    amount = sum(ln.amount for ln in lines)
    payment = Payment(amount=amount, channel=str(Channel(main.channel).label), state=State.APPROVED)
    paid = [ln for ln in lines if ln.payout_at is not None]
    if paid:
        last = max(paid, key=lambda ln: ln.payout_at or dt.datetime.min.replace(tzinfo=dt.UTC))
        cash = last.payout_channel == PayoutChannel.CASH
        payment.state = State.PAID_CASH if cash else State.CREDITED
        payment.channel = str(Channel.PAY_POINT.label if cash and main.channel == Channel.ACCOUNT else payment.channel)
        payment.date = timezone.localdate(last.payout_at) if last.payout_at else None
        return payment
    if any(ln.has_cash_entry for ln in lines) and _cash_entry(lines[0].cycle_id, lines[0].beneficiary_id, payment):
        return payment
    sent = [ln for ln in lines if ln.instruction_id_ is not None]
    if main.channel == Channel.ACCOUNT and sent:
        latest = max(sent, key=lambda ln: ln.instruction_id_ or 0)
        state = latest.instruction_state
        if state == InstructionState.CREDITED:
            payment.state = State.CREDITED
            payment.date = timezone.localdate(latest.instruction_at) if latest.instruction_at else None
        elif state == InstructionState.HELD:
            payment.state = State.CHECKING
        elif state in (InstructionState.REJECTED, InstructionState.CANCELLED):
            payment.state = State.TRANSFER_FAILED
        else:
            payment.state = State.TRANSFERRING
    return payment


def _cash_entry(cycle_id: int, beneficiary_id: int, payment: Payment) -> bool:
    """Fill `payment` from the person's live entry on a cash list of the cycle, if there is one.
    Read defensively: the cash lists are young and may lack a place or days."""
    from ansinh.cashout.models import CashEntry, CashListKind, EntryState, PayDay

    entry = (
        CashEntry.objects.filter(cycle_id=cycle_id, beneficiary_id=beneficiary_id)
        .exclude(state=EntryState.CANCELLED)
        .select_related("cash_list__pay_point", "cash_list__route", "cycle")
        .order_by("funeral", "-id")
        .first()
    )
    if entry is None:
        return False
    cash_list = entry.cash_list
    home = cash_list.kind == CashListKind.HOME
    payment.channel = str(Channel.HOME.label if home else Channel.PAY_POINT.label)
    if entry.state == EntryState.PAID:
        payment.state = State.PAID_CASH
        receipt = entry.receipts.filter(outcome="paid", result="recorded").order_by("-occurred_at").first()
        payment.date = timezone.localdate(receipt.occurred_at) if receipt else None
        return True
    if entry.state in (EntryState.NOT_PAID, EntryState.RETURNED):
        payment.state = State.NOT_RECEIVED
        payment.owed = entry.owed
        return True
    days = PayDay.objects.filter(month=entry.cycle.month)
    if home:
        payment.state = State.HOME_SCHEDULED
        days = days.filter(route_id=cash_list.route_id)
    else:
        payment.state = State.CASH_SCHEDULED
        point = cash_list.pay_point
        if point is not None:
            payment.place, payment.address = point.name, point.address
        days = days.filter(pay_point_id=cash_list.pay_point_id)
    payment.days = [PayDayText(d.day, d.opens, d.closes) for d in days.order_by("day", "opens")[:5]]
    return True


def masked_name(full_name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V. A.': the family name, then the initials of the others."""
    words = full_name.split()
    if not words:
        return ""
    if len(words) == 1:
        return f"{words[0][:1]}."
    return " ".join([words[0], *(f"{w[:1]}." for w in words[1:])])


def state_text(payment: Payment) -> str:
    """One sentence saying where the money is (Vietnamese through the catalogue)."""
    texts = {
        State.CREDITED: _("Credited to the account."),
        State.PAID_CASH: _("Paid in cash."),
        State.CASH_SCHEDULED: _("To be paid in cash at the pay point."),
        State.HOME_SCHEDULED: _("To be paid in cash at home."),
        State.NOT_RECEIVED: _("Not received on the paying days."),
        State.TRANSFERRING: _("Being transferred to the account."),
        State.CHECKING: _("Being checked by the commune before it is paid."),
        State.TRANSFER_FAILED: _("The transfer did not go through. The commune will contact you."),
        State.APPROVED: _("Approved. The payment is being prepared."),
    }
    return texts[payment.state]
