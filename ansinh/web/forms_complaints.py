"""Forms of the complaint pages (public and staff): parse input only; the rules (lengths, links,
phone, commune, rate limits) live in ansinh.complaints.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ansinh.complaints.models import NAME_MAX, RESOLUTION_MAX, TEXT_MAX, Channel, Kind, RoutedTo, State, Topic


def _choices(choices, empty=None):
    return ([("", empty)] if empty is not None else []) + list(choices)


class PublicComplaintForm(forms.Form):
    """The public form (large text, one column). `communes`: the current communes to choose from."""

    kind = forms.ChoiceField(
        label=_("What do you want to send?"),
        choices=[
            (Kind.FEEDBACK, _("Feedback or a question (phản ánh)")),
            (Kind.COMPLAINT, _("A complaint about a decision or an act (khiếu nại)")),
        ],
        initial=Kind.FEEDBACK,
        widget=forms.RadioSelect,
    )
    topic = forms.ChoiceField(label=_("About"), choices=_choices(Topic.choices, _("Choose…")))
    commune = forms.TypedChoiceField(label=_("Your commune or ward"), coerce=int, choices=())
    name = forms.CharField(label=_("Your full name"), max_length=NAME_MAX)
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("To follow your request you will need its reference and the last four digits of this number."),
    )
    cccd = forms.CharField(
        label=_("CCCD number of the beneficiary (if you know it)"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    text = forms.CharField(
        label=_("What happened?"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Who is concerned, which month, what you expected. At most 2,000 characters."),
    )
    # never shown to people (hidden by the page's style); a robot fills it in
    website = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, communes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("Choose…"))] + [(c.pk, c.name) for c in communes]


class ProvinceForm(forms.Form):
    tinh = forms.TypedChoiceField(label=_("Your province or city"), coerce=int, choices=())

    def __init__(self, *args, provinces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tinh"].choices = [("", _("Choose…"))] + [(p.pk, p.name) for p in provinces]


class StatusForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference of your request"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "placeholder": "KN-2026-000123"}
        ),
    )
    last4 = forms.RegexField(
        label=_("Last four digits of the phone number you gave"),
        regex=r"^\d{4}$",
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": r"\d{4}"}),
        error_messages={"invalid": _("Enter exactly four digits.")},
    )


class StaffComplaintForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Received"), choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.COUNTER, Channel.COUNTER.label)]
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    topic = forms.ChoiceField(label=_("Topic"), choices=_choices(Topic.choices, _("Choose…")))
    commune = forms.ModelChoiceField(label=_("Commune"), queryset=None)
    routed_to = forms.ChoiceField(
        label=_("Handled by"), choices=_choices(RoutedTo.choices, _("By topic")), required=False
    )
    name = forms.CharField(label=_("Name of the person"), max_length=NAME_MAX)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    cccd = forms.CharField(
        label=_("CCCD of the beneficiary"),
        max_length=12,
        required=False,
        help_text=_("With the CCCD of a beneficiary of the commune, the complaint is linked to them."),
    )
    text = forms.CharField(label=_("Content"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, communes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes
        if communes is not None and len(communes) == 1:
            self.fields["commune"].initial = communes[0].pk


class RegisterFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("All")), ("open", _("Open (received or being handled)")), *State.choices],
        required=False,
    )
    commune = forms.TypedChoiceField(label=_("Commune"), coerce=int, choices=(), required=False, empty_value=None)
    routed_to = forms.ChoiceField(label=_("Handled by"), choices=_choices(RoutedTo.choices, _("All")), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices(Kind.choices, _("All")), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, communes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("All"))] + [(c.pk, c.name) for c in communes]

    def params(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "state": data.get("state") or "",
            "commune_id": data.get("commune"),
            "routed_to": data.get("routed_to") or "",
            "kind": data.get("kind") or "",
            "overdue": bool(data.get("overdue")),
        }


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Handler"), queryset=None, required=False, empty_label=_("Unchanged"))
    routed_to = forms.ChoiceField(
        label=_("Handled by"), choices=_choices(RoutedTo.choices, _("Unchanged")), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name()


class CloseForm(forms.Form):
    resolution = forms.CharField(
        label=_("Answer given to the person"), max_length=RESOLUTION_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class IdentifyForm(forms.Form):
    cccd = forms.RegexField(
        label=_("CCCD of the beneficiary"),
        regex=r"^\d{12}$",
        max_length=12,
        error_messages={"invalid": _("The CCCD number must have exactly 12 digits.")},
    )
