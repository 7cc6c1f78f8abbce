from datetime import date

import pytest

from ansinh.areas import services
from ansinh.areas.models import Level, Tree
from ansinh.areas.queries import find_by_code, villages_of

pytestmark = pytest.mark.django_db


def test_find_by_code_prefers_the_tree_valid_on_the_day():
    """Most post-2025 communes took over a predecessor's code: 30316 was Phường Châu Phú B
    (Châu Đốc city) until 2025-06-30 and is Phường Châu Đốc of An Giang (91) since."""
    services.load_current_tree(actor=None)
    services.load_legacy_province(actor=None, code="89")

    before = find_by_code("30316", on=date(2025, 6, 30))
    after = find_by_code("30316", on=date(2025, 7, 1))

    assert (before.tree, before.full_name, before.parent.code) == (Tree.LEGACY, "Phường Châu Phú B", "884")
    assert (after.tree, after.full_name, after.parent.code) == (Tree.CURRENT, "Phường Châu Đốc", "91")
    assert find_by_code("30316").tree == Tree.CURRENT
    assert find_by_code("89", level=Level.PROVINCE, on=date(2026, 1, 1)).tree == Tree.LEGACY  # only one holds it
    assert find_by_code("30316", level=Level.PROVINCE) is None
    assert find_by_code("99999") is None


def test_villages_of_lists_a_communes_villages_by_name(tree):
    services.create_village(actor=None, commune=tree.a, name="Bình Đức", kind="Khóm")
    services.create_village(actor=None, commune=tree.b, name="An Hòa", kind="Khóm")

    assert [v.name for v in villages_of(tree.a)] == ["Bình Đức", "Khóm Châu Long 1"]
