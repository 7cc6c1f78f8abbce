"""What the payroll's XLSX documents (funding request, budget estimate) share."""

from __future__ import annotations

from django.utils.translation import gettext as _


def signature_block(ws, row: int, columns: tuple[int, int], span: int) -> None:
    """The signatures under an official document: "Prepared by" and "Head of the unit", each
    over `span` merged columns starting at `columns`, with its hint in italics below."""
    from openpyxl.styles import Alignment, Font

    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    blocks = (
        (_("Prepared by"), _("(Signature, full name)")),
        (_("Head of the unit"), _("(Signature, full name, seal)")),
    )
    for col, (title, hint) in zip(columns, blocks, strict=True):
        last = col + span - 1
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=last)
        ws.cell(row=row, column=col, value=str(title).upper()).font = Font(bold=True)
        ws.cell(row=row, column=col).alignment = center
        ws.merge_cells(start_row=row + 1, start_column=col, end_row=row + 1, end_column=last)
        ws.cell(row=row + 1, column=col, value=hint).font = Font(italic=True)
        ws.cell(row=row + 1, column=col).alignment = center
