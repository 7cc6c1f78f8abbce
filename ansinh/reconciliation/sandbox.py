"""The sandbox bank's statement of a provider's funded account (issue 13 part 2): a camt.053 for a
date range, made from what the sandbox bank credited (`disbursement.SandboxTransfer`) and from the
treasury's advances, so that the tests and the demo reconcile against "the money" without a bank.

- money in: each advance (`payroll.Advance`) received in the range for a cycle the contract's
  batches pay, with the treasury's reference as end-to-end id and in the details;
- money out: each transfer the sandbox bank credited in the range (its amount, its end-to-end id);
- returns: a deterministic share of the credited transfers (`returns_per_mille`, drawn from the
  seed and the transfer's content — account, amount, payee, attempt — like the sandbox bank's
  other decisions, never from a database id, so a transfer comes back or not whatever ran before
  it in the same database) comes back two days after the credit with reason AC04 (account
  closed), as a credit naming the original end-to-end id.

The same seed, contract and range give the same bytes (the creation time is the end of the
range), so importing the statement again is harmless. Streamed: the transfers are read in chunks
and written as they come."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO

from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from ansinh.disbursement.models import Instruction, ProviderBatch, SandboxTransfer
from ansinh.disbursement.sandbox import DEFAULT_SEED, attempt
from ansinh.payroll.models import Advance, ProviderContract

from . import camt053

CHUNK = 2000
RETURN_AFTER_DAYS = 2
RETURN_REASON = "AC04"


@dataclass(frozen=True)
class Options:
    seed: str = DEFAULT_SEED
    returns_per_mille: int = 5


def return_key(account_hash: str, amount: int, payee: str, end_to_end_id: str) -> str:
    """What the draw of a return is taken from: the transfer's content and attempt (see the module)."""
    return f"{account_hash}|{amount}|{payee}|{attempt(end_to_end_id)}"


def _returned(options: Options, key: str) -> bool:
    if options.returns_per_mille <= 0:
        return False
    bucket = int(hashlib.sha256(f"{options.seed}:return:{key}".encode()).hexdigest()[:8], 16) % 1000
    return bucket < options.returns_per_mille


def _advances(contract: ProviderContract):
    cycles = ProviderBatch.objects.filter(contract=contract).values("cycle_id")
    return Advance.objects.filter(cycle_id__in=cycles)


def _credited(contract: ProviderContract):
    """The sandbox bank's credited transfers of the contract's batches."""
    ours = Instruction.objects.filter(batch__contract=contract, end_to_end_id=OuterRef("end_to_end_id"))
    return SandboxTransfer.objects.filter(bank_status="ACSC", credited_at__isnull=False).filter(Exists(ours))


def _day(moment: datetime) -> date:
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


def _bounds(day: date) -> datetime:
    moment = datetime.combine(day, time.min)
    return timezone.make_aware(moment) if timezone.is_naive(moment) and _aware() else moment


def _aware() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "USE_TZ", False))


def _transfers(contract: ProviderContract, start: date, end: date) -> Iterator[tuple[str, int, date, str]]:
    """(end-to-end id, amount, day credited, key of the return draw) of the credited transfers in
    [start, end]."""
    qs = _credited(contract).filter(credited_at__gte=_bounds(start), credited_at__lt=_bounds(end + timedelta(days=1)))
    for e2e, amount, credited_at, account_hash, payee in (
        qs.order_by("credited_at", "end_to_end_id")
        .values_list("end_to_end_id", "amount", "credited_at", "account_hash", "creditor_name")
        .iterator(CHUNK)
    ):
        yield e2e, amount, _day(credited_at), return_key(account_hash, amount, payee, e2e)


def _entries(contract: ProviderContract, start: date, end: date, options: Options) -> Iterator[camt053.Entry]:
    for reference, amount, day in (
        _advances(contract)
        .filter(received_on__gte=start, received_on__lte=end)
        .order_by("received_on", "reference", "pk")
        .values_list("reference", "amount", "received_on")
    ):
        yield camt053.Entry(
            line=None,
            credit=True,
            amount=amount,
            booking_date=day,
            reference=f"ADV-{reference}"[:35],
            end_to_end_id=reference[:35],
            remittance=f"Tam ung KBNN {reference}"[:140],
        )
    for e2e, amount, day, _key in _transfers(contract, start, end):
        yield camt053.Entry(
            line=None, credit=False, amount=amount, booking_date=day, reference=f"TRF-{e2e}"[:35], end_to_end_id=e2e
        )
    # returns booked in the range: transfers credited RETURN_AFTER_DAYS earlier
    for e2e, amount, day, key in _transfers(
        contract, start - timedelta(days=RETURN_AFTER_DAYS), end - timedelta(days=RETURN_AFTER_DAYS)
    ):
        if _returned(options, key):
            yield camt053.Entry(
                line=None,
                credit=True,
                amount=amount,
                booking_date=day + timedelta(days=RETURN_AFTER_DAYS),
                reference=f"RTN-{e2e}"[:35],
                end_to_end_id=e2e,
                is_return=True,
                return_reason=RETURN_REASON,
            )


def _balance_before(contract: ProviderContract, day: date, options: Options) -> int:
    """The account's balance at the start of `day`: advances in, transfers out, returns in."""
    advances = _advances(contract).filter(received_on__lt=day).aggregate(s=Sum("amount"))["s"] or 0
    paid = _credited(contract).filter(credited_at__lt=_bounds(day)).aggregate(s=Sum("amount"))["s"] or 0
    returned = 0
    if options.returns_per_mille > 0:
        returned = sum(
            amount
            for _e2e, amount, _day_, key in _transfers(
                contract, date(1900, 1, 1), day - timedelta(days=RETURN_AFTER_DAYS + 1)
            )
            if _returned(options, key)
        )
    return int(advances) - int(paid) + int(returned)


def write_statement(
    out: IO[bytes], *, contract: ProviderContract, start: date, end: date, options: Options | None = None
) -> dict:
    """Write the camt.053 of the contract's funded account for [start, end]; its figures."""
    options = options or Options()
    if not contract.provider_account_number:
        raise ValueError("the contract has no funded account number")
    opening = _balance_before(contract, start, options)
    credits = debits = count = 0
    for entry in _entries(contract, start, end, options):
        count += 1
        if entry.credit:
            credits += entry.amount
        else:
            debits += entry.amount
    closing = opening + credits - debits
    statement_id = f"SBX-{contract.pk}-{start:%Y%m%d}-{end:%Y%m%d}"
    camt053.write(
        out,
        message_id=statement_id,
        created_at=datetime.combine(end, time(23, 59, 59)),
        statement_id=statement_id,
        account_number=contract.provider_account_number,
        account_name=str(contract.provider)[:70],
        from_date=start,
        to_date=end,
        opening_balance=opening,
        closing_balance=closing,
        entries=_entries(contract, start, end, options),
    )
    return {"entries": count, "credits": credits, "debits": debits, "opening": opening, "closing": closing}
