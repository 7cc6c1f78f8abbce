"""The approval section of the cycle page (issue 10 part 3): the approver approves the draft
payroll with a code of their authenticator app (the preparer sees why they cannot), the office
withdraws a draft, the approval's record (who, when, content hash), the provider lists per
commune and channel (and all of them as a ZIP), and same-month payment fixes (asked from a line,
approved or rejected by a second person). The rules live in ansinh.payroll.approval, .fixes and
.provider_lists; the section is rendered by `{% load payroll_approval %}{% approval_section cycle %}`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.core.errors import DomainError
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.payroll import approval, fixes, provider_lists, queries
from ansinh.payroll.models import Channel, CycleState, FixKind, FixState, LineFix, PayrollApproval, PayrollLine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


def approval_context(request, cycle) -> dict:
    """What the section shows to this user."""
    user = request.user
    may_prepare = access.can_in_area(user, Cap.PAYROLL_PREPARE, cycle.area)
    may_approve = access.can_in_area(user, Cap.PAYROLL_APPROVE, cycle.area)
    draft = cycle.state == CycleState.PAYROLL_GENERATED
    record = PayrollApproval.objects.filter(cycle=cycle).select_related("approved_by", "prepared_by").first()
    context: dict = {
        "approval": record,
        "may_withdraw": draft and may_prepare,
        "may_approve": False,
        "blockers": [],
        "has_device": False,
        "lists": [],
        "may_request_fix": False,
        "may_decide_fix": False,
        "fixes": [],
    }
    if draft and may_approve:
        context["blockers"] = approval.approval_blockers(user, cycle)
        context["may_approve"] = not context["blockers"]
        context["has_device"] = otp.has_device(user)
    if record is not None:
        communes = [c for c in provider_lists.communes_of(cycle) if provider_lists.may_download(user, c)]
        context["lists"] = [(c, [(v, lbl) for v, lbl in Channel.choices]) for c in communes]
        context["may_request_fix"] = cycle.state in fixes.FIXABLE_STATES and may_prepare
        context["may_decide_fix"] = may_approve
        context["fixes"] = list(
            LineFix.objects.filter(line__cycle=cycle)
            .select_related("line__beneficiary", "account__institution", "requested_by", "decided_by")
            .order_by("-requested_at", "-id")[:100]
        )
        if may_approve:
            context["has_device"] = otp.has_device(user)
        line_id = request.GET.get("fix_line", "")
        if context["may_request_fix"] and line_id.isdigit():
            line = PayrollLine.objects.filter(cycle=cycle, pk=int(line_id)).select_related("beneficiary").first()
            if line is not None:
                context["fix_line"] = line
                context["fix_accounts"] = list(
                    ReceivingAccount.objects.filter(
                        beneficiary_id=line.beneficiary_id, status=AccountStatus.ACTIVE
                    ).select_related("institution")
                )
                context["fix_kinds"] = FixKind.choices
    context["requested"] = FixState.REQUESTED
    return context


def _cycle(request, pk: int):
    if not queries.may_read(request.user):
        raise PermissionDenied
    return get_object_or_404(queries.cycles_for(request.user), pk=pk)


@require_POST
@login_required
def approve(request, pk: int):
    cycle = _cycle(request, pk)
    if not access.can_in_area(request.user, Cap.PAYROLL_APPROVE, cycle.area):
        raise PermissionDenied
    try:
        record = approval.approve_payroll(actor=request.user, cycle=cycle, token=request.POST.get("token", ""))
    except (DomainError, ValidationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The payroll is approved. Content hash: %(hash)s.") % {"hash": record.content_hash})
    return redirect("payroll:cycle", pk=cycle.pk)


@require_POST
@login_required
def withdraw(request, pk: int):
    cycle = _cycle(request, pk)
    if not access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area):
        raise PermissionDenied
    try:
        approval.withdraw_payroll(actor=request.user, cycle=cycle, reason=request.POST.get("reason", ""))
    except (DomainError, ValidationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The draft payroll was withdrawn; the cycle is appraised again."))
    return redirect("payroll:cycle", pk=cycle.pk)


@require_POST
@login_required
def fix_request(request, pk: int):
    cycle = _cycle(request, pk)
    if not access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area):
        raise PermissionDenied
    line_id, account_id = request.POST.get("line", ""), request.POST.get("account", "")
    line = get_object_or_404(PayrollLine, cycle=cycle, pk=int(line_id) if line_id.isdigit() else 0)
    account = None
    if account_id.isdigit():
        account = ReceivingAccount.objects.filter(pk=int(account_id), beneficiary_id=line.beneficiary_id).first()
    try:
        fixes.request_fix(
            actor=request.user,
            line=line,
            kind=request.POST.get("kind", ""),
            account=account,
            reason=request.POST.get("reason", ""),
        )
    except (DomainError, ValidationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The payment fix awaits a second person's approval."))
    return redirect("payroll:cycle", pk=cycle.pk)


@require_POST
@login_required
def fix_decide(request, pk: int):
    cycle = _cycle(request, pk)
    if not access.can_in_area(request.user, Cap.PAYROLL_APPROVE, cycle.area):
        raise PermissionDenied
    fix_id = request.POST.get("fix", "")
    fix = get_object_or_404(LineFix, line__cycle=cycle, pk=int(fix_id) if fix_id.isdigit() else 0)
    try:
        if request.POST.get("decision") == "approve":
            fixes.approve_fix(actor=request.user, fix=fix, token=request.POST.get("token", ""))
            messages.success(request, _("The payment fix is approved."))
        else:
            fixes.reject_fix(actor=request.user, fix=fix, reason=request.POST.get("reason", ""))
            messages.success(request, _("The payment fix is rejected."))
    except (DomainError, ValidationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    return redirect("payroll:cycle", pk=cycle.pk)


@require_GET
@login_required
def provider_list(request, pk: int):
    """One list (`?commune=<id>&channel=account|pay_point|home`) or, without them, all the
    cycle's lists the user may download as a ZIP."""
    cycle = _cycle(request, pk)
    commune_id, channel = request.GET.get("commune", ""), request.GET.get("channel", "")
    try:
        if commune_id or channel:
            commune = get_object_or_404(
                Area, pk=int(commune_id) if commune_id.isdigit() else 0, path__startswith=cycle.area_path
            )
            if not provider_lists.may_download(request.user, commune):
                raise PermissionDenied
            if channel not in Channel.values:
                raise provider_lists.ListRefused(_("Choose the channel of the list."))
            name, data = provider_lists.export_list(actor=request.user, cycle=cycle, commune=commune, channel=channel)
            content_type = XLSX
        else:
            if not any(access.can_in_area(request.user, cap, cycle.area) for cap in provider_lists.DOWNLOAD_CAPS):
                raise PermissionDenied
            name, data = provider_lists.export_zip(actor=request.user, cycle=cycle)
            content_type = "application/zip"
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("payroll:cycle", pk=cycle.pk)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
