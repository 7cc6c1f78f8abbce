"""API of monitoring (issue 13, part 5): the dashboard's figures as JSON, the same as the pages
(ansinh.reports.kpis): the totals, one row per unit under the area, the month's deadlines, the
money and the twelve months' trends. Shares are percents with two decimals (None when there is
nobody to count); amounts are whole đồng.

Who: `monitoring.view`, on the areas where it holds; another area is a 404, a user without the
capability a 403. No personal data is returned (the lists of people are on the pages)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.web.views.monitoring import area_or_404, build, parse_month

from .common import Id, responses

router = Router(tags=["monitoring"])


class MonthFilter(Schema):
    month: str | None = None  # YYYY-MM; this month when empty


def _allowed(request) -> None:
    if not access.has_cap(request.auth, Cap.MONITORING_VIEW):
        raise HttpError(403, _("Your role does not allow this here."))


@router.get("/monitoring", response=responses({200: dict[str, Any]}, forbidden=True))
def monitoring_home(request, filters: Query[MonthFilter]):
    """The figures of all the user's areas, one row per area."""
    _allowed(request)
    return build(request.auth, None, parse_month(filters.month)).as_dict()


@router.get("/monitoring/areas/{area_id}", response=responses({200: dict[str, Any]}, forbidden=True, not_found=True))
def monitoring_area(request, area_id: Id, filters: Query[MonthFilter]):
    """The figures of one area of the user's, one row per unit under it."""
    _allowed(request)
    try:
        area = area_or_404(request.auth, area_id)
    except Http404 as exc:
        raise HttpError(404, _("Not found.")) from exc
    return build(request.auth, area, parse_month(filters.month)).as_dict()
