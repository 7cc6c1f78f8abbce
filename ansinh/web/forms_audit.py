"""The audit list's filters: person, user, area, action, dates, and the keyset cursor."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .forms_registry import date_field

MAX_ID = 2**63 - 1


class AuditFilterForm(forms.Form):
    """The actions offered are the catalogue's (`actions`); any other well-formed action name (a
    link to an action without a label yet) is accepted too. The users and areas offered are
    those of the reader's areas (`users`, `areas`: (id, name) pairs)."""

    ACTION_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")

    person = forms.CharField(
        label=pgettext_lazy("audit", "Person"),
        max_length=100,
        required=False,
        help_text=_("Name, CCCD or phone number of a beneficiary"),
    )
    beneficiary = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    actor = forms.TypedChoiceField(
        label=pgettext_lazy("audit", "Done by"), required=False, coerce=int, empty_value=None
    )
    area = forms.TypedChoiceField(label=pgettext_lazy("audit", "Area"), required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = date_field(pgettext_lazy("audit", "From"))
    until = date_field(pgettext_lazy("audit", "To"))
    older = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    newer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=MAX_ID)

    def __init__(self, *args, actions, users, areas, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("All actions")), *actions]
        asked = self.data.get("action", "") if self.is_bound else ""
        if asked and len(asked) <= 100 and self.ACTION_NAME.match(asked) and asked not in dict(actions):
            choices.append((asked, asked))
        self._set_choices("action", choices)
        self._set_choices("actor", [("", pgettext_lazy("audit", "Everyone")), *users])
        self._set_choices("area", [("", pgettext_lazy("audit", "All my areas")), *areas])

    def _set_choices(self, name: str, choices) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise ValidationError({"until": _("The end date must not be before the start date.")})
        return data
