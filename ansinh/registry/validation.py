"""Validation of identity data, shared by every entry path (form, import, API).

Errors block the write; warnings are shown and recorded as data-quality issues.
Rules come from the policy data file (CCCD province codes, century/gender digits), not code."""

from __future__ import annotations

import re
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


LEGACY_CMND_LENGTH = 9
_SCIENTIFIC = re.compile(r"(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})")


def _from_scientific(value: str) -> str | None:
    """The digits of a number Excel wrote in scientific notation (8.9150012345E+10), or None if
    the notation dropped some of them (8.91500E+10: the last digits are gone)."""
    match = _SCIENTIFIC.fullmatch(value)
    if match is None:
        return None
    lead, rest, exponent = match.group(1), match.group(2) or "", int(match.group(3))
    if len(rest) != exponent:
        return None
    return lead + rest


def identity_digits(value: str) -> str:
    """An identity number as typed or as a spreadsheet left it: spaces, dots and dashes dropped,
    scientific notation written out when it kept every digit."""
    value = (value or "").strip()
    if _SCIENTIFIC.fullmatch(value):
        return _from_scientific(value) or value
    return value.replace(" ", "").replace(".", "").replace("-", "")


def check_identity(
    value: str,
    *,
    birth_date: date | None,
    gender: str | None,
    name: str = "cccd",
    findings: Findings | None = None,
    legacy: bool = True,
) -> tuple[str, str, Findings]:
    """(CCCD, legacy 9-digit CMND, findings) of an identity number as entered on any path.

    - 12 digits: a personal identification number, checked by `check_cccd`. A 12-digit CMND and
      a CCCD without a chip carry the same number (Circular 07/2016): nothing to update.
    - 10 or 11 digits: a CCCD whose leading zeros a number cell dropped (089… typed as a number
      becomes 89…), restored with a note when the restored number agrees with the province
      codes, the date of birth and the gender; otherwise an error.
    - 9 digits: a legacy CMND (valid only to 31/12/2024, policy-facts §3), kept apart from the
      CCCD with a warning when `legacy`, else an error.
    """
    f = findings or Findings()
    raw = (value or "").strip()
    if not raw:
        return "", "", f
    if _SCIENTIFIC.fullmatch(raw) and _from_scientific(raw) is None:
        f.error(
            name,
            _(
                "“%(value)s” is a number Excel shortened to scientific notation: its last digits are lost. "
                "Format the column as Text, type the number again from the card and re-upload the file."
            )
            % {"value": raw},
        )
        return raw, "", f
    digits = identity_digits(raw)
    if digits.isdigit() and len(digits) == LEGACY_CMND_LENGTH:
        if not legacy:
            f.error(
                name,
                _(
                    "%(value)s is an old 9-digit ID card (CMND), valid only until 31/12/2024. Enter the "
                    "person's 12-digit CCCD, or leave the field empty until they have one."
                )
                % {"value": digits},
            )
            return digits, "", f
        f.warn(
            name,
            _(
                "%(value)s is an old 9-digit ID card (CMND): kept as such; the CCCD needs updating. Ask the "
                "person for their 12-digit CCCD; payments to an account need it."
            )
            % {"value": digits},
            code="legacy_cmnd",
        )
        return "", digits, f
    if digits.isdigit() and len(digits) in (10, 11):
        padded = digits.zfill(12)
        trial = Findings()
        check_cccd(padded, birth_date=birth_date, gender=gender, name=name, findings=trial)
        if birth_date is not None and gender and trial.ok:
            f.merge(trial)
            f.warn(
                name,
                _(
                    "%(value)s had lost its leading zero (a number cell): restored as %(cccd)s, which agrees "
                    "with the date of birth and the gender. Check it against the card."
                )
                % {"value": digits, "cccd": padded},
                code="cccd_zero_restored",
            )
            return padded, "", f
        f.error(
            name,
            _(
                "%(value)s has %(n)d digits; a CCCD has 12. Adding the leading zeros a number cell drops "
                "does not give a number that agrees with the date of birth and the gender: type the "
                "number from the card (format the column as Text)."
            )
            % {"value": digits, "n": len(digits)},
        )
        return digits, "", f
    cccd, f = check_cccd(digits, birth_date=birth_date, gender=gender, name=name, findings=f)
    return cccd, "", f


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
        f.error(
            name,
            _("The CCCD number must have exactly 12 digits (%(value)s has %(n)d characters): type it from the card.")
            % {"value": value, "n": len(value)},
        )
        return value, f
    rules = cccd_rules()
    province = value[:3]
    if province not in rules.province_codes:
        if int(province) >= 100:
            f.warn(
                name,
                _(
                    "The first three digits (%(code)s) are not a province code: check the number against the "
                    "card (a CCCD of a person registered at birth abroad may start so)."
                )
                % {"code": province},
            )
        else:
            f.error(
                name,
                _("The first three digits (%(code)s) are not a valid province code: check the number against the card.")
                % {"code": province},
            )
    century_start, cccd_gender = rules.century_gender[value[3]]
    year_digits = int(value[4:6])
    if birth_date is not None:
        if not (century_start <= birth_date.year < century_start + 100):
            f.error(
                name,
                _(
                    "The 4th digit (%(digit)s) means born in %(start)d–%(end)d, but the date of birth is "
                    "%(year)d: check the number and the date of birth against the card."
                )
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
                _(
                    "Digits 5–6 (%(digits)s) must be the last two digits of the birth year (%(year)d): check "
                    "the number and the date of birth against the card."
                )
                % {"digits": value[4:6], "year": birth_date.year},
            )
    if gender and cccd_gender != gender:
        f.error(
            name,
            _(
                "The 4th digit (%(digit)s) means %(cccd_gender)s, but the gender entered is %(gender)s: check "
                "the number and the gender against the card."
            )
            % {"digit": value[3], "cccd_gender": _gender_label(cccd_gender), "gender": _gender_label(gender)},
        )
    return value, f


def _gender_label(gender: str) -> str:
    return _("male") if gender == "male" else _("female")


_SEVERAL_NUMBERS = re.compile(r"[/;,\n]|\s[-–]\s|\s(?:hoặc|hoac|or)\s", re.IGNORECASE)


def check_phone(value: str, *, name: str = "phone", findings: Findings | None = None) -> tuple[str, Findings]:
    """A Vietnamese phone number as entered on any path, returned in E.164 (+84…).

    Repaired with a note: old 11-digit mobile numbers (0168… → 038…, the 2018 conversion in the
    policy file), a leading zero a number cell dropped, several numbers in one cell (the first is
    kept). Accepted with a data-quality warning: a landline, which is a contact but receives no
    SMS (`can_receive_sms`). Spaces, dots, dashes, +84, 84 and 0084 are plain formatting."""
    f = findings or Findings()
    raw = (value or "").strip()
    if not raw:
        return "", f
    parts = [part.strip() for part in _SEVERAL_NUMBERS.split(raw) if part and part.strip()]
    if len(parts) > 1:
        f.warn(
            name,
            _(
                "The cell holds several numbers (%(value)s): kept the first, %(first)s. Enter another "
                "person's number on their own record (e.g. the representative's)."
            )
            % {"value": raw, "first": parts[0]},
        )
        raw = parts[0]
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+84"):
        national = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = "0" + digits[2:]
    elif digits.isdigit() and not digits.startswith("0") and len(digits) in (9, 10):
        national = "0" + digits
        f.warn(
            name,
            _("%(value)s had lost its leading zero (a number cell): restored as %(new)s.")
            % {"value": digits, "new": national},
        )
    else:
        national = digits
    if len(national) == 11 and national[:4] in phone_conversion():
        converted = phone_conversion()[national[:4]] + national[4:]
        f.warn(name, _("Old 11-digit number %(old)s converted to %(new)s.") % {"old": national, "new": converted})
        national = converted
    e164, kind = _vn_e164(national)
    if kind is None:
        f.error(
            name,
            _("“%(value)s” is not a phone number: enter a 10-digit mobile number, e.g. 0912 345 678.") % {"value": raw},
        )
        return raw, f
    if kind == "":
        f.error(
            name,
            _(
                "“%(value)s” is not a valid Vietnamese phone number: check it with the person; a mobile "
                "number has 10 digits (e.g. 0912 345 678), a landline 11 (e.g. 0296 3 123 456)."
            )
            % {"value": raw},
        )
        return raw, f
    if kind == "fixed":
        f.warn(
            name,
            _(
                "%(value)s is a landline: kept as a contact, but it cannot receive SMS. Add a mobile number "
                "when the person has one."
            )
            % {"value": national},
            code="landline",
        )
    return e164, f


_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


@lru_cache(maxsize=8192)
def _vn_e164(national: str) -> tuple[str, str | None]:
    """(E.164, kind) of a number typed in Vietnam: kind "mobile" or "fixed" for a valid
    Vietnamese mobile number or landline, "" for a number that is neither, None if phonenumbers
    cannot parse it. Cached: an import meets the same numbers again (a household's, a
    representative of several people, the re-check before writing in the same process)."""
    try:
        parsed = phonenumbers.parse(national, "VN")
    except phonenumbers.NumberParseException:
        return "", None
    if parsed.country_code != 84:
        return "", ""
    # +84 belongs to VN alone, so a number type implies is_valid_number (both rest on the same VN
    # pattern match); calling it too only repeated that match
    number_type = phonenumbers.number_type(parsed)
    if number_type in _MOBILE_TYPES:
        kind = "mobile"
    elif number_type == phonenumbers.PhoneNumberType.FIXED_LINE:
        kind = "fixed"
    else:
        return "", ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), kind


def can_receive_sms(phone: str) -> bool:
    """Whether a stored (E.164) number may be sent an SMS: Vietnamese mobile numbers only, never
    a landline. Every SMS sender picks its recipients through this."""
    if not phone:
        return False
    _e164, kind = _vn_e164("0" + phone[3:] if phone.startswith("+84") else phone)
    return kind == "mobile"


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
