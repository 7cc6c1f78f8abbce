"""Approval of a cycle's payroll over HTTP (issue 10 part 3): the approval record, approving with
a TOTP code, withdrawing a draft, same-month payment fixes, and the provider lists (XLSX per
commune and channel, or a ZIP of all). The rules live in ansinh.payroll.approval, .fixes and
.provider_lists; another area's cycle is a 404, a role without the capability a 403."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.payments.models import ReceivingAccount
from ansinh.payroll import approval, fixes, provider_lists, queries
from ansinh.payroll.models import LineFix, PayrollApproval, PayrollLine
from ansinh.payroll.services import TransitionForbidden

from .common import Id, responses, text

router = Router(tags=["payroll"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ApprovalOut(Schema):
    approved: bool
    approved_by: str | None
    approved_at: datetime | None
    prepared_by: str | None
    lines: int | None
    total_amount: int | None
    content_hash: str | None = Field(None, description="SHA-256, canonical form in docs/payment-cycle.md")
    blockers: list[str] = Field(..., description="why the token's user may not approve now (empty: they may)")


class TokenIn(Schema):
    token: str = text(max_length=10, description="the current code of the approver's authenticator app")


class ReasonIn(Schema):
    reason: str = text(max_length=2000, min_length=1)


class FixIn(Schema):
    line_id: Id
    kind: Literal["resend", "to_cash"]
    account_id: Id | None = Field(None, description="resend: an active account of the beneficiary")
    reason: str = text(max_length=2000, min_length=1)


class FixDecisionIn(Schema):
    fix_id: Id
    token: str = text("", max_length=10)


class FixRejectIn(Schema):
    fix_id: Id
    reason: str = text(max_length=2000, min_length=1)


class FixOut(Schema):
    id: int
    line_id: int
    beneficiary_id: int
    kind: Literal["resend", "to_cash"]
    channel: Literal["account", "pay_point", "home"]
    account: str = Field(..., description="institution and last four digits only")
    state: Literal["requested", "approved", "rejected"]
    state_label: str
    reason: str
    amount: int = Field(..., description="the line's amount, unchanged by the fix")


class ProviderListFilters(Schema):
    commune_id: Id | None = Field(None, description="with channel: one list; without both: a ZIP of all")
    channel: Literal["account", "pay_point", "home"] | None = None


def _cycle(request, cycle_id: int):
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))
    return get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)


def _need(request, cycle, cap: str) -> None:
    if not access.can_in_area(request.auth, cap, cycle.area):
        raise HttpError(403, _("Your role does not allow this step of the payment cycle here."))


def _user(user) -> str | None:
    return (getattr(user, "full_name", "") or user.get_username()) if user is not None else None


def _approval(user, cycle) -> dict:
    record = PayrollApproval.objects.filter(cycle=cycle).select_related("approved_by", "prepared_by").first()
    blockers = approval.approval_blockers(user, cycle) if record is None else []
    if record is None:
        return {
            "approved": False,
            "approved_by": None,
            "approved_at": None,
            "prepared_by": None,
            "lines": None,
            "total_amount": None,
            "content_hash": None,
            "blockers": blockers,
        }
    return {
        "approved": True,
        "approved_by": _user(record.approved_by),
        "approved_at": record.approved_at,
        "prepared_by": _user(record.prepared_by),
        "lines": record.lines,
        "total_amount": record.total_amount,
        "content_hash": record.content_hash,
        "blockers": [],
    }


def _fix(f: LineFix) -> dict:
    return {
        "id": f.pk,
        "line_id": f.line_id,
        "beneficiary_id": f.line.beneficiary_id,
        "kind": f.kind,
        "channel": f.channel,
        "account": str(f.account) if f.account_id else "",
        "state": f.state,
        "state_label": str(f.get_state_display()),
        "reason": f.reason,
        "amount": f.line.amount,
    }


@router.get(
    "/payroll/cycles/{cycle_id}/approval", response=responses({200: ApprovalOut}, forbidden=True, not_found=True)
)
def get_approval(request, cycle_id: Id):
    """The approval of the cycle's payroll (who, when, content hash) or why the user may not approve."""
    cycle = _cycle(request, cycle_id)
    return _approval(request.auth, cycle)


@router.post(
    "/payroll/cycles/{cycle_id}/approve",
    response=responses({200: ApprovalOut}, body=True, forbidden=True, not_found=True),
)
def post_approve(request, cycle_id: Id, payload: TokenIn):
    """Approve the draft payroll with a current TOTP code (payroll.approve; not the preparer).
    422 with the reason when refused (wrong code, lines changed, the preparer…)."""
    cycle = _cycle(request, cycle_id)
    _need(request, cycle, Cap.PAYROLL_APPROVE)
    try:
        approval.approve_payroll(actor=request.auth, cycle=cycle, token=payload.token)
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _approval(request.auth, cycle)


@router.post(
    "/payroll/cycles/{cycle_id}/withdraw",
    response=responses({200: ApprovalOut}, body=True, forbidden=True, not_found=True),
)
def post_withdraw(request, cycle_id: Id, payload: ReasonIn):
    """Withdraw the draft payroll (payroll.prepare): its lines are deleted, the cycle is appraised again."""
    cycle = _cycle(request, cycle_id)
    _need(request, cycle, Cap.PAYROLL_PREPARE)
    try:
        approval.withdraw_payroll(actor=request.auth, cycle=cycle, reason=payload.reason)
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _approval(request.auth, cycle)


@router.get("/payroll/cycles/{cycle_id}/fixes", response=responses({200: list[FixOut]}, forbidden=True, not_found=True))
def list_fixes(request, cycle_id: Id):
    """The cycle's payment fixes, newest first (at most 1,000)."""
    cycle = _cycle(request, cycle_id)
    rows = (
        LineFix.objects.filter(line__cycle=cycle)
        .select_related("line", "account__institution")
        .order_by("-requested_at", "-id")[:1000]
    )
    return [_fix(f) for f in rows]


@router.post(
    "/payroll/cycles/{cycle_id}/fixes", response=responses({200: FixOut}, body=True, forbidden=True, not_found=True)
)
def post_fix(request, cycle_id: Id, payload: FixIn):
    """Ask for a fix of how a line of the approved payroll is paid (payroll.prepare)."""
    cycle = _cycle(request, cycle_id)
    _need(request, cycle, Cap.PAYROLL_PREPARE)
    line = get_object_or_404(PayrollLine, cycle=cycle, pk=payload.line_id)
    account = None
    if payload.account_id is not None:
        account = get_object_or_404(ReceivingAccount, pk=payload.account_id, beneficiary_id=line.beneficiary_id)
    fix = fixes.request_fix(actor=request.auth, line=line, kind=payload.kind, account=account, reason=payload.reason)
    return _fix(fix)


@router.post(
    "/payroll/cycles/{cycle_id}/fixes/approve",
    response=responses({200: FixOut}, body=True, forbidden=True, not_found=True),
)
def post_fix_approve(request, cycle_id: Id, payload: FixDecisionIn):
    """Approve a fix with a current TOTP code (payroll.approve; not the one who asked for it)."""
    cycle = _cycle(request, cycle_id)
    _need(request, cycle, Cap.PAYROLL_APPROVE)
    fix = get_object_or_404(LineFix, line__cycle=cycle, pk=payload.fix_id)
    return _fix(fixes.approve_fix(actor=request.auth, fix=fix, token=payload.token))


@router.post(
    "/payroll/cycles/{cycle_id}/fixes/reject",
    response=responses({200: FixOut}, body=True, forbidden=True, not_found=True),
)
def post_fix_reject(request, cycle_id: Id, payload: FixRejectIn):
    """Reject a fix, with the reason (payroll.approve)."""
    cycle = _cycle(request, cycle_id)
    _need(request, cycle, Cap.PAYROLL_APPROVE)
    fix = get_object_or_404(LineFix, line__cycle=cycle, pk=payload.fix_id)
    return _fix(fixes.reject_fix(actor=request.auth, fix=fix, reason=payload.reason))


@router.get(
    "/payroll/cycles/{cycle_id}/provider-lists",
    response=responses({200: None}, forbidden=True, not_found=True),
    openapi_extra={
        "responses": {
            "200": {
                "description": "XLSX (commune_id and channel) or ZIP (neither)",
                "content": {XLSX: {}, "application/zip": {}},
            }
        }
    },
)
def get_provider_lists(request, cycle_id: Id, filters: Query[ProviderListFilters]):
    """The provider list of one commune and channel (XLSX), or all the cycle's lists the user may
    download (ZIP). Only for an approved payroll (422 otherwise); audited."""
    cycle = _cycle(request, cycle_id)
    if (filters.commune_id is None) != (filters.channel is None):
        raise ValidationError(_("Give both the commune and the channel, or neither for all lists."))
    if filters.commune_id is not None and filters.channel is not None:
        commune = get_object_or_404(Area, pk=filters.commune_id, path__startswith=cycle.area_path)
        if not provider_lists.may_download(request.auth, commune):
            raise HttpError(403, _("Your role does not allow downloading the provider lists here."))
        name, data = provider_lists.export_list(
            actor=request.auth, cycle=cycle, commune=commune, channel=filters.channel
        )
        content_type = XLSX
    else:
        if not any(access.can_in_area(request.auth, cap, cycle.area) for cap in provider_lists.DOWNLOAD_CAPS):
            raise HttpError(403, _("Your role does not allow downloading the provider lists here."))
        name, data = provider_lists.export_zip(actor=request.auth, cycle=cycle)
        content_type = "application/zip"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
