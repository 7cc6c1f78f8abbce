"""python manage.py build_cash_lists --cycle ID
python manage.py build_cash_lists --period YYYY-MM --area CODE

Makes, or brings up to date, the cash lists (one per pay point and per home-delivery route) of a
cycle, or of every approved and funded cycle of that month in the area (ansinh.cashout.lists).
Prints a JSON summary per cycle. Safe to re-run: entries already there stay, paid ones are never
touched, a person never has two live entries."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ansinh.cashout.lists import BUILDABLE_STATES, build_cash_lists
from ansinh.payroll.management.commands.open_cycles import area_by_code, parse_period
from ansinh.payroll.models import PaymentCycle


class Command(BaseCommand):
    help = "Make or update the cash lists of a cycle (or of a month's cycles in an area)."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="the payment cycle's id")
        parser.add_argument("--period", help="YYYY-MM: the month the allowance is for (with --area)")
        parser.add_argument("--area", help="official code of a province, district or commune (with --period)")

    def handle(self, *args, cycle=None, period=None, area=None, **options):
        if cycle:
            cycles = list(PaymentCycle.objects.filter(pk=cycle))
            if not cycles:
                raise CommandError(f"No payment cycle {cycle}.")
        elif period and area:
            month = parse_period(period)
            where = area_by_code(area, month)
            cycles = list(
                PaymentCycle.objects.filter(month=month, state__in=BUILDABLE_STATES)
                .filter(Q(area_path__startswith=where.path) | Q(area_id__in=where.ancestor_ids()))
                .order_by("area_path", "programme__code", "pk")
            )
        else:
            raise CommandError("Give --cycle ID, or --period YYYY-MM and --area CODE.")
        out = []
        for c in cycles:
            try:
                result = build_cash_lists(actor=None, cycle=c)
            except ValidationError as exc:
                out.append({"cycle": c.pk, "refused": " ".join(exc.messages)})
                continue
            out.append(
                {
                    "cycle": c.pk,
                    "month": f"{c.month:%Y-%m}",
                    "lists": [
                        {
                            "id": cl.pk,
                            "place": str(cl),
                            "kind": cl.kind,
                            "people": cl.entries_count,
                            "total": cl.total_amount,
                        }
                        for cl in result.lists
                    ],
                    "created": result.created,
                    "cancelled": result.cancelled,
                    "kept": result.kept,
                    "routes_created": result.routes_created,
                    "refusals": result.refusals,
                }
            )
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
        if cycle and out and "refused" in out[0]:
            raise CommandError(out[0]["refused"])
