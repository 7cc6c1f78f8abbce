from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit import queries

from ..forms import AuditFilterForm
from ..labels import action_choices
from ..shortcuts import cap_required


@require_GET
@cap_required(Cap.AUDIT_VIEW)
def audit_list(request):
    """Audit events located in the user's areas, newest first, in keyset pages (newer / older);
    filter by action and area. No count and no DISTINCT over the log: the page costs the same
    on a log of millions of events."""
    events = queries.events_for(request.user)
    form = AuditFilterForm(request.GET, actions=action_choices())
    area = None
    cursor = {}
    if form.is_valid():
        d = form.cleaned_data
        if d["area"]:
            area = get_object_or_404(access.areas_for(request.user, Cap.AUDIT_VIEW), pk=d["area"])
            events = events.filter(area_path__startswith=area.path)
        if d["action"]:
            events = events.filter(action=d["action"])
        cursor = {"older_than": d["older"], "newer_than": d["newer"]}
    page = queries.page_of(events.select_related("actor"), **cursor)
    return render(request, "audit/list.html", {"form": form, "page": page, "area": area})
