"""Account opening pages: the village head's phone-sized form (find a person of the village, who
opens the account, confirm the phone, ask to be paid to it), the commune's list of requests
(confirm in bulk, cancel), the batches sent to the provider (export, download, import the
results with the row report, the sandbox's answer) and the figures per unit and month."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.core.text import phone_display
from ansinh.openings import figures, queries, sandbox, services
from ansinh.openings.models import OPEN_STATUSES, OpeningRequest, RequestStatus
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.registry import queries as registry_queries
from ansinh.registry.models import Beneficiary, Status
from ansinh.registry.privacy import contact_visible, mask_phone

from ..shortcuts import cap_required, is_htmx, paginate, vary_on_htmx

MAX_UPLOAD = 10 * 1024 * 1024
SEARCH_LIMIT = 30


def _render(request, template: str, context: dict, status: int = 200):
    context |= {
        "can_request": access.has_cap(request.user, Cap.OPENINGS_REQUEST),
        "can_manage": access.has_cap(request.user, Cap.OPENINGS_MANAGE),
    }
    return render(request, template, context, status=status)


def _requestable(user, qs=None):
    """Beneficiaries (receiving or suspended) where the user may request accounts (of `qs`: a
    queryset or the registry's ranked search results)."""
    qs = Beneficiary.objects.all() if qs is None else qs
    scope = access.area_q(user, Cap.OPENINGS_REQUEST, path_field="area_path")
    qs = qs if scope is None else qs.filter(scope)
    return qs.filter(status__in=(Status.ACTIVE, Status.SUSPENDED))


@require_GET
@cap_required(Cap.OPENINGS_REQUEST)
def request_start(request):
    """Find a person of the village (name with or without diacritics, CCCD or phone)."""
    q = request.GET.get("q", "").strip()[:100]
    people = []
    if q:
        found = registry_queries.search(request.user, registry_queries.SearchParams(q=q))
        people = list(_requestable(request.user, found).select_related("village")[:SEARCH_LIMIT])
    else:
        people = list(_requestable(request.user).select_related("village").order_by("sort_key", "id")[:SEARCH_LIMIT])
    ids = [p.pk for p in people]
    with_account = set(
        ReceivingAccount.objects.filter(beneficiary__in=ids, status=AccountStatus.ACTIVE).values_list(
            "beneficiary_id", flat=True
        )
    )
    pending = set(
        OpeningRequest.objects.filter(beneficiary__in=ids, status__in=OPEN_STATUSES).values_list(
            "beneficiary_id", flat=True
        )
    )
    for p in people:
        p.has_account = p.pk in with_account
        p.has_request = p.pk in pending
    context = {"q": q, "people": people, "limit": SEARCH_LIMIT}
    if is_htmx(request):
        return vary_on_htmx(render(request, "openings/_people.html", context))
    mine = queries.requests_for(request.user).filter(requested_by=request.user).select_related("beneficiary")
    context["mine"] = list(mine.order_by("-requested_at", "-id")[:10])
    return vary_on_htmx(_render(request, "openings/start.html", context))


def _choices(b: Beneficiary, user) -> list[dict]:
    """Who may open the account: the beneficiary and each current representative, with what the
    page shows of them (phone masked unless the user may see phones)."""
    show = contact_visible(user)(b.area_path)
    out = [
        {
            "value": "self",
            "name": b.full_name,
            "role": _("the beneficiary"),
            "phone": (b.phone_display if show else mask_phone(b.phone)) if b.phone else "",
            "has_cccd": bool(b.cccd),
            "link": None,
        }
    ]
    for link in b.representations.filter(ended_at__isnull=True).select_related("representative").order_by("id"):
        rep = link.representative
        out.append(
            {
                "value": str(link.pk),
                "name": rep.full_name,
                "role": link.get_kind_display().lower(),
                "phone": (phone_display(rep.phone) if show else mask_phone(rep.phone)) if rep.phone else "",
                "has_cccd": bool(rep.cccd),
                "link": link,
            }
        )
    return out


@cap_required(Cap.OPENINGS_REQUEST)
def request_form(request, beneficiary_id: int):
    """Who opens the account, the phone confirmed, and whether to be paid to it."""
    b = get_object_or_404(_requestable(request.user).select_related("commune", "village"), pk=beneficiary_id)
    choices = _choices(b, request.user)
    errors: list[str] = []
    chosen, switch = "self", True
    if request.method == "POST":
        chosen = request.POST.get("who", "")
        switch = request.POST.get("switch_method") == "on"
        picked = next((c for c in choices if c["value"] == chosen), None)
        if picked is None:
            errors.append(_("Choose who opens the account."))
        elif request.POST.get("phone_confirmed") != "on":
            errors.append(_("Ask the person whether the phone number is theirs, then tick the box."))
        else:
            try:
                services.request_opening(
                    actor=request.user, beneficiary=b, representation=picked["link"], switch_method=switch
                )
            except ValidationError as exc:
                errors += exc.messages
            else:
                messages.success(
                    request,
                    _("The request for %(name)s was recorded; the commune will confirm it.") % {"name": picked["name"]},
                )
                return redirect("openings:start")
    context = {"b": b, "choices": choices, "chosen": chosen, "switch": switch, "errors": errors}
    return _render(request, "openings/request_form.html", context, status=422 if errors else 200)


def _reader(request) -> None:
    if not queries.may_read(request.user):
        raise PermissionDenied


@require_GET
@login_required
def request_list(request):
    _reader(request)
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    qs = queries.requests_for(request.user).filter(queries.status_filter(status))
    qs = qs.select_related("beneficiary", "representation__representative", "commune", "account__institution")
    page = paginate(request, qs.order_by("-requested_at", "-id"))
    manage = access.has_cap(request.user, Cap.OPENINGS_MANAGE)
    for r in page.object_list:
        r.person_name = r.representation.representative.full_name if r.representation_id else r.beneficiary.full_name
        manages_here = manage and access.can_in_area(request.user, Cap.OPENINGS_MANAGE, r.commune)
        r.may_confirm = r.status == RequestStatus.REQUESTED and manages_here
        r.may_cancel = (r.status in (RequestStatus.REQUESTED, RequestStatus.CONFIRMED) and manages_here) or (
            r.status == RequestStatus.REQUESTED and r.requested_by_id == request.user.pk
        )
    context = {"page": page, "status": status, "statuses": RequestStatus.choices, "manage": manage}
    return _render(request, "openings/requests.html", context)


@require_POST
@cap_required(Cap.OPENINGS_MANAGE)
def request_confirm(request):
    ids = [int(i) for i in request.POST.getlist("request") if i.isdigit() and len(i) < 19]
    chosen = queries.managed_requests(request.user).filter(pk__in=ids, status=RequestStatus.REQUESTED)
    n = services.confirm_requests(actor=request.user, requests=list(chosen))
    if n:
        messages.success(request, _("%(n)s requests confirmed.") % {"n": n})
    else:
        messages.info(request, _("Tick the requests to confirm."))
    return redirect("openings:requests")


@require_POST
@login_required
def request_cancel(request, request_id: int):
    _reader(request)
    req = get_object_or_404(queries.requests_for(request.user), pk=request_id)
    try:
        services.cancel_request(actor=request.user, request=req, reason=request.POST.get("reason", "")[:255])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The request %(code)s was cancelled.") % {"code": req.code})
    return redirect("openings:requests")


# --- batches -------------------------------------------------------------------------------------


def _batches_page(request, report: dict | None = None, status: int = 200):
    communes = list(queries.managed_communes(request.user)[:200])
    waiting = dict(
        queries.managed_requests(request.user)
        .filter(status=RequestStatus.CONFIRMED)
        .order_by()
        .values_list("commune_id")
        .annotate(n=Count("id"))
    )
    for c in communes:
        c.waiting = waiting.get(c.pk, 0)
    batches = queries.batches_for(request.user).select_related("commune", "institution", "created_by")
    context = {
        "communes": communes,
        "page": paginate(request, batches),
        "imports": list(queries.imports_for(request.user).select_related("imported_by")[:10]),
        "report": report,
        "sandbox": sandbox.enabled(),
    }
    return _render(request, "openings/batches.html", context, status=status)


@require_GET
@cap_required(Cap.OPENINGS_MANAGE)
def batch_list(request):
    return _batches_page(request)


@require_POST
@cap_required(Cap.OPENINGS_MANAGE)
def batch_export(request):
    commune = get_object_or_404(queries.managed_communes(request.user), pk=_int(request.POST.get("commune")))
    try:
        batch = services.export_batch(actor=request.user, commune=commune)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(n)s requests put in the file %(file)s.") % {"n": batch.count, "file": batch.file_name}
        )
    return redirect("openings:batches")


def _int(value) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else 0


@require_GET
@cap_required(Cap.OPENINGS_MANAGE)
def batch_file(request, batch_id: int):
    batch = get_object_or_404(queries.batches_for(request.user), pk=batch_id)
    services.log_batch_download(actor=request.user, batch=batch)
    response = HttpResponse(
        bytes(batch.content), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
    return response


def _import(request, batch, name: str, content: bytes):
    outcome = services.import_results(actor=request.user, content=content, file_name=name, batch=batch)
    summary = outcome.summary()
    if outcome.duplicate:
        messages.info(request, _("This file was already imported: nothing changed."))
    elif outcome.ok:
        messages.success(
            request,
            _("Results imported: %(opened)s opened, %(rejected)s rejected, %(unchanged)s unchanged.") % summary,
        )
    else:
        messages.error(
            request, _("The file has errors: nothing was written. Correct the rows below and upload it again.")
        )
    return _batches_page(request, report=summary | {"file": name}, status=200 if outcome.ok else 422)


@require_POST
@cap_required(Cap.OPENINGS_MANAGE)
def batch_results(request, batch_id: int):
    batch = get_object_or_404(queries.batches_for(request.user), pk=batch_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the provider's results file."))
        return redirect("openings:batches")
    if upload.size > MAX_UPLOAD:
        messages.error(request, _("The file is larger than 10 MB."))
        return redirect("openings:batches")
    return _import(request, batch, upload.name, upload.read())


@require_POST
@cap_required(Cap.OPENINGS_MANAGE)
def batch_sandbox(request, batch_id: int):
    if not sandbox.enabled():
        raise Http404
    batch = get_object_or_404(queries.batches_for(request.user), pk=batch_id)
    name, content = sandbox.answer_batch(batch)
    return _import(request, batch, name, content)


# --- figures -------------------------------------------------------------------------------------


def _month(text: str) -> date:
    try:
        year, month = (int(x) for x in text.split("-", 1))
        return date(year, month, 1)
    except (ValueError, TypeError):
        today = timezone.localdate()
        return date(today.year, today.month, 1)


@require_GET
@cap_required(Cap.OPENINGS_MANAGE)
def opening_figures(request):
    units = list(
        access.areas_for(request.user, Cap.OPENINGS_MANAGE)
        .filter(level__in=(Level.PROVINCE, Level.DISTRICT, Level.COMMUNE))
        .order_by("depth", "name_key")[:300]
    )
    if not units:
        raise PermissionDenied
    unit = next((u for u in units if u.pk == _int(request.GET.get("area"))), units[0])
    month = _month(request.GET.get("month", ""))
    table = figures.opening_table(unit, month)
    context = {"units": units, "unit": unit, "month": month, "table": table}
    return _render(request, "openings/figures.html", context)
