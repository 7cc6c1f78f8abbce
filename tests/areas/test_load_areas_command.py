from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from ansinh.areas.models import Area, Level, Tree

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("load_areas", *args, stdout=out)
    return out.getvalue()


def test_load_legacy_province_prints_counts_and_a_rerun_creates_nothing():
    first = run("--tree", "legacy", "--province", "89")
    second = run("--tree", "legacy", "--province", "89")

    assert "Loaded the pre-2025 tree" in first
    assert "Province: 1 created, 0 updated, 0 unchanged" in first
    assert "District: 11 created" in first
    assert "Commune: 155 created, 0 updated, 0 unchanged" in first
    assert "Commune: 0 created, 0 updated, 155 unchanged" in second
    assert Area.objects.filter(tree=Tree.LEGACY).count() == 167


def test_provinces_can_be_repeated_or_comma_separated():
    run("--tree", "legacy", "--province", "89, 91", "--province", "87")

    assert set(Area.objects.filter(level=Level.PROVINCE).values_list("code", flat=True)) == {"87", "89", "91"}


def test_load_current_tree_prints_counts():
    out = run("--tree", "current")

    assert "Loaded the tree in force from 2025-07-01" in out
    assert "Province: 34 created" in out
    assert "Commune: 3.321 created" in out  # Vietnamese thousands separator


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tree", "legacy"], "Give --province"),
        (["--tree", "current", "--province", "89"], "legacy tree only"),
        (["--tree", "legacy", "--province", "89,00"], "Unknown pre-2025 province code(s): 00."),
    ],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)

    assert not Area.objects.exists()
