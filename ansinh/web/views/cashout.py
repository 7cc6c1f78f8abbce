"""Cash pay-out pages (issue 12 parts 1 and 2): pay points and home-delivery routes with their pay
days, the pay-point coverage, a cycle's cash lists (make them, follow their counts), one cash
list on a phone (cards, village by village) and on A4 paper (signature / thumbprint column).

Who: cashout.view reads in the commune (the provider's staff also the lists of the pay points
and routes they staff); cashout.manage changes pay points, routes and days and makes the lists;
a reader's POST is a 403 that writes nothing. Another area's object is a 404
(`cashout.queries`). The rules live in ansinh.cashout; a refusal becomes a message on the page."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.cashout import coverage as cash_coverage
from ansinh.cashout import lists as cash_lists
from ansinh.cashout import pay_points as places
from ansinh.cashout import queries
from ansinh.cashout.models import CashList, DeliveryRoute, PayPoint, PayPointKind
from ansinh.core.exporter import TitleBlock, unit_name
from ansinh.payroll.models import CycleState

from ..shortcuts import cap_required, paginate

DAY_ROWS = 6  # empty rows of the pay-days form

# --- forms ------------------------------------------------------------------------------------------


class _PlaceForm(forms.Form):
    def __init__(self, *args, commune: Area, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune = commune
        villages = self.fields["villages"]
        staff = self.fields["staff"]
        assert isinstance(villages, forms.ModelMultipleChoiceField)
        assert isinstance(staff, forms.ModelMultipleChoiceField)
        villages.queryset = Area.objects.filter(level=Level.VILLAGE, parent=commune).order_by("name_key", "pk")
        staff.queryset = places.staff_candidates(commune)
        staff.label_from_instance = lambda u: u.full_name or u.username  # type: ignore[method-assign,assignment]


class PayPointForm(_PlaceForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    kind = forms.ChoiceField(label=gettext_lazy("Type of place"), choices=PayPointKind.choices)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=255)
    atm_nearby = forms.BooleanField(label=gettext_lazy("An ATM nearby"), required=False)
    atm_note = forms.CharField(label=gettext_lazy("Where the ATM is"), max_length=255, required=False)
    villages = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Villages served"),
        queryset=Area.objects.none(),
        required=False,
        help_text=gettext_lazy("None chosen: the whole commune."),
    )
    staff = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Provider staff"), queryset=Area.objects.none(), required=False
    )
    contact = forms.CharField(label=gettext_lazy("Contact person and phone"), max_length=255, required=False)

    def data_input(self) -> places.PayPointInput:
        d = self.cleaned_data
        return places.PayPointInput(
            name=d["name"],
            kind=d["kind"],
            address=d["address"],
            atm_nearby=d["atm_nearby"],
            atm_note=d["atm_note"],
            villages=list(d["villages"]),
            staff=list(d["staff"]),
            contact=d["contact"],
        )


class RouteForm(_PlaceForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    villages = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Villages"), queryset=Area.objects.none(), required=False
    )
    staff = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Provider staff"), queryset=Area.objects.none(), required=False
    )

    def data_input(self) -> places.RouteInput:
        d = self.cleaned_data
        return places.RouteInput(name=d["name"], villages=list(d["villages"]), staff=list(d["staff"]))


class DayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    opens = forms.TimeField(label=gettext_lazy("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(
        label=gettext_lazy("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)

    def clean(self):
        d = super().clean() or {}
        if d.get("day") and not (d.get("opens") and d.get("closes")):
            raise ValidationError(_("Give the opening and closing hours of each day."))
        return d


DayFormSet = forms.formset_factory(DayForm, extra=0, max_num=31, absolute_max=31)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- lookups ------------------------------------------------------------------------------------------


def _month(request) -> date:
    value = request.GET.get("month", "") or request.POST.get("month", "")
    try:
        year, month = (int(x) for x in value.split("-")[:2])
        return places.check_month(date(year, month, 1))
    except (ValueError, TypeError, ValidationError):
        return timezone.localdate().replace(day=1)


def _point(request, pay_point_id: int) -> PayPoint:
    return get_object_or_404(queries.pay_points_for(request.user), pk=pay_point_id)


def _route(request, route_id: int) -> DeliveryRoute:
    return get_object_or_404(queries.routes_for(request.user), pk=route_id)


def _manage(request, commune: Area) -> None:
    if not places.may_manage(request.user, commune):
        raise PermissionDenied


def _managed_communes(user):
    communes = cash_coverage.communes_for(user)
    return access.scope(communes, user, Cap.CASH_MANAGE, path_field="path").order_by("name_key", "pk")


def _commune_choice(request) -> Area | None:
    value = request.GET.get("commune", "") or request.POST.get("commune", "")
    communes = _managed_communes(request.user)
    if value.isdigit() and len(value) < 19:
        return get_object_or_404(communes, pk=int(value))
    only = list(communes[:2])
    return only[0] if len(only) == 1 else None


# --- pay points --------------------------------------------------------------------------------------


@require_GET
@cap_required(Cap.CASH_VIEW)
def pay_point_list(request):
    qs = queries.pay_points_for(request.user).prefetch_related("villages", "staff").order_by("area_path", "name")
    context = {
        "page": paginate(request, qs),
        "may_create": access.has_cap(request.user, Cap.CASH_MANAGE),
        "active": "points",
    }
    return render(request, "cashout/pay_points.html", context)


def _place_form_page(request, form_class, *, commune, instance=None, kind: str):
    initial = None
    if instance is not None:
        initial = {f: getattr(instance, f) for f in form_class.base_fields if f not in ("villages", "staff")}
        initial |= {"villages": list(instance.villages.all()), "staff": list(instance.staff.all())}
    form = form_class(request.POST or None, commune=commune, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_place(request, kind, commune, instance, form.data_input())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"cashout:{kind}", **{f"{kind}_id": saved.pk})
    context = {"form": form, "commune": commune, "object": instance, "kind": kind}
    return render(request, "cashout/place_form.html", context)


def _save_place(request, kind: str, commune, instance, data):
    if kind == "pay_point":
        if instance is None:
            return places.create_pay_point(actor=request.user, commune=commune, data=data)
        return places.update_pay_point(actor=request.user, pay_point=instance, data=data)
    if instance is None:
        return places.create_route(actor=request.user, commune=commune, data=data)
    return places.update_route(actor=request.user, route=instance, data=data)


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_MANAGE)
def pay_point_create(request):
    commune = _commune_choice(request)
    if commune is None:
        return render(request, "cashout/choose_commune.html", {"communes": _managed_communes(request.user)})
    return _place_form_page(request, PayPointForm, commune=commune, kind="pay_point")


@require_GET
@cap_required(Cap.CASH_VIEW)
def pay_point_detail(request, pay_point_id: int):
    point = _point(request, pay_point_id)
    return _place_detail(request, point, "pay_point")


def _place_detail(request, place, kind: str):
    month = _month(request)
    days = list(places.days_of(place, month))
    initial = [{"day": d.day, "opens": d.opens, "closes": d.closes, "note": d.note} for d in days]
    formset = DayFormSet(initial=initial + [{}] * DAY_ROWS, prefix="days")
    context = {
        "object": place,
        "month": month,
        "days": [(d, places.non_working(d.day)) for d in days],
        "deadline": places.transfers_deadline(place.commune, month),
        "formset": formset,
        "may_manage": places.may_manage(request.user, place.commune),
        "kind": kind,
        "lists": queries.cash_lists_for(request.user)
        .filter(**{kind: place})
        .select_related("cycle__programme")
        .order_by("-cycle__month", "-id")[:12],
    }
    return render(request, "cashout/place.html", context)


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_VIEW)
def pay_point_edit(request, pay_point_id: int):
    point = _point(request, pay_point_id)
    _manage(request, point.commune)
    return _place_form_page(request, PayPointForm, commune=point.commune, instance=point, kind="pay_point")


@require_POST
@cap_required(Cap.CASH_VIEW)
def pay_point_active(request, pay_point_id: int):
    point = _point(request, pay_point_id)
    _manage(request, point.commune)
    try:
        places.set_pay_point_active(
            actor=request.user, pay_point=point, active=request.POST.get("active") == "1", note=""
        )
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    return redirect("cashout:pay_point", pay_point_id=point.pk)


def _save_days(request, place, **owner):
    month = _month(request)
    formset = DayFormSet(request.POST, prefix="days")
    if not formset.is_valid():
        for form in formset.forms:
            for m in form.non_field_errors():
                messages.error(request, str(m))
        for m in formset.non_form_errors():
            messages.error(request, str(m))
        return month
    days = [
        places.DayInput(day=f["day"], opens=f["opens"], closes=f["closes"], note=f.get("note", ""))
        for f in formset.cleaned_data
        if f and f.get("day")
    ]
    try:
        places.set_pay_days(actor=request.user, month=month, days=days, **owner)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("The pay days of %(month)s were saved.") % {"month": f"{month:%m/%Y}"})
    return month


@require_POST
@cap_required(Cap.CASH_VIEW)
def pay_point_days(request, pay_point_id: int):
    point = _point(request, pay_point_id)
    _manage(request, point.commune)
    month = _save_days(request, point, pay_point=point)
    return redirect(reverse("cashout:pay_point", args=[point.pk]) + f"?month={month:%Y-%m}")


# --- routes --------------------------------------------------------------------------------------------


@require_GET
@cap_required(Cap.CASH_VIEW)
def route_list(request):
    qs = queries.routes_for(request.user).prefetch_related("villages", "staff").order_by("area_path", "name")
    context = {
        "page": paginate(request, qs),
        "may_create": access.has_cap(request.user, Cap.CASH_MANAGE),
        "active": "routes",
    }
    return render(request, "cashout/routes.html", context)


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_MANAGE)
def route_create(request):
    commune = _commune_choice(request)
    if commune is None:
        return render(request, "cashout/choose_commune.html", {"communes": _managed_communes(request.user)})
    return _place_form_page(request, RouteForm, commune=commune, kind="route")


@require_GET
@cap_required(Cap.CASH_VIEW)
def route_detail(request, route_id: int):
    return _place_detail(request, _route(request, route_id), "route")


@require_http_methods(["GET", "POST"])
@cap_required(Cap.CASH_VIEW)
def route_edit(request, route_id: int):
    route = _route(request, route_id)
    _manage(request, route.commune)
    return _place_form_page(request, RouteForm, commune=route.commune, instance=route, kind="route")


@require_POST
@cap_required(Cap.CASH_VIEW)
def route_active(request, route_id: int):
    route = _route(request, route_id)
    _manage(request, route.commune)
    places.set_route_active(actor=request.user, route=route, active=request.POST.get("active") == "1")
    return redirect("cashout:route", route_id=route.pk)


@require_POST
@cap_required(Cap.CASH_VIEW)
def route_days(request, route_id: int):
    route = _route(request, route_id)
    _manage(request, route.commune)
    month = _save_days(request, route, route=route)
    return redirect(reverse("cashout:route", args=[route.pk]) + f"?month={month:%Y-%m}")


# --- coverage ------------------------------------------------------------------------------------------


@require_GET
@cap_required(Cap.CASH_VIEW)
def coverage_page(request):
    report = cash_coverage.coverage(request.user)
    groups = [(g, cash_coverage.atm_summary(g)) for g in report.groups]
    context = {"report": report, "groups": groups, "total_summary": cash_coverage.atm_summary(report.total)}
    context["active"] = "coverage"
    return render(request, "cashout/coverage.html", context)


# --- cash lists ----------------------------------------------------------------------------------------


LIST_STATES = (*cash_lists.BUILDABLE_STATES, CycleState.SETTLED, CycleState.CLOSED)


@require_GET
@cap_required(Cap.CASH_VIEW)
def cycle_list(request):
    """The cycles whose cash lists the user may make or read (approved and funded, or later)."""
    qs = queries.cycles_for(request.user).filter(state__in=LIST_STATES).order_by("-month", "area_path")
    return render(request, "cashout/cycles.html", {"page": paginate(request, qs), "active": "lists"})


@require_GET
@cap_required(Cap.CASH_VIEW)
def cycle_lists(request, cycle_id: int):
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=cycle_id)
    rows = list(queries.cash_lists_for(request.user).filter(cycle=cycle).order_by("area_path", "kind", "id"))
    context = {
        "cycle": cycle,
        "lists": [(cl, list(places.days_of(cl.pay_point or cl.route, cycle.month))) for cl in rows],
        "may_build": cash_lists.may_build(request.user, cycle) and cycle.state in cash_lists.BUILDABLE_STATES,
        "active": "lists",
    }
    return render(request, "cashout/cycle_lists.html", context)


@require_POST
@cap_required(Cap.CASH_VIEW)
def cycle_build(request, cycle_id: int):
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=cycle_id)
    if not cash_lists.may_build(request.user, cycle):
        raise PermissionDenied
    try:
        result = cash_lists.build_cash_lists(actor=request.user, cycle=cycle)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(
            request,
            _("Cash lists made: %(created)s people added, %(cancelled)s taken off, %(kept)s unchanged.")
            % {"created": result.created, "cancelled": result.cancelled, "kept": result.kept},
        )
        for name in result.routes_created:
            messages.info(request, _("A home-delivery route was added: %(name)s.") % {"name": name})
        for refusal in result.refusals:
            messages.warning(request, refusal)
    return redirect("cashout:cycle_lists", cycle_id=cycle.pk)


def _cash_list(request, cash_list_id: int) -> CashList:
    return get_object_or_404(queries.cash_lists_for(request.user), pk=cash_list_id)


def _list_context(cl: CashList) -> dict:
    entries = list(queries.live_entries(cl))
    place = cl.pay_point or cl.route
    return {
        "cash_list": cl,
        "place": place,
        "groups": [
            g | {"rows": [(e, queries.masked_cccd(e)) for e in g["entries"]]}
            for g in queries.grouped_by_village(entries)
        ],
        "days": list(places.days_of(place, cl.cycle.month)),
        "count": len(entries),
        "total": sum(e.amount for e in entries),
    }


@require_GET
@cap_required(Cap.CASH_VIEW)
def cash_list_detail(request, cash_list_id: int):
    """One list on a phone or a tablet: a card per person, village by village."""
    cl = _cash_list(request, cash_list_id)
    return render(request, "cashout/cash_list.html", _list_context(cl) | {"active": "lists"})


@require_GET
@cap_required(Cap.CASH_VIEW)
def cash_list_print(request, cash_list_id: int):
    """The list on A4: No., name, village, payee, CCCD (last digits), amount, signature or
    thumbprint; a subtotal per village; the commune, month, place and days above."""
    cl = _cash_list(request, cash_list_id)
    context = _list_context(cl)
    place = context["place"]
    days = ", ".join(f"{d.day:%d/%m/%Y} ({d.opens:%H:%M}–{d.closes:%H:%M})" for d in context["days"])
    title = (
        _("List of cash payments at the pay point") if cl.kind == "pay_point" else _("List of cash payments at home")
    )
    lines = [
        _("Month %(month)s – %(commune)s") % {"month": f"{cl.cycle.month:%m/%Y}", "commune": cl.commune.full_name},
        (_("Pay point: %(name)s, %(address)s") % {"name": place.name, "address": place.address})
        if cl.kind == "pay_point"
        else _("Route: %(name)s") % {"name": place.name},
    ]
    if days:
        lines.append(_("Pay days: %(days)s") % {"days": days})
    page = SimpleNamespace(
        block=TitleBlock(unit=unit_name(cl.commune), title=title.upper(), lines=lines),
        place=cl.commune.name,
        landscape=True,
        sign=None,
        back_url=reverse("cashout:cash_list", args=[cl.pk]),
    )
    return render(request, "cashout/cash_list_print.html", context | {"page": page, "today": timezone.localdate()})
