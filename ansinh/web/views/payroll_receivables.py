"""Receivables pages (issue 10 part 3): the overpayments to recover in the user's areas, and one
receivable with its actions — money recovered from the payee, a write-off asked by the office
and approved by a second person with a code of their authenticator app. The rules live in
ansinh.payroll.receivables; the recoveries deducted from payrolls in ansinh.payroll.adjustments."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.core.errors import DomainError
from ansinh.payroll import queries, receivables
from ansinh.payroll.models import PayrollLine, Receivable, ReceivableState

from ..forms_registry import date_field
from ..shortcuts import paginate


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("— all —")), *ReceivableState.choices],
    )


class PayeeRecoveryForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Amount recovered (đồng)"), min_value=1)
    on = date_field(gettext_lazy("Date"), required=True)
    reference = forms.CharField(label=gettext_lazy("Receipt or treasury reference"), max_length=60)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class TokenForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("Code from your authenticator app"), max_length=8)


def _readable(request):
    if not queries.may_read(request.user):
        raise PermissionDenied
    return queries._scoped(Receivable.objects.select_related("beneficiary", "programme"), request.user)


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


@login_required
@require_GET
def receivable_list(request):
    qs = _readable(request)
    form = StateFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    if state:
        qs = qs.filter(state=state)
    page = paginate(request, qs.order_by("-created_at", "-id"))
    return render(
        request,
        "payroll/receivables.html",
        {"page": page, "receivables": list(page.object_list), "form": form, "active": "receivables"},
    )


def _actions(user, r: Receivable) -> dict:
    area = r.beneficiary.commune
    may_prepare = access.can_in_area(user, Cap.PAYROLL_PREPARE, area)
    may_approve = access.can_in_area(user, Cap.PAYROLL_APPROVE, area)
    is_open = r.state == ReceivableState.OPEN
    requested = r.state == ReceivableState.WRITE_OFF_REQUESTED
    return {
        "may_recover": is_open and may_prepare,
        "may_request": is_open and may_prepare,
        "may_approve": requested and may_approve,
        "blockers": receivables.write_off_blockers(user, r) if requested and may_approve else [],
        "has_device": otp.has_device(user) if requested and may_approve else False,
    }


@login_required
@require_GET
def receivable_detail(request, receivable_id: int):
    r = get_object_or_404(_readable(request).select_related("beneficiary__commune"), pk=receivable_id)
    lines = (
        PayrollLine.objects.filter(receivable=r)
        .select_related("cycle")
        .order_by("cycle__month", "pk")
        .values_list("cycle__month", "cycle__state", "amount")
    )
    context = {
        "r": r,
        "lines": list(lines),
        "recovery_form": PayeeRecoveryForm(initial={"on": timezone.localdate()}),
        "reason_form": ReasonForm(),
        "token_form": TokenForm(),
        "active": "receivables",
        **_actions(request.user, r),
    }
    return render(request, "payroll/receivable.html", context)


def _target(request, receivable_id: int) -> Receivable:
    return get_object_or_404(_readable(request).select_related("beneficiary__commune"), pk=receivable_id)


def _require(user, cap: str, r: Receivable) -> None:
    if not access.can_in_area(user, cap, r.beneficiary.commune):
        raise PermissionDenied


def _done(request, r: Receivable, ok: str | None, errors: list[str]):
    if errors:
        for e in errors:
            messages.error(request, e)
    elif ok:
        messages.success(request, ok)
    return redirect("payroll:receivable", receivable_id=r.pk)


@login_required
@require_POST
def receivable_recover(request, receivable_id: int):
    r = _target(request, receivable_id)
    _require(request.user, Cap.PAYROLL_PREPARE, r)
    form = PayeeRecoveryForm(request.POST)
    if not form.is_valid():
        return _done(request, r, None, [f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()])
    d = form.cleaned_data
    try:
        receivables.record_payee_recovery(
            actor=request.user, receivable=r, amount=d["amount"], on=d["on"], reference=d["reference"]
        )
    except (ValidationError, DomainError) as exc:
        return _done(request, r, None, _errors(exc))
    return _done(request, r, _("The amount recovered from the payee is recorded."), [])


@login_required
@require_POST
def receivable_write_off(request, receivable_id: int):
    r = _target(request, receivable_id)
    _require(request.user, Cap.PAYROLL_PREPARE, r)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _done(request, r, None, [_("Give the reason for writing off.")])
    try:
        receivables.request_write_off(actor=request.user, receivable=r, reason=form.cleaned_data["reason"])
    except (ValidationError, DomainError) as exc:
        return _done(request, r, None, _errors(exc))
    return _done(request, r, _("The write-off is asked for: a second person must approve it."), [])


@login_required
@require_POST
def receivable_write_off_approve(request, receivable_id: int):
    r = _target(request, receivable_id)
    _require(request.user, Cap.PAYROLL_APPROVE, r)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _done(request, r, None, [_("Enter the code from your authenticator app.")])
    try:
        receivables.approve_write_off(actor=request.user, receivable=r, token=form.cleaned_data["token"])
    except (ValidationError, DomainError) as exc:
        return _done(request, r, None, _errors(exc))
    return _done(request, r, _("The receivable is written off."), [])


@login_required
@require_POST
def receivable_write_off_reject(request, receivable_id: int):
    r = _target(request, receivable_id)
    _require(request.user, Cap.PAYROLL_APPROVE, r)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _done(request, r, None, [_("Give the reason.")])
    try:
        receivables.reject_write_off(actor=request.user, receivable=r, reason=form.cleaned_data["reason"])
    except (ValidationError, DomainError) as exc:
        return _done(request, r, None, _errors(exc))
    return _done(request, r, _("The write-off is refused: the receivable is open again."), [])
