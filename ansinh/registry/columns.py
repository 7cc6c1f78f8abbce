"""The columns of the beneficiary import template and export, with their Vietnamese headers.
Headers are matched accent- and case-insensitively, so a retyped header still works."""

from __future__ import annotations

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
    Column("category", "Mã đối tượng", _("Category code, e.g. D20.5.6"), 12, True),
    Column("condition", "Điều kiện", _("e.g. severe:adult (see the Categories sheet)"), 22),
    Column("units", "Số người được nuôi", _("Children being raised (single parents)"), 10),
    Column("other_categories", "Mã đối tượng khác", _("Other category codes, separated by ;"), 14),
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
HEADER_TO_KEY = {search_key(c.header): c.key for c in COLUMNS} | {c.key: c.key for c in COLUMNS}
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
