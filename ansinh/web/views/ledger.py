"""The ledger of a payment cycle (issue 13 part 1): its balance (the advance, what was credited,
paid in cash and returned, the fees, the recoveries, and the outstanding with its two parts:
lines not yet paid and advance not allocated to lines) and its entries, paginated.

Who: reconciliation.view, in the areas of their roles (another area's cycle is a 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payroll.models import PaymentCycle
from ansinh.reconciliation import ledger
from ansinh.reconciliation.models import LedgerClosing

from ..shortcuts import paginate

PAGE = 100


def cycle_for(user, cycle_id: int) -> PaymentCycle:
    if not access.has_cap(user, Cap.RECONCILIATION_VIEW):
        raise PermissionDenied
    qs = access.scope(
        PaymentCycle.objects.select_related("area", "programme", "approving_unit"),
        user,
        Cap.RECONCILIATION_VIEW,
        "area_path",
    )
    return get_object_or_404(qs, pk=cycle_id)


@require_GET
@login_required
def ledger_page(request, cycle_id: int):
    cycle = cycle_for(request.user, cycle_id)
    page = paginate(request, ledger.entries_of(cycle.pk), per_page=PAGE)
    return render(
        request,
        "reconciliation/ledger.html",
        {
            "cycle": cycle,
            "balance": ledger.balance(cycle),
            "closing": LedgerClosing.objects.filter(cycle=cycle).select_related("closed_by").first(),
            "page": page,
            "active": "reconciliation",
        },
    )
