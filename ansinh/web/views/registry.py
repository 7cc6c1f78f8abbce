"""The beneficiary registry pages: search and list (live results over HTMX), XLSX export of the
filtered list, the detail page with its history, and the forms that register and correct a
beneficiary, record decisions and manage representatives.

Every page looks the beneficiary up in the user's areas (another area's beneficiary is a 404)
and then checks the capability in the beneficiary's area (visible but not allowed: 403). The
writes are the registry services; their ValidationErrors come back at the form fields."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.models import AuditEvent
from ansinh.audit.services import history
from ansinh.core.errors import InvalidTransition
from ansinh.core.money import format_vnd
from ansinh.core.text import phone_display
from ansinh.lookup.status import APPROVED_STATES, month_status, state_text
from ansinh.payments.services import designate_payee
from ansinh.payroll.models import PayrollLine
from ansinh.policy.entitlement import Claim, monthly_entitlement
from ansinh.policy.models import Category
from ansinh.registry import exports, matching, privacy, queries, services
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, DecisionKind, Representation, Status

from ..forms_registry import (
    BeneficiaryForm,
    BeneficiarySearchForm,
    DecisionForm,
    MoveAcceptForm,
    RepresentativeForm,
    beneficiary_initial,
    category_formset,
    entitlement_choices,
    entitlement_value,
)
from ..payment_section import payment_section
from ..printing import PrintList, Summary, heading_for, print_response
from ..shortcuts import cap_required, is_htmx, paginate, vary_on_htmx
from .verification import beneficiary_panel

PAGE_SIZE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HISTORY_SHOWN = 20
AREA_CHOICES_UP_TO = 400  # communes in the filter; above that the user's top areas and their children
VILLAGES_LISTED_UP_TO = 3  # communes whose villages are listed in the filter without selecting one

# --- lookups and authorisation -----------------------------------------------------------------


def _area_of(b: Beneficiary) -> Area:
    return b.village or b.commune


def _beneficiary(request, pk: int, cap: str | None = None) -> Beneficiary:
    """The beneficiary if it is in the user's areas (else 404) and, with `cap`, if the user holds
    that capability in its area (else 403)."""
    qs = queries.beneficiaries_for(request.user).select_related("commune", "village", "legacy_commune__parent")
    b = get_object_or_404(qs, pk=pk)
    if cap and not access.can_in_area(request.user, cap, _area_of(b)):
        raise PermissionDenied
    return b


def _edit_communes(user):
    """The communes where the user may register beneficiaries, valid today."""
    return (
        access.areas_for(user, Cap.REGISTRY_EDIT)
        .filter(level=Level.COMMUNE)
        .valid_on(timezone.localdate())
        .order_by("name_key")
    )


def _current_categories() -> Prefetch:
    return Prefetch(
        "categories",
        queryset=BeneficiaryCategory.objects.filter(to_month__isnull=True)
        .select_related("category")
        .order_by("category__code", "id"),
        to_attr="current_categories",
    )


def _current_payees() -> Prefetch:
    return Prefetch(
        "representations",
        queryset=Representation.objects.filter(is_payee=True, ended_at__isnull=True).select_related("representative"),
        to_attr="payees",
    )


def _apply_errors(form, errors: dict[str, list], category_errors: list | None = None) -> None:
    """Service errors by field name: at the form's field, category errors above the category
    rows, anything else above the form."""
    for name, messages_ in errors.items():
        if name in form.fields:
            form.add_error(name, messages_)
        elif name == "categories" and category_errors is not None:
            category_errors.extend(str(m) for m in messages_)
        else:
            form.add_error(None, messages_)


def _error_dict(exc: ValidationError) -> dict[str, list]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


# --- list, search, export ----------------------------------------------------------------------


def _area_choices(user, selected: str | None) -> list:
    """Communes in the user's areas; the villages of a few communes (or of the selected one)
    listed under them."""
    communes = list(
        access.areas_for(user, Cap.REGISTRY_VIEW)
        .filter(level=Level.COMMUNE)
        .order_by("name_key")[: AREA_CHOICES_UP_TO + 1]
    )
    if len(communes) > AREA_CHOICES_UP_TO:
        top = access.top_areas(user, Cap.REGISTRY_VIEW)
        below = Area.objects.filter(parent__in=top).exclude(level=Level.VILLAGE).order_by("name_key")
        choices = [(a.pk, a.full_name) for a in top] + [(a.pk, f"— {a.full_name}") for a in below]
        if selected and selected.isdigit() and int(selected) not in {pk for pk, _label in choices}:
            # a commune chosen elsewhere (the dashboard's figures per commune link to its list)
            chosen = access.areas_for(user, Cap.REGISTRY_VIEW).filter(pk=int(selected)).first()
            choices += [(chosen.pk, chosen.full_name)] if chosen else []
        return choices
    expand = {c.pk for c in communes} if len(communes) <= VILLAGES_LISTED_UP_TO else set()
    if selected and selected.isdigit():
        chosen = Area.objects.filter(pk=int(selected)).only("id", "parent_id", "level").first()
        if chosen is not None:
            expand.add(chosen.parent_id if chosen.level == Level.VILLAGE else chosen.pk)
    villages: dict[int, list] = {}
    if expand:
        for v in Area.objects.filter(parent_id__in=expand, level=Level.VILLAGE).order_by("name_key"):
            villages.setdefault(v.parent_id, []).append((v.pk, v.full_name))
    choices = []
    for c in communes:
        if villages.get(c.pk):
            label = _("All of %(name)s") % {"name": c.full_name}
            choices.append((c.full_name, [(c.pk, label), *villages[c.pk]]))
        else:
            choices.append((c.pk, c.full_name))
    return choices


def _search_form(request) -> BeneficiarySearchForm:
    # HIV-related (sensitive) categories are never offered: a list filtered by one would disclose it.
    categories = [(c.code, c.name) for c in Category.objects.filter(sensitive=False).order_by("code")]
    return BeneficiarySearchForm(
        request.GET, areas=_area_choices(request.user, request.GET.get("area")), categories=categories
    )


def _searched(request, form: BeneficiarySearchForm):
    if not form.is_valid():
        return Beneficiary.objects.none()
    return queries.search(request.user, form.params())


@require_GET
@cap_required(Cap.REGISTRY_VIEW)
def beneficiary_list(request):
    """Search by name (with or without diacritics), CCCD or phone, filter by area, category,
    status, needs and data-quality issues. An HTMX request gets only the results."""
    user = request.user
    form = _search_form(request)
    # ranked for a name (registry.queries.search), counted up to COUNT_CAP ("more than 10,000")
    results = (
        _searched(request, form)
        .select_related("commune", "village")
        .prefetch_related(_current_categories(), _current_payees())
    )
    page = paginate(request, results, per_page=PAGE_SIZE, count_cap=queries.COUNT_CAP)
    visible = queries.cccd_visible(user)
    rows = [(b, visible(b.area_path), [c for c in b.current_categories if not c.category.sensitive]) for b in page]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query_string": request.GET.urlencode(),
        "can_create": access.has_cap(user, Cap.REGISTRY_EDIT),
        "can_export": access.has_cap(user, Cap.REGISTRY_EXPORT),
        "incoming_moves": 0 if is_htmx(request) else queries.incoming_moves_for(user).count(),
    }
    template = "registry/_results.html" if is_htmx(request) else "registry/list.html"
    return vary_on_htmx(render(request, template, context))


@require_GET
@cap_required(Cap.REGISTRY_EXPORT)
def beneficiary_export(request):
    """The filtered list as XLSX, streamed from a temporary file, in the areas where the user
    may export; CCCD and phone masked where the user may not see them; logged. A list too long
    for one file sends the user back to the list with the reason."""
    form = _search_form(request)
    try:
        export = exports.export_beneficiary_list(
            actor=request.user, results=_searched(request, form), params=form.params()
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        query = request.GET.urlencode()
        return redirect(reverse("registry:list") + (f"?{query}" if query else ""))
    filename = f"danh-sach-doi-tuong-{timezone.localdate():%Y%m%d}.xlsx"
    response = FileResponse(export.file, as_attachment=True, filename=filename, content_type=XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@cap_required(Cap.REGISTRY_EXPORT)
def beneficiary_print(request):
    """The filtered list on paper: every row, under the export's rules (registry.exports), with
    a "Ký nhận" column on request (?sign=1); the counts per commune after a list that spans
    several communes. A list too long to print sends the user back with the reason."""
    form = _search_form(request)
    try:
        printed = exports.print_beneficiary_list(
            actor=request.user, results=_searched(request, form), params=form.params()
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_list_url(request))
    summary = None
    if printed.summary is not None:
        summary = Summary(
            title=exports.SUMMARY_TITLE, headers=exports.SUMMARY_HEADERS, rows=printed.summary, numeric=COUNTS
        )
    page = PrintList(
        block=printed.heading.block,
        place=printed.heading.place,
        headers=printed.headers,
        rows=printed.rows,
        sign=request.GET.get("sign") == "1",
        summary=summary,
        back_url=_list_url(request),
        empty_text=_("No beneficiary in your areas matches."),
    )
    return print_response(request, page)


COUNTS = frozenset({0, 3, 4})  # the numbers in the summary per commune


def _list_url(request) -> str:
    query = request.GET.copy()
    query.pop("sign", None)
    return reverse("registry:list") + (f"?{query.urlencode()}" if query else "")


# --- detail ------------------------------------------------------------------------------------


def _entitlement(b: Beneficiary, categories: list[BeneficiaryCategory]):
    if b.status != Status.ACTIVE:
        return None
    claims = [
        Claim(category_code=c.category.code, condition=c.condition, units=c.units, fixed_key=c.fixed_key)
        for c in categories
        if c.to_month is None
    ]
    month = timezone.localdate().replace(day=1)
    if not claims or b.start_month > month:
        return None
    result = monthly_entitlement(claims=claims, month=month, birth_date=b.birth_date, province=b.commune)
    if not result:
        return None
    return {"month": month, "amount": format_vnd(result.amount), "result": result, "explanation": result.explanation}


@require_GET
@cap_required(Cap.REGISTRY_VIEW)
def beneficiary_detail(request, pk: int):
    user = request.user
    b = _beneficiary(request, pk)
    area = _area_of(b)
    all_categories = list(b.categories.select_related("category").order_by("to_month", "-from_month", "category__code"))
    categories = queries.visible_categories(user, all_categories, b.area_path)
    entitlement = _entitlement(b, all_categories)
    if entitlement and len(categories) < len(all_categories):
        entitlement["explanation"] = ""  # it would name the hidden (HIV-related) category
    links = list(b.representations.select_related("representative").order_by("ended_at", "-is_payee", "id"))
    person_visible = matching.viewer(user)
    contact = privacy.contact_visible(user)(b.area_path)
    for link in links:
        # a person who belongs to another area: name and masked CCCD only
        link.person_visible = person_visible(link.representative.area_path)
        phone = link.representative.phone if link.person_visible else ""
        link.phone_display = phone_display(phone) if contact else privacy.mask_phone(phone)
    decisions = list(
        b.decisions.select_related("to_commune", "from_commune", "created_by").order_by("-effective_month", "-id")
    )
    events = None
    if access.can_in_area(user, Cap.AUDIT_VIEW, area):
        events = (
            history(b)
            | AuditEvent.objects.filter(
                object_type=Representation._meta.label_lower, object_id__in=[str(link.pk) for link in links]
            ).select_related("actor")
        ).order_by("-at", "-id")[:HISTORY_SHOWN]
    context = {
        "b": b,
        "full_cccd": queries.cccd_visible(user)(b.area_path),
        "contact": contact,  # full phone numbers (registry.privacy), else masked
        "phone_shown": b.phone_display if contact else privacy.mask_phone(b.phone),
        "categories": categories,
        "current_links": [link for link in links if link.ended_at is None],
        "ended_links": [link for link in links if link.ended_at is not None],
        "payee": next((link for link in links if link.is_payee and link.ended_at is None), None),
        "status_history": list(b.status_history.select_related("decision").order_by("-effective_month", "-id")),
        "decisions": decisions,
        "entitlement": entitlement,
        "history": events,
        "can_edit": access.can_in_area(user, Cap.REGISTRY_EDIT, area),
        "can_decide": access.can_in_area(user, Cap.REGISTRY_DECIDE, area),
        "pay": payment_section(user, b),
        "verification": beneficiary_panel(user, b),
    }
    # the latest approved month of the person (the public page shows this month or the last only)
    latest = PayrollLine.objects.filter(beneficiary=b, cycle__state__in=APPROVED_STATES).aggregate(
        m=Max("cycle__month")
    )
    status = month_status(b.pk, today=min(latest["m"], timezone.localdate()) if latest["m"] else None)
    context |= {"month_status": status, "month_payments": [(p, state_text(p)) for p in status.payments]}
    return render(request, "registry/detail.html", context)


# --- create and edit ---------------------------------------------------------------------------


@cap_required(Cap.REGISTRY_EDIT)
def beneficiary_create(request):
    """Register a beneficiary with categories and the start decision. A likely duplicate is
    shown and saved only when "save anyway" is ticked."""
    user = request.user
    communes = _edit_communes(user)
    choices = entitlement_choices()
    duplicate: list[str] = []
    category_errors: list[str] = []
    initial = {}
    if len(communes) == 1:
        initial["commune"] = communes[0].pk
    if request.method == "POST":
        form = BeneficiaryForm(request.POST, communes=communes)
        cats = category_formset(request.POST, choices=choices)
        if form.is_valid() & cats.is_valid():
            data, findings = services.validate_beneficiary(form.beneficiary_input(cats.category_inputs()), actor=user)
            accepted = form.cleaned_data["accept_duplicate"]
            if findings.errors:
                _apply_errors(form, findings.errors, category_errors)
            elif "likely_duplicate" in findings.codes and not accepted:
                duplicate = [m for m in findings.warnings.get("full_name", []) if m]
            else:
                try:
                    b = services.create_beneficiary(actor=user, data=data, accept_duplicate=accepted, findings=findings)
                except ValidationError as exc:
                    _apply_errors(form, _error_dict(exc), category_errors)
                else:
                    messages.success(request, _("“%(name)s” is registered.") % {"name": b.full_name})
                    return redirect("registry:detail", pk=b.pk)
        category_errors.extend(str(e) for e in cats.non_form_errors())
    else:
        form = BeneficiaryForm(initial=initial, communes=communes)
        cats = category_formset(choices=choices)
    context = {
        "form": form,
        "cats": cats,
        "category_errors": category_errors,
        "duplicate": duplicate,
        "creating": True,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "registry/form.html", context, status=status)


@cap_required(Cap.REGISTRY_VIEW)
def beneficiary_edit(request, pk: int):
    """Correct identity, contact, address, village and needs (the commune, categories and status
    change by decision). A change that makes the record look like another person's asks for
    "save anyway"."""
    user = request.user
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    communes = Area.objects.filter(pk=b.commune_id)  # fixed: the commune changes by a move decision
    duplicate: list[str] = []
    if request.method == "POST":
        form = BeneficiaryForm(request.POST, initial=beneficiary_initial(b), communes=communes, creating=False)
        if form.is_valid():
            try:
                services.update_beneficiary(
                    actor=user,
                    beneficiary=b,
                    data=form.beneficiary_input(),
                    accept_duplicate=form.cleaned_data["accept_duplicate"],
                )
            except services.LikelyDuplicate as exc:
                duplicate = [str(m) for m in exc.message_dict.get("full_name", [])]
            except ValidationError as exc:
                _apply_errors(form, _error_dict(exc))
            else:
                messages.success(request, _("The changes are saved."))
                return redirect("registry:detail", pk=b.pk)
    else:
        form = BeneficiaryForm(initial=beneficiary_initial(b), communes=communes, creating=False)
    context = {"form": form, "b": b, "duplicate": duplicate, "creating": False}
    return render(request, "registry/form.html", context, status=422 if request.method == "POST" else 200)


# --- decisions ---------------------------------------------------------------------------------


def _move_targets(b: Beneficiary):
    """Communes of the same province and tree, valid today, other than the current one."""
    province_path = "/" + b.commune.path.strip("/").split("/")[0] + "/"
    return (
        Area.objects.filter(level=Level.COMMUNE, tree=b.commune.tree, path__startswith=province_path)
        .valid_on(timezone.localdate())
        .exclude(pk=b.commune_id)
        .order_by("name_key")
    )


@cap_required(Cap.REGISTRY_VIEW)
def decision_create(request, pk: int):
    """Record a decision (start, adjust, suspend, resume, stop, move) and apply it."""
    user = request.user
    b = _beneficiary(request, pk, Cap.REGISTRY_DECIDE)
    choices = entitlement_choices()
    current = b.categories.filter(to_month__isnull=True).select_related("category").order_by("category__code")
    cat_initial = [
        {"entitlement": entitlement_value(c.category.code, c.condition, c.fixed_key), "units": c.units} for c in current
    ]
    category_errors: list[str] = []
    targets = _move_targets(b)
    if request.method == "POST":
        form = DecisionForm(request.POST, move_targets=targets)
        cats = category_formset(request.POST, choices=choices, initial=cat_initial, rows=len(cat_initial) + 1)
        if form.is_valid() & cats.is_valid():
            d = form.cleaned_data
            try:
                decision = services.record_decision(
                    actor=user,
                    beneficiary=b,
                    kind=d["kind"],
                    number=d["number"],
                    signed_on=d["signed_on"],
                    effective_month=d["effective_month"],
                    reason=d["reason"] if d["kind"] == DecisionKind.STOP else "",
                    death_date=d["death_date"] if d["kind"] == DecisionKind.STOP else None,
                    event_date=d["event_date"],
                    backdating_reason=d["backdating_reason"],
                    to_commune=d["to_commune"] if d["kind"] == DecisionKind.MOVE else None,
                    categories=cats.category_inputs() if d["kind"] == DecisionKind.ADJUST else None,
                    note=d["note"],
                    funeral={
                        "organiser_name": d["organiser_name"],
                        "organiser_cccd": d["organiser_cccd"],
                        "organiser_phone": d["organiser_phone"],
                        "relationship": d["organiser_relationship"],
                    },
                )
            except ValidationError as exc:
                _apply_errors(form, _error_dict(exc), category_errors)
            except InvalidTransition as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Decision %(number)s is recorded; it takes effect from %(month)s.")
                    % {"number": decision.number, "month": decision.effective_month.strftime("%m/%Y")},
                )
                if queries.beneficiaries_for(user).filter(pk=b.pk).exists():
                    return redirect("registry:detail", pk=b.pk)
                return redirect("registry:list")  # moved out of the user's areas
        category_errors.extend(str(e) for e in cats.non_form_errors())
    else:
        # a stop proposal (identity verification) links here with kind, reason and date of death
        prefill = {k: request.GET[k] for k in ("kind", "reason", "death_date") if request.GET.get(k)}
        form = DecisionForm(initial={"signed_on": timezone.localdate(), **prefill}, move_targets=targets)
        cats = category_formset(choices=choices, initial=cat_initial, rows=len(cat_initial) + 1)
    context = {"form": form, "cats": cats, "category_errors": category_errors, "b": b}
    return render(request, "registry/decision_form.html", context, status=422 if request.method == "POST" else 200)


# --- moves between communes ---------------------------------------------------------------------


@require_GET
@cap_required(Cap.REGISTRY_VIEW)
def move_list(request):
    """People moving into the user's communes: the old commune stopped their allowance with a move
    decision; the new commune continues it with its own decision."""
    moves = list(queries.incoming_moves_for(request.user)[:500])
    decide = {m.pk: access.can_in_area(request.user, Cap.REGISTRY_DECIDE, m.to_commune) for m in moves}
    context = {
        "moves": [(m, decide[m.pk]) for m in moves],
        "can_print": access.has_cap(request.user, Cap.REGISTRY_EXPORT),
    }
    return render(request, "registry/moves.html", context)


@require_GET
@cap_required(Cap.REGISTRY_EXPORT)
def move_print(request):
    """People moving in, on paper (the communes where the user may take lists away), with a
    "Ký nhận" column on request."""
    moves = queries.incoming_moves_for(request.user, Cap.REGISTRY_EXPORT)
    rows = (
        [
            i,
            m.beneficiary.full_name,
            m.beneficiary.birth_date.year,
            m.beneficiary.masked_cccd,
            m.from_commune.full_name,
            m.to_commune.full_name,
            f"{m.number} ({m.signed_on:%d/%m/%Y})",
            f"{m.effective_month:%m/%Y}",
        ]
        for i, m in enumerate(moves.iterator(chunk_size=500), start=1)
    )
    block, place = heading_for(request.user, Cap.REGISTRY_EXPORT, "Danh sách đối tượng chuyển đến")
    page = PrintList(
        block=block,
        place=place,
        headers=["STT", "Họ và tên", "Năm sinh", "Số CCCD", "Chuyển từ", "Chuyển đến", "Quyết định", "Dừng từ tháng"],
        rows=rows,
        sign=request.GET.get("sign") == "1",
        back_url=reverse("registry:moves"),
        empty_text=_("Nobody is moving into your communes."),
    )
    return print_response(request, page)


@cap_required(Cap.REGISTRY_VIEW)
def move_accept(request, pk: int):
    """The new commune's decision: the allowance continues from the month the old one stopped."""
    move = get_object_or_404(queries.incoming_moves_for(request.user), pk=pk)
    if not access.can_in_area(request.user, Cap.REGISTRY_DECIDE, move.to_commune):
        raise PermissionDenied
    villages = Area.objects.filter(parent=move.to_commune, level=Level.VILLAGE).order_by("name_key")
    if request.method == "POST":
        form = MoveAcceptForm(request.POST, villages=villages)
        if form.is_valid():
            d = form.cleaned_data
            try:
                decision = services.accept_move(
                    actor=request.user,
                    move=move,
                    number=d["number"],
                    signed_on=d["signed_on"],
                    village=d["village"],
                    note=d["note"],
                )
            except ValidationError as exc:
                _apply_errors(form, _error_dict(exc))
            except InvalidTransition as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(name)s is now a beneficiary of %(commune)s from %(month)s.")
                    % {
                        "name": move.beneficiary.full_name,
                        "commune": move.to_commune.full_name,
                        "month": decision.effective_month.strftime("%m/%Y"),
                    },
                )
                return redirect("registry:detail", pk=move.beneficiary_id)
    else:
        form = MoveAcceptForm(initial={"signed_on": timezone.localdate()}, villages=villages)
    status = 422 if request.method == "POST" else 200
    return render(request, "registry/move_accept.html", {"form": form, "move": move}, status=status)


# --- representatives ---------------------------------------------------------------------------


@cap_required(Cap.REGISTRY_VIEW)
def representative_add(request, pk: int):
    """Link a guardian or authorised person (a person known by CCCD is reused)."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    if request.method == "POST":
        form = RepresentativeForm(request.POST)
        if form.is_valid():
            try:
                link = services.add_representation(actor=request.user, beneficiary=b, data=form.representation_input())
            except ValidationError as exc:
                _apply_errors(form, _error_dict(exc))
            else:
                messages.success(
                    request, _("%(name)s now represents the beneficiary.") % {"name": link.representative.full_name}
                )
                return redirect(reverse("registry:detail", args=[b.pk]) + "#representatives")
    else:
        form = RepresentativeForm()
    status = 422 if request.method == "POST" else 200
    return render(request, "registry/representative_form.html", {"form": form, "b": b}, status=status)


@require_POST
@cap_required(Cap.REGISTRY_VIEW)
def payee_set(request, pk: int):
    """Make a current representative the payee, or (empty) the beneficiary themself."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    link = None
    raw = request.POST.get("representation", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        link = get_object_or_404(
            b.representations.filter(ended_at__isnull=True).select_related("representative"), pk=int(raw)
        )
    # from the month of the one payee rule (payments.services.payee_change_month), with its
    # history (payments.designate_payee keeps the registry flag)
    designate_payee(actor=request.user, beneficiary=b, representation=link)
    name = link.representative.full_name if link else b.full_name
    messages.success(request, _("%(name)s now receives the money.") % {"name": name})
    return redirect(reverse("registry:detail", args=[b.pk]) + "#representatives")


@cap_required(Cap.REGISTRY_VIEW)
def representative_end(request, pk: int, link_pk: int):
    """Confirm, then end a representation (it stays in the history)."""
    b = _beneficiary(request, pk, Cap.REGISTRY_EDIT)
    link = get_object_or_404(
        b.representations.filter(ended_at__isnull=True).select_related("representative"), pk=link_pk
    )
    if request.method == "POST":
        link.beneficiary = b
        services.end_representation(actor=request.user, representation=link)
        messages.success(
            request, _("%(name)s no longer represents the beneficiary.") % {"name": link.representative.full_name}
        )
        return redirect(reverse("registry:detail", args=[b.pk]) + "#representatives")
    return render(request, "registry/representative_end.html", {"b": b, "link": link})
