"""The budget estimate (dự toán) of next year's social-assistance spending for an office's or a
province's area (issue 10 part 6). See docs/payment-cycle.md, "Budget estimate".

- Who: the beneficiaries receiving now (`generation.receiving_q` for the current month) with a
  claim of the programme in force now, projected over the twelve months of the year with the
  changes already known: claims that end (`to_month`), stops already decided (`end_month`), and
  age (a child turning 16, an elderly person turning 80: the entitlement function decides by the
  age on the 1st of each month).
- Set-based: one read per programme groups the people by (claims signature, birth year and
  month, born on the 1st or not, area path, last paid month) with a count; the claims
  signature is aggregated in SQL. No object per beneficiary.
- Amounts: the one entitlement function, `PolicyMonth.load(month)` for each month of the year as
  the policy is known today, evaluated once per distinct (province, claims in force, age) and
  multiplied by the group's count. Nothing is re-coded in SQL.
- Funeral support: people receiving now × the province's yearly deaths per 1,000
  (`PaymentCalendar.mortality_per_mille`, default 30) / 1,000 × the programme's one-off funeral
  amount (FUNERAL.* in force on 1 January; emergency support is left out).
- Fees: the provider contract for monthly allowances in force in each month for the area (or
  the latest one that served it) applied to the projected people paid and amounts per month.
- Rows: the parts of the chosen area one level down (districts of a province in the pre-2025
  tree, communes of a district or of a province since 2025), or the commune itself."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Case, CharField, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, ExtractMonth, ExtractYear
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ansinh.areas.models import Area, Level
from ansinh.core.money import to_dong
from ansinh.policy.entitlement import Claim, PolicyMonth, age_in_years
from ansinh.policy.models import Category, Kind, Programme
from ansinh.registry.models import Beneficiary, BeneficiaryCategory

from .calendar import calendar_for
from .fees import fee_for
from .funding import format_number
from .generation import receiving_q
from .models import ContractPurpose, PaymentCalendar, ProviderContract, first_of_month
from .services import province_id_of
from .sheets import signature_block

QUARTERS = ((1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12))


class _ClaimsSignature(Aggregate):
    """The claims of one beneficiary as one text ("code|condition|units|key|from|to;…"), in any
    order (parsed and sorted in Python). GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ';')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra)


def _claim_text():
    return Concat(
        F("category__code"),
        Value("|"),
        F("condition"),
        Value("|"),
        Cast("units", CharField()),
        Value("|"),
        F("fixed_key"),
        Value("|"),
        Cast("from_month", CharField()),
        Value("|"),
        Coalesce(Cast("to_month", CharField()), Value("")),
        output_field=CharField(),
    )


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class _Period:
    claim: Claim
    from_month: date
    to_month: date | None


def _parse(signature: str) -> tuple[_Period, ...]:
    out = []
    for item in (signature or "").split(";"):
        if not item:
            continue
        code, condition, units, fixed_key, start, end = item.split("|")
        out.append(_Period(Claim(code, condition, int(units), fixed_key), _as_date(start), _as_date(end)))  # type: ignore[arg-type]
    return tuple(sorted(out, key=lambda p: (p.claim.category_code, p.claim.condition, p.from_month)))


def _groups(programme: Programme, area: Area, now: date, year: int) -> list[tuple]:
    """(signature, birth year, birth month, born on the 1st, area path, end month, count) of the
    people receiving now in the programme under `area`. One SQL statement."""
    jan, dec = date(year, 1, 1), date(year, 12, 1)
    in_force_now = BeneficiaryCategory.objects.filter(category__programme=programme, from_month__lte=now).filter(
        Q(to_month__isnull=True) | Q(to_month__gte=now)
    )
    signature = (
        BeneficiaryCategory.objects.filter(
            beneficiary_id=OuterRef("pk"), category__programme=programme, from_month__lte=dec
        )
        .filter(Q(to_month__isnull=True) | Q(to_month__gte=jan))
        .order_by()
        .values("beneficiary_id")
        .annotate(s=_ClaimsSignature(_claim_text()))
        .values("s")[:1]
    )
    inner = (
        Beneficiary.objects.filter(receiving_q(now), area_path__startswith=area.path)
        .filter(pk__in=in_force_now.values("beneficiary_id"))
        .annotate(
            g_sig=Subquery(signature, output_field=CharField()),
            g_by=ExtractYear("birth_date"),
            g_bm=ExtractMonth("birth_date"),
            g_b1=Case(When(birth_date__day=1, then=Value(1)), default=Value(0), output_field=IntegerField()),
            g_path=F("area_path"),
            g_end=F("end_month"),
        )
        .order_by()
        .values_list("g_sig", "g_by", "g_bm", "g_b1", "g_path", "g_end")
    )
    sql, params = inner.query.sql_with_params()
    cols = "g_sig, g_by, g_bm, g_b1, g_path, g_end"
    with connection.cursor() as cursor:
        # the inner statement is Django's own compiled SQL; every value is a parameter
        cursor.execute(f"SELECT {cols}, COUNT(*) FROM ({sql}) AS t GROUP BY {cols}", params)  # noqa: S608
        return list(cursor.fetchall())


def _row_area_id(path: str, depth: int, fallback: int) -> int:
    parts = [p for p in path.strip("/").split("/") if p]
    return int(parts[depth]) if len(parts) > depth else fallback


@dataclass
class _Acc:
    beneficiaries: int = 0
    amounts: list[int] = field(default_factory=lambda: [0] * 12)
    people: list[int] = field(default_factory=lambda: [0] * 12)
    fees: list[int] = field(default_factory=lambda: [0] * 12)
    funeral: int = 0


def _contracts() -> list[tuple[ProviderContract, list[str]]]:
    paths: dict[int, list[str]] = defaultdict(list)
    for pk, path in ProviderContract.objects.filter(purpose=ContractPurpose.REGULAR).values_list("pk", "areas__path"):
        if path:
            paths[pk].append(path)
    contracts = ProviderContract.objects.filter(pk__in=list(paths)).order_by("-valid_from", "pk")
    return [(c, paths[c.pk]) for c in contracts]


def _contract_for(contracts, path: str, month: date) -> ProviderContract | None:
    serving = [c for c, paths in contracts if any(path.startswith(p) or p.startswith(path) for p in paths)]
    for c in serving:
        if c.valid_from <= month <= c.valid_to:
            return c
    # none in force that month: the latest one that served the area
    return max(serving, key=lambda c: (c.valid_to, c.valid_from), default=None)


def _funeral_amount(programme: Programme, policy: PolicyMonth, province_id: int) -> int:
    codes = Category.objects.filter(programme=programme, kind=Kind.ONE_OFF, code__startswith="FUNERAL.").exclude(
        code__icontains="EMERGENCY"
    )
    table = policy.table(province_id)
    amounts = []
    for code in codes.values_list("code", flat=True):
        e = table.one_off(Claim(code), None) or table.one_off(Claim(code, fixed_key="funeral"), None)
        if e is not None:
            amounts.append(e.amount)
    return max(amounts, default=0)


def budget_estimate(*, area: Area, year: int, today: date | None = None) -> dict:
    """The estimate for `year` under `area` (read only). Returns the rows per programme and area
    with the figures per month and quarter, and the totals (integer đồng)."""
    today = today or timezone.localdate()
    now = first_of_month(today)
    months = [date(year, m, 1) for m in range(1, 13)]
    pid = province_id_of(area.path)
    calendar = PaymentCalendar.objects.filter(province_id=pid).first() or calendar_for(None)
    per_mille = int(calendar.mortality_per_mille)
    policies = [PolicyMonth.load(m, provinces=[pid]) for m in months]
    # rows one level down; a commune is its own row (its villages are not budget units)
    depth = (
        len([p for p in area.path.strip("/").split("/") if p])
        if area.level not in (Level.COMMUNE, Level.VILLAGE)
        else 99
    )
    contracts = _contracts()
    programmes = list(Programme.objects.filter(categories__kind=Kind.MONTHLY).distinct().order_by("code"))
    acc: dict[tuple[str, int], _Acc] = defaultdict(_Acc)
    by_path: dict[tuple[str, str], _Acc] = defaultdict(_Acc)  # (programme, area path) for the fees
    evaluations = 0
    groups_read = 0
    for programme in programmes:
        memo: dict = {}
        groups = _groups(programme, area, now, year)
        groups_read += len(groups)
        funeral = _funeral_amount(programme, policies[0], pid)
        for signature, by, bm, b1, path, end, count in groups:
            periods = _parse(signature)
            birth = date(int(by), int(bm), 1 if int(b1) else 2)
            end_month = _as_date(end)
            row = acc[(programme.code, _row_area_id(path, depth, area.pk))]
            cell = by_path[(programme.code, path)]
            row.beneficiaries += count
            cell.beneficiaries += count
            for i, month in enumerate(months):
                if end_month is not None and end_month < month:
                    continue
                claims = tuple(
                    p.claim for p in periods if p.from_month <= month and (p.to_month is None or p.to_month >= month)
                )
                if not claims:
                    continue
                key = (i, claims, age_in_years(birth, month))
                if key not in memo:
                    memo[key] = policies[i].table(pid).entitlement(claims, birth)
                    evaluations += 1
                e = memo[key]
                if e is None:
                    continue
                for bucket in (row, cell):
                    bucket.amounts[i] += e.amount * count
                    bucket.people[i] += count
        for (code, _path), cell in by_path.items():
            if code != programme.code:
                continue
            row = acc[(code, _row_area_id(_path, depth, area.pk))]
            for i, month in enumerate(months):
                contract = _contract_for(contracts, _path, month)
                if contract is not None and cell.people[i]:
                    fee = fee_for(contract, cell.people[i], cell.amounts[i])
                    row.fees[i] += fee
        for (code, _area_id), row in acc.items():
            if code == programme.code:
                row.funeral = to_dong(Decimal(row.beneficiaries * per_mille * funeral) / Decimal(1000))
    names = {a.pk: a for a in Area.objects.filter(pk__in={k[1] for k in acc})}
    rows: list[dict[str, Any]] = []
    for programme in programmes:
        keyed = sorted(
            ((k, v) for k, v in acc.items() if k[0] == programme.code),
            key=lambda kv: names[kv[0][1]].path if kv[0][1] in names else "",
        )
        for (code, area_id), v in keyed:
            where = names.get(area_id)
            allowances = sum(v.amounts)
            fees = sum(v.fees)
            rows.append(
                {
                    "programme": code,
                    "area_id": area_id,
                    "area_code": where.code if where else "",
                    "area_name": where.full_name if where else "",
                    "beneficiaries": v.beneficiaries,
                    "allowances": allowances,
                    "funeral": v.funeral,
                    "fees": fees,
                    "total": allowances + v.funeral + fees,
                    "months": [
                        {"month": f"{m:%Y-%m}", "people": v.people[i], "allowances": v.amounts[i], "fees": v.fees[i]}
                        for i, m in enumerate(months)
                    ],
                    "quarters": [
                        {
                            "quarter": q + 1,
                            "allowances": sum(v.amounts[m - 1] for m in ms),
                            "fees": sum(v.fees[m - 1] for m in ms),
                        }
                        for q, ms in enumerate(QUARTERS)
                    ],
                }
            )
    keys = ("beneficiaries", "allowances", "funeral", "fees", "total")
    per_programme = {
        p.code: {"name": p.name_vi, **{k: sum(r[k] for r in rows if r["programme"] == p.code) for k in keys}}
        for p in programmes
    }
    return {
        "year": year,
        "as_of": f"{now:%Y-%m}",
        "as_of_label": f"{now:%m/%Y}",
        "area": {"id": area.pk, "code": area.code, "name": area.full_name},
        "mortality_per_mille": per_mille,
        "programmes": per_programme,
        "rows": rows,
        "totals": {k: sum(r[k] for r in rows) for k in keys},
        "per_month": [
            {
                "month": f"{m:%Y-%m}",
                "allowances": sum(r["months"][i]["allowances"] for r in rows),
                "fees": sum(r["months"][i]["fees"] for r in rows),
            }
            for i, m in enumerate(months)
        ],
        "groups": groups_read,
        "evaluations": evaluations,
    }


def budget_xlsx(estimate: dict, *, unit_name: str = "", out=None) -> bytes:
    """ "DỰ TOÁN KINH PHÍ THỰC HIỆN CHÍNH SÁCH TRỢ GIÚP XÃ HỘI NĂM yyyy": a title block, rows per
    programme and area (people, monthly allowances, funeral support, service fees, total) with
    the programme's subtotal and the grand total; a second sheet per quarter."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    right = Alignment(horizontal="right")
    year = estimate["year"]
    with translation.override("vi"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = _("Budget estimate")[:31]
        ws.page_setup.paperSize = 9
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        widths = (6, 40, 14, 20, 18, 18, 20)
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        last = get_column_letter(len(widths))
        ws.merge_cells("A1:C1")
        ws["A1"] = (unit_name or estimate["area"]["name"]).upper()
        ws["A1"].font = bold
        ws.merge_cells(f"D1:{last}1")
        ws["D1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        ws["D1"].font = bold
        ws["D1"].alignment = center
        ws.merge_cells(f"D2:{last}2")
        ws["D2"] = "Độc lập - Tự do - Hạnh phúc"
        ws["D2"].font = Font(bold=True, underline="single")
        ws["D2"].alignment = center
        ws.merge_cells(f"A4:{last}4")
        ws["A4"] = _("BUDGET ESTIMATE FOR THE SOCIAL ASSISTANCE POLICY IN %(year)s") % {"year": year}
        ws["A4"].font = Font(bold=True, size=13)
        ws["A4"].alignment = center
        ws.merge_cells(f"A5:{last}5")
        ws["A5"] = _("Area: %(area)s. Beneficiaries receiving in %(month)s; yearly deaths per 1,000: %(rate)s.") % {
            "area": estimate["area"]["name"],
            "month": estimate["as_of_label"],
            "rate": estimate["mortality_per_mille"],
        }
        ws["A5"].alignment = center
        ws.merge_cells(f"A6:{last}6")
        ws["A6"] = _("Unit: đồng")
        ws["A6"].alignment = Alignment(horizontal="right")
        ws["A6"].font = Font(italic=True)
        heads = (
            _("Row no."),
            _("Area"),
            _("Number of beneficiaries"),
            _("Monthly allowance funds"),
            pgettext("funding request", "Funeral support"),
            _("Payment service fees"),
            _("Total"),
        )
        row = 8
        for col, head in enumerate(heads, start=1):
            cell = ws.cell(row=row, column=col, value=head)
            cell.font = bold
            cell.alignment = center
            cell.border = box
        row += 1
        keys = ("beneficiaries", "allowances", "funeral", "fees", "total")

        def put(values, font=None):
            nonlocal row
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=col, value=value)
                cell.border = box
                if font is not None:
                    cell.font = font
                if col >= 3:
                    cell.alignment = right
            row += 1

        for p_index, (code, info) in enumerate(estimate["programmes"].items(), start=1):
            put((_roman(p_index), info["name"], *(format_number(info[k]) for k in keys)), bold)
            for i, r in enumerate((r for r in estimate["rows"] if r["programme"] == code), start=1):
                put((i, r["area_name"], *(format_number(r[k]) for k in keys)))
        put(("", _("TOTAL"), *(format_number(estimate["totals"][k]) for k in keys)), bold)
        row += 2
        signature_block(ws, row, (1, 5), span=3)

        qs = wb.create_sheet(_("By quarter")[:31])
        qheads = [_("Area")]
        for q in range(1, 5):
            qheads += [_("Quarter %(n)s: allowances") % {"n": q}, _("Quarter %(n)s: fees") % {"n": q}]
        qs.append([_("BUDGET ESTIMATE FOR THE SOCIAL ASSISTANCE POLICY IN %(year)s") % {"year": year}])
        qs.append([])
        qs.append(qheads)
        for cell in qs[3]:
            cell.font = bold
            cell.alignment = center
        qs.column_dimensions["A"].width = 40
        names = {code: info["name"] for code, info in estimate["programmes"].items()}
        for r in estimate["rows"]:
            values: list = [f"{names[r['programme']]} – {r['area_name']}"]
            for q in r["quarters"]:
                values += [format_number(q["allowances"]), format_number(q["fees"])]
            qs.append(values)
    buffer = out if out is not None else io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue() if out is None else b""


def _roman(n: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")[n - 1] if 0 < n <= 10 else str(n)


def file_name(estimate: dict) -> str:
    return f"du-toan-{estimate['year']}-{estimate['area']['code'] or estimate['area']['id']}.xlsx"


def export_budget_xlsx(*, actor, area: Area, estimate: dict, out) -> None:
    """Write the estimate's XLSX to `out` and record the export (an audited read of figures)."""
    from django.db import transaction

    from ansinh.audit.services import record

    budget_xlsx(estimate, out=out)
    with transaction.atomic():
        record(
            actor=actor,
            action="payroll.budget.exported",
            area=area,
            after={"year": estimate["year"], "area": area.full_name, "total": estimate["totals"]["total"]},
        )
