"""The demo's part of identity verification (called by load_demo): the synthetic population
register made from the demo's people, and a first verification run for every demo commune with
beneficiaries, so that results with discrepancies and stop proposals are there to see.
Idempotent: a second call adds nothing."""

from __future__ import annotations

from ansinh.areas.models import Area, Level, Tree
from ansinh.registry.models import Beneficiary

from .models import VerificationRun
from .services import build_synthetic_register, run_verification


def load_demo_verification() -> dict:
    added = build_synthetic_register()
    runs = 0
    commune_ids = set(Beneficiary.objects.values_list("commune_id", flat=True).distinct())
    done = set(VerificationRun.objects.values_list("commune_id", flat=True))
    for commune in Area.objects.filter(pk__in=commune_ids - done, level=Level.COMMUNE, tree=Tree.CURRENT):
        run_verification(actor=None, commune=commune, adapter_name="sandbox")
        runs += 1
    return {"residents": added, "runs": runs}
