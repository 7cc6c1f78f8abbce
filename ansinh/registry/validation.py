"""Validation of identity data, shared by every entry path (form, import, API).

Errors block the write; warnings are shown and recorded as data-quality issues.
Rules come from the policy data file (CCCD province codes, century/gender digits), not code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import phonenumbers
import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from ansinh.core.text import normalize_name


@dataclass
class Findings:
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)

    def error(self, name: str, message: str, code: str = "") -> None:
        self.errors.setdefault(name, []).append(message)
        if code:
            self.codes.add(code)

    def warn(self, name: str, message: str, code: str = "") -> None:
        self.warnings.setdefault(name, []).append(message)
        if code:
            self.codes.add(code)

    def merge(self, other: Findings) -> None:
        for k, v in other.errors.items():
            self.errors.setdefault(k, []).extend(v)
        for k, v in other.warnings.items():
            self.warnings.setdefault(k, []).extend(v)
        self.codes |= other.codes

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CccdRules:
    province_codes: frozenset[str]
    century_gender: dict[str, tuple[int, str]]


@lru_cache(maxsize=1)
def cccd_rules() -> CccdRules:
    with open(settings.ANSINH_POLICY_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)["cccd"]
    return CccdRules(
        province_codes=frozenset(str(c) for c in data["province_codes"]),
        century_gender={str(d): (int(v["century_start"]), str(v["gender"])) for d, v in data["century_gender"].items()},
    )


@lru_cache(maxsize=1)
def phone_conversion() -> dict[str, str]:
    with open(settings.ANSINH_POLICY_FILE, encoding="utf-8") as fh:
        return {str(k): str(v) for k, v in yaml.safe_load(fh)["phone"]["conversion_2018"]["map"].items()}


def check_cccd(
    value: str,
    *,
    birth_date: date | None,
    gender: str | None,
    name: str = "cccd",
    findings: Findings | None = None,
) -> tuple[str, Findings]:
    """Check a 12-digit CCCD against its structure and the person's birth date and gender.
    There is no check digit (policy-facts §3): the last six digits are never validated."""
    f = findings or Findings()
    value = (value or "").strip().replace(" ", "").replace(".", "")
    if not value:
        return "", f
    if not value.isdigit() or len(value) != 12:
        f.error(name, _("The CCCD number must have exactly 12 digits."))
        return value, f
    rules = cccd_rules()
    province = value[:3]
    if province not in rules.province_codes:
        if int(province) >= 100:
            f.warn(
                name,
                _("The first three digits (%(code)s) are not a province code; check the number.") % {"code": province},
            )
        else:
            f.error(
                name,
                _("The first three digits (%(code)s) are not a valid province code.") % {"code": province},
            )
    century_start, cccd_gender = rules.century_gender[value[3]]
    year_digits = int(value[4:6])
    if birth_date is not None:
        if not (century_start <= birth_date.year < century_start + 100):
            f.error(
                name,
                _("The 4th digit (%(digit)s) means born in %(start)d–%(end)d, but the date of birth is %(year)d.")
                % {
                    "digit": value[3],
                    "start": century_start,
                    "end": century_start + 99,
                    "year": birth_date.year,
                },
            )
        if birth_date.year % 100 != year_digits:
            f.error(
                name,
                _("Digits 5–6 (%(digits)s) must be the last two digits of the birth year (%(year)d).")
                % {"digits": value[4:6], "year": birth_date.year},
            )
    if gender and cccd_gender != gender:
        f.error(
            name,
            _("The 4th digit (%(digit)s) means %(cccd_gender)s, but the gender entered is %(gender)s.")
            % {"digit": value[3], "cccd_gender": _gender_label(cccd_gender), "gender": _gender_label(gender)},
        )
    return value, f


def _gender_label(gender: str) -> str:
    return _("male") if gender == "male" else _("female")


def check_phone(value: str, *, name: str = "phone", findings: Findings | None = None) -> tuple[str, Findings]:
    """A Vietnamese mobile number, returned in E.164 (+84…). Old 11-digit numbers (0162…)
    are converted to their 10-digit form with a warning."""
    f = findings or Findings()
    raw = (value or "").strip()
    if not raw:
        return "", f
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "+" + digits
    national = "0" + digits[3:] if digits.startswith("+84") else digits
    if len(national) == 11 and national[:4] in phone_conversion():
        converted = phone_conversion()[national[:4]] + national[4:]
        f.warn(name, _("Old 11-digit number %(old)s converted to %(new)s.") % {"old": national, "new": converted})
        national = converted
    e164 = _vn_mobile_e164(national)
    if e164 is None:
        f.error(name, _("“%(value)s” is not a phone number.") % {"value": raw})
        return raw, f
    if not e164:
        f.error(
            name,
            _("“%(value)s” is not a valid Vietnamese mobile number (10 digits, e.g. 0912 345 678).") % {"value": raw},
        )
        return raw, f
    return e164, f


_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


@lru_cache(maxsize=8192)
def _vn_mobile_e164(national: str) -> str | None:
    """The E.164 form of a number typed in Vietnam if it is a valid Vietnamese mobile number,
    "" if it is a number but not one, None if phonenumbers cannot parse it. Cached: an import
    meets the same numbers again (a household's, a representative of several people, the
    re-check before writing when it runs in the same process)."""
    try:
        parsed = phonenumbers.parse(national, "VN")
    except phonenumbers.NumberParseException:
        return None
    # +84 belongs to VN alone, so a mobile number type implies is_valid_number (both rest on the
    # same VN pattern match); calling it too only repeated that match
    if parsed.country_code != 84 or phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_name(value: str, *, name: str = "full_name", findings: Findings | None = None) -> tuple[str, Findings]:
    f = findings or Findings()
    normalized = normalize_name(value)
    if not normalized:
        f.error(name, _("The full name is required."))
    elif any(map(str.isdigit, normalized)):
        f.error(name, _("A name cannot contain digits."))
    elif len(normalized.split(" ")) < 2:
        f.warn(name, _("The full name has a single word; check it."))
    return normalized, f


def check_birth_date(
    value: date | None,
    *,
    today: date,
    name: str = "birth_date",
    findings: Findings | None = None,
    required: bool = True,
) -> Findings:
    f = findings or Findings()
    if value is None:
        if required:
            f.error(name, _("The date of birth is required."))
    elif value > today:
        f.error(name, _("The date of birth cannot be in the future."))
    elif value.year < 1900:
        f.error(name, _("The date of birth is before 1900."))
    return f
