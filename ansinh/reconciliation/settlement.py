"""The provider's settlement (issue 13 part 3, day 20: the PROVIDER_SETTLEMENT deadline).

For one cycle and one contract purpose (monthly allowances; funeral and emergency support has its
own contract) the statement is computed from the records (`statement`), never typed: the lists
and totals of those paid through an account, in cash at a pay point, at home or through a
representative, those not paid (with the reason), the amount returned, and the fee due under the
contract's rule (`payroll.fees.fee_for`: flat per beneficiary paid per month, or basis points of
the amount paid). This figure is the fee that counts (the funding request's was an expectation).

States: prepared → submitted (the provider, settlement.submit) → accepted or returned with
comments (the office, settlement.accept); a returned statement is submitted again. Submitting
needs every cash list of the cycle closed and no transfer waiting for the bank (`lists.blockers`).
Accepting, in one transaction: recomputes the statement (the records must not have changed since
it was submitted), posts the fee to the cycle's ledger, and once every purpose of the cycle is
accepted closes the ledger and moves the cycle paying → settled through
`payroll.services.transition` (its check, registered here, wants the accepted settlements; the
transition marks the PROVIDER_SETTLEMENT deadline done). Every step is audited; doing one twice
changes nothing. See docs/settlement.md."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.disbursement.models import Payout
from ansinh.payroll.fees import fee_for
from ansinh.payroll.funding import amount_in_words, format_number
from ansinh.payroll.models import (
    ContractPurpose,
    CycleState,
    FeeKind,
    LineType,
    PaymentCycle,
    PayrollLine,
    ProviderContract,
)
from ansinh.payroll.services import contract_for, register_check, transition

from . import lists
from .models import ProviderSettlement, SettlementState

S = CycleState
ST = SettlementState


class SettlementRefused(DomainError):
    """The settlement step cannot be taken now; the message says why (translated)."""


class SettlementForbidden(DomainError):
    """The actor's roles do not allow this step in the cycle's area."""


# --- the statement -------------------------------------------------------------------------------


@dataclass
class Statement:
    cycle: PaymentCycle
    purpose: str
    contract: ProviderContract | None
    totals: dict[str, dict] = field(default_factory=dict)  # kind → {"people", "amount"}
    returned: int = 0
    served: int = 0
    amount_paid: int = 0
    fee: int = 0
    fee_rule: str = ""
    blockers: list[str] = field(default_factory=list)

    def frozen(self) -> dict:
        """The figures kept on the settlement (and compared when the office accepts)."""
        return {
            "lists": self.totals,
            "returned": self.returned,
            "served": self.served,
            "amount_paid": self.amount_paid,
            "fee": self.fee,
            "contract": self.contract.number if self.contract else "",
            "fee_kind": self.contract.fee_kind if self.contract else "",
            "fee_flat": int(self.contract.fee_flat) if self.contract else 0,
            "fee_basis_points": int(self.contract.fee_basis_points) if self.contract else 0,
        }

    def rows(self, kind: str) -> list[dict]:
        return lists.rows(kind, [self.cycle], self.purpose)


def purposes_of(cycle: PaymentCycle) -> list[str]:
    """The contract purposes a cycle's payroll has lines for (regular first)."""
    types = set(PayrollLine.objects.filter(cycle=cycle).values_list("line_type", flat=True).distinct())
    out: list[str] = []
    if types - {LineType.FUNERAL}:
        out.append(ContractPurpose.REGULAR)
    if LineType.FUNERAL in types:
        out.append(ContractPurpose.FUNERAL_EMERGENCY)
    return out


def fee_rule_text(contract: ProviderContract | None) -> str:
    if contract is None:
        return _("No provider contract covers this cycle: no fee is due.")
    if contract.fee_kind == FeeKind.FLAT:
        return _("Contract %(number)s: %(amount)s đồng per beneficiary paid per month.") % {
            "number": contract.number,
            "amount": format_number(int(contract.fee_flat)),
        }
    bp = int(contract.fee_basis_points)
    return _("Contract %(number)s: %(percent)s %% of the amount paid.") % {
        "number": contract.number,
        "percent": f"{bp // 100},{bp % 100:02d}",
    }


def compute_fee(contract: ProviderContract | None, served: int, amount_paid: int) -> int:
    """The fee due: the contract's rule (`payroll.fees.fee_for`) on the beneficiaries served and
    the amount paid (a negative net, recoveries only, counts as nothing paid)."""
    if contract is None:
        return 0
    return fee_for(contract, served, max(amount_paid, 0))


def statement(cycle: PaymentCycle, purpose: str = ContractPurpose.REGULAR) -> Statement:
    """The statement of `cycle` for `purpose`, from the records (a handful of set-based queries)."""
    contract = contract_for(cycle, purpose)
    out = Statement(cycle=cycle, purpose=purpose, contract=contract)
    for kind in (lists.ACCOUNT, lists.PAY_POINT, lists.HOME_OR_REP, lists.NOT_PAID):
        t = lists.totals(kind, [cycle], purpose)
        out.totals[kind] = {"people": t.people, "amount": t.amount}
        if kind == lists.NOT_PAID:
            out.returned = int(t.extra["returned"])
    from django.db.models import Count, Sum

    paid = Payout.objects.filter(line__in=lists.lines_in([cycle], purpose)).aggregate(
        n=Count("line__beneficiary_id", distinct=True), s=Sum("amount")
    )
    out.served = int(paid["n"] or 0)
    out.amount_paid = int(paid["s"] or 0)
    out.fee = compute_fee(contract, out.served, out.amount_paid)
    out.fee_rule = fee_rule_text(contract)
    out.blockers = lists.blockers(cycle)
    return out


# --- reads ------------------------------------------------------------------------------------------


def may_submit(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.SETTLEMENT_SUBMIT, cycle.area)


def may_accept(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.SETTLEMENT_ACCEPT, cycle.area)


def settlement_of(cycle: PaymentCycle, purpose: str) -> ProviderSettlement | None:
    return ProviderSettlement.objects.filter(cycle=cycle, purpose=purpose).first()


# --- writes ------------------------------------------------------------------------------------------


def _locked_cycle(cycle: PaymentCycle) -> PaymentCycle:
    return (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )


def _check_purpose(cycle: PaymentCycle, purpose: str) -> None:
    if purpose not in purposes_of(cycle):
        raise SettlementRefused(_("This cycle's payroll has no lines under this contract purpose."))


def _apply(obj: ProviderSettlement, st: Statement) -> None:
    obj.contract = st.contract
    obj.totals = st.frozen()
    obj.beneficiaries_served = st.served
    obj.amount_paid = st.amount_paid
    obj.amount_returned = max(st.returned, 0)
    obj.fee = st.fee


def _audit_figures(obj: ProviderSettlement) -> dict:
    cycle = obj.cycle
    return {
        "month": f"{cycle.month:%Y-%m}",
        "programme": cycle.programme.code,
        "purpose": obj.purpose,
        "state": obj.state,
        "served": obj.beneficiaries_served,
        "amount_paid": obj.amount_paid,
        "returned": obj.amount_returned,
        "fee": obj.fee,
    }


@transaction.atomic
def submit(*, actor, cycle: PaymentCycle, purpose: str = ContractPurpose.REGULAR) -> ProviderSettlement:
    """The provider submits the statement of `cycle` for `purpose` (settlement.submit in the
    cycle's area). Refused, with the reasons, while a cash list is open or a transfer waits for
    the bank. Submitting again what is submitted or accepted returns it unchanged."""
    cycle = _locked_cycle(cycle)
    if actor is not None and not may_submit(actor, cycle):
        raise SettlementForbidden(_("Your role does not allow submitting the provider's settlement here."))
    _check_purpose(cycle, purpose)
    obj = ProviderSettlement.objects.select_for_update().filter(cycle=cycle, purpose=purpose).first()
    if obj is not None and obj.state in (ST.SUBMITTED, ST.ACCEPTED):
        return obj
    if cycle.state != S.PAYING:
        raise SettlementRefused(
            _("The provider settles a cycle that is being paid (now: %(state)s).") % {"state": S(cycle.state).label}
        )
    st = statement(cycle, purpose)
    if st.blockers:
        raise SettlementRefused(" ".join([_("The settlement cannot be submitted yet."), *st.blockers]))
    before = {"state": obj.state} if obj is not None else None
    if obj is None:
        obj = ProviderSettlement(cycle=cycle, purpose=purpose, area_path=cycle.area_path)
    _apply(obj, st)
    now = timezone.now()
    obj.state = ST.SUBMITTED
    obj.prepared_at = obj.prepared_at or now
    obj.prepared_by = obj.prepared_by or (actor if getattr(actor, "pk", None) else None)
    obj.submitted_at = now
    obj.submitted_by = actor if getattr(actor, "pk", None) else None
    obj.save()
    record(
        actor=actor,
        action="reconciliation.settlement.submitted",
        obj=obj,
        area=cycle.area,
        before=before,
        after=_audit_figures(obj),
    )
    return obj


def _require_accept(actor, cycle: PaymentCycle) -> None:
    if actor is not None and not may_accept(actor, cycle):
        raise SettlementForbidden(_("Your role does not allow accepting the provider's settlement here."))


@transaction.atomic
def return_settlement(*, actor, settlement: ProviderSettlement, comment: str) -> ProviderSettlement:
    """The office returns a submitted statement with its comments (settlement.accept)."""
    cycle = _locked_cycle(settlement.cycle)
    _require_accept(actor, cycle)
    obj = ProviderSettlement.objects.select_for_update().get(pk=settlement.pk)
    comment = (comment or "").strip()
    if obj.state == ST.RETURNED and obj.comment == comment:
        return obj
    if obj.state != ST.SUBMITTED:
        raise SettlementRefused(
            _("Only a submitted settlement can be returned (now: %(state)s).") % {"state": ST(obj.state).label}
        )
    if not comment:
        raise SettlementRefused(_("Write what the provider must correct."))
    obj.state, obj.comment = ST.RETURNED, comment[:4000]
    obj.decided_at, obj.decided_by = timezone.now(), actor if getattr(actor, "pk", None) else None
    obj.save(update_fields=["state", "comment", "decided_at", "decided_by"])
    record(
        actor=actor,
        action="reconciliation.settlement.returned",
        obj=obj,
        area=cycle.area,
        before={"state": ST.SUBMITTED},
        after=_audit_figures(obj),
        note=obj.comment[:2000],
    )
    return obj


def _ledger():
    """The ledger (ansinh.reconciliation.ledger): `post_fee` and `close_ledger`."""
    from ansinh.reconciliation import ledger

    return ledger


@transaction.atomic
def accept(*, actor, settlement: ProviderSettlement) -> ProviderSettlement:
    """The office accepts a submitted statement (settlement.accept in the cycle's area; moving
    the cycle also needs payroll.prepare there). In one transaction: the statement recomputed
    must equal the one submitted; the fee is posted to the ledger; when every purpose of the
    cycle is accepted the ledger is closed and the cycle moves to settled. Accepting an accepted
    settlement returns it unchanged."""
    cycle = _locked_cycle(settlement.cycle)
    _require_accept(actor, cycle)
    obj = ProviderSettlement.objects.select_for_update().get(pk=settlement.pk)
    if obj.state == ST.ACCEPTED:
        return obj
    if obj.state != ST.SUBMITTED:
        raise SettlementRefused(
            _("Only a submitted settlement can be accepted (now: %(state)s).") % {"state": ST(obj.state).label}
        )
    if cycle.state != S.PAYING:
        raise SettlementRefused(
            _("The cycle is not being paid any more (now: %(state)s).") % {"state": S(cycle.state).label}
        )
    st = statement(cycle, obj.purpose)
    if st.blockers:
        raise SettlementRefused(" ".join([_("The settlement cannot be accepted yet."), *st.blockers]))
    if st.frozen() != obj.totals:
        raise SettlementRefused(
            _(
                "The records changed since the provider submitted the settlement: return it so that the "
                "provider submits the statement again."
            )
        )
    obj.state = ST.ACCEPTED
    obj.decided_at, obj.decided_by = timezone.now(), actor if getattr(actor, "pk", None) else None
    obj.save(update_fields=["state", "decided_at", "decided_by"])
    ledger = _ledger()
    if obj.fee:
        ledger.post_fee(actor=actor, cycle=cycle, amount=obj.fee, source=f"settlement:{obj.pk}")
    record(
        actor=actor,
        action="reconciliation.settlement.accepted",
        obj=obj,
        area=cycle.area,
        before={"state": ST.SUBMITTED},
        after=_audit_figures(obj),
    )
    if all_accepted(cycle):
        ledger.close_ledger(actor=actor, cycle=cycle)
        transition(actor=actor, cycle=cycle, to_state=S.SETTLED, note=_("Provider's settlement accepted"))
    return obj


def all_accepted(cycle: PaymentCycle) -> bool:
    needed = set(purposes_of(cycle))
    accepted = set(ProviderSettlement.objects.filter(cycle=cycle, state=ST.ACCEPTED).values_list("purpose", flat=True))
    return needed <= accepted


@register_check(S.PAYING, S.SETTLED)
def _settlement_accepted(cycle: PaymentCycle) -> str | None:
    """Settled: the provider's settlement of every contract purpose of the payroll accepted."""
    if not all_accepted(cycle):
        return _("The office accepts the provider's settlement first (page “Settlement”).")
    return None


# --- the documents --------------------------------------------------------------------------------


def title_block(ws, *, unit_name: str, place: str, day, number: str, titles: list[str], width: int) -> int:
    """The administrative title block of the funding request (`payroll.funding.funding_request_xlsx`)
    over `width` columns: the unit and the national motto, the number and the place and date, the
    titles. Returns the next free row."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    bold = Font(bold=True)
    half = max(width // 2, 1)
    left, right = (
        f"A{{r}}:{get_column_letter(half)}{{r}}",
        f"{get_column_letter(half + 1)}{{r}}:{get_column_letter(width)}{{r}}",
    )
    cells = (
        (left, 1, 1, unit_name.upper(), bold),
        (right, 1, half + 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold),
        (right, 2, half + 1, "Độc lập - Tự do - Hạnh phúc", Font(bold=True, underline="single")),
        (left, 2, 1, _("No.: %(number)s") % {"number": number or "……"}, None),
        (
            right,
            3,
            half + 1,
            _("%(place)s, %(day)02d/%(month)02d/%(year)s")
            % {"place": place, "day": day.day, "month": day.month, "year": day.year},
            Font(italic=True),
        ),
    )
    for span, row, col, value, font in cells:
        ws.merge_cells(span.format(r=row))
        cell = ws.cell(row=row, column=col, value=value)
        cell.alignment = center
        if font is not None:
            cell.font = font
    row = 5
    for i, text in enumerate(titles):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        cell = ws.cell(row=row, column=1, value=text)
        cell.font = Font(bold=True, size=13) if i == 0 else bold
        cell.alignment = center
        row += 1
    return row + 1


def page_setup(ws, widths: list[int], landscape: bool = False) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.page_setup.paperSize = 9
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def table(ws, row: int, headers: list[str], rows: list[list], *, numeric_from: int, total: list | None = None) -> int:
    """A bordered table with a bold header and an optional bold total row; next free row."""
    from openpyxl.styles import Alignment, Border, Font, Side

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, head in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=head)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box
    row += 1
    for values in [*rows, *([total] if total else [])]:
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.border = box
            if col >= numeric_from:
                cell.alignment = Alignment(horizontal="right")
                if isinstance(value, int):
                    cell.number_format = "#,##0"
            if total is not None and values is total:
                cell.font = Font(bold=True)
        row += 1
    return row + 1


_h = gettext_lazy
LIST_HEADERS = {
    lists.ACCOUNT: (
        _h("Row no."),
        _h("Beneficiary"),
        _h("Commune"),
        _h("Account"),
        _h("Account holder"),
        _h("Amount (đồng)"),
    ),
    lists.PAY_POINT: (
        _h("Row no."),
        _h("Beneficiary"),
        _h("Commune"),
        _h("Pay point"),
        _h("Received by"),
        _h("Amount (đồng)"),
    ),
    lists.HOME_OR_REP: (
        _h("Row no."),
        _h("Beneficiary"),
        _h("Commune"),
        _h("Route or pay point"),
        _h("Received by"),
        _h("Amount (đồng)"),
    ),
    lists.NOT_PAID: (
        _h("Row no."),
        _h("Beneficiary"),
        _h("Commune"),
        _h("Reason"),
        _h("Returned (đồng)"),
        _h("Amount (đồng)"),
    ),
}


def list_cells(kind: str, i: int, r: dict) -> list:
    if kind == lists.ACCOUNT:
        return [i, r["name"], r["commune"], r.get("account_shown", ""), r["payee"], r["amount"]]
    if kind in (lists.PAY_POINT, lists.HOME_OR_REP):
        return [i, r["name"], r["commune"], r["place"], r["payee"], r["amount"]]
    return [i, r["name"], r["commune"], r["reason"], r["returned_amount"], r["amount"]]


def statement_xlsx(st: Statement, *, actor=None, out=None) -> bytes:
    """The statement as an administrative document (XLSX, A4): title block, the summary with the
    fee, then one table per list with its total row. Account numbers masked unless the actor may
    see them; no categories. Audited as an export when `actor` is given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ansinh.payroll.sheets import signature_block

    cycle = st.cycle
    with translation.override("vi"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = _("Settlement")[:31]
        page_setup(ws, [8, 30, 20, 28, 26, 18])
        provider = st.contract.provider.name if st.contract else ""
        row = title_block(
            ws,
            unit_name=provider or str(cycle.approving_unit.name),
            place=cycle.area.name,
            day=timezone.localdate(),
            number="",
            titles=[
                _("SETTLEMENT OF PAYMENTS BY THE PROVIDER").upper(),
                str(cycle.programme.name_vi),
                _("Month %(month)s – %(unit)s") % {"month": f"{cycle.month:%m/%Y}", "unit": cycle.approving_unit.name},
                str(ContractPurpose(st.purpose).label),
            ],
            width=6,
        )
        summary = [
            [1, str(lists.KIND_LABELS[k]), "", "", st.totals[k]["people"], st.totals[k]["amount"]]
            for k in (lists.ACCOUNT, lists.PAY_POINT, lists.HOME_OR_REP, lists.NOT_PAID)
        ]
        for i, r in enumerate(summary, start=1):
            r[0] = i
        summary.append([5, _("Amount returned"), "", "", "", st.returned])
        summary.append([6, _("Beneficiaries served, amount paid"), "", "", st.served, st.amount_paid])
        summary.append([7, _("Service fee due"), st.fee_rule, "", "", st.fee])
        row = table(
            ws, row, [_("Row no."), _("Item"), _("Note"), "", _("People"), _("Amount (đồng)")], summary, numeric_from=5
        )
        ws.cell(
            row=row - 1, column=1, value=_("Fee in words: %(words)s.") % {"words": amount_in_words(st.fee)}
        ).font = Font(italic=True)
        row += 1
        for n, kind in enumerate((lists.ACCOUNT, lists.PAY_POINT, lists.HOME_OR_REP, lists.NOT_PAID), start=1):
            ws.cell(row=row, column=1, value=f"{n}. {lists.KIND_LABELS[kind]}").font = Font(bold=True)
            row += 1
            data = lists.present(st.rows(kind), actor, cycle.area)
            body = [list_cells(kind, i, r) for i, r in enumerate(data, start=1)]
            total_row = [
                "",
                _("Total"),
                "",
                "",
                sum(r["returned_amount"] for r in data) if kind == lists.NOT_PAID else "",
                sum(r["amount"] for r in data),
            ]
            row = table(ws, row, [str(h) for h in LIST_HEADERS[kind]], body, numeric_from=5, total=total_row)
        row += 1
        signature_block(ws, row, (1, 4), span=3)
    buffer = out if out is not None else io.BytesIO()
    wb.save(buffer)
    if actor is not None:
        with transaction.atomic():
            record(
                actor=actor,
                action="reconciliation.settlement.exported",
                obj=cycle,
                area=cycle.area,
                after={"month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code, "purpose": st.purpose},
            )
    return buffer.getvalue() if out is None else b""


def file_name(st: Statement) -> str:
    cycle = st.cycle
    return f"quyet-toan-{cycle.programme.code.lower()}-{cycle.month:%Y-%m}-{cycle.pk}-{st.purpose}.xlsx"
