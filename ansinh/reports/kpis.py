"""The figures of the monitoring dashboard (issue 13, part 5): for an area (a province, an
office's district, a commune) or for all the user's areas, the month's

- share of beneficiaries receiving who hold an account against the target
  (`payments.coverage.coverage_target`);
- share of those account holders paid through their account (against 100%);
- deadlines met on time (the cycle's deadlines; the communes' change lists);
- open exceptions (transfer exceptions, reconciliation exceptions when that model exists) and
  open complaints;
- money advanced, paid (by transfer, in cash) and returned;

per unit under the area (the communes of a province on the current tree, the districts of a
province on the legacy tree, the communes of a district), with the twelve months up to the
month as trends.

Definitions (docs/monitoring.md; shared with the statutory reports):
- receiving in month M: `start_month <= M` and (`end_month` empty or `>= M`);
- holds an account in month M: an ACTIVE receiving account opened on or before the end of M
  (its first opening counts);
- paid through an account in month M: a disbursement Payout with channel ACCOUNT for a payroll
  line (regular, arrears, recovery: funeral support is not an allowance) of a cycle of month M,
  counted once per beneficiary.

Set-based whatever the size: a fixed number of grouped queries per page (one over the
beneficiaries grouped by commune and by the clamped months of start, end and first account;
one over the payouts; one each over change lists, deadlines, exceptions, complaints, advances
and returns). Nothing is read row by row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.apps import apps
from django.db.models import Count, DateField, Exists, F, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth
from django.utils import timezone

from ansinh.areas.models import Area, Level, Tree
from ansinh.payments.coverage import coverage_target
from ansinh.registry.rules import add_months

MONTHS = 12  # the months of the trends, ending with the month shown
ALLOWANCE_LINES = ("regular", "arrears", "recovery")  # payroll LineType values counted as allowances
FAR = date(9999, 12, 1)  # "never" for a month that has not come (no end, no account)


# --- small helpers ------------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def window(month: date, months: int = MONTHS) -> list[date]:
    """The `months` months ending with `month`, oldest first."""
    return [add_months(month, -i) for i in range(months - 1, -1, -1)]


def share(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent with two decimals (16,52); None when there is no one."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_number(value: int | Decimal | None, decimals: int = 0) -> str:
    """Vietnamese style: 1.598; 16,52; '–' for nothing."""
    if value is None:
        return "–"
    q = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, _dot, frac = f"{abs(q):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sign + ".".join(groups)
    return f"{text},{frac}" if decimals else text


def format_share(value: Decimal | None) -> str:
    return "–" if value is None else f"{format_number(value, 2)} %"


def _paths_q(paths: list[str] | None, field_name: str) -> Q:
    """`field_name` under one of `paths` (None: everywhere)."""
    if paths is None:
        return Q()
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field_name}__startswith": p}) for p in paths))


def _ancestor_paths(paths: list[str] | None) -> list[str]:
    """Every path above (or at) `paths`: the areas whose cycles cover them."""
    out: set[str] = set()
    for path in paths or ():
        parts = [p for p in path.strip("/").split("/") if p]
        for i in range(1, len(parts) + 1):
            out.add("/" + "/".join(parts[:i]) + "/")
    return sorted(out)


# --- the figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    """One unit's (or a total's) figures for one month."""

    receiving: int = 0  # beneficiaries receiving in the month
    with_account: int = 0  # … holding an active account opened by the end of the month
    paid_cashless: int = 0  # beneficiaries paid through an account in the month
    paid_cashless_amount: int = 0  # đồng paid through accounts in the month
    change_lists: int = 0  # the communes' change lists of the month's cycles
    change_lists_overdue: int = 0  # … submitted late or missing
    change_lists_on_time: int = 0  # … submitted on time
    transfer_exceptions: int = 0  # open transfer exceptions (to resolve, fix awaiting approval)
    reconciliation_exceptions: int = 0  # open reconciliation exceptions (when that model exists)
    complaints_open: int = 0  # complaints not yet closed
    complaints_overdue: int = 0  # … past their due date

    def __iadd__(self, other: Figures) -> Figures:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def without_account(self) -> int:
        return max(0, self.receiving - self.with_account)

    @property
    def not_paid_cashless(self) -> int:
        return max(0, self.with_account - self.paid_cashless)

    @property
    def account_share(self) -> Decimal | None:
        return share(self.with_account, self.receiving)

    @property
    def cashless_share(self) -> Decimal | None:
        return share(self.paid_cashless, self.with_account)

    @property
    def on_time_share(self) -> Decimal | None:
        return share(self.change_lists_on_time, self.change_lists)

    @property
    def open_exceptions(self) -> int:
        return self.transfer_exceptions + self.reconciliation_exceptions

    def as_dict(self, target: Decimal) -> dict:
        def num(d):
            return None if d is None else float(d)

        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out |= {
            "without_account": self.without_account,
            "not_paid_cashless": self.not_paid_cashless,
            "account_share": num(self.account_share),
            "meets_target": None if self.account_share is None else self.account_share >= target,
            "cashless_share": num(self.cashless_share),
            "on_time_share": num(self.on_time_share),
            "open_exceptions": self.open_exceptions,
        }
        return out


@dataclass
class Unit:
    """A row: an area under the one shown, with its figures."""

    area: Area
    figures: Figures = field(default_factory=Figures)

    @property
    def name(self) -> str:
        return self.area.full_name


@dataclass
class DeadlineRate:
    kind: str
    label: str
    due: int = 0  # deadlines past their date or done
    on_time: int = 0
    late: int = 0  # done after the date, or not done and past it
    pending: int = 0  # not done, date not yet come

    @property
    def rate(self) -> Decimal | None:
        return share(self.on_time, self.due)


@dataclass
class Money:
    """One month's money (đồng)."""

    month: date
    advanced: int | None = None  # received from the treasury (None: no cycle of an office in the area)
    payroll: int = 0  # the allowance lines of the month's payrolls in the area
    paid_account: int = 0
    paid_cash: int = 0
    returned: int = 0  # cash not paid and returned
    source: str = "records"  # "ledger" when ansinh.reconciliation.ledger gave the advance

    @property
    def paid(self) -> int:
        return self.paid_account + self.paid_cash


@dataclass
class Trend:
    month: date
    receiving: int = 0
    with_account: int = 0
    paid_cashless: int = 0
    change_lists: int = 0
    change_lists_on_time: int = 0

    @property
    def account_share(self) -> Decimal | None:
        return share(self.with_account, self.receiving)

    @property
    def cashless_share(self) -> Decimal | None:
        return share(self.paid_cashless, self.with_account)

    @property
    def on_time_share(self) -> Decimal | None:
        return share(self.change_lists_on_time, self.change_lists)


@dataclass
class Dashboard:
    area: Area | None  # None: all the user's areas
    month: date
    target: Decimal
    units: list[Unit]
    total: Figures
    deadlines: list[DeadlineRate]
    money: list[Money]  # the window, oldest first
    trends: list[Trend]
    has_reconciliation_exceptions: bool
    unit_level: str = ""  # the level of the rows

    @property
    def months(self) -> list[date]:
        return [t.month for t in self.trends]

    @property
    def money_now(self) -> Money:
        return self.money[-1]

    def as_dict(self) -> dict:
        return {
            "area": None
            if self.area is None
            else {"id": self.area.pk, "name": self.area.full_name, "level": self.area.level},
            "month": self.month.strftime("%Y-%m"),
            "target_percent": float(self.target),
            "total": self.total.as_dict(self.target),
            "units": [
                {
                    "area_id": u.area.pk,
                    "name": u.area.full_name,
                    "level": u.area.level,
                    **u.figures.as_dict(self.target),
                }
                for u in self.units
            ],
            "deadlines": [
                {
                    "kind": d.kind,
                    "label": d.label,
                    "due": d.due,
                    "on_time": d.on_time,
                    "late": d.late,
                    "pending": d.pending,
                    "rate": None if d.rate is None else float(d.rate),
                }
                for d in self.deadlines
            ],
            "money": [
                {
                    "month": m.month.strftime("%Y-%m"),
                    "advanced": m.advanced,
                    "payroll": m.payroll,
                    "paid_account": m.paid_account,
                    "paid_cash": m.paid_cash,
                    "paid": m.paid,
                    "returned": m.returned,
                    "source": m.source,
                }
                for m in self.money
            ],
            "trends": [
                {
                    "month": t.month.strftime("%Y-%m"),
                    "receiving": t.receiving,
                    "with_account": t.with_account,
                    "paid_cashless": t.paid_cashless,
                    "account_share": None if t.account_share is None else float(t.account_share),
                    "cashless_share": None if t.cashless_share is None else float(t.cashless_share),
                    "on_time_share": None if t.on_time_share is None else float(t.on_time_share),
                }
                for t in self.trends
            ],
        }


# --- the queries -------------------------------------------------------------------------------


def _first_account_month():
    from ansinh.payments.models import AccountStatus, ReceivingAccount

    first = (
        ReceivingAccount.objects.filter(
            beneficiary=OuterRef("pk"), status=AccountStatus.ACTIVE, opened_on__isnull=False
        )
        .order_by()
        .values("beneficiary")
        .annotate(first=Min("opened_on"))
        .values("first")
    )
    return TruncMonth(Subquery(first, output_field=DateField()), output_field=DateField())


def _clamp(expr, low: date, high: date):
    return Greatest(Least(expr, Value(high, output_field=DateField())), Value(low, output_field=DateField()))


def beneficiary_groups(scope: Q, months: list[date]) -> list[tuple[int, date, date, date, bool, int]]:
    """(commune id, start, end, first account month, paid through an account in the last month,
    people): the beneficiaries in `scope` grouped by commune and by their months clamped to the
    window (one query). From it the receiving and the account holders of every month of the
    window, and the holders paid through their account in the last month, are counted."""
    from ansinh.registry.models import Beneficiary

    before, after = add_months(months[0], -1), add_months(months[-1], 1)
    rows = (
        Beneficiary.objects.filter(scope)
        .filter(start_month__lte=months[-1])
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=months[0]))
        .annotate(
            s=_clamp(F("start_month"), before, after),
            e=_clamp(Coalesce(F("end_month"), Value(FAR, output_field=DateField())), before, after),
            f=_clamp(Coalesce(_first_account_month(), Value(FAR, output_field=DateField())), before, after),
            p=paid_through_account(months[-1]),
        )
        .order_by()
        .values("commune_id", "s", "e", "f", "p")
        .annotate(n=Count("id"))
    )
    return [(r["commune_id"], _as_date(r["s"]), _as_date(r["e"]), _as_date(r["f"]), bool(r["p"]), r["n"]) for r in rows]


def paid_through_account(month: date) -> Exists:
    """The beneficiary of the outer query was paid through an account in `month` (a payout
    with channel ACCOUNT for an allowance line of a cycle of that month)."""
    from ansinh.disbursement.models import Payout, PayoutChannel

    return Exists(
        Payout.objects.filter(
            line__beneficiary=OuterRef("pk"),
            channel=PayoutChannel.ACCOUNT,
            line__cycle__month=month,
            line__line_type__in=ALLOWANCE_LINES,
        )
    )


def _as_date(value) -> date:
    """SQLite may hand computed dates back as text or datetimes."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def payout_groups(line_scope: Q, months: list[date]) -> list[dict]:
    """Payouts of the window's allowance lines by commune, month and channel: distinct
    beneficiaries and amount (one query over the payouts alone: they carry their line's month,
    person, commune and line type)."""
    from ansinh.disbursement.models import Payout

    return list(
        Payout.objects.filter(line_scope)
        .filter(month__gte=months[0], month__lte=months[-1])
        .filter(line_type__in=ALLOWANCE_LINES)
        .order_by()
        .values("commune_id", "month", "channel")
        .annotate(people=Count("beneficiary_id", distinct=True), amount=Sum("amount"))
    )


def facts_cover(paths: list[str] | None) -> bool:
    """The aggregate tables (ansinh.reports.facts, kept per commune) answer for `paths` when each
    is a commune or an area above one: a village's figures are counted from the people."""
    if paths is None:
        return True
    if not paths:
        return False
    levels = list(Area.objects.filter(path__in=paths).values_list("level", flat=True))
    return len(levels) == len(set(paths)) and Level.VILLAGE not in levels


def fact_beneficiary_groups(
    paths: list[str] | None, months: list[date]
) -> list[tuple[int, date, date, date, bool, int]]:
    """`beneficiary_groups` from the communes' groups of people (CommuneGroupFact), without the
    "paid in the last month" flag (the month's facts give the holders paid)."""
    from .models import CommuneGroupFact

    before, after = add_months(months[0], -1), add_months(months[-1], 1)
    rows = (
        CommuneGroupFact.objects.filter(_paths_q(paths, "commune__path"))
        .filter(start_month__lte=months[-1], end_month__gte=months[0])
        .annotate(
            s=_clamp(F("start_month"), before, after),
            e=_clamp(F("end_month"), before, after),
            f=_clamp(F("first_account_month"), before, after),
        )
        .order_by()
        .values("commune_id", "s", "e", "f")
        .annotate(n=Sum("people"))
    )
    return [(r["commune_id"], _as_date(r["s"]), _as_date(r["e"]), _as_date(r["f"]), False, r["n"]) for r in rows]


def fact_months(paths: list[str] | None, months: list[date]) -> list[dict]:
    """The communes' facts of the window's months (CommuneMonthFact)."""
    from .models import CommuneMonthFact

    return [
        dict(row)
        for row in CommuneMonthFact.objects.filter(_paths_q(paths, "commune__path"))
        .filter(month__gte=months[0], month__lte=months[-1])
        .order_by()
        .values(
            "commune_id",
            "month",
            "account_people",
            "account_amount",
            "cash_people",
            "cash_amount",
            "holders_paid",
            "payroll_amount",
        )
    ]


def reconciliation_exception_model():
    """Reconciliation exceptions (issue 13, part 2: `reconciliation.ReconException`), None if
    that model is not there."""
    try:
        return apps.get_model("reconciliation", "ReconException")
    except LookupError:
        return None


def _open_reconciliation_q(model) -> Q:
    """Open reconciliation exceptions: to resolve, or a resolution awaiting approval."""
    return Q(state__in=("open", "in_hand"))


def _ledger_advances(cycle_ids: list[int]) -> dict[int, int] | None:
    """The cycles' advances as their ledgers hold them (`ansinh.reconciliation.ledger.advances`),
    None when that module is not there."""
    try:
        from ansinh.reconciliation import ledger
    except ImportError:
        return None
    advances = getattr(ledger, "advances", None)
    return advances(cycle_ids) if callable(advances) else None


def dashboard(
    *,
    paths: list[str] | None,
    area: Area | None,
    units: list[Area],
    month: date,
    today: date | None = None,
    use_facts: bool | None = None,
) -> Dashboard:
    """The figures of the areas at `paths` (None: everywhere), with one row per area of `units`
    (areas under those paths; each commune counts in the unit whose path it lies under).

    The people and payouts are read from the aggregate tables (ansinh.reports.facts, refreshed
    first) when they cover the paths (`facts_cover`: communes and areas above them), from the
    source tables otherwise (`use_facts=False` forces that: the tests compare the two)."""
    from ansinh.cashout.models import CashEntry, EntryState
    from ansinh.complaints.models import OPEN as COMPLAINT_OPEN
    from ansinh.complaints.models import Complaint
    from ansinh.disbursement.models import ExceptionState, PayoutChannel, TransferException
    from ansinh.payroll.models import Advance, ChangeList, ChangeListState, CycleDeadline, DeadlineKind, PaymentCycle

    today = today or timezone.localdate()
    month = month_of(month)
    months = window(month)
    target = coverage_target()

    per_commune: dict[int, Figures] = defaultdict(Figures)
    trends = {m: Trend(month=m) for m in months}

    if use_facts is None:
        use_facts = facts_cover(paths)
    if use_facts:
        from . import facts

        # another refresh running (a month's import being computed): counted from the sources
        use_facts = facts.refresh(wait=False) is not None
    if use_facts:
        groups = fact_beneficiary_groups(paths, months)
        month_facts = fact_months(paths, months)
    else:
        groups = beneficiary_groups(_paths_q(paths, "area_path"), months)
        month_facts = []

    # 1. the beneficiaries: receiving and holding an account, every month of the window
    for commune_id, s, e, f, p, n in groups:
        for m in months:
            if s <= m <= e:
                trends[m].receiving += n
                if f <= m:
                    trends[m].with_account += n
        if s <= month <= e:
            per_commune[commune_id].receiving += n
            if f <= month:
                per_commune[commune_id].with_account += n
                if p:
                    per_commune[commune_id].paid_cashless += n
                    trends[month].paid_cashless += n

    money = {m: Money(month=m) for m in months}
    if use_facts:
        # the account holders paid through an account in the month, and the payrolls' amounts
        for row in month_facts:
            m = _as_date(row["month"])
            if m == month and row["holders_paid"]:
                per_commune[row["commune_id"]].paid_cashless += row["holders_paid"]
                trends[month].paid_cashless += row["holders_paid"]
            money[m].payroll += row["payroll_amount"] or 0
        payouts = [
            {"commune_id": r["commune_id"], "month": r["month"], "channel": channel, "people": people, "amount": amount}
            for r in month_facts
            for channel, people, amount in (
                (PayoutChannel.ACCOUNT, r["account_people"], r["account_amount"]),
                (PayoutChannel.CASH, r["cash_people"], r["cash_amount"]),
            )
            if people or amount
        ]
    else:
        payouts = payout_groups(_paths_q(paths, "area_path"), months)

    # 2. the payouts: paid through an account, paid in cash
    for row in payouts:
        m = _as_date(row["month"])
        if row["channel"] == PayoutChannel.ACCOUNT:
            if m != month:  # the month itself: the holders paid (step 1), as its lists count them
                trends[m].paid_cashless += row["people"]
            money[m].paid_account += row["amount"] or 0
            if m == month:
                per_commune[row["commune_id"]].paid_cashless_amount += row["amount"] or 0
        else:
            money[m].paid_cash += row["amount"] or 0

    # 3. the communes' change lists (submitted on time, late or missing)
    lists = (
        ChangeList.objects.filter(_paths_q(paths, "area_path"))
        .filter(cycle__month__gte=months[0], cycle__month__lte=months[-1])
        .order_by()
        .values("commune_id", "cycle__month")
        .annotate(
            n_total=Count("id", filter=Q(overdue=True) | ~Q(state=ChangeListState.DRAFT)),
            n_overdue=Count("id", filter=Q(overdue=True)),
            n_on_time=Count("id", filter=Q(overdue=False) & ~Q(state=ChangeListState.DRAFT)),
        )
    )
    for row in lists:
        m = row["cycle__month"]
        trends[m].change_lists += row["n_total"]
        trends[m].change_lists_on_time += row["n_on_time"]
        if m == month:
            cf = per_commune[row["commune_id"]]
            cf.change_lists += row["n_total"]
            cf.change_lists_overdue += row["n_overdue"]
            cf.change_lists_on_time += row["n_on_time"]

    # 4. the cycles' deadlines (the cycles of the offices in or above the areas), the month's
    cycle_q = _paths_q(paths, "area_path")
    if paths is not None:
        cycle_q |= Q(area_path__in=_ancestor_paths(paths))
    day_done = Q(done_at__isnull=False)
    deadline_rows = {
        r["kind"]: r
        for r in CycleDeadline.objects.filter(cycle_q, cycle__month=month)
        .order_by()
        .values("kind")
        .annotate(
            on_time=Count("id", filter=day_done & Q(done_at__date__lte=F("due_date"))),
            late_done=Count("id", filter=day_done & Q(done_at__date__gt=F("due_date"))),
            missed=Count("id", filter=Q(done_at__isnull=True, due_date__lt=today)),
            pending=Count("id", filter=Q(done_at__isnull=True, due_date__gte=today)),
        )
    }
    deadlines = []
    for kind, label in DeadlineKind.choices:
        r = deadline_rows.get(kind, {})
        late = r.get("late_done", 0) + r.get("missed", 0)
        deadlines.append(
            DeadlineRate(
                kind=kind,
                label=str(label),
                due=r.get("on_time", 0) + late,
                on_time=r.get("on_time", 0),
                late=late,
                pending=r.get("pending", 0),
            )
        )

    # 5. open exceptions and complaints, now
    for row in (
        TransferException.objects.filter(_paths_q(paths, "area_path"))
        .filter(state__in=(ExceptionState.OPEN, ExceptionState.IN_HAND))
        .order_by()
        .values("commune_id")
        .annotate(n=Count("id"))
    ):
        per_commune[row["commune_id"]].transfer_exceptions += row["n"]
    model = reconciliation_exception_model()
    if model is not None:
        for row in (
            model.objects.filter(_paths_q(paths, "area_path"))
            .filter(_open_reconciliation_q(model))
            .order_by()
            .values("commune_id")
            .annotate(n=Count("id"))
        ):
            per_commune[row["commune_id"]].reconciliation_exceptions += row["n"]
    for row in (
        Complaint.objects.filter(_paths_q(paths, "area_path"))
        .filter(state__in=COMPLAINT_OPEN)
        .order_by()
        .values("commune_id")
        .annotate(n=Count("id"), n_overdue=Count("id", filter=Q(due_on__lt=today)))
    ):
        per_commune[row["commune_id"]].complaints_open += row["n"]
        per_commune[row["commune_id"]].complaints_overdue += row["n_overdue"]

    # 6. money: the payrolls, the advances (cycles of offices inside the areas), the returns
    from ansinh.payroll.models import PayrollLine

    if not use_facts:
        for row in (
            PayrollLine.objects.filter(_paths_q(paths, "area_path"))
            .filter(cycle__month__gte=months[0], cycle__month__lte=months[-1], line_type__in=ALLOWANCE_LINES)
            .order_by()
            .values("cycle__month")
            .annotate(amount=Sum("amount"))
        ):
            money[row["cycle__month"]].payroll += row["amount"] or 0
    inside = PaymentCycle.objects.filter(_paths_q(paths, "area_path"), month__gte=months[0], month__lte=months[-1])
    cycles = dict(inside.order_by().values_list("pk", "month"))
    if cycles:
        for m in set(cycles.values()):
            money[m].advanced = 0
        advances = _ledger_advances(list(cycles))
        if advances is not None:
            for cycle_id, advance in advances.items():
                money[cycles[cycle_id]].advanced = (money[cycles[cycle_id]].advanced or 0) + advance
                money[cycles[cycle_id]].source = "ledger"
        else:
            for row in (
                Advance.objects.filter(cycle_id__in=list(cycles))
                .order_by()
                .values("cycle__month")
                .annotate(amount=Sum("amount"))
            ):
                money[row["cycle__month"]].advanced = (money[row["cycle__month"]].advanced or 0) + (row["amount"] or 0)
    for row in (
        CashEntry.objects.filter(_paths_q(paths, "area_path"))
        .filter(state=EntryState.RETURNED, cycle__month__gte=months[0], cycle__month__lte=months[-1])
        .order_by()
        .values("cycle__month")
        .annotate(amount=Sum("amount"))
    ):
        money[row["cycle__month"]].returned += row["amount"] or 0

    # the rows: each commune's figures into the unit above it
    unit_rows = [Unit(area=u) for u in units]
    total = Figures()
    if per_commune:
        commune_paths = dict(Area.objects.filter(pk__in=list(per_commune)).values_list("pk", "path"))
        for commune_id, figures in per_commune.items():
            total += figures
            path = commune_paths.get(commune_id, "")
            for unit in unit_rows:
                if path.startswith(unit.area.path):
                    unit.figures += figures
                    break
    return Dashboard(
        area=area,
        month=month,
        target=target,
        units=unit_rows,
        total=total,
        deadlines=deadlines,
        money=[money[m] for m in months],
        trends=[trends[m] for m in months],
        has_reconciliation_exceptions=model is not None,
        unit_level=units[0].level if units else "",
    )


def child_units(area: Area) -> list[Area]:
    """The rows under `area`: its districts or communes (its villages are not rows: a commune's
    page goes to the lists of people)."""
    if area.level in (Level.COMMUNE, Level.VILLAGE):
        return []
    return sorted(Area.objects.filter(parent=area).exclude(level=Level.VILLAGE), key=lambda a: (a.name_key, a.pk))


def top_units(user, cap: str) -> list[Area]:
    """The user's own areas (the rows of the page of all their areas); for a user who sees
    everywhere, the provinces of the current tree."""
    from ansinh.accounts import access

    if access.everywhere(user, cap):
        return list(Area.objects.filter(parent__isnull=True, tree=Tree.CURRENT).order_by("name_key"))
    return access.top_areas(user, cap)


# --- the people behind a figure --------------------------------------------------------------------

PEOPLE_KINDS = ("without_account", "not_paid_cashless", "paid_cashless")


def people(qs, kind: str, month: date):
    """The beneficiaries of `qs` behind a figure of `month`:
    - without_account: receiving, no active account opened by the end of the month;
    - not_paid_cashless: receiving, holding an account, not paid through it this month;
    - paid_cashless: receiving, holding an account and paid through an account this month.
    Each matches its figure of the dashboard exactly."""
    from ansinh.payments.models import AccountStatus, ReceivingAccount

    month = month_of(month)
    month_end = add_months(month, 1)
    holds = Exists(
        ReceivingAccount.objects.filter(
            beneficiary=OuterRef("pk"), status=AccountStatus.ACTIVE, opened_on__lt=month_end
        )
    )
    paid = paid_through_account(month)
    receiving = Q(start_month__lte=month) & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    if kind == "without_account":
        return qs.filter(receiving).filter(~holds)
    if kind == "not_paid_cashless":
        return qs.filter(receiving).filter(holds).filter(~paid)
    if kind == "paid_cashless":
        return qs.filter(receiving).filter(holds).filter(paid)
    raise ValueError(kind)
