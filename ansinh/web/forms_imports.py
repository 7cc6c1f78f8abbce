"""The upload form of the beneficiary import. It parses and checks input; the import services
(ansinh.registry.import_jobs) check the file itself and do the writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ansinh.registry.import_jobs import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES


class CommuneField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        parent = obj.parent.full_name if obj.parent_id else ""
        return f"{obj.full_name} — {parent}" if parent else obj.full_name


class ImportUploadForm(forms.Form):
    commune = CommuneField(label=_("Commune"), queryset=None, empty_label=_("— choose —"))
    file = forms.FileField(
        label=_("File"),
        widget=forms.FileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def __init__(self, *args, communes, **kwargs):
        """`communes`: the communes where the user may import (already scoped)."""
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Excel (.xlsx) or CSV, at most %(mb)d MB, with the header row of the template."
        ) % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        field = self.fields["commune"]
        field.queryset = communes.select_related("parent").order_by("name_key", "pk")
        only = list(field.queryset[:2])
        if len(only) == 1:
            field.initial = only[0].pk
            field.empty_label = None
