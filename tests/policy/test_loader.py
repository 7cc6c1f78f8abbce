from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from ansinh.audit.models import AuditEvent
from ansinh.policy.models import Basis, Category, CoefficientRule, FixedAmount, Kind, Programme, StandardLevel
from ansinh.policy.services import load_policy

EXPECTED = {
    "programmes": 3,
    "categories": 34,
    "standard_levels": 7,
    "coefficient_rules": 28,
    "fixed_amounts": 11,
}


def test_project_ships_its_own_copy_of_the_policy_file():
    path = Path(settings.ANSINH_POLICY_FILE)
    assert path.is_file()
    assert path.parent.name == "data" and path.parent.parent.name == "policy"


def test_load_creates_every_row(policy):
    assert {name: c["created"] for name, c in policy.items()} == EXPECTED
    assert Programme.objects.count() == 3
    assert Category.objects.count() == 34
    assert StandardLevel.objects.count() == 7
    assert CoefficientRule.objects.count() == 28
    assert FixedAmount.objects.count() == 11


def test_reload_changes_nothing_and_reports_unchanged(policy):
    before = {
        m: list(m.objects.order_by("pk").values()) for m in (Category, StandardLevel, CoefficientRule, FixedAmount)
    }
    counts = load_policy(actor=None)
    assert {name: c["unchanged"] for name, c in counts.items()} == EXPECTED
    assert all(c["created"] == c["updated"] == c["differs"] == 0 for c in counts.values())
    after = {m: list(m.objects.order_by("pk").values()) for m in before}
    assert before == after
    events = AuditEvent.objects.filter(action="policy.loaded").order_by("id")
    assert events.count() == 2
    assert events.last().after["counts"]["categories"]["unchanged"] == 34
    assert len(events.last().after["sha256"]) == 64


def test_standard_levels_mapped_per_programme(policy):
    def levels(code):
        return list(
            StandardLevel.objects.filter(programme__code=code, province__isnull=True)
            .order_by("effective_from")
            .values_list("effective_from", "effective_to", "amount")
        )

    assert levels("BTXH") == [
        (date(2014, 1, 1), date(2021, 6, 30), 270_000),
        (date(2021, 7, 1), date(2024, 6, 30), 360_000),
        (date(2024, 7, 1), None, 500_000),
    ]
    assert levels("NCC")[-1] == (date(2024, 7, 1), None, 2_789_000)
    assert levels("HTXH") == [(date(2025, 7, 1), None, 500_000)]
    level = StandardLevel.objects.get(programme__code="BTXH", amount=500_000)
    assert level.confidence == "verified"
    assert level.source.startswith("https://luatvietnam.vn/")
    assert "Decree 76/2024" in level.legal_basis


def test_categories_have_vietnamese_names_and_sensitive_flags(policy):
    d56 = Category.objects.get(code="D20.5.6")
    assert d56.name_vi == "Người khuyết tật nặng, người khuyết tật đặc biệt nặng"
    assert d56.programme.code == "BTXH"
    assert Category.objects.get(code="NCC.d").name_vi == "Bà mẹ Việt Nam anh hùng"
    assert set(Category.objects.filter(sensitive=True).values_list("code", flat=True)) == {"D20.5.3", "D20.5.8"}
    ascii_only = [c.code for c in Category.objects.all() if c.name_vi.isascii()]
    assert ascii_only == []
    assert Category.objects.get(code="NCC.rel").basis == Basis.FIXED
    assert Category.objects.get(code="FUNERAL.D20").kind == Kind.ONE_OFF
    assert Category.objects.get(code="NCC.convalescence").kind == Kind.ONE_OFF
    assert Category.objects.get(code="D20.5.1").confidence == "partial"


def test_coefficient_rules_mapped(policy):
    rules = CoefficientRule.objects.filter(category__code="D20.5.6")
    assert {(r.condition, r.value) for r in rules} == {
        ("extremely_severe:adult", Decimal("2.0")),
        ("extremely_severe:child_or_elderly", Decimal("2.5")),
        ("severe:adult", Decimal("1.5")),
        ("severe:child_or_elderly", Decimal("2.0")),
    }
    assert all(r.effective_from == date(2021, 7, 1) for r in rules)
    assert CoefficientRule.objects.get(category__code="D20.5.4").per_unit == "child_being_raised"
    child = CoefficientRule.objects.filter(category__code="D20.5.1").order_by("age_to")
    assert [(r.age_from, r.age_to, r.value) for r in child] == [(None, 4, Decimal("2.5")), (4, 16, Decimal("1.5"))]
    assert CoefficientRule.objects.get(category__code="FUNERAL.D20").value == 20
    assert {r.condition for r in CoefficientRule.objects.filter(category__code="NCC.convalescence")} == {
        "at_home",
        "concentrated",
    }


def test_fixed_amounts_mapped(policy):
    def fixed(code, key):
        return FixedAmount.objects.get(category__code=code, key=key, province__isnull=True)

    assert fixed("NCC.rel", "relative_of_1_martyr").amount == 2_789_000
    assert fixed("NCC.rel", "relative_of_3plus_martyrs").amount == 8_367_000
    mother = fixed("NCC.d", "heroic_mother_allowance")
    assert (mother.amount, mother.supplement) == (8_367_000, 2_337_000)
    invalid = fixed("NCC.g", "war_invalid_81pct")
    assert (invalid.amount, invalid.supplement) == (7_240_000, 1_399_000)
    assert not FixedAmount.objects.filter(key="war_invalid_81pct_plus_supplement").exists()
    assert fixed("NCC.e", "armed_forces_or_labour_hero_resistance").amount == 2_337_000
    assert fixed("NCC.k", "imprisoned_by_enemy").effective_from == date(2024, 7, 1)
    assert fixed("FUNERAL.SOCIAL_PENSION", "funeral").amount == 10_000_000


def test_admin_edit_is_kept_on_reload_unless_overwrite(policy):
    level = StandardLevel.objects.get(programme__code="BTXH", amount=500_000)
    StandardLevel.objects.filter(pk=level.pk).update(effective_to=date(2026, 6, 30))
    counts = load_policy(actor=None)
    assert counts["standard_levels"]["differs"] == 1
    level.refresh_from_db()
    assert level.effective_to == date(2026, 6, 30)

    counts = load_policy(actor=None, overwrite=True)
    assert counts["standard_levels"]["updated"] == 1
    level.refresh_from_db()
    assert level.effective_to is None
    event = AuditEvent.objects.get(action="policy.standard_level.changed")
    assert event.before["effective_to"] == "2026-06-30" and event.after["effective_to"] is None


def _write(tmp_path, doc) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_command_loads_another_file_and_prints_counts(db, tmp_path):
    doc = yaml.safe_load(Path(settings.ANSINH_POLICY_FILE).read_text(encoding="utf-8"))
    doc["standard_levels"]["social_assistance"]["levels"][-1]["effective_to"] = "2026-06-30"
    doc["standard_levels"]["social_assistance"]["levels"].append(
        {
            "effective_from": "2026-07-01",
            "effective_to": None,
            "amount": 600000,
            "legal_basis": "test decree",
            "source": "https://example.org/test",
            "confidence": "unverified",
        }
    )
    out = StringIO()
    with translation.override("en"):
        call_command("load_policy", "--file", str(_write(tmp_path, doc)), stdout=out)
    text = out.getvalue()
    assert "8 created" in text  # standard levels
    assert StandardLevel.objects.get(programme__code="BTXH", effective_from=date(2026, 7, 1)).amount == 600_000


def test_overlapping_periods_in_the_file_are_refused(db, tmp_path):
    doc = yaml.safe_load(Path(settings.ANSINH_POLICY_FILE).read_text(encoding="utf-8"))
    doc["standard_levels"]["social_assistance"]["levels"][0]["effective_to"] = "2022-01-01"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_policy", "--file", str(_write(tmp_path, doc)), stdout=StringIO())
    assert not StandardLevel.objects.exists()  # one transaction: nothing half-loaded


def test_float_amount_in_the_file_is_refused(db, tmp_path):
    from ansinh.policy.loader import PolicyFileError

    doc = yaml.safe_load(Path(settings.ANSINH_POLICY_FILE).read_text(encoding="utf-8"))
    doc["standard_levels"]["social_assistance"]["levels"][0]["amount"] = 270000.5
    with pytest.raises(PolicyFileError):
        load_policy(actor=None, path=_write(tmp_path, doc))
