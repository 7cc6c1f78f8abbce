from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansinh.registry.validation import can_receive_sms, check_cccd, check_identity, check_name, check_phone
from tests.factories import cccd_for


def test_valid_cccd_passes():
    value, f = check_cccd("089195012345", birth_date=date(1995, 3, 1), gender="female")
    assert f.ok and not f.warnings
    assert value == "089195012345"


@pytest.mark.parametrize(
    ("value", "birth", "gender", "fragment"),
    [
        ("08919501234", date(1995, 1, 1), "female", "12"),  # 11 digits
        ("08919501234X", date(1995, 1, 1), "female", "12"),
        ("089196012345", date(1995, 1, 1), "female", "1995"),  # year digits disagree
        ("089095012345", date(1995, 1, 1), "female", "gender"),  # 0 = male
        ("089295012345", date(1995, 1, 1), "male", "1995"),  # 2 = born 2000s
        ("003195012345", date(1995, 1, 1), "female", "003"),  # no province 003
    ],
)
def test_invalid_cccd_is_explained(value, birth, gender, fragment):
    _v, f = check_cccd(value, birth_date=birth, gender=gender)
    assert not f.ok
    assert any(fragment in m or fragment == "gender" for m in f.errors["cccd"])


def test_country_code_is_a_warning_not_an_error():
    _v, f = check_cccd("300195012345", birth_date=date(1995, 1, 1), gender="female")
    assert f.ok and f.warnings["cccd"]


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["male", "female"]),
    st.sampled_from(["001", "089", "079", "096"]),
    st.from_regex(r"\A[0-9]{6}\Z", fullmatch=True),
)
def test_cccd_consistent_with_birth_and_gender_always_passes(birth, gender, province, tail):
    value = cccd_for(birth, gender, tail, province)
    _v, f = check_cccd(value, birth_date=birth, gender=gender)
    assert f.ok, f.errors


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["male", "female"]),
    st.integers(min_value=1, max_value=99),
)
def test_cccd_with_wrong_birth_year_always_fails(birth, gender, shift):
    other = (
        birth.replace(year=1900 + (birth.year - 1900 + shift) % 200) if birth.month != 2 or birth.day != 29 else birth
    )
    if other.year == birth.year:
        return
    value = cccd_for(other, gender)
    _v, f = check_cccd(value, birth_date=birth, gender=gender)
    assert not f.ok


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0386123456", "+84386123456"),
    ],
)
def test_phone_normalised_to_e164(raw, e164):
    value, f = check_phone(raw)
    assert f.ok and value == e164


def test_old_eleven_digit_number_is_converted_with_warning():
    value, f = check_phone("01686123456")
    assert f.ok and value == "+84386123456"
    assert f.warnings["phone"]


@pytest.mark.parametrize("raw", ["0212345678", "12345", "0912345", "abc", "+14155550100"])
def test_invalid_phone_rejected(raw):
    _v, f = check_phone(raw)
    assert not f.ok


def test_name_normalised():
    value, f = check_name("  trần   văn  AN ")
    assert value == "Trần Văn An" and f.ok
    _v, f = check_name("Nguyen 2")
    assert not f.ok


# --- identity numbers and phones as offices type them (one rule for the form, the API, the import)


@pytest.mark.parametrize(
    ("typed", "birth", "expected"),
    [("89150012345", date(1950, 1, 1), "089150012345"), ("1195012345", date(1995, 1, 1), "001195012345")],
)
def test_cccd_that_lost_leading_zeros_is_restored_when_it_fits(typed, birth, expected):
    cccd, legacy, f = check_identity(typed, birth_date=birth, gender="female")
    assert (cccd, legacy) == (expected, "") and f.ok, f.errors
    assert expected in f.warnings["cccd"][0]


@pytest.mark.parametrize(
    ("typed", "birth", "gender"),
    [
        ("89150012345", date(1950, 1, 1), "male"),  # 0891… is a woman's number
        ("89150012345", date(1951, 1, 1), "female"),  # …born in 1950
        ("89150012345", None, "female"),  # nothing to check it against
        ("8915001234", date(1950, 1, 1), "female"),  # 10 digits: 0089… is no province
    ],
)
def test_short_cccd_that_does_not_fit_is_an_error_that_says_what_to_do(typed, birth, gender):
    _c, _l, f = check_identity(typed, birth_date=birth, gender=gender)
    assert not f.ok and typed in f.errors["cccd"][0]


def test_scientific_notation_is_read_only_when_no_digit_was_lost():
    cccd, _l, f = check_identity("8.9150012345E+10", birth_date=date(1950, 1, 1), gender="female")
    assert cccd == "089150012345" and f.ok
    _c, _l, f = check_identity("8,91500E+10", birth_date=date(1950, 1, 1), gender="female")
    assert not f.ok


def test_old_nine_digit_cmnd_is_legacy_for_a_beneficiary_and_an_error_elsewhere():
    cccd, legacy, f = check_identity("351 234 567", birth_date=date(1950, 1, 1), gender="female")
    assert (cccd, legacy) == ("", "351234567") and f.ok
    assert "legacy_cmnd" in f.codes and "cần cập nhật CCCD" in f.warnings["cccd"][0]
    _c, legacy, f = check_identity("351234567", birth_date=None, gender=None, legacy=False)
    assert legacy == "" and not f.ok and "31/12/2024" in f.errors["cccd"][0]


CONVERSION_2018 = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039", "0120": "070", "0121": "079", "0122": "077", "0126": "076",
    "0128": "078", "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058", "0199": "059",
}  # fmt: skip


@pytest.mark.parametrize(("old", "new"), sorted(CONVERSION_2018.items()))
def test_every_2018_conversion_in_every_spelling(old, new):
    for typed in (
        f"{old}6123456",
        f"{old}.612.3456",
        f"+84 {old[1:]} 612 3456",
        f"84{old[1:]}6123456",
        old[1:] + "6123456",
    ):
        value, f = check_phone(typed)
        assert value == f"+84{new[1:]}6123456" and f.ok, typed
        assert f.warnings["phone"], typed


@pytest.mark.parametrize("raw", ["0912-345-678", "0912.345.678", "0084 912 345 678", "(+84) 912 345 678"])
def test_plain_formatting_is_no_repair(raw):
    value, f = check_phone(raw)
    assert value == "+84912345678" and f.ok and not f.warnings


def test_number_cell_that_lost_the_leading_zero():
    value, f = check_phone("912345678")
    assert value == "+84912345678" and f.ok and f.warnings["phone"]


def test_landline_is_a_contact_that_receives_no_sms():
    value, f = check_phone("0296 3 123 456")
    assert value == "+842963123456" and f.ok
    assert "landline" in f.codes and "không nhận được SMS" in f.warnings["phone"][0]
    assert not can_receive_sms(value)
    assert can_receive_sms("+84912345678")
    assert not can_receive_sms("")


def test_several_numbers_in_one_cell_keep_the_first():
    value, f = check_phone("0912345678 / 0987654321")
    assert value == "+84912345678" and f.ok
    assert "0987654321" in f.warnings["phone"][0]
