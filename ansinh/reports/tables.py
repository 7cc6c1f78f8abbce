"""What the three statutory tables (Biểu 01/02/03) share: the table model every output (JSON,
XLSX, printable HTML) is written from, the rows (one per child unit of the chosen area in the
chosen tree), the period, and the grouped queries that count per unit.

Placement: a beneficiary is put in a row by a CASE over integer lists of the communes under
each row unit (`unit_case`), so that every count is one grouped query whatever the number of
beneficiaries, and a beneficiary is counted once per row even when two of the row's communes
paid them.

- Registered place (Biểu 01, Biểu 02 column 1): in the current tree the beneficiary's commune;
  in the pre-2025 tree their pre-2025 commune, COALESCE(legacy_commune, commune) as
  `payroll.scope` says (the area filter itself uses the indexed paths).
- Place paid (Biểu 02/03): the payroll line's commune (a pre-2025 cycle's lines carry the
  pre-2025 commune: the 2023 pilot cycles are found by a legacy district's report). A line
  whose commune belongs to the other tree is placed by its beneficiary's registered place in
  the report's tree (a 2023 line in a current-tree report: where the person is now)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ansinh.areas.models import Area, Level, Tree
from ansinh.payroll.models import CycleState, LineType, PaymentCycle, PayrollLine
from ansinh.registry.rules import add_months

from . import numbers

BIEUS = ("bieu01", "bieu02", "bieu03")
MAX_MONTHS = 36
DONE_STATES = (CycleState.SETTLED, CycleState.CLOSED)


class ReportError(ValueError):
    """A request the reports cannot answer (unknown area, bad period): shown to the user."""


# --- the table model -------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    kind: str  # "stt" | "name" | "int" | "rate" | "million" | "note"
    number: str  # the column-numbering row: "A", "B", "1", "2 = 4+5+6", "3=2/1", …


@dataclass
class HeaderCell:
    text: str
    row: int  # 0 or 1 (the two header rows above the numbering row)
    col: int
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Row:
    stt: str
    unit: Area | None
    name: str
    values: dict[str, int | Decimal | str] = field(default_factory=dict)


@dataclass
class Table:
    bieu: str  # "bieu01"
    label: str  # "Biểu 01"
    title: str
    area: Area
    tree: str
    months: list[date]
    as_of: date
    estimates: list[bool]
    columns: list[Column]
    header: list[HeaderCell]
    rows: list[Row]
    total: Row
    footnotes: list[str] = field(default_factory=list)
    heading: str = "BIỂU TỔNG HỢP"

    @property
    def date_line(self) -> str:
        return f"(Tính đến ngày {self.as_of:%d/%m/%Y})"

    @property
    def width(self) -> int:
        return len(self.columns)

    def display(self, row: Row, column: Column) -> str:
        """The cell as printed: Vietnamese number formatting."""
        if column.kind == "stt":
            return row.stt
        if column.kind == "name":
            return row.name
        value = row.values.get(column.key, "")
        if column.kind == "int":
            return numbers.fmt_int(int(value))
        if column.kind == "rate":
            return numbers.fmt_rate(Decimal(value))
        if column.kind == "million":
            return numbers.fmt_million(int(value))
        return str(value)


# --- the request: area, tree, period ----------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    as_of: date

    @property
    def months(self) -> list[date]:
        out, m = [], self.first
        while m <= self.last:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def cutoff(self) -> date:
        """The last day counted for account openings: the as-of date, at most the period's end."""
        return min(self.as_of, last_day(self.last))


MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text: str) -> date:
    match = MONTH_RE.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReportError("Tháng không hợp lệ (định dạng YYYY-MM).")
    return date(int(match.group(1)), int(match.group(2)), 1)


def last_day(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def make_period(first: date, last: date, as_of: date | None = None) -> Period:
    first, last = first.replace(day=1), last.replace(day=1)
    if last < first:
        raise ReportError("Tháng cuối kỳ phải sau tháng đầu kỳ.")
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise ReportError(f"Kỳ báo cáo tối đa {MAX_MONTHS} tháng.")
    if as_of is None:
        as_of = min(timezone.localdate(), last_day(last))
    return Period(first, last, as_of)


def find_area(code: str, tree: str) -> Area:
    if tree not in Tree.values:
        raise ReportError("Cây đơn vị hành chính không hợp lệ.")
    area = Area.objects.filter(tree=tree, code=code).exclude(level=Level.VILLAGE).first()
    if area is None:
        raise ReportError("Không tìm thấy đơn vị hành chính.")
    return area


def default_area(user, cap: str) -> Area | None:
    """The user's one area where `cap` holds (a province, district or commune), if just one."""
    from ansinh.accounts import access

    top = [a for a in access.top_areas(user, cap) if a.level != Level.VILLAGE]
    return top[0] if len(top) == 1 else None


def default_period() -> tuple[date, date]:
    """The three months up to this one."""
    this = timezone.localdate().replace(day=1)
    return add_months(this, -2), this


def row_units(area: Area) -> list[Area]:
    """The rows: the child units of `area` in its tree (a legacy province → its districts, a
    current province → its communes, a district → its communes); a commune is its own row."""
    if area.level == Level.COMMUNE:
        return [area]
    children = Area.objects.filter(parent=area).exclude(level=Level.VILLAGE)
    return sorted(children, key=lambda a: (a.code == "", a.code.zfill(10), a.name_key))


def unit_case(units: list[Area]):
    """The id of the row unit holding the commune id in the annotation `_place` (NULL when
    none): the caller annotates `_place` first. When every row unit is a commune (a current
    province, a district, a commune) the unit is the place itself, kept when it is one of them;
    otherwise (a legacy province's districts) a CASE over integer IN lists (the communes under
    each row unit, read in one query; PostgreSQL hashes an IN list), so that it costs little per
    row. A CASE with a branch per commune was evaluated branch by branch on every row: 100
    communes made a province's report 10 times slower."""
    if units and all(u.level == Level.COMMUNE for u in units):
        return Case(
            When(Q(_place__in=[u.pk for u in units]), then=F("_place")),
            default=Value(None),
            output_field=IntegerField(),
        )
    communes: dict[int, list[int]] = {u.pk: [] for u in units}
    if units:
        under = Q()
        for u in units:
            under |= Q(path__startswith=u.path)
        for pk, path in Area.objects.filter(level=Level.COMMUNE).filter(under).values_list("pk", "path"):
            for u in units:
                if path.startswith(u.path):
                    communes[u.pk].append(pk)
                    break
    whens = [When(Q(_place__in=ids), then=Value(pk)) for pk, ids in communes.items() if ids]
    return Case(*whens, default=Value(None), output_field=IntegerField())


def registered_place(tree: str, prefix: str = ""):
    """The commune where a beneficiary is registered, in `tree` (see the module's docstring):
    the pre-2025 commune, COALESCE(legacy_commune, commune), in the legacy tree."""
    if tree == Tree.CURRENT:
        return F(f"{prefix}commune_id")
    return Coalesce(F(f"{prefix}legacy_commune_id"), F(f"{prefix}commune_id"), output_field=IntegerField())


def registered_in(area: Area, prefix: str = "") -> Q:
    if area.tree == Tree.CURRENT:
        return Q(**{f"{prefix}area_path__startswith": area.path})
    return Q(**{f"{prefix}legacy_commune__path__startswith": area.path}) | Q(
        **{f"{prefix}legacy_commune__isnull": True, f"{prefix}area_path__startswith": area.path}
    )


def active_in(month: date, prefix: str = "") -> Q:
    """Receiving the allowance in `month` (as openings.figures `_active_in`)."""
    return Q(**{f"{prefix}start_month__lte": month}) & (
        Q(**{f"{prefix}end_month__isnull": True}) | Q(**{f"{prefix}end_month__gte": month})
    )


# --- accounts (Biểu 01, Biểu 02 column 1) -----------------------------------------------------


@dataclass
class AccountFigures:
    beneficiaries: dict[int, int]  # unit id → receiving in the last month
    with_account: dict[int, int]  # unit id → of those, with an active account opened by the cut-off
    opened: dict[tuple[int, date], int]  # (unit id, month) → first opened in that month


def account_figures(area: Area, units: list[Area], period: Period) -> AccountFigures:
    """Two grouped queries: the beneficiaries receiving in the period's last month per unit,
    and those with their first active account opened by the cut-off per unit and month.

    The first opening is a join of the people to their active accounts grouped per person (MIN),
    counted per unit and day of first opening in an outer query; the days are folded into
    months here (at most a few hundred per unit). A subquery per person (the first opening looked
    up person by person) cost a province of a million people 14 s."""
    from ansinh.payments.models import AccountStatus
    from ansinh.registry.models import Beneficiary

    people = (
        Beneficiary.objects.filter(registered_in(area))
        .filter(active_in(period.last))
        .annotate(_place=registered_place(area.tree))
        .annotate(_unit=unit_case(units))
        .filter(_unit__isnull=False)
    )
    beneficiaries = dict(people.order_by().values_list("_unit").annotate(n=Count("id")))
    firsts = (
        people.filter(receiving_accounts__status=AccountStatus.ACTIVE, receiving_accounts__opened_on__isnull=False)
        .order_by()
        .values("pk", "_unit")
        .annotate(_first=Min("receiving_accounts__opened_on"))
        .filter(_first__lte=period.cutoff)
        .values_list("_unit", "_first")
    )
    inner, params = firsts.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            f'SELECT t."_unit", t."_first", COUNT(*) FROM ({inner}) t GROUP BY t."_unit", t."_first"',  # noqa: S608
            params,
        )
        rows = cur.fetchall()
    with_account: dict[int, int] = {}
    opened: dict[tuple[int, date], int] = {}
    for unit, first, n in rows:
        with_account[unit] = with_account.get(unit, 0) + n
        if first is not None:
            day = first if isinstance(first, date) else date.fromisoformat(str(first)[:10])
            key = (unit, day.replace(day=1))
            opened[key] = opened.get(key, 0) + n
    return AccountFigures(beneficiaries, with_account, opened)


# --- payments through accounts (Biểu 02, Biểu 03) ---------------------------------------------


def estimate_months(area: Area, months: list[date], as_of: date | None = None) -> list[bool]:
    """A month is an estimate ("ước thực hiện") when a cycle of that month over (part of) the
    area was not yet settled with the provider (or closed) at the as-of date: it is not settled
    or closed now, or it reached that state (its last state change) after the as-of date. One
    query."""
    overlapping = Q(area_path__startswith=area.path) | Q(
        area__in=Area.objects.filter(pk__in=area.ancestor_ids()).exclude(pk=area.pk)
    )
    not_done = ~Q(state__in=DONE_STATES)
    if as_of is not None:
        not_done |= Q(state_changed_at__gte=_end_of(as_of))
    open_months = set(
        PaymentCycle.objects.filter(month__in=months)
        .filter(overlapping)
        .filter(not_done)
        .values_list("month", flat=True)
    )
    return [m in open_months for m in months]


@dataclass
class PaymentFigures:
    by_month: dict[tuple[int, date], tuple[int, int]]  # (unit, month) → (distinct people, đồng)
    period: dict[int, int]  # unit → distinct people paid in any month of the period


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def payment_figures(area: Area, units: list[Area], period: Period, estimates: list[bool]) -> PaymentFigures:
    """Distinct beneficiaries and amount paid through an account per unit and month, and distinct
    beneficiaries per unit over the period (funeral support excluded).

    A line counts when its payment through an account is recorded (a disbursement Payout with
    channel account) by the as-of date; in an estimate month also when it was credited later or
    its transfer is still in flight (instruction sent or accepted by the bank), its amount then
    the instruction's (which covers the beneficiary's lines of the cycle).

    When every cycle of the period's months is on the report's tree (every month since the 2025
    reform in a current-tree report, the 2023 months in a pre-2025 district's), the payouts are
    read alone: they carry their line's month, person and commune (`Payout.complete`), one narrow
    row per line, with the transfers in flight of the estimate months beside them, in one query.
    Otherwise (a period that spans the reform) the payroll lines are read and a line of the other
    tree is placed by its beneficiary's registered place (`_payment_figures_from_lines`)."""
    months = period.months
    if PaymentCycle.objects.filter(month__in=months).exclude(area__tree=area.tree).exists():
        return _payment_figures_from_lines(area, units, period, estimates)
    fast = _payment_figures_from_facts(area, units, period, estimates)
    if fast is not None:
        return fast
    return _payment_figures_from_payouts(area, units, period, estimates)


def _payment_figures_from_facts(
    area: Area, units: list[Area], period: Period, estimates: list[bool]
) -> PaymentFigures | None:
    """`payment_figures` from the aggregate tables (ansinh.reports.facts), refreshed first: the
    amounts per commune and month, the people per person and year as bits of the months paid
    (and in flight). None when they cannot answer exactly: a settled month of the period has a
    payment through an account after the as-of date (the report as at an earlier day), or another
    refresh of the tables is running (a month's import being computed)."""
    from . import facts
    from .models import CommuneMonthFact, PersonYearFact

    if facts.refresh(wait=False) is None:
        return None  # another refresh is running: counted from the payouts meanwhile
    months = period.months
    settled = [m for m, e in zip(months, estimates, strict=True) if not e]
    estimated = [m for m, e in zip(months, estimates, strict=True) if e]
    # no filter on the area's path: the row units' communes are under it, and a join to the areas
    # made PostgreSQL read the people commune by commune through the index (1.5 s, not 0.3)
    month_rows = (
        CommuneMonthFact.objects.filter(month__in=months)
        .annotate(_place=F("commune_id"))
        .annotate(_unit=unit_case(units))
        .filter(_unit__isnull=False)
    )
    end = _end_of(period.as_of)
    if settled and month_rows.filter(month__in=settled, account_last_paid_at__gte=end).exists():
        return None
    amounts: dict[tuple[int, date], int] = {}
    for unit, month, paid, in_flight in month_rows.order_by().values_list(
        "_unit", "month", "account_amount", "flight_amount"
    ):
        day = _as_date(month)
        key = (unit, day)
        amounts[key] = amounts.get(key, 0) + int(paid or 0) + (int(in_flight or 0) if day in estimated else 0)
    # the people: per person, a flag per month of the period (paid; in an estimate month also in
    # flight), from the bits of their rows (a row per person, commune and year)
    years = sorted({m.year for m in months})
    people = (
        PersonYearFact.objects.filter(year__in=years)
        .annotate(_place=F("commune_id"))
        .annotate(_unit=unit_case(units))
        .filter(_unit__isnull=False)
        .order_by()
        .values_list("_unit", "beneficiary_id", "year", "paid_mask", "flight_mask")
    )
    inner, params = people.query.sql_with_params()
    # the years and bits are integers computed here, written into the statement as literals
    flags = [
        f"CASE WHEN t.year = {m.year} AND ({'(t.paid_mask | t.flight_mask)' if e else 't.paid_mask'} "
        f"& {1 << (m.month - 1)}) <> 0 "
        "THEN 1 ELSE 0 END"
        for m, e in zip(months, estimates, strict=True)
    ]
    one_row_each = len(years) == 1 and all(u.level == Level.COMMUNE for u in units)
    if one_row_each:
        # a person has one row per commune and year: the rows are the people of a unit
        columns = ", ".join(f"{f} AS c{i}" for i, f in enumerate(flags))
        per_person = f'SELECT t."_unit" AS u, {columns} FROM ({inner}) t'  # noqa: S608
    else:
        per_person = (
            f'SELECT t."_unit" AS u, {", ".join(f"MAX({f}) AS c{i}" for i, f in enumerate(flags))} '  # noqa: S608
            f'FROM ({inner}) t GROUP BY t."_unit", t.beneficiary_id'
        )
    any_month = " + ".join(f"q.c{i}" for i in range(len(months)))
    sql = (
        f"SELECT q.u, {', '.join(f'SUM(q.c{i})' for i in range(len(months)))}, "  # noqa: S608
        f"SUM(CASE WHEN {any_month} > 0 THEN 1 ELSE 0 END) FROM ({per_person}) q GROUP BY q.u"
    )
    by_month: dict[tuple[int, date], tuple[int, int]] = {}
    whole: dict[int, int] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for row in cur.fetchall():
            unit = row[0]
            for i, month in enumerate(months):
                n, dong = int(row[1 + i] or 0), amounts.get((unit, month), 0)
                if n or dong:
                    by_month[(unit, month)] = (n, dong)
            if row[-1]:
                whole[unit] = int(row[-1])
    for key, dong in amounts.items():
        if key not in by_month and dong:
            by_month[key] = (0, dong)
    return PaymentFigures(by_month, whole)


def _as_date(value) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _payment_figures_from_payouts(
    area: Area, units: list[Area], period: Period, estimates: list[bool]
) -> PaymentFigures:
    """`payment_figures` read from the payouts (and the transfers in flight of the estimate
    months) in one query: exact at any as-of date."""
    from ansinh.disbursement.models import Instruction, InstructionState, Payout, PayoutChannel

    months = period.months

    settled = [m for m, e in zip(months, estimates, strict=True) if not e]
    estimated = [m for m, e in zip(months, estimates, strict=True) if e]
    when = Q(month__in=settled, paid_at__lt=_end_of(period.as_of))
    if estimated:
        when |= Q(month__in=estimated)
    payouts = (
        Payout.objects.filter(month__in=months, channel=PayoutChannel.ACCOUNT, area_path__startswith=area.path)
        .exclude(line_type=LineType.FUNERAL)
        .filter(when)
        .annotate(_place=F("commune_id"))
        .annotate(_unit=unit_case(units))
        .filter(_unit__isnull=False)
        .order_by()
        .values_list("_unit", "month", "beneficiary_id", "amount")
    )
    parts = [payouts.query.sql_with_params()]
    if estimated:
        in_flight = (
            Instruction.objects.filter(
                state__in=[InstructionState.SENT, InstructionState.ACCEPTED],
                line__cycle__month__in=estimated,
                area_path__startswith=area.path,
            )
            .exclude(line__line_type=LineType.FUNERAL)
            .exclude(line__payout__channel=PayoutChannel.ACCOUNT)
            .annotate(_place=F("commune_id"))
            .annotate(_unit=unit_case(units))
            .filter(_unit__isnull=False)
            .order_by()
            .values_list("_unit", "line__cycle__month", "line__beneficiary_id", "amount")
        )
        parts.append(in_flight.query.sql_with_params())
    union = " UNION ALL ".join(sql for sql, _params in parts)
    params = [p for _sql, ps in parts for p in ps]
    by_month: dict[tuple[int, date], tuple[int, int]] = {}
    whole: dict[int, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"WITH x(u, m, b, a) AS ({union}) "  # noqa: S608
            "SELECT u, m, COUNT(DISTINCT b), SUM(a) FROM x GROUP BY u, m "
            "UNION ALL SELECT u, NULL, COUNT(DISTINCT b), NULL FROM x GROUP BY u",
            params,
        )
        for unit, month, people, dong in cur.fetchall():
            if month is None:
                whole[unit] = people
            else:
                day = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
                by_month[(unit, day)] = (people, int(dong or 0))
    return PaymentFigures(by_month, whole)


def _payment_figures_from_lines(area: Area, units: list[Area], period: Period, estimates: list[bool]) -> PaymentFigures:
    """`payment_figures` over the payroll lines, for a period with cycles of both trees: a line
    whose commune is on the other tree is placed by its beneficiary's registered place in the
    report's tree. Two grouped queries."""
    from ansinh.disbursement.models import Instruction, InstructionState, PayoutChannel

    months = period.months
    settled = [m for m, e in zip(months, estimates, strict=True) if not e]
    estimated = [m for m, e in zip(months, estimates, strict=True) if e]
    in_flight = Instruction.objects.filter(
        line=OuterRef("pk"), state__in=[InstructionState.SENT, InstructionState.ACCEPTED]
    )
    # the payout is joined (one-to-one with the line), the transfers in flight probed only for
    # the estimate months
    paid = Q(cycle__month__in=settled, payout__channel=PayoutChannel.ACCOUNT, payout__paid_at__lt=_end_of(period.as_of))
    if estimated:
        paid |= Q(Q(cycle__month__in=estimated), Q(payout__channel=PayoutChannel.ACCOUNT) | Exists(in_flight))
    same_tree = Q(commune__tree=area.tree)
    where = (same_tree & Q(area_path__startswith=area.path)) | (~same_tree & registered_in(area, "beneficiary__"))
    place = Case(
        When(same_tree, then=F("commune_id")),
        default=registered_place(area.tree, "beneficiary__"),
        output_field=IntegerField(),
    )
    lines = (
        PayrollLine.objects.filter(cycle__month__in=months)
        .exclude(line_type=LineType.FUNERAL)
        .filter(where)
        .filter(paid)
        .annotate(_place=place)
        .annotate(_unit=unit_case(units))
        .filter(_unit__isnull=False)
        .order_by()
    )
    amount = Coalesce(
        Case(When(payout__channel=PayoutChannel.ACCOUNT, then=F("payout__amount"))),
        Subquery(in_flight.values("amount")[:1]),
        Value(0),
    )
    by_month: dict[tuple[int, date], tuple[int, int]] = {}
    for unit, month, people, dong in (
        lines.values_list("_unit", "cycle__month")
        .annotate(people=Count("beneficiary_id", distinct=True), dong=Sum(amount))
        .values_list("_unit", "cycle__month", "people", "dong")
    ):
        by_month[(unit, month)] = (people, int(dong or 0))
    whole = dict(lines.values_list("_unit").annotate(n=Count("beneficiary_id", distinct=True)))
    return PaymentFigures(by_month, whole)


# --- helpers for the builders -----------------------------------------------------------------


def month_label(month: date, months: list[date]) -> str:
    """ "7" as in the source; "7/2023" when the period spans more than one year."""
    if len({m.year for m in months}) > 1:
        return f"{month.month}/{month.year}"
    return str(month.month)


def unit_rows(units: list[Area]) -> list[Row]:
    return [Row(stt=str(i), unit=u, name=u.full_name) for i, u in enumerate(units, start=1)]


def without_empty(rows: list[Row], beneficiaries: dict[int, int]) -> list[Row]:
    """The rows of units that use the system: a unit with no beneficiary receiving in the period's
    last month and every figure 0 (a district of the province not in the programme's system: the
    2023 tables had only the two pilot units) is left out and the rows renumbered; when every
    unit is empty, all rows stay (a commune's own table still shows its one row)."""
    kept = [
        r
        for r in rows
        if (r.unit is not None and beneficiaries.get(r.unit.pk, 0))
        or any(isinstance(v, int) and v for v in r.values.values())
    ]
    if not kept:
        return rows
    for i, row in enumerate(kept, start=1):
        row.stt = str(i)
    return kept


def sum_rows(rows: list[Row], keys: list[str]) -> dict[str, int]:
    return {k: sum(int(r.values.get(k, 0)) for r in rows) for k in keys}
