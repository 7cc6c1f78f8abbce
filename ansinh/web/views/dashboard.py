from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payments.coverage import coverage_target, target_label, total_of
from ansinh.quality.queries import counts as quality_counts
from ansinh.quality.queries import open_items_for as quality_items
from ansinh.registry import stats

from ..figures import page_figures, worklist_cells
from ..roles_ui import dashboard_cards


@require_GET
@login_required
def dashboard(request):
    """The registry's figures of the month for the user's communes (one commune on its own, several
    in a table with totals), each linked to the list it counts; then one card per role the user
    holds: what the role does, where, and the pages open to it."""
    user = request.user
    caps = access.capabilities(user)
    context = {
        "figures": page_figures(stats.commune_figures(user), can_import=Cap.REGISTRY_IMPORT in caps),
        "cards": dashboard_cards(request, caps),
        "top_areas": access.top_areas(user),
        "is_global": access.is_global(user),
        "worklist": worklist_cells(quality_counts(quality_items(user))) if Cap.QUALITY_VIEW in caps else None,
        # the share of beneficiaries with an account against the target (payments.coverage)
        "coverage": coverage_block(user) if Cap.REGISTRY_VIEW in caps else None,
        "can_monitor": Cap.MONITORING_VIEW in caps,  # a link to the monitoring dashboard (issue 13)
    }
    return render(request, "web/dashboard.html", context)


def coverage_block(user) -> dict:
    """The share of the user's beneficiaries with an active account against the target (one query)."""
    target = coverage_target()
    return {"total": total_of(user), "target": target, "target_label": target_label(target)}
