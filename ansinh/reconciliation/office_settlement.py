"""The office's settlement with the finance office (issue 13 part 3, day 25: the OFFICE_SETTLEMENT
deadline), and the quarterly and year-end summaries.

Per approving unit, programme and month (one cycle): the advance received from the treasury,
what was paid by channel (account / cash at a pay point / cash at home), what was returned, the
provider's fee (the accepted settlements'), the recoveries collected (deducted from the month's
payments), and the balance = advance − paid − returned − fee (what is neither paid, returned nor
the fee: nothing once every đồng is accounted for, or the advance not used). All computed from the
records (`figures`). The file (XLSX) lists a unit's programmes of one month; recording that it
was sent (`record_sent`) freezes the figures and moves the cycle settled → closed through
`payroll.services.transition` (its check, registered here, wants the record; the transition
marks the OFFICE_SETTLEMENT deadline done). See docs/settlement.md."""

from __future__ import annotations

import io
from datetime import date

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import OrgUnit
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.cashout.models import CashEntry, CashListKind, EntrySource, EntryState
from ansinh.core.errors import DomainError
from ansinh.disbursement.models import Payout, PayoutChannel
from ansinh.payroll.funding import FUNDED_OR_LATER, advanced_total
from ansinh.payroll.models import CycleState, LineType, PaymentCycle
from ansinh.payroll.services import register_check, transition

from . import lists
from .models import OfficeSettlement, ProviderSettlement, SettlementState
from .settlement import SettlementForbidden, page_setup, table, title_block

S = CycleState
COLUMNS = ("advance", "paid_account", "paid_pay_point", "paid_home", "returned", "fee", "recoveries", "balance")


class OfficeSettlementRefused(DomainError):
    """The step cannot be taken now; the message says why (translated)."""


def column_labels() -> list[str]:
    return [
        _("Advance received"),
        _("Paid through accounts"),
        _("Paid in cash at pay points"),
        _("Paid in cash at home"),
        _("Returned"),
        _("Provider's fee"),
        _("Recoveries collected"),
        _("Balance"),
    ]


def figures(cycle: PaymentCycle) -> dict[str, int]:
    """The cycle's figures for the finance office (int đồng), from the records."""
    account = Payout.objects.filter(line__cycle=cycle, channel=PayoutChannel.ACCOUNT).aggregate(s=Sum("amount"))["s"]
    cash = (
        CashEntry.objects.filter(cycle=cycle, state=EntryState.PAID)
        .exclude(source=EntrySource.WITHDRAWAL)
        .aggregate(
            point=Sum("amount", filter=Q(cash_list__kind=CashListKind.PAY_POINT)),
            home=Sum("amount", filter=Q(cash_list__kind=CashListKind.HOME)),
        )
    )
    recovered = Payout.objects.filter(line__cycle=cycle, line__line_type=LineType.RECOVERY).aggregate(s=Sum("amount"))[
        "s"
    ]
    fee = ProviderSettlement.objects.filter(cycle=cycle, state=SettlementState.ACCEPTED).aggregate(s=Sum("fee"))["s"]
    out = {
        "advance": advanced_total(cycle),
        "paid_account": int(account or 0),
        "paid_pay_point": int(cash["point"] or 0),
        "paid_home": int(cash["home"] or 0),
        "returned": lists.returned_total([cycle]),
        "fee": int(fee or 0),
        "recoveries": -int(recovered or 0),
    }
    paid = out["paid_account"] + out["paid_pay_point"] + out["paid_home"]
    out["balance"] = out["advance"] - paid - out["returned"] - out["fee"]
    return out


def cycle_figures(cycle: PaymentCycle) -> dict[str, int]:
    """The frozen figures once sent, else the current ones."""
    sent = OfficeSettlement.objects.filter(cycle=cycle).first()
    return dict(sent.figures) if sent is not None else figures(cycle)


def unit_cycles(unit: OrgUnit, months: list[date]):
    """The unit's cycles of those months that received money (funded or later)."""
    return (
        PaymentCycle.objects.filter(approving_unit=unit, month__in=months, state__in=FUNDED_OR_LATER)
        .select_related("programme", "area", "approving_unit")
        .order_by("month", "programme__code")
    )


def find_unit(code: str) -> OrgUnit:
    """An approving unit by the code of its seat area (as `--unit 884`), or by its number."""
    code = (code or "").strip()
    units = list(OrgUnit.objects.filter(area__code=code, payment_cycles__isnull=False).distinct()[:2])
    if len(units) == 1:
        return units[0]
    if not units and code.isdigit():
        unit = OrgUnit.objects.filter(pk=int(code)).first()
        if unit is not None:
            return unit
    if len(units) > 1:
        raise OfficeSettlementRefused(_("Several approving units sit in area %(code)s.") % {"code": code})
    raise OfficeSettlementRefused(_("No approving unit with cycles for code %(code)s.") % {"code": code})


# --- recording that the file was sent -----------------------------------------------------------


def may_send(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.PAYROLL_PREPARE, cycle.area)


@transaction.atomic
def record_sent(*, actor, cycle: PaymentCycle, reference: str = "") -> OfficeSettlement:
    """Record that the settlement file of `cycle` was sent to the finance office (payroll.prepare
    in the cycle's area): the figures are frozen and the cycle moves settled → closed. Recording
    it again returns the first record."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    if actor is not None and not may_send(actor, cycle):
        raise SettlementForbidden(_("Your role does not allow settling with the finance office here."))
    existing = OfficeSettlement.objects.filter(cycle=cycle).first()
    if existing is not None:
        return existing
    if cycle.state != S.SETTLED:
        raise OfficeSettlementRefused(
            _("The office settles with the finance office once the provider's settlement is accepted (now: %(state)s).")
            % {"state": S(cycle.state).label}
        )
    data = figures(cycle)
    obj = OfficeSettlement.objects.create(
        cycle=cycle,
        figures=data,
        reference=(reference or "").strip()[:60],
        area_path=cycle.area_path,
        sent_at=timezone.now(),
        sent_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        actor=actor,
        action="reconciliation.office_settlement.sent",
        obj=cycle,
        area=cycle.area,
        after={"month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code, "reference": obj.reference} | data,
    )
    transition(actor=actor, cycle=cycle, to_state=S.CLOSED, note=_("Settlement sent to the finance office"))
    return obj


@register_check(S.SETTLED, S.CLOSED)
def _sent_to_finance(cycle: PaymentCycle) -> str | None:
    """Closed: the settlement file for the finance office recorded as sent."""
    if not OfficeSettlement.objects.filter(cycle=cycle).exists():
        return _("Record that the settlement file was sent to the finance office first.")
    return None


# --- the files ---------------------------------------------------------------------------------------


def _rows_for(cycles) -> tuple[list[list], list[int]]:
    body, totals = [], [0] * len(COLUMNS)
    for i, cycle in enumerate(cycles, start=1):
        data = cycle_figures(cycle)
        values = [int(data.get(k, 0)) for k in COLUMNS]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        body.append([i, str(cycle.programme.name_vi), f"{cycle.month:%m/%Y}", *values])
    return body, totals


def _audit_export(actor, unit: OrgUnit, what: str, period: str) -> None:
    if actor is None:
        return
    with transaction.atomic():
        record(
            actor=actor,
            action="reconciliation.office_settlement.exported",
            area=unit.area,
            after={"unit": unit.short_name or unit.name, "file": what, "period": period},
        )


def month_xlsx(unit: OrgUnit, month: date, *, actor=None) -> bytes:
    """The settlement file of `unit` for `month` (XLSX, A4 landscape): one row per programme."""
    from openpyxl import Workbook

    from ansinh.payroll.sheets import signature_block

    cycles = list(unit_cycles(unit, [month]))
    with translation.override("vi"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = _("Settlement")[:31]
        page_setup(ws, [6, 34, 10, *([16] * len(COLUMNS))], landscape=True)
        width = 3 + len(COLUMNS)
        row = title_block(
            ws,
            unit_name=unit.name,
            place=unit.area.name,
            day=timezone.localdate(),
            number="",
            titles=[
                _("SETTLEMENT OF THE ALLOWANCES PAID").upper(),
                _("Month %(month)s") % {"month": f"{month:%m/%Y}"},
            ],
            width=width,
        )
        body, totals = _rows_for(cycles)
        headers = [_("Row no."), _("Programme"), _("Month"), *column_labels()]
        row = table(ws, row, headers, body, numeric_from=4, total=["", _("Total"), "", *totals])
        row += 1
        signature_block(ws, row, (1, 6), span=3)
    out = io.BytesIO()
    wb.save(out)
    _audit_export(actor, unit, "month", f"{month:%Y-%m}")
    return out.getvalue()


def period_months(year: int, quarter: int | None) -> list[date]:
    if quarter is None:
        return [date(year, m, 1) for m in range(1, 13)]
    if quarter not in (1, 2, 3, 4):
        raise OfficeSettlementRefused(_("A quarter is 1, 2, 3 or 4."))
    return [date(year, m, 1) for m in range(3 * quarter - 2, 3 * quarter + 1)]


def summary(unit: OrgUnit, year: int, quarter: int | None = None) -> list[dict]:
    """Per programme, one row per month of the period that has a cycle, and the programme's total."""
    by_programme: dict[int, dict] = {}
    for cycle in unit_cycles(unit, period_months(year, quarter)):
        entry = by_programme.setdefault(
            cycle.programme_id,
            {"programme": str(cycle.programme.name_vi), "months": [], "total": dict.fromkeys(COLUMNS, 0)},
        )
        data = cycle_figures(cycle)
        values = {k: int(data.get(k, 0)) for k in COLUMNS}
        entry["months"].append({"month": cycle.month, "state": cycle.state, **values})
        for k in COLUMNS:
            entry["total"][k] += values[k]
    return list(by_programme.values())


def summary_xlsx(unit: OrgUnit, year: int, quarter: int | None = None, *, actor=None) -> bytes:
    """The quarterly (or, `quarter` None, year-end) summary: per programme, its months and total."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ansinh.payroll.sheets import signature_block

    data = summary(unit, year, quarter)
    with translation.override("vi"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = _("Summary")[:31]
        page_setup(ws, [6, 12, *([16] * len(COLUMNS))], landscape=True)
        width = 2 + len(COLUMNS)
        period = (
            _("Quarter %(quarter)s/%(year)s") % {"quarter": quarter, "year": year}
            if quarter
            else _("Year %(year)s") % {"year": year}
        )
        row = title_block(
            ws,
            unit_name=unit.name,
            place=unit.area.name,
            day=timezone.localdate(),
            number="",
            titles=[_("SUMMARY OF THE SETTLEMENTS OF ALLOWANCES PAID").upper(), period],
            width=width,
        )
        headers = [_("Row no."), _("Month"), *column_labels()]
        for entry in data:
            ws.cell(row=row, column=1, value=entry["programme"]).font = Font(bold=True)
            row += 1
            body = [
                [i, f"{m['month']:%m/%Y}", *[m[k] for k in COLUMNS]] for i, m in enumerate(entry["months"], start=1)
            ]
            row = table(
                ws, row, headers, body, numeric_from=3, total=["", _("Total"), *[entry["total"][k] for k in COLUMNS]]
            )
        if not data:
            ws.cell(row=row, column=1, value=_("No payment cycle in this period."))
            row += 2
        signature_block(ws, row + 1, (1, 6), span=3)
    out = io.BytesIO()
    wb.save(out)
    _audit_export(actor, unit, "quarter" if quarter else "year", f"{year}" + (f"-Q{quarter}" if quarter else ""))
    return out.getvalue()
