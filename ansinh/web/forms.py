"""Forms of the staff UI. They parse and check input; the services do the writes."""

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


class OrgFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        from ansinh.accounts.models import OrgKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *OrgKind.choices]
