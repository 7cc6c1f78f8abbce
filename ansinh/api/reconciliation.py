"""API of reconciliation (issue 13)."""

from ninja import Router

router = Router(tags=["reconciliation"])


# --- provider and office settlement, monthly lists (issue 13 parts 3 and 4) ---------------------------
# The rules live in ansinh.reconciliation.settlement, .office_settlement and .lists; another area's
# cycle is a 404, a missing capability a 403 (nothing written), a refused step a 422 with the reason.

from datetime import date as _date  # noqa: E402
from typing import Any as _Any  # noqa: E402

from django.core.exceptions import ValidationError as _ValidationError  # noqa: E402
from django.shortcuts import get_object_or_404 as _get_object_or_404  # noqa: E402
from django.utils.translation import gettext as _t  # noqa: E402
from ninja import Field as _Field  # noqa: E402
from ninja import Query as _Query  # noqa: E402
from ninja import Schema as _Schema  # noqa: E402
from ninja.errors import HttpError as _HttpError  # noqa: E402

from .common import Id as _Id  # noqa: E402
from .common import responses as _responses  # noqa: E402
from .common import text as _text  # noqa: E402


class SettlementOut(_Schema):
    cycle_id: int
    purpose: str
    state: str = _Field(..., description="none, prepared, submitted, returned or accepted")
    comment: str
    lists: dict[str, _Any] = _Field(
        ..., description="Per list (account, pay_point, home_or_representative, not_paid): people and amount."
    )
    returned: int
    served: int
    amount_paid: int
    fee: int
    fee_rule: str
    blockers: list[str]


class SettlementPurposeIn(_Schema):
    purpose: str = _text("regular", max_length=20, description="regular or funeral_emergency")


class SettlementReturnIn(SettlementPurposeIn):
    comment: str = _text(max_length=4000, min_length=1)


class OfficeSentIn(_Schema):
    reference: str = _text("", max_length=60)


class OfficeSettlementOut(_Schema):
    cycle_id: int
    state: str
    sent: bool
    figures: dict[str, int]


class MonthlyListFilter(_Schema):
    kind: str = _Field("account", description="account, pay_point, home_or_representative or not_paid")
    cycle_id: int | None = _Field(None, ge=1, le=2**63 - 1)
    area_id: int | None = _Field(None, ge=1, le=2**63 - 1)
    month: str | None = _Field(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, with area_id")
    page: int = _Field(1, ge=1, le=100_000)


class MonthlyListOut(_Schema):
    kind: str
    title: str
    people: int
    amount: int
    page: int
    pages: int
    count: int
    rows: list[dict[str, _Any]]


def _settlement_cycle(request, cycle_id: int):
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.web.views.settlement import cycles_for

    if not access.has_cap(request.auth, Cap.RECONCILIATION_VIEW):
        raise _HttpError(403, _t("Your role does not allow reading settlements."))
    return _get_object_or_404(cycles_for(request.auth), pk=cycle_id)


def _purpose_of(value: str) -> str:
    from ansinh.payroll.models import ContractPurpose

    if value not in ContractPurpose.values:
        raise _ValidationError({"purpose": [_t("Unknown contract purpose.")]})
    return value


def _settlement_out(cycle, purpose: str) -> dict:
    from ansinh.reconciliation import settlement

    st = settlement.statement(cycle, purpose)
    obj = settlement.settlement_of(cycle, purpose)
    return {
        "cycle_id": cycle.pk,
        "purpose": purpose,
        "state": obj.state if obj else "none",
        "comment": obj.comment if obj else "",
        "lists": st.totals,
        "returned": st.returned,
        "served": st.served,
        "amount_paid": st.amount_paid,
        "fee": st.fee,
        "fee_rule": st.fee_rule,
        "blockers": st.blockers,
    }


@router.get(
    "/reconciliation/settlements/{cycle_id}",
    response=_responses({200: SettlementOut}, forbidden=True, not_found=True),
)
def get_settlement(request, cycle_id: _Id, purpose: str = "regular"):
    """The provider's statement of a cycle for a contract purpose, computed from the records."""
    cycle = _settlement_cycle(request, cycle_id)
    return _settlement_out(cycle, _purpose_of(purpose))


@router.post(
    "/reconciliation/settlements/{cycle_id}/submit",
    response=_responses({200: SettlementOut}, body=True, forbidden=True, not_found=True),
)
def post_settlement_submit(request, cycle_id: _Id, payload: SettlementPurposeIn):
    """The provider submits the statement (settlement.submit); 422 with what still blocks it."""
    from ansinh.reconciliation import settlement

    cycle = _settlement_cycle(request, cycle_id)
    purpose = _purpose_of(payload.purpose)
    if not settlement.may_submit(request.auth, cycle):
        raise _HttpError(403, _t("Your role does not allow submitting the provider's settlement here."))
    settlement.submit(actor=request.auth, cycle=cycle, purpose=purpose)
    return _settlement_out(cycle, purpose)


def _decided(request, cycle_id: int, purpose: str):
    from ansinh.reconciliation import settlement

    cycle = _settlement_cycle(request, cycle_id)
    purpose = _purpose_of(purpose)
    if not settlement.may_accept(request.auth, cycle):
        raise _HttpError(403, _t("Your role does not allow accepting the provider's settlement here."))
    obj = settlement.settlement_of(cycle, purpose)
    if obj is None:
        raise _HttpError(404, _t("Not found."))
    return cycle, purpose, obj


@router.post(
    "/reconciliation/settlements/{cycle_id}/accept",
    response=_responses({200: SettlementOut}, body=True, forbidden=True, not_found=True),
)
def post_settlement_accept(request, cycle_id: _Id, payload: SettlementPurposeIn):
    """The office accepts the submitted statement: the fee is posted, the ledger closed and the
    cycle settled (settlement.accept, and payroll.prepare to move the cycle)."""
    from ansinh.reconciliation import settlement

    cycle, purpose, obj = _decided(request, cycle_id, payload.purpose)
    try:
        settlement.accept(actor=request.auth, settlement=obj)
    except settlement.SettlementForbidden as exc:
        raise _HttpError(403, str(exc)) from exc
    cycle.refresh_from_db()
    return _settlement_out(cycle, purpose)


@router.post(
    "/reconciliation/settlements/{cycle_id}/return",
    response=_responses({200: SettlementOut}, body=True, forbidden=True, not_found=True),
)
def post_settlement_return(request, cycle_id: _Id, payload: SettlementReturnIn):
    """The office returns the submitted statement with its comments."""
    from ansinh.reconciliation import settlement

    cycle, purpose, obj = _decided(request, cycle_id, payload.purpose)
    settlement.return_settlement(actor=request.auth, settlement=obj, comment=payload.comment)
    return _settlement_out(cycle, purpose)


@router.get(
    "/reconciliation/office-settlements/{cycle_id}",
    response=_responses({200: OfficeSettlementOut}, forbidden=True, not_found=True),
)
def get_office_settlement(request, cycle_id: _Id):
    """The cycle's figures for the finance office (frozen once recorded as sent)."""
    from ansinh.reconciliation import office_settlement
    from ansinh.reconciliation.models import OfficeSettlement

    cycle = _settlement_cycle(request, cycle_id)
    sent = OfficeSettlement.objects.filter(cycle=cycle).exists()
    return {"cycle_id": cycle.pk, "state": cycle.state, "sent": sent, "figures": office_settlement.cycle_figures(cycle)}


@router.post(
    "/reconciliation/office-settlements/{cycle_id}/sent",
    response=_responses({200: OfficeSettlementOut}, body=True, forbidden=True, not_found=True),
)
def post_office_settlement_sent(request, cycle_id: _Id, payload: OfficeSentIn):
    """Record that the settlement file was sent to the finance office (payroll.prepare): the
    cycle moves settled → closed."""
    from ansinh.reconciliation import office_settlement

    cycle = _settlement_cycle(request, cycle_id)
    if not office_settlement.may_send(request.auth, cycle):
        raise _HttpError(403, _t("Your role does not allow settling with the finance office here."))
    obj = office_settlement.record_sent(actor=request.auth, cycle=cycle, reference=payload.reference)
    cycle.refresh_from_db()
    return {"cycle_id": cycle.pk, "state": cycle.state, "sent": True, "figures": obj.figures}


@router.get(
    "/reconciliation/lists",
    response=_responses({200: MonthlyListOut}, forbidden=True, not_found=True),
)
def get_monthly_list(request, filters: _Query[MonthlyListFilter]):
    """A monthly list, 50 rows a page: of one cycle (cycle_id), of an area and month (area_id,
    month), or of the user's areas in a month (default: this month). An id outside the user's
    areas gives an empty list. CCCD and account numbers masked unless the role may see them; no
    categories."""
    from django.core.paginator import Paginator

    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.reconciliation import lists
    from ansinh.web.views.settlement import PAGE_SIZE, lenient_scope

    if not access.has_cap(request.auth, Cap.RECONCILIATION_VIEW):
        raise _HttpError(403, _t("Your role does not allow reading settlements."))
    if filters.kind not in lists.KINDS:
        raise _ValidationError({"kind": [_t("Unknown list.")]})
    month = None
    if filters.month:
        try:
            year, mon = (int(x) for x in filters.month.split("-"))
            month = _date(year, mon, 1)
        except ValueError:
            raise _ValidationError({"month": [_t("Unknown month.")]}) from None
    scope = lenient_scope(request.auth, cycle_id=filters.cycle_id, area_id=filters.area_id, month=month)
    paginator = Paginator(lists.rows_qs(filters.kind, scope.cycles, None, scope.area_path), PAGE_SIZE)
    page = paginator.get_page(filters.page)
    rows = lists.present(lists.to_rows(filters.kind, page.object_list, scope.cycles), request.auth, scope.area)
    totals = lists.totals(filters.kind, scope.cycles, None, scope.area_path)
    out_rows = []
    for r in rows:
        item = {k: v for k, v in r.items() if k not in ("cccd", "account_id", "last4", "institution")}
        item["paid_at"] = item["paid_at"].isoformat() if item.get("paid_at") else None
        out_rows.append(item)
    return {
        "kind": filters.kind,
        "title": scope.title,
        "people": totals.people,
        "amount": totals.amount,
        "page": page.number,
        "pages": paginator.num_pages,
        "count": paginator.count,
        "rows": out_rows,
    }


# --- bank statements and reconciliation exceptions (issue 13 part 2) -----------------------------------
# The rules live in ansinh.reconciliation.statements, .checks and .resolution; another area's
# statement, cycle or exception is a 404, a missing capability a 403 (nothing written), a refused
# step a 422 with the reason.

from pathlib import Path as _Path  # noqa: E402
from typing import Literal as _Literal  # noqa: E402

from ninja import File as _File  # noqa: E402
from ninja import Form as _Form  # noqa: E402
from ninja.files import UploadedFile as _UploadedFile  # noqa: E402

RECON_PAGE = 100


class StatementOut(_Schema):
    id: int
    state: str = _Field(..., description="applied or refused")
    state_label: str
    refused_reason: str
    file_name: str
    provider_id: int
    account: str = _Field(..., description="the funded account, masked but the last four digits")
    statement_id: str
    from_date: _date | None
    to_date: _date | None
    opening_balance: int | None
    closing_balance: int | None
    entries: int
    credits: int
    debits: int
    summary: dict[str, _Any] = _Field(
        ..., description="per_kind {kind: {outcome: {count, amount}}}, unknown (the first 50), missing"
    )


class ChecksOut(_Schema):
    cycle_id: int
    opened: int
    closed: int
    updated: int
    per_kind: dict[str, dict[str, int]]


class ReconExceptionOut(_Schema):
    id: int
    kind: str
    kind_label: str
    state: str
    state_label: str
    cycle_id: int | None
    commune_id: int | None
    beneficiary_id: int | None
    beneficiary: str
    amount: int | None
    detail: dict[str, _Any]
    owner_role: str
    owner_role_label: str
    owner_id: int | None
    due_date: _date
    resolution: str
    note: str
    actions: list[str]


class ReconExceptionPage(_Schema):
    items: list[ReconExceptionOut]
    count: int
    page: int
    pages: int


class ReconFilters(_Schema):
    kind: str = _Field("", description="a kind of exception; empty: all")
    state: str = _Field("unresolved", description="unresolved, open, in_hand, resolved or all")
    commune_id: int | None = _Field(None, ge=1, le=2**63 - 1)
    cycle_id: int | None = _Field(None, ge=1, le=2**63 - 1)
    page: int = _Field(1, ge=1, le=100_000)


class ResolveIn(_Schema):
    action: _Literal["resend", "to_cash", "recover", "write_off", "note"]
    note: str = _text(max_length=2000, min_length=1)
    account_id: int | None = _Field(None, ge=1, le=2**63 - 1, description="resend: the corrected account")
    amount: int | None = _Field(None, ge=1, le=10**15, description="recover / write off; default the exception's")


class WriteOffDecisionIn(_Schema):
    decision: _Literal["approve", "reject"]
    token: str = _text("", max_length=10)
    reason: str = _text("", max_length=2000)


def _statement_out(job) -> dict:
    from ansinh.reconciliation.statements import _masked

    return {
        "id": job.pk,
        "state": job.state,
        "state_label": job.get_state_display(),
        "refused_reason": job.refused_reason,
        "file_name": job.file_name,
        "provider_id": job.provider_id,
        "account": _masked(job.account_number),
        "statement_id": job.statement_id,
        "from_date": job.from_date,
        "to_date": job.to_date,
        "opening_balance": job.opening_balance,
        "closing_balance": job.closing_balance,
        "entries": job.entries_count,
        "credits": job.credits_total,
        "debits": job.debits_total,
        "summary": job.summary or {},
    }


def _recon_view(request) -> None:
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap

    if not access.has_cap(request.auth, Cap.RECONCILIATION_VIEW):
        raise _HttpError(403, _t("Your role does not allow reading reconciliation."))


def _recon_exception(request, recon_id: int):
    from ansinh.reconciliation import checks

    _recon_view(request)
    return _get_object_or_404(checks.exceptions_for(request.auth), pk=recon_id)


def _recon_out(exc) -> dict:
    from ansinh.reconciliation.resolution import ACTIONS

    return {
        "id": exc.pk,
        "kind": exc.kind,
        "kind_label": exc.get_kind_display(),
        "state": exc.state,
        "state_label": exc.get_state_display(),
        "cycle_id": exc.cycle_id,
        "commune_id": exc.commune_id,
        "beneficiary_id": exc.beneficiary_id,
        "beneficiary": exc.beneficiary.full_name if exc.beneficiary_id else "",
        "amount": exc.amount,
        "detail": exc.detail or {},
        "owner_role": exc.owner_role,
        "owner_role_label": exc.owner_role_label,
        "owner_id": exc.owner_id,
        "due_date": exc.due_date,
        "resolution": exc.resolution,
        "note": exc.note,
        "actions": list(ACTIONS.get(exc.kind, ())) if exc.state == "open" else [],
    }


@router.post(
    "/reconciliation/contracts/{contract_id}/statements",
    response=_responses({200: StatementOut}, body=True, forbidden=True, not_found=True),
)
def post_statement(
    request,
    contract_id: _Id,
    file: _File[_UploadedFile] = None,  # type: ignore[assignment]
    format: _Form[_Literal["camt.053", "xlsx"]] = "camt.053",  # noqa: A002 (the form field's name)
):
    """Import a bank statement of the funded account of the contract's provider (multipart:
    `file`, `format` camt.053 or xlsx). The same content again returns the statement already
    imported and changes nothing; a file that is not a valid statement, or of an account that is no
    funded account of the provider, is refused (the statement says why)."""
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.payroll.models import ProviderContract
    from ansinh.reconciliation import statements

    _recon_view(request)
    contract = _get_object_or_404(
        access.scope(
            ProviderContract.objects.select_related("provider", "paying_unit__area"),
            request.auth,
            Cap.RECONCILIATION_VIEW,
            "area_path",
        ),
        pk=contract_id,
    )
    if not access.can_in_area(request.auth, Cap.RECONCILE, contract.paying_unit.area):
        raise _HttpError(403, _t("Your role does not allow importing this provider's bank statements."))
    if file is None:
        raise _ValidationError({"file": _t("Choose the statement file to import.")})
    try:
        job = statements.import_file(
            actor=request.auth,
            upload=file,  # type: ignore[arg-type]
            provider=contract.provider,
            source=format,
            file_name=_Path(file.name or "").name,
        )
    except statements.StatementForbidden as exc:
        raise _HttpError(403, str(exc)) from exc
    return _statement_out(job)


@router.get(
    "/reconciliation/statements/{statement_id}",
    response=_responses({200: StatementOut}, forbidden=True, not_found=True),
)
def get_statement(request, statement_id: _Id):
    from ansinh.reconciliation import statements

    _recon_view(request)
    return _statement_out(_get_object_or_404(statements.statements_for(request.auth), pk=statement_id))


@router.post(
    "/reconciliation/cycles/{cycle_id}/checks",
    response=_responses({200: ChecksOut}, forbidden=True, not_found=True),
)
def post_checks(request, cycle_id: _Id):
    """Run the reconciliation checks of a cycle (reconciliation.manage). Running them again never
    makes a second exception for the same case."""
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.payroll.models import PaymentCycle
    from ansinh.reconciliation import checks

    _recon_view(request)
    cycle = _get_object_or_404(
        access.scope(PaymentCycle.objects.all(), request.auth, Cap.RECONCILIATION_VIEW, "area_path"), pk=cycle_id
    )
    if not checks.may_run(request.auth, cycle):
        raise _HttpError(403, _t("Your role does not allow running the reconciliation checks here."))
    result = checks.run_checks(actor=request.auth, cycle=cycle)
    return {"cycle_id": cycle.pk, **result}


@router.get("/reconciliation/exceptions", response=_responses({200: ReconExceptionPage}, forbidden=True))
def list_recon_exceptions(request, filters: _Query[ReconFilters]):
    """The reconciliation exceptions of the user's areas (default: those still to resolve), 100 a page."""
    from ansinh.reconciliation import checks

    _recon_view(request)
    qs = checks.exceptions_for(request.auth)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state == "unresolved":
        qs = qs.exclude(state="resolved")
    elif filters.state != "all":
        qs = qs.filter(state=filters.state)
    if filters.commune_id:
        qs = qs.filter(commune_id=filters.commune_id)
    if filters.cycle_id:
        qs = qs.filter(cycle_id=filters.cycle_id)
    qs = qs.order_by("state", "due_date", "id")
    count = qs.count()
    start = (filters.page - 1) * RECON_PAGE
    rows = list(qs[start : start + RECON_PAGE])
    return {
        "items": [_recon_out(e) for e in rows],
        "count": count,
        "page": filters.page,
        "pages": max(1, -(-count // RECON_PAGE)),
    }


@router.get(
    "/reconciliation/exceptions/{recon_id}",
    response=_responses({200: ReconExceptionOut}, forbidden=True, not_found=True),
)
def get_recon_exception(request, recon_id: _Id):
    return _recon_out(_recon_exception(request, recon_id))


@router.post(
    "/reconciliation/exceptions/{recon_id}/resolve",
    response=_responses({200: ReconExceptionOut}, body=True, forbidden=True, not_found=True),
)
def post_recon_resolve(request, recon_id: _Id, payload: ResolveIn):
    """Resolve an exception (reconciliation.manage): resend to a corrected account or pay in cash
    (a payment fix a second person approves), recover (a receivable), ask to write off (a second
    person approves), or close with a note."""
    from ansinh.payments.models import ReceivingAccount
    from ansinh.reconciliation import resolution

    exc = _recon_exception(request, recon_id)
    if not resolution.may_act(request.auth, exc):
        raise _HttpError(403, _t("Your role does not allow resolving reconciliation exceptions here."))
    try:
        if payload.action in ("resend", "to_cash"):
            account = None
            if payload.action == "resend":
                account = ReceivingAccount.objects.filter(
                    pk=payload.account_id or 0, beneficiary_id=exc.beneficiary_id or 0
                ).first()
                if account is None:
                    raise _ValidationError({"account_id": _t("Choose the corrected account to send the money to.")})
            resolution.ask_fix(
                actor=request.auth, exception=exc, kind=payload.action, account=account, reason=payload.note
            )
        elif payload.action == "recover":
            resolution.recover(actor=request.auth, exception=exc, note=payload.note, amount=payload.amount)
        elif payload.action == "write_off":
            resolution.request_write_off(actor=request.auth, exception=exc, reason=payload.note, amount=payload.amount)
        else:
            resolution.note(actor=request.auth, exception=exc, note=payload.note)
    except resolution.ResolutionForbidden as error:
        raise _HttpError(403, str(error)) from error
    exc.refresh_from_db()
    return _recon_out(exc)


@router.post(
    "/reconciliation/exceptions/{recon_id}/write-off",
    response=_responses({200: ReconExceptionOut}, body=True, forbidden=True, not_found=True),
)
def post_recon_write_off(request, recon_id: _Id, payload: WriteOffDecisionIn):
    """A second person (payroll.approve, not the requester) approves the write-off with a current
    code of their authenticator app, or refuses it with a reason."""
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.reconciliation import resolution

    exc = _recon_exception(request, recon_id)
    if not access.can_in_area(request.auth, Cap.PAYROLL_APPROVE, resolution.area_of(exc)):
        raise _HttpError(403, _t("Your role does not allow approving write-offs here."))
    if payload.decision == "approve":
        resolution.approve_write_off(actor=request.auth, exception=exc, token=payload.token)
    else:
        resolution.reject_write_off(actor=request.auth, exception=exc, reason=payload.reason)
    exc.refresh_from_db()
    return _recon_out(exc)


# --- the ledger per cycle (issue 13 part 1) ----------------------------------------------------------
# ansinh.reconciliation.ledger: the balance (all in đồng) and the entries, newest last, by page.

LEDGER_PAGE = 500


class LedgerBalanceOut(_Schema):
    advance: int
    credited: int
    cash_paid: int
    returned: int
    fees: int
    outstanding: int = _Field(..., description="open_lines + unallocated, computed from the payroll lines")
    open_lines: int = _Field(..., description="amounts of the lines not credited, paid in cash or returned")
    unallocated: int = _Field(..., description="advance − lines_total − fees")
    lines_total: int
    recoveries: int = _Field(..., description="recovered from payees, outside the advance")
    failed: int = _Field(..., description="transfers failed (the money came back to the funded account)")
    entries: int
    closed: bool
    balanced: bool = _Field(..., description="advance = credited + cash_paid + returned + fees + outstanding")


class LedgerEntryOut(_Schema):
    id: int
    kind: str
    kind_label: str
    amount: int
    line_id: int | None
    source: str
    occurred_at: _Any
    recorded_at: _Any
    ledger_cycle_id: int = _Field(..., description="the ledger it is posted in")
    adjusts_cycle_id: int | None = _Field(None, description="set for an event posted after closing")


class LedgerOut(_Schema):
    cycle_id: int
    balance: LedgerBalanceOut
    page: int
    pages: int
    count: int
    entries: list[LedgerEntryOut]


class LedgerFilter(_Schema):
    page: int = _Field(1, ge=1, le=1_000_000)


@router.get("/cycles/{cycle_id}/ledger", response=_responses({200: LedgerOut}, forbidden=True, not_found=True))
def get_ledger(request, cycle_id: _Id, filters: _Query[LedgerFilter]):
    """A cycle's ledger (reconciliation.view in the cycle's area): its balance and its entries."""
    import math

    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.payroll.models import PaymentCycle
    from ansinh.reconciliation import ledger

    if not access.has_cap(request.auth, Cap.RECONCILIATION_VIEW):
        raise _HttpError(403, _t("Your role does not allow reading the ledger."))
    cycle = _get_object_or_404(
        access.scope(PaymentCycle.objects.all(), request.auth, Cap.RECONCILIATION_VIEW, "area_path"), pk=cycle_id
    )
    b = ledger.balance(cycle)
    qs = ledger.entries_of(cycle.pk)
    count = qs.count()
    pages = max(math.ceil(count / LEDGER_PAGE), 1)
    start = (filters.page - 1) * LEDGER_PAGE
    rows = [
        {
            "id": e.pk,
            "kind": e.kind,
            "kind_label": e.get_kind_display(),
            "amount": e.amount,
            "line_id": e.line_id,
            "source": e.source,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "ledger_cycle_id": e.cycle_id,
            "adjusts_cycle_id": e.adjusts_id,
        }
        for e in qs[start : start + LEDGER_PAGE]
    ]
    figures = {k: v for k, v in b.as_dict().items() if k in LedgerBalanceOut.model_fields}
    return {
        "cycle_id": cycle.pk,
        "balance": {**figures, "balanced": b.balanced},
        "page": filters.page,
        "pages": pages,
        "count": count,
        "entries": rows,
    }
