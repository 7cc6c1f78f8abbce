"""The 2025 reform: villages of split communes awaiting an officer's choice of successor."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.reform import queries, services

from ..shortcuts import cap_required


@require_http_methods(["GET", "POST"])
@cap_required(Cap.AREAS_MANAGE_VILLAGES)
def village_assignments(request):
    """List the villages to assign (GET); assign one to a successor (POST: assignment, successor)."""
    pending = queries.villages_to_assign(request.user)
    if request.method == "POST":
        assignment = get_object_or_404(pending, pk=request.POST.get("assignment") or 0)
        successors = {str(a.pk): a for a in services.successors_for(assignment)}
        successor: Area | None = successors.get(request.POST.get("successor", ""))
        if successor is None or not access.can_in_area(request.user, Cap.AREAS_MANAGE_VILLAGES, assignment.village):
            raise PermissionDenied
        try:
            services.assign_village(actor=request.user, assignment=assignment, successor=successor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(village)s now belongs to %(commune)s.")
                % {"village": assignment.village.full_name, "commune": successor.full_name},
            )
        return redirect("reform:villages")
    rows = [(a, services.successors_for(a)) for a in pending]
    return render(request, "reform/villages.html", {"rows": rows})
