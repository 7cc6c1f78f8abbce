"""Who was paid how, and who was not (issue 13 parts 3 and 4): the lists of a provider's
settlement statement and the monthly lists (paid through an account; paid in cash at a pay
point; paid at home or through a representative; not paid), computed from the records, set-based.

- Paid through an account: a `disbursement.Payout` of channel account (one row per credited
  transfer: the net of the beneficiary's lines paid together).
- Paid in cash: a `cashout.CashEntry` paid (entries of source `withdrawal` hand out money already
  credited to an account and are not counted again). At home or through a representative: the
  entry's list is a home-delivery route, or the paid receipt names a listed representative as
  the receiver; otherwise at a pay point.
- Not paid: the payroll lines without a payout, per beneficiary, with the reason taken from the
  cash list or the transfer. The amount "returned" is the unpaid cash returned when a list was
  closed plus the transfers that failed (every instruction rejected or cancelled) and were not
  put on a cash list.

The lists show names, the commune, the masked CCCD and account (`present`), never categories (so
no HIV category can show)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.cashout.models import (
    CashEntry,
    CashEntryLine,
    CashList,
    CashListKind,
    CashListState,
    CashReceipt,
    EntrySource,
    EntryState,
    NotPaidReason,
    ReceiptOutcome,
    ReceiptResult,
    ReceiverKind,
)
from ansinh.core.masking import mask_number
from ansinh.disbursement.models import DEAD_STATES, Instruction, InstructionState, Payout, PayoutChannel
from ansinh.payroll.models import ContractPurpose, LineType, PaymentCycle, PayrollLine

ACCOUNT = "account"
PAY_POINT = "pay_point"
HOME_OR_REP = "home_or_representative"
NOT_PAID = "not_paid"
KINDS = (ACCOUNT, PAY_POINT, HOME_OR_REP, NOT_PAID)
KIND_LABELS = {
    ACCOUNT: gettext_lazy("Paid through an account"),
    PAY_POINT: gettext_lazy("Paid in cash at a pay point"),
    HOME_OR_REP: gettext_lazy("Paid at home or through a representative"),
    NOT_PAID: gettext_lazy("Not paid"),
}
WAITING_STATES = (InstructionState.SENT, InstructionState.ACCEPTED)


# --- the scope -------------------------------------------------------------------------------------


def in_area(qs: QuerySet, area_path: str | list[str] | None) -> QuerySet:
    """Rows whose `area_path` lies under `area_path` (one path, or any of a list; an empty list:
    none; None: no filter)."""
    if area_path is None:
        return qs
    paths = [area_path] if isinstance(area_path, str) else list(area_path)
    if not paths:
        return qs.none()
    q = Q()
    for p in paths:
        q |= Q(area_path__startswith=p)
    return qs.filter(q)


def lines_in(
    cycles: QuerySet | Iterable[PaymentCycle], purpose: str | None = None, area_path: str | list[str] | None = None
) -> QuerySet:
    """The payroll lines of `cycles` for a contract purpose (None: all lines), in an area (None:
    all of the cycles')."""
    qs = in_area(PayrollLine.objects.filter(cycle__in=cycles), area_path)
    if purpose == ContractPurpose.FUNERAL_EMERGENCY:
        qs = qs.filter(line_type=LineType.FUNERAL)
    elif purpose == ContractPurpose.REGULAR:
        qs = qs.exclude(line_type=LineType.FUNERAL)
    return qs


def _entries_in(cycles, purpose: str | None, area_path: str | list[str] | None = None) -> QuerySet:
    qs = in_area(CashEntry.objects.filter(cycle__in=cycles), area_path).exclude(source=EntrySource.WITHDRAWAL)
    if purpose == ContractPurpose.FUNERAL_EMERGENCY:
        qs = qs.filter(funeral=True)
    elif purpose == ContractPurpose.REGULAR:
        qs = qs.filter(funeral=False)
    return qs


# --- paid through an account ---------------------------------------------------------------------


def account_paid(cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> QuerySet:
    """One row per credited transfer: the beneficiary, the account it went to, the amount."""
    return (
        Payout.objects.filter(channel=PayoutChannel.ACCOUNT, line__in=lines_in(cycles, purpose, area_path))
        .values(
            "instruction_id",
            "line__beneficiary_id",
            "line__beneficiary__full_name",
            "line__beneficiary__cccd",
            "line__commune__name",
            "instruction__creditor_name",
            "instruction__institution_code",
            "instruction__account_last4",
            "instruction__account_id",
        )
        .annotate(amount=Sum("amount"), paid_at=Max("paid_at"))
        .order_by("line__commune__name", "line__beneficiary__full_name", "instruction_id")
    )


def _account_row(r: dict) -> dict:
    return {
        "beneficiary_id": r["line__beneficiary_id"],
        "name": r["line__beneficiary__full_name"],
        "cccd": r["line__beneficiary__cccd"] or "",
        "commune": r["line__commune__name"],
        "payee": r["instruction__creditor_name"],
        "institution": r["instruction__institution_code"],
        "last4": r["instruction__account_last4"],
        "account_id": r["instruction__account_id"],
        "amount": int(r["amount"] or 0),
        "paid_at": r["paid_at"],
    }


# --- paid in cash ------------------------------------------------------------------------------------


def _paid_receipts():
    return CashReceipt.objects.filter(
        entry_id=OuterRef("pk"), outcome=ReceiptOutcome.PAID, result=ReceiptResult.RECORDED
    )


def cash_paid(
    cycles, purpose: str | None = None, area_path: str | list[str] | None = None, *, home_or_representative: bool
) -> QuerySet:
    """The cash entries paid: at home or to a listed representative, or (False) at a pay point to
    the beneficiary."""
    rep = Exists(_paid_receipts().filter(receiver_kind=ReceiverKind.REPRESENTATIVE))
    qs = _entries_in(cycles, purpose, area_path).filter(state=EntryState.PAID).annotate(by_rep=rep)
    wanted = Q(cash_list__kind=CashListKind.HOME) | Q(by_rep=True)
    qs = qs.filter(wanted) if home_or_representative else qs.exclude(wanted)
    return (
        qs.annotate(
            receiver=Subquery(_paid_receipts().order_by("-id").values("receiver_name")[:1]),
            paid_at=Subquery(_paid_receipts().order_by("-id").values("occurred_at")[:1]),
        )
        .values(
            "pk",
            "beneficiary_id",
            "beneficiary__full_name",
            "beneficiary__cccd",
            "commune__name",
            "payee_name",
            "receiver",
            "paid_at",
            "amount",
            "funeral",
            "by_rep",
            "cash_list__kind",
            "cash_list__pay_point__name",
            "cash_list__route__name",
        )
        .order_by("commune__name", "beneficiary__full_name", "pk")
    )


def _cash_row(r: dict) -> dict:
    return {
        "beneficiary_id": r["beneficiary_id"],
        "name": r["beneficiary__full_name"],
        "cccd": r["beneficiary__cccd"] or "",
        "commune": r["commune__name"],
        "payee": r["receiver"] or r["payee_name"],
        "by_representative": bool(r["by_rep"]),
        "at_home": r["cash_list__kind"] == CashListKind.HOME,
        "place": r["cash_list__pay_point__name"] or r["cash_list__route__name"] or "",
        "amount": int(r["amount"]),
        "paid_at": r["paid_at"],
    }


# --- not paid ----------------------------------------------------------------------------------------


def _annotated_lines(cycles, purpose: str | None, area_path: str | list[str] | None = None) -> QuerySet:
    """The lines without a payout, each annotated `returned` (1/0): on a cash entry returned at
    closing, or a transfer that failed (every instruction of the beneficiary's transfer dead) and
    was not put on a cash list."""
    entry_lines = CashEntryLine.objects.filter(line_id=OuterRef("pk"))
    cash_returned = Exists(
        entry_lines.filter(entry__state=EntryState.RETURNED).exclude(entry__source=EntrySource.WITHDRAWAL)
    )
    live_cash = Exists(entry_lines.exclude(entry__state=EntryState.CANCELLED))
    inst = Instruction.objects.filter(
        batch__cycle_id=OuterRef("cycle_id"), line__beneficiary_id=OuterRef("beneficiary_id")
    )
    regular, funeral = inst.exclude(line__line_type=LineType.FUNERAL), inst.filter(line__line_type=LineType.FUNERAL)
    failed = Q(line_type=LineType.FUNERAL, f_any=True, f_live=False) | (
        ~Q(line_type=LineType.FUNERAL) & Q(r_any=True, r_live=False)
    )
    return (
        lines_in(cycles, purpose, area_path)
        .filter(payout__isnull=True)
        .annotate(
            cash_returned=cash_returned,
            live_cash=live_cash,
            r_any=Exists(regular),
            r_live=Exists(regular.exclude(state__in=DEAD_STATES)),
            f_any=Exists(funeral),
            f_live=Exists(funeral.exclude(state__in=DEAD_STATES)),
        )
        .annotate(
            returned=Case(
                When(Q(cash_returned=True) | (Q(live_cash=False) & failed), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            is_funeral=Case(
                When(line_type=LineType.FUNERAL, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
    )


def not_paid(cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> QuerySet:
    """One row per beneficiary (and funeral support apart) with lines not paid: their amount and
    the part returned."""
    return (
        _annotated_lines(cycles, purpose, area_path)
        .values("beneficiary_id", "beneficiary__full_name", "beneficiary__cccd", "commune__name", "is_funeral")
        .annotate(
            line_total=Sum("amount"),
            returned_amount=Sum(Case(When(returned=1, then="amount"), default=Value(0), output_field=IntegerField())),
        )
        .order_by("commune__name", "beneficiary__full_name", "beneficiary_id", "is_funeral")
    )


def returned_total(cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> int:
    agg = _annotated_lines(cycles, purpose, area_path).filter(returned=1).aggregate(s=Sum("amount"))
    return int(agg["s"] or 0)


def _not_paid_row(r: dict) -> dict:
    return {
        "beneficiary_id": r["beneficiary_id"],
        "name": r["beneficiary__full_name"],
        "cccd": r["beneficiary__cccd"] or "",
        "commune": r["commune__name"],
        "funeral": bool(r["is_funeral"]),
        "amount": int(r["line_total"] or 0),
        "returned_amount": int(r["returned_amount"] or 0),
        "reason": "",
    }


def _reason_texts() -> dict[str, str]:
    return {
        InstructionState.CREATED: _("Transfer not sent yet"),
        InstructionState.HELD: _("Transfer held: stop recorded after approval"),
        InstructionState.SENT: _("Waiting for the bank's answer"),
        InstructionState.ACCEPTED: _("Waiting for the bank's answer"),
        InstructionState.REJECTED: _("Transfer rejected"),
        InstructionState.CANCELLED: _("Transfer cancelled"),
    }


def add_reasons(rows: list[dict], cycles) -> list[dict]:
    """Fill `reason` of not-paid rows (a page of them: two queries)."""
    ids = {r["beneficiary_id"] for r in rows}
    if not ids:
        return rows
    entries: dict[tuple[int, bool], tuple[str, str]] = {}
    for b, funeral, state, reason in (
        CashEntry.objects.filter(cycle__in=cycles, beneficiary_id__in=ids)
        .exclude(source=EntrySource.WITHDRAWAL)
        .exclude(state=EntryState.CANCELLED)
        .values_list("beneficiary_id", "funeral", "state", "not_paid_reason")
        .order_by("id")
    ):
        entries[(b, bool(funeral))] = (state, reason)
    transfers: dict[tuple[int, bool], tuple[str, str]] = {}
    for b, line_type, state, reason in (
        Instruction.objects.filter(batch__cycle__in=cycles, line__beneficiary_id__in=ids)
        .values_list("line__beneficiary_id", "line__line_type", "state", "reason")
        .order_by("id")
    ):
        transfers[(b, line_type == LineType.FUNERAL)] = (state, reason)
    texts = _reason_texts()
    labels = dict(NotPaidReason.choices)
    for r in rows:
        key = (r["beneficiary_id"], r["funeral"])
        parts: list[str] = []
        if key in transfers:
            state, reason = transfers[key]
            parts.append(texts.get(state, ""))
            if state == InstructionState.REJECTED and reason:
                parts[-1] = f"{parts[-1]} ({reason})"
        if key in entries:
            state, reason = entries[key]
            if reason in labels:
                parts.append(str(labels[reason]))
            elif state == EntryState.PENDING:
                parts.append(_("Still on the cash list"))
            elif state == EntryState.RETURNED:
                parts.append(_("Not collected before the cash list was closed"))
            if state == EntryState.RETURNED:
                parts.append(_("cash returned"))
        r["reason"] = "; ".join(p for p in parts if p) or _("Not paid")
    return rows


# --- one list, by kind -------------------------------------------------------------------------------


def rows_qs(kind: str, cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> QuerySet:
    if kind == ACCOUNT:
        return account_paid(cycles, purpose, area_path)
    if kind == PAY_POINT:
        return cash_paid(cycles, purpose, area_path, home_or_representative=False)
    if kind == HOME_OR_REP:
        return cash_paid(cycles, purpose, area_path, home_or_representative=True)
    if kind == NOT_PAID:
        return not_paid(cycles, purpose, area_path)
    raise ValueError(kind)


def to_rows(kind: str, raw: Iterable[dict], cycles) -> list[dict]:
    if kind == ACCOUNT:
        return [_account_row(r) for r in raw]
    if kind in (PAY_POINT, HOME_OR_REP):
        return [_cash_row(r) for r in raw]
    return add_reasons([_not_paid_row(r) for r in raw], cycles)


def rows(kind: str, cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> list[dict]:
    return to_rows(kind, rows_qs(kind, cycles, purpose, area_path), cycles)


@dataclass
class Totals:
    people: int = 0
    amount: int = 0
    extra: dict = field(default_factory=dict)


def totals(kind: str, cycles, purpose: str | None = None, area_path: str | list[str] | None = None) -> Totals:
    """People (distinct beneficiaries) and amount of one list, in one query."""
    if kind == ACCOUNT:
        agg = Payout.objects.filter(
            channel=PayoutChannel.ACCOUNT, line__in=lines_in(cycles, purpose, area_path)
        ).aggregate(n=_distinct("line__beneficiary_id"), s=Sum("amount"))
    elif kind in (PAY_POINT, HOME_OR_REP):
        qs = cash_paid(cycles, purpose, area_path, home_or_representative=kind == HOME_OR_REP)
        agg = qs.aggregate(n=_distinct("beneficiary_id"), s=Sum("amount"))
    else:
        agg = _annotated_lines(cycles, purpose, area_path).aggregate(n=_distinct("beneficiary_id"), s=Sum("amount"))
        return Totals(int(agg["n"] or 0), int(agg["s"] or 0), {"returned": returned_total(cycles, purpose, area_path)})
    return Totals(int(agg["n"] or 0), int(agg["s"] or 0))


def _distinct(name: str):
    from django.db.models import Count

    return Count(name, distinct=True)


# --- what still blocks a settlement --------------------------------------------------------------


def blockers(cycle: PaymentCycle) -> list[str]:
    """Sentences (translated) naming what must happen before the provider can submit: every cash
    list closed, no transfer waiting for the bank's answer or not yet sent."""
    out = []
    open_lists = list(
        CashList.objects.filter(cycle=cycle, state=CashListState.OPEN)
        .select_related("pay_point", "route")
        .order_by("id")[:6]
    )
    if open_lists:
        names = ", ".join(str(x) for x in open_lists[:5]) + ("…" if len(open_lists) > 5 else "")
        count = CashList.objects.filter(cycle=cycle, state=CashListState.OPEN).count()
        out.append(
            _("%(count)s cash list(s) not closed yet: %(names)s. Close every cash list first.")
            % {"count": count, "names": names}
        )
    waiting = Instruction.objects.filter(batch__cycle=cycle, state__in=WAITING_STATES).count()
    if waiting:
        out.append(
            _("%(count)s transfer(s) still waiting for the bank's answer: import the answer first.")
            % {"count": waiting}
        )
    unsent = Instruction.objects.filter(batch__cycle=cycle, state=InstructionState.CREATED).count()
    if unsent:
        out.append(_("%(count)s transfer(s) not sent to the bank yet.") % {"count": unsent})
    return out


# --- presentation: masking ------------------------------------------------------------------------


def present(rows_: list[dict], user, area) -> list[dict]:
    """Mask the CCCD unless the user may see it in `area` (registry.view_cccd) and show the full
    account number only to a role that may see it there (payments.view_account); otherwise
    "VBA •••• 1234"."""
    from ansinh.payments import crypto
    from ansinh.payments.models import ReceivingAccount

    see_cccd = user is not None and access.can_in_area(user, Cap.REGISTRY_VIEW_CCCD, area)
    see_account = user is not None and access.can_in_area(user, Cap.PAYMENTS_VIEW_ACCOUNT, area)
    numbers: dict[int, str] = {}
    if see_account:
        ids = {r["account_id"] for r in rows_ if r.get("account_id")}
        for pk, token in ReceivingAccount.objects.filter(pk__in=ids).values_list("pk", "number_encrypted"):
            numbers[pk] = crypto.decrypt(token)
    for r in rows_:
        r["cccd_shown"] = r.get("cccd", "") if see_cccd else mask_number(r.get("cccd", ""))
        if "last4" in r:
            full = numbers.get(r.get("account_id") or 0)
            r["account_shown"] = f"{r['institution']} {full}" if full else f"{r['institution']} •••• {r['last4']}"
    return rows_
