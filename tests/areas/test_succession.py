"""The 2025 reform's mapping: parsing the resolution notes and loading the mapping."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from ansinh.areas import succession
from ansinh.areas.models import Area, AreaSuccession, Level, Share, Tree
from ansinh.areas.services import load_current_tree, load_legacy_provinces
from ansinh.areas.succession import LegacyCommune, match_notes, parse_note

CHAU_DOC = (
    "Đổi tên từ phường Châu Phú B thành phường Châu Đốc, hợp nhất phường Vĩnh Nguơn, Châu Phú A, Châu Phú B, "
    "Vĩnh Mỹ và một phần của xã Vĩnh Châu. Bỏ cấp huyện. Số: 1654/NQ-UBTVQH15; Ngày: 16/06/2025"
)
VINH_TE = (
    "Đổi tên từ phường Núi Sam thành phường Vĩnh Tế, hợp nhất phường Núi Sam, xã Vĩnh Tế và phần còn lại của "
    "xã Vĩnh Châu. Bỏ cấp huyện. Số: 1654/NQ-UBTVQH15; Ngày: 16/06/2025"
)


def test_a_rename_with_a_merge_names_every_predecessor_and_the_seat():
    parsed = parse_note(CHAU_DOC)
    assert [(p.name, p.kind, p.part) for p in parsed.predecessors] == [
        ("Vĩnh Nguơn", "phường", False),
        ("Châu Phú A", "phường", False),
        ("Châu Phú B", "phường", False),
        ("Vĩnh Mỹ", "phường", False),
        ("Vĩnh Châu", "xã", True),
    ]
    assert parsed.renamed_from == "chau phu b"
    assert (parsed.resolution, parsed.resolution_date) == ("1654/NQ-UBTVQH15", date(2025, 6, 16))


def test_the_remainder_of_a_split_commune_is_a_part():
    last = parse_note(VINH_TE).predecessors[-1]
    assert (last.name, last.part, last.remainder) == ("Vĩnh Châu", True, True)
    alone = parse_note("Phần còn lại của xã Canh Liên thành xã Canh Liên. Bỏ cấp huyện. Số: 1664/NQ-UBTVQH15")
    assert [(p.name, p.part) for p in alone.predecessors] == [("Canh Liên", True)]


def test_kept_units_renamed_townships_and_district_qualifiers():
    kept = parse_note("Giữ nguyên không sắp xếp. Bỏ cấp huyện. Số: 1684/NQ-UBTVQH15; Ngày: 16/06/2025", "Ngọc Long")
    assert kept.unchanged and [p.name for p in kept.predecessors] == ["Ngọc Long"]
    town = parse_note("Thay đổi loại hình. Đổi tên từ thị trấn Mường Lát thành xã Mường Lát. Bỏ cấp huyện.")
    assert [p.name for p in town.predecessors] == ["Mường Lát"]
    numbered = parse_note("Đổi tên từ Phường 6 thành phường An Nhơn, hợp nhất Phường 5, Phường 6 (quận Gò Vấp).")
    assert [(p.name, p.district) for p in numbered.predecessors] == [("5", ""), ("6", "Gò Vấp")]


def _legacy(code, name, kind="xã", district="884", district_name="Châu Đốc"):
    return LegacyCommune(code, name, kind, district, district_name)


def test_matching_ignores_accents_marks_splits_and_reports_unknown_names():
    legacy = [
        _legacy("30316", "Châu Phú B", "phường"),
        _legacy("30319", "Châu Phú A", "phường"),
        _legacy("30322", "Vĩnh Mỹ", "phường"),
        _legacy("30325", "Núi Sam", "phường"),
        _legacy("30328", "Vĩnh Ngươn", "phường"),  # spelt "Nguơn" in the note
        _legacy("30331", "Vĩnh Tế"),
        _legacy("30334", "Vĩnh Châu"),
    ]
    successors = [
        ("30316", "Phường Châu Đốc", "Châu Đốc", CHAU_DOC),
        ("30325", "Phường Vĩnh Tế", "Vĩnh Tế", VINH_TE),
        ("39999", "Xã Mới", "Mới", "Hợp nhất xã Không Có và xã Vĩnh Tế. Bỏ cấp huyện."),
    ]
    links, unmatched = match_notes(successors, legacy)
    by = {(link.legacy_code, link.successor_code): link for link in links}
    assert by[("30328", "30316")].share == Share.WHOLE
    vinh_chau = [link for link in links if link.legacy_code == "30334"]
    assert {(link.successor_code, link.share, link.seat) for link in vinh_chau} == {
        ("30316", Share.PART, False),
        ("30325", Share.PART, True),  # "phần còn lại": the seat went there
    }
    assert [(u.name, u.reason) for u in unmatched] == [("Không Có", "unknown")]


def test_the_shipped_an_giang_mapping_covers_every_pre_2025_commune_once_seated():
    with (succession.DATA_DIR / succession.DEMO_FILE).open(encoding="utf-8") as fh:
        links = succession.read_csv(fh)
    codes = {link.legacy_code for link in links}
    assert len(codes) == 155  # pre-2025 An Giang
    for code in codes:
        assert sum(link.seat for link in links if link.legacy_code == code) == 1, code
    assert {link.successor_code for link in links if link.legacy_code == "30334"} == {"30316", "30325"}


@pytest.mark.django_db
def test_the_package_loader_reproduces_the_checked_file_and_is_idempotent():
    load_legacy_provinces(actor=None, codes=["89", "91"])
    load_current_tree(actor=None)
    out = StringIO()
    with translation.override("en"):
        call_command("load_succession", "--province", "91", stdout=out)
    assert "Names not matched" not in out.getvalue()
    with (succession.DATA_DIR / succession.DEMO_FILE).open(encoding="utf-8") as fh:
        checked = {(link.legacy_code, link.successor_code, link.share, link.seat) for link in succession.read_csv(fh)}
    loaded = {
        (s.legacy.code, s.successor.code, s.share, s.seat)
        for s in AreaSuccession.objects.filter(legacy__parent__parent__code="89").select_related("legacy", "successor")
    }
    assert loaded == checked
    before = AreaSuccession.objects.count()
    result = succession.load_from_package(actor=None, provinces=["91"])
    assert (result.created, result.updated) == (0, 0) and AreaSuccession.objects.count() == before


@pytest.mark.django_db
def test_the_loader_maps_only_what_is_loaded_and_says_what_it_skipped():
    # Kiên Giang (91) not loaded: its "Tân Hòa" would match An Giang's; current An Giang is skipped
    load_legacy_provinces(actor=None, codes=["89", "87"])
    load_current_tree(actor=None)
    out = StringIO()
    with translation.override("en"):
        call_command("load_succession", stdout=out)
    assert "Province 91 skipped: pre-2025 province(s) 91 not loaded" in out.getvalue()
    assert "Province 82 skipped: pre-2025 province(s) 82 not loaded" in out.getvalue()
    assert not AreaSuccession.objects.exists()
    load_legacy_provinces(actor=None, codes=["82"])
    result = succession.load_from_package(actor=None)
    assert result.provinces == ["82"] and list(result.skipped) == ["91"]
    merged = Area.objects.get(tree=Tree.CURRENT, level=Level.PROVINCE, code="82")
    successors = AreaSuccession.objects.filter(successor__parent=merged)
    assert successors.filter(legacy__parent__parent__code="87").exists()  # old Đồng Tháp
    assert successors.filter(legacy__parent__parent__code="82").exists()  # old Tiền Giang
    assert len(result.unmatched) < 10, result.unmatched
