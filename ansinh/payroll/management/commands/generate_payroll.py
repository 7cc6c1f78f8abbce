"""python manage.py generate_payroll --period YYYY-MM --area CODE

(Re)generates the draft payroll of every cycle of that month in the area (or the cycle whose
area contains it) and prints a JSON summary: lines, total_amount, counts and amounts per channel
and line type, fee_total (expected, under the contract in force), and each cycle. Safe to re-run:
a draft is replaced, never duplicated; a cycle past "payroll generated" is left alone and listed
under "skipped".

A cycle still open for changes (or with its changes submitted) is skipped with the reason: its
communes' change lists must be accepted and the cycle appraised first (`build_change_lists`,
the change-list pages or API)."""

import json

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils.translation import gettext as _

from ansinh.core.errors import DomainError
from ansinh.payroll.generation import GENERATABLE, generate_payroll
from ansinh.payroll.models import Channel, CycleState, LineType, PaymentCycle

from .open_cycles import area_by_code, parse_period


class Command(BaseCommand):
    help = "Generate the draft payroll of a month's cycles in an area (idempotent); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM: the month the allowance is for")
        parser.add_argument("--area", required=True, help="official code of a province, district or commune")

    def handle(self, *args, period: str, area: str, **options):
        month = parse_period(period)
        where = area_by_code(area, month)
        cycles = list(
            PaymentCycle.objects.filter(month=month)
            .filter(Q(area_path__startswith=where.path) | Q(area_id__in=where.ancestor_ids()))
            .order_by("area_path", "programme__code", "pk")
        )
        out: dict = {
            "period": f"{month:%Y-%m}",
            "area": where.code,
            "lines": 0,
            "total_amount": 0,
            "per_channel": {c: {"lines": 0, "amount": 0} for c in Channel.values},
            "per_line_type": {t: {"lines": 0, "amount": 0} for t in LineType.values},
            "fee_total": 0,
            "fee_notes": [],
            "cycles": [],
            "skipped": [],
        }
        for cycle in cycles:
            try:
                if cycle.state in (CycleState.OPEN, CycleState.CHANGES_SUBMITTED):
                    reason = _("The communes' change lists must be accepted and the cycle appraised first.")
                    out["skipped"].append({"cycle": cycle.pk, "state": cycle.state, "reason": reason})
                    continue
                if cycle.state not in GENERATABLE:
                    out["skipped"].append({"cycle": cycle.pk, "state": cycle.state})
                    continue
                s = generate_payroll(actor=None, cycle=cycle)
            except DomainError as exc:
                out["skipped"].append({"cycle": cycle.pk, "state": cycle.state, "reason": str(exc)})
                continue
            out["lines"] += s["lines"]
            out["total_amount"] += s["total_amount"]
            out["fee_total"] += s["fee_total"]
            for key in ("per_channel", "per_line_type"):
                for name, bucket in s[key].items():
                    out[key][name]["lines"] += bucket["lines"]
                    out[key][name]["amount"] += bucket["amount"]
            if s["fee_note"] and s["fee_note"] not in out["fee_notes"]:
                out["fee_notes"].append(s["fee_note"])
            out["cycles"].append(
                {k: s[k] for k in ("cycle", "programme", "lines", "total_amount", "fee_total", "replaced_lines")}
            )
        self.stdout.write(json.dumps(out, ensure_ascii=False))
