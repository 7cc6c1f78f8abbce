"""Reads of the transfer leg, scoped to the user's areas (the pages and the API share them).

Who sees the batches, their transfers, the status files and the exceptions: those who operate
the transfers (`batches.may_operate`: the office with payroll.prepare, the provider's staff with
payments.provide) and those who follow them read-only (payroll.approve, reports.view), in the
areas of those roles (by the object's area path, like `payroll.queries`). Another area's object
is outside every queryset here, so a page or an endpoint answers 404 for it."""

from __future__ import annotations

from django.db.models import Case, Count, QuerySet, Value, When
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payroll import queries as payroll_queries
from ansinh.payroll.models import CycleState, PaymentCycle

from .batches import may_operate
from .models import (
    ExceptionState,
    Instruction,
    InstructionState,
    ProviderBatch,
    StatusImport,
    TransferException,
)

VIEW_CAPS = (Cap.PAYROLL_PREPARE, Cap.PAYMENTS_PROVIDE, Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW)
READ_ONLY_CAPS = (Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW)
# the cycle page links to its transfers from approval on
TRANSFER_STATES = (
    CycleState.APPROVED,
    CycleState.FUNDED,
    CycleState.SENT_TO_PROVIDER,
    CycleState.PAYING,
    CycleState.SETTLED,
    CycleState.CLOSED,
)
UNRESOLVED = (ExceptionState.OPEN, ExceptionState.IN_HAND)


def may_see_transfers(user) -> bool:
    """Whether the user's roles show the transfer pages anywhere."""
    return any(access.has_cap(user, cap) for cap in VIEW_CAPS)


def may_view(user, cycle: PaymentCycle) -> bool:
    return may_operate(user, cycle) or any(access.can_in_area(user, cap, cycle.area) for cap in READ_ONLY_CAPS)


def may_resolve(user, exc: TransferException) -> bool:
    """The office resolves exceptions (disbursement.resolution)."""
    return access.can_in_area(user, Cap.PAYROLL_PREPARE, exc.commune)


def _scoped(qs: QuerySet, user, path_field: str = "area_path") -> QuerySet:
    q = payroll_queries._scope_q(user, VIEW_CAPS, path_field)
    return qs if q is None else qs.filter(q)


def cycles_for(user) -> QuerySet[PaymentCycle]:
    return _scoped(PaymentCycle.objects.select_related("area", "programme", "approving_unit"), user)


def batches_for(user) -> QuerySet[ProviderBatch]:
    return _scoped(
        ProviderBatch.objects.select_related("cycle__area", "cycle__programme", "provider", "contract"), user
    )


def exceptions_for(user) -> QuerySet[TransferException]:
    return _scoped(
        TransferException.objects.select_related(
            "instruction", "line__beneficiary", "batch__cycle__area", "commune", "fix", "resolved_by"
        ),
        user,
    )


def imports_for(user) -> QuerySet[StatusImport]:
    return _scoped(StatusImport.objects.select_related("batch__cycle__area"), user)


def filter_exceptions(qs: QuerySet, *, state: str = "", kind: str = "") -> QuerySet:
    """`state`: one of ExceptionState, "all", or empty for the unresolved ones (open or in hand)."""
    if state == "all":
        pass
    elif state:
        qs = qs.filter(state=state)
    else:
        qs = qs.filter(state__in=UNRESOLVED)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def worklist_order(qs: QuerySet) -> QuerySet:
    """To resolve first, then awaiting a fix's approval, then resolved; newest first within each."""
    rank = Case(
        When(state=ExceptionState.OPEN, then=Value(0)),
        When(state=ExceptionState.IN_HAND, then=Value(1)),
        default=Value(2),
    )
    return qs.order_by(rank, "-created_at", "-id")


def state_counts(batch: ProviderBatch) -> dict[str, int]:
    """Instructions of the batch per state: those in its file once written
    (`statuses.batch_progress`), all of them before."""
    from .models import BatchState
    from .statuses import batch_progress

    if batch.state != BatchState.CREATED:
        progress = batch_progress(batch)
        held = Instruction.objects.filter(batch=batch, state=InstructionState.HELD).count()
        if held:
            progress[InstructionState.HELD] = held
        return progress
    rows = Instruction.objects.filter(batch=batch).values("state").annotate(n=Count("id")).order_by()
    return {r["state"]: r["n"] for r in rows}


def open_exceptions_of(batch: ProviderBatch) -> int:
    return TransferException.objects.filter(batch=batch, state__in=UNRESOLVED).count()


# --- what a person reads about a transfer or an exception ----------------------------------------


def instruction_reason(instruction: Instruction) -> str:
    """Why the bank did not credit the transfer, in Vietnamese (never the raw code)."""
    from .formats import pain002

    if instruction.reason_code:  # in the reader's language
        return capfirst(pain002.reason_text(instruction.reason_code))
    return capfirst(instruction.reason)


def exception_reason(exc: TransferException) -> str:
    """What happened, in a sentence for the office."""
    from .formats import pain002
    from .models import ExceptionKind

    detail = exc.detail or {}
    amount = exception_amount(exc)
    if exc.kind == ExceptionKind.REJECTED:
        text = instruction_reason(exc.instruction) if exc.instruction is not None else ""
        code = detail.get("reason_code") or ""
        return text or (capfirst(pain002.reason_text(code)) if code else _("Rejected by the bank"))
    if exc.kind == ExceptionKind.HELD:
        return _("A stop was recorded for the beneficiary after the payroll was approved: the transfer was not sent.")
    if exc.kind == ExceptionKind.LATE_CREDIT:
        return _("The bank credited the transfer after the payment had been switched to cash or paid another way.")
    if exc.kind == ExceptionKind.AMOUNT_MISMATCH:
        return _("The bank answered for %(answered)s đồng instead of %(amount)s đồng: nothing was booked.") % {
            "answered": format_number(detail.get("answered")),
            "amount": format_number(amount),
        }
    return _("The bank did not answer when the batch was sent: ask it for the status (never send it again).")


def exception_amount(exc: TransferException) -> int | None:
    """The transfer's amount (the batch's exceptions have none)."""
    if exc.instruction is not None:
        return exc.instruction.amount
    return (exc.detail or {}).get("amount")


def beneficiary_id_of(exc: TransferException) -> int | None:
    return exc.line.beneficiary_id if exc.line is not None else None


def format_number(value) -> str:
    if value is None or value == "":
        return "?"
    return f"{int(value):,}".replace(",", ".")
