"""The pilot's unit figures (report 3010/BC-SLĐTBXH, Biểu 01–03) computed with plain ORM queries
from the definitions shared by the reports and the demo (docs/pilot-report-2023.md), independent
of ansinh.reports: used by tests/demo/test_pilot_figures.py and handy in a shell
(`figures("884")`)."""

from __future__ import annotations

from datetime import date

from django.db.models import Min, Q

from ansinh.areas.models import Area, Level, Tree
from ansinh.disbursement.models import Payout, PayoutChannel
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.payroll.models import LineType
from ansinh.registry.models import Beneficiary

MONTHS = (date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1))
ALLOWANCE_LINES = (LineType.REGULAR, LineType.ARREARS, LineType.RECOVERY)


def _registered_in(district: Area, prefix: str = "") -> Q:
    """Registered in the pre-2025 district: the pre-2025 commune the reform kept, else the own path."""
    return Q(**{f"{prefix}legacy_commune__path__startswith": district.path}) | Q(
        **{f"{prefix}legacy_commune__isnull": True, f"{prefix}area_path__startswith": district.path}
    )


def figures(code: str) -> dict:
    district = Area.objects.get(tree=Tree.LEGACY, level=Level.DISTRICT, code=code)
    september = MONTHS[-1]
    receiving = Beneficiary.objects.filter(_registered_in(district)).filter(
        Q(start_month__lte=september) & (Q(end_month__isnull=True) | Q(end_month__gte=september))
    )
    first_opened = dict(
        ReceivingAccount.objects.filter(beneficiary__in=receiving, status=AccountStatus.ACTIVE, opened_on__isnull=False)
        .values_list("beneficiary")
        .annotate(first=Min("opened_on"))
    )
    opened = [sum(1 for d in first_opened.values() if (d.year, d.month) == (m.year, m.month)) for m in MONTHS]
    before = sum(1 for d in first_opened.values() if d < MONTHS[0])
    paid = []
    everyone: set[int] = set()
    for month in MONTHS:
        rows = list(
            Payout.objects.filter(
                channel=PayoutChannel.ACCOUNT,
                line__cycle__month=month,
                line__line_type__in=ALLOWANCE_LINES,
            )
            .filter(_registered_in(district, "line__beneficiary__"))
            .values_list("line__beneficiary_id", "amount")
        )
        people = {b for b, _a in rows}
        everyone |= people
        paid.append((len(people), sum(a for _b, a in rows)))
    with_account = sum(opened) + before
    return {
        "beneficiaries": receiving.count(),
        "opened_before_july": before,
        "opened": tuple(opened),
        "without_account": receiving.count() - with_account,
        "paid": tuple(paid),
        "paid_distinct": len(everyone),
    }
