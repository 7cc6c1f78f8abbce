"""Complaint pages (issue 12, point 6).

Public (no sign-in, namespace "public"): the form to send a complaint or feedback
(/tra-cuu/khieu-nai/) and its status by reference and the last four digits of the phone given
(/tra-cuu/khieu-nai/trang-thai/), which shows the state and the answer only. Both are
rate-limited per client (ansinh.complaints.services).

Staff (namespace "complaints"): the register with filters, counts and its XLSX, the form for a
complaint taken on the phone or at the counter, one complaint with its actions. Who sees and who
acts: ansinh.complaints.queries (another area's complaint is a 404, a reader's action a 403)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import history
from ansinh.complaints import exports, queries, services
from ansinh.complaints.models import Complaint, State
from ansinh.core.clients import client_address
from ansinh.core.errors import DomainError
from ansinh.core.masking import mask_number
from ansinh.core.text import phone_display
from ansinh.registry.privacy import contact_visible, mask_phone
from ansinh.registry.queries import cccd_visible

from ..forms_complaints import (
    AssignForm,
    CloseForm,
    IdentifyForm,
    ProvinceForm,
    PublicComplaintForm,
    RegisterFilterForm,
    StaffComplaintForm,
    StatusForm,
    WithdrawForm,
)
from ..shortcuts import cap_required, paginate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HISTORY_SHOWN = 30


def _client(request) -> str:
    return client_address(request) or "unknown"


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- public -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def public_new(request):
    """Choose the province (when there are several), then the form; the reference on success."""
    provinces = list(queries.current_provinces())
    province_id = request.POST.get("tinh") or request.GET.get("tinh")
    province_id = int(province_id) if province_id and str(province_id).isdigit() else None
    if len(provinces) > 1 and province_id not in {p.pk for p in provinces}:
        return render(request, "complaints/public_province.html", {"form": ProvinceForm(provinces=provinces)})
    communes = list(queries.current_communes(province_id if len(provinces) > 1 else None))
    form = PublicComplaintForm(request.POST or None, communes=communes)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                complaint = services.lodge_online(
                    client=_client(request),
                    commune_id=form.cleaned_data["commune"],
                    **{k: form.cleaned_data[k] for k in ("kind", "topic", "name", "phone", "text", "cccd", "website")},
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            except services.RateLimited as exc:
                form.add_error(None, str(exc))
                status = 429
            else:
                return render(request, "complaints/public_done.html", {"complaint": complaint})
        if status == 200:
            status = 400
    return render(request, "complaints/public_new.html", {"form": form, "province_id": province_id}, status=status)


@require_http_methods(["GET", "POST"])
def public_status(request):
    """The state and the answer of one's complaint: reference + last four digits of the phone.
    The same answer for an unknown reference and wrong digits."""
    form = StatusForm(request.POST or None)
    complaint, missed, status = None, False, 200
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.check_status(
                client=_client(request),
                reference=form.cleaned_data["reference"],
                phone_last4=form.cleaned_data["last4"],
            )
        except services.RateLimited as exc:
            form.add_error(None, str(exc))
            status = 429
        else:
            missed = complaint is None
    return render(
        request,
        "complaints/public_status.html",
        {"form": form, "complaint": complaint, "missed": missed},
        status=status,
    )


# --- staff --------------------------------------------------------------------------------------


def _visible_communes(user):
    ids = queries.complaints_for(user).order_by().values("commune_id").distinct()
    return Area.objects.filter(pk__in=ids).order_by("name_key")


def _register_qs(request):
    form = RegisterFilterForm(request.GET or None, communes=_visible_communes(request.user))
    qs = queries.filter_complaints(queries.complaints_for(request.user), **form.params())
    return form, qs


@require_GET
@cap_required(Cap.COMPLAINTS_VIEW)
def register(request):
    form, qs = _register_qs(request)
    page = paginate(request, qs.order_by("-received_on", "-id"))
    context = {
        "form": form,
        "page": page,
        "complaints": list(page.object_list),
        "today": timezone.localdate(),
        "counts": queries.counts(qs),
        "state_choices": State.choices,
        "may_lodge": queries.handling_communes(request.user).exists(),
        "query": request.GET.urlencode(),
    }
    return render(request, "complaints/register.html", context)


@require_GET
@cap_required(Cap.COMPLAINTS_VIEW)
def export(request):
    form, qs = _register_qs(request)
    out = exports.export_register(actor=request.user, qs=qs, filters=form.params())
    filename = f"so-theo-doi-khieu-nai-{timezone.localdate():%Y%m%d}.xlsx"
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@cap_required(Cap.COMPLAINTS_VIEW)
def new(request):
    communes = list(queries.handling_communes(request.user))
    if not communes:
        raise PermissionDenied
    form = StaffComplaintForm(request.POST or None, communes=Area.objects.filter(pk__in=[c.pk for c in communes]))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.lodge_by_staff(actor=request.user, **data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except services.ComplaintForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("Complaint %(reference)s recorded.") % {"reference": complaint.reference})
            if queries.complaints_for(request.user).filter(pk=complaint.pk).exists():
                return redirect("complaints:detail", pk=complaint.pk)
            return redirect("complaints:register")
    return render(request, "complaints/new.html", {"form": form})


def _complaint(request, pk: int) -> Complaint:
    return get_object_or_404(queries.complaints_for(request.user), pk=pk)


def _handled(request, pk: int) -> Complaint:
    complaint = _complaint(request, pk)
    if not queries.may_handle(request.user, complaint):
        raise PermissionDenied
    return complaint


@require_GET
@login_required
def detail(request, pk: int):
    c = _complaint(request, pk)
    user = request.user
    may_handle = queries.may_handle(user, c)
    # the lodger's phone: in full to those who handle it (they call back) or see contact data
    full_phone = may_handle or contact_visible(user)(c.area_path)
    context = {
        "c": c,
        "today": timezone.localdate(),
        "may_handle": may_handle and c.is_open,
        "phone_shown": phone_display(c.phone) if full_phone else mask_phone(c.phone),
        "cccd_shown": c.cccd if cccd_visible(user)(c.area_path) else mask_number(c.cccd),
        "registry_link": access.can_in_area(user, Cap.REGISTRY_VIEW, c.commune),
        "linked_lines": list(c.lines.select_related("cycle__programme")),
        "linked_exceptions": list(c.exceptions.select_related("batch__cycle")),
        "history": history(c).order_by("-at", "-id")[:HISTORY_SHOWN],
    }
    if context["may_handle"]:
        context |= {
            "assign_form": AssignForm(assignees=queries.assignees_for(c), initial={"assignee": c.assignee_id}),
            "close_form": CloseForm(),
            "withdraw_form": WithdrawForm(),
            "identify_form": IdentifyForm(initial={"cccd": c.cccd}),
            "lines": list(queries.lines_of(c)),
            "exceptions": list(queries.exceptions_of(c)),
            "linked_line_ids": {x.pk for x in context["linked_lines"]},
            "linked_exception_ids": {x.pk for x in context["linked_exceptions"]},
        }
    return render(request, "complaints/detail.html", context)


def _act(request, c: Complaint, action, success: str):
    try:
        action()
    except services.ComplaintForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("complaints:detail", pk=c.pk)


@require_POST
@login_required
def assign(request, pk: int):
    c = _handled(request, pk)
    form = AssignForm(request.POST, assignees=queries.assignees_for(c))
    if not form.is_valid():
        messages.error(request, _("Choose the handler among those offered."))
        return redirect("complaints:detail", pk=c.pk)
    d = form.cleaned_data
    return _act(
        request,
        c,
        lambda: services.assign(
            actor=request.user, complaint=c, assignee=d["assignee"], routed_to=d["routed_to"], note=d["note"]
        ),
        _("Saved."),
    )


@require_POST
@login_required
def identify(request, pk: int):
    from ansinh.registry.models import Beneficiary

    c = _handled(request, pk)
    form = IdentifyForm(request.POST)
    found = (
        Beneficiary.objects.filter(cccd=form.cleaned_data["cccd"], commune_id=c.commune_id).first()
        if form.is_valid()
        else None
    )
    if found is None:
        messages.error(request, _("No beneficiary of this commune has this CCCD number."))
        return redirect("complaints:detail", pk=c.pk)
    return _act(
        request,
        c,
        lambda: services.identify(actor=request.user, complaint=c, beneficiary=found),
        _("The complaint is linked to %(name)s.") % {"name": found.full_name},
    )


@require_POST
@login_required
def link(request, pk: int):
    from ansinh.disbursement.models import TransferException
    from ansinh.payroll.models import PayrollLine

    c = _handled(request, pk)

    def ids(name: str) -> list[int]:
        return [int(v) for v in request.POST.getlist(name) if v.isdigit()][:100]

    # any line or exception of another commune named here is refused by the service
    lines = list(PayrollLine.objects.filter(pk__in=ids("lines")))
    excs = list(TransferException.objects.filter(pk__in=ids("exceptions")))
    if len(lines) != len(set(ids("lines"))) or len(excs) != len(set(ids("exceptions"))):
        messages.error(request, _("Only payroll lines and exceptions of the complaint's beneficiary can be linked."))
        return redirect("complaints:detail", pk=c.pk)
    return _act(
        request,
        c,
        lambda: services.link_records(actor=request.user, complaint=c, lines=lines, exceptions=excs),
        _("Links saved."),
    )


def _close(request, pk: int, service, success: str):
    c = _handled(request, pk)
    form = CloseForm(request.POST)
    text = form.cleaned_data["resolution"] if form.is_valid() else ""
    return _act(request, c, lambda: service(actor=request.user, complaint=c, resolution=text), success)


@require_POST
@login_required
def resolve(request, pk: int):
    return _close(request, pk, services.resolve, _("The complaint is resolved."))


@require_POST
@login_required
def reject(request, pk: int):
    return _close(request, pk, services.reject, _("The complaint is recorded as not accepted."))


@require_POST
@login_required
def withdraw(request, pk: int):
    c = _handled(request, pk)
    form = WithdrawForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        c,
        lambda: services.withdraw(actor=request.user, complaint=c, note=note),
        _("The complaint is recorded as withdrawn."),
    )
