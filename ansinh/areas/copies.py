"""Rows that copy an area's materialised path, and keeping them right when areas move.

Beneficiaries, representatives, import jobs, audit events (and any later model: payments,
payroll …) store the path of their area in a field named `area_path`, so that "everything
under this area" is one indexed prefix filter without a join. The copies are found by that
name on every installed model: a new app is covered without being listed here
(tests/areas/test_path_copies.py fails for a path copy under another name).

When a reload of the official tree moves a district or a commune, `repath_copies` rewrites the
copies set-based: one UPDATE per table (per `CHUNK` moved areas) replacing the old path prefix
by the new one, in the caller's transaction. The audit log's append-only trigger accepts this
UPDATE only when it sets `area_path` to the current path of the event's area and changes
nothing else (audit migration 0003), so the areas are re-pathed first.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.apps import apps
from django.db import models
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Concat, Substr

COPY_FIELD = "area_path"
CHUNK = 200  # moved areas per UPDATE (one CASE branch each)


def path_copies() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every installed model with a path copy, in a stable order."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        field = next((f for f in model._meta.concrete_fields if f.name == COPY_FIELD), None)
        if field is not None:
            found.append((model, field.name))
    return sorted(found, key=lambda item: item[0]._meta.label_lower)


def essential_moves(changes: dict[str, str]) -> dict[str, str]:
    """The old → new paths that are not implied by a move of an ancestor: a commune that stayed
    in its moved district, or a village under a moved commune, follows by the ancestor's prefix.
    What is left is what the officer would call "the moves" (and the UPDATEs' CASE branches)."""
    kept: dict[str, str] = {}
    for old in sorted(changes, key=len):  # ancestors first
        new = changes[old]
        nearest = max((o for o in kept if old.startswith(o)), key=len, default=None)
        if nearest is not None and kept[nearest] + old[len(nearest) :] == new:
            continue
        kept[old] = new
    return kept


def repath_copies(moves: dict[str, str]) -> dict[str, int]:
    """Rewrite every path copy that starts with an old path of `moves` (old → new path, each
    ending in "/"). The deepest old path wins (CASE branches deepest first, chunks deepest
    first), so a commune moved out of a district that itself moved gets its own new path; a
    row once re-pathed never matches a shallower old path again (its new path would put that
    moved area at its old place). Returns the rows changed per model ("registry.beneficiary":
    n), zero counts left out. Call it inside the transaction that moved the areas."""
    ordered = sorted(moves.items(), key=lambda item: (-len(item[0]), item[0]))
    counts: dict[str, int] = {}
    for model, field in path_copies():
        changed = 0
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            branches = [
                When(
                    **{f"{field}__startswith": old},
                    then=Concat(Value(new), Substr(field, len(old) + 1), output_field=CharField()),
                )
                for old, new in chunk
            ]
            where = reduce(or_, (Q(**{f"{field}__startswith": old}) for old, _new in chunk))
            changed += model._base_manager.filter(where).update(
                **{field: Case(*branches, default=F(field), output_field=CharField())}
            )
        if changed:
            counts[model._meta.label_lower] = changed
    return counts
