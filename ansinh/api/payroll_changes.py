"""The communes' monthly change lists over HTTP (issue 10 part 2): a cycle's lists, one list with
its changes (100 a page), building, submitting, manual adjustments, and the office's decisions
(accept, return with comments, use the last accepted list). The rules live in
`ansinh.payroll.changelists`; another commune's list is a 404, a reading role gets 403 on a write."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payroll import changelists, queries
from ansinh.payroll.models import ChangeItem, ChangeKind, ChangeList

from .common import Id, responses, text

router = Router(tags=["payroll"])

PAGE_SIZE = 100
ListState = Literal["draft", "submitted", "accepted", "returned"]
KindValue = Literal[
    "new", "stopped", "suspended", "resumed", "adjusted", "moved_in", "moved_out", "method", "payee", "manual"
]


class ChangeListOut(Schema):
    id: int
    cycle_id: int
    month: date
    programme: str
    commune_id: int
    commune: str
    state: ListState
    state_label: str
    overdue: bool
    used_previous: bool = Field(..., description="the payroll repeats the commune's last accepted list")
    comment: str = Field(..., description="the office's comments when returned")
    built_at: datetime | None
    submitted_at: datetime | None
    items: int
    late: int
    manual: int


class ChangeListPage(Schema):
    items: list[ChangeListOut]


class ChangeItemOut(Schema):
    id: int
    beneficiary_id: int
    beneficiary: str
    kind: KindValue
    kind_label: str
    effective_month: date
    late: bool = Field(..., description="effective in an earlier month, arrived after its payroll")
    amount_before: int | None = Field(..., description="last month's regular line, đồng")
    amount_after: int | None = Field(..., description="the entitlement in the cycle's month, đồng")
    manual_amount: int | None = Field(..., description="manual adjustment: positive to pay, negative to recover")
    reason: str
    categories: list[str] = Field(..., description="empty for a sensitive category without registry.view_sensitive")


class ChangeListDetailOut(ChangeListOut):
    changes: list[ChangeItemOut]
    page: int
    pages: int
    count: int


class PageFilter(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


class BuildOut(Schema):
    cycle: int
    month: str
    programme: str
    lists: int
    rebuilt: int
    items: int


class ReturnIn(Schema):
    comment: str = text(..., max_length=4000, min_length=1)


class ManualItemIn(Schema):
    beneficiary_id: Id
    amount: int = Field(
        ..., ge=-10_000_000_000, le=10_000_000_000, description="đồng; positive to pay, negative to recover"
    )
    reason: str = text(..., max_length=2000, min_length=1)


def _reader(request) -> None:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))


def _list(request, list_id: int) -> ChangeList:
    _reader(request)
    return get_object_or_404(changelists.lists_for(request.auth), pk=list_id)


def _out(cl: ChangeList, counts: dict) -> dict:
    c = counts.get(cl.pk, {"items": 0, "late": 0, "manual": 0})
    return {
        "id": cl.pk,
        "cycle_id": cl.cycle_id,
        "month": cl.cycle.month,
        "programme": cl.cycle.programme.code,
        "commune_id": cl.commune_id,
        "commune": cl.commune.full_name,
        "state": cl.state,
        "state_label": str(cl.get_state_display()),
        "overdue": cl.overdue,
        "used_previous": cl.used_previous,
        "comment": cl.comment,
        "built_at": cl.built_at,
        "submitted_at": cl.submitted_at,
    } | c


def _detail(request, cl: ChangeList, page: int = 1) -> dict:
    qs = ChangeItem.objects.filter(change_list=cl).select_related("beneficiary").order_by("kind", "pk")
    count = qs.count()
    start = (page - 1) * PAGE_SIZE
    visible = queries.reads_in_area(request.auth, Cap.REGISTRY_VIEW_SENSITIVE, cl.commune)
    changes = []
    for item in qs[start : start + PAGE_SIZE]:
        detail = item.detail or {}
        changes.append(
            {
                "id": item.pk,
                "beneficiary_id": item.beneficiary_id,
                "beneficiary": item.beneficiary.full_name,
                "kind": item.kind,
                "kind_label": str(ChangeKind(item.kind).label),
                "effective_month": item.effective_month,
                "late": item.late,
                "amount_before": item.amount_before,
                "amount_after": item.amount_after,
                "manual_amount": item.manual_amount,
                "reason": item.reason,
                "categories": list(detail.get("categories", [])) if visible or not detail.get("sensitive") else [],
            }
        )
    return _out(cl, changelists.item_counts([cl.pk])) | {
        "changes": changes,
        "page": page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
        "count": count,
    }


def _commune(request, cl: ChangeList) -> None:
    if not changelists.may_submit(request.auth, cl):
        raise HttpError(403, _("Your role does not allow preparing this commune's change list."))


def _office(request, cl: ChangeList) -> None:
    if not changelists.may_prepare(request.auth, cl.cycle):
        raise HttpError(403, _("Your role does not allow appraising the communes' change lists here."))


def _run(fn, **kwargs):
    try:
        return fn(**kwargs)
    except changelists.ChangeListForbidden as exc:
        raise HttpError(403, str(exc)) from exc


@router.get(
    "/payroll/cycles/{cycle_id}/change-lists",
    response=responses({200: ChangeListPage}, forbidden=True, not_found=True),
)
def list_change_lists(request, cycle_id: Id):
    """The cycle's change lists of the communes in the user's areas, by commune."""
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    lists = list(changelists.lists_for(request.auth).filter(cycle=cycle).order_by("area_path"))
    counts = changelists.item_counts([cl.pk for cl in lists])
    return {"items": [_out(cl, counts) for cl in lists]}


@router.post(
    "/payroll/cycles/{cycle_id}/change-lists/build",
    response=responses({200: BuildOut}, forbidden=True, not_found=True),
)
def post_build(request, cycle_id: Id):
    """Create the missing lists and rebuild the automatic changes of those not yet submitted
    (the office: every commune; a commune officer: their communes). Idempotent."""
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    if not (
        changelists.may_prepare(request.auth, cycle)
        or access.can_in_area(request.auth, Cap.PAYROLL_SUBMIT_CHANGES, cycle.area)
    ):
        raise HttpError(403, _("Your role does not allow preparing the change lists of this cycle."))
    return _run(changelists.build_change_lists, actor=request.auth, cycle=cycle)


@router.get(
    "/payroll/change-lists/{list_id}",
    response=responses({200: ChangeListDetailOut}, forbidden=True, not_found=True),
)
def get_change_list(request, list_id: Id, filters: Query[PageFilter]):
    """One list with its changes, 100 a page (by kind)."""
    cl = _list(request, list_id)
    return _detail(request, cl, filters.page)


@router.post(
    "/payroll/change-lists/{list_id}/submit",
    response=responses({200: ChangeListDetailOut}, forbidden=True, not_found=True),
)
def post_submit(request, list_id: Id):
    """The commune submits its list (rebuilt first); 422 when it is already submitted."""
    cl = _list(request, list_id)
    _commune(request, cl)
    _run(changelists.submit, actor=request.auth, change_list=cl)
    return _detail(request, _list(request, list_id))


@router.post(
    "/payroll/change-lists/{list_id}/accept",
    response=responses({200: ChangeListDetailOut}, forbidden=True, not_found=True),
)
def post_accept(request, list_id: Id):
    cl = _list(request, list_id)
    _office(request, cl)
    _run(changelists.accept, actor=request.auth, change_list=cl)
    return _detail(request, _list(request, list_id))


@router.post(
    "/payroll/change-lists/{list_id}/return",
    response=responses({200: ChangeListDetailOut}, body=True, forbidden=True, not_found=True),
)
def post_return(request, list_id: Id, payload: ReturnIn):
    """The office returns the list with comments (the cycle goes back to the communes)."""
    cl = _list(request, list_id)
    _office(request, cl)
    _run(changelists.return_list, actor=request.auth, change_list=cl, comment=payload.comment)
    return _detail(request, _list(request, list_id))


@router.post(
    "/payroll/change-lists/{list_id}/use-previous",
    response=responses({200: ChangeListDetailOut}, forbidden=True, not_found=True),
)
def post_use_previous(request, list_id: Id):
    """After the commune's deadline, generate with its last accepted list (overdue recorded)."""
    cl = _list(request, list_id)
    _office(request, cl)
    _run(changelists.use_last_accepted, actor=request.auth, change_list=cl)
    return _detail(request, _list(request, list_id))


@router.post(
    "/payroll/change-lists/{list_id}/items",
    response=responses({201: ChangeItemOut}, body=True, forbidden=True, not_found=True),
)
def post_item(request, list_id: Id, payload: ManualItemIn):
    """A manual adjustment with a reason (the person must be of the list's commune)."""
    cl = _list(request, list_id)
    _commune(request, cl)
    beneficiary = changelists.people_of(cl).filter(pk=payload.beneficiary_id).first()
    if beneficiary is None:
        raise HttpError(404, _("Not found."))
    item = _run(
        changelists.add_manual_item,
        actor=request.auth,
        change_list=cl,
        beneficiary=beneficiary,
        amount=payload.amount,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": item.pk,
            "beneficiary_id": beneficiary.pk,
            "beneficiary": beneficiary.full_name,
            "kind": item.kind,
            "kind_label": str(ChangeKind(item.kind).label),
            "effective_month": item.effective_month,
            "late": False,
            "amount_before": None,
            "amount_after": None,
            "manual_amount": item.manual_amount,
            "reason": item.reason,
            "categories": [],
        },
    )


@router.delete(
    "/payroll/change-lists/{list_id}/items/{item_id}",
    response=responses({204: None}, forbidden=True, not_found=True),
)
def delete_item(request, list_id: Id, item_id: Id):
    cl = _list(request, list_id)
    item = get_object_or_404(ChangeItem, pk=item_id, change_list=cl)
    _commune(request, cl)
    _run(changelists.remove_manual_item, actor=request.auth, item=item)
    return Status(204, None)
