"""Villages (thôn, khóm, ấp, tổ dân phố): created and renamed by users, one name per commune."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from ansinh.areas.models import CURRENT_START, Area, Level, Tree
from ansinh.areas.services import create_village, rename_village
from ansinh.audit.models import AuditEvent


def village_events(action):
    return AuditEvent.objects.filter(action=action)


def test_create_village_normalises_the_name_and_is_audited(tree, officer_a):
    village = create_village(actor=officer_a, commune=tree.a, name="  ấp  an   hòa ", kind="ấp")

    village.refresh_from_db()
    assert (village.name, village.division_type, village.full_name) == ("An Hòa", "Ấp", "Ấp An Hòa")
    assert (village.level, village.tree, village.parent) == (Level.VILLAGE, Tree.LEGACY, tree.a)
    assert village.name_key == "an hoa"
    assert village.path == f"{tree.a.path}{village.pk}/"
    assert village.is_within(tree.province)
    event = village_events("areas.village.created").get()
    assert (event.actor, event.area, event.area_path) == (officer_a, village, village.path)
    assert (event.object_type, event.object_id) == ("areas.area", str(village.pk))
    assert event.after["name"] == "An Hòa"
    assert event.after["division_type"] == "Ấp"
    assert event.after["parent"] == tree.a.pk


def test_village_takes_the_communes_tree_and_validity(db):
    province = Area.objects.create(
        tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang", valid_from=CURRENT_START
    )
    commune = Area.objects.create(
        tree=Tree.CURRENT,
        level=Level.COMMUNE,
        code="30316",
        name="Châu Đốc",
        parent=province,
        valid_from=CURRENT_START,
    )

    village = create_village(actor=None, commune=commune, name="Tổ dân phố Châu Long 1", kind="tổ dân phố")

    assert (village.tree, village.valid_from, village.valid_to) == (Tree.CURRENT, CURRENT_START, None)
    assert (village.division_type, village.name) == ("Tổ dân phố", "Châu Long 1")


def test_village_without_kind_keeps_its_whole_name(tree):
    village = create_village(actor=None, commune=tree.a, name="khóm châu long 2")

    assert (village.division_type, village.name) == ("", "Khóm Châu Long 2")


@pytest.mark.parametrize("parent", ["province", "district", "village_a"])
def test_a_village_only_hangs_under_a_commune(tree, parent):
    before = Area.objects.count()

    with pytest.raises(ValidationError) as exc:
        create_village(actor=None, commune=getattr(tree, parent), name="Mới")

    assert exc.value.code == "not_a_commune"
    assert Area.objects.count() == before
    assert not village_events("areas.village.created").exists()


def test_duplicate_village_name_in_the_same_commune_is_refused_ignoring_accents_and_case(tree):
    create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        create_village(actor=None, commune=tree.a, name="an hoà", kind="Khóm")

    assert exc.value.code == "duplicate"
    assert exc.value.messages == ["Phường Châu Phú A already has a village named “An Hoà”."]
    assert Area.objects.filter(parent=tree.a, name_key="an hoa").count() == 1
    assert village_events("areas.village.created").count() == 1


def test_the_same_village_name_is_fine_in_another_commune(tree):
    create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")

    other = create_village(actor=None, commune=tree.b, name="An Hòa", kind="Ấp")

    assert other.parent == tree.b


@pytest.mark.parametrize(("name", "kind", "code"), [("   ", "", "required"), ("An Hòa", "Phố", "unknown_kind")])
def test_empty_names_and_unknown_kinds_are_refused(tree, name, kind, code):
    with pytest.raises(ValidationError) as exc:
        create_village(actor=None, commune=tree.a, name=name, kind=kind)

    assert exc.value.code == code


def test_rename_village_is_audited_with_before_and_after(tree, officer_a):
    village = create_village(actor=officer_a, commune=tree.a, name="An Hòa", kind="Ấp")

    renamed = rename_village(actor=officer_a, village=village, name="an  hòa  2")

    renamed.refresh_from_db()
    assert (renamed.name, renamed.name_key, renamed.full_name) == ("An Hòa 2", "an hoa 2", "Ấp An Hòa 2")
    event = village_events("areas.village.renamed").get()
    assert (event.actor, event.area) == (officer_a, village)
    assert (event.before, event.after) == ({"name": "An Hòa"}, {"name": "An Hòa 2"})


def test_rename_to_the_same_name_changes_nothing(tree):
    village = create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")

    rename_village(actor=None, village=village, name="  an hòa ")

    assert not village_events("areas.village.renamed").exists()


def test_rename_to_a_name_taken_in_the_commune_is_refused(tree):
    village = create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")

    with pytest.raises(ValidationError) as exc:
        rename_village(actor=None, village=village, name="Khóm Châu Long 1")

    assert exc.value.code == "duplicate"
    village.refresh_from_db()
    assert village.name == "An Hòa"
    assert not village_events("areas.village.renamed").exists()


def test_only_villages_can_be_renamed(tree):
    with pytest.raises(ValidationError) as exc:
        rename_village(actor=None, village=tree.a, name="Khác")

    assert exc.value.code == "not_a_village"
    tree.a.refresh_from_db()
    assert tree.a.name == "Châu Phú A"


def test_a_duplicate_that_slips_past_the_check_is_refused_by_the_database(tree, monkeypatch):
    """Two officers creating the same village at once: the unique constraint decides."""
    from ansinh.areas import services

    create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")
    monkeypatch.setattr(services, "_refuse_duplicate", lambda *args, **kwargs: None)

    with pytest.raises(ValidationError) as exc:
        create_village(actor=None, commune=tree.a, name="An Hòa", kind="Ấp")

    assert exc.value.code == "duplicate"
    assert Area.objects.filter(parent=tree.a, level=Level.VILLAGE).count() == 2  # An Hòa + the fixture's
