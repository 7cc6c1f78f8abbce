from django.shortcuts import get_object_or_404, render

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.models import AuditEvent

from ..forms import AuditFilterForm
from ..labels import action_label
from ..shortcuts import cap_required, paginate


def scoped_events(user):
    return access.scope(AuditEvent.objects.all(), user, Cap.AUDIT_VIEW, path_field="area_path")


@cap_required(Cap.AUDIT_VIEW)
def audit_list(request):
    """Audit events located in the user's areas, newest first; filter by action and area."""
    events = scoped_events(request.user)
    actions = events.order_by("action").values_list("action", flat=True).distinct()
    form = AuditFilterForm(request.GET, actions=[(a, action_label(a)) for a in actions])
    area = None
    if form.is_valid():
        if form.cleaned_data["area"]:
            area = get_object_or_404(access.areas_for(request.user, Cap.AUDIT_VIEW), pk=form.cleaned_data["area"])
            events = events.filter(area_path__startswith=area.path)
        if form.cleaned_data["action"]:
            events = events.filter(action=form.cleaned_data["action"])
    page = paginate(request, events.select_related("actor").order_by("-at", "-id"))
    return render(request, "audit/list.html", {"form": form, "page": page, "area": area})
