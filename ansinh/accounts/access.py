"""Area scoping: what a user may see and do, and where.

Every query a user can reach is rooted here. A capability holds on the areas where the user
has an active role carrying it, and on everything below them. Objects outside answer 404
(the HTTP layers use `get_object_or_404` on a scoped queryset).

A superuser is the national system administrator: the administrative and viewing capabilities
(`roles.ADMINISTRATOR_CAPABILITIES`) hold for them everywhere; any other capability (case work)
only where they also hold a role carrying it."""

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from ansinh.areas.models import Area

from .roles import ADMINISTRATOR_CAPABILITIES, ROLE_CAPABILITIES, Cap

_CACHE_ATTR = "_ansinh_grants"


def _grants(user) -> list[tuple[str, str, int]]:
    """(role, area path, area id) for the user's active assignments, cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from .models import RoleAssignment

        cached = list(RoleAssignment.objects.active().filter(user=user).values_list("role", "area__path", "area_id"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_global(user) -> bool:
    """A superuser: the national system administrator, who administers and reads every area."""
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def everywhere(user, cap: str) -> bool:
    """Whether `cap` holds in every area (and where there is no area): a superuser's
    administrative and viewing capabilities."""
    return cap in ADMINISTRATOR_CAPABILITIES and is_global(user)


def roles_of(user) -> set[str]:
    return {role for role, _path, _id in _grants(user)}


def capabilities(user) -> set[str]:
    caps: set[str] = set()
    for role in roles_of(user):
        caps |= ROLE_CAPABILITIES.get(role, frozenset())
    if is_global(user):
        caps |= ADMINISTRATOR_CAPABILITIES
    return caps


def has_cap(user, cap: str) -> bool:
    return cap in capabilities(user)


def paths_with(user, cap: str) -> list[str]:
    """Area paths where `cap` holds, with nested duplicates removed."""
    paths = sorted({path for role, path, _id in _grants(user) if cap in ROLE_CAPABILITIES.get(role, ())})
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def area_q(user, cap: str, path_field: str = "area__path") -> Q | None:
    """A Q limiting `path_field` to the user's areas for `cap`; None means unrestricted."""
    if everywhere(user, cap):
        return None
    paths = paths_with(user, cap)
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in paths))


def scope(qs: QuerySet, user, cap: str, path_field: str = "area__path") -> QuerySet:
    q = area_q(user, cap, path_field)
    return qs if q is None else qs.filter(q)


def areas_for(user, cap: str = Cap.AREAS_VIEW) -> QuerySet:
    return scope(Area.objects.all(), user, cap, path_field="path")


def can_in_area(user, cap: str, area: Area | None) -> bool:
    """`cap` holds in `area`; with no area (national data), only where it holds everywhere."""
    if everywhere(user, cap):
        return True
    if area is None:
        return False
    return any(area.path.startswith(p) for p in paths_with(user, cap))


def top_areas(user, cap: str = Cap.AREAS_VIEW) -> list[Area]:
    if everywhere(user, cap):
        return list(Area.objects.filter(parent__isnull=True).order_by("tree", "name_key"))
    paths = paths_with(user, cap)
    ids = [int(p.strip("/").split("/")[-1]) for p in paths]
    return list(Area.objects.filter(pk__in=ids).order_by("path"))
