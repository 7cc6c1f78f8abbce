"""Application pages (issue 12, hồ sơ đề nghị trợ cấp hằng tháng).

Public (no sign-in, mobile-first): the form with its documents (/ho-so/), the status of one
application shown only with its reference and the last four digits of its phone (the same answer
for an unknown reference and wrong digits; rate-limited), and a commune's public posting (name,
village, year of birth, the claimed category's public name — never an HIV-related one; no CCCD,
no phone).

Staff: the list (filters, counts), one application with its documents (each download logged) and
the review / posting / decision / withdrawal actions, and the counter form. Who: those who
review applications (applications.review) or decide them (registry.decide) in the application's
commune; another area's application is a 404, an action without the capability a 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.applications import queries, services, throttle
from ansinh.applications.models import Attachment, State
from ansinh.areas.models import Area, Level
from ansinh.core.errors import DomainError
from ansinh.core.text import phone_display
from ansinh.registry.privacy import contact_visible, mask_phone
from ansinh.registry.queries import cccd_visible

from ..forms_applications import (
    ACCEPT,
    FILE_FIELDS,
    ApplicantForm,
    DecideForm,
    FilterForm,
    PostForm,
    ReviewForm,
    StatusLookupForm,
    WithdrawForm,
    apply_errors,
    uploads_of,
)
from ..shortcuts import cap_required, paginate


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _file_fields():
    return [{"name": name, "kind": kind, "label": label} for name, kind, label in FILE_FIELDS]


# --- public ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def public_form(request):
    """What to prepare, and the form with its documents."""
    communes = services.receiving_communes()
    form = ApplicantForm(request.POST or None, communes=communes)
    loose: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            app = services.submit_online(
                data=form.applicant_input(), uploads=uploads_of(request), client=throttle.client_key(request)
            )
        except ValidationError as exc:
            loose = apply_errors(form, _errors(exc))
        except throttle.TooManyAttempts as exc:
            loose = [str(exc)]
        else:
            return render(request, "applications/public_done.html", {"app": app})
    context = {"form": form, "loose": loose, "file_fields": _file_fields(), "accept": ACCEPT}
    return render(request, "applications/public_form.html", context, status=422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def public_status(request):
    """The state of one application, with its proof; returned applications take more documents."""
    form = StatusLookupForm(request.POST or None)
    app, refused, loose, added = None, "", [], False
    if request.method == "POST" and form.is_valid():
        client, ref = throttle.client_key(request), form.cleaned_data["reference"].strip().upper()
        try:
            throttle.check_status_lookup(client, ref)
        except throttle.TooManyAttempts as exc:
            refused = str(exc)
        else:
            app = queries.by_reference_and_phone(ref, form.cleaned_data["last4"])
            throttle.count(throttle.CHECK, client, ref, succeeded=app is not None)
            if app is None:
                refused = _("No application matches this reference and these phone digits.")
            elif request.POST.get("add_documents"):
                try:
                    services.add_documents(actor=None, application=app, uploads=uploads_of(request))
                    added = True
                except ValidationError as exc:
                    loose = [m for ms in _errors(exc).values() for m in ms]
                except DomainError as exc:
                    loose = [str(exc)]
    context = {
        "form": form,
        "app": app,
        "refused": refused,
        "loose": loose,
        "added": added,
        "file_fields": _file_fields(),
        "accept": ACCEPT,
        "decidable_from": services.decidable_from(app) if app else None,
    }
    return render(request, "applications/public_status.html", context)


@require_GET
def public_posting(request, code: str):
    """A commune's applications in their public posting period."""
    commune = queries.posting_commune(code)
    if commune is None:
        raise Http404
    rows = [
        {
            "name": a.full_name,
            "village": a.village.name if a.village else "",
            "year": a.birth_date.year,
            "category": queries.public_category_name(a),
            "starts": a.posting_starts,
            "ends": a.posting_ends,
        }
        for a in queries.posted_in(commune)
    ]
    return render(request, "applications/public_posting.html", {"commune": commune, "rows": rows})


# --- staff -----------------------------------------------------------------------------------------


def _staff(request):
    if not queries.may_see(request.user):
        raise PermissionDenied
    return queries.applications_for(request.user)


def _communes(user):
    ids = queries.applications_for(user).order_by().values("commune_id").distinct()
    reviewable = access.scope(Area.objects.filter(level=Level.COMMUNE), user, Cap.APPLICATIONS_REVIEW, "path")
    return Area.objects.filter(pk__in=ids) | reviewable


@cap_required(Cap.DASHBOARD)
@require_GET
def application_list(request):
    qs = _staff(request)
    form = FilterForm(request.GET or None, communes=_communes(request.user).order_by("name_key")[:300])
    counts = queries.counts_by_state(qs)
    if form.is_valid():
        d = form.cleaned_data
        qs = qs.filter(**{k: d[k] for k in ("state", "channel") if d[k]})
        qs = qs.filter(commune_id=d["commune"]) if d["commune"] else qs
        qs = queries.applications_with_query(qs, d["q"])
    page = paginate(request, qs)
    label = queries.category_shower(request.user)
    rows = [(a, label(a)) for a in page.object_list]
    context = {"form": form, "page": page, "rows": rows, "counts": [(State(s).label, n) for s, n in counts.items()]}
    context["may_receive"] = access.has_cap(request.user, Cap.APPLICATIONS_REVIEW)
    return render(request, "applications/list.html", context)


def _detail_context(request, app, **extra):
    user = request.user
    contact = contact_visible(user)(app.area_path)
    return {
        "app": app,
        "phone": phone_display(app.phone) if contact else mask_phone(app.phone),
        "rep_phone": phone_display(app.rep_phone) if contact else mask_phone(app.rep_phone),
        "category": queries.category_shower(user)(app),
        "show_cccd": cccd_visible(user)(app.area_path),
        "may_review": access.can_in_area(user, Cap.APPLICATIONS_REVIEW, app.commune),
        "may_decide": access.can_in_area(user, Cap.REGISTRY_DECIDE, app.commune),
        "decidable_from": services.decidable_from(app),
        "today": timezone.localdate(),
        "attachments": app.attachments.all(),
        "review_form": extra.pop("review_form", None) or ReviewForm(),
        "post_form": extra.pop("post_form", None) or PostForm(),
        "decide_form": extra.pop("decide_form", None) or DecideForm(initial={"signed_on": timezone.localdate()}),
        "withdraw_form": WithdrawForm(),
        "file_fields": _file_fields(),
        "accept": ACCEPT,
        "signer_title": services.signer_title(app.commune, timezone.localdate()),
        **extra,
    }


@cap_required(Cap.DASHBOARD)
@require_GET
def application_detail(request, pk: int):
    app = get_object_or_404(_staff(request), pk=pk)
    return render(request, "applications/detail.html", _detail_context(request, app))


def _act(request, pk: int, cap: str):
    app = get_object_or_404(_staff(request), pk=pk)
    if not access.can_in_area(request.user, cap, app.commune):
        raise PermissionDenied
    return app


def _done(request, app, message: str):
    messages.success(request, message % {"reference": app.reference})
    return redirect("applications:detail", pk=app.pk)


def _failed(request, app, exc: Exception, **forms):
    if isinstance(exc, ValidationError):
        form = next(iter(forms.values()), None)
        loose = (
            apply_errors(form, _errors(exc)) if form is not None else [m for ms in _errors(exc).values() for m in ms]
        )
    else:
        loose = [str(exc)]
    for m in loose:
        messages.error(request, m)
    return render(request, "applications/detail.html", _detail_context(request, app, **forms), status=422)


@cap_required(Cap.APPLICATIONS_REVIEW)
@require_POST
def application_review(request, pk: int):
    app = _act(request, pk, Cap.APPLICATIONS_REVIEW)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _failed(request, app, ValidationError(_("Choose the outcome of the review.")), review_form=form)
    try:
        services.review(actor=request.user, application=app, **form.cleaned_data)
    except (ValidationError, DomainError) as exc:
        return _failed(request, app, exc, review_form=form)
    return _done(request, app, _("The review of application %(reference)s is recorded."))


@cap_required(Cap.APPLICATIONS_REVIEW)
@require_POST
def application_post(request, pk: int):
    app = _act(request, pk, Cap.APPLICATIONS_REVIEW)
    form = PostForm(request.POST)
    if not form.is_valid():
        return _failed(request, app, ValidationError(_("Enter the date as dd/mm/yyyy.")), post_form=form)
    try:
        services.post_publicly(actor=request.user, application=app, starts=form.cleaned_data["starts"])
    except (ValidationError, DomainError) as exc:
        return _failed(request, app, exc, post_form=form)
    return _done(request, app, _("Application %(reference)s is posted publicly."))


@cap_required(Cap.REGISTRY_DECIDE)
@require_POST
def application_decide(request, pk: int):
    app = _act(request, pk, Cap.REGISTRY_DECIDE)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _failed(request, app, ValidationError(_("Check the decision's fields.")), decide_form=form)
    try:
        services.decide(actor=request.user, application=app, **form.cleaned_data)
    except (ValidationError, DomainError) as exc:
        return _failed(request, app, exc, decide_form=form)
    return _done(request, app, _("The decision on application %(reference)s is recorded."))


@cap_required(Cap.APPLICATIONS_REVIEW)
@require_POST
def application_withdraw(request, pk: int):
    app = _act(request, pk, Cap.APPLICATIONS_REVIEW)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.withdraw(actor=request.user, application=app, reason=form.cleaned_data.get("reason", ""))
    except DomainError as exc:
        return _failed(request, app, exc)
    return _done(request, app, _("Application %(reference)s is withdrawn."))


@cap_required(Cap.APPLICATIONS_REVIEW)
@require_POST
def application_add_documents(request, pk: int):
    app = _act(request, pk, Cap.APPLICATIONS_REVIEW)
    try:
        services.add_documents(actor=request.user, application=app, uploads=uploads_of(request))
    except (ValidationError, DomainError) as exc:
        return _failed(request, app, exc)
    return _done(request, app, _("The documents are added to application %(reference)s."))


@cap_required(Cap.DASHBOARD)
@require_GET
def attachment_download(request, pk: int, attachment_id: int):
    app = get_object_or_404(_staff(request), pk=pk)
    att = get_object_or_404(Attachment, application=app, pk=attachment_id)
    services.record_download(actor=request.user, attachment=att)
    name = f"{app.reference}-{att.pk}.{att.file.name.rsplit('.', 1)[-1]}"
    return FileResponse(att.file.open("rb"), content_type=att.content_type, as_attachment=True, filename=name)


@cap_required(Cap.APPLICATIONS_REVIEW)
@require_http_methods(["GET", "POST"])
def application_counter(request):
    """An application received at the counter."""
    communes = access.scope(Area.objects.filter(level=Level.COMMUNE), request.user, Cap.APPLICATIONS_REVIEW, "path")
    form = ApplicantForm(request.POST or None, communes=communes.order_by("name_key")[:300])
    loose: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            app = services.submit_at_counter(
                actor=request.user, data=form.applicant_input(), uploads=uploads_of(request)
            )
        except ValidationError as exc:
            loose = apply_errors(form, _errors(exc))
        except DomainError as exc:
            loose = [str(exc)]
        else:
            return _done(request, app, _("Application %(reference)s is received."))
    context = {"form": form, "loose": loose, "file_fields": _file_fields(), "accept": ACCEPT}
    return render(request, "applications/counter.html", context, status=422 if request.method == "POST" else 200)
