"""Forms of the payment section of a beneficiary: method, payee and receiving account. They
parse input only; the rules (open months, number formats, name check) live in ansinh.payments."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ansinh.payments.models import AccountKind, AccountStatus, CashReason, Institution, Method

from .forms_registry import MonthField, date_field


def _holder_choices(b) -> list[tuple[str, str]]:
    links = b.representations.filter(ended_at__isnull=True).select_related("representative").order_by("id")
    return [("", _("The beneficiary (%(name)s)") % {"name": b.full_name})] + [
        (str(link.pk), link.representative.full_name) for link in links
    ]


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(label=_("Payment method"), choices=Method.choices)
    cash_reason = forms.ChoiceField(
        label=_("Reason for cash"), choices=[("", "—"), *CashReason.choices], required=False
    )
    account = forms.ModelChoiceField(label=_("Receiving account"), queryset=None, required=False)
    from_month = MonthField(label=_("From month"))

    def __init__(self, *args, beneficiary, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = beneficiary.receiving_accounts.filter(
            status__in=[AccountStatus.PENDING, AccountStatus.ACTIVE]
        ).select_related("institution")


class PayeeForm(forms.Form):
    payee = forms.ChoiceField(label=_("Payee"), required=False)
    from_month = MonthField(label=_("From month"))

    def __init__(self, *args, beneficiary, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payee"].choices = _holder_choices(beneficiary)


class ReceivingAccountForm(forms.Form):
    kind = forms.ChoiceField(label=_("Account type"), choices=AccountKind.choices)
    institution = forms.ModelChoiceField(label=_("Bank or wallet"), queryset=Institution.objects.filter(active=True))
    number = forms.CharField(label=_("Account number"), max_length=40)
    holder_name = forms.CharField(
        label=_("Holder name (as the bank shows it)"),
        max_length=150,
        help_text=_("Upper case without diacritics, as printed by the bank."),
    )
    holder = forms.ChoiceField(label=_("Account holder"), required=False)
    opened_on = date_field(_("Opened on"))
    use_for_payment = forms.BooleanField(
        label=_("Pay the allowance to this account"),
        required=False,
        help_text=_("The change waits for the approval of a second person before it takes effect."),
    )
    from_month = MonthField(label=_("From month"), required=False)

    def __init__(self, *args, beneficiary, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = _holder_choices(beneficiary)
        self.fields["number"].widget.attrs["autocomplete"] = "off"


class AccountEndForm(forms.Form):
    """Close an account (active or pending) or reject a pending one, with the reason."""

    action = forms.ChoiceField(choices=[("close", _("Close")), ("reject", _("Reject"))])
    reason = forms.CharField(label=_("Reason"), max_length=500)
