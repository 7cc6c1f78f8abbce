from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansinh.registry.validation import check_cccd, check_name, check_phone
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
