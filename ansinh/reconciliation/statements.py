"""Importing the funded account's bank statement (issue 13 part 2): an ISO 20022 camt.053 or the
provider's XLSX statement (`xlsx_statement`), the same way.

Every import is a job (`StatementImport`) with one row per entry (`StatementEntry`) and the
SHA-256 of its content, unique among applied jobs: the same file again returns the job already
there and writes nothing. The statement names its account: it must be the funded account of one
of the provider's contracts (`ProviderContract.provider_account_number`), and the importer needs
reconciliation.manage in that contract's paying unit's area; otherwise the file is refused (the
refusal is recorded as a job too, never blocking a later right import of the same content).

The file is read as a stream and validated against the official schema on the way (a large
file, when a CPU is free, in a subprocess meanwhile: `camt053.Statement.validate_apart`); the entries
are staged in a temporary table as they are read and written into the job's rows, classified, by
an INSERT … SELECT (`matching.stage_and_match`: on PostgreSQL a chunk at a time, matched while the
next chunk is read). All of it happens in one transaction: a file that turns out invalid half-way
writes no entry (the refused job records why)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.disbursement.formats.errors import FormatError
from ansinh.payroll.models import ProviderContract

from . import camt053, matching
from .models import (
    EntryDirection,
    EntryOutcome,
    StatementEntry,
    StatementFormat,
    StatementImport,
    StatementState,
)

LISTED = 50  # unknown references listed in a job's summary (all are in its rows)

Source = str | os.PathLike | bytes


class StatementRefused(DomainError):
    """The statement cannot be imported (the message says why)."""


class StatementForbidden(DomainError):
    """The user's role does not allow importing statements for this account."""


@contextmanager
def _as_path(content: Source) -> Iterator[Path]:
    if isinstance(content, bytes):
        with tempfile.NamedTemporaryFile(suffix=".dat") as tmp:
            tmp.write(content)
            tmp.flush()
            yield Path(tmp.name)
    else:
        yield Path(content)


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain_number(number: str) -> str:
    return "".join(ch for ch in (number or "") if ch.isalnum()).upper()


def contract_for(provider, account_number: str) -> ProviderContract | None:
    """The provider's contract whose funded account is `account_number` (the latest)."""
    wanted = _plain_number(account_number)
    if not wanted:
        return None
    for contract in (
        ProviderContract.objects.filter(provider=provider)
        .exclude(provider_account_number="")
        .select_related("paying_unit__area")
        .order_by("-valid_from", "-pk")
    ):
        if _plain_number(contract.provider_account_number) == wanted:
            return contract
    return None


def may_import(actor, provider) -> bool:
    """Whether `actor` may import statements of some funded account of `provider`."""
    if actor is None:
        return True
    areas = {
        c.paying_unit.area
        for c in ProviderContract.objects.filter(provider=provider).select_related("paying_unit__area")
    }
    return any(access.can_in_area(actor, Cap.RECONCILE, a) for a in areas)


def _actor_id(actor):
    return actor.pk if getattr(actor, "pk", None) else None


def _masked(number: str) -> str:
    plain = _plain_number(number)
    return f"•••• {plain[-4:]}" if plain else ""


def _refuse(actor, *, source, provider, name, sha, reason, contract=None, header=None) -> StatementImport:
    with transaction.atomic():
        job = StatementImport.objects.create(
            source=source,
            file_name=name[:255],
            checksum=sha,
            provider=provider,
            contract=contract,
            account_number=(header.account_number if header else "")[:34],
            message_id=(header.message_id if header else "")[:35],
            state=StatementState.REFUSED,
            refused_reason=reason,
            area_path=contract.area_path if contract else "",
            created_by_id=_actor_id(actor),
        )
        record(
            actor=actor,
            action="reconciliation.statement.refused",
            obj=job,
            area=contract.paying_unit.area if contract else None,
            after={"file": name, "reason": reason, "provider": str(provider)},
        )
    return job


def import_statement(
    *, actor, content: Source, provider, source: str = StatementFormat.CAMT053, file_name: str = ""
) -> StatementImport:
    """Import one statement file of `provider`'s funded account (see the module). Returns the job
    (the one already applied for the same content). A file that is not a valid statement is a
    refused job; a user without the right is StatementForbidden (nothing written)."""
    if source not in StatementFormat.values:
        raise StatementRefused(_("Unknown file format."))
    if actor is not None and not may_import(actor, provider):
        raise StatementForbidden(_("Your role does not allow importing this provider's bank statements."))
    with _as_path(content) as path:
        sha = checksum(path)
        existing = StatementImport.objects.filter(checksum=sha, state=StatementState.APPLIED).first()
        if existing is not None and existing.provider_id == provider.pk:
            return existing
        name = file_name or path.name
        if existing is not None:
            return _refuse(
                actor,
                source=source,
                provider=provider,
                name=name,
                sha=sha,
                reason=_("This file was already imported as another provider's statement."),
            )
        try:
            reader = _reader(source, path)
        except FormatError as exc:
            return _refuse(actor, source=source, provider=provider, name=name, sha=sha, reason=str(exc))
        header = reader.header
        contract = contract_for(provider, header.account_number)
        if contract is None:
            reader.close()
            return _refuse(
                actor,
                source=source,
                provider=provider,
                name=name,
                sha=sha,
                header=header,
                reason=_(
                    "The statement is of account %(account)s, which is not the funded account of a contract "
                    "of this provider."
                )
                % {"account": _masked(header.account_number)},
            )
        if actor is not None and not access.can_in_area(actor, Cap.RECONCILE, contract.paying_unit.area):
            reader.close()
            raise StatementForbidden(_("Your role does not allow importing this provider's bank statements."))
        try:
            return _apply(actor, provider, contract, source, name, sha, reader)
        except FormatError as exc:
            return _refuse(
                actor,
                source=source,
                provider=provider,
                name=name,
                sha=sha,
                reason=str(exc),
                contract=contract,
                header=header,
            )
        except IntegrityError:
            # the same content applied at the same moment by someone else
            done = StatementImport.objects.filter(checksum=sha, state=StatementState.APPLIED).first()
            if done is None:
                raise
            return done
        finally:
            reader.close()  # a subprocess still validating the file (an error before its answer) is stopped


def _reader(source: str, path: Path):
    if source == StatementFormat.XLSX:
        from . import xlsx_statement

        return xlsx_statement.Statement(path)
    return camt053.Statement(path)


def _records(reader) -> Iterator[camt053.Record]:
    """The reader's entries as tuples of `camt053.Entry`'s fields (the camt.053 reader gives them
    so, without an object per entry)."""
    records = getattr(reader, "records", None)
    if records is not None:
        yield from records()
        return
    for e in reader.entries():
        yield (
            e.line,
            e.credit,
            e.amount,
            e.booking_date,
            e.reference,
            e.end_to_end_id,
            e.remittance,
            e.is_return,
            e.return_reason,
        )


class _Staged:
    """The rows to stage (`matching.STAGED`) of a reader's entries, counted and summed on the way."""

    def __init__(self, records: Iterable[camt053.Record]) -> None:
        self.records = records
        self.count = self.credits = self.debits = 0

    def __iter__(self) -> Iterator[tuple]:
        credit_, debit_ = EntryDirection.CREDIT.value, EntryDirection.DEBIT.value
        number = credits = debits = 0
        for _line, credit, amount, booked, reference, e2e, remittance, is_return, reason in self.records:
            number += 1
            e2e = e2e[:35]
            if credit:
                credits += amount
            else:
                debits += amount
            yield (
                number,
                booked,
                credit_ if credit else debit_,
                amount,
                # a return names the transfer it returns: kept apart so it never counts as paid
                "" if is_return else e2e,
                e2e if is_return else "",
                reference[:35],
                remittance[:140],
                reason[:8],
                e2e,
            )
        self.count, self.credits, self.debits = number, credits, debits


def summarize(job: StatementImport) -> dict:
    """Counts and amounts per kind and outcome of a job's rows (one query), the unknown references
    (the first LISTED), and the provider's credited transfers missing from its statements."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for kind, outcome, n, total in (
        StatementEntry.objects.filter(job=job)
        .values_list("kind", "outcome")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    ):
        counts.setdefault(kind, {})[outcome] = {"count": int(n), "amount": int(total or 0)}
    unknown = list(
        StatementEntry.objects.filter(job=job, outcome=EntryOutcome.UNKNOWN)
        .order_by("row_number")
        .values_list("row_number", "amount", "end_to_end_id", "reference")[:LISTED]
    )
    return {
        "per_kind": counts,
        "unknown": [{"row": r, "amount": a, "end_to_end_id": e, "reference": ref} for r, a, e, ref in unknown],
        "missing": matching.missing_from_job(job),
    }


def _apply(actor, provider, contract: ProviderContract, source, name, sha, reader) -> StatementImport:
    header = reader.header
    with transaction.atomic():
        job = StatementImport.objects.create(
            source=source,
            file_name=name[:255],
            checksum=sha,
            provider=provider,
            contract=contract,
            account_number=header.account_number[:34],
            message_id=header.message_id[:35],
            statement_id=header.statement_id[:35],
            from_date=header.from_date,
            to_date=header.to_date,
            opening_balance=header.opening_balance,
            closing_balance=header.closing_balance,
            state=StatementState.APPLIED,
            area_path=contract.area_path,
            created_by_id=_actor_id(actor),
        )
        # a large camt.053 is validated against the schema in another process while it is read
        # and staged here without it; `check` (before anything is trusted) waits for the answer,
        # and raises the file's first error as a reading with the schema would
        apart = getattr(reader, "validate_apart", None)
        check = reader.check if apart is not None and apart() else None
        staged = _Staged(reader.unchecked_records() if check is not None else _records(reader))
        try:
            matching.stage_and_match(job, staged)
            count, credits, debits = staged.count, staged.credits, staged.debits
            opening, closing = header.opening_balance, header.closing_balance
            if opening is not None and closing is not None and opening + credits - debits != closing:
                raise FormatError(
                    _(
                        "the closing balance %(closing)s đồng is not the opening balance %(opening)s plus the "
                        "credits %(credits)s less the debits %(debits)s"
                    )
                    % {
                        "closing": header.closing_balance,
                        "opening": header.opening_balance,
                        "credits": credits,
                        "debits": debits,
                    }
                )
            job.entries_count, job.credits_total, job.debits_total = count, credits, debits
            job.summary = summarize(job)
        except Exception:
            if check is not None:
                # whatever failed on entries read without the schema (the balance, a value the
                # database refuses): an invalid file gives its own error, as a reading with the
                # schema would
                check()
            raise
        if check is not None:
            check()
        job.save(update_fields=["entries_count", "credits_total", "debits_total", "summary"])
        per_outcome: dict[str, int] = {}
        for outcomes in job.summary["per_kind"].values():
            for outcome, figures in outcomes.items():
                per_outcome[outcome] = per_outcome.get(outcome, 0) + figures["count"]
        record(
            actor=actor,
            action="reconciliation.statement.imported",
            obj=job,
            area=contract.paying_unit.area,
            after={
                "file": name,
                "provider": str(provider),
                "account": _masked(header.account_number),
                "from": header.from_date.isoformat() if header.from_date else "",
                "to": header.to_date.isoformat() if header.to_date else "",
                "entries": count,
                "credits": credits,
                "debits": debits,
                "matched": int(per_outcome.get(EntryOutcome.MATCHED, 0)),
                "differs": int(per_outcome.get(EntryOutcome.AMOUNT_DIFFERS, 0)),
                "unknown": int(per_outcome.get(EntryOutcome.UNKNOWN, 0)),
                "duplicate": int(per_outcome.get(EntryOutcome.DUPLICATE, 0)),
                "missing": job.summary.get("missing", 0),
            },
        )
    return job


def import_file(*, actor, upload: BinaryIO, provider, source: str, file_name: str) -> StatementImport:
    """An uploaded file (the web form, the API): spooled to disk, then imported."""
    with tempfile.NamedTemporaryFile(suffix=".dat") as tmp:
        for block in iter(lambda: upload.read(1 << 20), b""):
            tmp.write(block)
        tmp.flush()
        return import_statement(
            actor=actor, content=Path(tmp.name), provider=provider, source=source, file_name=file_name
        )


def statements_for(user, cap: str = Cap.RECONCILIATION_VIEW):
    """The statement jobs `user` may see: those of contracts whose paying unit is in their areas."""
    qs = StatementImport.objects.select_related("provider", "created_by")
    if user is None:
        return qs
    q = access.area_q(user, cap, "area_path")
    if q is None:
        return qs
    return qs.filter(q)


__all__ = ["StatementForbidden", "StatementRefused", "import_file", "import_statement", "summarize", "Q"]
