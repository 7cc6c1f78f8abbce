"""Exporter base: a row iterator becomes an XLSX (openpyxl write-only, bounded memory) or CSV
file (pretix's ListExporter.iterate_list shape)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
ERROR_FILL = PatternFill("solid", fgColor="F8D7DA")


def header_cells(ws, headers: Sequence[str]) -> list:
    cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    return cells


def write_xlsx(
    out: IO[bytes], *, title: str, headers: Sequence[str], rows: Iterable[Sequence], widths: Sequence[int] = ()
) -> None:
    """Write the sheet into `out` (a file, e.g. a temporary one): openpyxl's write-only mode
    keeps the rows in a temporary file of its own until the zip is written, so memory stays
    bounded whatever the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, width in enumerate(widths):
        ws.column_dimensions[_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(header_cells(ws, headers))
    for row in rows:
        ws.append(list(row))
    wb.save(out)


def to_xlsx(*, title: str, headers: Sequence[str], rows: Iterable[Sequence], widths: Sequence[int] = ()) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, title=title, headers=headers, rows=rows, widths=widths)
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
