"""The communes' monthly change lists (issue 10 part 2): a commune's list on a phone (changes
grouped by kind, amounts before and after, late changes, manual adjustments, submit, the
office's comments), and the office's view of a cycle's lists (state per commune, overdue,
accept, return with comments, use the last accepted list, appraise).

Who: everyone who reads cycles reads the lists of their areas (another commune's list is a
404); the commune officer (payroll.submit_changes in the commune) prepares and submits; the
office (payroll.prepare in the cycle's area) decides. The rules live in
`ansinh.payroll.changelists`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.errors import DomainError
from ansinh.payroll import changelists, queries
from ansinh.payroll.models import ChangeItem, ChangeKind, ChangeList, ChangeListState, CycleState
from ansinh.registry.models import StopReason

from ..shortcuts import paginate

ITEM_PAGE = 100
BENEFICIARY_CHOICES = 2000


class ManualItemForm(forms.Form):
    beneficiary = forms.TypedChoiceField(label=gettext_lazy("Beneficiary"), coerce=int)
    amount = forms.IntegerField(
        label=gettext_lazy("Amount (đồng)"),
        min_value=-10_000_000_000,
        max_value=10_000_000_000,
        help_text=gettext_lazy("Positive: to pay as arrears; negative: to recover."),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, beneficiaries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["beneficiary"].choices = [("", "—")] + [(b.pk, b.full_name) for b in beneficiaries]


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comments for the commune"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _reader(request) -> None:
    if not queries.may_read(request.user):
        raise PermissionDenied


def _list_or_404(request, list_id: int) -> ChangeList:
    _reader(request)
    return get_object_or_404(changelists.lists_for(request.user), pk=list_id)


def _say(request, fn, success: str, **kwargs) -> bool:
    try:
        fn(actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


def _reason_label(item: ChangeItem) -> str:
    reason = (item.detail or {}).get("reason", "")
    return str(StopReason(reason).label) if reason in StopReason.values else ""


def _decorate(user, cl: ChangeList, items: list[ChangeItem]) -> None:
    sensitive_ok = queries.reads_in_area(user, Cap.REGISTRY_VIEW_SENSITIVE, cl.commune)
    for item in items:
        detail = item.detail or {}
        item.categories_shown = (
            ", ".join(detail.get("categories", [])) if (sensitive_ok or not detail.get("sensitive")) else ""
        )
        item.reason_label = _reason_label(item)
        item.difference = (
            (item.amount_after or 0) - (item.amount_before or 0)
            if item.kind != ChangeKind.MANUAL
            else item.manual_amount
        )


@require_GET
@login_required
def change_list_detail(request, list_id: int):
    cl = _list_or_404(request, list_id)
    cycle = cl.cycle
    items_qs = (
        ChangeItem.objects.filter(change_list=cl)
        .select_related("beneficiary")
        .order_by("kind", "beneficiary__sort_key", "pk")
    )
    page = paginate(request, items_qs, per_page=ITEM_PAGE)
    items = list(page.object_list)
    _decorate(request.user, cl, items)
    groups: dict[str, dict] = {}
    for item in items:
        group = groups.setdefault(item.kind, {"label": ChangeKind(item.kind).label, "items": []})
        group["items"].append(item)
    editable = cl.state in changelists.EDITABLE and cycle.state in changelists.BUILDABLE_CYCLE
    may_submit = editable and changelists.may_submit(request.user, cl)
    may_decide = changelists.may_prepare(request.user, cycle) and cycle.state in changelists.BUILDABLE_CYCLE
    form = None
    if may_submit:
        people = changelists.people_of(cl).order_by("sort_key", "pk")[:BENEFICIARY_CHOICES]
        form = ManualItemForm(beneficiaries=people)
    context = {
        "cl": cl,
        "cycle": cycle,
        "page": page,
        "groups": list(groups.values()),
        "late_count": ChangeItem.objects.filter(change_list=cl, late=True).count(),
        "deadline": changelists.commune_deadline(cycle),
        "today": timezone.localdate(),
        "may_submit": may_submit,
        "may_decide": may_decide,
        "form": form,
        "return_form": ReturnForm()
        if may_decide and cl.state in (ChangeListState.SUBMITTED, ChangeListState.ACCEPTED)
        else None,
    }
    return render(request, "payroll/change_list.html", context)


@require_POST
@login_required
def change_list_submit(request, list_id: int):
    cl = _list_or_404(request, list_id)
    if not changelists.may_submit(request.user, cl):
        raise PermissionDenied
    _say(request, changelists.submit, _("Change list submitted to the office."), change_list=cl)
    return redirect("payroll:change_list", list_id=cl.pk)


@require_POST
@login_required
def change_list_rebuild(request, list_id: int):
    cl = _list_or_404(request, list_id)
    if not (changelists.may_submit(request.user, cl) or changelists.may_prepare(request.user, cl.cycle)):
        raise PermissionDenied
    _say(
        request,
        changelists.build_change_lists,
        _("Change list brought up to date."),
        cycle=cl.cycle,
        communes=[cl.commune],
    )
    return redirect("payroll:change_list", list_id=cl.pk)


@require_POST
@login_required
def change_list_add_item(request, list_id: int):
    cl = _list_or_404(request, list_id)
    if not changelists.may_submit(request.user, cl):
        raise PermissionDenied
    people = changelists.people_of(cl)
    form = ManualItemForm(request.POST, beneficiaries=people.order_by("sort_key", "pk")[:BENEFICIARY_CHOICES])
    if not form.is_valid():
        messages.error(request, _("Choose the person, enter the amount in đồng and the reason."))
        return redirect("payroll:change_list", list_id=cl.pk)
    beneficiary = people.filter(pk=form.cleaned_data["beneficiary"]).first()
    if beneficiary is None:
        messages.error(request, _("The person is not a beneficiary of this commune."))
        return redirect("payroll:change_list", list_id=cl.pk)
    _say(
        request,
        changelists.add_manual_item,
        _("Adjustment added."),
        change_list=cl,
        beneficiary=beneficiary,
        amount=form.cleaned_data["amount"],
        reason=form.cleaned_data["reason"],
    )
    return redirect("payroll:change_list", list_id=cl.pk)


@require_POST
@login_required
def change_list_remove_item(request, list_id: int, item_id: int):
    cl = _list_or_404(request, list_id)
    item = get_object_or_404(ChangeItem, pk=item_id, change_list=cl)
    if not changelists.may_submit(request.user, cl):
        raise PermissionDenied
    _say(request, changelists.remove_manual_item, _("Adjustment removed."), item=item)
    return redirect("payroll:change_list", list_id=cl.pk)


def _office(request, list_id: int) -> ChangeList:
    cl = _list_or_404(request, list_id)
    if not changelists.may_prepare(request.user, cl.cycle):
        raise PermissionDenied
    return cl


@require_POST
@login_required
def change_list_accept(request, list_id: int):
    cl = _office(request, list_id)
    _say(request, changelists.accept, _("Change list accepted."), change_list=cl)
    return redirect("payroll:cycle_changes", pk=cl.cycle_id)


@require_POST
@login_required
def change_list_return(request, list_id: int):
    cl = _office(request, list_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the comments for the commune."))
        return redirect("payroll:change_list", list_id=cl.pk)
    _say(
        request,
        changelists.return_list,
        _("Change list returned to the commune."),
        change_list=cl,
        comment=form.cleaned_data["comment"],
    )
    return redirect("payroll:cycle_changes", pk=cl.cycle_id)


@require_POST
@login_required
def change_list_use_previous(request, list_id: int):
    cl = _office(request, list_id)
    _say(
        request,
        changelists.use_last_accepted,
        _("The payroll will repeat the commune's last accepted list; the overdue is recorded."),
        change_list=cl,
    )
    return redirect("payroll:cycle_changes", pk=cl.cycle_id)


# --- a cycle's lists ---------------------------------------------------------------------------------


@require_GET
@login_required
def cycle_changes(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    lists = list(
        changelists.lists_for(request.user)
        .filter(cycle=cycle)
        .select_related("commune", "submitted_by", "decided_by")
        .order_by("area_path")
    )
    counts = changelists.item_counts([cl.pk for cl in lists])
    for cl in lists:
        cl.counts = counts.get(cl.pk, {"items": 0, "late": 0, "manual": 0})
    deadline = changelists.commune_deadline(cycle)
    today = timezone.localdate()
    may_decide = changelists.may_prepare(request.user, cycle) and cycle.state in changelists.BUILDABLE_CYCLE
    context = {
        "cycle": cycle,
        "lists": lists,
        "deadline": deadline,
        "deadline_passed": deadline is not None and today > deadline,
        "may_build": cycle.state in changelists.BUILDABLE_CYCLE
        and (
            changelists.may_prepare(request.user, cycle)
            or access.can_in_area(request.user, Cap.PAYROLL_SUBMIT_CHANGES, cycle.area)
        ),
        "may_decide": may_decide,
        "may_appraise": may_decide and cycle.state == CycleState.CHANGES_SUBMITTED,
        "return_form": ReturnForm(),
    }
    return render(request, "payroll/cycle_changes.html", context)


@require_POST
@login_required
def cycle_changes_build(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    if not (
        changelists.may_prepare(request.user, cycle)
        or access.can_in_area(request.user, Cap.PAYROLL_SUBMIT_CHANGES, cycle.area)
    ):
        raise PermissionDenied
    _say(request, changelists.build_change_lists, _("Change lists brought up to date."), cycle=cycle)
    return redirect("payroll:cycle_changes", pk=cycle.pk)


@require_POST
@login_required
def cycle_changes_appraise(request, pk: int):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    if not changelists.may_prepare(request.user, cycle):
        raise PermissionDenied
    _say(request, changelists.appraise, _("The cycle is appraised."), cycle=cycle)
    return redirect("payroll:cycle", pk=cycle.pk)


@require_GET
@login_required
def my_change_lists(request):
    """The change lists of the user's communes, newest month first: where a commune officer
    finds the list to prepare (in 2023 the cycle is the district's, which they do not read)."""
    _reader(request)
    lists = (
        changelists.lists_for(request.user)
        .select_related("commune", "cycle__programme")
        .order_by("-cycle__month", "area_path", "cycle__programme__code")
    )
    return render(request, "payroll/change_lists.html", {"page": paginate(request, lists)})
