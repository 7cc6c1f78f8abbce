"""The one write of the statutory reports: a download (XLSX, JSON, printable page through the
API or the CLI) is logged as an export ("reports.bieu.exported": which table, area, tree,
period, as-of date and format). The figures are aggregates, but the log says who took which
table away, as for every other export."""

from __future__ import annotations

from django.db import transaction

from ansinh.audit.services import record

from .tables import Table

ACTION = "reports.bieu.exported"


def record_export(*, actor, table: Table, fmt: str) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action=ACTION,
            area=table.area,
            after={
                "bieu": table.bieu,
                "label": table.label,
                "area": table.area.code,
                "tree": table.tree,
                "from": table.months[0].strftime("%Y-%m"),
                "to": table.months[-1].strftime("%Y-%m"),
                "as_of": table.as_of.isoformat(),
                "format": fmt,
                "rows": len(table.rows),
            },
        )
