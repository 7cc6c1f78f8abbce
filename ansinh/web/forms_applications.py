"""Forms of the application pages (public and staff). They parse input into
`applications.services.ApplicantInput`; the rules live in ansinh.applications and come back as
ValidationErrors attached to the fields."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from ansinh.applications.files import Upload
from ansinh.applications.models import AttachmentKind, Channel, State
from ansinh.applications.services import REVIEW_OUTCOMES, ApplicantInput
from ansinh.areas.models import Area, Level
from ansinh.registry.models import Gender

from .forms_registry import MonthField, date_field, entitlement_choices

ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
# one file input per kind of document (several files each); names "files_<kind>"
FILE_FIELDS = [(f"files_{kind}", kind, label) for kind, label in AttachmentKind.choices]


def uploads_of(request) -> list[Upload]:
    return [Upload(kind=kind, file=f) for name, kind, _label in FILE_FIELDS for f in request.FILES.getlist(name)]


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _commune_label(c: Area) -> str:
    return c.full_name


class ApplicantForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    birth_date = date_field(_("Date of birth"), required=True)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, widget=forms.RadioSelect)
    cccd = forms.CharField(
        label=_("Citizen ID (CCCD)"),
        max_length=20,
        help_text=_("12 digits; for a child, the personal identification number"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    commune = forms.ChoiceField(label=_("Commune of residence"))
    village = forms.ChoiceField(label=_("Village"), required=False)
    address = forms.CharField(label=_("Address (house, street)"), max_length=255, required=False)
    entitlement = forms.ChoiceField(label=_("Category claimed"))
    rep_name = forms.CharField(label=_("Representative's full name"), max_length=150, required=False)
    rep_cccd = forms.CharField(
        label=_("Representative's CCCD"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    rep_phone = forms.CharField(
        label=_("Representative's phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    rep_relationship = forms.CharField(
        label=_("Relationship to the applicant"),
        max_length=60,
        required=False,
        help_text=_("e.g. son, daughter, guardian"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, communes, **kwargs):
        super().__init__(*args, **kwargs)
        communes = list(communes)
        _choice(self, "commune").choices = [("", _("— choose —"))] + [(str(c.pk), _commune_label(c)) for c in communes]
        villages = Area.objects.filter(level=Level.VILLAGE, parent__in=communes).order_by("parent_id", "name_key")
        by_commune: dict[int, list] = {}
        for v in villages:
            by_commune.setdefault(v.parent_id, []).append((str(v.pk), v.name))
        _choice(self, "village").choices = [("", _("— unknown —"))] + [
            (_commune_label(c), by_commune[c.pk]) for c in communes if c.pk in by_commune
        ]
        _choice(self, "entitlement").choices = entitlement_choices()

    def applicant_input(self) -> ApplicantInput:
        d = self.cleaned_data
        return ApplicantInput(
            full_name=d["full_name"],
            birth_date=d["birth_date"],
            gender=d["gender"],
            cccd=d["cccd"],
            phone=d["phone"],
            commune_id=int(d["commune"]) if d["commune"] else None,
            village_id=int(d["village"]) if d.get("village") else None,
            address=d["address"],
            entitlement=d["entitlement"],
            rep_name=d["rep_name"],
            rep_cccd=d["rep_cccd"],
            rep_phone=d["rep_phone"],
            rep_relationship=d["rep_relationship"],
            note=d["note"],
        )


def apply_errors(form: forms.Form, errors: dict[str, list[str]]) -> list[str]:
    """Attach a service's field errors to the form; returns those without a field (e.g. the
    attachments), for the page to show."""
    loose = []
    for name, messages in errors.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
            else:
                loose.append(message)
    return loose


class StatusLookupForm(forms.Form):
    reference = forms.CharField(
        label=_("Application reference"),
        max_length=20,
        help_text=_("As on your receipt, e.g. HS-2026-000045"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    last4 = forms.CharField(
        label=_("Last 4 digits of the phone number given in the application"),
        min_length=4,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": r"\d{4}"}),
    )


class FilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    commune = forms.ChoiceField(label=_("Commune"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    q = forms.CharField(label=_("Reference or name"), required=False, max_length=100)

    def __init__(self, *args, communes, **kwargs):
        super().__init__(*args, **kwargs)
        _choice(self, "state").choices = [("", _("All states")), *State.choices]
        _choice(self, "channel").choices = [("", _("All channels")), *Channel.choices]
        _choice(self, "commune").choices = [("", _("All communes"))] + [(str(c.pk), c.full_name) for c in communes]


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=list(
            zip(
                REVIEW_OUTCOMES,
                [_("Accept: to be posted publicly"), _("Return for more documents"), _("Refuse")],
                strict=True,
            )
        ),
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment to the applicant"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The applicant reads this on the status page: say what is missing or why; never write health information."
        ),
    )


class PostForm(forms.Form):
    starts = date_field(_("Posting starts"), required=False, help_text=_("Today when empty"))


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve: the allowance is granted")), ("0", _("Refuse"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    number = forms.CharField(label=_("Decision number"), max_length=60, required=False)
    signed_on = date_field(_("Signed on"), required=True)
    signer = forms.CharField(label=_("Signed by (full name)"), max_length=150, required=False)
    start_month = MonthField(label=_("Start month"), required=False, help_text=_("Default: the month of signing"))
    backdating_reason = forms.CharField(label=_("Reason for an earlier start"), max_length=255, required=False)
    reason = forms.CharField(
        label=_("Reason for refusing"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The applicant reads this on the status page; never write health information."),
    )
    accept_duplicate = forms.BooleanField(label=_("A similar person is registered: save anyway"), required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawing (optional)"), required=False, max_length=500)
