"""The provider's spreadsheets, for a provider that takes no ISO 20022 file: the account list the
system sends (one row per transfer, with the full account number the provider must credit), and
the results file the provider sends back (one row per transfer: its code, the result, the
reason of a rejection).

The account list is laid out like the other administrative lists (ansinh.core.exporter: the
unit and title above the header, A4 landscape, the header repeated on each page, a total row,
signature lines) and written with openpyxl's write-only workbook (bounded memory). The results
file is read with python-calamine; its header row is found anywhere in the first 20 rows by an
accent-free match of the column names, so the provider may put a title above it; a row that
cannot be read is reported with its row number and the others are still returned."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from ansinh.core.exporter import TitleBlock, header_cells, print_setup, title_rows
from ansinh.core.money import format_vnd
from ansinh.core.text import search_key

from .errors import FormatError
from .pain002 import STATUS_MAP, TxStatus

AMOUNT_FORMAT = "#,##0"
TEXT_FORMAT = "@"
WIDTHS = [6, 22, 28, 22, 20, 22, 16, 40]
HEADER_SCAN_ROWS = 20
MAX_AMOUNT = 10**18 - 1

Source = str | os.PathLike | IO[bytes] | bytes


@dataclass(frozen=True)
class AccountRow:
    end_to_end_id: str
    payee: str
    commune: str
    institution: str
    account_number: str
    amount: int
    remittance: str


# ------------------------------------------------------------------------------- account list


def _L(text: str) -> str:  # noqa: N802 - the labels of the provider's lists, in their own context
    return pgettext("provider list", text)


def account_headers() -> list[str]:
    return [
        _L("No."),
        _L("Transaction code"),
        _L("Payee"),
        _L("Commune/ward"),
        _L("Bank or wallet"),
        _L("Account number"),
        _L("Amount (đồng)"),
        _L("Transfer content"),
    ]


def _cell(ws: Any, value: Any, *, bold: bool = False, italic: bool = False, number_format: str = "") -> Any:
    c = WriteOnlyCell(ws, value=value)
    if bold or italic:
        c.font = Font(bold=bold, italic=italic)
    if number_format:
        c.number_format = number_format
        if number_format == AMOUNT_FORMAT:
            c.alignment = Alignment(horizontal="right")
    return c


def _heading(title_lines: Sequence[str]) -> TitleBlock | None:
    """The caller's lines as a title block: the unit, the title, then the other lines (one line:
    the title alone)."""
    lines = [line for line in title_lines if line]
    if not lines:
        return None
    if len(lines) == 1:
        return TitleBlock(unit="", title=lines[0])
    return TitleBlock(unit=lines[0], title=lines[1], lines=lines[2:])


def write_account_list(
    out: IO[bytes], *, title_lines: list[str], rows: Iterable[AccountRow], count: int, total: int
) -> None:
    """The account list into `out` (XLSX, streamed): the title block, the header, one row per
    transfer, a total row, the count and total in words, signature lines. ValueError (the caller
    discards the file) when the rows do not add up to `count` and `total`."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_L("Transfer list")[:31])
    for i, width in enumerate(WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    heading = _heading(title_lines)
    print_setup(ws, header_row=1 + (heading.height if heading else 0))
    if heading:
        for line in title_rows(ws, heading):
            ws.append(line)
    ws.append(header_cells(ws, account_headers()))
    written = written_total = 0
    for row in rows:
        written += 1
        written_total += row.amount
        ws.append(
            [
                written,
                _cell(ws, row.end_to_end_id, number_format=TEXT_FORMAT),
                row.payee,
                row.commune,
                row.institution,
                _cell(ws, "".join(row.account_number.split()), number_format=TEXT_FORMAT),
                _cell(ws, row.amount, number_format=AMOUNT_FORMAT),
                row.remittance,
            ]
        )
    blank = ["", "", "", ""]
    ws.append(
        [
            "",
            _cell(ws, _L("Total"), bold=True),
            *blank,
            _cell(ws, written_total, bold=True, number_format=AMOUNT_FORMAT),
        ]
    )
    ws.append([])
    summary = _L("Total: %(count)s transfers, %(amount)s") % {
        "count": f"{written:,}".replace(",", "."),
        "amount": format_vnd(written_total),
    }
    ws.append(["", _cell(ws, summary, italic=True)])
    ws.append([])
    ws.append(["", _cell(ws, _L("Prepared by"), bold=True), "", "", _cell(ws, _L("Head of the unit"), bold=True)])
    ws.append(
        [
            "",
            _cell(ws, _L("(Signature, full name)"), italic=True),
            "",
            "",
            _cell(ws, _L("(Signature, full name, seal)"), italic=True),
        ]
    )
    wb.save(out)
    if (written, written_total) != (count, total):
        raise ValueError(
            _(
                "The file holds %(written)d transfers totalling %(written_total)d đồng, but the batch has "
                "%(count)d transfers totalling %(total)d đồng."
            )
            % {"written": written, "written_total": written_total, "count": count, "total": total}
        )


# ------------------------------------------------------------------------------- results file

# The headers the results file has (the template writes them; the provider is asked to keep them).
RESULT_HEADERS: tuple[str, ...] = ("Mã giao dịch", "Kết quả", "Mã lý do", "Lý do", "Số tiền (đồng)")
_KEYS = ("end_to_end_id", "result", "reason_code", "reason", "amount")
# Other spellings of each header (accent-free, lower case).
ALIASES: dict[str, set[str]] = {
    "end_to_end_id": {"ma giao dich", "ma gd", "ma tham chieu", "end to end id", "endtoendid", "end-to-end id"},
    "result": {"ket qua", "trang thai", "ket qua chuyen tien", "result", "status"},
    "reason_code": {"ma ly do", "ma loi", "reason code"},
    "reason": {"ly do", "ly do tu choi", "ghi chu", "mo ta", "reason"},
    "amount": {"so tien (dong)", "so tien", "so tien (vnd)", "so tien (d)", "amount"},
}
for _key, _label in zip(_KEYS, RESULT_HEADERS, strict=True):
    ALIASES[_key].add(search_key(_label))
_BY_ALIAS = {alias: key for key, aliases in ALIASES.items() for alias in aliases}
REQUIRED = ("end_to_end_id", "result")

# Result words (accent-free, lower case) -> bank status.
RESULT_WORDS: dict[str, str] = {
    "thanh cong": "ACSC",
    "da ghi co": "ACSC",
    "da chuyen": "ACSC",
    "that bai": "RJCT",
    "tu choi": "RJCT",
    "khong thanh cong": "RJCT",
    "dang xu ly": "PDNG",
    "cho xu ly": "PDNG",
}
# The word the template writes for a status.
RESULT_LABELS = {"credited": "Thành công", "rejected": "Từ chối", "accepted": "Đang xử lý"}


def _header_key(value: Any) -> str | None:
    return _BY_ALIAS.get(search_key(_text(value)).rstrip(" :*"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{3})+")


def _amount(value: Any) -> int | None:
    """Whole đồng from a cell: 300000, 300000.0, "300.000", "300,000", "300.000 đ"; None when
    empty; ValueError when it is not a whole non-negative number of đồng."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        number = Decimal(int(value))
    else:
        text = re.sub(r"(?i)\s|đồng|đ|vnd|₫", "", str(value))
        if _GROUPED.fullmatch(text):
            text = text.replace(".", "").replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(value) from None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= MAX_AMOUNT:
        raise ValueError(value)
    return int(number)


def _status(value: Any) -> str | None:
    text = _text(value)
    if text.upper() in STATUS_MAP:
        return text.upper()
    return RESULT_WORDS.get(search_key(text).rstrip(" .!"))


def _rows(source: Source) -> Iterator[tuple[int, list]]:
    """(spreadsheet row number, cells) of the first sheet."""
    from python_calamine import CalamineWorkbook

    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(bytes(source))
    try:
        workbook = CalamineWorkbook.from_object(source)
        sheet = workbook.get_sheet_by_index(0)
        first_row = sheet.start[0] if sheet.start else 0
        rows = sheet.iter_rows()
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise FormatError(_("The file could not be read as an Excel workbook.")) from exc
    for index, cells in enumerate(rows):
        yield first_row + index + 1, cells


def read_results(source: Source) -> tuple[list[TxStatus], list[FormatError]]:
    """The statuses of a results file (a path, a binary file or bytes) and the errors of the rows
    that could not be read (each with its `row`). A file without the header row, or that is not
    a workbook, raises FormatError."""
    rows = _rows(source)
    keys: list[str | None] | None = None
    for number, cells in rows:
        found = [_header_key(c) for c in cells]
        if set(REQUIRED) <= set(found):
            keys = found
            break
        if number >= HEADER_SCAN_ROWS:
            break
    if keys is None:
        raise FormatError(
            _("No header row in the first %(n)d rows: the results file needs the columns %(columns)s.")
            % {"n": HEADER_SCAN_ROWS, "columns": ", ".join(f"“{RESULT_HEADERS[i]}”" for i in (0, 1))}
        )
    statuses: list[TxStatus] = []
    errors: list[FormatError] = []
    for number, cells in rows:
        values: dict[str, Any] = {}
        for key, value in zip(keys, cells, strict=False):
            if key and key not in values:
                values[key] = value
        if all(_text(v) == "" for v in values.values()):
            continue
        status, problem = _result_row(number, values)
        if problem:
            errors.append(FormatError(problem, row=number))
        elif status is not None:
            statuses.append(status)
    return statuses, errors


_FOOTER_WORDS = ("tong", "cong", "nguoi lap", "thu truong", "ke toan", "(ky")


def _result_row(number: int, values: dict[str, Any]) -> tuple[TxStatus | None, str]:
    end_to_end_id = _text(values.get("end_to_end_id"))
    result = _text(values.get("result"))
    if not result and (not end_to_end_id or search_key(end_to_end_id).startswith(_FOOTER_WORDS)):
        return None, ""  # a total or signature line under the rows
    if not end_to_end_id:
        return None, _("Row %(row)d: the transaction code is missing.") % {"row": number}
    status = _status(result)
    if status is None:
        if not result:
            return None, _("Row %(row)d: the result of transaction %(code)s is missing.") % {
                "row": number,
                "code": end_to_end_id,
            }
        return None, _(
            "Row %(row)d: the result “%(value)s” is not one of: Thành công, Đã ghi có, Thất bại, Từ chối, Đang xử lý."
        ) % {"row": number, "value": result}
    try:
        amount = _amount(values.get("amount"))
    except ValueError:
        return None, _("Row %(row)d: the amount “%(value)s” is not a whole number of đồng.") % {
            "row": number,
            "value": _text(values.get("amount")),
        }
    return (
        TxStatus(
            end_to_end_id=end_to_end_id,
            status=status,
            reason_code=_text(values.get("reason_code")).upper(),
            amount=amount,
            additional=_text(values.get("reason")),
        ),
        "",
    )


def write_results_template(
    out: IO[bytes], rows: Iterable[TxStatus | AccountRow], *, title_lines: Sequence[str] = ()
) -> None:
    """A results file in the layout `read_results` reads: for an AccountRow the code and amount
    with the result left for the provider to fill in; for a TxStatus the result in words, the
    reason code and its explanation (the sandbox's answers, the tests)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_L("Transfer results")[:31])
    for i, width in enumerate([22, 14, 10, 48, 16]):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    heading = _heading(list(title_lines))
    print_setup(ws, header_row=1 + (heading.height if heading else 0), landscape=False)
    if heading:
        for line in title_rows(ws, heading):
            ws.append(line)
    ws.append(header_cells(ws, list(RESULT_HEADERS)))
    for row in rows:
        if isinstance(row, AccountRow):
            ws.append(
                [_cell(ws, row.end_to_end_id, number_format=TEXT_FORMAT), "", "", "", _amount_cell(ws, row.amount)]
            )
            continue
        label = RESULT_LABELS.get(STATUS_MAP.get(row.status, ""), row.status)
        ws.append(
            [
                _cell(ws, row.end_to_end_id, number_format=TEXT_FORMAT),
                label,
                row.reason_code,
                row.additional,
                _amount_cell(ws, row.amount),
            ]
        )
    wb.save(out)


def _amount_cell(ws: Any, amount: int | None) -> Any:
    return "" if amount is None else _cell(ws, amount, number_format=AMOUNT_FORMAT)
