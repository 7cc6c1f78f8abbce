"""The forms of the public status lookup (/tra-cuu/): CCCD + last four phone digits, CCCD to get
a code by SMS, CCCD + that code. Digits only; spaces people type are dropped."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


def _digits(n: int, label, help_text, autocomplete: str = "off") -> forms.CharField:
    field = forms.CharField(
        label=label,
        help_text=help_text,
        max_length=n + 8,
        validators=[
            RegexValidator(rf"^[0-9]{{{n}}}$", _("Enter exactly %(n)s digits.") % {"n": n}),
        ],
        error_messages={"required": _("Enter exactly %(n)s digits.") % {"n": n}},
    )
    field.widget.attrs.update(
        {"inputmode": "numeric", "autocomplete": autocomplete, "pattern": "[0-9 ]*", "maxlength": str(n + 8)}
    )
    return field


class _DigitsForm(forms.Form):
    def full_clean(self):
        # people type "0123 4567 8901": keep the digits' layout out of the check
        if self.is_bound:
            # a plain dict of the last values (a QueryDict's copy() is a deep copy: slower)
            data = self.data.dict() if hasattr(self.data, "dict") else dict(self.data)
            for name in self.fields:
                key = self.add_prefix(name)
                if key in data:
                    data[key] = "".join(str(data[key]).split())
            self.data = data
        super().full_clean()


def _cccd():
    return _digits(12, _("Citizen ID number (CCCD)"), _("The 12 digits on the citizen ID card."))


class PhoneLookupForm(_DigitsForm):
    cccd = _cccd()
    last4 = _digits(
        4,
        _("Last 4 digits of the registered phone"),
        _("The phone of the beneficiary, or of the guardian or authorised person listed at the commune."),
    )


class CodeRequestForm(_DigitsForm):
    cccd = _cccd()


class CodeLookupForm(_DigitsForm):
    cccd = _cccd()
    code = _digits(6, _("Code received by SMS"), _("The 6 digits of the SMS."), autocomplete="one-time-code")
