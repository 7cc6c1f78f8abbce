"""Reads of the registry, already scoped to the user's areas."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.text import search_key

from .models import Beneficiary, Representative

NEEDS_FLAGS = ("cannot_travel", "no_phone", "cannot_read_vietnamese", "frail")


def beneficiaries_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[Beneficiary]:
    return access.scope(Beneficiary.objects.all(), user, cap, path_field="area_path")


def representatives_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[Representative]:
    return access.scope(Representative.objects.all(), user, cap, path_field="area_path")


@dataclass
class SearchParams:
    q: str = ""
    cccd: str = ""
    phone: str = ""
    area: int | None = None  # commune or village id (or any area in scope)
    category: str = ""
    status: str = ""
    needs: tuple[str, ...] = ()
    issues: bool = False


def search(user, params: SearchParams) -> QuerySet[Beneficiary]:
    """Name with or without diacritics (prefix of the full name or of any word), CCCD, phone
    (any format), area, category, status, needs flags, data-quality issues."""
    qs = beneficiaries_for(user)
    text = params.q.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) == len(text.replace(" ", "")) and len(digits) in (9, 10, 11, 12):
            qs = qs.filter(cccd=digits) if len(digits) == 12 else qs.filter(phone=_e164(digits))
        else:
            key = search_key(text)
            qs = qs.filter(Q(name_key__startswith=key) | Q(name_key__contains=" " + key))
    if params.cccd:
        qs = qs.filter(cccd=params.cccd.strip())
    if params.phone:
        qs = qs.filter(phone=_e164("".join(ch for ch in params.phone if ch.isdigit())))
    if params.area:
        area = access.areas_for(user).filter(pk=params.area).first()
        qs = qs.filter(area_path__startswith=area.path) if area else qs.none()
    if params.category:
        qs = qs.filter(categories__category__code=params.category, categories__to_month__isnull=True).distinct()
    if params.status:
        qs = qs.filter(status=params.status)
    for flag in params.needs:
        if flag in NEEDS_FLAGS:
            qs = qs.filter(**{flag: True})
    if params.issues:
        qs = qs.filter(has_issues=True)
    return qs


def _e164(digits: str) -> str:
    if digits.startswith("84"):
        return "+" + digits
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return "+84" + digits
