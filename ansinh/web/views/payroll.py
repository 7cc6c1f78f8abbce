"""Payment cycle pages: the cycles of the user's areas grouped by province and approving unit
with their next deadline and the user's tasks ("Việc cần làm"); a cycle with its deadlines and
the steps the user may take; a province's payment calendar; provider contracts.

Who: everyone who reads cycles (payroll.queries.READ_CAPS) sees them in their areas; a step's
button shows only to those whose role carries its capability there (the map in
ansinh.payroll.models). The calendar is a province setting: read by those who read cycles,
changed by administrators with policy.manage on the province (like the policy values); contracts
are recorded by the office (payroll.prepare) of the paying unit's area."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.models import OrgKind, OrgUnit
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.core.errors import DomainError
from ansinh.core.money import format_vnd
from ansinh.payroll import queries
from ansinh.payroll.calendar import calendar_for
from ansinh.payroll.generation import GENERATABLE, compare_with_previous, generate_payroll
from ansinh.payroll.models import TRANSITIONS, Channel, CycleState, DeadlineKind, PayrollLine, PayrollRun
from ansinh.payroll.services import (
    PAYER_KINDS,
    CalendarInput,
    ContractInput,
    contract_for,
    create_contract,
    may_move,
    province_id_of,
    transition,
    update_calendar,
)

from ..forms_payroll import CalendarForm, ContractForm, CycleFilterForm, TransitionForm
from ..shortcuts import paginate

# The button of each step (source, target).
STEP_LABELS = {
    (CycleState.OPEN, CycleState.CHANGES_SUBMITTED): gettext_lazy("Submit the changes"),
    (CycleState.CHANGES_SUBMITTED, CycleState.OPEN): gettext_lazy("Return to the commune"),
    (CycleState.CHANGES_SUBMITTED, CycleState.APPRAISED): gettext_lazy("Appraise"),
    (CycleState.APPRAISED, CycleState.PAYROLL_GENERATED): gettext_lazy("Generate the payroll"),
    (CycleState.PAYROLL_GENERATED, CycleState.APPRAISED): gettext_lazy("Withdraw the draft payroll"),
    (CycleState.PAYROLL_GENERATED, CycleState.APPROVED): gettext_lazy("Approve the payroll"),
    (CycleState.APPROVED, CycleState.FUNDED): gettext_lazy("Record the advance received"),
    (CycleState.FUNDED, CycleState.SENT_TO_PROVIDER): gettext_lazy("Send to the provider"),
    (CycleState.SENT_TO_PROVIDER, CycleState.PAYING): gettext_lazy("Start paying"),
    (CycleState.PAYING, CycleState.SETTLED): gettext_lazy("Record the provider's settlement"),
    (CycleState.SETTLED, CycleState.CLOSED): gettext_lazy("Close the cycle"),
}

# Generating the payroll is its own button (it writes the lines, then takes the step).
GENERATE_STEP = (CycleState.APPRAISED, CycleState.PAYROLL_GENERATED)
# Approving (with a TOTP code) and withdrawing a draft have their own forms (views/payroll_approval.py);
# the advance form records the treasury's advance and takes the step when it covers the request
# (views/payroll_funding.py).
OWN_FORMS = (
    (CycleState.PAYROLL_GENERATED, CycleState.APPROVED),
    (CycleState.PAYROLL_GENERATED, CycleState.APPRAISED),
    (CycleState.APPROVED, CycleState.FUNDED),
)


def _reader(request) -> None:
    if not queries.may_read(request.user):
        raise PermissionDenied


def _province_names(paths) -> dict[int, str]:
    ids = {province_id_of(p) for p in paths if p}
    return {a.pk: a.full_name for a in Area.objects.filter(pk__in=ids)}


@require_GET
@login_required
def cycle_list(request):
    _reader(request)
    today = timezone.localdate()
    form = CycleFilterForm(request.GET or None)
    cycles = queries.cycles_for(request.user).order_by("-month", "area_path", "approving_unit__name", "programme__code")
    if form.is_valid():
        cycles = queries.filter_cycles(cycles, month=form.cleaned_data["month"], state=form.cleaned_data["state"])
    page = paginate(request, cycles)
    rows = list(page.object_list)
    nexts = queries.next_deadlines([c.pk for c in rows])
    provinces = _province_names([c.area_path for c in rows])
    for c in rows:
        c.next_deadline = nexts.get(c.pk)
        c.province_name = provinces.get(province_id_of(c.area_path), "")
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "today": today,
        "tasks": queries.due_and_overdue(request.user, today),
    }
    return render(request, "payroll/cycles.html", context)


@require_GET
@login_required
def cycle_detail(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    steps = [
        {"to": to, "label": STEP_LABELS.get((cycle.state, to), CycleState(to).label)}
        for to in TRANSITIONS.get(cycle.state, {})
        if may_move(request.user, cycle, to) and (cycle.state, to) not in (GENERATE_STEP, *OWN_FORMS)
    ]
    run = PayrollRun.objects.filter(cycle=cycle).first()
    page = paginate(request, PayrollLine.objects.filter(cycle=cycle).select_related("beneficiary").order_by("pk"))
    lines = list(page.object_list)
    visible = queries.sensitive_visible(request.user, cycle)
    for line in lines:
        line.shown = queries.shown_basis(request.user, line, visible)
    context = {
        "cycle": cycle,
        "deadlines": list(cycle.deadlines.order_by("due_date", "kind")),
        "steps": steps,
        "contract": contract_for(cycle),
        "today": timezone.localdate(),
        "run": run,
        "channels": [(label, (run.per_channel if run else {}).get(value, {})) for value, label in Channel.choices],
        "page": page,
        "lines": lines,
        "may_generate": cycle.state in GENERATABLE
        and access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area),
        "comparison": compare_with_previous(cycle) if run else None,
        "may_see_ledger": access.can_in_area(request.user, Cap.RECONCILIATION_VIEW, cycle.area),
    }
    return render(request, "payroll/cycle.html", context)


@require_POST
@login_required
def cycle_generate(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    if not access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area):
        raise PermissionDenied
    try:
        summary = generate_payroll(actor=request.user, cycle=cycle)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Payroll generated: %(lines)s lines, %(amount)s.")
            % {"lines": summary["lines"], "amount": format_vnd(summary["total_amount"])},
        )
    return redirect("payroll:cycle", pk=cycle.pk)


@require_POST
@login_required
def cycle_transition(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    if not any(may_move(request.user, cycle, to) for to in TRANSITIONS.get(cycle.state, {})):
        raise PermissionDenied
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a step of the payment cycle."))
        return redirect("payroll:cycle", pk=cycle.pk)
    to_state = form.cleaned_data["to_state"]
    if to_state in TRANSITIONS.get(cycle.state, {}) and not may_move(request.user, cycle, to_state):
        raise PermissionDenied
    try:
        transition(actor=request.user, cycle=cycle, to_state=to_state, note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The cycle is now: %(state)s.") % {"state": CycleState(to_state).label})
    return redirect("payroll:cycle", pk=cycle.pk)


# --- the payment calendar -------------------------------------------------------------------------


def _calendar_provinces(user):
    """The provinces whose calendar the user reads: those of the areas where they read cycles."""
    ids = set()
    for cap in queries.READ_CAPS:
        if access.everywhere(user, cap):
            return Area.objects.filter(level=Level.PROVINCE).order_by("tree", "name_key")
        ids |= {province_id_of(p) for p in access.paths_with(user, cap)}
    return Area.objects.filter(pk__in=ids, level=Level.PROVINCE).order_by("tree", "name_key")


@require_http_methods(["GET", "POST"])
@login_required
def calendar_edit(request):
    _reader(request)
    if request.method == "POST" and not access.has_cap(request.user, Cap.POLICY_MANAGE):
        raise PermissionDenied
    provinces = list(_calendar_provinces(request.user))
    chosen = request.POST.get("province") or request.GET.get("province")
    province = next((p for p in provinces if str(p.pk) == chosen), provinces[0] if provinces else None)
    if province is None:
        return render(request, "payroll/calendar.html", {"provinces": [], "province": None})
    may_edit = access.can_in_area(request.user, Cap.POLICY_MANAGE, province)
    calendar = calendar_for(province)
    initial = {f"{k}_day": calendar.day_of(k) for k in DeadlineKind.values} | {
        "non_working_rule": calendar.non_working_rule,
        "remind_days_before": calendar.remind_days_before,
    }
    if request.method == "POST":
        if not may_edit or str(province.pk) != request.POST.get("province"):
            raise PermissionDenied
        form = CalendarForm(request.POST, initial=initial)
        if form.is_valid():
            data = CalendarInput(
                days={k: form.cleaned_data[f"{k}_day"] for k in DeadlineKind.values},
                non_working_rule=form.cleaned_data["non_working_rule"],
                remind_days_before=form.cleaned_data["remind_days_before"],
            )
            try:
                result = update_calendar(actor=request.user, province=province, data=data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Calendar saved; %(count)s due dates moved.") % {"count": result["deadlines_moved"]},
                )
                return redirect(f"{request.path}?province={province.pk}")
    else:
        form = CalendarForm(initial=initial)
    context = {"provinces": provinces, "province": province, "form": form, "may_edit": may_edit}
    return render(request, "payroll/calendar.html", context)


# --- provider contracts ---------------------------------------------------------------------------


@require_GET
@login_required
def contract_list(request):
    _reader(request)
    contracts = queries.contracts_for(request.user).order_by("-valid_from", "number")
    context = {"page": paginate(request, contracts), "may_create": access.has_cap(request.user, Cap.PAYROLL_PREPARE)}
    return render(request, "payroll/contracts.html", context)


@require_GET
@login_required
def contract_detail(request, pk: int):
    _reader(request)
    contract = get_object_or_404(queries.contracts_for(request.user), pk=pk)
    return render(request, "payroll/contract.html", {"contract": contract, "areas": contract.areas.order_by("path")})


def _contract_choices(user):
    paths = access.paths_with(user, Cap.PAYROLL_PREPARE)
    if access.everywhere(user, Cap.PAYROLL_PREPARE):
        payers = OrgUnit.objects.filter(kind__in=PAYER_KINDS, active=True)
        providers = OrgUnit.objects.filter(kind=OrgKind.PROVIDER, active=True)
        areas = Area.objects.filter(level__in=[Level.DISTRICT, Level.COMMUNE])
    else:
        below = reduce(or_, (Q(area__path__startswith=p) for p in paths), Q(pk__in=[]))
        above_ids = {int(x) for p in paths for x in p.strip("/").split("/") if x}
        payers = OrgUnit.objects.filter(below, kind__in=PAYER_KINDS, active=True)
        providers = OrgUnit.objects.filter(below | Q(area_id__in=above_ids), kind=OrgKind.PROVIDER, active=True)
        areas = access.areas_for(user, Cap.PAYROLL_PREPARE).filter(level__in=[Level.DISTRICT, Level.COMMUNE])
    return payers.order_by("name"), providers.order_by("name"), areas.order_by("path")[:500]


@require_http_methods(["GET", "POST"])
@login_required
def contract_create(request):
    if not access.has_cap(request.user, Cap.PAYROLL_PREPARE):
        raise PermissionDenied
    payers, providers, areas = _contract_choices(request.user)
    area_ids = list(areas.values_list("pk", flat=True))
    form = ContractForm(
        request.POST or None, payers=payers, providers=providers, areas=Area.objects.filter(pk__in=area_ids)
    )
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        if not access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cd["paying_unit"].area):
            raise PermissionDenied
        data = ContractInput(
            number=cd["number"],
            signed_on=cd["signed_on"],
            paying_unit=cd["paying_unit"],
            provider=cd["provider"],
            areas=list(cd["areas"]),
            purpose=cd["purpose"],
            valid_from=cd["valid_from"],
            valid_to=cd["valid_to"],
            covers_account=cd["covers_account"],
            covers_pay_point=cd["covers_pay_point"],
            covers_home=cd["covers_home"],
            fee_kind=cd["fee_kind"],
            fee_flat=cd["fee_flat"] or 0,
            fee_basis_points=cd["fee_basis_points"] or 0,
            transfer_day=cd["transfer_day"],
            payment_day=cd["payment_day"],
            settlement_day=cd["settlement_day"],
            wrong_payments=cd["wrong_payments"],
            note=cd["note"],
        )
        try:
            contract = create_contract(actor=request.user, data=data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Contract recorded."))
            return redirect("payroll:contract", pk=contract.pk)
    return render(request, "payroll/contract_form.html", {"form": form})
