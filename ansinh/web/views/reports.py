"""The statutory reports (Biểu 01/02/03) on the web: a page to choose the table, the area (the
user's areas where reports.view holds), the tree and the period; the report as a printable A4
landscape page; downloads as XLSX and JSON (logged as exports).

URL: reports:bieu, /reports/<bieu>/?area=CODE&tree=legacy|current&from=YYYY-MM&to=YYYY-MM
&as_of=YYYY-MM-DD&format=html|xlsx|json. An area outside the user's areas is a 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level, Tree
from ansinh.reports import services as report_services
from ansinh.reports import xlsx
from ansinh.reports.statutory import BUILDERS, as_json, build, parse_as_of
from ansinh.reports.tables import BIEUS, ReportError, Table, default_area, default_period, make_period, parse_month

from ..shortcuts import cap_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVELS = (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE)
NAMES = {
    "bieu01": "Biểu 01 – Kết quả mở tài khoản nhận trợ cấp",
    "bieu02": "Biểu 02 – Kết quả chi trả qua tài khoản nhận trợ cấp",
    "bieu03": "Biểu 03 – Kết quả thanh quyết toán chi trả qua tài khoản",
}


def _areas(user):
    return (
        access.areas_for(user, Cap.REPORTS_VIEW)
        .filter(level__in=LEVELS)
        .exclude(code="")
        .order_by("tree", "depth", "name_key")
    )


@require_GET
@cap_required(Cap.REPORTS_VIEW)
def index(request):
    """The chooser. Submitting it (bieu and "tree:code" of the area) goes to the report."""
    bieu = request.GET.get("bieu", "")
    choice = request.GET.get("unit", "")
    if bieu in BIEUS and ":" in choice:
        tree, code = choice.split(":", 1)
        params = {"area": code, "tree": tree}
        for key in ("from", "to", "as_of"):
            if request.GET.get(key):
                params[key] = request.GET[key]
        params["format"] = request.GET.get("format", "html")
        return redirect(f"{reverse('reports:bieu', args=[bieu])}?{urlencode(params)}")
    return render(request, "reports/index.html", _chooser(request))


def _area(request) -> Area:
    """The area of the query (its official code and tree), or the user's one area."""
    code = request.GET.get("area", "")
    tree = request.GET.get("tree", "")
    if not code:
        area = default_area(request.user, Cap.REPORTS_VIEW)
        if area is None or (tree and area.tree != tree):
            raise Http404
        return area
    found = _areas(request.user).filter(code=code)
    if tree:
        found = found.filter(tree=tree)
    areas = list(found[:2])
    if len(areas) != 1:
        raise Http404
    return areas[0]


def _head_rows(table: Table) -> list[list]:
    return [sorted((h for h in table.header if h.row == r), key=lambda h: h.col) for r in (0, 1)]


def _body(table: Table) -> list[dict]:
    out = []
    for row, total in [*((r, False) for r in table.rows), (table.total, True)]:
        cells = [
            {"text": table.display(row, c), "numeric": c.kind in ("int", "rate", "million"), "kind": c.kind}
            for c in table.columns
        ]
        out.append({"cells": cells, "total": total})
    return out


@require_GET
@login_required
def bieu(request, bieu: str):
    """The table. The area is looked up among the user's areas where reports.view holds, so an
    area elsewhere (or a user without reports.view anywhere) is a 404, as any object outside."""
    if bieu not in BUILDERS:
        raise Http404
    area = _area(request)
    default_first, default_last = default_period()
    try:
        first = parse_month(request.GET["from"]) if request.GET.get("from") else default_first
        last = parse_month(request.GET["to"]) if request.GET.get("to") else default_last
        period = make_period(first, last, parse_as_of(request.GET.get("as_of")))
    except ReportError as exc:
        return render(request, "reports/index.html", {"error": str(exc), **_chooser(request)}, status=400)
    table = build(bieu, area, period)
    fmt = request.GET.get("format", "html")
    if fmt == "xlsx":
        report_services.record_export(actor=request.user, table=table, fmt="xlsx")
        response = HttpResponse(xlsx.workbook_bytes(table), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{xlsx.filename(table, "xlsx")}"'
        return response
    if fmt == "json":
        report_services.record_export(actor=request.user, table=table, fmt="json")
        response = JsonResponse(as_json(table), json_dumps_params={"ensure_ascii": False, "indent": 1})
        response["Content-Disposition"] = f'attachment; filename="{xlsx.filename(table, "json")}"'
        return response
    if fmt != "html":
        raise Http404
    params = request.GET.copy()
    params.pop("format", None)
    context = {
        "table": table,
        "head_rows": _head_rows(table),
        "body": _body(table),
        "xlsx_url": f"?{params.urlencode()}&format=xlsx",
        "json_url": f"?{params.urlencode()}&format=json",
        "back_url": reverse("reports:index"),
        "today": timezone.localdate(),
    }
    return render(request, "reports/print.html", context)


def _chooser(request) -> dict:
    first, last = default_period()
    return {
        "bieus": [(b, NAMES[b]) for b in BIEUS],
        "areas": list(_areas(request.user)[:500]),
        "first": first,
        "last": last,
        "trees": Tree.choices,
    }
