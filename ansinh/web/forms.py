"""Forms of the staff UI. They parse and check input; the services do the writes."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ansinh.areas.services import VILLAGE_KINDS


def add_service_errors(form: forms.Form, exc: ValidationError, field_by_code: dict | None = None) -> None:
    """Attach a service's ValidationError to the form: per field where the error names a field
    of the form (or its code is in `field_by_code`), the rest above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return
    for error in exc.error_list:
        form.add_error((field_by_code or {}).get(error.code), error)


class AreaSearchForm(forms.Form):
    q = forms.CharField(label=_("Find an area"), max_length=100, required=False)


class VillageForm(forms.Form):
    # Which field a `create_village` error belongs to, by its code.
    ERROR_FIELDS = {"unknown_kind": "kind", "required": "name", "max_length": "name", "duplicate": "name"}

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("— choose —")), *((k, k) for k in VILLAGE_KINDS)], required=False
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("Without the kind, e.g. “Châu Long 1”."),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What the token is for, e.g. “import from the district spreadsheet tool”."),
    )


class AuditFilterForm(forms.Form):
    """Action and area of the audit list, and the keyset cursor of its page. The actions offered
    are the catalogue's (`actions`); any other well-formed action name (a link to an action
    without a label yet) is accepted too."""

    ACTION_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    MAX_ID = 2**63 - 1

    action = forms.ChoiceField(label=_("Action"), required=False)
    area = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    older = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    newer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=MAX_ID)

    def __init__(self, *args, actions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("All actions")), *actions]
        asked = self.data.get("action", "") if self.is_bound else ""
        if asked and len(asked) <= 100 and self.ACTION_NAME.match(asked) and asked not in dict(actions):
            choices.append((asked, asked))
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class OrgFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        from ansinh.accounts.models import OrgKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *OrgKind.choices]
