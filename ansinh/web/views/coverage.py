"""Account coverage and the registration lists of the Hoằng Phong plan: the coverage table per
commune, office and province against the target; each list on screen (a page at a time), as an
XLSX file and on paper. Reading needs registry.view; a file or paper (the list taken away) needs
registry.export, as for the beneficiary list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.payments import coverage as coverage_service
from ansinh.payments import registration_lists as rl

from ..printing import PrintList, print_response
from ..shortcuts import cap_required, paginate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _area_id(request) -> int | None:
    value = request.GET.get("area", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _kind(request) -> rl.ListKind:
    return rl.KINDS.get(request.GET.get("kind", ""), rl.KINDS["ncc"])


def _query(kind: rl.ListKind, area_id: int | None) -> str:
    return urlencode({"kind": kind.slug, **({"area": area_id} if area_id else {})})


@require_GET
@cap_required(Cap.REGISTRY_VIEW)
def coverage_page(request):
    """Beneficiaries with an active account per commune, office and province, against the target,
    with the registration lists of each commune."""
    area_id = _area_id(request)
    report = coverage_service.coverage(request.user, area_id)
    context = {
        "report": report,
        "area": rl.area_for(request.user, area_id),
        "kinds": rl.KINDS,
        "can_export": access.has_cap(request.user, Cap.REGISTRY_EXPORT),
    }
    return render(request, "payments/coverage.html", context)


@require_GET
@cap_required(Cap.REGISTRY_VIEW)
def list_page(request):
    """One registration list, a page at a time, masked for the reader."""
    kind, area_id = _kind(request), _area_id(request)
    area = rl.area_for(request.user, area_id)
    records = rl.ordered(rl.scoped(request.user, kind, area_id))
    page = paginate(request, records, count_cap=10_000)
    with_commune = area is None or area.level in (Level.PROVINCE, Level.DISTRICT)
    rows = list(rl.rows_for(request.user, kind, page.object_list, taken_away=False, with_commune=with_commune))
    commune = area.parent if area is not None and area.level == Level.VILLAGE else area
    villages = (
        Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key")
        if commune is not None and commune.level == Level.COMMUNE
        else Area.objects.none()
    )
    context = {
        "kind": kind,
        "kinds": rl.KINDS,
        "area": area,
        "commune": commune if commune is not None and commune.level == Level.COMMUNE else None,
        "villages": villages,
        "page": page,
        "rows": rows,
        "start": page.start_index(),
        "query": _query(kind, area.pk if area else None),
        "can_export": access.has_cap(request.user, Cap.REGISTRY_EXPORT),
    }
    return render(request, "payments/registration_list.html", context)


def _back(kind: rl.ListKind, area_id: int | None) -> str:
    return f"{reverse('coverage:lists')}?{_query(kind, area_id)}"


@require_GET
@cap_required(Cap.REGISTRY_EXPORT)
def list_export(request):
    """The list as XLSX in the areas where the user may take it away; logged."""
    kind, area_id = _kind(request), _area_id(request)
    try:
        export = rl.export_list(actor=request.user, kind=kind, area_id=area_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(kind, area_id))
    filename = f"danh-sach-dang-ky-{kind.slug}-{timezone.localdate():%Y%m%d}.xlsx"
    response = FileResponse(export.file, as_attachment=True, filename=filename, content_type=XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@cap_required(Cap.REGISTRY_EXPORT)
def list_print(request):
    """The list on paper (A4 landscape), with the preparer's and the chairperson's signatures."""
    kind, area_id = _kind(request), _area_id(request)
    try:
        printed = rl.print_list(actor=request.user, kind=kind, area_id=area_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(kind, area_id))
    page = PrintList(
        block=printed.heading.block,
        place=printed.heading.place,
        headers=printed.headers,
        rows=printed.rows,
        numeric=frozenset({0}),
        sign=request.GET.get("sign") == "1",
        back_url=_back(kind, area_id),
        empty_text=_("Nobody in your areas is on this list."),
    )
    return print_response(request, page, template="print/registration_list.html")
