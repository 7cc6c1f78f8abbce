"""Approving changes of receiving account: the awaiting changes in the approver's areas, approved
together with one code of the approver's authenticator app, or rejected one by one with a note.
Numbers are masked unless the approver holds payments.view_account there."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.payments import queries, services
from ansinh.payments.approvals import approval_blockers

from ..forms_otp import OtpCodeForm
from ..shortcuts import cap_required

LIST_LIMIT = 200


@never_cache
@cap_required(Cap.PAYMENTS_APPROVE_ACCOUNT)
def change_list(request):
    """GET: the awaiting changes; POST: approve the ticked ones (`change`) with `token`."""
    awaiting = queries.awaiting_changes_for(request.user, Cap.PAYMENTS_APPROVE_ACCOUNT)
    form = OtpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("change") if v.isdigit()][:LIST_LIMIT]
        chosen = list(awaiting.filter(pk__in=ids))
        try:
            count = services.approve_account_changes(
                actor=request.user, changes=chosen, token=form.data.get("token", "")
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            status = 422
        else:
            messages.success(request, _("%(count)s change(s) of account approved.") % {"count": count})
            return redirect("account_changes:list")
    changes = list(awaiting[:LIST_LIMIT])
    for change in changes:
        full = queries.number_visible(request.user, change.beneficiary)
        change.shown_number = queries.shown_number(change.account, full)
        if change.previous_account_id:
            change.previous_shown = queries.shown_number(change.previous_account, full)
        change.blockers = approval_blockers(request.user, change)
    context = {
        "changes": changes,
        "form": form,
        "has_device": otp.has_device(request.user),
        "limit": LIST_LIMIT,
    }
    return render(request, "payments/approvals.html", context, status=status)


@require_POST
@login_required
def change_reject(request, pk: int):
    """Reject one awaiting change with a note (`note`)."""
    change = get_object_or_404(queries.awaiting_changes_for(request.user), pk=pk)
    if not access.can_in_area(request.user, Cap.PAYMENTS_APPROVE_ACCOUNT, change.beneficiary.audit_area):
        raise PermissionDenied
    try:
        services.reject_account_change(actor=request.user, change=change, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The change of account was rejected."))
    return redirect("account_changes:list")
