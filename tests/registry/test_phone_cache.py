"""check_phone gives what the plain phonenumbers checks give (parse, is_valid_number,
number_type, country code 84), now that it is cached and skips is_valid_number."""

import random

import phonenumbers
import pytest

from ansinh.registry.validation import check_phone, phone_conversion


def _reference(national: str) -> str | None:
    """The plain checks: E.164, "" for a number that is neither a VN mobile number nor a VN
    landline (landlines are accepted with a warning), None when phonenumbers cannot parse it."""
    try:
        parsed = phonenumbers.parse(national, "VN")
    except phonenumbers.NumberParseException:
        return None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE,
        )
        or parsed.country_code != 84
    ):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _numbers() -> list[str]:
    rng = random.Random(7)
    out = ["", "abc", "0", "+", "+84", "1900 1234", "028 3823 4567", "+1 202 555 0123", "84912345678"]
    for first in range(100):  # every two-digit prefix, mobile and landline ranges alike
        for length in (7, 8, 9, 10):
            out.append(f"0{first:02d}" + "".join(rng.choice("0123456789") for _ in range(length - 2)))
    out += [f"+84 {n[1:]}" for n in out[9:60]]
    for prefix in ("032", "035", "039", "052", "056", "070", "077", "081", "086", "089", "090", "091", "096", "099"):
        out += [f"{prefix} {rng.randrange(10**7):07d}" for _ in range(4)]
    return out


@pytest.mark.parametrize("value", _numbers())
def test_check_phone_matches_the_plain_phonenumbers_checks(value):
    stored, findings = check_phone(value)
    again, _f = check_phone(value)  # the cached answer is the same
    assert again == stored
    raw = value.strip()
    if not raw:
        assert stored == "" and not findings.errors
        return
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "+" + digits
    national = "0" + digits[3:] if digits.startswith("+84") else digits
    if len(national) == 11 and national[:4] in phone_conversion():
        return  # an old 11-digit number, converted first (tests/registry/test_validation.py)
    expected = _reference(national)
    if expected:
        assert stored == expected and not findings.errors
    else:
        assert stored == raw and findings.errors.get("phone")


def test_the_sample_holds_valid_and_invalid_numbers():
    answers = [_reference(n) for n in _numbers() if n.strip()]
    assert sum(1 for a in answers if a) > 50
    assert sum(1 for a in answers if a == "") > 50
    assert None in answers
