"""The demo's bank statements and reconciliation (issue 13 part 2), after the transfers and the
cash pay-out are loaded: for each contract whose batches went through the sandbox bank, the
sandbox's camt.053 of its funded account (advances in, credited transfers out) is imported, then
the reconciliation checks of every cycle being paid run, so that the worklist shows what they find.

Idempotent: a statement starts the day after the contract's last imported statement and ends on
the last day the sandbox credited (a second run on the same data writes the same file, whose
checksum is already applied, or nothing); re-running the checks opens nothing new."""

from __future__ import annotations

import io
from datetime import timedelta

from django.db.models import Max, Min
from django.utils import timezone

from ansinh.disbursement.models import ProviderBatch
from ansinh.payroll.models import CycleState, PaymentCycle, ProviderContract

from . import checks, sandbox, statements
from .models import StatementImport, StatementState

S = CycleState


def _range(contract: ProviderContract):
    last = StatementImport.objects.filter(contract=contract, state=StatementState.APPLIED).aggregate(m=Max("to_date"))[
        "m"
    ]
    credited = sandbox._credited(contract).aggregate(m=Max("credited_at"))["m"]
    if credited is None:
        return None
    end = timezone.localdate(credited) if timezone.is_aware(credited) else credited.date()
    if last is not None:
        start = last + timedelta(days=1)
    else:
        first = ProviderBatch.objects.filter(contract=contract).aggregate(m=Min("cycle__month"))["m"]
        start = first
    if start is None or start > end:
        return None
    return start, end


def load_demo_statements() -> dict:
    out = {"statements": 0, "entries": 0, "cycles_checked": 0, "exceptions_opened": 0}
    contracts = ProviderContract.objects.exclude(provider_account_number="").filter(
        pk__in=ProviderBatch.objects.values("contract_id")
    )
    for contract in contracts.select_related("provider").order_by("pk"):
        span = _range(contract)
        if span is None:
            continue
        buffer = io.BytesIO()
        sandbox.write_statement(buffer, contract=contract, start=span[0], end=span[1])
        job = statements.import_statement(
            actor=None,
            content=buffer.getvalue(),
            provider=contract.provider,
            file_name=f"sao-ke-{contract.pk}-{span[0]:%Y%m%d}-{span[1]:%Y%m%d}.xml",
        )
        if job.state == StatementState.APPLIED:
            out["statements"] += 1
            out["entries"] += job.entries_count
    cycles = PaymentCycle.objects.filter(
        state__in=[S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING], pk__in=ProviderBatch.objects.values("cycle_id")
    ).order_by("month", "pk")
    for cycle in cycles:
        result = checks.run_checks(actor=None, cycle=cycle)
        out["cycles_checked"] += 1
        out["exceptions_opened"] += result["opened"]
    return out
