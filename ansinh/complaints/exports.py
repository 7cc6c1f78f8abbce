"""The complaint register as XLSX (sổ theo dõi khiếu nại, phản ánh): one row a complaint of the
filtered register, then a sheet of counts per commune. CCCDs masked, phones masked unless the
user may see contact data there; the content and the answer are in full (the register is for
those who handle and follow complaints). Logged."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record
from ansinh.core.exporter import Sheet, TitleBlock, write_workbook
from ansinh.core.masking import mask_number
from ansinh.core.text import phone_display
from ansinh.registry.privacy import contact_visible, mask_phone

from . import queries
from .models import Channel, Kind, RoutedTo, State, Topic


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else ""


def export_register(*, actor, qs, filters: dict):
    """A temporary file holding the XLSX of `qs` (already scoped and filtered)."""
    today = timezone.localdate()
    limit = getattr(settings, "ANSINH_EXPORT_MAX_ROWS", 20000)
    rows_qs = qs.select_related("commune", "assignee").order_by("received_on", "id")[:limit]
    contact = contact_visible(actor)
    written = {"rows": 0}

    def rows():
        for c in rows_qs.iterator(chunk_size=1000):
            written["rows"] += 1
            phone = phone_display(c.phone) if contact(c.area_path) else mask_phone(c.phone)
            yield [
                c.reference,
                c.received_on.strftime("%d/%m/%Y"),
                _label(Channel, c.channel),
                _label(Kind, c.kind),
                _label(Topic, c.topic),
                c.commune.name,
                c.name,
                phone,
                mask_number(c.cccd),
                c.text,
                _label(RoutedTo, c.routed_to),
                c.assignee.get_full_name() if c.assignee_id else "",
                c.due_on.strftime("%d/%m/%Y"),
                _label(State, c.state),
                _("Yes") if c.is_overdue(today) else "",
                c.closed_at.astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y") if c.closed_at else "",
                c.resolution,
            ]

    def count_rows():
        summary = queries.counts(qs, today)
        for entry in summary["communes"]:
            yield [
                entry["commune"],
                entry["total"],
                entry["open"],
                entry["overdue"],
                *[entry["states"].get(s, 0) for s in State.values],
            ]

    heading = TitleBlock("", _("Register of complaints and feedback"), []).dated(today)
    headers = [
        _("Reference"),
        _("Received on"),
        _("Received"),
        _("Kind"),
        _("Topic"),
        _("Commune"),
        _("Name"),
        _("Phone"),
        _("CCCD"),
        _("Content"),
        _("Handled by"),
        _("Handler"),
        _("Due on"),
        _("State"),
        _("Overdue"),
        _("Closed on"),
        _("Answer"),
    ]
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the FileResponse, which closes it)
    write_workbook(
        out,
        [
            Sheet(
                title=_("Register"),
                headers=headers,
                rows=rows(),
                widths=[16, 12, 14, 12, 24, 20, 22, 14, 14, 50, 22, 20, 12, 14, 8, 12, 50],
                heading=heading,
            ),
            Sheet(
                title=_("Counts per commune"),
                headers=[_("Commune"), _("Total"), _("Open"), _("Overdue"), *[str(label) for label in State.labels]],
                rows=count_rows(),
                widths=[24, 10, 10, 10, 12, 12, 12, 12, 12],
            ),
        ],
    )
    out.seek(0)
    with transaction.atomic():
        record(
            actor=actor,
            action="complaints.register.exported",
            after={"rows": written["rows"], "filters": {k: v for k, v in filters.items() if v}},
        )
    return out
