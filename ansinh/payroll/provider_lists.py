"""The lists the payment provider works from (issue 10 part 3): for an approved cycle, one XLSX
per commune and channel, laid out like a Vietnamese administrative list (the unit, "DANH SÁCH
CHI TRẢ … THÁNG mm/yyyy", the commune), with totals and signature lines:

- account list: STT, beneficiary, payee, payee's CCCD, bank or wallet, account number (masked:
  •••• and the last four digits, never the full number at this stage), amount, note;
- pay-point list: STT, beneficiary, payee, payee's CCCD, village, address, amount, signature;
- home-delivery list: the same columns, grouped by village with a subtotal per village.

A line is listed under its channel after the approved same-month fixes (`fixes`). The lines of
one beneficiary paid to the same payee the same way are one row (regular allowance, arrears and
a recovery deducted: the net amount; notes say "includes arrears", "after a recovery"); funeral
support is its own row (to the person organising the funeral). No category, programme rule or
explanation appears (never an HIV-related category): only who, to whom, how and how much.

The payee's CCCD is shown in full only to a user whose role may read CCCDs in the commune
(registry.view_cccd), otherwise masked but for its last four digits. Rows are streamed from the
database in chunks into openpyxl's write-only workbook (bounded memory); every export is audited
(`payroll.provider_list.exported`): exports of personal data are logged."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, F, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.core.exporter import header_cells, print_setup
from ansinh.core.masking import mask_number
from ansinh.core.money import format_vnd

from .fixes import _latest_approved, with_effective_channel
from .models import Channel, CycleState, LineType, PaymentCycle, PayrollApproval, PayrollLine

S = CycleState


def _L(text: str) -> str:  # noqa: N802 - the labels of the lists, in their own context
    return pgettext("provider list", text)


CHUNK = 2000
LISTABLE_STATES = (S.APPROVED, S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING, S.SETTLED, S.CLOSED)
DOWNLOAD_CAPS = (Cap.PAYROLL_PREPARE, Cap.PAYROLL_APPROVE, Cap.PAYMENTS_PROVIDE)
AMOUNT_FORMAT = "#,##0"
SLUGS: dict[str, str] = {Channel.ACCOUNT: "tai-khoan", Channel.PAY_POINT: "diem-chi-tra", Channel.HOME: "tai-nha"}


class ListRefused(DomainError):
    """The lists cannot be made (the payroll is not approved)."""


def may_download(user, commune: Area) -> bool:
    return any(access.can_in_area(user, cap, commune) for cap in DOWNLOAD_CAPS)


def check_listable(cycle: PaymentCycle) -> None:
    if cycle.state not in LISTABLE_STATES or not PayrollApproval.objects.filter(cycle_id=cycle.pk).exists():
        raise ListRefused(_("The provider lists are made from an approved payroll only."))


def communes_of(cycle: PaymentCycle) -> list[Area]:
    ids = PayrollLine.objects.filter(cycle=cycle).values("commune_id").distinct()
    return list(Area.objects.filter(pk__in=ids).order_by("name"))


def titles() -> dict[str, str]:
    return {
        Channel.ACCOUNT: _L("PAYMENT LIST BY TRANSFER TO ACCOUNTS, MONTH %(month)s"),
        Channel.PAY_POINT: _L("PAYMENT LIST AT THE PAY POINT, MONTH %(month)s"),
        Channel.HOME: _L("PAYMENT LIST AT HOME, MONTH %(month)s"),
    }


def headers(channel: str) -> list[str]:
    who = [_L("No."), _L("Beneficiary"), _L("Payee"), _L("Payee's citizen ID")]
    if channel == Channel.ACCOUNT:
        return [*who, _L("Bank or wallet"), _L("Account number"), _L("Amount (đồng)"), _L("Note")]
    return [*who, _L("Village"), _L("Address"), _L("Amount (đồng)"), _L("Signature of the payee")]


WIDTHS = [6, 28, 28, 16, 16, 20, 16, 24]


@dataclass
class Row:
    beneficiary_id: int
    beneficiary: str
    payee: str
    cccd: str
    village: str
    address: str
    institution: str
    last4: str
    funeral: bool
    amount: int = 0
    notes: set[str] = field(default_factory=set)

    def key(self) -> tuple:
        return (self.beneficiary_id, self.funeral, self.payee, self.institution, self.last4)


def _lines(cycle: PaymentCycle, commune_id: int, channel: str) -> QuerySet:
    latest = _latest_approved()
    qs = with_effective_channel(PayrollLine.objects.filter(cycle=cycle, commune_id=commune_id))
    return (
        qs.filter(effective_channel=channel)
        .annotate(
            eff_institution=Case(
                When(fix_id__isnull=False, then=Subquery(latest.values("account__institution__code")[:1])),
                default=F("account_institution"),
            ),
            eff_last4=Case(
                When(fix_id__isnull=False, then=Subquery(latest.values("account__last4")[:1])),
                default=F("account_last4"),
            ),
        )
        .annotate(funeral_last=Case(When(line_type=LineType.FUNERAL, then=1), default=0))
        .order_by("beneficiary__village__name", "beneficiary__name_key", "beneficiary_id", "funeral_last", "id")
        .values_list(
            "beneficiary_id",
            "beneficiary__full_name",
            "payee_name",
            "beneficiary__cccd",
            "representation__representative__cccd",
            "funeral__organiser_cccd",
            "beneficiary__village__name",
            "beneficiary__address",
            "eff_institution",
            "eff_last4",
            "line_type",
            "amount",
            "fix_id",
        )
    )


def rows(cycle: PaymentCycle, commune_id: int, channel: str, *, full_cccd: bool) -> Iterator[Row]:
    """The list's rows in order (village, name), one per beneficiary, payee and account; rows
    with nothing to pay (a recovery took all) are left out. Streamed in chunks."""
    current: Row | None = None
    for (
        bid,
        name,
        payee,
        own_cccd,
        rep_cccd,
        organiser_cccd,
        village,
        address,
        institution,
        last4,
        line_type,
        amount,
        fix_id,
    ) in _lines(cycle, commune_id, channel).iterator(chunk_size=CHUNK):
        funeral = line_type == LineType.FUNERAL
        cccd = (organiser_cccd if funeral else rep_cccd or own_cccd) or ""
        row = Row(
            beneficiary_id=bid,
            beneficiary=name,
            payee=payee,
            cccd=cccd if full_cccd else mask_number(cccd),
            village=village or "",
            address=address or "",
            institution=(institution or "") if channel == Channel.ACCOUNT else "",
            last4=(last4 or "") if channel == Channel.ACCOUNT else "",
            funeral=funeral,
        )
        if current is None or current.key() != row.key():
            if current is not None and current.amount > 0:
                yield current
            current = row
        current.amount += int(amount)
        note = {
            LineType.ARREARS: _L("Includes arrears"),
            LineType.RECOVERY: _L("After deducting a recovery"),
            LineType.FUNERAL: _L("Funeral support"),
        }.get(line_type)
        if note:
            current.notes.add(note)
        if fix_id:
            current.notes.add(_L("Payment fixed this month"))
    if current is not None and current.amount > 0:
        yield current


def _cell(ws, value, *, bold: bool = False, amount: bool = False, size: int | None = None, italic: bool = False):
    c = WriteOnlyCell(ws, value=value)
    if bold or size or italic:
        c.font = Font(bold=bold, size=size or 11, italic=italic)
    if amount:
        c.number_format = AMOUNT_FORMAT
        c.alignment = Alignment(horizontal="right")
    return c


def write_list(
    out, *, cycle: PaymentCycle, commune: Area, channel: str, full_cccd: bool, provider: str = ""
) -> dict[str, int]:
    """Write one list into `out`; returns {"rows": …, "total": …}."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_L("Payment list")[:31])
    for i, width in enumerate(WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    heading = [
        [_cell(ws, cycle.approving_unit.name.upper(), bold=True)],
        [_cell(ws, titles()[channel] % {"month": f"{cycle.month:%m/%Y}"}, bold=True, size=14)],
        [_cell(ws, _L("Commune: %(name)s") % {"name": commune.full_name}, italic=True)],
    ]
    if provider:
        heading.append([_cell(ws, _L("Paid by: %(name)s") % {"name": provider}, italic=True)])
    heading.append([_cell(ws, _L("Made on: %(date)s") % {"date": f"{timezone.localdate():%d/%m/%Y}"}, italic=True)])
    heading.append([])
    print_setup(ws, header_row=len(heading) + 1)
    for line in heading:
        ws.append(line)
    ws.append(header_cells(ws, headers(channel)))
    count = total = 0
    village_total: int | None = None
    village: str | None = None
    grouped = channel == Channel.HOME

    def subtotal() -> list:
        return [
            "",
            _cell(ws, _L("Subtotal of the village"), bold=True),
            "",
            "",
            "",
            "",
            _cell(ws, village_total, bold=True, amount=True),
            "",
        ]

    for row in rows(cycle, commune.pk, channel, full_cccd=full_cccd):
        if grouped and row.village != village:
            if village is not None:
                ws.append(subtotal())
            village, village_total = row.village, 0
            ws.append(["", _cell(ws, row.village or _L("Village not recorded"), bold=True)])
        count += 1
        total += row.amount
        if village_total is not None:
            village_total += row.amount
        who = [count, row.beneficiary, row.payee, row.cccd]
        if channel == Channel.ACCOUNT:
            masked = f"•••• {row.last4}" if row.last4 else ""
            ws.append([*who, row.institution, masked, _cell(ws, row.amount, amount=True), "; ".join(sorted(row.notes))])
        else:
            ws.append([*who, row.village, row.address, _cell(ws, row.amount, amount=True), ""])
    if grouped and village is not None:
        ws.append(subtotal())
    ws.append(["", _cell(ws, _L("Total"), bold=True), "", "", "", "", _cell(ws, total, bold=True, amount=True), ""])
    ws.append([])
    ws.append(
        [
            "",
            _cell(
                ws,
                _L("Total: %(count)s people, %(amount)s")
                % {"count": f"{count:,}".replace(",", "."), "amount": format_vnd(total)},
                italic=True,
            ),
        ]
    )
    ws.append([])
    ws.append(["", _cell(ws, _L("Prepared by"), bold=True), "", "", _cell(ws, _L("Head of the unit"), bold=True)])
    ws.append(
        [
            "",
            _cell(ws, _L("(Signature, full name)"), italic=True),
            "",
            "",
            _cell(ws, _L("(Signature, full name, seal)"), italic=True),
        ]
    )
    wb.save(out)
    return {"rows": count, "total": total}


def filename(cycle: PaymentCycle, commune: Area, channel: str) -> str:
    return f"ds-chi-tra-{SLUGS[channel]}-{commune.code or commune.pk}-{cycle.month:%Y-%m}-{cycle.pk}.xlsx"


def _provider_name(cycle: PaymentCycle) -> str:
    from .services import contract_for

    contract = contract_for(cycle)
    return str(contract.provider) if contract is not None else ""


def _audit(actor, cycle: PaymentCycle, commune: Area | None, lists: list[dict]) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action="payroll.provider_list.exported",
            obj=cycle,
            area=commune or cycle.area,
            after={
                "month": f"{cycle.month:%Y-%m}",
                "commune": commune.full_name if commune else "",
                "lists": lists,
                "rows": sum(x["rows"] for x in lists),
                "total_amount": sum(x["total"] for x in lists),
            },
        )


def export_list(*, actor, cycle: PaymentCycle, commune: Area, channel: str) -> tuple[str, bytes]:
    """One list as (file name, XLSX bytes); audited. The caller checks `may_download`."""
    check_listable(cycle)
    if channel not in Channel.values:
        raise ListRefused(_("Choose the channel of the list."))
    full = access.can_in_area(actor, Cap.REGISTRY_VIEW_CCCD, commune)
    out = io.BytesIO()
    made = write_list(
        out, cycle=cycle, commune=commune, channel=channel, full_cccd=full, provider=_provider_name(cycle)
    )
    _audit(actor, cycle, commune, [{"channel": channel, "commune_id": commune.pk, **made}])
    return filename(cycle, commune, channel), out.getvalue()


def export_zip(*, actor, cycle: PaymentCycle) -> tuple[str, bytes]:
    """All lists of the cycle the user may download (each commune with lines, each channel with
    rows) in one ZIP; audited as one export."""
    check_listable(cycle)
    provider = _provider_name(cycle)
    out = io.BytesIO()
    made_lists = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for commune in communes_of(cycle):
            if not may_download(actor, commune):
                continue
            full = access.can_in_area(actor, Cap.REGISTRY_VIEW_CCCD, commune)
            for channel in Channel.values:
                buf = io.BytesIO()
                made = write_list(buf, cycle=cycle, commune=commune, channel=channel, full_cccd=full, provider=provider)
                if made["rows"]:
                    archive.writestr(filename(cycle, commune, channel), buf.getvalue())
                    made_lists.append({"channel": channel, "commune_id": commune.pk, **made})
    _audit(actor, cycle, None, made_lists)
    return f"ds-chi-tra-{cycle.month:%Y-%m}-{cycle.pk}.zip", out.getvalue()
