"""Property tests for the entitlement rules, on the project's loaded policy data."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansinh.policy.entitlement import (
    CategoryInfo,
    Claim,
    FixedRow,
    PolicyMonth,
    PolicyTable,
    RuleRow,
    monthly_entitlement,
)
from ansinh.policy.models import CoefficientRule, FixedAmount

PROPS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

months = st.dates(min_value=date(2013, 1, 1), max_value=date(2028, 12, 31))
birth_dates = st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2028, 12, 31))


@pytest.fixture
def claim_universe(policy):
    """Every claim the loaded policy can answer, plus some it cannot."""
    claims = [
        Claim(code, condition=cond) for code, cond in CoefficientRule.objects.values_list("category__code", "condition")
    ]
    claims += [Claim(code, fixed_key=key) for code, key in FixedAmount.objects.values_list("category__code", "key")]
    claims += [Claim("NO.SUCH"), Claim("D20.5.6", condition="bogus"), Claim("NCC.rel", fixed_key="bogus")]
    return sorted(set(claims), key=repr)


def claim_lists(universe):
    one = st.builds(lambda c, n: replace(c, units=n), st.sampled_from(universe), st.integers(min_value=0, max_value=6))
    return st.lists(one, max_size=6)


def _table(month):
    return PolicyMonth.load(month).table(None)


def _with(table: PolicyTable, *, national=None, provincial=None, rules=(), fixed=()) -> PolicyTable:
    return PolicyTable(
        day=table.day,
        categories=table.categories,
        national_levels=table.national_levels if national is None else national,
        provincial_levels=provincial or {},
        rules=[*table.rules, *rules],
        fixed=[*table.fixed, *fixed],
    )


@PROPS
@given(data=st.data(), month=months, birth_date=birth_dates)
def test_amount_is_a_whole_non_negative_int(claim_universe, data, month, birth_date):
    claims = data.draw(claim_lists(claim_universe))
    result = monthly_entitlement(claims=claims, month=month, birth_date=birth_date, province=None)
    if result is not None:
        assert type(result.amount) is int
        assert result.amount >= 0
        assert result.standard_level is None or type(result.standard_level) is int
        assert result.coefficient is None or isinstance(result.coefficient, Decimal)
        assert result.category_code in {c.category_code for c in claims}
    else:
        assert all(_table(month).entitlement([c], birth_date) is None for c in claims)


@PROPS
@given(data=st.data(), month=months, birth_date=birth_dates)
def test_result_is_the_max_over_single_claims(claim_universe, data, month, birth_date):
    claims = data.draw(claim_lists(claim_universe))
    table = _table(month)
    singles = [e for e in (table.entitlement([c], birth_date) for c in claims) if e is not None]
    result = table.entitlement(claims, birth_date)
    if not singles:
        assert result is None
    else:
        assert result.amount == max(e.amount for e in singles)
        assert result in singles
        assert result.category_code == min(e.category_code for e in singles if e.amount == result.amount)
    # order of the claims never matters
    assert table.entitlement(list(reversed(claims)), birth_date) == result


@PROPS
@given(
    data=st.data(),
    month=months,
    birth_date=birth_dates,
    level_extra=st.integers(min_value=0, max_value=2_000_000),
    coefficient_extra=st.decimals(min_value=0, max_value=3, places=2),
    fixed_extra=st.integers(min_value=0, max_value=5_000_000),
)
def test_province_values_at_or_above_national_never_lower_any_amount(
    claim_universe, data, month, birth_date, level_extra, coefficient_extra, fixed_extra
):
    claims = data.draw(claim_lists(claim_universe))
    national = _table(month)
    provincial = _with(
        national,
        provincial={p: amount + level_extra for p, amount in national.national_levels.items()},
        rules=[replace(r, value=r.value + coefficient_extra, provincial=True) for r in national.rules],
        fixed=[replace(f, amount=f.amount + fixed_extra, provincial=True) for f in national.fixed],
    )
    for claim in claims:
        before = national.entitlement([claim], birth_date)
        after = provincial.entitlement([claim], birth_date)
        assert (before is None) == (after is None)
        if before is not None:
            assert after.amount >= before.amount
    before, after = national.entitlement(claims, birth_date), provincial.entitlement(claims, birth_date)
    assert (before.amount if before else 0) <= (after.amount if after else 0)


@PROPS
@given(
    data=st.data(), month=months, birth_date=birth_dates, low=st.integers(1, 5_000_000), step=st.integers(0, 5_000_000)
)
def test_amount_is_monotonic_in_the_standard_level(claim_universe, data, month, birth_date, low, step):
    claims = data.draw(claim_lists(claim_universe))
    base = _table(month)
    programmes = {"BTXH", "NCC", "HTXH"}
    lower = _with(base, national=dict.fromkeys(programmes, low))
    higher = _with(base, national=dict.fromkeys(programmes, low + step))
    for claim in claims:
        a, b = lower.entitlement([claim], birth_date), higher.entitlement([claim], birth_date)
        assert (a.amount if a else 0) <= (b.amount if b else 0)


@PROPS
@given(
    level=st.integers(min_value=1, max_value=10**9),
    value=st.decimals(min_value=Decimal("0.001"), max_value=100, places=3),
    units=st.integers(min_value=0, max_value=20),
    age=st.none() | st.integers(min_value=0, max_value=120),
)
def test_in_memory_table_arithmetic(level, value, units, age):
    table = PolicyTable(
        day=date(2025, 1, 1),
        categories={"X": CategoryInfo("X", "P", "coefficient", "monthly", False)},
        national_levels={"P": level},
        rules=[RuleRow("X", value, per_unit="unit")],
        fixed=[FixedRow("Y", "k", 1)],
    )
    result = table.evaluate(Claim("X", units=units), age)
    exact = Decimal(level) * value * units
    assert type(result.amount) is int
    assert abs(Decimal(result.amount) - exact) <= Decimal("0.5") * units
