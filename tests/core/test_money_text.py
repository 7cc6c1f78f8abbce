from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansinh.core.money import format_vnd, multiply, to_dong
from ansinh.core.text import normalize_name, search_key


def test_multiply_rounds_half_up_once():
    assert multiply(500_000, Decimal("2.5")) == 1_250_000
    assert multiply(333, Decimal("1.5")) == 500  # 499.5 -> 500


def test_money_refuses_float():
    with pytest.raises(TypeError):
        to_dong(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        multiply(1.0, Decimal(1))  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12), st.decimals(min_value=0, max_value=10, places=2))
def test_multiply_is_within_half_dong(amount, coefficient):
    exact = Decimal(amount) * coefficient
    assert abs(Decimal(multiply(amount, coefficient)) - exact) <= Decimal("0.5")


def test_format_vnd():
    assert format_vnd(1_250_000) == "1.250.000 ₫"


def test_names_normalised_and_search_key_accent_free():
    assert normalize_name("  nguyễn   THỊ ánh ") == "Nguyễn Thị Ánh"
    assert search_key("Nguyễn Thị Ánh") == "nguyen thi anh"
    assert search_key("Đặng Văn Đức") == "dang van duc"
    # decomposed input (NFD) gives the same key
    import unicodedata

    assert search_key(unicodedata.normalize("NFD", "Trần Thị Ánh")) == "tran thi anh"
