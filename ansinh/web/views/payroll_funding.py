"""Funding pages of the payment cycle (issue 10 parts 5 and 6): on the cycle page, the funding
request of an approved payroll (make it, download its XLSX), the advances received from the
treasury (record one, list them); and the budget estimate page (year and area, the table, the
XLSX).

Who: the office (payroll.prepare in the cycle's area) makes the request and records advances;
everyone who reads the cycle sees them and downloads the request. The budget estimate: the
roles with payroll.prepare, payroll.approve or reports.view, in their areas. Another area's
cycle or area is a 404. The rules live in ansinh.payroll.funding and .budget."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.core.errors import DomainError
from ansinh.payroll import budget, funding, queries
from ansinh.payroll.models import Advance, CycleState, FundingRequest, PaymentCycle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUDGET_CAPS = (Cap.PAYROLL_PREPARE, Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW)


class FundingRequestForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Number of the request"), max_length=60, required=False)


class AdvanceForm(forms.Form):
    amount = forms.IntegerField(
        label=gettext_lazy("Amount (đồng)"),
        min_value=1,
        max_value=10**15,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    reference = forms.CharField(
        label=gettext_lazy("Treasury reference"), max_length=60, widget=forms.TextInput(attrs={"class": "form-control"})
    )


def funding_context(user, cycle: PaymentCycle) -> dict:
    """What the cycle page's funding section shows (used by payroll.cycle_detail's template
    through `{% include "payroll/_funding.html" %}`)."""
    request_obj = FundingRequest.objects.filter(cycle=cycle).first()
    may_prepare = access.can_in_area(user, Cap.PAYROLL_PREPARE, cycle.area)
    advances = list(Advance.objects.filter(cycle=cycle).order_by("received_on", "pk"))
    received = sum(a.amount for a in advances)
    return {
        "funding_request": request_obj,
        "funding_channels": _channel_rows(request_obj) if request_obj else [],
        "advances": advances,
        "advances_total": received,
        "advances_missing": max(request_obj.total - received, 0) if request_obj else 0,
        "may_request_funding": may_prepare and cycle.state == CycleState.APPROVED and request_obj is None,
        "may_record_advance": may_prepare and cycle.state == CycleState.APPROVED and request_obj is not None,
        "advance_form": AdvanceForm(initial={"received_on": timezone.localdate()}),
        "show_funding": request_obj is not None or cycle.state == CycleState.APPROVED,
    }


def _channel_rows(request_obj: FundingRequest) -> list[tuple[str, dict]]:
    from ansinh.payroll.models import Channel

    channels = (request_obj.per_channel or {}).get("channels", {})
    return [(label, channels.get(value, {})) for value, label in Channel.choices]


def _cycle(request, pk: int) -> PaymentCycle:
    if not queries.may_read(request.user):
        raise PermissionDenied
    return get_object_or_404(queries.cycles_for(request.user), pk=pk)


def _prepare(request, cycle: PaymentCycle) -> None:
    if not access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area):
        raise PermissionDenied


@require_POST
@login_required
def funding_request_create(request, pk: int):
    cycle = _cycle(request, pk)
    _prepare(request, cycle)
    form = FundingRequestForm(request.POST)
    number = form.cleaned_data["number"] if form.is_valid() else ""
    try:
        made = funding.make_funding_request(actor=request.user, cycle=cycle, number=number)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Funding request made: %(total)s đồng in total.") % {"total": funding.format_number(made.total)},
        )
    return redirect("payroll:cycle", pk=cycle.pk)


@require_GET
@login_required
def funding_request_xlsx(request, pk: int):
    cycle = _cycle(request, pk)
    request_obj = FundingRequest.objects.filter(cycle=cycle).select_related("cycle").first()
    if request_obj is None:
        raise Http404
    response = HttpResponse(content_type=XLSX)
    funding.funding_request_xlsx(request_obj, actor=request.user, out=response)
    response["Content-Disposition"] = f'attachment; filename="{funding.file_name(request_obj)}"'
    return response


@require_POST
@login_required
def advance_create(request, pk: int):
    cycle = _cycle(request, pk)
    _prepare(request, cycle)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("payroll:cycle", pk=cycle.pk)
    cd = form.cleaned_data
    try:
        result = funding.record_advance(
            actor=request.user,
            cycle=cycle,
            amount=cd["amount"],
            received_on=cd["received_on"],
            reference=cd["reference"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if result.funded:
            messages.success(request, _("Advance recorded; the cycle is funded."))
        else:
            messages.warning(request, _("Advance recorded.") + " " + result.message)
    return redirect("payroll:cycle", pk=cycle.pk)


# --- the budget estimate ------------------------------------------------------------------------------


def budget_areas(user):
    """The provinces, districts and communes where the user may see a budget estimate."""
    ids: set[int] = set()
    levels = [Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]
    for cap in BUDGET_CAPS:
        if access.everywhere(user, cap):
            return Area.objects.filter(level__in=levels, valid_to__isnull=True).order_by("path")
        ids |= set(access.areas_for(user, cap).filter(level__in=levels).values_list("pk", flat=True))
    return Area.objects.filter(pk__in=ids, valid_to__isnull=True).order_by("path")


def may_estimate(user, area: Area) -> bool:
    return any(access.can_in_area(user, cap, area) for cap in BUDGET_CAPS)


class BudgetForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    area = forms.ModelChoiceField(label=gettext_lazy("Area"), queryset=Area.objects.none(), required=False)

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["area"].label_from_instance = lambda a: a.full_name


@require_GET
@login_required
def budget_page(request):
    if not any(access.has_cap(request.user, cap) for cap in BUDGET_CAPS):
        raise PermissionDenied
    areas = budget_areas(request.user)[:2000]
    next_year = timezone.localdate().year + 1
    data = {"year": request.GET.get("year") or next_year, "area": request.GET.get("area") or ""}
    area_id = data["area"]
    area = None
    if area_id:
        area = Area.objects.filter(pk=area_id).first() if str(area_id).isdigit() else None
        if area is None or not may_estimate(request.user, area):
            raise Http404
    form = BudgetForm(data, areas=Area.objects.filter(pk__in=[a.pk for a in areas]))
    estimate = None
    if area is not None and form.is_valid():
        estimate = budget.budget_estimate(area=area, year=form.cleaned_data["year"])
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(content_type=XLSX)
            budget.export_budget_xlsx(actor=request.user, area=area, estimate=estimate, out=response)
            response["Content-Disposition"] = f'attachment; filename="{budget.file_name(estimate)}"'
            return response
    context = {
        "form": form,
        "estimate": estimate,
        "area": area,
        "programme_rows": _programme_rows(estimate) if estimate else [],
        "today": date.today(),
    }
    return render(request, "payroll/budget.html", context)


def _programme_rows(estimate: dict) -> list[dict]:
    return [
        {"name": info["name"], "totals": info, "rows": [r for r in estimate["rows"] if r["programme"] == code]}
        for code, info in estimate["programmes"].items()
    ]
