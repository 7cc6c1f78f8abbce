"""Reconciliation checks of a cycle (issue 13 part 2): the payroll, the provider's results (the
transfers and their statuses), the cash records and the bank statement side by side, producing
the exceptions the pilot met (`ReconKind`). See docs/reconciliation.md.

`run_checks(actor, cycle)`:
- one set-based query per kind finds the subjects (no query per line); each subject has a key
  ("line:12", "instruction:7", "te:3", "entry:40"…), unique with the kind: a subject already
  recorded is left as it is (re-running is harmless, never a second exception);
- new subjects become exceptions with the kind's owner (a role of the area, until a person is
  assigned) and due date (working days, `complaints.deadlines.add_working_days`);
- exceptions that mirror a disbursement `TransferException` (a rejected transfer, cannot
  withdraw, an amount the bank reported differently) follow its state; those waiting for a
  payment fix or a write-off follow the fix / receivable;
- open exceptions whose subject the checks no longer find are closed ("no longer found").

Resolution actions live in `ansinh.reconciliation.resolution`."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap, Role
from ansinh.audit.services import record
from ansinh.cashout.models import CashReceipt, ReceiptOutcome, ReceiptResult, ReceiverKind
from ansinh.complaints.deadlines import add_working_days
from ansinh.core.errors import DomainError
from ansinh.disbursement.models import (
    ExceptionKind,
    ExceptionState,
    Instruction,
    InstructionState,
    ProviderBatch,
    Resolution,
    TransferException,
)
from ansinh.payments.models import AccountStatus, Method, PaymentMethod, ReceivingAccount
from ansinh.payroll.fixes import with_effective_channel
from ansinh.payroll.models import (
    Channel,
    FixKind,
    FixState,
    LineFix,
    LineType,
    PaymentCycle,
    PayrollApproval,
    PayrollLine,
    Receivable,
    ReceivableState,
)

from . import matching
from .models import (
    EntryKind,
    EntryOutcome,
    ReconException,
    ReconKind,
    ReconResolution,
    ReconState,
    StatementEntry,
    StatementState,
)

K = ReconKind
CHUNK = 2000
WORK_MEM = "256MB"  # PostgreSQL's work_mem while the checks run (the server's memory, not this process's)
PARALLEL_FROM = 50_000  # lines of a cycle from which a second connection runs the BESIDE detectors

# who owns each kind until a person is assigned, and in how many working days it is due
RULES: dict[str, tuple[str, int]] = {
    K.HOLDER_NOT_LISTED: (Role.COMMUNE_OFFICER, 5),
    K.NO_ACCOUNT_LISTED: (Role.COMMUNE_OFFICER, 3),
    K.TRANSFER_FAILED: (Role.OFFICE_OFFICER, 3),
    K.CANNOT_WITHDRAW: (Role.OFFICE_OFFICER, 2),
    K.AFTER_DEATH: (Role.OFFICE_OFFICER, 10),
    K.SHARED_ACCOUNT: (Role.COMMUNE_OFFICER, 5),
    K.REPRESENTATIVE: (Role.COMMUNE_OFFICER, 5),
    K.DUPLICATE: (Role.OFFICE_OFFICER, 5),
    K.AMOUNT_DIFFERS: (Role.OFFICE_OFFICER, 5),
    K.NOT_ON_STATEMENT: (Role.OFFICE_OFFICER, 5),
    K.UNKNOWN_ENTRY: (Role.OFFICE_OFFICER, 5),
}

ALLOWANCE_TYPES = (LineType.REGULAR, LineType.ARREARS)
DEAD = (InstructionState.REJECTED, InstructionState.CANCELLED)


class ChecksForbidden(DomainError):
    """The user's role does not allow running the checks here."""


def _month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


# --- the subjects of each kind: one query each ---------------------------------------------------------


def _lines(cycle: PaymentCycle) -> QuerySet[PayrollLine]:
    return PayrollLine.objects.filter(cycle=cycle)


def _batches(cycle: PaymentCycle) -> list[int]:
    """The ids of the cycle's batches, named in the checks' queries of its transfers (rather than
    joined to the batches): the planner then estimates a province month's transfers by the
    statistics of their batch, a million rather than a thousand, and hashes what it joins them to
    (accounts, statement entries) instead of probing it a million times."""
    return list(ProviderBatch.objects.filter(cycle=cycle).values_list("pk", flat=True))


def _line_subject(prefix: str = "line") -> dict:
    return {"prefix": prefix}


def _holder_not_listed(cycle: PaymentCycle) -> Iterable[dict]:
    """Lines paid in cash although the beneficiary's payment method for the month is an account
    and the account is active (the account list left them out), and no fix moved them."""
    method = (
        PaymentMethod.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"), from_month__lte=cycle.month, cancelled_at__isnull=True
        )
        .order_by("-from_month", "-id")
        .values("method")[:1]
    )
    active = ReceivingAccount.objects.filter(beneficiary_id=OuterRef("beneficiary_id"), status=AccountStatus.ACTIVE)
    approved_fix = LineFix.objects.filter(line_id=OuterRef("pk"), state=FixState.APPROVED)
    qs = (
        _lines(cycle)
        .filter(line_type__in=ALLOWANCE_TYPES, amount__gt=0)
        .exclude(channel=Channel.ACCOUNT)
        .annotate(method=Subquery(method))
        .filter(method=Method.ACCOUNT)
        .filter(Exists(active))
        .exclude(Exists(approved_fix))
    )
    for row in qs.values("pk", "beneficiary_id", "amount", "commune_id", "area_path", "channel"):
        yield {
            "key": f"line:{row['pk']}",
            "line_id": row["pk"],
            "beneficiary_id": row["beneficiary_id"],
            "amount": row["amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"channel": row["channel"]},
        }


def _no_account_listed(cycle: PaymentCycle) -> Iterable[dict]:
    """Lines paid through an account (after fixes) whose account is missing or not active. The
    lines without an approved fix (nearly all) are read with a join to their account; only the
    few with one go through the fixes' subqueries (`with_effective_channel`)."""
    approved_fix = LineFix.objects.filter(line_id=OuterRef("pk"), state=FixState.APPROVED)
    lines = _lines(cycle).filter(amount__gt=0)
    # the accounts that are not active, a few among a million, looked up in a hash of them (a join
    # of the month's lines to every account hashed the whole table: 1.1 s of a province month);
    # the status of the few lines found read for them alone
    inactive = ReceivingAccount.objects.exclude(status=AccountStatus.ACTIVE).values("pk")
    plain = (
        lines.filter(~Exists(approved_fix), channel=Channel.ACCOUNT)
        .filter(Q(account_id__isnull=True) | Q(account_id__in=inactive))
        .annotate(
            account_status=Subquery(
                ReceivingAccount.objects.filter(pk=OuterRef("account_id")).order_by().values("status")[:1]
            )
        )
    )
    status = ReceivingAccount.objects.filter(pk=OuterRef("effective_account_id")).order_by().values("status")[:1]
    fixed = (
        with_effective_channel(lines.filter(Exists(approved_fix)))
        .filter(effective_channel=Channel.ACCOUNT)
        .annotate(account_status=Subquery(status))
        .filter(Q(effective_account_id__isnull=True) | ~Q(account_status=AccountStatus.ACTIVE))
    )
    fields = ("pk", "beneficiary_id", "amount", "commune_id", "area_path", "account_status")
    found = [*plain.values(*fields), *fixed.values(*fields)]
    for row in sorted(found, key=lambda row: row["pk"]):
        yield {
            "key": f"line:{row['pk']}",
            "line_id": row["pk"],
            "beneficiary_id": row["beneficiary_id"],
            "amount": row["amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"account_status": row["account_status"] or ""},
        }


def _transfer_exceptions(cycle: PaymentCycle, kind: str) -> Iterable[dict]:
    qs = TransferException.objects.filter(batch__cycle=cycle, kind=kind)
    for row in qs.values(
        "pk", "instruction_id", "line_id", "line__beneficiary_id", "instruction__amount", "commune_id", "area_path"
    ):
        yield {
            "key": f"te:{row['pk']}",
            "transfer_exception_id": row["pk"],
            "instruction_id": row["instruction_id"],
            "line_id": row["line_id"],
            "beneficiary_id": row["line__beneficiary_id"],
            "amount": row["instruction__amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {},
        }


def _entries_of(cycle: PaymentCycle) -> QuerySet[StatementEntry]:
    """The applied statements' entries of the cycle's transfers (each caller narrows them to the
    few of a kind and outcome, found by the index of the entries that are not a matched transfer,
    then joined to their transfers)."""
    return StatementEntry.objects.filter(job__state=StatementState.APPLIED, instruction__batch_id__in=_batches(cycle))


def _entry_rows(qs: QuerySet[StatementEntry], prefix: str) -> Iterable[dict]:
    for row in qs.values(
        "pk",
        "instruction_id",
        "instruction__line_id",
        "instruction__line__beneficiary_id",
        "instruction__commune_id",
        "instruction__area_path",
        "amount",
        "expected_amount",
        "return_reason",
        "booking_date",
    ):
        yield {
            "key": f"{prefix}:{row['instruction_id']}",
            "entry_id": row["pk"],
            "instruction_id": row["instruction_id"],
            "line_id": row["instruction__line_id"],
            "beneficiary_id": row["instruction__line__beneficiary_id"],
            "amount": row["amount"],
            "commune_id": row["instruction__commune_id"],
            "area_path": row["instruction__area_path"],
            "detail": {
                "expected": row["expected_amount"],
                "reason": row["return_reason"],
                "booked": row["booking_date"].isoformat() if row["booking_date"] else "",
            },
        }


def _transfer_failed(cycle: PaymentCycle) -> Iterable[dict]:
    """Transfers the bank rejected (the disbursement exception) and credited transfers whose
    money came back (a return on the bank statement)."""
    yield from _transfer_exceptions(cycle, ExceptionKind.REJECTED)
    yield from _entry_rows(_entries_of(cycle).filter(kind=EntryKind.RETURN), "returned")


def _cannot_withdraw(cycle: PaymentCycle) -> Iterable[dict]:
    yield from _transfer_exceptions(cycle, ExceptionKind.CANNOT_WITHDRAW)


def _after_death(cycle: PaymentCycle) -> Iterable[dict]:
    """Lines of the month paid (a payout, any channel) for someone who died before the month."""
    qs = _lines(cycle).filter(
        line_type__in=ALLOWANCE_TYPES,
        beneficiary__death_date__lt=cycle.month,
        payout__isnull=False,
    )
    for row in qs.values(
        "pk",
        "beneficiary_id",
        "payout__amount",
        "commune_id",
        "area_path",
        "beneficiary__death_date",
        "payout__channel",
    ):
        yield {
            "key": f"line:{row['pk']}",
            "line_id": row["pk"],
            "beneficiary_id": row["beneficiary_id"],
            "amount": row["payout__amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"death_date": str(row["beneficiary__death_date"]), "channel": row["payout__channel"]},
        }


def _holder_identity():
    """Who holds an account row: its holder representative, else (negative) the beneficiary."""
    return Case(
        When(
            account__holder_representation__isnull=False,
            then=F("account__holder_representation__representative_id"),
        ),
        default=Value(0) - F("account__beneficiary_id"),
        output_field=IntegerField(),
    )


def _shared_account(cycle: PaymentCycle) -> Iterable[dict]:
    """Transfers of the month to one account number for several beneficiaries whose account
    rows name different holders (a guardian holding one account for the children they
    represent is one holder, and fine)."""
    live = Instruction.objects.filter(batch_id__in=_batches(cycle)).exclude(state__in=DEAD)
    # a first cut, cheap over a province's month: the numbers on more than one transfer (a number
    # several people share is on several transfers); only their transfers are read with their
    # lines and holders
    repeated = (
        live.values("account__number_hash").annotate(n=Count("pk")).filter(n__gt=1).values("account__number_hash")
    )
    shared = (
        live.filter(account__number_hash__in=Subquery(repeated))
        .values("account__number_hash")
        .annotate(
            people=Count("line__beneficiary_id", distinct=True),
            holders=Count(_holder_identity(), distinct=True),
        )
        .filter(people__gt=1, holders__gt=1)
        .values("account__number_hash")
    )
    qs = live.filter(account__number_hash__in=Subquery(shared)).annotate(
        people=Subquery(
            live.filter(account__number_hash=OuterRef("account__number_hash"))
            .values("account__number_hash")
            .annotate(n=Count("line__beneficiary_id", distinct=True))
            .values("n")[:1]
        )
    )
    for row in qs.values("pk", "line_id", "line__beneficiary_id", "amount", "commune_id", "area_path", "people"):
        yield {
            "key": f"line:{row['line_id']}",
            "line_id": row["line_id"],
            "instruction_id": row["pk"],
            "beneficiary_id": row["line__beneficiary_id"],
            "amount": row["amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"people": row["people"]},
        }


def _representative(cycle: PaymentCycle) -> Iterable[dict]:
    """Money handed to a representative who is not the listed one (a cash receipt), and lines
    whose payee's representation had ended or was not valid in the month."""
    receipts = CashReceipt.objects.filter(
        entry__cycle=cycle,
        outcome=ReceiptOutcome.PAID,
        result=ReceiptResult.RECORDED,
        receiver_kind=ReceiverKind.REPRESENTATIVE,
    ).filter(
        Q(representation__isnull=True)
        | ~Q(representation_id=F("entry__representation_id"))
        | Q(entry__representation_id__isnull=True)
    )
    for row in receipts.values(
        "pk", "entry__beneficiary_id", "entry__amount", "entry__commune_id", "entry__area_path", "receiver_name"
    ):
        yield {
            "key": f"receipt:{row['pk']}",
            "beneficiary_id": row["entry__beneficiary_id"],
            "amount": row["entry__amount"],
            "commune_id": row["entry__commune_id"],
            "area_path": row["entry__area_path"],
            "detail": {"receiver": row["receiver_name"]},
        }
    start, end = cycle.month, _month_end(cycle.month)
    lines = (
        _lines(cycle)
        .filter(representation__isnull=False, amount__gt=0)
        .filter(
            Q(representation__ended_at__date__lt=start)
            | Q(representation__valid_to__lt=start)
            | Q(representation__valid_from__gt=end)
        )
    )
    for line in lines.values("pk", "beneficiary_id", "amount", "commune_id", "area_path", "payee_name"):
        yield {
            "key": f"line:{line['pk']}",
            "line_id": line["pk"],
            "beneficiary_id": line["beneficiary_id"],
            "amount": line["amount"],
            "commune_id": line["commune_id"],
            "area_path": line["area_path"],
            "detail": {"receiver": line["payee_name"]},
        }


def _duplicate(cycle: PaymentCycle) -> Iterable[dict]:
    """The same allowance of the same month paid twice (two payrolls of the month and programme
    both paid), and a transfer the bank statement shows booked twice."""
    # a person has one regular line per cycle (payroll_line_unique) and a line one payout: paid
    # twice is a paid regular line here and a paid regular line of another cycle of the month
    # and programme (a semi-join, not a count over every line of the month)
    elsewhere = PayrollLine.objects.filter(
        cycle__month=cycle.month,
        cycle__programme_id=cycle.programme_id,
        line_type=LineType.REGULAR,
        beneficiary_id=OuterRef("beneficiary_id"),
        payout__isnull=False,
    ).exclude(cycle_id=cycle.pk)
    qs = _lines(cycle).filter(line_type=LineType.REGULAR, payout__isnull=False).filter(Exists(elsewhere))
    for row in qs.values("pk", "beneficiary_id", "payout__amount", "commune_id", "area_path"):
        yield {
            "key": f"paid:{row['beneficiary_id']}:{cycle.month:%Y-%m}",
            "line_id": row["pk"],
            "beneficiary_id": row["beneficiary_id"],
            "amount": row["payout__amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"month": f"{cycle.month:%m/%Y}"},
        }
    yield from _entry_rows(
        _entries_of(cycle).filter(kind=EntryKind.TRANSFER, outcome=EntryOutcome.DUPLICATE), "booked_twice"
    )


def _amount_differs(cycle: PaymentCycle) -> Iterable[dict]:
    """The provider's amount differs from the payroll's: in its status report (the disbursement
    exception), or on the bank statement."""
    yield from _transfer_exceptions(cycle, ExceptionKind.AMOUNT_MISMATCH)
    yield from _entry_rows(
        _entries_of(cycle).filter(kind=EntryKind.TRANSFER, outcome=EntryOutcome.AMOUNT_DIFFERS), "statement"
    )


def _not_on_statement(cycle: PaymentCycle) -> Iterable[dict]:
    """The cycle's credited transfers missing from the statements: first their ids alone (an
    anti-join of the month's transfers with the entries), then the few found with their lines, in
    the same order (a single query joined the million transfers to their lines before the
    anti-join whenever the planner misjudged how many were credited in the month: 8 s)."""
    missing = matching.missing_from_statement(Instruction.objects.filter(batch_id__in=_batches(cycle)))
    ids = list(missing.values_list("pk", flat=True))  # ordered as Instruction (batch, id)
    for start in range(0, len(ids), CHUNK):
        qs: Any = Instruction.objects.filter(pk__in=ids[start : start + CHUNK]).annotate(
            credited_on=TruncDate("status_at")
        )
        yield from _missing_rows(qs)


def _missing_rows(qs: Any) -> Iterable[dict]:
    for row in qs.values("pk", "line_id", "line__beneficiary_id", "amount", "commune_id", "area_path", "credited_on"):
        yield {
            "key": f"instruction:{row['pk']}",
            "instruction_id": row["pk"],
            "line_id": row["line_id"],
            "beneficiary_id": row["line__beneficiary_id"],
            "amount": row["amount"],
            "commune_id": row["commune_id"],
            "area_path": row["area_path"],
            "detail": {"credited": row["credited_on"].isoformat() if row["credited_on"] else ""},
        }


def _unknown_entry(cycle: PaymentCycle) -> Iterable[dict]:
    """Entries of the providers' statements (from the cycle's month on) that match nothing."""
    providers = Instruction.objects.filter(batch__cycle=cycle).values("batch__provider_id")
    qs = StatementEntry.objects.filter(
        job__state=StatementState.APPLIED,
        job__provider_id__in=providers,
        outcome=EntryOutcome.UNKNOWN,
        booking_date__gte=cycle.month,
        booking_date__lte=_month_end(cycle.month),
    )
    for row in qs.values("pk", "amount", "direction", "end_to_end_id", "reference", "job__area_path", "booking_date"):
        yield {
            "key": f"entry:{row['pk']}",
            "entry_id": row["pk"],
            "amount": row["amount"],
            "commune_id": None,
            "area_path": row["job__area_path"],
            "detail": {
                "direction": row["direction"],
                "end_to_end_id": row["end_to_end_id"],
                "reference": row["reference"],
                "booked": row["booking_date"].isoformat() if row["booking_date"] else "",
            },
        }


DETECTORS = {
    K.HOLDER_NOT_LISTED: _holder_not_listed,
    K.NO_ACCOUNT_LISTED: _no_account_listed,
    K.TRANSFER_FAILED: _transfer_failed,
    K.CANNOT_WITHDRAW: _cannot_withdraw,
    K.AFTER_DEATH: _after_death,
    K.SHARED_ACCOUNT: _shared_account,
    K.REPRESENTATIVE: _representative,
    K.DUPLICATE: _duplicate,
    K.AMOUNT_DIFFERS: _amount_differs,
    K.NOT_ON_STATEMENT: _not_on_statement,
    K.UNKNOWN_ENTRY: _unknown_entry,
}

# the detectors run on a second connection for a large cycle (`run_checks`), the others meanwhile
# on the first: at a million lines about half of the detectors' time each (shared accounts 1.8 s,
# lines paid in cash although listed with an account 0.3 s, against the transfers missing from the
# statement 1.2 s, the lines without an account, paid twice or after death, the rest)
BESIDE = (K.SHARED_ACCOUNT, K.HOLDER_NOT_LISTED)

# kinds whose subjects are only ever added by the checks, never "gone" (a statement entry or a
# disbursement exception stays what it is: it is resolved, not forgotten)
STICKY = {K.UNKNOWN_ENTRY}


# --- following what they link to -------------------------------------------------------------------------

TE_RESOLUTION: dict[str, str] = {
    Resolution.RESENT: ReconResolution.RESENT,
    Resolution.TO_CASH: ReconResolution.TO_CASH,
    Resolution.RECOVERY: ReconResolution.RECOVERY,
}


def sync(qs: QuerySet[ReconException] | None = None) -> int:
    """Bring exceptions up to date with what they link to (set-based): a mirrored
    TransferException's state; an approved or refused payment fix; a written-off or refused
    write-off. Returns how many changed."""
    qs = ReconException.objects.all() if qs is None else qs
    now = timezone.now()
    changed = 0
    unresolved = qs.exclude(state=ReconState.RESOLVED)
    te = TransferException.objects.filter(pk=OuterRef("transfer_exception_id"))
    linked = unresolved.filter(transfer_exception__isnull=False)
    for te_resolution in Resolution.values:
        changed += linked.filter(
            transfer_exception__state=ExceptionState.RESOLVED, transfer_exception__resolution=te_resolution
        ).update(
            state=ReconState.RESOLVED,
            resolution=TE_RESOLUTION.get(te_resolution, ReconResolution.NOTED),
            resolved_at=Subquery(te.values("resolved_at")[:1]),
            resolved_by_id=Subquery(te.values("resolved_by_id")[:1]),
            fix_id=Subquery(te.values("fix_id")[:1]),
        )
    changed += linked.filter(state=ReconState.OPEN, transfer_exception__state=ExceptionState.IN_HAND).update(
        state=ReconState.IN_HAND, fix_id=Subquery(te.values("fix_id")[:1])
    )
    changed += linked.filter(state=ReconState.IN_HAND, transfer_exception__state=ExceptionState.OPEN).update(
        state=ReconState.OPEN
    )
    fixed = unresolved.filter(transfer_exception__isnull=True, fix__isnull=False)
    fix = LineFix.objects.filter(pk=OuterRef("fix_id"))
    for kind, resolution in ((FixKind.RESEND, ReconResolution.RESENT), (FixKind.TO_CASH, ReconResolution.TO_CASH)):
        changed += fixed.filter(fix__state=FixState.APPROVED, fix__kind=kind).update(
            state=ReconState.RESOLVED,
            resolution=resolution,
            resolved_at=Subquery(fix.values("decided_at")[:1]),
            resolved_by_id=Subquery(fix.values("decided_by_id")[:1]),
        )
    changed += fixed.filter(state=ReconState.IN_HAND, fix__state=FixState.REJECTED).update(
        state=ReconState.OPEN, fix=None
    )
    owed = unresolved.filter(receivable__isnull=False)
    receivable = Receivable.objects.filter(pk=OuterRef("receivable_id"))
    changed += owed.filter(receivable__state=ReceivableState.WRITTEN_OFF).update(
        state=ReconState.RESOLVED,
        resolution=ReconResolution.WRITTEN_OFF,
        resolved_at=Subquery(receivable.values("closed_at")[:1]),
        resolved_by_id=Subquery(receivable.values("closed_by_id")[:1]),
    )
    changed += owed.filter(
        state=ReconState.IN_HAND, receivable__state__in=[ReceivableState.OPEN, ReceivableState.RECOVERED]
    ).update(state=ReconState.OPEN)
    if changed:
        qs.filter(resolved_at__isnull=True, state=ReconState.RESOLVED).update(resolved_at=now)
    return changed


# --- running -----------------------------------------------------------------------------------------------


def may_run(user, cycle: PaymentCycle) -> bool:
    return user is None or access.can_in_area(user, Cap.RECONCILE, cycle.area)


def _new(kind: str, row: dict[str, Any], cycle: PaymentCycle, due: date) -> ReconException:
    role, _days = RULES[kind]
    return ReconException(
        kind=kind,
        key=row["key"][:120],
        cycle=cycle,
        line_id=row.get("line_id"),
        beneficiary_id=row.get("beneficiary_id"),
        instruction_id=row.get("instruction_id"),
        transfer_exception_id=row.get("transfer_exception_id"),
        entry_id=row.get("entry_id"),
        amount=row.get("amount"),
        detail=row.get("detail") or {},
        commune_id=row.get("commune_id"),
        area_path=row.get("area_path") or cycle.area_path,
        owner_role=role,
        due_date=due,
    )


def _settings() -> None:
    """For the current transaction on PostgreSQL: the checks' sorts and hashes over a province's
    month (a million lines) in memory (JIT is off for the app's connections: settings.py); no
    parallel workers: each would build the same hash of the month's transfers and accounts again
    (shared accounts: 2.2 s alone, 4 s with two workers on two CPUs)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL max_parallel_workers_per_gather = 0")


def _subjects(kind: str, cycle: PaymentCycle) -> dict[str, dict]:
    return {row["key"]: row for row in DETECTORS[K(kind)](cycle)}


def _subjects_beside(
    kinds: Iterable[str], cycle: PaymentCycle, zone, language: str | None
) -> dict[str, dict[str, dict]]:
    """In a worker thread: the subjects of `kinds`, read on that thread's own connection (Django's
    connections are per thread) in a transaction of its own, closed at the end; with the caller's
    time zone and language (also per thread), so that a detector reads the same days there."""
    try:
        with timezone.override(zone), translation.override(language), transaction.atomic():
            _settings()
            return {kind: _subjects(kind, cycle) for kind in kinds}
    finally:
        connection.close()


def _beside(cycle: PaymentCycle) -> bool:
    """Whether the detectors of BESIDE run on a second connection: on PostgreSQL, for a cycle of
    PARALLEL_FROM lines or more, and only when the caller holds no transaction (its uncommitted
    writes would be invisible to another connection; a committed state is all the checks read,
    each query seeing what was committed when it starts, as on one connection)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    lines = PayrollApproval.objects.filter(cycle=cycle).values_list("lines", flat=True).first()
    if lines is None:
        lines = _lines(cycle).count()
    return lines >= PARALLEL_FROM


def run_checks(*, actor, cycle: PaymentCycle, today: date | None = None) -> dict:
    """Run every check of `cycle` (see the module); the counts found, opened and closed per kind.

    For a large cycle on PostgreSQL (`_beside`) the detectors of BESIDE run in a worker thread on a
    second connection while this one runs the others: the queries of a province month (a million
    lines: hashes of the month's transfers, lines and accounts) on both CPUs of the server."""
    cycle = PaymentCycle.objects.select_related("area").get(pk=cycle.pk)
    if not may_run(actor, cycle):
        raise ChecksForbidden(_("Your role does not allow running the reconciliation checks here."))
    today = today or timezone.localdate()
    result: dict[str, dict[str, int]] = {}
    beside = _beside(cycle)
    with ExitStack() as stack, transaction.atomic():
        _settings()
        later = None
        if beside:
            worker = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconciliation-checks"))
            zone, language = timezone.get_current_timezone(), translation.get_language()
            later = worker.submit(_subjects_beside, BESIDE, cycle, zone, language)
        here = {str(kind): _subjects(kind, cycle) for kind in DETECTORS if not (beside and kind in BESIDE)}
        found: dict[str, dict[str, dict]] = {**here, **(later.result() if later is not None else {})}
        for kind in DETECTORS:
            rows = found[kind]
            known = (
                set(ReconException.objects.filter(kind=kind, key__in=list(rows)).values_list("key", flat=True))
                if (len(rows) <= CHUNK)
                else set(ReconException.objects.filter(kind=kind).values_list("key", flat=True))
            )
            due = add_working_days(today, RULES[kind][1])
            fresh = [_new(kind, row, cycle, due) for key, row in rows.items() if key not in known]
            if fresh:
                ReconException.objects.bulk_create(fresh, batch_size=CHUNK, ignore_conflicts=True)
            gone = 0
            if kind not in STICKY:
                stale = ReconException.objects.filter(cycle=cycle, kind=kind, state=ReconState.OPEN).exclude(
                    key__in=list(rows)
                )
                gone = stale.update(
                    state=ReconState.RESOLVED, resolution=ReconResolution.GONE, resolved_at=timezone.now()
                )
            result[kind] = {"found": len(rows), "opened": len(fresh), "closed": gone}
        synced = sync(ReconException.objects.filter(cycle=cycle))
        opened = sum(r["opened"] for r in result.values())
        closed = sum(r["closed"] for r in result.values())
        if opened or closed or synced:
            record(
                actor=actor,
                action="reconciliation.checks.run",
                obj=cycle,
                area=cycle.area,
                after={
                    "cycle": str(cycle),
                    "opened": opened,
                    "closed": closed,
                    "updated": synced,
                    "per_kind": {k: v for k, v in result.items() if v["opened"] or v["closed"]},
                },
            )
    return {"per_kind": result, "opened": opened, "closed": closed, "updated": synced}


def counts(qs: QuerySet[ReconException]) -> dict[str, dict[str, int]]:
    """{kind: {state: n}} of `qs` (one query)."""
    out: dict[str, dict[str, int]] = {}
    for kind, state, n in qs.values_list("kind", "state").annotate(n=Count("pk")).order_by():
        out.setdefault(kind, {})[state] = int(n)
    return out


def exceptions_for(user, cap: str = Cap.RECONCILIATION_VIEW) -> QuerySet[ReconException]:
    """The exceptions `user` may see (by the exception's area path)."""
    qs = ReconException.objects.select_related("cycle", "commune", "beneficiary", "owner")
    return access.scope(qs, user, cap, "area_path")
