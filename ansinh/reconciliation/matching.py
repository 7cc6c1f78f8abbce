"""Matching a statement's entries to the money the system knows (issue 13 part 2). Set-based: a
handful of UPDATE … SET col = (subquery) statements over the job's rows, the same SQL on SQLite
and PostgreSQL, never one query per entry.

- Money out (DBIT) with an end-to-end id of one of the provider's transfers: kind "transfer";
  matched when the amount is the transfer's, "amount differs" otherwise; the same transfer
  already on an applied statement (or twice in this one) is "booked twice".
- Money in (CRDT) with return information, or with the end-to-end id of one of the provider's
  transfers: kind "return" (the transfer's money came back), matched or amount differs the same
  way.
- Other money in: the treasury's advance when the end-to-end id, the bank reference or the
  details carry an advance's treasury reference (matched when the amount is the advance's).
- Everything else: "unknown reference".

`missing_from_statement` lists the credited transfers that no applied statement shows although
a statement of the provider covers the day they were credited."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, StrIndex, TruncDate

from ansinh.disbursement.models import Instruction, InstructionState
from ansinh.payroll.models import Advance

from .models import EntryDirection, EntryKind, EntryOutcome, StatementEntry, StatementImport, StatementState


def _provider_transfers(provider_id: int) -> QuerySet[Instruction]:
    return Instruction.objects.filter(batch__provider_id=provider_id)


def match_job(job: StatementImport) -> None:
    """Set kind, instruction/advance, expected amount and outcome of every row of `job`."""
    rows = StatementEntry.objects.filter(job=job)
    transfers = _provider_transfers(job.provider_id)
    by_e2e = transfers.filter(end_to_end_id=OuterRef("end_to_end_id"))
    # 1. the transfer each entry names (by end-to-end id; for a return the original's)
    rows.exclude(end_to_end_id="").update(instruction_id=Subquery(by_e2e.values("pk")[:1]))
    rows.filter(original_end_to_end_id__gt="", instruction__isnull=True).update(
        instruction_id=Subquery(transfers.filter(end_to_end_id=OuterRef("original_end_to_end_id")).values("pk")[:1])
    )
    named = rows.filter(instruction__isnull=False)
    named.filter(direction=EntryDirection.DEBIT).update(kind=EntryKind.TRANSFER)
    named.filter(direction=EntryDirection.CREDIT).update(kind=EntryKind.RETURN)
    named.update(
        expected_amount=Subquery(Instruction.objects.filter(pk=OuterRef("instruction_id")).values("amount")[:1]),
        area_path=Subquery(Instruction.objects.filter(pk=OuterRef("instruction_id")).values("area_path")[:1]),
    )
    named.filter(amount=F("expected_amount")).update(outcome=EntryOutcome.MATCHED)
    named.exclude(amount=F("expected_amount")).update(outcome=EntryOutcome.AMOUNT_DIFFERS)
    # 2. a transfer booked twice: on an earlier applied statement, or on an earlier row of this one
    earlier_job = StatementEntry.objects.filter(
        instruction_id=OuterRef("instruction_id"),
        kind=OuterRef("kind"),
        job__state=StatementState.APPLIED,
        job__provider_id=job.provider_id,
    ).exclude(job_id=job.pk)
    earlier_row = StatementEntry.objects.filter(
        job_id=job.pk,
        instruction_id=OuterRef("instruction_id"),
        kind=OuterRef("kind"),
        row_number__lt=OuterRef("row_number"),
    )
    named.filter(Q(Exists(earlier_job)) | Q(Exists(earlier_row))).update(outcome=EntryOutcome.DUPLICATE)
    # 3. the treasury's advance among the other credits
    others = rows.filter(instruction__isnull=True, direction=EntryDirection.CREDIT)
    advance = Advance.objects.annotate(
        in_details=StrIndex(Coalesce(OuterRef("remittance"), Value("")), F("reference"))
    ).filter(
        Q(reference=OuterRef("end_to_end_id")) | Q(reference=OuterRef("reference")) | Q(in_details__gt=0),
        reference__gt="",
    )
    others.update(advance_id=Subquery(advance.order_by("pk").values("pk")[:1]))
    advances = rows.filter(advance__isnull=False)
    advances.update(
        kind=EntryKind.ADVANCE,
        expected_amount=Subquery(Advance.objects.filter(pk=OuterRef("advance_id")).values("amount")[:1]),
        area_path=Subquery(Advance.objects.filter(pk=OuterRef("advance_id")).values("cycle__area_path")[:1]),
    )
    advances.filter(amount=F("expected_amount")).update(outcome=EntryOutcome.MATCHED)
    advances.exclude(amount=F("expected_amount")).update(outcome=EntryOutcome.AMOUNT_DIFFERS)
    # 4. the rest is unknown
    rows.filter(instruction__isnull=True, advance__isnull=True).update(
        kind=EntryKind.OTHER, outcome=EntryOutcome.UNKNOWN, area_path=job.area_path
    )


def missing_from_statement(transfers: QuerySet[Instruction]) -> QuerySet[Instruction]:
    """The credited transfers among `transfers` that no applied statement shows, although an
    applied statement of their provider covers the day they were credited."""
    shown = StatementEntry.objects.filter(
        instruction_id=OuterRef("pk"), kind=EntryKind.TRANSFER, job__state=StatementState.APPLIED
    )
    covered = StatementImport.objects.filter(
        state=StatementState.APPLIED,
        provider_id=OuterRef("batch__provider_id"),
        from_date__lte=OuterRef("credited_on"),
        to_date__gte=OuterRef("credited_on"),
    )
    return (
        transfers.filter(state=InstructionState.CREDITED, status_at__isnull=False)
        .annotate(credited_on=TruncDate("status_at"))
        .filter(Exists(covered))
        .exclude(Exists(shown))
    )
