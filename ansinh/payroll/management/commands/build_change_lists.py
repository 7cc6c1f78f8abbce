"""python manage.py build_change_lists --period YYYY-MM [--area CODE]

Creates the missing change lists of every cycle of that month open for changes (or with its
changes submitted) in the area (or the cycle whose area contains it), and rebuilds the automatic
changes of the lists not yet submitted; submitted and accepted lists are left alone. Idempotent
(a system run; schedule it nightly so the communes find their lists current). Prints a JSON
summary: lists, rebuilt lists and automatic changes per cycle, and the cycles skipped."""

import json

from django.core.management.base import BaseCommand
from django.db.models import Q

from ansinh.core.errors import DomainError
from ansinh.payroll.changelists import BUILDABLE_CYCLE, build_change_lists
from ansinh.payroll.models import PaymentCycle

from .open_cycles import area_by_code, parse_period


class Command(BaseCommand):
    help = "Build the communes' change lists of a month's open cycles (idempotent); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM: the month the allowance is for")
        parser.add_argument("--area", help="official code of a province, district or commune")

    def handle(self, *args, period: str, area: str | None = None, **options):
        month = parse_period(period)
        cycles = PaymentCycle.objects.filter(month=month)
        where = area_by_code(area, month) if area else None
        if where is not None:
            cycles = cycles.filter(Q(area_path__startswith=where.path) | Q(area_id__in=where.ancestor_ids()))
        out: dict = {"period": f"{month:%Y-%m}", "area": where.code if where else "", "lists": 0, "items": 0}
        out |= {"cycles": [], "skipped": []}
        for cycle in cycles.order_by("area_path", "programme__code", "pk"):
            if cycle.state not in BUILDABLE_CYCLE:
                out["skipped"].append({"cycle": cycle.pk, "state": cycle.state})
                continue
            try:
                s = build_change_lists(actor=None, cycle=cycle)
            except DomainError as exc:
                out["skipped"].append({"cycle": cycle.pk, "state": cycle.state, "reason": str(exc)})
                continue
            out["lists"] += s["lists"]
            out["items"] += s["items"]
            out["cycles"].append(s)
        self.stdout.write(json.dumps(out, ensure_ascii=False))
