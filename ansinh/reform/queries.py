"""Reads of the reform transition, scoped to the user's areas."""

from datetime import date

from django.db.models import F
from django.db.models.functions import Coalesce

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import LEGACY_END, VillageAssignment


def villages_to_assign(user):
    """Villages of split communes awaiting an officer's choice, where the user manages villages
    (they sit, meanwhile, under the successor that received the seat)."""
    qs = VillageAssignment.objects.filter(successor__isnull=True).select_related(
        "village", "village__parent", "legacy_commune"
    )
    return access.scope(qs, user, Cap.AREAS_MANAGE_VILLAGES, path_field="village__path").order_by(
        "legacy_commune__name_key", "village__name_key"
    )


def commune_on(day: date):
    """A beneficiary's commune in the tree valid on `day`, as an expression for reports of a
    period (`.values(commune_id=commune_on(day))`): before 2025-07-01 the pre-2025 commune of a
    record the reform moved, else the commune it is kept in."""
    if day <= LEGACY_END:
        return Coalesce("legacy_commune_id", "commune_id")
    return F("commune_id")
