"""The provider's own statement of the funded account as a spreadsheet (XLSX), for a provider that
sends no camt.053. Read with python-calamine (first sheet), the same way as the provider's results
list (`disbursement.formats.provider_xlsx`): labels and column names are matched accent-free and
case-free, so a title or a logo above them does no harm.

Layout (docs/reconciliation.md, "The XLSX statement"):

- above the table, label cells in column A with the value in column B:
  "Số tài khoản" (the funded account), "Từ ngày", "Đến ngày" (dates: a date cell or dd/mm/yyyy),
  "Số dư đầu kỳ", "Số dư cuối kỳ" (whole đồng; optional, checked when both are there);
- the header row of the table (within the first 30 rows), columns in any order:
  "Ngày hạch toán" (required), "Ghi nợ" (money out) and "Ghi có" (money in) — exactly one of the
  two filled on a row —, "Mã tham chiếu" (the end-to-end id), "Hoàn trả" (any mark: the entry
  returns the transfer named in "Mã tham chiếu"), "Lý do hoàn trả", "Số tham chiếu ngân hàng",
  "Diễn giải";
- one row per entry below it; empty rows are skipped.

A row that cannot be read stops the import with its row number (a statement is all or nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from ansinh.core.text import search_key
from ansinh.disbursement.formats.errors import FormatError
from ansinh.disbursement.formats.provider_xlsx import _amount, _rows, _text

from .camt053 import Entry, Header

HEADER_SCAN_ROWS = 30

LABELS = {
    "so tai khoan": "account",
    "tai khoan": "account",
    "tu ngay": "from",
    "den ngay": "to",
    "so du dau ky": "opening",
    "so du cuoi ky": "closing",
}
COLUMNS = {
    "ngay hach toan": "date",
    "ngay giao dich": "date",
    "ghi no": "debit",
    "ghi co": "credit",
    "ma tham chieu": "e2e",
    "ma giao dich": "e2e",
    "hoan tra": "return",
    "ly do hoan tra": "reason",
    "so tham chieu ngan hang": "reference",
    "so tham chieu": "reference",
    "dien giai": "details",
    "noi dung": "details",
}

# the column names the user guide and the template use
HEADERS = [
    "Ngày hạch toán",
    "Ghi nợ",
    "Ghi có",
    "Mã tham chiếu",
    "Hoàn trả",
    "Lý do hoàn trả",
    "Số tham chiếu ngân hàng",
    "Diễn giải",
]


def _key(value: Any) -> str:
    return search_key(_text(value)).rstrip(" :*")


def _date(value: Any, row: int) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            return parse(text[:10])
        except ValueError:
            continue
    raise FormatError(_("Row %(row)s: “%(value)s” is not a date.") % {"row": row, "value": text}, row=row)


def _money(value: Any, row: int) -> int | None:
    try:
        return _amount(value)
    except ValueError:
        raise FormatError(
            _("Row %(row)s: “%(value)s” is not a whole number of đồng.") % {"row": row, "value": _text(value)},
            row=row,
        ) from None


class Statement:
    """An XLSX statement read like a camt.053 (`header`, then `entries()`)."""

    header: Header

    def __init__(self, source) -> None:
        self._rows = _rows(source)
        values: dict[str, Any] = {}
        self._columns: dict[str, int] = {}
        for number, cells in self._rows:
            if number > HEADER_SCAN_ROWS:
                break
            keys = [_key(c) for c in cells]
            found = {COLUMNS[k]: i for i, k in enumerate(keys) if k in COLUMNS}
            if "date" in found and ("debit" in found or "credit" in found):
                self._columns = found
                break
            if keys and keys[0] in LABELS and len(cells) > 1:
                values[LABELS[keys[0]]] = (cells[1], number)
        if not self._columns:
            raise FormatError(_("The statement has no table header with “Ngày hạch toán”, “Ghi nợ” and “Ghi có”."))
        if "account" not in values or not _text(values["account"][0]):
            raise FormatError(_("The statement does not say its account (“Số tài khoản”)."))

        def dated(name):
            return _date(*values[name]) if name in values else None

        def money(name):
            return _money(*values[name]) if name in values else None

        self.header = Header(
            message_id="",
            created_at="",
            statement_id="",
            account_number=_text(values["account"][0]),
            from_date=dated("from"),
            to_date=dated("to"),
            opening_balance=money("opening"),
            closing_balance=money("closing"),
        )

    def _cell(self, cells: list, name: str) -> Any:
        index = self._columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def entries(self) -> Iterator[Entry]:
        for number, cells in self._rows:
            if not any(_text(c) for c in cells):
                continue
            debit = _money(self._cell(cells, "debit"), number)
            credit = _money(self._cell(cells, "credit"), number)
            if (debit is None) == (credit is None):
                raise FormatError(
                    _("Row %(row)s: fill exactly one of “Ghi nợ” and “Ghi có”.") % {"row": number}, row=number
                )
            is_return = bool(_text(self._cell(cells, "return")))
            yield Entry(
                line=number,
                credit=credit is not None,
                amount=credit if credit is not None else debit,  # type: ignore[arg-type]
                booking_date=_date(self._cell(cells, "date"), number),
                reference=_text(self._cell(cells, "reference"))[:35],
                end_to_end_id=_text(self._cell(cells, "e2e"))[:35],
                remittance=_text(self._cell(cells, "details"))[:140],
                is_return=is_return,
                return_reason=_text(self._cell(cells, "reason"))[:8] if is_return else "",
            )

    def close(self) -> None:
        self._rows.close()  # type: ignore[attr-defined]
