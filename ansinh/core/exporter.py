"""Exporter base: a row iterator becomes an XLSX (openpyxl write-only, bounded memory) or CSV
file (pretix's ListExporter.iterate_list shape).

Every sheet is ready to print: A4 landscape, fitted to the page width, the header row repeated
on each printed page, page numbers in the footer. A list sheet opens with a title block (the
unit, the title, the date and the filter) above its header, as lists on paper do; a sheet that
is read back in (the import template) has none."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
ERROR_FILL = PatternFill("solid", fgColor="F8D7DA")
A4 = 9  # the paperSize code of A4 in SpreadsheetML


@dataclass(frozen=True)
class TitleBlock:
    """The lines above a list: the unit that issues it ("UBND PHƯỜNG CHÂU PHÚ A"), the title of
    the list, then lines such as the date and the filter."""

    unit: str
    title: str
    lines: Sequence[str] = ()

    def dated(self, day) -> TitleBlock:
        """The block with the date the list was made as its last line (in a file; on paper the
        date stands under the national motto)."""
        return TitleBlock(self.unit, self.title, [*self.lines, f"Ngày lập: {day:%d/%m/%Y}"])

    @property
    def height(self) -> int:
        """Rows the block takes, with the blank row under it."""
        return (1 if self.unit else 0) + 1 + len(self.lines) + 1


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    widths: Sequence[int] = ()
    heading: TitleBlock | None = None
    landscape: bool = True


def header_cells(ws, headers: Sequence[str]) -> list:
    cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    return cells


def print_setup(ws, *, header_row: int, landscape: bool = True) -> None:
    """A4, landscape (or portrait), as wide as the page and as many pages long as it takes, the
    header row repeated on every page, "Trang 1/3" in the footer, the panes frozen under the
    header. Set before the first row is written (write-only sheets)."""
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.freeze_panes = f"A{header_row + 1}"


def title_rows(ws, heading: TitleBlock) -> list[list]:
    def cell(value, font):
        c = WriteOnlyCell(ws, value=value)
        c.font = font
        return c

    rows = []
    if heading.unit:
        rows.append([cell(heading.unit, Font(bold=True))])
    rows.append([cell(heading.title, Font(bold=True, size=14))])
    rows.extend([cell(line, Font(italic=True))] for line in heading.lines)
    rows.append([])
    return rows


def write_sheet(wb: Workbook, sheet: Sheet) -> int:
    """Append `sheet` to the write-only workbook `wb`; the number of data rows written."""
    ws = wb.create_sheet(sheet.title[:31])
    for i, width in enumerate(sheet.widths):
        ws.column_dimensions[_letter(i)].width = width
    header_row = 1 + (sheet.heading.height if sheet.heading else 0)
    print_setup(ws, header_row=header_row, landscape=sheet.landscape)
    if sheet.heading:
        for line in title_rows(ws, sheet.heading):
            ws.append(line)
    ws.append(header_cells(ws, sheet.headers))
    written = 0
    for row in sheet.rows:
        ws.append(list(row))
        written += 1
    return written


def write_workbook(out: IO[bytes], sheets: Iterable[Sheet]) -> None:
    """Write the sheets, in order, into `out` (a file, e.g. a temporary one): openpyxl's
    write-only mode keeps the rows in a temporary file of its own until the zip is written, so
    memory stays bounded whatever the number of rows. `sheets` may be a generator: a summary
    sheet made from what the rows before it counted comes after them."""
    wb = Workbook(write_only=True)
    for sheet in sheets:
        write_sheet(wb, sheet)
    wb.save(out)


def write_xlsx(
    out: IO[bytes],
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] = (),
    heading: TitleBlock | None = None,
) -> None:
    write_workbook(out, [Sheet(title=title, headers=headers, rows=rows, widths=widths, heading=heading)])


def to_xlsx(
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] = (),
    heading: TitleBlock | None = None,
) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, title=title, headers=headers, rows=rows, widths=widths, heading=heading)
    return out.getvalue()


def to_csv(*, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def unit_name(area) -> str:
    """The unit a list of `area` is issued by, as Vietnamese documents write it at the top left:
    the People's Committee of the commune (of a village's commune), district or province,
    "UBND PHƯỜNG CHÂU PHÚ A"; empty for the whole country."""
    if area is None:
        return ""
    if area.level == "village" and area.parent_id:
        area = area.parent
    return f"UBND {area.full_name}".upper()
