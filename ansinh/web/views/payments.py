"""The payment section of a beneficiary: how and to whom the money goes, month by month, and the
receiving accounts (numbers masked unless the user holds payments.view_account there)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from ansinh.accounts.roles import Cap
from ansinh.payments import services
from ansinh.policy.entitlement import month_start
from ansinh.registry.models import Beneficiary

from ..forms_payments import PayeeForm, PaymentMethodForm, ReceivingAccountForm
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
        try:
            services.set_payment_method(
                actor=request.user,
                beneficiary=b,
                method=d["method"],
                cash_reason=d["cash_reason"],
                account=d["account"],
                from_month=month_start(d["from_month"]),
            )
        except ValidationError as exc:
            _apply_errors(form, _error_dict(exc))
        else:
            messages.success(request, _("The payment method was changed."))
            return _back(b)
    return _change_page(request, b, form, payee_form, status=422)


@cap_required(Cap.REGISTRY_VIEW)
def payee_change(request, pk: int):
    """Designate who receives the money from a month on."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    initial = {"from_month": services.default_month()}
    method_form = PaymentMethodForm(beneficiary=b, initial=initial)
    if request.method != "POST":
        return _change_page(request, b, method_form, PayeeForm(beneficiary=b, initial=initial))
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
            except ValidationError as exc:
                errors = _error_dict(exc)
                _apply_errors(form, {"holder" if k == "holder_representation" else k: v for k, v in errors.items()})
            else:
                messages.success(request, _("The account %(number)s was recorded.") % {"number": account.masked_number})
                return _back(b)
    else:
        form = ReceivingAccountForm(beneficiary=b)
    status = 422 if request.method == "POST" else 200
    return render(request, "payments/account_form.html", {"b": b, "form": form}, status=status)
