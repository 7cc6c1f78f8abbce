"""Rules that need the database, set-based so that one row (the form, the API) and a file of
50,000 rows (the importer, the demo) go through the same code: who a row is (matched by CCCD,
else by name and date of birth), whether a CCCD is taken or belongs to a stopped person, likely
duplicates, and whether a representative's CCCD belongs to somebody with another name.

A record of another commune is described without its details: an officer elsewhere learns no
more than a name, a masked CCCD and the commune where the record lives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.core.text import search_key

from .inputs import PersonInput
from .models import Beneficiary, Representative, Status, StopReason

ACTIVE_STATUSES = (Status.ACTIVE, Status.SUSPENDED)
BATCH = 5000


def province_path(area: Area) -> str:
    return "/" + area.path.strip("/").split("/")[0] + "/"


def viewer(actor) -> Callable[[str], bool]:
    """Whether `actor` may see the registry at an area path; a system job (no user) may."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return lambda path: True
    if access.everywhere(actor, Cap.REGISTRY_VIEW):
        return lambda path: True
    paths = access.paths_with(actor, Cap.REGISTRY_VIEW)
    return lambda path: any(path.startswith(p) for p in paths)


def editor(actor) -> Callable[[str], bool]:
    """Whether `actor` may change registry records at an area path (a system job may)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return lambda path: True
    paths = access.paths_with(actor, Cap.REGISTRY_EDIT)
    return lambda path: any(path.startswith(p) for p in paths)


# --- who a row is ------------------------------------------------------------------------------


def _best(current: Beneficiary | None, candidate: Beneficiary) -> Beneficiary:
    """Of several records with one CCCD, the receiving one, else the latest."""
    if current is None:
        return candidate
    rank = (candidate.status in ACTIVE_STATUSES, candidate.pk)
    return candidate if rank > (current.status in ACTIVE_STATUSES, current.pk) else current


def by_cccd(
    cccds: Iterable[str], *, fields: tuple[str, ...] = (), exclude_id: int | None = None
) -> dict[str, Beneficiary]:
    """Every status, stopped people included: a dead person's CCCD must find the dead person."""
    wanted = sorted({c for c in cccds if c})
    found: dict[str, Beneficiary] = {}
    for start in range(0, len(wanted), BATCH):
        qs = Beneficiary.objects.filter(cccd__in=wanted[start : start + BATCH])
        if exclude_id:
            qs = qs.exclude(pk=exclude_id)
        if fields:
            qs = qs.only(*fields, "cccd", "status", "stop_reason", "end_month", "commune", "area_path", "full_name")
        for b in qs.select_related("commune"):
            found[b.cccd] = _best(found.get(b.cccd), b)
    return found


def by_name_in_commune(
    commune: Area, name_keys: Iterable[str], *, fields: tuple[str, ...] = ()
) -> dict[tuple[str, dt.date | None], list[Beneficiary]]:
    """People without a CCCD in the commune by (name key, date of birth), every status."""
    keys = sorted(set(name_keys))
    found: dict[tuple[str, dt.date | None], list[Beneficiary]] = {}
    for start in range(0, len(keys), BATCH):
        qs = Beneficiary.objects.filter(commune=commune, name_key__in=keys[start : start + BATCH], cccd="")
        if fields:
            qs = qs.only(*fields, "name_key", "status", "stop_reason", "end_month", "commune", "area_path")
        for b in qs.select_related("commune"):
            found.setdefault((b.name_key, b.birth_date), []).append(b)
    return found


def known_in_province(
    commune: Area, pairs: Iterable[tuple[str, dt.date | None]]
) -> dict[tuple[str, dt.date | None], Beneficiary]:
    """(name key, date of birth) pairs already registered in the commune's province, fetched per
    batch of names AND their birth dates so common names do not bring back the whole province."""
    wanted = {p for p in pairs if p[1] is not None}
    found: dict[tuple[str, dt.date | None], Beneficiary] = {}
    ordered = sorted(wanted)
    prefix = province_path(commune)
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        qs = Beneficiary.objects.filter(
            area_path__startswith=prefix,
            name_key__in={k for k, _b in batch},
            birth_date__in={b for _k, b in batch},
        ).select_related("commune")
        for b in qs.only("full_name", "name_key", "birth_date", "area_path", "commune", "status"):
            if (b.name_key, b.birth_date) in wanted:
                found[(b.name_key, b.birth_date)] = _best(found.get((b.name_key, b.birth_date)), b)
    return found


# --- messages ----------------------------------------------------------------------------------


def _where(b: Beneficiary, can_see: bool) -> str:
    if can_see:
        return _("record no. %(id)d") % {"id": b.pk}
    return _("a record of %(commune)s") % {"commune": b.commune.full_name}


def stopped_message(b: Beneficiary, *, can_see: bool) -> str:
    """A row that describes a person whose allowance was stopped: never registered again."""
    reason = StopReason(b.stop_reason).label if b.stop_reason in StopReason.values else ""
    month = b.end_month.strftime("%m/%Y") if b.end_month else "—"
    return _(
        "%(name)s is already registered (%(where)s) and the allowance was stopped after %(month)s (%(reason)s). "
        "Do not register the person again: if they are entitled again, record a new start decision on that record."
    ) % {"name": b.full_name, "where": _where(b, can_see), "month": month, "reason": reason.lower()}


def taken_message(b: Beneficiary, *, can_see: bool) -> str:
    return _("This CCCD already belongs to %(name)s, who is receiving (%(where)s).") % {
        "name": b.full_name,
        "where": _where(b, can_see),
    }


def duplicate_message(b: Beneficiary, *, can_see: bool) -> str:
    if can_see:
        return _("Likely duplicate: %(name)s, born %(date)s, is already registered (no. %(id)d).") % {
            "name": b.full_name,
            "date": b.birth_date.strftime("%d/%m/%Y"),
            "id": b.pk,
        }
    return _(
        "Likely duplicate: a person with the same name and date of birth is already registered in %(commune)s."
    ) % {"commune": b.commune.full_name}


# --- representatives ---------------------------------------------------------------------------


def representative_conflicts(people: Iterable[PersonInput]) -> dict[str, str]:
    """CCCD → error for representatives whose CCCD is already registered for someone with
    another name. Only the registered name is shown, never their other data."""
    entered = {p.cccd: p for p in people if p.cccd}
    conflicts: dict[str, str] = {}
    wanted = sorted(entered)
    for start in range(0, len(wanted), BATCH):
        for rep in Representative.objects.filter(cccd__in=wanted[start : start + BATCH]).only(
            "cccd", "full_name", "name_key"
        ):
            person = entered[rep.cccd]
            if search_key(person.full_name) != rep.name_key:
                conflicts[rep.cccd] = _(
                    "This CCCD is registered for %(name)s. Check the number, or enter the name as registered."
                ) % {"name": rep.full_name}
    return conflicts
