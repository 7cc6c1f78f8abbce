from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.models import Function
from ansinh.accounts.roles import Cap
from ansinh.accounts.services import responsible_unit
from ansinh.areas.models import Area, Level, VillageAssignment
from ansinh.areas.queries import in_tree_order, villages_of
from ansinh.areas.services import create_village as create_village_service
from ansinh.audit.services import history
from ansinh.core.exporter import TitleBlock, unit_name
from ansinh.core.text import search_key
from ansinh.registry.queries import count_upto

from ..forms import AreaSearchForm, VillageForm, add_service_errors
from ..printing import PrintList, heading_for, print_response
from ..shortcuts import cap_required, is_htmx, vary_on_htmx

CHILDREN_SHOWN_UP_TO = 10  # top areas; above that only counts are listed
HISTORY_SHOWN = 20


@require_GET
@cap_required(Cap.AREAS_VIEW)
def area_list(request):
    """The user's top areas with their direct children, and a name search inside them."""
    user = request.user
    form = AreaSearchForm(request.GET)
    query = search_key(form.cleaned_data["q"]) if form.is_valid() else ""
    results = None
    if query:
        results = list(
            access.areas_for(user)
            .filter(name_key__contains=query)
            .select_related("parent")
            .order_by("depth", "name_key")[:50]
        )
    top = access.top_areas(user)
    counts = dict(Area.objects.filter(parent__in=top).values_list("parent_id").annotate(n=Count("id")))
    children: dict[int, list[Area]] = {}
    if len(top) <= CHILDREN_SHOWN_UP_TO:
        for child in Area.objects.filter(parent__in=top).order_by("name_key"):
            children.setdefault(child.parent_id, []).append(child)
    rows = [(area, counts.get(area.pk, 0), children.get(area.pk)) for area in top]
    return render(request, "areas/list.html", {"form": form, "results": results, "rows": rows})


def _detail_context(request, area: Area, village_form: VillageForm | None = None) -> dict:
    user = request.user
    can_add_village = area.level == Level.COMMUNE and access.can_in_area(user, Cap.AREAS_MANAGE_VILLAGES, area)
    return {
        "area": area,
        "ancestors": [(a, access.can_in_area(user, Cap.AREAS_VIEW, a)) for a in area.ancestors(include_self=False)],
        "children": area.children.exclude(level=Level.VILLAGE).order_by("name_key"),
        "villages": villages_of(area) if area.level == Level.COMMUNE else None,
        "org_units": area.org_units.order_by("kind", "name") if access.can_in_area(user, Cap.ORGS_VIEW, area) else None,
        "responsible": [(label, responsible_unit(area=area, function=value)) for value, label in Function.choices],
        "village_form": (village_form or VillageForm()) if can_add_village else None,
        # villages of a commune split by the 2025 reform, waiting here for an officer's choice
        "villages_to_assign": (
            VillageAssignment.objects.filter(successor__isnull=True, village__parent=area).count()
            if can_add_village
            else 0
        ),
        "history": history(area)[:HISTORY_SHOWN] if access.can_in_area(user, Cap.AUDIT_VIEW, area) else None,
        "history_url": reverse("audit:list") + f"?area={area.pk}",
    }


@require_GET
@cap_required(Cap.AREAS_VIEW)
def area_print(request):
    """The user's areas (or, with ?area=, one of them) down to the villages on paper, each
    under the area above it."""
    areas = access.areas_for(request.user).select_related("parent")
    below = None
    if request.GET.get("area", "").isdigit():
        below = get_object_or_404(areas, pk=int(request.GET["area"]))
        areas = areas.below(below)
    limit = settings.ANSINH_EXPORT_MAX_ROWS
    if count_upto(areas, limit) > limit:
        messages.error(request, _("More than %(limit)s areas: open one of them and print its list.") % {"limit": limit})
        if below is not None:
            return redirect("areas:detail", pk=below.pk)
        return redirect("areas:list")
    ordered = in_tree_order(areas)
    top = min((a.depth for a in ordered), default=0)
    rows = (
        [
            i,
            "\u2003" * (a.depth - top) + a.full_name,  # indented under the area above
            a.get_level_display(),
            a.code,
            _validity(a),
        ]
        for i, a in enumerate(ordered, start=1)
    )
    block, place = heading_for(request.user, Cap.AREAS_VIEW, "Danh sách đơn vị hành chính, thôn, tổ dân phố")
    if below is not None:
        block = TitleBlock(unit_name(below), block.title)
        place = (below.parent if below.level == Level.VILLAGE else below).name
    page = PrintList(
        block=block,
        place=place,
        headers=["STT", "Tên", "Cấp", "Mã", "Hiệu lực"],
        rows=rows,
        landscape=False,
        back_url=reverse("areas:list"),
        empty_text=_("You are not assigned to any area yet. Ask your system administrator."),
    )
    return print_response(request, page)


def _validity(area: Area) -> str:
    start = f"{area.valid_from:%d/%m/%Y}" if area.valid_from else ""
    end = f"{area.valid_to:%d/%m/%Y}" if area.valid_to else ""
    if not start and not end:
        return ""
    return f"{start or '…'} – {end or '…'}"


@require_GET
@cap_required(Cap.AREAS_VIEW)
def area_detail(request, pk: int):
    area = get_object_or_404(access.areas_for(request.user), pk=pk)
    return render(request, "areas/detail.html", _detail_context(request, area))


@require_POST
@login_required
def create_village(request, pk: int):
    """Creates a village under a commune. Plain POST redirects back to the area; an HTMX
    request gets the villages section re-rendered in place."""
    commune = get_object_or_404(access.areas_for(request.user), pk=pk)
    if commune.level != Level.COMMUNE or not access.can_in_area(request.user, Cap.AREAS_MANAGE_VILLAGES, commune):
        raise PermissionDenied
    form = VillageForm(request.POST)
    if form.is_valid():
        try:
            village = create_village_service(actor=request.user, commune=commune, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, VillageForm.ERROR_FIELDS)
        else:
            messages.success(request, _("Village “%(name)s” created.") % {"name": village.full_name})
            if not is_htmx(request):
                return redirect(reverse("areas:detail", args=[commune.pk]) + "#villages")
            form = None
    template = "areas/_villages.html" if is_htmx(request) else "areas/detail.html"
    status = 422 if form is not None else 200
    return vary_on_htmx(render(request, template, _detail_context(request, commune, form), status=status))
