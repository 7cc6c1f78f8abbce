"""Settlement pages (issue 13 parts 3 and 4): the cycles to settle, a cycle's provider statement
(submit, accept, return; XLSX; printable page), the office's settlement with the finance office
(record it sent; the month's XLSX; quarterly and year-end summaries), and the monthly lists
(paid through an account; in cash at a pay point; at home or through a representative; not paid).

Who: readers with reconciliation.view in the cycle's area; the provider's staff submit
(settlement.submit), the office accepts or returns (settlement.accept) and records the file sent
(payroll.prepare). Another area's cycle is a 404, a missing capability a 403. The rules live in
ansinh.reconciliation.settlement, .office_settlement and .lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.core.errors import DomainError
from ansinh.core.exporter import TitleBlock, to_xlsx, unit_name
from ansinh.payroll.models import ContractPurpose, CycleState, PaymentCycle
from ansinh.reconciliation import lists, office_settlement, settlement
from ansinh.reconciliation.models import OfficeSettlement, ProviderSettlement, SettlementState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
STATES = (CycleState.PAYING, CycleState.SETTLED, CycleState.CLOSED)


def _require_view(user) -> None:
    if not access.has_cap(user, Cap.RECONCILIATION_VIEW):
        raise PermissionDenied


def cycles_for(user):
    """The cycles the user reads settlements of (reconciliation.view in the cycle's area)."""
    return access.scope(
        PaymentCycle.objects.select_related("area", "programme", "approving_unit"),
        user,
        Cap.RECONCILIATION_VIEW,
        path_field="area_path",
    )


def _cycle(request, cycle_id: int) -> PaymentCycle:
    _require_view(request.user)
    return get_object_or_404(cycles_for(request.user), pk=cycle_id)


def _purpose(request, cycle: PaymentCycle) -> str:
    wanted = request.GET.get("purpose") or request.POST.get("purpose") or ContractPurpose.REGULAR
    return wanted if wanted in ContractPurpose.values else ContractPurpose.REGULAR


@require_GET
@login_required
def settlement_list(request):
    _require_view(request.user)
    qs = cycles_for(request.user).filter(state__in=STATES).order_by("-month", "area_path", "programme__code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    states = {
        (s.cycle_id, s.purpose): s
        for s in ProviderSettlement.objects.filter(cycle_id__in=[c.pk for c in page.object_list])
    }
    rows = [{"cycle": c, "settlement": states.get((c.pk, ContractPurpose.REGULAR))} for c in page.object_list]
    return render(request, "reconciliation/settlement_list.html", {"page": page, "rows": rows})


# the statement page shows the first rows of each list; the printed statement and the XLSX have
# every row, the monthly lists page (paged) the rest on screen
SHOWN_ROWS = 100


def _statement_context(request, cycle: PaymentCycle, purpose: str, *, every_row: bool = False) -> dict:
    st = settlement.statement(cycle, purpose)
    obj = settlement.settlement_of(cycle, purpose)
    user = request.user
    sections = []
    for kind in lists.KINDS:
        qs = lists.rows_qs(kind, [cycle], purpose)
        data = lists.present(lists.to_rows(kind, qs if every_row else qs[:SHOWN_ROWS], [cycle]), user, cycle.area)
        more = 0 if every_row else max(0, st.totals[kind]["people"] - len(data))
        sections.append(
            {"kind": kind, "label": lists.KIND_LABELS[kind], "rows": data, "totals": st.totals[kind], "more": more}
        )
    may_submit = settlement.may_submit(user, cycle) and cycle.state == CycleState.PAYING
    may_accept = settlement.may_accept(user, cycle)
    return {
        "cycle": cycle,
        "purpose": purpose,
        "purposes": [(p, ContractPurpose(p).label) for p in settlement.purposes_of(cycle)],
        "st": st,
        "obj": obj,
        "sections": sections,
        "may_submit": may_submit and (obj is None or obj.state in (SettlementState.PREPARED, SettlementState.RETURNED)),
        "may_decide": may_accept and obj is not None and obj.state == SettlementState.SUBMITTED,
        "office": OfficeSettlement.objects.filter(cycle=cycle).first(),
        "may_send": office_settlement.may_send(user, cycle) and cycle.state == CycleState.SETTLED,
        "office_figures": office_settlement.cycle_figures(cycle) if cycle.state != CycleState.PAYING else None,
        "office_labels": list(zip(office_settlement.COLUMNS, office_settlement.column_labels(), strict=True)),
        "year": cycle.month.year,
        "quarter": (cycle.month.month - 1) // 3 + 1,
    }


@require_GET
@login_required
def settlement_detail(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    context = _statement_context(request, cycle, _purpose(request, cycle))
    return render(request, "reconciliation/settlement.html", context)


@dataclass
class PrintPage:
    block: TitleBlock
    place: str
    back_url: str
    landscape: bool = False
    sign = None


@require_GET
@login_required
def settlement_print(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    purpose = _purpose(request, cycle)
    context = _statement_context(request, cycle, purpose, every_row=True)
    provider = context["st"].contract.provider.name if context["st"].contract else cycle.approving_unit.name
    context["page"] = PrintPage(
        block=TitleBlock(
            str(provider).upper(),
            _("SETTLEMENT OF PAYMENTS BY THE PROVIDER").upper(),
            [str(cycle.programme.name_vi), f"{cycle.month:%m/%Y} – {cycle.approving_unit.name}"],
        ),
        place=cycle.area.name,
        back_url=request.path.rsplit("print/", 1)[0],
    )
    context["today"] = timezone.localdate()
    return render(request, "reconciliation/settlement_print.html", context)


@require_GET
@login_required
def settlement_xlsx(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    st = settlement.statement(cycle, _purpose(request, cycle))
    response = HttpResponse(content_type=XLSX)
    settlement.statement_xlsx(st, actor=request.user, out=response)
    response["Content-Disposition"] = f'attachment; filename="{settlement.file_name(st)}"'
    return response


def _back(cycle: PaymentCycle, purpose: str):
    response = redirect("reconciliation:settlement", cycle_id=cycle.pk)
    if purpose != ContractPurpose.REGULAR:
        response["Location"] += f"?purpose={purpose}"
    return response


@require_POST
@login_required
def settlement_submit(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    if not settlement.may_submit(request.user, cycle):
        raise PermissionDenied
    purpose = _purpose(request, cycle)
    try:
        settlement.submit(actor=request.user, cycle=cycle, purpose=purpose)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Settlement submitted to the office."))
    return _back(cycle, purpose)


def _settlement_obj(request, cycle: PaymentCycle, purpose: str) -> ProviderSettlement:
    if not settlement.may_accept(request.user, cycle):
        raise PermissionDenied
    obj = settlement.settlement_of(cycle, purpose)
    if obj is None:
        raise Http404
    return obj


@require_POST
@login_required
def settlement_accept(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    purpose = _purpose(request, cycle)
    obj = _settlement_obj(request, cycle, purpose)
    try:
        settlement.accept(actor=request.user, settlement=obj)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Settlement accepted."))
    return _back(cycle, purpose)


@require_POST
@login_required
def settlement_return(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    purpose = _purpose(request, cycle)
    obj = _settlement_obj(request, cycle, purpose)
    try:
        settlement.return_settlement(actor=request.user, settlement=obj, comment=request.POST.get("comment", "")[:4000])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Settlement returned to the provider with your comments."))
    return _back(cycle, purpose)


# --- the office's settlement with the finance office -------------------------------------------


@require_POST
@login_required
def office_sent(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    if not office_settlement.may_send(request.user, cycle):
        raise PermissionDenied
    try:
        office_settlement.record_sent(actor=request.user, cycle=cycle, reference=request.POST.get("reference", "")[:60])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Recorded as sent to the finance office; the cycle is closed."))
    return redirect("reconciliation:settlement", cycle_id=cycle.pk)


def _xlsx_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@login_required
def office_xlsx(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    data = office_settlement.month_xlsx(cycle.approving_unit, cycle.month, actor=request.user)
    return _xlsx_response(data, f"quyet-toan-tai-chinh-{cycle.approving_unit_id}-{cycle.month:%Y-%m}.xlsx")


@require_GET
@login_required
def office_summary_xlsx(request, cycle_id: int):
    """The quarterly (?quarter=1–4) or year-end summary of the cycle's unit (?year=, default the
    cycle's year)."""
    cycle = _cycle(request, cycle_id)
    try:
        year = int(request.GET.get("year") or cycle.month.year)
        quarter = int(request.GET["quarter"]) if request.GET.get("quarter") else None
    except ValueError:
        raise Http404 from None
    if not 2000 <= year <= 2100 or quarter not in (None, 1, 2, 3, 4):
        raise Http404
    data = office_settlement.summary_xlsx(cycle.approving_unit, year, quarter, actor=request.user)
    suffix = f"q{quarter}" if quarter else "nam"
    return _xlsx_response(data, f"tong-hop-quyet-toan-{cycle.approving_unit_id}-{year}-{suffix}.xlsx")


# --- the monthly lists ----------------------------------------------------------------------------


@dataclass
class ListScope:
    cycles: object
    area: Area | None
    area_path: str | list[str] | None
    title: str


def lenient_scope(user, *, cycle_id: int | None, area_id: int | None, month: date | None) -> ListScope:
    """The API's scope: as `list_scope`, but an id outside the user's areas gives an empty list
    (not a 404), and with neither a cycle nor an area, the user's own areas in `month` (default:
    this month)."""
    if cycle_id is not None:
        cycle = cycles_for(user).filter(pk=cycle_id).first()
        if cycle is None:
            return ListScope(PaymentCycle.objects.none(), None, [], "")
        return list_scope(user, kind=lists.ACCOUNT, cycle_id=cycle_id, area_id=None, month=None)
    month = (month or timezone.localdate()).replace(day=1)
    if area_id is not None:
        area = access.areas_for(user, Cap.RECONCILIATION_VIEW).filter(pk=area_id).first()
        if area is None:
            return ListScope(PaymentCycle.objects.none(), None, [], "")
        return list_scope(user, kind=lists.ACCOUNT, cycle_id=None, area_id=area_id, month=month)
    paths = (
        None if access.everywhere(user, Cap.RECONCILIATION_VIEW) else access.paths_with(user, Cap.RECONCILIATION_VIEW)
    )
    return ListScope(PaymentCycle.objects.filter(month=month), None, paths, f"{month:%m/%Y}")


def list_scope(user, *, kind: str, cycle_id: int | None, area_id: int | None, month: date | None) -> ListScope:
    """The cycles and area a monthly list covers: one cycle, or an area in the user's scope and a
    month. Raises Http404 outside the user's areas."""
    if kind not in lists.KINDS:
        raise Http404
    if cycle_id is not None:
        cycle = get_object_or_404(cycles_for(user), pk=cycle_id)
        return ListScope(
            [cycle], cycle.area, None, f"{cycle.programme.name_vi} – {cycle.month:%m/%Y} – {cycle.approving_unit.name}"
        )
    if area_id is None or month is None:
        raise Http404
    area = get_object_or_404(access.areas_for(user, Cap.RECONCILIATION_VIEW), pk=area_id)
    cycles = PaymentCycle.objects.filter(month=month.replace(day=1))
    return ListScope(cycles, area, area.path, f"{area.full_name} – {month:%m/%Y}")


def _month(value: str | None) -> date | None:
    try:
        year, month = (int(x) for x in (value or "").split("-")[:2])
        return date(year, month, 1)
    except ValueError:
        return None


def _list_params(request):
    _require_view(request.user)
    kind = request.GET.get("kind") or lists.ACCOUNT
    try:
        cycle_id = int(request.GET["cycle_id"]) if request.GET.get("cycle_id") else None
        area_id = int(request.GET["area_id"]) if request.GET.get("area_id") else None
    except ValueError:
        raise Http404 from None
    return list_scope(
        request.user, kind=kind, cycle_id=cycle_id, area_id=area_id, month=_month(request.GET.get("month"))
    ), kind


@require_GET
@login_required
def monthly_list(request):
    _require_view(request.user)
    if not request.GET.get("cycle_id") and not request.GET.get("area_id"):
        areas = access.top_areas(request.user, Cap.RECONCILIATION_VIEW)
        return render(
            request, "reconciliation/settlement_lists.html", {"choose": True, "areas": areas, "kinds": _kinds()}
        )
    scope, kind = _list_params(request)
    page = Paginator(lists.rows_qs(kind, scope.cycles, None, scope.area_path), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = lists.present(lists.to_rows(kind, page.object_list, scope.cycles), request.user, scope.area)
    totals = lists.totals(kind, scope.cycles, None, scope.area_path)
    return render(
        request,
        "reconciliation/settlement_lists.html",
        {"page": page, "rows": rows, "kind": kind, "kinds": _kinds(), "scope": scope, "totals": totals},
    )


def _kinds():
    return [(k, lists.KIND_LABELS[k]) for k in lists.KINDS]


def list_xlsx_bytes(user, scope: ListScope, kind: str) -> tuple[bytes, int]:
    """The list as XLSX (masked as on screen), logged as an export."""
    from django.db import transaction

    from ansinh.audit.services import record

    data = lists.present(lists.rows(kind, scope.cycles, None, scope.area_path), user, scope.area)
    headers = [str(h) for h in settlement.LIST_HEADERS[kind]]
    headers.insert(2, _("CCCD"))
    body = []
    for i, r in enumerate(data, start=1):
        cells = settlement.list_cells(kind, i, r)
        cells.insert(2, r["cccd_shown"])
        body.append(cells)
    heading = TitleBlock(unit_name(scope.area), str(lists.KIND_LABELS[kind]).upper(), [scope.title]).dated(
        timezone.localdate()
    )
    content = to_xlsx(
        title=str(lists.KIND_LABELS[kind])[:31],
        headers=headers,
        rows=body,
        widths=[6, 28, 14, 18, 28, 24, 16],
        heading=heading,
    )
    with transaction.atomic():
        record(
            actor=user,
            action="reconciliation.list.exported",
            area=scope.area,
            after={"format": "xlsx", "list": kind, "rows": len(body), "scope": scope.title},
        )
    return content, len(body)


@require_GET
@login_required
def monthly_list_xlsx(request):
    scope, kind = _list_params(request)
    content, _rows = list_xlsx_bytes(request.user, scope, kind)
    return _xlsx_response(content, f"danh-sach-{kind.replace('_', '-')}.xlsx")
