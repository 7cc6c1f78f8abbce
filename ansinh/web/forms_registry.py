"""Forms of the beneficiary registry pages. They parse input into the registry's typed inputs;
the rules (CCCD against the birth date, phone numbers, duplicates, transitions) live in
`ansinh.registry` and come back as ValidationErrors attached to the fields."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ansinh.areas.models import Area, Level
from ansinh.policy import labels as policy_labels
from ansinh.policy.models import Basis, Category, Kind
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import DecisionKind, Gender, RepresentationKind, Status, StopReason
from ansinh.registry.queries import NEEDS_FLAGS, SearchParams

# Dates are typed day first in Vietnam, never month first: the inputs are text fields showing
# dd/mm/yyyy whatever the browser's locale (<input type="date"> follows the browser's, e.g.
# mm/dd/yyyy on an English phone). ISO is still read (the API's form, older links).
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]

NEEDS_LABELS = {
    "cannot_travel": _("Cannot travel"),
    "no_phone": _("Has no phone"),
    "cannot_read_vietnamese": _("Cannot read Vietnamese"),
    "frail": _("Frail"),
}

# the names of the condition and fixed-amount keys of the policy data (audit_text imports
# condition_label from here)
condition_label = policy_labels.condition_label


class DateInput(forms.DateInput):
    """A date as dd/mm/yyyy in a text field; static/ansinh/date-input.js adds the slashes while
    typing. Parsed on the server (DATE_INPUT_FORMATS)."""

    input_type = "text"

    def __init__(self, attrs=None):
        attrs = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": pgettext_lazy("date input", "dd/mm/yyyy"),
            "pattern": r"\d{1,2}[\/.\-]\d{1,2}[\/.\-]\d{4}|\d{4}-\d{2}-\d{2}",
            "maxlength": "10",
            "data-date-input": "date",
            **(attrs or {}),
        }
        super().__init__(attrs=attrs, format="%d/%m/%Y")


def date_field(label, required=False, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, required=required, input_formats=DATE_INPUT_FORMATS, widget=DateInput, **kwargs)


def cccd_field(help_text) -> forms.CharField:
    """A CCCD as typed (spaces allowed); the registry's validation checks its structure."""
    return forms.CharField(
        label=_("Citizen ID (CCCD)"),
        max_length=20,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def phone_field(help_text="") -> forms.CharField:
    return forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


class MonthInput(forms.DateInput):
    """A month as mm/yyyy in a text field (see DateInput)."""

    input_type = "text"

    def __init__(self, attrs=None):
        attrs = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": pgettext_lazy("month input", "mm/yyyy"),
            "pattern": r"\d{1,2}[\/.\-]\d{4}|\d{4}-\d{1,2}|\d{1,2}[\/.\-]\d{1,2}[\/.\-]\d{4}",
            "maxlength": "10",
            "data-date-input": "month",
            **(attrs or {}),
        }
        super().__init__(attrs=attrs, format="%m/%Y")


class MonthField(forms.DateField):
    """A month: 03/2025 (as shown), 2025-03 (ISO), or a full date. Cleans to the first day of
    the month."""

    widget = MonthInput
    default_error_messages = {"invalid": _("Enter a month as mm/yyyy.")}

    def to_python(self, value):
        if isinstance(value, date):
            return value.replace(day=1)
        text = (value or "").strip()
        if not text:
            return None
        for pattern, order in (
            (r"(\d{4})-(\d{1,2})", "ym"),
            (r"(\d{1,2})[/.-](\d{4})", "my"),
        ):
            match = re.fullmatch(pattern, text)
            if match:
                a, b = (int(g) for g in match.groups())
                year, month = (a, b) if order == "ym" else (b, a)
                if 1 <= month <= 12 and 1900 <= year <= 2100:
                    return date(year, month, 1)
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        self.input_formats = DATE_INPUT_FORMATS
        parsed = super().to_python(text)
        return parsed.replace(day=1) if parsed else None


# --- search ------------------------------------------------------------------------------------


class BeneficiarySearchForm(forms.Form):
    q = forms.CharField(label=_("Name, CCCD or phone"), max_length=100, required=False)
    area = forms.TypedChoiceField(label=_("Commune or village"), required=False, coerce=int, empty_value=None)
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices])
    needs = forms.MultipleChoiceField(
        label=_("Needs"), required=False, widget=forms.CheckboxSelectMultiple, choices=list(NEEDS_LABELS.items())
    )
    issues = forms.BooleanField(label=_("Only with data-quality issues"), required=False)
    change = forms.ChoiceField(
        label=_("This month"),
        required=False,
        choices=[("", _("Any time")), ("started", _("Started this month")), ("stopped", _("Stopped this month"))],
    )

    def __init__(self, *args, areas: list[tuple], categories: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("All my areas")), *areas]
        # (code, name): the name is what a person reads
        self.fields["category"].choices = [("", _("All categories")), *categories]
        for name in ("area", "category", "status", "change"):
            self.fields[name].widget.attrs["class"] = "form-select app-filter"

    def params(self) -> SearchParams:
        if not self.is_valid():
            return SearchParams()
        d = self.cleaned_data
        return SearchParams(
            q=d["q"],
            area=d["area"],
            category=d["category"],
            status=d["status"],
            needs=tuple(n for n in d["needs"] if n in NEEDS_FLAGS),
            issues=d["issues"],
            change=d["change"],
        )

    @property
    def filtered(self) -> bool:
        return self.is_valid() and any(
            self.cleaned_data[k] for k in ("area", "category", "status", "needs", "issues", "change")
        )


# --- categories --------------------------------------------------------------------------------


def entitlement_choices() -> list:
    """What a person may be registered under: one option per monthly category, and per condition
    (coefficient categories with conditions, e.g. D20.5.6 severe/adult) or per fixed-amount key
    (NCC categories), grouped by programme. Values are "code|condition|fixed_key"."""
    groups: dict[str, list] = {}
    categories = (
        Category.objects.filter(kind=Kind.MONTHLY)
        .select_related("programme")
        .prefetch_related("coefficient_rules", "fixed_amounts")
        .order_by("programme__code", "code")
    )
    for c in categories:
        options = groups.setdefault(c.programme.name, [])
        label = c.name
        if c.basis == Basis.FIXED:
            keys = sorted({f.key for f in c.fixed_amounts.all()})
            if not keys:
                options.append((f"{c.code}||", label))
            for key in keys:
                options.append((f"{c.code}||{key}", f"{label} ({policy_labels.fixed_key_label(key)})"))
            continue
        conditions = sorted({r.condition for r in c.coefficient_rules.all()})
        for condition in conditions or [""]:
            if condition:
                options.append((f"{c.code}|{condition}|", f"{label} ({condition_label(condition)})"))
            else:
                options.append((f"{c.code}||", label))
    return [("", _("— choose —")), *groups.items()]


def entitlement_value(code: str, condition: str = "", fixed_key: str = "") -> str:
    return f"{code}|{condition}|{fixed_key}"


class CategoryRowForm(forms.Form):
    entitlement = forms.ChoiceField(label=_("Category"), required=False)
    units = forms.IntegerField(
        label=_("Units"),
        min_value=1,
        max_value=50,
        initial=1,
        required=False,
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entitlement"].choices = choices

    def category_input(self) -> CategoryInput | None:
        value = self.cleaned_data.get("entitlement")
        if not value:
            return None
        code, condition, fixed_key = (value.split("|") + ["", ""])[:3]
        return CategoryInput(
            code=code, condition=condition, units=self.cleaned_data.get("units") or 1, fixed_key=fixed_key
        )


class BaseCategoryFormSet(forms.BaseFormSet):
    def __init__(self, *args, choices=(), **kwargs):
        self.choices = choices
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"choices": self.choices}

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            value = form.cleaned_data.get("entitlement")
            if not value:
                continue
            code = value.split("|")[0]
            if code in seen:
                raise ValidationError(_("Each category can be chosen once."))
            seen.add(code)

    def category_inputs(self) -> list[CategoryInput]:
        return [c for c in (f.category_input() for f in self.forms) if c is not None]


def category_formset(data=None, *, prefix="cat", initial=None, choices=None, rows=2):
    """Category rows; at least `rows` are shown so a second category needs no JavaScript."""
    initial = list(initial or [])
    formset_class = forms.formset_factory(
        CategoryRowForm, formset=BaseCategoryFormSet, extra=max(0, rows - len(initial)), max_num=5
    )
    return formset_class(data, prefix=prefix, initial=initial, choices=choices or entitlement_choices())


# --- beneficiary -------------------------------------------------------------------------------


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class VillageChoiceField(forms.ModelChoiceField):
    """Villages grouped by their commune (several communes: an optgroup each)."""

    def label_from_instance(self, obj):
        return obj.full_name


class BeneficiaryForm(forms.Form):
    """Identity, contact, address and needs; on creation also the categories (a formset) and the
    start decision. Status and categories change later only through decisions."""

    commune = AreaChoiceField(label=_("Commune"), queryset=Area.objects.none(), empty_label=_("— choose —"))
    village = VillageChoiceField(
        label=_("Village"), queryset=Area.objects.none(), required=False, empty_label=_("— not known —")
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    birth_date = date_field(_("Date of birth"), required=True)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", _("— choose —")), *Gender.choices])
    cccd = cccd_field(_("12 digits. Digits 4–6 must agree with the gender and the year of birth."))
    phone = phone_field(_("10-digit mobile number, e.g. 0912 345 678."))
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=50, required=False, initial="Kinh")
    address = forms.CharField(label=_("Address (house, street)"), max_length=255, required=False)
    cannot_travel = forms.BooleanField(label=NEEDS_LABELS["cannot_travel"], required=False)
    no_phone = forms.BooleanField(label=NEEDS_LABELS["no_phone"], required=False)
    cannot_read_vietnamese = forms.BooleanField(label=NEEDS_LABELS["cannot_read_vietnamese"], required=False)
    frail = forms.BooleanField(label=NEEDS_LABELS["frail"], required=False)
    start_month = MonthField(label=_("Start month"), required=False, help_text=_("Default: the month of the decision."))
    backdating_reason = forms.CharField(
        label=_("Reason for an earlier start"),
        max_length=255,
        required=False,
        help_text=_("Only when the start month is before the month of the decision: those months are paid as arrears."),
    )
    decision_number = forms.CharField(label=_("Decision number"), max_length=60, required=False)
    decision_date = date_field(_("Decision date"))
    accept_duplicate = forms.BooleanField(
        label=_("This is a different person: save anyway"),
        required=False,
        help_text=_("Tick only after checking the record named above is not the same person."),
    )

    CREATE_ONLY = ("start_month", "backdating_reason", "decision_number", "decision_date")
    NEEDS = NEEDS_FLAGS

    def __init__(self, *args, communes, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating
        self.fields["commune"].queryset = communes
        self.fields["village"].queryset = (
            Area.objects.filter(parent__in=communes, level=Level.VILLAGE)
            .select_related("parent")
            .order_by("parent__name_key", "name_key")
        )
        if not creating:
            for name in self.CREATE_ONLY:
                del self.fields[name]
            # the commune changes only by a move decision
            self.fields["commune"].disabled = True
            self.fields["commune"].help_text = _("The commune changes only through a move decision.")

    def clean(self):
        data = super().clean()
        commune, village = data.get("commune"), data.get("village")
        if commune and village and village.parent_id != commune.pk:
            self.add_error("village", _("The village does not belong to the commune."))
        return data

    def village_groups(self):
        """(commune name, [(id, name, selected)]) for the grouped village select."""
        selected = str(self["village"].value() or "")
        groups: dict[str, list] = {}
        for v in self.fields["village"].queryset:
            groups.setdefault(v.parent.full_name, []).append((v.pk, v.full_name, str(v.pk) == selected))
        return list(groups.items())

    def beneficiary_input(self, categories: list[CategoryInput] | None = None) -> BeneficiaryInput:
        d = self.cleaned_data
        return BeneficiaryInput(
            full_name=d["full_name"],
            birth_date=d["birth_date"],
            gender=d["gender"],
            commune_id=d["commune"].pk,
            village_id=d["village"].pk if d.get("village") else None,
            cccd=d["cccd"],
            phone=d["phone"],
            ethnicity=d["ethnicity"],
            address=d["address"],
            cannot_travel=d["cannot_travel"],
            no_phone=d["no_phone"],
            cannot_read_vietnamese=d["cannot_read_vietnamese"],
            frail=d["frail"],
            categories=categories or [],
            decision_number=d.get("decision_number", ""),
            decision_date=d.get("decision_date"),
            start_month=d.get("start_month"),
            backdating_reason=d.get("backdating_reason", ""),
        )


def beneficiary_initial(b) -> dict:
    return {
        "commune": b.commune_id,
        "village": b.village_id,
        "full_name": b.full_name,
        "birth_date": b.birth_date,
        "gender": b.gender,
        "cccd": b.cccd or b.legacy_id_number,  # an old 9-digit CMND until a CCCD replaces it
        "phone": b.phone_display,
        "ethnicity": b.ethnicity,
        "address": b.address,
        **{flag: getattr(b, flag) for flag in NEEDS_FLAGS},
    }


# --- decisions ---------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of decision"), choices=[("", _("— choose —")), *DecisionKind.choices])
    # required by the service, which reports it together with the other decision errors
    number = forms.CharField(label=_("Decision number"), max_length=60, required=False)
    signed_on = date_field(_("Signed on"), required=True)
    effective_month = MonthField(
        label=_("Effective month"),
        required=False,
        help_text=_(
            "Start, suspension, resumption: default the month of signing. A stop, an adjustment and a move "
            "take effect from the month after the event."
        ),
    )
    backdating_reason = forms.CharField(
        label=_("Reason for an earlier start"),
        max_length=255,
        required=False,
        help_text=_("Only when a start takes effect before the month of signing: those months are paid as arrears."),
    )
    reason = forms.ChoiceField(
        label=_("Reason for stopping"), required=False, choices=[("", _("— choose —")), *StopReason.choices]
    )
    death_date = date_field(_("Date of death"))
    # a death: the person organising the funeral receives the one-off funeral support
    organiser_name = forms.CharField(label=_("Person organising the funeral"), max_length=150, required=False)
    organiser_cccd = forms.CharField(label=_("Their citizen ID (CCCD)"), max_length=12, required=False)
    organiser_phone = forms.CharField(label=_("Their phone"), max_length=20, required=False)
    organiser_relationship = forms.CharField(label=_("Relationship to the deceased"), max_length=60, required=False)
    event_date = date_field(
        _("Date of the event"),
        help_text=_("The date the person moved, stopped being eligible or their condition changed."),
    )
    to_commune = AreaChoiceField(
        label=_("Moves to commune"), queryset=Area.objects.none(), required=False, empty_label=_("— choose —")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, move_targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_commune"].queryset = move_targets


class MoveAcceptForm(forms.Form):
    number = forms.CharField(label=_("Decision number"), max_length=60, required=False)
    signed_on = date_field(_("Signed on"), required=True)
    village = VillageChoiceField(
        label=_("Village"), queryset=Area.objects.none(), required=False, empty_label=_("— not known —")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages


# --- representatives ---------------------------------------------------------------------------


class RepresentativeForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    birth_date = date_field(_("Date of birth"))
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=[("", _("— not given —")), *Gender.choices])
    cccd = cccd_field(_("A person already registered with this CCCD is reused."))
    phone = phone_field()
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("— choose —")), *RepresentationKind.choices])
    relationship = forms.CharField(
        label=_("Relationship"), max_length=60, required=False, help_text=_("e.g. son, granddaughter")
    )
    document_number = forms.CharField(label=_("Authorisation document no."), max_length=60, required=False)
    valid_from = date_field(_("Valid from"))
    valid_to = date_field(_("Valid to"))
    is_payee = forms.BooleanField(label=_("Receives the money (current payee)"), required=False)

    def clean(self):
        # shown with the other field errors; the service checks it again (rules.clean_representation)
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("The end of validity is before its start."))
        return data

    def representation_input(self) -> RepresentationInput:
        d = self.cleaned_data
        return RepresentationInput(
            person=PersonInput(
                full_name=d["full_name"],
                birth_date=d["birth_date"],
                gender=d["gender"],
                cccd=d["cccd"],
                phone=d["phone"],
            ),
            kind=d["kind"],
            relationship=d["relationship"],
            document_number=d["document_number"],
            valid_from=d["valid_from"],
            valid_to=d["valid_to"],
            is_payee=d["is_payee"],
        )
