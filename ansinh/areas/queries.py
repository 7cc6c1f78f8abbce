"""Reads of the area tree."""

from collections.abc import Iterable
from datetime import date
from functools import reduce
from operator import or_

from django.db.models import Case, IntegerField, Q, Value, When

from .models import LEGACY_END, Area, AreaSuccession, Level, Tree


def find_by_code(code: str, *, level: str | None = None, on: date | None = None) -> Area | None:
    """The area with this official code; when both trees hold the code, the one valid on `on`
    (default today) wins, then the current tree."""
    qs = Area.objects.filter(code=code)
    if level:
        qs = qs.filter(level=level)
    day = on or date.today()
    valid = Q(valid_from__isnull=True) | Q(valid_from__lte=day)
    valid &= Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    return (
        qs.annotate(
            rank=Case(When(valid, then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .order_by("rank", "-valid_from")
        .first()
    )


def villages_of(commune: Area):
    return Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key")


def in_tree_order(areas) -> list[Area]:
    """`areas` (a bounded set) as a printed list shows them: each area followed by the areas
    under it, brothers in name order; the areas whose parent is not in the set first."""
    areas = list(areas)
    ids = {a.pk for a in areas}
    children: dict[int | None, list[Area]] = {}
    for a in areas:
        children.setdefault(a.parent_id if a.parent_id in ids else None, []).append(a)
    ordered: list[Area] = []
    stack = sorted(children.get(None, []), key=lambda a: a.name_key, reverse=True)
    while stack:
        area = stack.pop()
        ordered.append(area)
        stack.extend(sorted(children.get(area.pk, []), key=lambda a: a.name_key, reverse=True))
    return ordered


class LegacyInheritance:
    """Which pre-2025 areas went, whole, into areas of the current tree: a pre-2025 commune
    whose successors (AreaSuccession, every part of a split commune) all lie under the given
    current areas, and a pre-2025 district or province whose communes (those in force on
    2025-06-30) all did. Loaded for a set of current areas in two queries (the successions of
    the pre-2025 communes with a successor there, then the pre-2025 communes of their
    provinces); `under(paths)` answers in memory for any subset of them."""

    def __init__(self, paths: Iterable[str]):
        paths = sorted(set(paths))
        self.successors: dict[str, set[str]] = {}  # pre-2025 commune path → successor paths
        self.communes: list[str] = []  # the pre-2025 communes (paths) of the provinces concerned
        if not paths:
            return
        there = reduce(or_, (Q(successor__path__startswith=p) for p in paths))
        candidates = AreaSuccession.objects.filter(there, legacy__tree=Tree.LEGACY).values("legacy_id")
        for legacy_path, successor_path in AreaSuccession.objects.filter(legacy_id__in=candidates).values_list(
            "legacy__path", "successor__path"
        ):
            self.successors.setdefault(legacy_path, set()).add(successor_path)
        provinces = sorted({"/" + p.strip("/").split("/")[0] + "/" for p in self.successors})
        if provinces:
            self.communes = list(
                Area.objects.filter(tree=Tree.LEGACY, level=Level.COMMUNE)
                .filter(reduce(or_, (Q(path__startswith=p) for p in provinces)))
                .valid_on(LEGACY_END)
                .values_list("path", flat=True)
            )

    def under(self, paths: Iterable[str]) -> list[str]:
        """The paths of the pre-2025 areas that went whole into the areas of `paths` (the
        highest such areas only: a district, not also its communes)."""
        paths = tuple(paths)
        whole = {
            legacy
            for legacy, successors in self.successors.items()
            if all(s.startswith(paths) for s in successors)  # str.startswith takes a tuple
        }
        if not whole:
            return []
        # per district and province: its communes, and how many of them went whole
        counts: dict[str, list[int]] = {}
        for commune in self.communes:
            gone = commune in whole
            for ancestor in _ancestor_paths(commune)[:-1]:
                count = counts.setdefault(ancestor, [0, 0])
                count[0] += 1
                count[1] += int(gone)
        found = whole | {ancestor for ancestor, (total, gone) in counts.items() if gone == total}
        kept: list[str] = []
        for path in sorted(found, key=len):
            if not any(path.startswith(k) for k in kept):
                kept.append(path)
        return sorted(kept)


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def inherited_legacy_paths(paths: Iterable[str]) -> list[str]:
    """The paths of the pre-2025 areas that went whole into the current areas of `paths` (see
    `LegacyInheritance`; two queries)."""
    paths = list(paths)
    return LegacyInheritance(paths).under(paths)
