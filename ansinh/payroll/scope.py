"""Which beneficiaries belong to a payment cycle's area: the one place the payroll says it, for
the ORM (Q objects and expressions) and for the set-based SQL of the generation.

Two area trees (ansinh/areas/models.py): since the 2025 reform every beneficiary is kept in the
tree in force from 2025-07-01 (`Beneficiary.commune`, `area_path`), and the pre-2025 commune of
a record the reform moved is in `Beneficiary.legacy_commune` (null for people registered after
the reform, and for records the reform has not moved yet).

- A cycle of the current tree (since 2025-07): the beneficiaries whose `area_path` is under
  the cycle's path (one indexed prefix filter, as ever); its lines carry the beneficiary's
  commune and path.
- A cycle of the pre-2025 tree (2023: a district labour office's): the beneficiaries whose
  commune before the reform, COALESCE(legacy_commune, commune) as `reform.queries.commune_on`
  says, is under the cycle's path. Its lines, change items and change lists are attributed to
  that pre-2025 commune (`PayrollLine.commune_id` / `area_path` = the pre-2025 commune's id and
  path), so that what was paid per pre-2025 district or commune is read from the lines, and
  the reform's moves of villages never re-path them.

A record not moved by the reform (legacy_commune null, commune in the pre-2025 tree) is found
by a pre-2025 cycle through its own `area_path`, which lies under its commune's path."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from ansinh.areas.models import Area, Level, Tree


def is_legacy(cycle) -> bool:
    """The cycle is one of the pre-2025 tree (its area is a pre-2025 district, commune or province)."""
    return cycle.area.tree == Tree.LEGACY


def _communes_under(path: str):
    return Area.objects.filter(level=Level.COMMUNE, path__startswith=path).values("pk")


def beneficiary_in_cycle_q(cycle, prefix: str = "") -> Q:
    """A Q on Beneficiary (or, with `prefix` such as "beneficiary__", on a model pointing to it)
    selecting the beneficiaries of the cycle's area."""
    path = cycle.area_path
    if not is_legacy(cycle):
        return Q(**{f"{prefix}area_path__startswith": path})
    return Q(**{f"{prefix}legacy_commune_id__in": _communes_under(path)}) | Q(
        **{f"{prefix}legacy_commune__isnull": True, f"{prefix}area_path__startswith": path}
    )


def beneficiary_in_communes_q(cycle, commune_ids, prefix: str = "") -> Q:
    """A Q on Beneficiary: those the cycle attributes to one of `commune_ids` (communes of the
    cycle's tree: its change lists' communes)."""
    ids = list(commune_ids)
    if not is_legacy(cycle):
        return Q(**{f"{prefix}commune_id__in": ids})
    return Q(**{f"{prefix}legacy_commune_id__in": ids}) | Q(
        **{f"{prefix}legacy_commune__isnull": True, f"{prefix}commune_id__in": ids}
    )


def commune_of(cycle, prefix: str = ""):
    """An expression for the commune the cycle attributes a beneficiary to (its change list, its
    lines): the pre-2025 commune for a pre-2025 cycle."""
    if not is_legacy(cycle):
        return F(f"{prefix}commune_id")
    return Coalesce(f"{prefix}legacy_commune_id", f"{prefix}commune_id")


def places(cycle, ids) -> dict[int, tuple[str, int]]:
    """beneficiary id → (area path, commune id) that the cycle's lines carry (two queries at
    most, whatever the number of ids)."""
    from ansinh.registry.models import Beneficiary

    ids = list(ids)
    if not ids:
        return {}
    if not is_legacy(cycle):
        return {
            pk: (path, commune_id)
            for pk, path, commune_id in Beneficiary.objects.filter(pk__in=ids).values_list(
                "pk", "area_path", "commune_id"
            )
        }
    communes = dict(Beneficiary.objects.filter(pk__in=ids).annotate(place=commune_of(cycle)).values_list("pk", "place"))
    paths = dict(Area.objects.filter(pk__in=set(communes.values())).values_list("pk", "path"))
    return {pk: (paths[cid], cid) for pk, cid in communes.items()}


@dataclass(frozen=True)
class SqlScope:
    """Fragments of raw SQL on the beneficiaries table under `alias`: `join` (to put after
    `FROM beneficiaries alias`), `where` with its `params`, and the expressions of the commune
    id and the area path that the cycle's lines carry."""

    join: str
    where: str
    params: tuple
    commune: str
    path: str


def sql_scope(cycle, alias: str = "b") -> SqlScope:
    """The cycle's beneficiaries in raw SQL. A current-tree cycle: the plain prefix LIKE on
    `alias.area_path` (its index), no join. A pre-2025 cycle: the communes of its area are read
    first (one small query) so that the filter is two indexed conditions (legacy_commune_id IN
    …, or no pre-2025 commune and the path under the cycle's), and the commune that the lines
    carry is joined on COALESCE(legacy_commune_id, commune_id)."""
    like = cycle.area_path + "%"
    if not is_legacy(cycle):
        return SqlScope("", f"{alias}.area_path LIKE %s", (like,), f"{alias}.commune_id", f"{alias}.area_path")
    areas = connection.ops.quote_name(Area._meta.db_table)
    place = f"{alias}_place"
    ids = [int(pk) for pk in _communes_under(cycle.area_path).values_list("pk", flat=True)]
    own = f"({alias}.legacy_commune_id IS NULL AND {alias}.area_path LIKE %s)"
    where = f"({alias}.legacy_commune_id IN ({', '.join(['%s'] * len(ids))}) OR {own})" if ids else own
    return SqlScope(
        join=f"JOIN {areas} {place} ON {place}.id = COALESCE({alias}.legacy_commune_id, {alias}.commune_id)",
        where=where,
        params=(*ids, like),
        commune=f"{place}.id",
        path=f"{place}.path",
    )
