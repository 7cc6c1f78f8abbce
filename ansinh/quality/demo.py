"""The demo's part of the worklists (called by load_demo after the registry, verification and
payment steps): a refresh of every current-tree province holding demo beneficiaries, so that the
worklists and the dashboard's counts show the demo's deliberate problems. Idempotent: a second
call opens and closes nothing."""

from __future__ import annotations

from ansinh.areas.models import Area, Level, Tree
from ansinh.registry.models import Beneficiary

from .services import refresh


def load_demo_worklists() -> dict:
    commune_ids = Beneficiary.objects.order_by().values_list("commune_id", flat=True).distinct()
    paths = Area.objects.filter(pk__in=commune_ids, level=Level.COMMUNE, tree=Tree.CURRENT).values_list(
        "path", flat=True
    )
    province_ids = sorted({int(p.strip("/").split("/")[0]) for p in paths})
    opened: dict[str, int] = {}
    open_now: dict[str, int] = {}
    for province in Area.objects.filter(pk__in=province_ids):
        summary = refresh(area=province)
        for kind, n in summary["opened"].items():
            opened[kind] = opened.get(kind, 0) + n
        for kind, n in summary["open"].items():
            open_now[kind] = open_now.get(kind, 0) + n
    return {"provinces": len(province_ids), "opened": opened, "open": open_now}
