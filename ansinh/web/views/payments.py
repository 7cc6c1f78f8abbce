"""The payment section of a beneficiary: how and to whom the money goes, month by month, and the
receiving accounts (numbers masked unless the user holds payments.view_account there)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ansinh.accounts.roles import Cap
from ansinh.payments import queries, services
from ansinh.payments.approvals import account_in_effect
from ansinh.payments.models import Method
from ansinh.policy.entitlement import month_start
from ansinh.registry.models import Beneficiary

from ..forms_payments import AccountEndForm, PayeeForm, PaymentMethodForm, ReceivingAccountForm
from ..shortcuts import cap_required
from .registry import _apply_errors, _beneficiary, _error_dict


def _back(b: Beneficiary):
    return redirect(reverse("registry:detail", args=[b.pk]) + "#payments")


def _change_page(request, b, method_form, payee_form, status=200):
    return render(
        request,
        "payments/change.html",
        {"b": b, "method_form": method_form, "payee_form": payee_form},
        status=status,
    )


@cap_required(Cap.REGISTRY_VIEW)
def method_change(request, pk: int):
    """Change the payment method from a month on (default: the next month)."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    initial = {"from_month": services.default_month()}
    payee_form = PayeeForm(beneficiary=b, initial=initial)
    if request.method != "POST":
        return _change_page(request, b, PaymentMethodForm(beneficiary=b, initial=initial), payee_form)
    form = PaymentMethodForm(request.POST, beneficiary=b)
    if form.is_valid():
        d = form.cleaned_data
        month = month_start(d["from_month"])
        # a new receiving account goes through a second person's approval
        new_account = d["method"] == Method.ACCOUNT and d["account"] is not None
        try:
            if new_account and account_in_effect(b, month) != d["account"]:
                services.request_account_change(
                    actor=request.user, beneficiary=b, account=d["account"], from_month=month
                )
                done = _("The change of account awaits the approval of a second person.")
            else:
                services.set_payment_method(
                    actor=request.user,
                    beneficiary=b,
                    method=d["method"],
                    cash_reason=d["cash_reason"],
                    account=d["account"],
                    from_month=month,
                )
                done = _("The payment method was changed.")
        except ValidationError as exc:
            _apply_errors(form, _error_dict(exc))
        else:
            messages.success(request, done)
            return _back(b)
    return _change_page(request, b, form, payee_form, status=422)


@cap_required(Cap.REGISTRY_VIEW)
def payee_change(request, pk: int):
    """Designate who receives the money from a month on."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    initial = {"from_month": services.default_month()}
    method_form = PaymentMethodForm(beneficiary=b, initial=initial)
    if request.method != "POST":
        payee_initial = {"from_month": services.payee_change_month(b)}
        return _change_page(request, b, method_form, PayeeForm(beneficiary=b, initial=payee_initial))
    form = PayeeForm(request.POST, beneficiary=b)
    if form.is_valid():
        d = form.cleaned_data
        link = b.representations.filter(pk=int(d["payee"]), ended_at__isnull=True).first() if d["payee"] else None
        try:
            services.designate_payee(
                actor=request.user, beneficiary=b, representation=link, from_month=month_start(d["from_month"])
            )
        except ValidationError as exc:
            _apply_errors(form, {"payee" if k == "representation" else k: v for k, v in _error_dict(exc).items()})
        else:
            messages.success(request, _("The payee was changed."))
            return _back(b)
    return _change_page(request, b, method_form, form, status=422)


@cap_required(Cap.REGISTRY_VIEW)
def account_add(request, pk: int):
    """Record a receiving account, pending verification."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    if request.method == "POST":
        form = ReceivingAccountForm(request.POST, beneficiary=b)
        if form.is_valid():
            d = form.cleaned_data
            holder = b.representations.filter(pk=int(d["holder"])).first() if d["holder"] else None
            try:
                with transaction.atomic():  # the account and the request to pay to it, or neither
                    account = services.register_account(
                        actor=request.user,
                        beneficiary=b,
                        kind=d["kind"],
                        institution=d["institution"],
                        number=d["number"],
                        holder_name=d["holder_name"],
                        holder_representation=holder,
                        opened_on=d["opened_on"],
                    )
                    if d["use_for_payment"]:
                        services.request_account_change(
                            actor=request.user, beneficiary=b, account=account, from_month=d["from_month"]
                        )
            except ValidationError as exc:
                errors = _error_dict(exc)
                renamed = {"holder_representation": "holder", "account": "use_for_payment"}
                _apply_errors(form, {renamed.get(k, k): v for k, v in errors.items()})
            else:
                messages.success(request, _("The account %(number)s was recorded.") % {"number": account.masked_number})
                if d["use_for_payment"]:
                    messages.info(request, _("The change of account awaits the approval of a second person."))
                return _back(b)
    else:
        form = ReceivingAccountForm(beneficiary=b, initial={"from_month": services.default_month()})
    status = 422 if request.method == "POST" else 200
    return render(request, "payments/account_form.html", {"b": b, "form": form}, status=status)


@require_POST
@cap_required(Cap.REGISTRY_VIEW)
def account_end(request, pk: int, account_pk: int):
    """Close a receiving account or reject a pending one, with the reason."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    account = get_object_or_404(queries.accounts_of(b), pk=account_pk)
    form = AccountEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason."))
        return _back(b)
    end = services.close_account if form.cleaned_data["action"] == "close" else services.reject_account
    try:
        end(actor=request.user, account=account, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The account %(number)s was updated.") % {"number": account.masked_number})
    return _back(b)


@require_POST
@cap_required(Cap.REGISTRY_VIEW)
def account_check(request, pk: int, account_pk: int):
    """A person confirms that a weakly matching holder name is the right person, or activates a
    pending account whose holder name matches (neither makes the account receive the money: that
    is an account change, approved by a second person)."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    account = get_object_or_404(queries.accounts_of(b), pk=account_pk)
    action = request.POST.get("action")
    try:
        if action == "confirm_name":
            services.confirm_holder_name(actor=request.user, account=account)
            messages.success(request, _("The holder name was confirmed."))
        elif action == "activate":
            services.activate_account(actor=request.user, account=account)
            messages.success(request, _("The account %(number)s is active.") % {"number": account.masked_number})
        else:
            raise Http404
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return _back(b)


@require_POST
@cap_required(Cap.REGISTRY_VIEW)
def change_withdraw(request, pk: int):
    """The person who asked for a change of account takes it back."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    change = queries.awaiting_change_of(b)
    if change is None:
        raise Http404
    try:
        services.withdraw_account_change(actor=request.user, change=change)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The change of account was withdrawn."))
    return _back(b)
