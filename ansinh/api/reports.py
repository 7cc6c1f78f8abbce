"""API of the statutory reports (issue 13): Biểu 01/02/03 as JSON.

GET /api/v1/reports/{bieu}?area=CODE&tree=legacy|current&from=YYYY-MM&to=YYYY-MM&as_of=YYYY-MM-DD

`bieu` is bieu01, bieu02 or bieu03; `area` the official code of a province, district or commune
of the tree (legacy: before 2025-07-01; without `tree` the code must name one area of the
user's); without `area`, the user's one area; the period defaults to the three months up to
this one. Who: reports.view in the area; an area elsewhere, or a user without reports.view
anywhere, is a 404 (the area is the object). Each call is logged as an export. The body is
`ansinh.reports.statutory.as_json`: raw values (counts, amounts in whole đồng, rates as decimal
strings) and the cells as printed (Vietnamese formatting)."""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.reports import services as report_services
from ansinh.reports.statutory import as_json, build, parse_as_of
from ansinh.reports.tables import ReportError, default_area, default_period, make_period, parse_month

from .common import responses

router = Router(tags=["reports"])

Bieu = Literal["bieu01", "bieu02", "bieu03"]
MONTH = r"^\d{4}-\d{2}$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
LEVELS = (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE)


class ReportQuery(Schema):
    area: str | None = Field(
        None, max_length=20, pattern=r"^[0-9A-Za-z]+$", description="official code of the area (default: your one area)"
    )
    tree: Literal["legacy", "current"] | None = Field(None, description="area tree (default: your area's)")
    first: str | None = Field(
        None, alias="from", pattern=MONTH, description="first month, YYYY-MM (default: two months ago)"
    )
    last: str | None = Field(None, alias="to", pattern=MONTH, description="last month, YYYY-MM (default: this month)")
    as_of: str | None = Field(None, pattern=DAY, description="cut-off date, YYYY-MM-DD (default: today)")


def _area(user, code: str | None, tree: str | None) -> Area | None:
    """The area named (or the user's one area), among those where reports.view holds."""
    if not code:
        area = default_area(user, Cap.REPORTS_VIEW)
        return area if area is not None and (tree is None or area.tree == tree) else None
    found = access.areas_for(user, Cap.REPORTS_VIEW).filter(code=code, level__in=LEVELS)
    if tree:
        found = found.filter(tree=tree)
    areas = list(found[:2])
    return areas[0] if len(areas) == 1 else None


@router.get(
    "/reports/{bieu}",
    response=responses({200: dict[str, Any]}, not_found=True),
)
def get_report(request, bieu: Bieu, q: Query[ReportQuery]):
    """Biểu 01 (account opening), 02 (payment through accounts) or 03 (settlement of payments
    through accounts) for the area's child units and the months of the period. The area is
    looked up among the user's areas where reports.view holds: elsewhere (or without that
    capability anywhere) a 404."""
    user = request.auth
    area = _area(user, q.area, q.tree)
    if area is None:
        raise HttpError(404, _("Not found."))
    first, last = default_period()
    try:
        period = make_period(
            parse_month(q.first) if q.first else first, parse_month(q.last) if q.last else last, parse_as_of(q.as_of)
        )
    except ReportError as exc:
        return Status(422, {"detail": [{"loc": ["query", "from"], "msg": str(exc), "type": "rule"}]})
    table = build(bieu, area, period)
    report_services.record_export(actor=user, table=table, fmt="json")
    return Status(200, as_json(table))
