"""Reads of the registry, already scoped to the user's areas."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, F, Func, Q, QuerySet, Value

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
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
            qs = _name_starts(qs, search_key(text))
    if params.cccd:
        qs = qs.filter(cccd=params.cccd.strip())
    if params.phone:
        qs = qs.filter(phone=_e164("".join(ch for ch in params.phone if ch.isdigit())))
    if params.area:
        area = access.areas_for(user).filter(pk=params.area).first()
        qs = qs.filter(area_path__startswith=area.path) if area else qs.none()
        if area and area.level == Level.VILLAGE:
            # the same rows (a beneficiary's area_path is its village's path); lets PostgreSQL
            # read the village's page from the (village, name_key) index in name order
            qs = qs.filter(village_id=area.pk)
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


class NameTail(Func):
    """`ansinh_name_tail(name_key, n)`: the name without its first n words, NULL when it has no
    more words (PostgreSQL function of migration registry 0003, with a b-tree per n)."""

    function = "ansinh_name_tail"
    output_field = CharField()


NAME_TAILS = 4  # the b-tree indexed tails (registry migration 0003)


def _name_starts(qs: QuerySet[Beneficiary], key: str) -> QuerySet[Beneficiary]:
    """Names whose accent-free key, or any word of it onwards, starts with `key`.

    Everywhere this is `name_key LIKE 'key%' OR name_key LIKE '% key%'`. On PostgreSQL the
    second half is spelt as prefix searches of the name without its first 1..4 words, each
    served by a b-tree range scan, plus the trigram search for the few names of six words or
    more; a trigram search over every name costs far more at a million rows (the common
    trigrams of "nguyen thi …" match most of them)."""
    if connection.vendor != "postgresql":
        return qs.filter(Q(name_key__startswith=key) | Q(name_key__contains=" " + key))
    tails = {f"name_tail{n}": NameTail(F("name_key"), Value(n)) for n in range(1, NAME_TAILS + 2)}
    words = Q(name_key__startswith=key)
    for n in range(1, NAME_TAILS + 1):
        words |= Q(**{f"name_tail{n}__startswith": key})
    words |= Q(**{f"name_tail{NAME_TAILS + 1}__isnull": False}) & Q(name_key__contains=" " + key)
    return qs.alias(**tails).filter(words)


def _e164(digits: str) -> str:
    if digits.startswith("84"):
        return "+" + digits
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return "+84" + digits
