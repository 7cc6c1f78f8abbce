"""The demo's settlements (issue 13 part 3): the past months' cycles that are fully paid (every
cash list closed, no transfer waiting for the bank) are settled by the provider — the demo's
provider staff (`buudien`) submits — and accepted by the office officer (`canbo.phong`); those
older than last month are also settled with the finance office (recorded as sent: closed).

The 2023 pilot cycles belong to the pre-2025 districts: the two users hold their roles there only
while the loader acts (`payroll.demo._pilot_roles`, assigned and revoked, both audited), as the
cash pay-out demo does. A cycle that still has something open stays "paying" (the demo shows what
blocks it). Idempotent: a settlement submitted or accepted is left as it is, a closed cycle is not
touched; a second run adds nothing."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from ansinh.accounts.models import User
from ansinh.accounts.roles import Role
from ansinh.areas.models import Level, Tree
from ansinh.core.errors import DomainError
from ansinh.payroll.models import CycleState, PaymentCycle

from . import lists, office_settlement, settlement
from .models import SettlementState

PROVIDER_STAFF, OFFICE_OFFICER = "buudien", "canbo.phong"
S = CycleState


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _previous_month(day: date) -> date:
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def load_demo_settlements(today: date | None = None) -> dict:
    """Settle the past months' paid cycles (see the module). Returns counts."""
    from ansinh.payroll.demo import _pilot_roles

    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    last_month = _previous_month(this_month)
    out = {"submitted": 0, "accepted": 0, "sent": 0, "blocked": 0}
    provider, officer = _user(PROVIDER_STAFF), _user(OFFICE_OFFICER)
    if provider is None or officer is None:
        return out | {"skipped": 1}
    cycles = list(
        PaymentCycle.objects.filter(month__lt=this_month, state__in=(S.PAYING, S.SETTLED))
        .select_related("area", "programme", "approving_unit")
        .order_by("month", "area_path", "programme__code")
    )
    districts = sorted(
        {c.area for c in cycles if c.area.tree != Tree.CURRENT and c.area.level == Level.DISTRICT},
        key=lambda a: a.code,
    )
    grants = [(provider, Role.PROVIDER_STAFF), (officer, Role.OFFICE_OFFICER)] if districts else []
    with _pilot_roles(grants, districts):
        for cycle in cycles:
            _settle(cycle, provider, officer, send=cycle.month < last_month, out=out)
    return out


def _settle(cycle: PaymentCycle, provider: User, officer: User, *, send: bool, out: dict) -> None:
    try:
        if cycle.state == S.PAYING:
            if lists.blockers(cycle) or not settlement.may_submit(provider, cycle):
                out["blocked"] += 1
                return
            for purpose in settlement.purposes_of(cycle):
                obj = settlement.settlement_of(cycle, purpose)
                if obj is None or obj.state in (SettlementState.PREPARED, SettlementState.RETURNED):
                    obj = settlement.submit(actor=provider, cycle=cycle, purpose=purpose)
                    out["submitted"] += 1
                if obj.state == SettlementState.SUBMITTED:
                    settlement.accept(actor=officer, settlement=obj)
                    out["accepted"] += 1
            cycle.refresh_from_db()
        if send and cycle.state == S.SETTLED:
            office_settlement.record_sent(actor=officer, cycle=cycle, reference=f"QT-{cycle.month:%m/%Y}")
            out["sent"] += 1
    except DomainError:
        # a cycle the records do not let settle (e.g. a ledger that does not balance) stays as it is
        out["blocked"] += 1
