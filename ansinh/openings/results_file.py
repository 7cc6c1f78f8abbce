"""The provider's results file (XLSX or CSV): one row per request sent, with the request code,
the result (opened / rejected), the account number, the date it was opened, the holder name as
the bank shows it and the reason for a rejection. Headers are matched accent- and
case-insensitively; a title block above the header row is skipped (as in the registry import)."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from ansinh.core.text import search_key
from ansinh.registry.importing import _csv_rows, _date, _text, _xlsx_rows

from .models import OpeningRequest

MAX_ROWS = 50_000
HEADER_SCAN_ROWS = 15

# The headers the sandbox writes and the provider is asked to use.
HEADERS = {
    "code": "Mã yêu cầu",
    "result": "Kết quả",
    "number": "Số tài khoản",
    "opened_on": "Ngày mở",
    "holder_name": "Tên chủ tài khoản",
    "reason": "Lý do từ chối",
}
COLUMN_LABELS = HEADERS

# Other spellings of each header (accent-free, lower case).
ALIASES = {
    "code": {"ma yeu cau", "ma yc", "request code", "code"},
    "result": {"ket qua", "result", "trang thai"},
    "number": {"so tai khoan", "so tk", "account number", "account"},
    "opened_on": {"ngay mo", "ngay mo tai khoan", "ngay mo tk", "opened on", "opened date"},
    "holder_name": {"ten chu tai khoan", "chu tai khoan", "ho va ten chu tai khoan", "ten tai khoan", "holder name"},
    "reason": {"ly do tu choi", "ly do", "reject reason", "reason", "ghi chu"},
}
_BY_ALIAS = {alias: key for key, aliases in ALIASES.items() for alias in aliases}
REQUIRED = ("code", "result")

OPENED_WORDS = {"da mo", "mo", "mo thanh cong", "thanh cong", "opened", "ok", "x"}
REJECTED_WORDS = {"tu choi", "khong mo duoc", "khong thanh cong", "that bai", "rejected", "loi"}


class FileError(Exception):
    """The file as a whole cannot be read."""


@dataclass
class ResultRow:
    line: int  # the spreadsheet row number
    code: str
    opened: bool = False
    account_number: str = ""
    opened_on: dt.date | None = None
    holder_name: str = ""
    reason: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)

    @property
    def request_pk(self) -> int | None:
        return OpeningRequest.pk_of(self.code)


def _header_key(text: str) -> str | None:
    return _BY_ALIAS.get(search_key(text).rstrip(" :*"))


def read(content: bytes, file_name: str) -> list[ResultRow]:
    name = (file_name or "").lower()
    suffix = ".csv" if name.endswith(".csv") else ".xlsx"
    if not name.endswith((".csv", ".xlsx", ".xlsm", ".xls", ".ods")):
        raise FileError(_("Upload the provider's results as an Excel file (.xlsx) or a CSV file."))
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        Path(tmp.name).write_bytes(content)
        raw = _csv_rows(tmp.name) if suffix == ".csv" else _xlsx_rows(tmp.name)
        try:
            return _rows(raw)
        except Exception as exc:  # noqa: BLE001 - calamine and csv raise several error types
            if isinstance(exc, FileError):
                raise
            raise FileError(_("The file could not be read: %(error)s") % {"error": exc}) from exc


def _rows(raw) -> list[ResultRow]:
    keys: list[str | None] | None = None
    header_number = 0
    for number in range(1, HEADER_SCAN_ROWS + 1):
        try:
            cells = next(raw)
        except StopIteration:
            break
        found = [_header_key(_text(c)) for c in cells]
        if set(REQUIRED) <= set(found):
            keys, header_number = found, number
            break
    if keys is None:
        raise FileError(
            _("No header row: the file needs the columns %(columns)s.")
            % {"columns": ", ".join(HEADERS[k] for k in REQUIRED)}
        )
    out: list[ResultRow] = []
    for number, cells in enumerate(raw, start=header_number + 1):
        if number - header_number > MAX_ROWS:
            raise FileError(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS})
        values = {k: v for k, v in zip(keys, cells, strict=False) if k}
        if all(_text(v) == "" for v in values.values()):
            continue
        out.append(_row(number, values))
    return out


def _row(number: int, values: dict) -> ResultRow:
    row = ResultRow(line=number, code=_text(values.get("code")))
    if not row.code:
        row.problems.append((HEADERS["code"], _("The request code is missing.")))
    elif row.request_pk is None:
        row.problems.append((HEADERS["code"], _("This is not a request code (e.g. MTK0000123).")))
    result = search_key(_text(values.get("result")))
    row.holder_name = _text(values.get("holder_name"))
    row.reason = _text(values.get("reason"))
    row.account_number = "".join(_text(values.get("number")).split())
    if result in OPENED_WORDS:
        row.opened = True
        if not row.account_number:
            row.problems.append((HEADERS["number"], _("An opened account needs its account number.")))
        if not row.holder_name:
            row.problems.append(
                (HEADERS["holder_name"], _("An opened account needs the holder name as the bank shows it."))
            )
        try:
            row.opened_on = _date(values.get("opened_on"))
        except ValueError:
            row.problems.append((HEADERS["opened_on"], _("The opening date is not a date (dd/mm/yyyy).")))
        if row.opened_on is None and not any(c == HEADERS["opened_on"] for c, _m in row.problems):
            row.problems.append((HEADERS["opened_on"], _("An opened account needs the date it was opened.")))
    elif result in REJECTED_WORDS:
        if not row.reason:
            row.problems.append((HEADERS["reason"], _("A rejection needs its reason.")))
    else:
        row.problems.append((HEADERS["result"], _('The result is "Đã mở" or "Từ chối".')))
    return row
