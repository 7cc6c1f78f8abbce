"""Funding an approved payroll (issue 10 part 5): the funding request (giấy đề nghị tạm ứng) with
its totals per channel and per line type plus the expected fee, its XLSX document, and the
advances received from the treasury, which move the cycle to "funded" once they cover the
request. See docs/payment-cycle.md, "Funding".

- The request is frozen from the approved payroll: `generation.summarize` (one query) gives the
  totals per channel and line type (arrears are money to advance, recoveries are negative and
  reduce it, funeral support is its own row); `generation.expected_fee` the fee under the
  contract in force (an expectation: settlement's figure is the one that counts). The request
  keeps the approval's content hash, so it can be checked against the approved lines.
- Making it twice returns the first (idempotent). Recording the same treasury reference twice
  is harmless when identical, refused when different.
- The step approved → funded is `services.transition`; its check (services) wants a request and
  advances that cover its total, and names the shortfall otherwise."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError

from .generation import expected_fee, summarize
from .models import Advance, Channel, CycleState, FundingRequest, LineType, PaymentCycle, PayrollApproval, PayrollLine
from .services import TransitionForbidden, transition
from .sheets import signature_block

S = CycleState
# States in which the funding request may already exist (approved, or later along the path).
FUNDED_OR_LATER = (S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING, S.SETTLED, S.CLOSED)


class FundingRefused(DomainError):
    """The funding step cannot be taken now; the message says why (translated)."""


def _locked(cycle: PaymentCycle) -> PaymentCycle:
    return (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )


def _require_prepare(actor, cycle: PaymentCycle) -> None:
    if getattr(actor, "pk", None) is None:  # the request and the advances name the person who made them
        raise FundingRefused(_("Only a signed-in officer can record this."))
    if not access.can_in_area(actor, Cap.PAYROLL_PREPARE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow preparing the payroll here."))


def format_number(amount: int) -> str:
    """1598000 → "1.598.000" (Vietnamese grouping, no currency sign)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".")


def amount_in_words(amount: int) -> str:
    """The amount in Vietnamese words, as on a payment document: "Một triệu năm trăm chín mươi
    tám nghìn đồng" (num2words, language "vi")."""
    from num2words import num2words  # type: ignore[import-untyped]

    words = num2words(abs(int(amount)), lang="vi")
    if amount < 0:
        words = "âm " + words
    words = f"{words} đồng"
    return words[:1].upper() + words[1:]


def _people_per_channel(cycle: PaymentCycle) -> dict[str, int]:
    """Distinct beneficiaries paid per channel (a person with a regular and an arrears line is one)."""
    rows = (
        PayrollLine.objects.filter(cycle=cycle)
        .values_list("channel")
        .annotate(n=Count("beneficiary_id", distinct=True))
        .order_by()
    )
    return {str(channel): int(n) for channel, n in rows}


def request_data(cycle: PaymentCycle) -> dict:
    """The figures of a funding request for the cycle's current lines (no write)."""
    summary = summarize(cycle)
    fee = expected_fee(cycle, summary)
    people = _people_per_channel(cycle)
    channels = {
        c: {"people": people.get(c, 0), "lines": v["lines"], "amount": v["amount"]}
        for c, v in summary["per_channel"].items()
    }
    beneficiaries = PayrollLine.objects.filter(cycle=cycle).values("beneficiary_id").distinct().count()
    return {
        "channels": channels,
        "line_types": summary["per_line_type"],
        "beneficiaries": beneficiaries,
        "lines": summary["lines"],
        "allowances_total": int(summary["total_amount"]),
        "fee_total": int(fee["fee_total"]),
        "fee_note": str(fee["fee_note"]),
    }


@transaction.atomic
def make_funding_request(*, actor, cycle: PaymentCycle, number: str = "") -> FundingRequest:
    """Make the funding request of an approved cycle (payroll.prepare in the cycle's area).
    Idempotent: once made, it is returned as it is (also after the cycle moved on)."""
    cycle = _locked(cycle)
    _require_prepare(actor, cycle)
    existing = FundingRequest.objects.filter(cycle=cycle).first()
    if existing is not None:
        return existing
    if cycle.state != S.APPROVED:
        raise FundingRefused(
            _("A funding request is made for an approved payroll (now: %(state)s).") % {"state": S(cycle.state).label}
        )
    approval = PayrollApproval.objects.filter(cycle=cycle).first()
    if approval is None:
        raise FundingRefused(_("The payroll's approval is not recorded; no funding request can be made."))
    data = request_data(cycle)
    allowances, fee = data["allowances_total"], data["fee_total"]
    per_channel = {k: v for k, v in data.items() if k not in ("allowances_total", "fee_total")}
    funding = FundingRequest.objects.create(
        cycle=cycle,
        number=number.strip()[:60],
        per_channel=per_channel,
        allowances_total=allowances,
        fee_total=fee,
        total=allowances + fee,
        content_hash=approval.content_hash,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    record(
        actor=actor,
        action="payroll.funding.requested",
        obj=cycle,
        area=cycle.area,
        after={
            "month": f"{cycle.month:%Y-%m}",
            "programme": cycle.programme.code,
            "number": funding.number,
            "allowances_total": allowances,
            "fee_total": fee,
            "total": funding.total,
            "content_hash": funding.content_hash,
        },
    )
    return funding


def advanced_total(cycle: PaymentCycle) -> int:
    return int(Advance.objects.filter(cycle=cycle).aggregate(s=Sum("amount"))["s"] or 0)


def shortfall_message(funding: FundingRequest, received: int) -> str:
    return _(
        "The advances received (%(received)s đồng) do not cover the funding request (%(total)s đồng): "
        "%(missing)s đồng are missing."
    ) % {
        "received": format_number(received),
        "total": format_number(funding.total),
        "missing": format_number(funding.total - received),
    }


@dataclass
class AdvanceResult:
    advance: Advance
    created: bool
    funded: bool  # the cycle is funded (now or already)
    shortfall: int  # đồng still missing (0 when covered)
    message: str  # the shortfall sentence, or ""


@transaction.atomic
def record_advance(*, actor, cycle: PaymentCycle, amount: int, received_on: date, reference: str) -> AdvanceResult:
    """Record an advance received from the treasury (payroll.prepare in the cycle's area). When
    the advances cover the funding request's total, the cycle moves approved → funded (through
    `services.transition`, audited there). The same reference again is harmless when identical
    (returns the first), refused when different."""
    cycle = _locked(cycle)
    _require_prepare(actor, cycle)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise FundingRefused(_("The advance must be a whole number of đồng greater than 0."))
    reference = (reference or "").strip()
    if not reference:
        raise FundingRefused(_("Enter the treasury's reference of the advance."))
    if len(reference) > 60:
        raise FundingRefused(_("The treasury's reference is at most 60 characters."))
    funding = FundingRequest.objects.filter(cycle=cycle).first()
    if funding is None:
        raise FundingRefused(_("Make the funding request before recording an advance."))
    existing = Advance.objects.filter(cycle=cycle, reference=reference).first()
    if existing is not None:
        if existing.amount != amount or existing.received_on != received_on:
            raise FundingRefused(
                _("An advance with reference %(reference)s is already recorded for this cycle with other figures.")
                % {"reference": reference}
            )
        received = advanced_total(cycle)
        missing = max(funding.total - received, 0)
        return AdvanceResult(
            existing, False, cycle.state != S.APPROVED, missing, shortfall_message(funding, received) if missing else ""
        )
    if cycle.state != S.APPROVED:
        raise FundingRefused(
            _("Advances are recorded for an approved payroll (now: %(state)s).") % {"state": S(cycle.state).label}
        )
    advance = Advance.objects.create(
        cycle=cycle, amount=amount, received_on=received_on, reference=reference, recorded_by=actor
    )
    from ansinh.reconciliation import ledger  # the ledger's entry, in this transaction

    ledger.on_advance(actor=actor, advance=advance)
    received = advanced_total(cycle)
    record(
        actor=actor,
        action="payroll.advance.recorded",
        obj=cycle,
        area=cycle.area,
        after={
            "month": f"{cycle.month:%Y-%m}",
            "programme": cycle.programme.code,
            "amount": amount,
            "received_on": received_on.isoformat(),
            "reference": reference,
            "received_total": received,
            "requested_total": funding.total,
        },
    )
    missing = max(funding.total - received, 0)
    if missing:
        return AdvanceResult(advance, True, False, missing, shortfall_message(funding, received))
    transition(actor=actor, cycle=cycle, to_state=S.FUNDED, note=_("Advance %(reference)s") % {"reference": reference})
    return AdvanceResult(advance, True, True, 0, "")


# --- the XLSX document ------------------------------------------------------------------------------


def _line_type_labels() -> list[tuple[str, str]]:
    return [
        (LineType.REGULAR, pgettext("funding request", "Regular monthly allowance")),
        (LineType.ARREARS, pgettext("funding request", "Arrears")),
        (LineType.RECOVERY, pgettext("funding request", "Recoveries")),
        (LineType.FUNERAL, pgettext("funding request", "Funeral support")),
    ]


def funding_request_xlsx(funding: FundingRequest, *, actor=None, out=None) -> bytes:
    """The funding request as an administrative document (XLSX, A4 portrait): the unit and the
    national motto, the title with the programme and the month, a table per channel and one per
    line type (people, amount), the fee, the total and the amount in words, the signatures. No
    personal data. Audited as an export when `actor` is given (the web and API pass the user)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    cycle = funding.cycle
    data = funding.per_channel or {}
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    with translation.override("vi"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = _("Funding request")[:31]
        for i, width in enumerate((8, 46, 14, 22), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.page_setup.paperSize = 9
        ws.page_setup.orientation = "portrait"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0

        unit = cycle.approving_unit
        ws.merge_cells("A1:B1")
        ws["A1"] = str(unit.name).upper()
        ws["A1"].font = bold
        ws["A1"].alignment = center
        ws.merge_cells("C1:D1")
        ws["C1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        ws["C1"].font = bold
        ws["C1"].alignment = center
        ws.merge_cells("C2:D2")
        ws["C2"] = "Độc lập - Tự do - Hạnh phúc"
        ws["C2"].font = Font(bold=True, underline="single")
        ws["C2"].alignment = center
        ws.merge_cells("A2:B2")
        ws["A2"] = _("No.: %(number)s") % {"number": funding.number or "……"}
        ws["A2"].alignment = center
        ws.merge_cells("C3:D3")
        day = timezone.localtime(funding.requested_at).date()
        ws["C3"] = _("%(place)s, %(day)02d/%(month)02d/%(year)s") % {
            "place": cycle.area.name,
            "day": day.day,
            "month": day.month,
            "year": day.year,
        }
        ws["C3"].alignment = center
        ws["C3"].font = Font(italic=True)

        row = 5
        for text, font in (
            (_("FUNDING REQUEST FOR AN ADVANCE TO PAY ALLOWANCES").upper(), Font(bold=True, size=13)),
            (str(cycle.programme.name_vi), bold),
            (_("Month %(month)s") % {"month": f"{cycle.month:%m/%Y}"}, bold),
        ):
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
            cell = ws.cell(row=row, column=1, value=text)
            cell.font = font
            cell.alignment = center
            row += 1
        row += 1
        ws.cell(row=row, column=1, value=_("Approved payroll, content hash: %(hash)s") % {"hash": funding.content_hash})
        row += 2

        def table(title: str, rows: list[tuple[str, int, int]], row: int) -> int:
            ws.cell(row=row, column=1, value=title).font = bold
            row += 1
            for col, head in enumerate((_("Row no."), _("Item"), _("People"), _("Amount (đồng)")), start=1):
                cell = ws.cell(row=row, column=col, value=head)
                cell.font = bold
                cell.alignment = center
                cell.border = box
            row += 1
            for i, (label, people, amount) in enumerate(rows, start=1):
                values: tuple[int | str, ...] = (i, label, format_number(people), format_number(amount))
                for col, value in enumerate(values, start=1):
                    cell = ws.cell(row=row, column=col, value=value)
                    cell.border = box
                    if col >= 3:
                        cell.alignment = Alignment(horizontal="right")
                row += 1
            total = (
                "",
                _("Total"),
                format_number(sum(r[1] for r in rows)),
                format_number(sum(r[2] for r in rows)),
            )
            for col, value in enumerate(total, start=1):
                cell = ws.cell(row=row, column=col, value=value)
                cell.border = box
                cell.font = bold
                if col >= 3:
                    cell.alignment = Alignment(horizontal="right")
            return row + 2

        channels = data.get("channels", {})
        channel_rows = [
            (str(label), int(channels.get(value, {}).get("people", 0)), int(channels.get(value, {}).get("amount", 0)))
            for value, label in Channel.choices
        ]
        row = table(_("I. By way of paying"), channel_rows, row)
        types = data.get("line_types", {})
        type_rows = [
            (str(label), int(types.get(value, {}).get("lines", 0)), int(types.get(value, {}).get("amount", 0)))
            for value, label in _line_type_labels()
        ]
        row = table(_("II. By kind of payment"), type_rows, row)

        for label, amount in (
            (_("Allowances to advance"), funding.allowances_total),
            (_("Service fee of the payment provider (expected)"), funding.fee_total),
            (_("TOTAL REQUESTED"), funding.total),
        ):
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
            ws.cell(row=row, column=1, value=label).font = bold
            cell = ws.cell(row=row, column=4, value=format_number(amount))
            cell.font = bold
            cell.alignment = Alignment(horizontal="right")
            row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        ws.cell(row=row, column=1, value=_("In words: %(words)s.") % {"words": amount_in_words(funding.total)})
        ws.cell(row=row, column=1).font = Font(italic=True)
        row += 1
        if data.get("fee_note"):
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
            ws.cell(row=row, column=1, value=str(data["fee_note"]))
            row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        ws.cell(
            row=row,
            column=1,
            value=_("The service fee is an expectation; the fee computed at settlement is the one paid."),
        ).font = Font(italic=True, size=9)
        row += 3
        signature_block(ws, row, (1, 3), span=2)
    buffer = out if out is not None else io.BytesIO()
    wb.save(buffer)
    if actor is not None:
        # a download is a read: its own transaction for the audit event (a web request has none)
        with transaction.atomic():
            record(
                actor=actor,
                action="payroll.funding.exported",
                obj=cycle,
                area=cycle.area,
                after={"month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code, "total": funding.total},
            )
    return buffer.getvalue() if out is None else b""


def file_name(funding: FundingRequest) -> str:
    cycle = funding.cycle
    return f"de-nghi-tam-ung-{cycle.programme.code.lower()}-{cycle.month:%Y-%m}-{cycle.pk}.xlsx"
