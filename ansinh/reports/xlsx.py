"""A statutory table as an XLSX sheet laid out like the source: "BIỂU TỔNG HỢP", the title, the
"(Tính đến ngày …)" line and "Biểu 0x" above; two header rows with the merged cells of the
source ("Tháng" over the month columns; in Biểu 03 "Tháng 7" over "Số đối tượng" and "Số tiền
(triệu đồng)"); the column-numbering row; one row per unit; the total row; the footnotes.

Cells hold numbers (counts as integers, rates as percentages with two decimals, amounts in
million đồng with three decimals as exact decimals), with number formats that a Vietnamese
locale shows as 1.598 / 16,52 / 86,220. The total row holds the computed totals as values (not
=SUM formulas), the same figures as the HTML and the JSON, so that every reader (and viewers
that do not recalculate) sees them."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from . import numbers
from .tables import Column, Row, Table

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
FONT = "Times New Roman"
FORMATS = {"int": numbers.XLSX_INT, "rate": numbers.XLSX_RATE, "million": numbers.XLSX_MILLION}

# the first row of the table's header (rows 1–4: heading, title, date line, "Biểu 0x")
HEADER_ROW = 6


def _value(column: Column, row: Row):
    if column.kind == "stt":
        return int(row.stt) if row.stt.isdigit() else row.stt
    if column.kind == "name":
        return row.name
    value = row.values.get(column.key, "")
    if column.kind == "int":
        return int(value)
    if column.kind == "rate":
        return value
    if column.kind == "million":
        return numbers.million(int(value))
    return value or None


def _widths(table: Table) -> list[int]:
    out = []
    for c in table.columns:
        out.append({"stt": 6, "name": 24, "note": 28, "million": 13, "rate": 9}.get(c.kind, 12))
    return out


def write_sheet(ws, table: Table) -> None:
    width = table.width
    last_col = get_column_letter(width)
    ws.title = table.label
    for i, w in enumerate(_widths(table), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    for r, text, font in (
        (1, table.heading, Font(name=FONT, bold=True, size=13)),
        (2, table.title, Font(name=FONT, bold=True, size=12)),
        (3, table.date_line, Font(name=FONT, italic=True, size=11)),
    ):
        ws.merge_cells(f"A{r}:{last_col}{r}")
        cell = ws.cell(row=r, column=1, value=text)
        cell.font, cell.alignment = font, CENTER
    label = ws.cell(row=4, column=width, value=table.label)
    label.font, label.alignment = Font(name=FONT, bold=True), Alignment(horizontal="right")

    top = HEADER_ROW
    for c in range(1, width + 1):  # borders of every header cell, merged or not
        for r in (top, top + 1):
            ws.cell(row=r, column=c).border = BOX
    for h in table.header:
        row, col = top + h.row, 1 + h.col
        cell = ws.cell(row=row, column=col, value=h.text)
        cell.font, cell.alignment = Font(name=FONT, bold=True, size=10), CENTER
        if h.rowspan > 1 or h.colspan > 1:
            ws.merge_cells(start_row=row, start_column=col, end_row=row + h.rowspan - 1, end_column=col + h.colspan - 1)
    ws.row_dimensions[top].height = 45
    numbering = top + 2
    for i, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=numbering, column=i, value=int(column.number) if column.number.isdigit() else column.number)
        cell.font, cell.alignment, cell.border = Font(name=FONT, italic=True, size=10), CENTER, BOX

    r = numbering + 1
    for line, bold in [*((x, False) for x in table.rows), (table.total, True)]:
        for i, column in enumerate(table.columns, start=1):
            cell = ws.cell(row=r, column=i, value=_value(column, line))
            cell.border = BOX
            cell.font = Font(name=FONT, bold=bold, size=11)
            if column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
                cell.alignment = Alignment(horizontal="right", vertical="center")
            elif column.kind == "stt":
                cell.alignment = Alignment(horizontal="center", vertical="center")
            else:
                cell.alignment = Alignment(vertical="center", wrap_text=True)
        r += 1
    for note in table.footnotes:
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        cell = ws.cell(row=r, column=1, value=note)
        cell.font, cell.alignment = Font(name=FONT, italic=True, size=10), Alignment(wrap_text=True)
    ws.freeze_panes = ws.cell(row=numbering + 1, column=3)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{top}:{numbering}"


def workbook_bytes(table: Table) -> bytes:
    wb = Workbook()
    write_sheet(wb.active, table)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(table: Table, ext: str) -> str:
    code = table.area.code or str(table.area.pk)
    return f"{table.bieu}_{code}_{table.months[0]:%Y-%m}_{table.months[-1]:%Y-%m}.{ext}"
