"""Recording on the cash lists (issue 12 parts 3 and 4): the field page a provider's staff member
opens on a phone (the day's list kept on the device, receipts queued offline and sent when the
connection returns: static/ansinh/cash-field.js and its service worker), its JSON endpoints, the
same recording as a plain form (no script), the receipts of a list with its closing, withdrawals
at a pay point, and the officers' list of accounts to follow up.

Who: the provider's staff (cashout.record) record; cashout.manage or cashout.record close a list;
cashout.manage closes a follow-up; cashout.view reads. A reader's POST is a 403 that writes
nothing; another area's list, entry, pay point or follow-up is a 404. The rules live in
ansinh.cashout (receipts, closing, withdrawals)."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts.roles import Cap
from ansinh.cashout import closing, queries, receipts, records, withdrawals
from ansinh.cashout.models import (
    CannotWithdrawReason,
    CashEntry,
    EntryState,
    NotPaidReason,
    ReceiptResult,
    WithdrawalMeans,
)
from ansinh.registry.models import Beneficiary

from ..shortcuts import cap_required, paginate

FIELD_SCOPE = "/cash/field/"


def _errors(exc: ValidationError) -> list[str]:
    return [m for msgs in exc.message_dict.values() for m in msgs] if hasattr(exc, "error_dict") else exc.messages


def _texts() -> dict:
    return {
        "online": _("Connected: records are sent at once."),
        "offline_list": _("No connection: the list kept on this phone is shown. Records are kept and sent later."),
        "offline_queued": _("No connection: the records wait on this phone and are sent when it returns."),
        "signed_out": _("Sign in again to send the records (they are kept on this phone)."),
        "empty": _("Nobody left to pay on this list today."),
        "payee": _("Payee"),
        "paid": _("Paid"),
        "not_paid": _("Not paid"),
        "record": _("Record"),
        "receiver": _("Received by"),
        "beneficiary": _("the person"),
        "representative": _("representative"),
        "cccd": _("Receiver's CCCD"),
        "cccd_hint": _("Last 4 digits or all 12"),
        "cccd_length": _("Enter all 12 digits of the CCCD, or its last 4 digits."),
        "cccd_mismatch": _("The CCCD entered does not match the receiver's record: do not pay, check the card."),
        "no_cccd_note": _("The receiver has no CCCD on record: write in the note which paper you checked."),
        "note": _("Note"),
        "reason": _("Reason"),
        "reasons": {value: str(label) for value, label in NotPaidReason.choices},
        "status": {
            "queued": _("Waiting to be sent"),
            "sent": _("Sent"),
            "conflict": _("Conflict"),
            "refused": _("Refused"),
        },
    }


def _recordable_list(request, cash_list_id: int):
    cash_list = get_object_or_404(queries.cash_lists_for(request.user), pk=cash_list_id)
    if not records.may_record(request.user, cash_list.commune):
        raise PermissionDenied
    return cash_list


# --- the field page ---------------------------------------------------------------------------------


@require_GET
@cap_required(Cap.CASH_VIEW)
def field_index(request):
    """The open lists the staff member records on: each opens the field page."""
    lists = records.recordable_lists(request.user).order_by("-cycle__month", "kind", "id")
    return render(request, "cashout/field_index.html", {"lists": lists[:200]})


@require_GET
@cap_required(Cap.CASH_VIEW)
def field_page(request, cash_list_id: int):
    cash_list = _recordable_list(request, cash_list_id)
    context = {
        "cash_list": cash_list,
        "texts": _texts(),
        "data_url": reverse("cashout:field_data", args=[cash_list.pk]),
        "post_url": reverse("cashout:field_receipt", args=[0]),
        "sw_url": reverse("cashout:field_sw"),
        "sw_scope": FIELD_SCOPE,
    }
    return render(request, "cashout/field.html", context)


@require_GET
@cap_required(Cap.CASH_VIEW)
def field_data(request, cash_list_id: int):
    """The day's list as the phone keeps it (records.field_data: no full CCCD, nothing else)."""
    cash_list = _recordable_list(request, cash_list_id)
    response = JsonResponse(records.field_data(cash_list))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@cap_required(Cap.CASH_VIEW)
def field_receipt(request, entry_id: int):
    """JSON in, JSON out (session and CSRF header): one record of the outbox. 201 recorded, 409
    a conflict, 422 refused; the same key again answers as the first time."""
    entry = get_object_or_404(records.entries_for(request.user), pk=entry_id)
    if not records.may_record(request.user, entry.commune):
        raise PermissionDenied
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"errors": [_("The record could not be read.")]}, status=400)
    key = str(request.headers.get("Idempotency-Key") or data.get("idempotency_key") or "")
    occurred = parse_datetime(str(data.get("occurred_at") or "")) or timezone.now()
    rep = data.get("representation_id")
    try:
        receipt = receipts.record_cash_receipt(
            actor=request.user,
            entry_id=entry.pk,
            idempotency_key=key,
            outcome=str(data.get("outcome") or ""),
            reason=str(data.get("reason") or ""),
            note=str(data.get("note") or "")[:255],
            receiver_kind=str(data.get("receiver_kind") or ""),
            representation_id=rep if isinstance(rep, int) else None,
            receiver_cccd=str(data.get("receiver_cccd") or "")[:20],
            occurred_at=occurred,
            device=str(data.get("device") or "")[:64],
        )
    except ValidationError as exc:
        errors = _errors(exc)
        return JsonResponse({"errors": errors, "message": " ".join(errors)}, status=422)
    except receipts.CashForbidden as exc:
        raise PermissionDenied from exc
    except CashEntry.DoesNotExist as exc:
        raise Http404 from exc
    return JsonResponse(receipts.answer_of(receipt), status=receipts.status_code(receipt))


@require_GET
@login_required
def field_sw(request):
    """The service worker, served under /cash/field/ so that its scope covers the field page."""
    path = finders.find("ansinh/cash-field-sw.js")
    if not path:
        raise Http404
    with open(path, encoding="utf-8") as handle:
        response = HttpResponse(handle.read(), content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = FIELD_SCOPE
    response["Cache-Control"] = "no-cache"
    return response


# --- the same recording as a plain form ------------------------------------------------------------


class ReceiptForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("What happened"),
        choices=[("paid", gettext_lazy("Paid")), ("not_paid", gettext_lazy("Not paid"))],
    )
    receiver = forms.ChoiceField(label=gettext_lazy("Received by"), required=False)
    receiver_cccd = forms.CharField(
        label=gettext_lazy("Receiver's CCCD"),
        required=False,
        max_length=12,
        help_text=gettext_lazy("Last 4 digits or all 12"),
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), required=False, choices=[("", "—"), *NotPaidReason.choices]
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)
    photo = forms.FileField(label=gettext_lazy("Photo of the signed receipt"), required=False)
    key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, entry: CashEntry, **kwargs):
        super().__init__(*args, **kwargs)
        reps = receipts.current_representations(entry.beneficiary, timezone.localdate())
        choices = [("beneficiary", f"{entry.beneficiary.full_name} ({_('the person')})")] + [
            (f"rep:{r.pk}", f"{r.representative.full_name} ({r.get_kind_display()})") for r in reps
        ]
        receiver = self.fields["receiver"]
        assert isinstance(receiver, forms.ChoiceField)
        receiver.choices = choices


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_VIEW)
def receipt_form(request, entry_id: int):
    entry = get_object_or_404(records.entries_for(request.user), pk=entry_id)
    may = records.may_record(request.user, entry.commune)
    form = ReceiptForm(request.POST or None, request.FILES or None, entry=entry, initial={"key": uuid.uuid4().hex})
    if request.method == "POST":
        if not may:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            rep = d["receiver"].removeprefix("rep:") if d["receiver"].startswith("rep:") else None
            try:
                receipt = receipts.record_cash_receipt(
                    actor=request.user,
                    entry_id=entry.pk,
                    idempotency_key=d["key"],
                    outcome=d["outcome"],
                    reason=d["reason"] if d["outcome"] == "not_paid" else "",
                    note=d["note"],
                    receiver_kind="representative" if rep else "beneficiary",
                    representation_id=int(rep) if rep and rep.isdigit() else None,
                    receiver_cccd=d["receiver_cccd"],
                    occurred_at=timezone.now(),
                    device="web",
                    photo=d["photo"],
                )
            except ValidationError as exc:
                for m in _errors(exc):
                    form.add_error(None, m)
            else:
                level = messages.SUCCESS if receipt.result == ReceiptResult.RECORDED else messages.WARNING
                messages.add_message(request, level, receipts.result_message(receipt.result))
                return redirect("cashout:list_receipts", cash_list_id=entry.cash_list_id)
    history = records.receipts_for(request.user).filter(entry=entry).order_by("-recorded_at")[:20]
    context = {
        "entry": entry,
        "form": form,
        "may_record": may,
        "history": history,
        "masked_cccd": queries.masked_cccd(entry),
    }
    return render(request, "cashout/receipt_form.html", context)


@require_GET
@cap_required(Cap.CASH_VIEW)
def list_receipts(request, cash_list_id: int):
    """What was recorded on a list, the people still to pay, and its closing."""
    cash_list = get_object_or_404(queries.cash_lists_for(request.user), pk=cash_list_id)
    rows = records.receipts_for(request.user).filter(entry__cash_list=cash_list).order_by("-recorded_at", "-id")
    pending = queries.live_entries(cash_list).filter(state__in=[EntryState.PENDING, EntryState.NOT_PAID])
    context = {
        "cash_list": cash_list,
        "page": paginate(request, rows),
        "pending": pending[:500],
        "may_record": records.may_record(request.user, cash_list.commune),
        "may_close": closing.may_close(request.user, cash_list) and cash_list.state == "open",
    }
    return render(request, "cashout/receipts.html", context)


@require_POST
@cap_required(Cap.CASH_VIEW)
def close_list(request, cash_list_id: int):
    cash_list = get_object_or_404(queries.cash_lists_for(request.user), pk=cash_list_id)
    if not closing.may_close(request.user, cash_list):
        raise PermissionDenied
    try:
        result = closing.close_cash_list(actor=request.user, cash_list=cash_list)
    except receipts.CashForbidden as exc:
        raise PermissionDenied from exc
    messages.success(request, closing.returned_text(result))
    return redirect("cashout:list_receipts", cash_list_id=cash_list.pk)


# --- withdrawals and follow-ups -----------------------------------------------------------------------


class WithdrawalForm(forms.Form):
    cccd = forms.CharField(label=gettext_lazy("CCCD of the account holder"), min_length=12, max_length=12)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[("served", gettext_lazy("Withdrew")), ("cannot", gettext_lazy("Could not withdraw"))],
    )
    means = forms.ChoiceField(label=gettext_lazy("With"), required=False, choices=[("", "—"), *WithdrawalMeans.choices])
    reason = forms.ChoiceField(
        label=gettext_lazy("Why not"), required=False, choices=[("", "—"), *CannotWithdrawReason.choices]
    )
    amount = forms.IntegerField(label=gettext_lazy("Amount withdrawn (đồng)"), required=False, min_value=1)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)
    key = forms.CharField(widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_VIEW)
def withdrawal_form(request, pay_point_id: int):
    point = get_object_or_404(queries.pay_points_for(request.user), pk=pay_point_id)
    may = records.may_record(request.user, point.commune)
    form = WithdrawalForm(request.POST or None, initial={"key": uuid.uuid4().hex})
    if request.method == "POST":
        if not may:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            holder = Beneficiary.objects.filter(cccd=d["cccd"], commune=point.commune).first()
            try:
                if holder is None:
                    raise ValidationError(_("No account holder of this commune has this CCCD."))
                w = withdrawals.record_withdrawal(
                    actor=request.user,
                    pay_point=point,
                    beneficiary=holder,
                    idempotency_key=d["key"],
                    outcome=d["outcome"],
                    means=d["means"],
                    reason=d["reason"],
                    amount=d["amount"],
                    note=d["note"],
                    occurred_at=timezone.now(),
                )
            except ValidationError as exc:
                for m in _errors(exc):
                    form.add_error(None, m)
            else:
                if w.cash_entry_id:
                    messages.warning(
                        request, _("Recorded. The person is on the cash list of this pay point: pay them in cash.")
                    )
                else:
                    messages.success(request, _("Withdrawal recorded."))
                return redirect("cashout:withdrawals", pay_point_id=point.pk)
    recent = records.withdrawals_for(request.user).filter(pay_point=point).order_by("-occurred_at", "-id")
    return render(
        request,
        "cashout/withdrawals.html",
        {"point": point, "form": form, "may_record": may, "page": paginate(request, recent)},
    )


@require_GET
@cap_required(Cap.CASH_VIEW)
def follow_ups(request):
    state = request.GET.get("state", "open")
    qs = records.follow_ups_for(request.user).order_by("-opened_at", "-id")
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    page = paginate(request, qs)
    for f in page:
        f.may_close = f.closed_at is None and withdrawals.may_close_follow_up(request.user, f)
    return render(request, "cashout/follow_ups.html", {"page": page, "state": state})


@require_POST
@cap_required(Cap.CASH_VIEW)
def follow_up_close(request, follow_up_id: int):
    follow_up = get_object_or_404(records.follow_ups_for(request.user), pk=follow_up_id)
    if not withdrawals.may_close_follow_up(request.user, follow_up):
        raise PermissionDenied
    try:
        withdrawals.close_follow_up(actor=request.user, follow_up=follow_up, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("Follow-up closed."))
    return redirect("cashout:follow_ups")
