from django.db.models import Prefetch
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.models import OrgUnit, Responsibility
from ansinh.accounts.roles import Cap

from ..forms import OrgFilterForm
from ..shortcuts import cap_required, paginate


@require_GET
@cap_required(Cap.ORGS_VIEW)
def org_list(request):
    """Organisation units seated in the user's areas, with what each is responsible for."""
    form = OrgFilterForm(request.GET)
    units = access.scope(OrgUnit.objects.select_related("area"), request.user, Cap.ORGS_VIEW)
    if form.is_valid() and form.cleaned_data["kind"]:
        units = units.filter(kind=form.cleaned_data["kind"])
    units = units.prefetch_related(
        Prefetch("responsibilities", queryset=Responsibility.objects.select_related("area").order_by("function"))
    ).order_by("area__path", "kind", "name")
    return render(request, "orgs/list.html", {"form": form, "page": paginate(request, units)})
