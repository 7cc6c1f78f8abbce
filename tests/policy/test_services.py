from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from ansinh.audit.models import AuditEvent
from ansinh.policy.models import CoefficientRule, StandardLevel
from ansinh.policy.services import set_coefficient_override, set_standard_level

SRC = "https://example.org/resolution"


def _set(province=None, amount=600_000, start=date(2025, 1, 1), end=None, programme="BTXH"):
    return set_standard_level(
        actor=None,
        programme=programme,
        amount=amount,
        effective_from=start,
        effective_to=end,
        province=province,
        legal_basis="Provincial People's Council resolution",
        source=SRC,
        confidence="verified",
    )


def test_provincial_level_lower_than_national_is_refused(policy, tree):
    with pytest.raises(ValidationError) as err:
        _set(province=tree.province, amount=450_000, start=date(2025, 1, 1))
    assert "500.000 ₫" in str(err.value)
    assert not StandardLevel.objects.filter(province__isnull=False).exists()


def test_refusal_message_is_translated(policy, tree):
    with translation.override("en"), pytest.raises(ValidationError) as err:
        _set(province=tree.province, amount=450_000)
    assert "lower than the national level" in " ".join(err.value.messages)


def test_provincial_level_lower_on_any_day_of_its_period_is_refused(policy, tree):
    # 400,000 is above 360,000 (to 2024-06-30) but below 500,000 (from 2024-07-01).
    with pytest.raises(ValidationError):
        _set(province=tree.province, amount=400_000, start=date(2024, 1, 1), end=date(2024, 12, 31))
    level = _set(province=tree.province, amount=400_000, start=date(2024, 1, 1), end=date(2024, 6, 30))
    assert level.amount == 400_000


def test_provincial_level_must_be_a_province(policy, tree):
    with pytest.raises(ValidationError):
        _set(province=tree.a, amount=600_000)


def test_provincial_level_higher_is_accepted_and_audited(policy, tree):
    level = _set(province=tree.province, amount=600_000)
    assert level.province == tree.province
    event = AuditEvent.objects.get(action="policy.standard_level.set")
    assert event.area == tree.province
    assert event.after["amount"] == 600_000


def test_setting_a_level_closes_the_previous_open_period(policy):
    new = _set(amount=650_000, start=date(2026, 7, 1))
    old = StandardLevel.objects.get(programme__code="BTXH", province__isnull=True, amount=500_000)
    assert old.effective_to == date(2026, 6, 30)
    assert new.effective_to is None
    closed = AuditEvent.objects.get(action="policy.standard_level.closed")
    assert closed.before["effective_to"] is None and closed.after["effective_to"] == "2026-06-30"


def test_overlapping_period_is_refused_and_nothing_is_closed(policy):
    with pytest.raises(ValidationError):
        _set(amount=650_000, start=date(2024, 7, 1))  # same start as the level in force
    assert StandardLevel.objects.get(programme__code="BTXH", amount=500_000).effective_to is None


def test_float_amount_is_refused(policy):
    with pytest.raises(TypeError):
        _set(amount=600_000.0)


def test_coefficient_override_lower_than_national_is_refused(policy, tree):
    with pytest.raises(ValidationError):
        set_coefficient_override(
            actor=None,
            category="D20.5.6",
            province=tree.province,
            condition="severe:adult",
            value=Decimal("1.2"),
            effective_from=date(2025, 1, 1),
            source=SRC,
            confidence="verified",
        )


def test_coefficient_override_with_a_wider_age_bracket_may_not_undercut_any_national_bracket(policy, tree):
    # National D20.5.1: under 4 → 2.5, 4–16 → 1.5. A provincial 2.0 for all children undercuts 2.5.
    with pytest.raises(ValidationError):
        set_coefficient_override(
            actor=None,
            category="D20.5.1",
            province=tree.province,
            value=Decimal("2.0"),
            age_from=0,
            age_to=16,
            effective_from=date(2025, 1, 1),
            source=SRC,
            confidence="verified",
        )


def test_coefficient_override_higher_is_accepted_and_closes_the_previous_one(policy, tree):
    first = set_coefficient_override(
        actor=None,
        category="D20.5.4",
        province=tree.province,
        value=Decimal("1.2"),
        effective_from=date(2025, 1, 1),
        source=SRC,
        confidence="verified",
    )
    assert first.per_unit == "child_being_raised"
    second = set_coefficient_override(
        actor=None,
        category="D20.5.4",
        province=tree.province,
        value=Decimal("1.5"),
        effective_from=date(2026, 1, 1),
        source=SRC,
        confidence="verified",
    )
    first.refresh_from_db()
    assert first.effective_to == date(2025, 12, 31)
    assert second.effective_to is None
    assert AuditEvent.objects.filter(action="policy.coefficient_rule.set").count() == 2
    assert CoefficientRule.objects.filter(province=tree.province).count() == 2


def test_coefficient_override_needs_a_province(policy):
    with pytest.raises(ValidationError):
        set_coefficient_override(
            actor=None,
            category="D20.5.4",
            province=None,
            value=Decimal("1.2"),
            effective_from=date(2025, 1, 1),
            source=SRC,
            confidence="verified",
        )
