"""Aggregate tables (facts) for the statutory reports and the monitoring dashboard (issue 13
part 7: a province of a million people, twelve months, each report under 5 s, the dashboard's
province page under 1 s).

What they hold (ansinh.reports.models):
- `CommuneMonthFact`: per commune and month, the people and đồng paid through an account (and
  the last such payment), in cash, the transfers in flight, and the account holders registered in
  the commune who were paid through an account (the dashboard's "paid cashless");
- `PersonYearFact`: per person, commune and year, the months paid through an account and the
  months with a transfer in flight, as bits (the distinct people of a period);
- `CommuneGroupFact`: the beneficiaries of a commune grouped by start, end and first-account
  month (the receiving and the account holders of any month).

How they stay right: triggers on the payouts, the transfers, the beneficiaries and the receiving
accounts (migration reports 0003; statement-level on PostgreSQL, row-level on SQLite) mark the
(commune, month) pairs a write touches as stale in `StaleFact`, on every path (services, bulk
SQL, the admin, imports). `refresh()` computes the stale pairs again from the source tables,
set-based (a few grouped statements per month, whatever the number of people), and removes the
marks it read unless a write raised them meanwhile. The readers call `refresh()` first, so what
they read is never older than the last committed write; the writers of big batches call it after
their commit, and `manage.py refresh_facts` (scheduled every few minutes) keeps the marks few.

A fact is never edited by hand; these tables are derived data, not audited (the writes they come
from are)."""

# ruff: noqa: S608 (the statements are built from placeholders and constants of this module)
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import WHOLE_COMMUNE, CommuneGroupFact, CommuneMonthFact, StaleFact

WHOLE = date.fromisoformat(WHOLE_COMMUNE)
FAR = date(9999, 12, 1)
IN_FLIGHT = ("sent", "accepted")  # disbursement InstructionState values of a transfer in flight
CHUNK = 500  # ids per IN list (SQLite's variable limit)
LOCK_KEY = 0x616E7369  # "ansi": one refresh at a time on PostgreSQL


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _marks(ids: list) -> str:
    return ", ".join(["%s"] * len(ids))


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _aware(value) -> datetime | None:
    """A MAX(timestamp) read raw: SQLite gives the UTC text (or a naive datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def stale_count() -> int:
    return StaleFact.objects.count()


def refresh(*, wait: bool = True, _paid_people: bool = True) -> int | None:
    """Compute every stale (commune, month) again; returns the number of marks cleared. One
    transaction; on PostgreSQL one refresh at a time: a second waits, then finds nothing left, or
    with `wait=False` returns None at once (the reader then counts from the source tables)."""
    if not StaleFact.objects.exists():
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                if wait:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
                else:
                    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                    if not cur.fetchone()[0]:
                        return None
        marks = list(StaleFact.objects.values_list("id", "commune_id", "month", "version"))
        if not marks:
            return 0
        keys: dict[date, set[int]] = defaultdict(set)
        whole = sorted({c for _i, c, m, _v in marks if m == WHOLE})
        if whole:
            _refresh_groups(whole)
            months = _known_months(whole)
            for commune in whole:
                for month in months:
                    keys[month].add(commune)
        for _i, commune, month, _v in marks:
            if month != WHOLE:
                keys[month].add(commune)
        for month in sorted(keys):
            communes = sorted(keys[month])
            for part in _chunks(communes):
                _refresh_month(month, part, paid_people=_paid_people)
        with connection.cursor() as cur:
            for part in _chunks(marks, 400):
                cur.execute(
                    "DELETE FROM reports_stalefact WHERE " + " OR ".join(["(id = %s AND version = %s)"] * len(part)),
                    [x for i, _c, _m, v in part for x in (i, v)],
                )
    return len(marks)


def _month_bit(column: str) -> str:
    """SQL: the bit of the month of the date `column` (January = 1)."""
    if connection.vendor == "postgresql":
        return f"(1 << (EXTRACT(MONTH FROM {column})::int - 1))"
    return f"(1 << (CAST(strftime('%%m', {column}) AS INTEGER) - 1))"


def rebuild() -> int:
    """Every fact computed again from scratch (after a bulk load that bypassed the triggers, or to
    check them): the people's months paid in one grouped INSERT per year, then every commune with
    a beneficiary, a line or a payout marked whole and refreshed (without the months paid)."""
    with transaction.atomic():
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            if connection.vendor == "postgresql":
                # emptied, not deleted row by row: no dead rows left for the readers to scan
                cur.execute("TRUNCATE reports_communegroupfact, reports_communemonthfact, reports_personyearfact")
            else:
                cur.execute("DELETE FROM reports_communegroupfact")
                cur.execute("DELETE FROM reports_communemonthfact")
                cur.execute("DELETE FROM reports_personyearfact")
            cur.execute("SELECT DISTINCT month FROM payroll_paymentcycle")
            years = sorted({(m if isinstance(m, date) else date.fromisoformat(str(m)[:10])).year for (m,) in cur})
            for year in years:
                cur.execute(
                    "INSERT INTO reports_personyearfact (beneficiary_id, commune_id, year, paid_mask, flight_mask) "
                    f"SELECT beneficiary_id, commune_id, %s, SUM(DISTINCT {_month_bit('month')}), 0 "
                    "FROM disbursement_payout WHERE month >= %s AND month < %s AND channel = 'account' "
                    "AND line_type <> 'funeral' GROUP BY beneficiary_id, commune_id",
                    [year, date(year, 1, 1), date(year + 1, 1, 1)],
                )
            cur.execute(
                "INSERT INTO reports_stalefact (commune_id, month, version) "
                "SELECT DISTINCT commune_id, %s, 1 FROM ("
                "SELECT commune_id FROM registry_beneficiary UNION SELECT commune_id FROM disbursement_payout "
                "UNION SELECT commune_id FROM payroll_payrollline) t WHERE commune_id IS NOT NULL "
                "ON CONFLICT (commune_id, month) DO UPDATE SET version = reports_stalefact.version + 1",
                [WHOLE],
            )
        return refresh(_paid_people=False) or 0


def _known_months(communes: list[int]) -> list[date]:
    """The months a whole commune's facts are computed for: every month with a payment cycle or
    a fact of the commune."""
    from ansinh.payroll.models import PaymentCycle

    months = set(PaymentCycle.objects.order_by().values_list("month", flat=True).distinct())
    for part in _chunks(communes):
        months |= set(
            CommuneMonthFact.objects.filter(commune_id__in=part).order_by().values_list("month", flat=True).distinct()
        )
    return sorted(months)


def _refresh_groups(communes: list[int]) -> None:
    from django.db.models import DateField, Min, Q
    from django.db.models.functions import TruncMonth

    from ansinh.registry.models import Beneficiary

    for part in _chunks(communes):
        CommuneGroupFact.objects.filter(commune_id__in=part).delete()
        inner = (
            Beneficiary.objects.filter(commune_id__in=part)
            .order_by()
            .values("pk", "commune_id", "start_month", "end_month")
            .annotate(
                _first=TruncMonth(
                    Min(
                        "receiving_accounts__opened_on",
                        filter=Q(receiving_accounts__status="active", receiving_accounts__opened_on__isnull=False),
                    ),
                    output_field=DateField(),
                )
            )
        )
        sql, params = inner.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO reports_communegroupfact "
                "(commune_id, start_month, end_month, first_account_month, people) "
                f'SELECT t.commune_id, t.start_month, COALESCE(t.end_month, %s), COALESCE(t."_first", %s), COUNT(*) '
                f"FROM ({sql}) t GROUP BY 1, 2, 3, 4",
                [FAR, FAR, *params],
            )


def _refresh_month(month: date, communes: list[int], *, paid_people: bool = True) -> None:
    """The facts of `month` for `communes` computed again from the payouts, transfers,
    beneficiaries and accounts: a few grouped statements."""
    ids = _marks(communes)
    bit = 1 << (month.month - 1)
    year = month.year
    flight = _marks(list(IN_FLIGHT))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT commune_id, "
            "COUNT(DISTINCT CASE WHEN channel = 'account' THEN beneficiary_id END), "
            "SUM(CASE WHEN channel = 'account' THEN amount ELSE 0 END), "
            "MAX(CASE WHEN channel = 'account' THEN paid_at END), "
            "COUNT(DISTINCT CASE WHEN channel <> 'account' THEN beneficiary_id END), "
            "SUM(CASE WHEN channel <> 'account' THEN amount ELSE 0 END) "
            f"FROM disbursement_payout WHERE month = %s AND commune_id IN ({ids}) AND line_type <> 'funeral' "
            "GROUP BY commune_id",
            [month, *communes],
        )
        paid = {row[0]: row[1:] for row in cur.fetchall()}
        cur.execute(
            "SELECT i.commune_id, SUM(i.amount) FROM disbursement_instruction i "
            "JOIN payroll_payrollline l ON l.id = i.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id "
            f"WHERE i.state IN ({flight}) AND i.commune_id IN ({ids}) AND c.month = %s "
            "AND l.line_type <> 'funeral' AND NOT EXISTS (SELECT 1 FROM disbursement_payout p "
            "WHERE p.line_id = l.id AND p.channel = 'account') GROUP BY i.commune_id",
            [*IN_FLIGHT, *communes, month],
        )
        in_flight = dict(cur.fetchall())
        cur.execute(
            "SELECT b.commune_id, COUNT(DISTINCT b.id) FROM disbursement_payout p "
            "JOIN registry_beneficiary b ON b.id = p.beneficiary_id "
            "WHERE p.month = %s AND p.channel = 'account' AND p.line_type <> 'funeral' "
            f"AND b.commune_id IN ({ids}) AND b.start_month <= %s "
            "AND (b.end_month IS NULL OR b.end_month >= %s) "
            "AND EXISTS (SELECT 1 FROM payments_receivingaccount a WHERE a.beneficiary_id = b.id "
            "AND a.status = 'active' AND a.opened_on IS NOT NULL AND a.opened_on < %s) "
            "GROUP BY b.commune_id",
            [month, *communes, month, month, _next_month(month)],
        )
        holders = dict(cur.fetchall())
        cur.execute(
            "SELECT l.commune_id, SUM(l.amount) FROM payroll_payrollline l "
            "JOIN payroll_paymentcycle c ON c.id = l.cycle_id "
            f"WHERE c.month = %s AND l.commune_id IN ({ids}) AND l.line_type <> 'funeral' GROUP BY l.commune_id",
            [month, *communes],
        )
        payroll = dict(cur.fetchall())
        cur.execute(
            f"DELETE FROM reports_communemonthfact WHERE month = %s AND commune_id IN ({ids})",
            [month, *communes],
        )
        rows = []
        for commune in communes:
            a_people, a_amount, last, c_people, c_amount = paid.get(commune, (0, 0, None, 0, 0))
            last = _aware(last)
            values = (
                a_people,
                a_amount,
                c_people,
                c_amount,
                in_flight.get(commune),
                holders.get(commune),
                payroll.get(commune),
            )
            if any(values):
                rows.append(
                    CommuneMonthFact(
                        commune_id=commune,
                        month=month,
                        account_people=a_people or 0,
                        account_amount=int(a_amount or 0),
                        account_last_paid_at=last,
                        cash_people=c_people or 0,
                        cash_amount=int(c_amount or 0),
                        flight_amount=int(in_flight.get(commune) or 0),
                        holders_paid=holders.get(commune) or 0,
                        payroll_amount=int(payroll.get(commune) or 0),
                    )
                )
        CommuneMonthFact.objects.bulk_create(rows)
        # the months of the people: this month's bit set where it is missing and cleared where it
        # no longer holds (a row changes only when its bit changes: a refresh of an unchanged month
        # writes nothing), new people inserted
        paid_select = (
            "SELECT beneficiary_id, commune_id FROM disbursement_payout WHERE month = %s AND channel = 'account' "
            f"AND line_type <> 'funeral' AND commune_id IN ({ids})"
        )
        flight_people = (
            "SELECT l.beneficiary_id, i.commune_id FROM disbursement_instruction i "
            "JOIN payroll_payrollline l ON l.id = i.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id "
            f"WHERE i.state IN ({flight}) AND i.commune_id IN ({ids}) AND c.month = %s "
            "AND l.line_type <> 'funeral' AND NOT EXISTS (SELECT 1 FROM disbursement_payout p "
            "WHERE p.line_id = l.id AND p.channel = 'account')"
        )
        people_sets: list[tuple[str, str, list[Any]]] = [("flight_mask", flight_people, [*IN_FLIGHT, *communes, month])]
        if paid_people:
            people_sets.insert(0, ("paid_mask", paid_select, [month, *communes]))
        for column, people, params in people_sets:
            cur.execute(
                f"UPDATE reports_personyearfact SET {column} = {column} | %s "
                f"WHERE year = %s AND commune_id IN ({ids}) AND ({column} & %s) = 0 "
                f"AND (beneficiary_id, commune_id) IN ({people})",
                [bit, year, *communes, bit, *params],
            )
            cur.execute(
                f"UPDATE reports_personyearfact SET {column} = {column} & ~%s "
                f"WHERE year = %s AND commune_id IN ({ids}) AND ({column} & %s) <> 0 "
                f"AND NOT EXISTS (SELECT 1 FROM ({people}) t WHERE t.beneficiary_id = "
                "reports_personyearfact.beneficiary_id AND t.commune_id = reports_personyearfact.commune_id)",
                [bit, year, *communes, bit, *params],
            )
            cur.execute(
                "INSERT INTO reports_personyearfact (beneficiary_id, commune_id, year, paid_mask, flight_mask) "
                f"SELECT DISTINCT t.beneficiary_id, t.commune_id, %s, {'%s, 0' if column == 'paid_mask' else '0, %s'} "
                f"FROM ({people}) t WHERE true ON CONFLICT (beneficiary_id, commune_id, year) DO NOTHING",
                [year, bit, *params],
            )
        cur.execute(
            f"DELETE FROM reports_personyearfact WHERE year = %s AND commune_id IN ({ids}) "
            "AND paid_mask = 0 AND flight_mask = 0",
            [year, *communes],
        )
