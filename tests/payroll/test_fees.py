"""The provider's fee under a contract: integer đồng; flat per beneficiary paid, or basis points
of the amount paid rounded once, half up."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansinh.payroll.fees import fee_for
from ansinh.payroll.models import FeeKind, ProviderContract

people = st.integers(min_value=0, max_value=2_000_000)
money = st.integers(min_value=0, max_value=10**13)
points = st.integers(min_value=0, max_value=10_000)


def _flat(amount: int) -> ProviderContract:
    return ProviderContract(fee_kind=FeeKind.FLAT, fee_flat=amount)


def _percent(bp: int) -> ProviderContract:
    return ProviderContract(fee_kind=FeeKind.PERCENT, fee_basis_points=bp)


def test_an_giang_2023_five_thousand_a_head():
    assert fee_for(_flat(5_000), 396, 396 * 360_000) == 1_980_000


@given(st.integers(min_value=0, max_value=100_000), people, money)
def test_flat_is_per_beneficiary_paid_whatever_the_amount(flat, paid, amount):
    fee = fee_for(_flat(flat), paid, amount)
    assert fee == flat * paid and isinstance(fee, int)


@given(points, people, money)
def test_percent_is_the_exact_share_rounded_half_up(bp, paid, amount):
    fee = fee_for(_percent(bp), paid, amount)
    exact = Fraction(amount * bp, 10_000)
    assert isinstance(fee, int)
    assert abs(fee - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert fee == int(exact) + 1  # half up
    assert fee_for(_percent(bp), paid, amount + 10_000) >= fee  # never less for paying more


def test_nothing_paid_nothing_due():
    assert fee_for(_flat(5_000), 0, 0) == 0
    assert fee_for(_percent(150), 0, 0) == 0
    assert fee_for(_percent(150), 1, 1_000_000) == 15_000
    assert fee_for(_percent(150), 1, 333) == 5  # 4.995 → 5


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_counts_and_amounts_are_non_negative_integers(bad):
    with pytest.raises((TypeError, ValueError)):
        fee_for(_flat(5_000), bad, 0)
    with pytest.raises((TypeError, ValueError)):
        fee_for(_percent(100), 0, bad)
