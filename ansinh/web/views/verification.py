"""Identity verification pages: the runs of the user's communes (commune police start one for
their commune) and a run's results with masked CCCDs. The commune officer reads them too, to act
on mismatches and on stop proposals (a deceased result links to the stop-decision form,
prefilled; the officer records the decision)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.registry.models import DecisionKind, StopReason
from ansinh.verification import queries
from ansinh.verification.adapters import AdapterError
from ansinh.verification.models import Outcome
from ansinh.verification.services import run_verification

from ..shortcuts import paginate


def _reader(request) -> None:
    if not queries.may_read(request.user):
        raise PermissionDenied


def stop_url(beneficiary_id: int, death_date) -> str:
    """The stop-decision form of a beneficiary, prefilled from a deceased result."""
    query = {"kind": DecisionKind.STOP, "reason": StopReason.DIED, "death_date": death_date.strftime("%d/%m/%Y")}
    return reverse("registry:decision", args=[beneficiary_id]) + "?" + urlencode(query)


@require_GET
@login_required
def run_list(request):
    _reader(request)
    communes = access.areas_for(request.user, Cap.IDENTITY_VERIFY).filter(level=Level.COMMUNE).order_by("name_key")
    context = {"page": paginate(request, queries.runs_for(request.user)), "communes": list(communes[:200])}
    return render(request, "verification/list.html", context)


@require_POST
@login_required
def run_start(request):
    if not access.has_cap(request.user, Cap.IDENTITY_VERIFY):
        raise PermissionDenied
    commune = get_object_or_404(
        access.areas_for(request.user).filter(level=Level.COMMUNE), pk=request.POST.get("commune") or 0
    )
    if not access.can_in_area(request.user, Cap.IDENTITY_VERIFY, commune):
        raise PermissionDenied
    try:
        run = run_verification(actor=request.user, commune=commune)
    except AdapterError:
        messages.error(request, _("The population database did not answer; nothing was recorded. Try again later."))
        return redirect("verification:list")
    messages.success(
        request,
        _("Verification finished: %(checked)s people checked, %(problems)s to look at.")
        % {"checked": run.checked, "problems": run.mismatched + run.not_found + run.deceased},
    )
    return redirect("verification:run", pk=run.pk)


@require_GET
@login_required
def run_detail(request, pk: int):
    _reader(request)
    run = get_object_or_404(queries.runs_for(request.user), pk=pk)
    outcome = request.GET.get("outcome", "")
    results = queries.results_for(request.user).filter(run=run).select_related("beneficiary").order_by("id")
    if outcome in Outcome.values:
        results = results.filter(outcome=outcome)
    else:
        outcome = ""
    page = paginate(request, results)
    can_decide = access.can_in_area(request.user, Cap.REGISTRY_DECIDE, run.commune)
    for r in page.object_list:
        r.stop_url = (
            stop_url(r.beneficiary_id, r.death_date)
            if can_decide and r.stop_proposed and r.beneficiary and r.beneficiary.status != "stopped"
            else ""
        )
    context = {"run": run, "page": page, "outcome": outcome, "outcomes": Outcome.choices}
    return render(request, "verification/run.html", context)


def beneficiary_panel(user, beneficiary) -> dict | None:
    """What the beneficiary page shows of identity verification: the latest result (for those
    who read verification results in the beneficiary's area) and an open stop proposal, with the
    prefilled stop-decision form for an officer who may decide."""
    if not queries.may_read(user):
        return None
    latest = queries.results_for(user).filter(beneficiary=beneficiary).order_by("-checked_at", "-id").first()
    if latest is None:
        return None
    proposal = queries.stop_proposal(beneficiary)
    can_decide = access.can_in_area(user, Cap.REGISTRY_DECIDE, beneficiary.village or beneficiary.commune)
    return {
        "latest": latest,
        "proposal": proposal,
        "stop_url": stop_url(beneficiary.pk, proposal.death_date) if proposal and can_decide else "",
    }
