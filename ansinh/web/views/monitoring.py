"""The monitoring dashboard (issue 13, part 5): the figures of the user's areas (province,
office, commune), a row per unit under the area shown, charts and trends, the lists of people
behind a figure, and those lists as XLSX written in the background with a progress bar.

Everything is scoped to the areas where the user holds `monitoring.view`: another area is a
404. The lists of people need `registry.view` there (CCCD masked where the user may not see
it, no category shown: HIV-related categories never appear); their export needs
`registry.export` there, and only the user who asked may download the file."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.registry.queries import cccd_visible
from ansinh.reports import charts, exports, kpis, retention
from ansinh.reports.models import ExportJob, ExportStatus

from ..shortcuts import cap_required, is_htmx, paginate

PEOPLE_PER_PAGE = 50


def parse_month(value: str | None) -> date:
    """'2026-11' → 1 November 2026; anything else: this month."""
    today = timezone.localdate()
    if value:
        try:
            year, month = (int(x) for x in value.split("-")[:2])
            if 2000 <= year <= today.year + 1 and 1 <= month <= 12:
                return date(year, month, 1)
        except ValueError:
            pass
    return today.replace(day=1)


def area_or_404(user, area_id: int) -> Area:
    area = access.areas_for(user, Cap.MONITORING_VIEW).filter(pk=area_id).select_related("parent").first()
    if area is None:
        raise Http404
    return area


def build(user, area: Area | None, month: date) -> kpis.Dashboard:
    """The dashboard of `area` (None: all the user's areas)."""
    if area is None:
        units = kpis.top_units(user, Cap.MONITORING_VIEW)
        paths = None if access.everywhere(user, Cap.MONITORING_VIEW) else access.paths_with(user, Cap.MONITORING_VIEW)
        if paths is None:
            paths = [u.path for u in units]
        return kpis.dashboard(paths=paths, area=None, units=units, month=month)
    return kpis.dashboard(paths=[area.path], area=area, units=kpis.child_units(area), month=month)


def bieu02_url(area: Area | None, month: date) -> str | None:
    """The statutory report Biểu 02 (issue 13, part 4: reports:bieu, the area by its code on its
    tree) of the area, as XLSX, for the year up to the month; None without an area with a code."""
    if area is None or not area.code:
        return None
    try:
        url = reverse("reports:bieu", kwargs={"bieu": "bieu02"})
    except NoReverseMatch:
        return None
    query = urlencode(
        {"area": area.code, "tree": area.tree, "from": f"{month.year}-01", "to": f"{month:%Y-%m}", "format": "xlsx"}
    )
    return f"{url}?{query}"


def _charts(board: kpis.Dashboard) -> dict:
    months = [m.strftime("%m/%Y") for m in board.months]
    target_label = kpis.format_share(board.target)
    units = board.units
    return {
        "accounts": charts.bar_chart(
            _("Share of beneficiaries with an account"),
            _("For each unit, the share of beneficiaries receiving who hold an active account, against the target."),
            [charts.Bar(u.name, u.figures.account_share) for u in units],
            target=board.target,
            target_label=_("Target %(target)s") % {"target": target_label},
        ),
        "cashless": charts.bar_chart(
            _("Share of account holders paid through their account"),
            _("For each unit, the share of account holders paid by transfer this month, against 100 %."),
            [charts.Bar(u.name, u.figures.cashless_share) for u in units],
            target=kpis.Decimal(100),
            target_label="100 %",
        ),
        "trends": charts.line_chart(
            _("Trends over twelve months"),
            _("Share with an account, share of holders paid through their account, change lists on time, by month."),
            months,
            [
                charts.Series(_("With an account"), [t.account_share for t in board.trends]),
                charts.Series(_("Paid through the account"), [t.cashless_share for t in board.trends]),
                charts.Series(_("Change lists on time"), [t.on_time_share for t in board.trends]),
            ],
            target=board.target,
        ),
        "money": charts.line_chart(
            _("Money by month (đồng)"),
            _("Advanced by the treasury, paid and returned, by month."),
            months,
            [
                charts.Series(_("Advanced"), [m.advanced for m in board.money]),
                charts.Series(_("Paid"), [m.paid for m in board.money]),
                charts.Series(_("Returned"), [m.returned for m in board.money]),
            ],
            percent=False,
        ),
    }


def _context(request, area: Area | None, month: date) -> dict:
    user = request.user
    board = build(user, area, month)
    months = kpis.window(timezone.localdate().replace(day=1))
    return {
        "board": board,
        "area": area,
        "month": month,
        "month_param": month.strftime("%Y-%m"),
        "month_choices": [(m.strftime("%Y-%m"), m.strftime("%m/%Y")) for m in reversed(months)],
        "charts": _charts(board),
        "target_label": kpis.format_share(board.target),
        # a "%" in a template's translated literal would be looked up as "%%": the label comes from here
        "cashless_label": _("Holders paid through the account (against 100 %)"),
        "ancestors": _ancestors(user, area),
        "can_list": area is not None and access.can_in_area(user, Cap.REGISTRY_VIEW, area),
        "people_kinds": exports.kind_titles(),
        "bieu02_url": bieu02_url(area, month) if access.has_cap(user, Cap.REPORTS_VIEW) else None,
        "is_commune": area is not None and area.level == Level.COMMUNE,
    }


def _ancestors(user, area: Area | None) -> list[Area]:
    """The areas above `area` that the user may open (the breadcrumb)."""
    if area is None:
        return []
    ids = [int(p) for p in area.path.strip("/").split("/")[:-1] if p]
    visible = {a.pk: a for a in access.areas_for(user, Cap.MONITORING_VIEW).filter(pk__in=ids)}
    return [visible[i] for i in ids if i in visible]


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def home(request):
    """All the user's areas; a user with one area sees that area's page here."""
    month = parse_month(request.GET.get("month"))
    units = kpis.top_units(request.user, Cap.MONITORING_VIEW)
    area = area_or_404(request.user, units[0].pk) if len(units) == 1 else None
    return render(request, "monitoring/dashboard.html", _context(request, area, month))


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def area_view(request, area_id: int):
    area = area_or_404(request.user, area_id)
    month = parse_month(request.GET.get("month"))
    return render(request, "monitoring/dashboard.html", _context(request, area, month))


def _kind(request) -> str:
    kind = request.GET.get("kind") or "without_account"
    if kind not in kpis.PEOPLE_KINDS:
        raise Http404
    return kind


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def people(request, area_id: int):
    """The people behind a figure of the area, a page at a time, linked to their pages."""
    user = request.user
    area = area_or_404(user, area_id)
    if not access.can_in_area(user, Cap.REGISTRY_VIEW, area):
        raise PermissionDenied
    kind = _kind(request)
    month = parse_month(request.GET.get("month"))
    qs = exports.people_queryset(user, area, kind, month).select_related("commune", "village")
    page = paginate(request, qs.order_by("sort_key", "id"), PEOPLE_PER_PAGE)
    show = cccd_visible(user)
    from ansinh.core.masking import mask_number

    rows = [(b, b.cccd if show(b.area_path) else mask_number(b.cccd)) for b in page]
    return render(
        request,
        "monitoring/people.html",
        {
            "area": area,
            "kind": kind,
            "title": exports.kind_titles()[kind],
            "month": month,
            "month_param": month.strftime("%Y-%m"),
            "page": page,
            "rows": rows,
            "ancestors": [*_ancestors(user, area), area],
            "can_export": access.can_in_area(user, Cap.REGISTRY_EXPORT, area),
            "kinds": exports.kind_titles(),
        },
    )


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def export_start(request, area_id: int):
    """Start writing the list as XLSX in the background and open its progress page. (A GET,
    as the registry's own export is: it reads and takes away, it changes no record but the
    export's own job and log.)"""
    user = request.user
    area = area_or_404(user, area_id)
    kind = _kind(request)
    month = parse_month(request.GET.get("month"))
    job = exports.start_export(actor=user, area=area, kind=kind, month=month)
    return redirect("monitoring:export", export_id=job.pk)


def _job_or_404(user, export_id: int) -> ExportJob:
    qs = access.scope(
        ExportJob.objects.select_related("area"), user, Cap.MONITORING_VIEW, path_field="area_path"
    ).filter(requested_by=user)
    return get_object_or_404(qs, pk=export_id)


def _job_context(job: ExportJob) -> dict:
    progress = max(0, min(100, job.progress))
    return {
        "job": job,
        "title": exports.kind_titles().get(job.kind, ""),
        "polling": not job.finished,
        "progress": progress,
        "progress_step": progress // 5 * 5,
        "done": job.status == ExportStatus.DONE and bool(job.file_name),
        "purged": retention.was_purged(job),
        "retention_days": settings.ANSINH_EXPORT_RETENTION_DAYS,
    }


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def export_detail(request, export_id: int):
    job = _job_or_404(request.user, export_id)
    return render(request, "monitoring/export.html", _job_context(job))


@require_GET
def export_status(request, export_id: int):
    """The job section alone, polled by HTMX while the list is written."""
    if not request.user.is_authenticated:
        login_url = redirect_to_login(reverse("monitoring:export", args=[export_id]))["Location"]
        if not is_htmx(request):
            return redirect(login_url)
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_url
        return response
    if not access.has_cap(request.user, Cap.MONITORING_VIEW):
        raise PermissionDenied
    job = _job_or_404(request.user, export_id)
    if not is_htmx(request):
        return redirect("monitoring:export", export_id=job.pk)
    response = render(request, "monitoring/_export_job.html", _job_context(job))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@cap_required(Cap.MONITORING_VIEW)
def export_download(request, export_id: int):
    job = _job_or_404(request.user, export_id)
    if not access.can_in_area(request.user, Cap.REGISTRY_EXPORT, job.area):
        raise Http404
    if retention.was_purged(job):
        # deleted at the end of its retention period (manage.py purge_exports): say so, and
        # offer to export the list again, rather than a bare 404
        return render(request, "monitoring/export.html", _job_context(job), status=410)
    path = exports.file_path(job)
    if path is None:
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=job.download_name or path.name)
    response["Cache-Control"] = "no-store"
    return response
