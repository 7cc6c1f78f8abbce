"""The import template speaks Vietnamese (category names, condition names, the representative's
kind) and the importer takes back both those words and the earlier template's codes."""

import io
import re
from datetime import date

import pytest
from django.utils.translation import override
from openpyxl import load_workbook

from ansinh.registry.exports import import_template
from ansinh.registry.importing import check_file
from ansinh.registry.models import RepresentationKind
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

pytestmark = pytest.mark.django_db
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:CARE|NCC|HTXH|FUNERAL|D20)\.|\w+:\w+")


@pytest.fixture
def commune(tree, policy):
    return tree.a


def _row(i: int, **values) -> list:
    born = date(1950, 6, 7)
    base = {
        "full_name": f"Trần Văn Bình {'ABCDEFGH'[i]}",
        "birth_date": "07/06/1950",
        "gender": "Nam",
        "cccd": cccd_for(born, "male", f"20000{i}"),
        "decision_number": f"{i}/QĐ-UBND",
        "decision_date": "11/01/2024",
    }
    return row(**(base | values))


def _categories(plan):
    return [[(c.code, c.condition) for c in data.categories] for _n, data, _i in plan.creates]


def test_template_names_categories_and_conditions_in_vietnamese(commune):
    wb = load_workbook(io.BytesIO(import_template()))
    sheet = [[c.value or "" for c in r] for r in wb["Danh mục"].iter_rows(min_row=2)]
    names = [r[0] for r in sheet]
    assert "Người khuyết tật nặng, người khuyết tật đặc biệt nặng" in names
    for name, conditions in sheet:
        assert not CODE.search(name) and not CODE.search(conditions), (name, conditions)
    disability = dict(sheet)["Người khuyết tật nặng, người khuyết tật đặc biệt nặng"]
    assert "khuyết tật nặng, từ 16 đến dưới 60 tuổi" in disability.split("; ")


def test_the_template_words_and_the_old_codes_give_the_same_rows(commune, tmp_path):
    with override("vi"):
        rows = [
            _row(
                0,
                category="Người khuyết tật nặng, người khuyết tật đặc biệt nặng",
                condition="khuyết tật nặng, từ 16 đến dưới 60 tuổi",
            ),
            _row(1, category="D20.5.6", condition="severe:adult"),
            _row(
                2,
                category="nguoi khuyet tat nang, nguoi khuyet tat dac biet nang",
                condition="Khuyet tat nang, tu 16 den duoi 60 tuoi",
            ),
            _row(
                3,
                category=(
                    "Người từ đủ 80 tuổi trở lên không có lương hưu, trợ cấp bảo hiểm xã hội hằng tháng, "
                    "trợ cấp xã hội hằng tháng"
                ),
                other_categories="Người khuyết tật nặng, người khuyết tật đặc biệt nặng; D20.5.7",
            ),
            _row(4, category="D20.5.5.c", other_categories="D20.5.6, D20.5.7"),
        ]
        plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert plan.errors == []
    assert _categories(plan)[:3] == [[("D20.5.6", "severe:adult")]] * 3
    assert [code for code, _c in _categories(plan)[3]] == ["D20.5.5.c", "D20.5.6", "D20.5.7"]
    assert [code for code, _c in _categories(plan)[4]] == ["D20.5.5.c", "D20.5.6", "D20.5.7"]


def test_the_representative_kinds_the_error_names_are_accepted(commune, tmp_path):
    """The error used to recommend "người giám hộ" while the importer accepted only "Giám hộ"."""
    rep = {"rep_full_name": "Lê Văn Tư", "rep_birth_date": "01/01/1970", "rep_gender": "Nam"}
    with override("vi"):
        bad = check_file(
            import_xlsx(
                [_row(0, category="D20.5.6", condition="severe:adult", rep_kind="Bạn", **rep)], tmp_path / "a.xlsx"
            ),
            commune=commune,
        )
        [message] = [e.message for e in bad.errors if e.column == "Người đại diện - Loại"]
        words = [
            str(RepresentationKind.GUARDIAN.label),
            str(RepresentationKind.AUTHORISED.label),
            "Giám hộ",
            "Ủy quyền",
        ]
        for word in words[:2]:
            assert word in message
        rows = [_row(i, category="D20.5.6", condition="severe:adult", rep_kind=w, **rep) for i, w in enumerate(words)]
        plan = check_file(import_xlsx(rows, tmp_path / "b.xlsx"), commune=commune)
    assert plan.errors == []
    kinds = [data.representatives[0].kind for _n, data, _i in plan.creates]
    assert kinds == ["guardian", "authorised", "guardian", "authorised"]
