from django.db.models import Prefetch
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.models import OrgUnit, Responsibility
from ansinh.accounts.roles import Cap

from ..forms import OrgFilterForm
from ..printing import PrintList, heading_for, print_response
from ..shortcuts import cap_required, paginate


def _units(request, form: OrgFilterForm):
    units = access.scope(OrgUnit.objects.select_related("area"), request.user, Cap.ORGS_VIEW)
    if form.is_valid() and form.cleaned_data["kind"]:
        units = units.filter(kind=form.cleaned_data["kind"])
    return units.prefetch_related(
        Prefetch("responsibilities", queryset=Responsibility.objects.select_related("area").order_by("function"))
    ).order_by("area__path", "kind", "name")


@require_GET
@cap_required(Cap.ORGS_VIEW)
def org_list(request):
    """Organisation units seated in the user's areas, with what each is responsible for."""
    form = OrgFilterForm(request.GET)
    return render(request, "orgs/list.html", {"form": form, "page": paginate(request, _units(request, form))})


@require_GET
@cap_required(Cap.ORGS_VIEW)
def org_print(request):
    """The same list on paper, every unit (read a few hundred at a time)."""
    form = OrgFilterForm(request.GET)
    rows = (
        [
            i,
            unit.name + ("" if unit.active else f" ({_('inactive')})"),
            unit.get_kind_display(),
            unit.area.full_name,
            "; ".join(f"{r.get_function_display()}: {r.area.full_name}" for r in unit.responsibilities.all()),
        ]
        for i, unit in enumerate(_units(request, form).iterator(chunk_size=500), start=1)
    )
    block, place = heading_for(request.user, Cap.ORGS_VIEW, "Danh sách cơ quan, đơn vị")
    page = PrintList(
        block=block,
        place=place,
        headers=["STT", "Tên đơn vị", "Loại", "Trụ sở", "Phụ trách"],
        rows=rows,
        back_url=reverse("orgs:list") + (f"?{request.GET.urlencode()}" if request.GET else ""),
        empty_text=_("No organisation unit in your areas yet."),
    )
    return print_response(request, page)
