"""Sending a batch to the provider's bank and asking for its status (issue 11 parts 3 and 4).

`submit_batch` writes the batch's pain.001 (the first write records it: `batches.write_file`),
checks its SHA-256 against the file recorded for the batch, and hands it to the bank
(`bank.get_bank()`); the answer, when there is one, is imported like any status file. A batch is
submitted once: a timeout or a dropped connection is recorded as "no answer" (an exception of
the batch) and leads to a status query (`query_status`), never to a blind resend. If the process
dies after the bank took the file and before `submitted_at` was recorded, submitting again
sends the byte-identical file: the bank (the sandbox bank does) answers from its books and
credits nothing twice.

`query_waiting` is the scheduled task: it queries every batch sent more than
ANSINH_BANK_QUERY_AFTER_HOURS ago that still waits for answers."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record

from .bank import BankError, get_bank
from .batches import BatchRefused, require_operate, write_file
from .models import (
    BatchState,
    ExceptionKind,
    ExceptionState,
    ExportedFile,
    FileFormat,
    ImportSource,
    InstructionState,
    ProviderBatch,
    Resolution,
    StatusImport,
    TransferException,
)
from .statuses import import_status


@dataclass
class SendResult:
    batch: ProviderBatch
    job: StatusImport | None
    message: str


def _no_answer(batch: ProviderBatch, error: str) -> None:
    TransferException.objects.get_or_create(
        batch=batch,
        kind=ExceptionKind.NO_ANSWER,
        instruction=None,
        defaults={
            "commune": batch.cycle.area,
            "area_path": batch.area_path,
            "detail": {"error": error[:400]},
        },
    )


def _confirm_no_answer(actor, batch: ProviderBatch) -> None:
    TransferException.objects.filter(batch=batch, kind=ExceptionKind.NO_ANSWER).exclude(
        state=ExceptionState.RESOLVED
    ).update(
        state=ExceptionState.RESOLVED,
        resolution=Resolution.CONFIRMED,
        resolved_at=timezone.now(),
        resolved_by=actor if getattr(actor, "pk", None) else None,
    )


def submit_batch(*, actor, batch: ProviderBatch, bank=None) -> SendResult:
    batch = ProviderBatch.objects.select_related("cycle__area").get(pk=batch.pk)
    require_operate(actor, batch.cycle)
    if batch.submitted_at is not None:
        raise BatchRefused(
            _("Batch %(id)s was already sent to the bank on %(at)s: ask the bank for its status instead.")
            % {"id": batch.message_id, "at": f"{timezone.localtime(batch.submitted_at):%d/%m/%Y %H:%M}"}
        )
    bank = bank or get_bank()
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        exported = write_file(actor=actor, batch=batch, file_format=FileFormat.PAIN001, out=tmp)  # type: ignore[arg-type]
        tmp.flush()
        first = ExportedFile.objects.filter(batch=batch, file_format=FileFormat.PAIN001).order_by("created_at").first()
        if first is not None and first.sha256 != exported.sha256:
            raise BatchRefused(_("The file differs from the one recorded for the batch: it is not sent."))
        try:
            answer = bank.submit(Path(tmp.name), message_id=batch.message_id)
        except BankError as exc:
            with transaction.atomic():
                batch = ProviderBatch.objects.select_related("cycle__area").get(pk=batch.pk)
                if exc.uncertain:
                    # the bank may have the file: from now on only a status query
                    batch.submitted_at = timezone.now()
                    batch.save(update_fields=["submitted_at"])
                _no_answer(batch, str(exc))
                record(
                    actor=actor,
                    action="disbursement.batch.no_answer",
                    obj=batch,
                    area=batch.cycle.area,
                    after={"batch": batch.message_id, "error": str(exc)[:400]},
                )
            return SendResult(
                batch,
                None,
                _("The bank did not answer. Do not send the batch again: ask the bank for its status later."),
            )
    with transaction.atomic():
        batch = ProviderBatch.objects.select_related("cycle__area").get(pk=batch.pk)
        batch.submitted_at = timezone.now()
        batch.save(update_fields=["submitted_at"])
        record(
            actor=actor,
            action="disbursement.batch.submitted",
            obj=batch,
            area=batch.cycle.area,
            after={"batch": batch.message_id, "sha256": exported.sha256, "bank": bank.name},
        )
    if answer is None:
        return SendResult(batch, None, _("The bank took the batch; its answer comes later."))
    try:
        job = import_status(
            actor=actor, content=answer, source=ImportSource.PAIN002, file_name=f"{batch.message_id}-answer.xml"
        )
    finally:
        answer.unlink(missing_ok=True)
    return SendResult(batch, job, _("The bank answered the batch."))


def query_status(*, actor, batch: ProviderBatch, bank=None) -> SendResult:
    """Ask the bank for the latest status of a batch it was sent (never resends)."""
    batch = ProviderBatch.objects.select_related("cycle__area").get(pk=batch.pk)
    require_operate(actor, batch.cycle)
    if batch.state == BatchState.CREATED:
        raise BatchRefused(_("This batch was never sent: there is no status to ask for."))
    bank = bank or get_bank()
    ProviderBatch.objects.filter(pk=batch.pk).update(last_query_at=timezone.now())
    try:
        answer = bank.status(batch.message_id)
    except BankError as exc:
        _no_answer(batch, str(exc))
        return SendResult(batch, None, _("The bank did not answer the status query; try again later."))
    if answer is None:
        return SendResult(
            batch,
            None,
            _("The bank has no batch %(id)s: it never received it. Send it (button “Send to the bank”).")
            % {"id": batch.message_id},
        )
    if batch.submitted_at is None:
        ProviderBatch.objects.filter(pk=batch.pk).update(submitted_at=timezone.now())
    try:
        job = import_status(
            actor=actor,
            content=answer,
            source=ImportSource.PAIN002,
            file_name=f"{batch.message_id}-status-{timezone.now():%Y%m%d%H%M%S}.xml",
        )
    finally:
        answer.unlink(missing_ok=True)
    if job.state == "applied":
        _confirm_no_answer(actor, batch)
    return SendResult(batch, job, _("The bank's status was imported."))


def query_waiting(*, now=None, bank=None) -> dict:
    """The scheduled task: query the batches that still wait for answers (system run)."""
    now = now or timezone.now()
    after = now - timedelta(hours=getattr(settings, "ANSINH_BANK_QUERY_AFTER_HOURS", 4))
    waiting = ProviderBatch.objects.filter(
        state__in=[BatchState.EXPORTED, BatchState.ACKNOWLEDGED, BatchState.PARTLY_REPORTED],
        submitted_at__lte=after,
    ).filter(Q(last_query_at__isnull=True) | Q(last_query_at__lte=after))
    out = {"queried": 0, "imported": 0}
    for batch in waiting.filter(instructions__state__in=[InstructionState.SENT, InstructionState.ACCEPTED]).distinct():
        result = query_status(actor=None, batch=batch, bank=bank)
        out["queried"] += 1
        out["imported"] += int(result.job is not None)
    return out
