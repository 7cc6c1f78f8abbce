"""Data-quality worklists over HTTP: the open items of the user's areas (CCCD and account numbers
masked, no category) and their counts per kind. The items are as of the last refresh (the
nightly `refresh_worklists`, or the worklist page's refresh button for one commune); filtered on a commune outside
the user's areas, the answer is empty."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ansinh.quality import queries
from ansinh.quality.models import Kind, WorklistItem

from .common import Id, responses

router = Router(tags=["worklists"])

PAGE_SIZE = 100
KindValue = Literal[
    "cccd_missing",
    "cccd_invalid",
    "phone_missing",
    "phone_invalid",
    "no_method",
    "no_payee",
    "unverified",
    "identity_mismatch",
    "deceased",
    "weak_name",
    "not_represented",
    "shared_account",
    "stopped_payable",
    "duplicate_cccd",
    "duplicate_name",
]


class ItemOut(Schema):
    id: int
    kind: KindValue
    kind_label: str
    beneficiary_id: int
    full_name: str
    cccd_masked: str
    commune_id: int
    account_id: int | None
    account_masked: str | None = Field(None, description="The account's number, masked ('•••• 4567').")
    detail: dict[str, Any] = Field(
        ...,
        description=(
            "result (verification result id), outcome, death_date, score, count, "
            "other (record id, only when the user may open it) or other_commune."
        ),
    )
    opened_at: datetime


class ItemPage(Schema):
    items: list[ItemOut]
    count: int
    page: int
    pages: int


class CountOut(Schema):
    kind: KindValue
    kind_label: str
    count: int


class ItemFilters(Schema):
    kind: KindValue | None = None
    commune: Id | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class CountFilters(Schema):
    commune: Id | None = None


def _reader(request) -> None:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading the data-quality worklists."))


def _scoped(request, commune_id: int | None):
    """The user's open items, of one commune if asked (a commune outside the user's areas has
    none of them: an empty list, like every filter)."""
    items = queries.open_items_for(request.auth)
    return items if commune_id is None else items.filter(commune_id=commune_id)


def _item(i: WorklistItem, visible: set[int]) -> dict:
    detail = dict(i.detail or {})
    if detail.get("other") and detail["other"] not in visible:
        detail.pop("other")  # another commune's record: never its number
        detail["other_commune"] = True
    return {
        "id": i.pk,
        "kind": i.kind,
        "kind_label": str(Kind(i.kind).label),
        "beneficiary_id": i.beneficiary_id,
        "full_name": i.beneficiary.full_name,
        "cccd_masked": i.beneficiary.masked_cccd,
        "commune_id": i.commune_id,
        "account_id": i.account_id,
        "account_masked": i.account.masked_number if i.account else None,
        "detail": detail,
        "opened_at": i.opened_at,
    }


@router.get("/worklist-items", response=responses({200: ItemPage}, forbidden=True))
def list_items(request, filters: Query[ItemFilters]):
    """The open worklist items of the user's areas (or of one commune), 100 a page."""
    _reader(request)
    items = _scoped(request, filters.commune)
    if filters.kind:
        items = items.filter(kind=filters.kind)
    items = items.select_related("beneficiary", "account").order_by("kind", "id")
    count = items.count()
    start = (filters.page - 1) * PAGE_SIZE
    rows = list(items[start : start + PAGE_SIZE])
    visible = queries.visible_others(request.auth, rows)
    return {
        "items": [_item(i, visible) for i in rows],
        "count": count,
        "page": filters.page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
    }


@router.get("/worklist-items/counts", response=responses({200: list[CountOut]}, forbidden=True))
def item_counts(request, filters: Query[CountFilters]):
    """Open items per kind in the user's areas (or one commune), every kind listed."""
    _reader(request)
    counts = queries.counts(_scoped(request, filters.commune))
    return [{"kind": k, "kind_label": str(Kind(k).label), "count": n} for k, n in counts.items()]
