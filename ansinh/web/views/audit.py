from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.audit import queries

from ..forms_audit import AuditFilterForm
from ..labels import action_choices
from ..shortcuts import cap_required

CHOICES_SHOWN = 500  # users and areas offered by the filter's lists


def _area_choices(user, chosen) -> list[tuple[int, str]]:
    """The provinces, districts and communes of the reader's areas, in tree order (indented),
    and the chosen area (a village, from its page)."""
    rows = list(
        access.areas_for(user, Cap.AUDIT_VIEW)
        .exclude(level=Level.VILLAGE)
        .order_by("tree", "path")
        .values_list("pk", "division_type", "name", "depth")[:CHOICES_SHOWN]
    )
    top = min((depth for *_r, depth in rows), default=0)
    choices = [(pk, "\u2003" * (depth - top) + f"{kind} {name}".strip()) for pk, kind, name, depth in rows]
    if chosen is not None and chosen.pk not in {pk for pk, _l in choices}:
        choices.append((chosen.pk, chosen.full_name))
    return choices


def _user_choices(user, actor_id) -> list[tuple[int, str]]:
    """The users who hold a role in the reader's areas, by name (and the chosen one)."""
    assignments = access.scope(RoleAssignment.objects.active(), user, Cap.AUDIT_VIEW, path_field="area__path")
    rows = (
        User.objects.filter(pk__in=assignments.values("user_id"))
        .order_by("full_name", "username")
        .values_list("pk", "full_name", "username")[:CHOICES_SHOWN]
    )
    choices = [(pk, name or username) for pk, name, username in rows]
    if actor_id and actor_id not in {pk for pk, _n in choices}:
        other = User.objects.filter(pk=actor_id).values_list("full_name", "username").first()
        if other:
            choices.append((actor_id, other[0] or other[1]))
    return choices


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() and len(str(value)) < 19 else None


def _context(request) -> dict:
    user = request.user
    area_id, actor_id = _int(request.GET.get("area")), _int(request.GET.get("actor"))
    area = get_object_or_404(access.areas_for(user, Cap.AUDIT_VIEW), pk=area_id) if area_id else None
    form = AuditFilterForm(
        request.GET, actions=action_choices(), users=_user_choices(user, actor_id), areas=_area_choices(user, area)
    )
    f = queries.EventFilter(area_path=area.path if area else "")
    cursor, people = {}, None
    if form.is_valid():
        d = form.cleaned_data
        f.action, f.actor_id, f.since, f.until = d["action"], d["actor"], d["since"], d["until"]
        if d["beneficiary"]:
            f.objects = queries.person_objects(user, beneficiary_ids=[d["beneficiary"]])
            if not f.objects[0][1]:
                raise Http404  # another area's person answers as if unknown
            people = [d["beneficiary"]]
        elif d["person"].strip():
            people = queries.search_people(user, d["person"])
            f.objects = queries.person_objects(user, beneficiary_ids=people) if people else [("", [])]
        cursor = {"older_than": d["older"], "newer_than": d["newer"]}
    events = queries.filtered(queries.events_for(user), f)
    page = queries.page_of(events.select_related("actor"), **cursor)
    names = None
    if people is not None:
        from ansinh.registry.models import Beneficiary

        found = Beneficiary.objects.filter(pk__in=people).values_list("full_name", "birth_date")
        names = [f"{name} ({born.year})" for name, born in found]
    return {"form": form, "page": page, "area": area, "people": names}


@require_GET
@cap_required(Cap.AUDIT_VIEW)
def audit_list(request):
    """Audit events located in the user's areas, newest first, in keyset pages (newer / older);
    filter by person, user, area, action and dates. No count and no DISTINCT over the log: the
    page costs the same on a log of millions of events."""
    return render(request, "audit/list.html", _context(request))
