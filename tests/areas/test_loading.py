"""Loading the official trees: the 2025 tree from `vietnam-provinces`, pre-2025 provinces from
the shipped data file."""

import pytest
from django.core.exceptions import ValidationError

from ansinh.areas import services
from ansinh.areas.models import CURRENT_START, LEGACY_END, Area, Level, Tree
from ansinh.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def loaded_events():
    return AuditEvent.objects.filter(action="areas.tree.loaded")


def assert_paths_consistent(tree: str) -> None:
    """Every row's path is its parent's path plus its own id, and depth matches."""
    paths = dict(Area.objects.filter(tree=tree).values_list("pk", "path"))
    for pk, parent_id, path, depth in Area.objects.filter(tree=tree).values_list("pk", "parent_id", "path", "depth"):
        expected = (paths[parent_id] if parent_id else "/") + f"{pk}/"
        assert (path, depth) == (expected, expected.count("/") - 2)


def test_current_tree_gives_34_provinces_and_3321_communes_and_a_rerun_changes_nothing():
    counts = services.load_current_tree(actor=None)

    assert counts == {
        "province": {"created": 34, "updated": 0, "unchanged": 0},
        "commune": {"created": 3321, "updated": 0, "unchanged": 0},
    }
    current = Area.objects.filter(tree=Tree.CURRENT)
    assert current.filter(level=Level.PROVINCE).count() == 34
    assert current.filter(level=Level.COMMUNE).count() == 3321
    assert not current.exclude(valid_from=CURRENT_START).exists()
    assert not current.filter(valid_to__isnull=False).exists()
    assert_paths_consistent(Tree.CURRENT)
    assert loaded_events().count() == 1
    event = loaded_events().get()
    assert event.actor_label == "system"
    assert event.after["tree"] == "current"
    assert event.after["counts"]["commune"]["created"] == 3321

    rerun = services.load_current_tree(actor=None)

    assert rerun["province"] == {"created": 0, "updated": 0, "unchanged": 34}
    assert rerun["commune"] == {"created": 0, "updated": 0, "unchanged": 3321}
    assert Area.objects.count() == 34 + 3321
    assert loaded_events().count() == 1  # nothing changed, nothing to audit


def test_current_tree_names_lose_the_type_prefix_and_keep_diacritics():
    services.load_current_tree(actor=None)

    def get(code):
        return Area.objects.get(tree=Tree.CURRENT, code=code)

    assert (get("01").name, get("01").division_type) == ("Hà Nội", "Thành phố")
    assert (get("91").name, get("91").division_type) == ("An Giang", "Tỉnh")
    chau_doc = get("30316")
    assert (chau_doc.name, chau_doc.division_type, chau_doc.name_key) == ("Châu Đốc", "Phường", "chau doc")
    assert chau_doc.parent == get("91")
    assert chau_doc.source.startswith("vietnam-provinces 2025.")
    assert (get("26732").full_name, get("26732").level) == ("Đặc khu Côn Đảo", Level.COMMUNE)
    assert get("12745").name == "Bắc Đông Quan"  # "Xã  Bắc Đông Quan" in the package: double space
    assert set(Area.objects.filter(level=Level.COMMUNE).values_list("division_type", flat=True)) == {
        "Xã",
        "Phường",
        "Đặc khu",
    }


def test_current_tree_rerun_restores_a_changed_name_and_counts_it_as_updated():
    services.load_current_tree(actor=None)
    Area.objects.filter(tree=Tree.CURRENT, code="30316").update(name="Sai tên", name_key="sai ten")

    counts = services.load_current_tree(actor=None)

    assert counts["commune"] == {"created": 0, "updated": 1, "unchanged": 3320}
    commune = Area.objects.get(tree=Tree.CURRENT, code="30316")
    assert (commune.name, commune.name_key) == ("Châu Đốc", "chau doc")
    assert loaded_events().count() == 2


def test_legacy_an_giang_has_chau_doc_with_7_communes_and_tinh_bien_with_14():
    counts = services.load_legacy_province(actor=None, code="89")

    assert counts == {
        "province": {"created": 1, "updated": 0, "unchanged": 0},
        "district": {"created": 11, "updated": 0, "unchanged": 0},
        "commune": {"created": 155, "updated": 0, "unchanged": 0},
    }
    legacy = Area.objects.filter(tree=Tree.LEGACY)
    province = legacy.get(level=Level.PROVINCE)
    assert (province.code, province.name, province.division_type) == ("89", "An Giang", "Tỉnh")
    chau_doc = legacy.get(code="884")
    tinh_bien = legacy.get(code="890")
    assert (chau_doc.level, chau_doc.full_name, chau_doc.parent) == (
        Level.DISTRICT,
        "Thành phố Châu Đốc",
        province,
    )
    assert tinh_bien.full_name == "Thị xã Tịnh Biên"
    assert chau_doc.children.count() == 7
    assert tinh_bien.children.count() == 14
    assert sorted(chau_doc.children.values_list("code", "division_type", "name")) == [
        ("30316", "Phường", "Châu Phú B"),
        ("30319", "Phường", "Châu Phú A"),
        ("30322", "Phường", "Vĩnh Mỹ"),
        ("30325", "Phường", "Núi Sam"),
        ("30328", "Phường", "Vĩnh Ngươn"),
        ("30331", "Xã", "Vĩnh Tế"),
        ("30334", "Xã", "Vĩnh Châu"),
    ]
    for commune in legacy.filter(level=Level.COMMUNE):
        assert commune.path.startswith(province.path)
        assert commune.path.startswith(commune.parent.path)
        assert commune.depth == 2
    assert_paths_consistent(Tree.LEGACY)
    assert set(Area.objects.below(chau_doc, include_self=False).values_list("code", flat=True)) == {
        str(code) for code in range(30316, 30335, 3)
    }
    assert not legacy.exclude(valid_to=LEGACY_END).exists()
    assert not legacy.filter(valid_from__isnull=False).exists()
    event = loaded_events().get()
    assert (event.area, event.after["provinces"]) == (province, ["89"])

    assert services.load_legacy_province(actor=None, code="89")["commune"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 155,
    }
    assert legacy.count() == 1 + 11 + 155
    assert loaded_events().count() == 1


def test_legacy_types_come_from_names_not_from_the_placeholder_fields():
    services.load_legacy_provinces(actor=None, codes=["1", "44"])

    hanoi = Area.objects.get(tree=Tree.LEGACY, code="01")
    assert (hanoi.name, hanoi.division_type) == ("Hà Nội", "Thành phố")
    dong_hoi = Area.objects.get(tree=Tree.LEGACY, level=Level.DISTRICT, name="Đồng Hới")
    assert dong_hoi.division_type == "Thành phố"  # "Thành Phố Đồng Hới" in the data
    types = set(Area.objects.filter(tree=Tree.LEGACY, level=Level.DISTRICT).values_list("division_type", flat=True))
    assert types == {"Quận", "Huyện", "Thị xã", "Thành phố"}
    assert set(Area.objects.filter(tree=Tree.LEGACY, level=Level.COMMUNE).values_list("division_type", flat=True)) == {
        "Phường",
        "Xã",
        "Thị trấn",
    }
    event = loaded_events().get()
    assert event.area is None
    assert event.after["provinces"] == ["01", "44"]


def test_legacy_rerun_puts_a_misplaced_commune_back_and_its_villages_follow():
    services.load_legacy_province(actor=None, code="89")
    commune = Area.objects.get(tree=Tree.LEGACY, code="30316")
    tinh_bien = Area.objects.get(tree=Tree.LEGACY, code="890")
    Area.objects.filter(pk=commune.pk).update(parent=tinh_bien, path=f"{tinh_bien.path}{commune.pk}/")
    commune.refresh_from_db()
    village = services.create_village(actor=None, commune=commune, name="Châu Long 5", kind="Khóm")
    assert village.path.startswith(tinh_bien.path)

    counts = services.load_legacy_province(actor=None, code="89")

    assert counts["commune"] == {"created": 0, "updated": 1, "unchanged": 154}
    commune.refresh_from_db()
    village.refresh_from_db()
    assert commune.parent.code == "884"
    assert commune.path == f"{commune.parent.path}{commune.pk}/"
    assert village.path == f"{commune.path}{village.pk}/"
    assert village.depth == 3


def test_unknown_legacy_province_code_is_refused_and_nothing_is_loaded():
    with pytest.raises(ValidationError) as exc:
        services.load_legacy_provinces(actor=None, codes=["89", "99"])

    assert "99" in exc.value.messages[0]
    assert not Area.objects.exists()
    assert not loaded_events().exists()


def test_legacy_province_codes_list_the_63_provinces():
    codes = services.legacy_province_codes()

    assert len(codes) == 63
    assert codes[0] == "01"
    assert "89" in codes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thành phố Châu Đốc", ("Thành phố", "Châu Đốc")),
        ("Thành Phố Đồng Hới", ("Thành phố", "Đồng Hới")),
        ("Xã  Phú Hữu", ("Xã", "Phú Hữu")),
        ("Thị trấn Nhà Bàng", ("Thị trấn", "Nhà Bàng")),
        ("Phường 1", ("Phường", "1")),
        ("Xã Cư M’gar", ("Xã", "Cư M’gar")),
        ("An Giang", ("", "An Giang")),
        ("Xã", ("", "Xã")),
    ],
)
def test_split_official_name(raw, expected):
    assert services.split_official_name(raw) == expected


def test_official_codes_are_zero_padded_by_level():
    assert services.official_code(Level.PROVINCE, 1) == "01"
    assert services.official_code(Level.PROVINCE, "089") == "89"
    assert services.official_code(Level.DISTRICT, 1) == "001"
    assert services.official_code(Level.COMMUNE, 70) == "00070"
