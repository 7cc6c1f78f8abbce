"""Forms of the payment cycle pages: parse input only; the rules live in ansinh.payroll.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ansinh.accounts.models import OrgKind, OrgUnit
from ansinh.areas.models import Area
from ansinh.payroll.models import DEFAULT_DAYS, ContractPurpose, CycleState, DeadlineKind, FeeKind, NonWorkingRule

from .forms_registry import MonthField, date_field


class CycleFilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
    state = forms.ChoiceField(label=_("State"), choices=[("", _("All")), *CycleState.choices], required=False)


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=CycleState.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


DAY_LABELS = {
    DeadlineKind.COMMUNE_CHANGES: _("Commune change list, by day"),
    DeadlineKind.PAYROLL_FUNDING: _("Appraised payroll and funding request, by day"),
    DeadlineKind.TRANSFERS: _("Transfers to accounts, by day"),
    DeadlineKind.PROVIDER_SETTLEMENT: _("Settlement by the provider, on day"),
    DeadlineKind.OFFICE_SETTLEMENT: _("Settlement with the finance office, by day"),
}


class CalendarForm(forms.Form):
    non_working_rule = forms.ChoiceField(
        label=_("A deadline on a weekend or public holiday"), choices=NonWorkingRule.choices
    )
    remind_days_before = forms.IntegerField(label=_("Reminder, working days before"), min_value=0, max_value=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in DAY_LABELS.items():
            self.fields[f"{kind}_day"] = forms.IntegerField(
                label=label, min_value=1, max_value=28, initial=DEFAULT_DAYS[kind]
            )

    def day_fields(self):
        return [self[f"{kind}_day"] for kind in DAY_LABELS]


class ContractForm(forms.Form):
    number = forms.CharField(label=_("Contract number"), max_length=60)
    signed_on = date_field(_("Signed on"))
    paying_unit = forms.ModelChoiceField(label=_("Paying unit"), queryset=OrgUnit.objects.none())
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=OrgUnit.objects.none())
    areas = forms.ModelMultipleChoiceField(label=_("Areas served"), queryset=Area.objects.none())
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ContractPurpose.choices)
    valid_from = date_field(_("From"), required=True)
    valid_to = date_field(_("Until"), required=True)
    covers_account = forms.BooleanField(label=_("Payment into accounts"), required=False, initial=True)
    covers_pay_point = forms.BooleanField(label=_("Cash at pay points"), required=False, initial=True)
    covers_home = forms.BooleanField(label=_("Cash at home"), required=False, initial=True)
    fee_kind = forms.ChoiceField(label=_("Fee rule"), choices=FeeKind.choices)
    fee_flat = forms.IntegerField(label=_("Fee per beneficiary paid per month (đồng)"), min_value=0, initial=0)
    fee_basis_points = forms.IntegerField(
        label=_("Fee, basis points of the amount paid"),
        min_value=0,
        max_value=10_000,
        initial=0,
        help_text=_("1 basis point = 0.01 %; 150 = 1.5 %."),
    )
    transfer_day = forms.IntegerField(label=_("Transfers by day"), min_value=1, max_value=31, initial=8)
    payment_day = forms.IntegerField(label=_("Cash paid by day"), min_value=1, max_value=31, initial=15)
    settlement_day = forms.IntegerField(label=_("Settlement on day"), min_value=1, max_value=31, initial=20)
    wrong_payments = forms.CharField(
        label=_("Handling of wrong payments"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, payers, providers, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paying_unit"].queryset = payers
        self.fields["provider"].queryset = providers.filter(kind=OrgKind.PROVIDER)
        self.fields["areas"].queryset = areas
