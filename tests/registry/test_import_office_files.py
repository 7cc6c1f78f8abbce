"""Files as commune offices make them: a title block above the header, a row of column numbers,
signature lines below the list, identity numbers in number cells, old ID cards, old and landline
phone numbers. Each is repaired with a note in the row report, or refused with an error that says
what to do."""

from datetime import date

import pytest
from openpyxl import Workbook

from ansinh.registry.columns import BY_KEY, COLUMNS
from ansinh.registry.importing import FileError, apply_plan, check_file
from ansinh.registry.models import Beneficiary
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

HEADERS = [c.header for c in COLUMNS]
BIRTH = date(1950, 6, 7)
CCCD = cccd_for(BIRTH, "male", "100002")  # 089050100002


@pytest.fixture
def commune(tree, policy):
    return tree.a


def person(**values):
    base = {
        "full_name": "Trần Văn Bình",
        "birth_date": "07/06/1950",
        "gender": "Nam",
        "phone": "0912345678",
        "category": "D20.5.5.c",
        "decision_number": "2/QĐ-UBND",
        "decision_date": "11/01/2024",
    }
    return row(**(base | values))


def office_file(path, rows, *, title=True, numbering=True, footer=True):
    """A list as offices print it: unit and title lines, a blank row, the header, (1) (2) (3)…,
    the people, a blank row, a total and the signature lines."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append(["ỦY BAN NHÂN DÂN XÃ A", "", "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
        ws.append(["", "", "", "Độc lập - Tự do - Hạnh phúc"])
        ws.append(["DANH SÁCH ĐỐI TƯỢNG HƯỞNG TRỢ CẤP XÃ HỘI HẰNG THÁNG"])
        ws.append([])
    ws.append(HEADERS)
    if numbering:
        ws.append([f"({i})" for i in range(1, len(HEADERS) + 1)])
    for r in rows:
        ws.append(r)
    if footer:
        ws.append([])
        ws.append(["Tổng cộng: 2 người"])
        ws.append(["Người lập biểu", "", "", "", "", "", "", "", "Chủ tịch UBND xã"])
    wb.save(path)
    return path


def warnings_of(plan, row_number):
    return [w.message for w in plan.warnings if w.row == row_number]


def test_title_block_numbering_row_and_signatures_are_skipped_with_notes(commune, tmp_path):
    rows = [
        person(cccd=CCCD),
        person(full_name="Lê Thị Hoa", birth_date="31/02/1952", gender="Nữ"),  # not a date: error
    ]
    plan = check_file(office_file(tmp_path / "ds.xlsx", rows), commune=commune)
    # header on row 5, numbering row 6, people on rows 7-8, blank 9, total 10, signatures 11
    assert plan.rows == 2
    assert [n for n, _d, _i in plan.creates] == [7]
    assert {(e.row, e.column) for e in plan.errors} == {(8, "Ngày sinh")}
    assert any("dd/mm/yyyy" in e.message for e in plan.errors)
    assert any("dòng 5" in m for m in warnings_of(plan, 5))
    assert warnings_of(plan, 6) and warnings_of(plan, 10) and warnings_of(plan, 11)


def test_header_without_title_block_has_no_note(commune, tmp_path):
    path = office_file(tmp_path / "ds.xlsx", [person(cccd=CCCD)], title=False, numbering=False, footer=False)
    plan = check_file(path, commune=commune)
    assert [n for n, _d, _i in plan.creates] == [2]
    assert not plan.warnings


def test_header_row_lacking_columns_is_named(commune, tmp_path):
    wb = Workbook()
    wb.active.append(["DANH SÁCH"])
    wb.active.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính"])  # no category column
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(FileError) as info:
        check_file(tmp_path / "x.xlsx", commune=commune)
    assert "2" in str(info.value) and BY_KEY["category"].header in str(info.value)


def test_no_header_in_the_first_rows_is_refused(commune, tmp_path):
    wb = Workbook()
    for i in range(20):
        wb.active.append([f"dòng {i}"])
    wb.active.append(HEADERS)
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(FileError) as info:
        check_file(tmp_path / "x.xlsx", commune=commune)
    assert "15" in str(info.value) and "Họ và tên" in str(info.value)


def test_office_headers_are_recognised(commune, tmp_path):
    headers = ["STT", "Họ tên (*)", "Ngày, tháng, năm sinh", "Nam/Nữ", "Số CMND/CCCD", "SĐT", "Mã đối tượng"]
    values = ["1", "Trần Văn Bình", "07/06/1950", "Nam", CCCD, "0912345678", "D20.5.5.c"]
    path = import_xlsx([values], tmp_path / "ds.xlsx", headers=headers)
    plan = check_file(path, commune=commune)
    # no decision date or start month: the only error is the start month, every column was read
    assert {e.column for e in plan.errors} == {"Tháng bắt đầu hưởng"}


def test_cccd_in_a_number_cell_gets_its_leading_zero_back(commune, tmp_path, officer_a):
    rows = [person(cccd=int(CCCD)), person(full_name="Lê Văn Tư", cccd="8.9050100003E+10")]
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert not plan.errors
    assert [d.cccd for _n, d, _i in plan.creates] == [CCCD, "089050100003"]
    assert any(CCCD in m for m in warnings_of(plan, 2))
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    b = Beneficiary.objects.get(cccd=CCCD)
    assert any(CCCD in issue["message"] for issue in b.quality_issues)
    # the same file again: nothing changes
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert len(plan.unchanged) == 2 and not plan.creates and not plan.updates


def test_cccd_number_that_does_not_fit_after_padding_is_an_error(commune, tmp_path):
    rows = [
        person(cccd=89150012345),  # 0891… would mean a woman born in 1950: he is a man
        person(full_name="Lê Văn Tư", cccd="8.905E+10"),  # Excel kept four digits of it
    ]
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert {(e.row, e.column) for e in plan.errors} == {(2, "Số CCCD"), (3, "Số CCCD")}
    messages = " ".join(e.message for e in plan.errors)
    assert "89150012345" in messages and "8.905E+10" in messages


def test_old_nine_digit_id_card_is_kept_apart_with_a_warning(commune, tmp_path, officer_a):
    rows = [person(cccd="351234567"), person(full_name="Lê Văn Tư", cccd=23456789)]  # 023456789 lost its 0
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert not plan.errors
    assert all("CCCD" in " ".join(warnings_of(plan, n)) for n in (2, 3))
    assert any("023456789" in m for m in warnings_of(plan, 3))
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    b = Beneficiary.objects.get(name_key="tran van binh")
    assert (b.cccd, b.legacy_id_number) == ("", "351234567")
    assert any("cần cập nhật CCCD" in issue["message"] for issue in b.quality_issues)
    assert Beneficiary.objects.get(name_key="le van tu").legacy_id_number == "023456789"
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert len(plan.unchanged) == 2
    # the CCCD arrives: it replaces the old card
    rows[0][HEADERS.index("Số CCCD")] = CCCD
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert len(plan.updates) == 1
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    b.refresh_from_db()
    assert (b.cccd, b.legacy_id_number) == (CCCD, "")


def test_representative_with_an_old_id_card_is_told_what_to_do(commune, tmp_path):
    rows = [person(cccd=CCCD, rep_full_name="Lê Văn Tư", rep_kind="Ủy quyền", rep_cccd="351234567")]
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    (error,) = plan.errors
    assert error.column == "Người đại diện - Số CCCD" and "12" in error.message


def test_phone_formats_offices_use(commune, tmp_path, officer_a):
    rows = [
        person(cccd=CCCD, phone=912345678),  # a number cell
        person(full_name="Lê Văn Tư", phone="0168.612.3456"),  # converted in 2018
        person(full_name="Võ Văn Ba", phone="(+84) 912-345-679"),
        person(full_name="Đỗ Văn Năm", phone="0296 3 123 456"),  # a landline
        person(full_name="Mai Văn Sáu", phone="0912345670 / 0987654321"),
    ]
    plan = check_file(import_xlsx(rows, tmp_path / "ds.xlsx"), commune=commune)
    assert not plan.errors
    phones = {d.full_name: d.phone for _n, d, _i in plan.creates}
    assert phones == {
        "Trần Văn Bình": "+84912345678",
        "Lê Văn Tư": "+84386123456",
        "Võ Văn Ba": "+84912345679",
        "Đỗ Văn Năm": "+842963123456",
        "Mai Văn Sáu": "+84912345670",
    }
    phone_notes = {w.row for w in plan.warnings if w.column == "Số điện thoại"}
    assert phone_notes == {2, 3, 5, 6}  # formatting alone (row 4) is no repair
    assert any("SMS" in m for m in warnings_of(plan, 5))
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    landline = Beneficiary.objects.get(name_key="do van nam")
    assert landline.has_issues and any("SMS" in i["message"] for i in landline.quality_issues)


def test_cccd_of_another_commune_says_where_without_details(commune, tree, tmp_path, officer_a):
    apply_plan(
        actor=officer_a,
        plan=check_file(import_xlsx([person(cccd=CCCD)], tmp_path / "a.xlsx"), commune=tree.b),
        commune=tree.b,
    )
    plan = check_file(import_xlsx([person(cccd=CCCD)], tmp_path / "b.xlsx"), commune=commune)
    (error,) = plan.errors
    other = Beneficiary.objects.get()
    assert tree.b.full_name in error.message
    assert str(other.pk) not in error.message


def test_csv_with_a_title_block_and_semicolons(commune, tmp_path):
    lines = ["UBND XÃ A", "DANH SÁCH ĐỐI TƯỢNG", "", ";".join(HEADERS), ";".join(str(v) for v in person(cccd=CCCD))]
    path = tmp_path / "ds.csv"
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    plan = check_file(path, commune=commune)
    assert [n for n, _d, _i in plan.creates] == [5] and not plan.errors
    assert any("dòng 4" in m for m in warnings_of(plan, 4))


def test_no_phone_written_in_the_phone_column(commune, tmp_path):
    plan = check_file(import_xlsx([person(cccd=CCCD, phone="Không có")], tmp_path / "ds.xlsx"), commune=commune)
    ((_n, data, _i),) = plan.creates
    assert (data.phone, data.no_phone) == ("", True)
    assert [w.column for w in plan.warnings] == ["Số điện thoại"]


def test_a_year_alone_is_not_read_as_a_day_of_1905(commune, tmp_path):
    plan = check_file(import_xlsx([person(cccd=CCCD, birth_date=1950)], tmp_path / "ds.xlsx"), commune=commune)
    assert {(e.row, e.column) for e in plan.errors} == {(2, "Ngày sinh")}
    assert any("1950" in e.message and "dd/mm/yyyy" in e.message for e in plan.errors)
