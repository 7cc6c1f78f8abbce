"""The code of an authenticator app (TOTP), asked when enrolling it and when approving."""

from django import forms
from django.utils.translation import gettext_lazy as _


class OtpCodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the authenticator app"),
        max_length=10,
        required=False,
        help_text=_("The 6 digits the app shows now."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        attrs = self.fields["token"].widget.attrs
        attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"})
