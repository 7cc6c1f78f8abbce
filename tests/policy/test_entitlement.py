from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import override

from ansinh.policy.entitlement import (
    Claim,
    PolicyMonth,
    PolicyTable,
    age_in_years,
    monthly_entitlement,
    one_off_entitlement,
)
from ansinh.policy.services import set_coefficient_override, set_standard_level

CHILD = date(2015, 3, 10)
ESD_CHILD = Claim("D20.5.6", condition="extremely_severe:child_or_elderly")


def pay(*claims, month, birth_date=None, province=None):
    return monthly_entitlement(claims=list(claims), month=month, birth_date=birth_date, province=province)


def test_extremely_severe_disabled_child_from_july_2024(policy):
    e = pay(ESD_CHILD, month=date(2024, 7, 1), birth_date=CHILD)
    assert e.amount == 1_250_000
    assert type(e.amount) is int
    assert (e.standard_level, e.coefficient, e.category_code) == (500_000, Decimal("2.5"), "D20.5.6")
    assert e.explanation == "500.000 ₫ × 2,5"  # the category is named beside it, no code
    assert e.fixed_key == "" and e.sensitive is False


def test_same_person_as_severe_adult_in_2023(policy):
    e = pay(Claim("D20.5.6", condition="severe:adult"), month=date(2023, 5, 1), birth_date=date(1990, 1, 1))
    assert (e.amount, e.standard_level, e.coefficient) == (540_000, 360_000, Decimal("1.5"))


def test_poor_elderly_80_plus(policy):
    e = pay(Claim("D20.5.5.a"), month=date(2025, 1, 1), birth_date=date(1940, 6, 1))
    assert e.amount == 1_000_000
    young = pay(Claim("D20.5.5.a"), month=date(2025, 1, 1), birth_date=date(1950, 6, 1))
    assert young.amount == 750_000  # 60–80: 1.5
    assert pay(Claim("D20.5.5.a"), month=date(2025, 1, 1), birth_date=date(1970, 6, 1)) is None  # under 60


def test_single_parent_with_two_children_is_paid_per_child(policy):
    e = pay(Claim("D20.5.4", units=2), month=date(2025, 3, 1))
    assert e.amount == 1_000_000
    with override("vi"):
        e = pay(Claim("D20.5.4", units=2), month=date(2025, 3, 1))
    assert e.explanation == "500.000 ₫ × 1 × 2 con đang nuôi"


def test_units_do_not_multiply_rules_that_are_not_per_unit(policy):
    assert pay(Claim("D20.5.5.b", units=3), month=date(2025, 3, 1)).amount == 500_000


def test_ncc_relative_of_one_martyr_in_2025(policy):
    e = pay(Claim("NCC.rel", fixed_key="relative_of_1_martyr"), month=date(2025, 5, 1))
    assert e.amount == 2_789_000
    assert (e.coefficient, e.standard_level, e.fixed_key) == (None, None, "relative_of_1_martyr")


def test_heroic_mother_gets_amount_plus_supplement(policy):
    e = pay(Claim("NCC.d", fixed_key="heroic_mother_allowance"), month=date(2025, 5, 1))
    assert e.amount == 8_367_000 + 2_337_000
    with override("vi"):
        e = pay(Claim("NCC.d", fixed_key="heroic_mother_allowance"), month=date(2025, 5, 1))
    assert e.explanation == "8.367.000 ₫ + 2.337.000 ₫ (trợ cấp Bà mẹ Việt Nam anh hùng)"


def test_ncc_fixed_amount_needs_its_key_and_is_not_in_force_before_july_2024(policy):
    assert pay(Claim("NCC.rel"), month=date(2025, 5, 1)) is None
    assert pay(Claim("NCC.rel", fixed_key="relative_of_1_martyr"), month=date(2024, 6, 1)) is None


def test_month_boundary_june_vs_july_2024(policy):
    june = pay(ESD_CHILD, month=date(2024, 6, 30), birth_date=CHILD)
    july = pay(ESD_CHILD, month=date(2024, 7, 1), birth_date=CHILD)
    assert (june.amount, june.standard_level) == (900_000, 360_000)
    assert (july.amount, july.standard_level) == (1_250_000, 500_000)


def test_decree_20_coefficients_start_in_july_2021(policy):
    assert pay(ESD_CHILD, month=date(2021, 6, 1), birth_date=CHILD) is None
    assert pay(ESD_CHILD, month=date(2021, 7, 1), birth_date=CHILD).amount == 900_000


def test_age_is_whole_years_on_the_first_day_of_the_month(policy):
    orphan = Claim("D20.5.1")
    born_mid_july = date(2020, 7, 15)
    assert pay(orphan, month=date(2024, 7, 1), birth_date=born_mid_july).amount == 1_250_000  # 3 years: 2.5
    assert pay(orphan, month=date(2024, 8, 1), birth_date=born_mid_july).amount == 750_000  # 4 years: 1.5
    born_first_july = date(2021, 7, 1)
    assert pay(orphan, month=date(2025, 6, 1), birth_date=born_first_july).amount == 1_250_000
    assert pay(orphan, month=date(2025, 7, 20), birth_date=born_first_july).amount == 750_000
    # turning 16 ends the clause-5.1 brackets
    assert pay(orphan, month=date(2024, 7, 1), birth_date=date(2008, 6, 2)) is None


def test_age_in_years_edge_cases():
    assert age_in_years(date(2020, 2, 29), date(2021, 3, 1)) == 1
    assert age_in_years(date(2020, 2, 29), date(2021, 2, 1)) == 0
    assert age_in_years(None, date(2021, 2, 1)) is None


def test_age_bracket_needs_a_birth_date(policy):
    assert pay(Claim("D20.5.1"), month=date(2024, 7, 1)) is None


def test_only_the_highest_of_several_categories(policy):
    claims = [Claim("D20.5.5.b"), Claim("D20.5.5.d"), Claim("D20.5.6", condition="severe:adult")]
    e = pay(*claims, month=date(2025, 1, 1), birth_date=date(1948, 1, 1))
    assert (e.category_code, e.amount) == ("D20.5.5.d", 1_500_000)


def test_ties_are_broken_by_category_code(policy):
    claims = [Claim("HTXH.pension"), Claim("D20.5.5.c")]
    e = pay(*claims, month=date(2025, 9, 1), birth_date=date(1940, 1, 1))
    assert (e.category_code, e.amount) == ("D20.5.5.c", 500_000)
    e = pay(*reversed(claims), month=date(2025, 9, 1), birth_date=date(1940, 1, 1))
    assert e.category_code == "D20.5.5.c"


def test_social_pension_starts_july_2025(policy):
    assert pay(Claim("HTXH.pension"), month=date(2025, 6, 1)) is None
    assert pay(Claim("HTXH.pension"), month=date(2025, 7, 1)).amount == 500_000


def test_no_claims_or_nothing_in_force_gives_none(policy):
    assert pay(month=date(2025, 1, 1)) is None
    assert pay(Claim("NO.SUCH.CATEGORY"), month=date(2025, 1, 1)) is None
    assert pay(Claim("D20.5.6", condition="unknown"), month=date(2025, 1, 1)) is None


def test_claims_without_a_rule_contribute_nothing(policy):
    e = pay(Claim("NO.SUCH"), Claim("D20.5.8"), month=date(2025, 1, 1))
    assert e.amount == 750_000


def test_hiv_categories_are_flagged_sensitive(policy):
    assert pay(Claim("D20.5.8"), month=date(2025, 1, 1)).sensitive is True
    assert pay(Claim("D20.5.3"), month=date(2025, 1, 1), birth_date=date(2022, 1, 1)).sensitive is True


def test_one_off_categories_are_not_monthly(policy):
    assert pay(Claim("FUNERAL.D20"), month=date(2025, 1, 1)) is None
    funeral = one_off_entitlement(claim=Claim("FUNERAL.D20"), day=date(2025, 1, 15), birth_date=None, province=None)
    assert funeral.amount == 10_000_000
    funeral = one_off_entitlement(claim=Claim("FUNERAL.D20"), day=date(2023, 1, 15), birth_date=None, province=None)
    assert funeral.amount == 7_200_000
    rest = one_off_entitlement(
        claim=Claim("NCC.convalescence", condition="at_home"), day=date(2025, 1, 15), birth_date=None, province=None
    )
    assert rest.amount == 2_510_100  # 2,789,000 × 0.9


def test_units_must_be_a_whole_number():
    with pytest.raises(ValueError):
        Claim("D20.5.4", units=-1)
    with pytest.raises(ValueError):
        Claim("D20.5.4", units=1.5)


def test_province_level_applies_to_communes_of_that_province(policy, tree):
    set_standard_level(
        actor=None,
        programme="BTXH",
        amount=600_000,
        effective_from=date(2025, 1, 1),
        province=tree.province,
        legal_basis="Resolution",
        source="",
        confidence="verified",
    )
    assert pay(ESD_CHILD, month=date(2025, 2, 1), birth_date=CHILD, province=tree.a).amount == 1_500_000
    assert pay(ESD_CHILD, month=date(2024, 12, 1), birth_date=CHILD, province=tree.a).amount == 1_250_000
    assert pay(ESD_CHILD, month=date(2025, 2, 1), birth_date=CHILD, province=None).amount == 1_250_000


def test_province_coefficient_override_applies(policy, tree):
    set_coefficient_override(
        actor=None,
        category="D20.5.5.b",
        province=tree.province,
        value=Decimal("1.2"),
        effective_from=date(2025, 1, 1),
        source="",
        confidence="verified",
    )
    assert pay(Claim("D20.5.5.b"), month=date(2025, 2, 1), province=tree.b).amount == 600_000
    assert pay(Claim("D20.5.5.b"), month=date(2025, 2, 1), province=None).amount == 500_000


def test_one_person_costs_three_queries(policy, tree, django_assert_num_queries):
    with django_assert_num_queries(3):
        pay(ESD_CHILD, Claim("D20.5.4", units=2), month=date(2025, 2, 1), birth_date=CHILD, province=tree.a)


def test_payroll_loads_a_month_once_then_computes_in_memory(policy, tree, django_assert_num_queries):
    with django_assert_num_queries(3):
        month = PolicyMonth.load(date(2025, 2, 1))
    with django_assert_num_queries(0):
        table = month.table(tree.a)
        assert isinstance(table, PolicyTable)
        for i in range(1000):
            e = table.entitlement([ESD_CHILD, Claim("D20.5.4", units=1 + i % 3)], CHILD)
            assert e.amount == 1_250_000 if i % 3 < 2 else 1_500_000
        assert month.table(tree.a) is table
