"""Account opening per unit and month: the data behind Biểu 01 of report 3010/BC-SLĐTBXH
("Kết quả mở tài khoản nhận trợ cấp"): per unit, the beneficiaries receiving in the month, those
with an account opened (cumulative to the end of the month, and opened in each month shown),
the rate, and how many have no account.

A beneficiary counts in a month when their allowance runs in it (start month on or before it,
no last paid month before it). A beneficiary "has an account" from the opening date of their
first active receiving account. Everything is counted in two grouped queries over the unit's
beneficiaries, whatever their number: one for the beneficiaries, one for the month of the first
opening (a correlated MIN over the accounts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DateField, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth

from ansinh.areas.models import Area, Level
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.registry.models import Beneficiary
from ansinh.registry.rules import add_months


def _last_day(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


@dataclass
class Row:
    area: Area | None  # None: the total
    beneficiaries: int = 0
    opened_total: int = 0
    by_month: list[int] = field(default_factory=list)

    @property
    def rate(self) -> Decimal:
        if not self.beneficiaries:
            return Decimal("0.00")
        return (Decimal(self.opened_total) * 100 / self.beneficiaries).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def without_account(self) -> int:
        return self.beneficiaries - self.opened_total

    @property
    def name(self) -> str:
        return self.area.full_name if self.area is not None else ""


@dataclass
class Table:
    unit: Area
    month: date
    months: list[date]
    rows: list[Row]
    total: Row


def _active_in(month: date) -> Q:
    return Q(start_month__lte=month) & (Q(end_month__isnull=True) | Q(end_month__gte=month))


def _child_level(unit: Area) -> tuple[str, str]:
    """(the level of the rows, the beneficiary field that groups them) under `unit`."""
    if unit.level == Level.COMMUNE:
        return Level.VILLAGE, "village_id"
    return Level.COMMUNE, "commune_id"


def opening_table(unit: Area, month: date, *, months: int = 3) -> Table:
    """Biểu 01 for the units under `unit` (the communes of a province or district, the villages of
    a commune) in `month`, with the openings of the `months` months up to it."""
    month = month.replace(day=1)
    shown = [add_months(month, -i) for i in range(months - 1, -1, -1)]
    level, group = _child_level(unit)
    people = Beneficiary.objects.filter(area_path__startswith=unit.path).filter(_active_in(month))
    counts = dict(people.order_by().values_list(group).annotate(n=Count("id")))
    first = (
        ReceivingAccount.objects.filter(
            beneficiary=OuterRef("pk"), status=AccountStatus.ACTIVE, opened_on__isnull=False
        )
        .order_by()
        .values("beneficiary")
        .annotate(first=Min("opened_on"))
        .values("first")[:1]
    )
    openings = (
        people.annotate(first_opened=Subquery(first, output_field=DateField()))
        .filter(first_opened__lte=_last_day(month))
        .annotate(opened_month=TruncMonth("first_opened", output_field=DateField()))
        .order_by()
        .values_list(group, "opened_month")
        .annotate(n=Count("id"))
    )
    cumulative: dict[int | None, int] = {}
    per_month: dict[tuple[int | None, date], int] = {}
    for key, opened_month, n in openings:
        cumulative[key] = cumulative.get(key, 0) + n
        if opened_month is not None:
            m = date(opened_month.year, opened_month.month, 1)
            per_month[(key, m)] = per_month.get((key, m), 0) + n
    keys = set(counts) | set(cumulative)
    areas = {a.pk: a for a in Area.objects.filter(pk__in=[k for k in keys if k is not None])}
    listed = Area.objects.filter(parent=unit, level=level).order_by("name_key", "id")
    ordered = list(listed) + sorted((a for pk, a in areas.items() if a.parent_id != unit.pk), key=lambda a: a.name_key)
    rows = []
    for area in ordered:
        rows.append(
            Row(
                area,
                counts.get(area.pk, 0),
                cumulative.get(area.pk, 0),
                [per_month.get((area.pk, m), 0) for m in shown],
            )
        )
    if None in keys:  # beneficiaries without a village (a commune's table)
        rows.append(
            Row(None, counts.get(None, 0), cumulative.get(None, 0), [per_month.get((None, m), 0) for m in shown])
        )
    total = Row(
        unit,
        sum(r.beneficiaries for r in rows),
        sum(r.opened_total for r in rows),
        [sum(r.by_month[i] for r in rows) for i in range(len(shown))],
    )
    return Table(unit=unit, month=month, months=shown, rows=rows, total=total)
