"""The payees' notices of the transfer leg (issue 11 part 5): the money was credited to their
account, or the transfer failed and what happens now. Queued by a task once a status import has
committed (`notify_pending`, `tasks.notify_transfers_task`; `send_transfer_notices` sweeps what a
dead worker left), and sent by the outbox (notifications.services.queue_many).

Who is told: the payee of the payroll line, the representative when the line has one, else the
beneficiary, by SMS to their phone. The notice goes on the village head's list of the
beneficiary's village (commune when the village is unknown; `notifications.Channel.VILLAGE`)
instead when the beneficiary cannot read Vietnamese (the household reads the notice in another
language: the village head tells them), or when the payee has no phone that can receive an SMS
(the beneficiary's flag "has no phone", no number, a landline, a representative without a phone).

A notice never names the category, the programme or why the person is paid: the name, the month,
the amount, the bank or wallet and the last four digits of the account (`templates.py`).

Bounded: the instructions are read in chunks of `CHUNK` ids, each with one query for the notices
already queued (the idempotency keys), one for what the notices need of the instructions, their
lines, cycles and people (plain values), one for the areas not met yet, and the few of
`queue_many`. Queuing the same
instructions again queues nothing (idempotency keys `disb.credited.<id>`, `disb.failed.<id>`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from ansinh.areas.models import Area
from ansinh.notifications.models import Channel, Message
from ansinh.notifications.services import NotificationError, Outgoing, queue_many
from ansinh.payments.approvals import commune_hotline
from ansinh.payments.models import Institution
from ansinh.registry.validation import can_receive_sms

from .models import Instruction

log = logging.getLogger(__name__)

CHUNK = 2000


def notify_credited(*, actor, instruction_ids: list[int]) -> int:
    """Queue one "payment.credited" notice per instruction (key `disb.credited.<id>`): the amount
    of the month credited to the account, and where and how to withdraw it
    (`settings.ANSINH_SMS_WITHDRAW_HINT`). Answers how many notices were queued now (none for an
    instruction already notified)."""
    return _notify(actor, instruction_ids, key="payment.credited", prefix="disb.credited")


def notify_failed(*, actor, instruction_ids: list[int]) -> int:
    """Queue one "payment.failed" notice per instruction (key `disb.failed.<id>`): the transfer
    of the month could not be made, the commune will contact the person, whom to call. Answers
    how many notices were queued now."""
    return _notify(actor, instruction_ids, key="payment.failed", prefix="disb.failed")


# what a notice needs of an instruction, read as plain values (no model instances): 100,000 rows
FIELDS = (
    "pk",
    "amount",
    "institution_code",
    "account_last4",
    "line__cycle__month",
    "line__beneficiary_id",
    "line__beneficiary__full_name",
    "line__beneficiary__phone",
    "line__beneficiary__no_phone",
    "line__beneficiary__cannot_read_vietnamese",
    "line__beneficiary__commune_id",
    "line__beneficiary__village_id",
    "line__representation__representative_id",
    "line__representation__representative__phone",
)


def _notify(actor, instruction_ids: Iterable[int], *, key: str, prefix: str) -> int:
    ids = sorted({int(pk) for pk in instruction_ids})
    if not ids:
        return 0
    queued = 0
    institutions: dict[str, str] | None = None
    areas: dict[int, Area] = {}
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            keys = {pk: f"{prefix}.{pk}" for pk in chunk}
            known = set(
                Message.objects.filter(idempotency_key__in=list(keys.values())).values_list(
                    "idempotency_key", flat=True
                )
            )
            todo = [pk for pk in chunk if keys[pk] not in known]
            if not todo:
                continue
            rows = [
                dict(zip(FIELDS, values, strict=True))
                for values in Instruction.objects.filter(pk__in=todo).order_by("pk").values_list(*FIELDS)
            ]
            if institutions is None:
                institutions = dict(Institution.objects.values_list("code", "name"))
            wanted = {r[f] for r in rows for f in ("line__beneficiary__commune_id", "line__beneficiary__village_id")}
            wanted -= {None, *areas}
            if wanted:
                areas |= Area.objects.in_bulk(list(wanted))
            specs = [_outgoing(row, key, keys[row["pk"]], institutions, areas) for row in rows]
            done: list[int] = []
            for row, result in zip(rows, queue_many(actor=actor, messages=specs), strict=True):
                if isinstance(result, NotificationError):
                    log.warning("no %s notice for transfer instruction %s: %s", key, row["pk"], result)
                else:
                    done.append(row["pk"])
            if done:
                Instruction.objects.filter(pk__in=done, notified=False).update(notified=True)
            queued += len(done)
    return queued


def _outgoing(row: dict, key: str, idempotency_key: str, institutions: dict[str, str], areas: dict) -> Outgoing:
    commune = areas[row["line__beneficiary__commune_id"]]
    village = areas.get(row["line__beneficiary__village_id"])
    rep_id = row["line__representation__representative_id"]
    if rep_id is not None:
        phone = row["line__representation__representative__phone"] or ""  # the representative is paid
    elif row["line__beneficiary__no_phone"]:
        phone = ""  # "has no phone": a number on the record is not theirs to read
    else:
        phone = row["line__beneficiary__phone"]
    on_list = row["line__beneficiary__cannot_read_vietnamese"] or not can_receive_sms(phone)
    variables = {
        "name": row["line__beneficiary__full_name"],
        "month": f"{row['line__cycle__month']:%m/%Y}",
        "amount": f"{row['amount']:,}".replace(",", "."),
    }
    if key == "payment.credited":
        code = row["institution_code"]
        variables |= {
            "institution": short_institution(institutions.get(code, "") or code),
            "account": f"*{row['account_last4']}",
            "how": settings.ANSINH_SMS_WITHDRAW_HINT.rstrip(". "),
        }
    else:
        variables["hotline"] = commune_hotline(commune)
    return Outgoing(
        key=key,
        variables=variables,
        idempotency_key=idempotency_key,
        area=village or commune,
        phone=phone,
        beneficiary_id=row["line__beneficiary_id"] if rep_id is None else None,
        representative_id=rep_id,
        channel=Channel.VILLAGE if on_list else Channel.SMS,
    )


def short_institution(name: str) -> str:
    """The bank or wallet as a short name for a notice: "LPBank (ex LienVietPostBank)" → "LPBank"."""
    return name.split(" (", 1)[0].strip()[:40]


# --- after a status import ---------------------------------------------------------------------------


def notify_pending(*, actor=None, job_id: int | None = None, limit: int | None = None) -> dict[str, int]:
    """Queue the notices of the transfers credited or rejected and not notified yet: those of one
    status import (`job_id`, what `tasks.notify_transfers_task` runs after the import commits) or,
    without it, all of them (the sweep of `send_transfer_notices`, for a worker that died). Each
    chunk is its own transaction; a re-run queues nothing twice."""
    from .models import InstructionState, RowOutcome, StatusImportRow

    out = {"credited": 0, "failed": 0}
    for state, notify, name in (
        (InstructionState.CREDITED, notify_credited, "credited"),
        (InstructionState.REJECTED, notify_failed, "failed"),
    ):
        if job_id is not None:
            # the job's instructions first (its rows alone), then those still to notify among them,
            # a chunk at a time by primary key: in one query, with the instructions just credited
            # not in the statistics yet (estimated at one row), the planner probed the job's rows
            # with a bitmap scan of the whole job per instruction (quadratic: minutes for 100,000)
            named = StatusImportRow.objects.filter(job_id=job_id, outcome=RowOutcome.APPLIED, status=state)
            candidates = list(named.order_by("instruction_id").values_list("instruction_id", flat=True).distinct())
            ids: list[int] = []
            for start in range(0, len(candidates), CHUNK):
                chunk = candidates[start : start + CHUNK]
                ids += (
                    Instruction.objects.filter(pk__in=chunk, state=state, notified=False)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if limit is not None and len(ids) >= limit:
                    break
            ids = ids[:limit]
        else:
            qs = Instruction.objects.filter(state=state, notified=False)
            ids = list(qs.order_by("pk").values_list("pk", flat=True)[:limit])
        for start in range(0, len(ids), CHUNK):
            out[name] += notify(actor=actor, instruction_ids=ids[start : start + CHUNK])
    return out
