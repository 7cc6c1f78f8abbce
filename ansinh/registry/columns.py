"""The columns of the beneficiary import template and export, with their Vietnamese headers.
Headers are matched accent- and case-insensitively, so a retyped header still works."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ansinh.core.text import search_key


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Vietnamese header as printed in the template (the official form is Vietnamese)
    help: object
    width: int = 16
    required: bool = False


COLUMNS: list[Column] = [
    Column("full_name", "Họ và tên", _("Full name of the beneficiary"), 26, True),
    Column("birth_date", "Ngày sinh", _("dd/mm/yyyy"), 12, True),
    Column("gender", "Giới tính", _("Nam or Nữ"), 9, True),
    Column("cccd", "Số CCCD", _("12 digits"), 15),
    Column("phone", "Số điện thoại", _("10-digit mobile number"), 14),
    Column("ethnicity", "Dân tộc", _("e.g. Kinh, Khmer, Chăm"), 10),
    Column("village", "Thôn/khóm/ấp", _("Name of a village of the commune"), 16),
    Column("address", "Địa chỉ", _("House number, street"), 22),
    Column("category", "Đối tượng", _("Name of the category, from the Categories sheet"), 40, True),
    Column("condition", "Điều kiện", _("A condition of the category, from the Categories sheet"), 30),
    Column("units", "Số người được nuôi", _("Children being raised (single parents)"), 10),
    Column("other_categories", "Đối tượng khác", _("Other categories, separated by ;"), 24),
    Column("decision_number", "Số quyết định", _("e.g. 123/QĐ-UBND"), 15),
    Column("decision_date", "Ngày quyết định", _("dd/mm/yyyy"), 12),
    Column("start_month", "Tháng bắt đầu hưởng", _("mm/yyyy; default: month of the decision"), 12),
    Column(
        "backdating_reason",
        "Lý do hưởng trước tháng quyết định",
        _("Only when the start month is before the month of the decision"),
        24,
    ),
    Column("cannot_travel", "Không đi lại được", _("x if yes"), 9),
    Column("no_phone", "Không có điện thoại", _("x if yes"), 9),
    Column("cannot_read_vietnamese", "Không đọc được tiếng Việt", _("x if yes"), 9),
    Column("frail", "Già yếu", _("x if yes"), 8),
    Column("rep_full_name", "Người đại diện - Họ tên", _("Guardian or authorised person"), 24),
    Column("rep_kind", "Người đại diện - Loại", _("Giám hộ or Ủy quyền"), 12),
    Column("rep_relationship", "Người đại diện - Quan hệ", _("e.g. Con, Cháu"), 12),
    Column("rep_birth_date", "Người đại diện - Ngày sinh", _("dd/mm/yyyy"), 12),
    Column("rep_gender", "Người đại diện - Giới tính", _("Nam or Nữ"), 9),
    Column("rep_cccd", "Người đại diện - Số CCCD", _("12 digits"), 15),
    Column("rep_phone", "Người đại diện - Số điện thoại", _("10-digit mobile number"), 14),
    Column("rep_document", "Người đại diện - Số giấy ủy quyền", _("Authorisation document"), 15),
    Column("rep_valid_from", "Người đại diện - Hiệu lực từ", _("dd/mm/yyyy"), 12),
    Column("rep_valid_to", "Người đại diện - Hiệu lực đến", _("dd/mm/yyyy"), 12),
    Column("rep_is_payee", "Người đại diện - Nhận tiền thay", _("x if the representative is paid"), 10),
]

BY_KEY = {c.key: c for c in COLUMNS}
# Headers commune offices write in their own lists for the template's columns (matched as
# `header_key` gives them: accent-free, lower case, without a trailing "(*)" or "(1)").
HEADER_ALIASES = {
    "ho ten": "full_name",
    "ho va ten doi tuong": "full_name",
    "ho ten doi tuong": "full_name",
    "ngay thang nam sinh": "birth_date",
    "ngay, thang, nam sinh": "birth_date",
    "ngay/thang/nam sinh": "birth_date",
    "gioi tinh (nam/nu)": "gender",
    "nam/nu": "gender",
    "so cccd/cmnd": "cccd",
    "so cmnd/cccd": "cccd",
    "cccd/cmnd": "cccd",
    "cmnd/cccd": "cccd",
    "cccd": "cccd",
    "so can cuoc": "cccd",
    "so can cuoc cong dan": "cccd",
    "so dinh danh ca nhan": "cccd",
    "so dinh danh": "cccd",
    "dien thoai": "phone",
    "so dt": "phone",
    "sdt": "phone",
    "thon": "village",
    "ap": "village",
    "khom": "village",
    "thon/ap": "village",
    "thon/to": "village",
    "ma doi tuong bao tro": "category",
}
# the headers of the earlier template, whose category columns took codes (still accepted)
OLD_HEADERS = {"Mã đối tượng": "category", "Mã đối tượng khác": "other_categories"}
HEADER_TO_KEY = (
    {search_key(c.header): c.key for c in COLUMNS}
    | {c.key: c.key for c in COLUMNS}
    | {search_key(h): k for h, k in OLD_HEADERS.items()}
) | HEADER_ALIASES
_HEADER_MARKS = re.compile(r"(?:\s*(?:\(\s*\d+\s*\)|\(\*\)|\*|:))+$")


def header_key(text: str) -> str | None:
    """The column key of a header cell as typed ("Họ và tên (*)", "SỐ CCCD", "Ngày sinh (2)"),
    or None if it is not one of ours."""
    key = search_key(text)
    return HEADER_TO_KEY.get(key) or HEADER_TO_KEY.get(_HEADER_MARKS.sub("", key).strip())


ERROR_HEADER = "Lỗi cần sửa"
WARNING_HEADER = "Cảnh báo"


def header_label(field: str) -> str:
    """The column a service field error belongs to, for the row report."""
    mapping = {
        "commune": "village",
        "categories": "category",
        "start_month": "start_month",
        "backdating_reason": "backdating_reason",
        "representatives": "rep_full_name",
    }
    if field.startswith("representatives."):
        sub = field.split(".", 2)[2]
        key = {
            "full_name": "rep_full_name",
            "birth_date": "rep_birth_date",
            "gender": "rep_gender",
            "cccd": "rep_cccd",
            "phone": "rep_phone",
            "kind": "rep_kind",
            "valid_to": "rep_valid_to",
        }.get(sub, "rep_full_name")
    else:
        key = mapping.get(field, field)
    column = BY_KEY.get(key)
    return column.header if column else field
