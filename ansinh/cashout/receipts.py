"""Recording cash payments (issue 12 part 3): what the provider's staff record for an entry of a
cash list, at a pay point, at home, or offline on a phone and sent later.

`record_cash_receipt` is idempotent by the device's key: the same key again returns the first
receipt (its `answer` unchanged) and writes nothing; the same key for another entry is refused.
A submission that conflicts (the entry already paid, the person stopped since the list was made,
the list closed) is kept as a receipt with that result and changes nothing else, so the device can
show why. Paying an entry writes one `disbursement.Payout` per payroll line (channel cash), except
for an entry of source `withdrawal` (its lines were paid by transfer). The first receipt of a cycle
paid all in cash moves the cycle from "funded" to "paying" through the cycle's transition service.

A refusal of the input (a CCCD that does not match the receiver's record, a receiver who is not a
listed representative, a bad photo) raises ValidationError and records nothing.

`record_receipts_bulk` records a whole list of receipts at once (the provider's staff entering a
signed paper list after a day without a phone; the demo's thousands of receipts): the same rules,
set-based, through the helpers below that both services share (the conflicts, the receiver and
their CCCD, the payouts, the answer, the audit event). What does not fit the set-based path (a
conflict, a refused input, an entry or key sent twice) goes through `record_cash_receipt` one by
one, and a refusal is returned for that item instead of aborting the list."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import build_event, record, record_many
from ansinh.core.bulk import insert_rows
from ansinh.core.errors import DomainError
from ansinh.disbursement.models import Payout, PayoutChannel, ProviderBatch
from ansinh.payroll.models import Channel, CycleState, PayrollLine
from ansinh.registry.models import Representation, Status, StatusChange

from .models import (
    CashEntry,
    CashEntryLine,
    CashListState,
    CashReceipt,
    EntrySource,
    EntryState,
    NotPaidReason,
    ReceiptOutcome,
    ReceiptResult,
    ReceiverKind,
)

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# the first bytes of the image types a photo may be: JPEG, PNG, WebP (RIFF....WEBP)
PHOTO_TYPES = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
# what an HTTP answer says for each result: a recorded receipt is created, a conflict is a 409
STATUS_CODES: dict[str, int] = {ReceiptResult.RECORDED: 201}
CONFLICT_STATUS = 409
CHUNK = 1000  # ids per query of the bulk path
STOPPING = (Status.STOPPED, Status.SUSPENDED)


class CashForbidden(DomainError):
    """The actor may see the entry but not record on it."""


def status_code(receipt: CashReceipt) -> int:
    return STATUS_CODES.get(receipt.result, CONFLICT_STATUS)


def result_message(result: str) -> str:
    """What the device shows for a result, in Vietnamese."""
    texts: dict[str, str] = {
        ReceiptResult.RECORDED: _("Recorded."),
        ReceiptResult.ALREADY_PAID: _("This person was already paid: nothing was recorded twice."),
        ReceiptResult.STOPPED: _(
            "The allowance of this person was stopped or suspended since the list was made: do not pay."
        ),
        ReceiptResult.CLOSED: _("The list is closed: the unpaid cash was returned. Nothing was recorded."),
        ReceiptResult.REFUSED: _("Refused."),
    }
    return texts.get(result, "")


def answer_of(receipt: CashReceipt) -> dict:
    """The answer to the device (the stored codes, with their Vietnamese texts added)."""
    answer = dict(receipt.answer or {})
    result = answer.get("result", receipt.result)
    answer["result_label"] = str(ReceiptResult(result).label) if result in ReceiptResult.values else ""
    answer["message"] = result_message(result)
    state = answer.get("entry_state", "")
    answer["entry_state_label"] = str(EntryState(state).label) if state in EntryState.values else ""
    return answer


def digits(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def check_photo(photo) -> None:
    """An image (JPEG, PNG or WebP by its first bytes) of at most 5 MB."""
    if photo is None:
        return
    size = getattr(photo, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": _("The photo is larger than 5 MB.")})
    head = photo.read(12)
    photo.seek(0)
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if not (is_webp or any(head.startswith(magic) for magic in PHOTO_TYPES.values())):
        raise ValidationError({"photo": _("The photo must be an image (JPEG, PNG or WebP).")})


def _current_q(day: dt.date) -> Q:
    """A representation listed and current on `day` (not ended, within its validity)."""
    return (
        Q(ended_at__isnull=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    )


def current_representations(beneficiary, day: dt.date):
    """The beneficiary's listed representatives on `day` (not ended, within their validity)."""
    return Representation.objects.filter(_current_q(day), beneficiary=beneficiary).select_related("representative")


def _chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --- the rules, shared by both services (set-based: one entry or thousands) --------------------


def _lines_of(entry_ids: Sequence[int]) -> dict[int, list[tuple[int, int, str]]]:
    """(line id, amount, area path) of each entry's payroll lines."""
    out: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for chunk in _chunks(list(entry_ids)):
        for entry_id, line_id, amount, path in (
            CashEntryLine.objects.filter(entry_id__in=chunk)
            .order_by("entry_id", "pk")
            .values_list("entry_id", "line_id", "line__amount", "line__area_path")
        ):
            out[entry_id].append((line_id, amount, path))
    return out


def _with_payouts(lines: dict[int, list[tuple[int, int, str]]]) -> set[int]:
    """The entries one of whose lines has a payout already (by transfer or in cash)."""
    line_ids = [line_id for rows in lines.values() for line_id, _a, _p in rows]
    paid: set[int] = set()
    for chunk in _chunks(line_ids):
        paid |= set(Payout.objects.filter(line_id__in=chunk).values_list("line_id", flat=True))
    return {entry_id for entry_id, rows in lines.items() if any(line_id in paid for line_id, _a, _p in rows)}


def _stopped_since(entries: Sequence[CashEntry]) -> set[int]:
    """The entries whose person had a stop or suspension that takes effect in the list's month
    or before recorded since the list was made (those recorded before were never listed). A stop
    from the month after (the month of death is paid in full) does not stop this month's cash,
    and funeral support is paid to the organiser after the death."""
    regular = [e for e in entries if not e.funeral]
    if not regular:
        return set()
    changes: dict[int, list[tuple[dt.datetime, dt.date]]] = defaultdict(list)
    for chunk in _chunks(sorted({e.beneficiary_id for e in regular})):
        for beneficiary_id, at, month in StatusChange.objects.filter(
            beneficiary_id__in=chunk,
            to_status__in=STOPPING,
            at__gt=min(e.cash_list.built_at for e in regular),
            effective_month__lte=max(e.cycle.month for e in regular),
        ).values_list("beneficiary_id", "at", "effective_month"):
            changes[beneficiary_id].append((at, month))
    return {
        e.pk
        for e in regular
        if any(at > e.cash_list.built_at and month <= e.cycle.month for at, month in changes[e.beneficiary_id])
    }


def _conflict(entry: CashEntry, outcome: str, *, with_payouts: set[int], stopped: set[int]) -> str | None:
    """Why the receipt cannot change anything (None: it can). `with_payouts` and `stopped` are
    `_with_payouts` and `_stopped_since` of the entries at hand (needed for a payment only)."""
    if entry.cash_list.state == CashListState.CLOSED or entry.state == EntryState.RETURNED:
        return ReceiptResult.CLOSED
    if entry.state == EntryState.CANCELLED:
        return ReceiptResult.STOPPED
    if entry.state == EntryState.PAID:
        return ReceiptResult.ALREADY_PAID
    if outcome == ReceiptOutcome.PAID:
        if entry.source != EntrySource.WITHDRAWAL and entry.pk in with_payouts:
            return ReceiptResult.ALREADY_PAID
        if entry.pk in stopped:
            return ReceiptResult.STOPPED
    return None


def check_receiver_cccd(on_record: str, entered: str, note: str) -> bool:
    """Whether the receiver's CCCD was checked: the digits entered (all 12 or the last 4) must
    match the CCCD on record; a receiver without one on record needs a note of the paper checked
    (not checked). ValidationError otherwise."""
    entered = digits(entered)
    if not on_record:
        if not (note or "").strip():
            raise ValidationError(
                {"note": _("The receiver has no CCCD on record: write in the note which paper you checked.")}
            )
        return False
    if not entered:
        raise ValidationError({"receiver_cccd": _("Enter the receiver's CCCD (all 12 digits or the last 4).")})
    if len(entered) == 12:
        matches = entered == on_record
    elif len(entered) == 4:
        matches = on_record.endswith(entered)
    else:
        raise ValidationError({"receiver_cccd": _("Enter all 12 digits of the CCCD, or its last 4 digits.")})
    if not matches:
        raise ValidationError(
            {"receiver_cccd": _("The CCCD entered does not match the receiver's record: do not pay, check the card.")}
        )
    return True


def _receiver_of(entry: CashEntry, receiver_kind: str, representation, receiver_cccd: str, note: str):
    """(representation, name, cccd_checked) of who received the money, or ValidationError.
    `representation`: the one asked for if it is listed for this person and current on the day
    (None otherwise)."""
    b = entry.beneficiary
    if receiver_kind == ReceiverKind.BENEFICIARY:
        representation, name, on_record = None, b.full_name, b.cccd
    elif receiver_kind == ReceiverKind.REPRESENTATIVE:
        if representation is None or representation.beneficiary_id != entry.beneficiary_id:
            raise ValidationError(
                {"representation_id": _("The receiver must be one of the representatives listed for this person.")}
            )
        name, on_record = representation.representative.full_name, representation.representative.cccd
    else:
        raise ValidationError({"receiver_kind": _("Say who received the money: the person or a representative.")})
    return representation, name, check_receiver_cccd(on_record, receiver_cccd, note)


def _payout_rows(entry: CashEntry, lines: list[tuple[int, int, str]], paid_at: dt.datetime) -> list[Payout]:
    """One cash payout per payroll line of a paid entry (none for a withdrawal's entry)."""
    if entry.source == EntrySource.WITHDRAWAL:
        return []
    return [
        Payout(line_id=line_id, channel=PayoutChannel.CASH, amount=amount, paid_at=paid_at, area_path=path)
        for line_id, amount, path in lines
    ]


def _answer(receipt: CashReceipt, entry: CashEntry, payouts: int) -> dict:
    return {
        "receipt_id": receipt.pk,
        "entry_id": entry.pk,
        "result": receipt.result,
        "outcome": receipt.outcome,
        "entry_state": entry.state,
        "amount": entry.amount,
        "payouts": payouts,
        "cccd_checked": receipt.cccd_checked,
    }


def _event(actor, receipt: CashReceipt, entry: CashEntry, payouts: int) -> dict:
    """The audit event of a receipt (`record` / `build_event` keyword arguments)."""
    return {
        "actor": actor,
        "action": "cashout.receipt.recorded"
        if receipt.result == ReceiptResult.RECORDED
        else "cashout.receipt.conflict",
        "obj": receipt,
        "area": entry.commune,
        "after": {
            "name": entry.beneficiary.full_name,
            "list": str(entry.cash_list),
            "month": f"{entry.cycle.month:%Y-%m}",
            "outcome": receipt.outcome,
            "reason": receipt.reason,
            "result": receipt.result,
            "amount": entry.amount,
            "receiver": receipt.receiver_name,
            "receiver_kind": receipt.receiver_kind,
            "cccd_checked": receipt.cccd_checked,
            "payouts": payouts,
        },
        "note": receipt.note,
    }


def _move_cycle(cycle, entry: CashEntry) -> None:
    """A cycle paid all in cash (no transfer batch) is "paying" from its first receipt: moved
    through the cycle's transition service (funded → sent to the provider → paying)."""
    from ansinh.payroll.services import TransitionForbidden, TransitionRefused, transition

    if cycle.state not in (CycleState.FUNDED, CycleState.SENT_TO_PROVIDER):
        return
    if (
        ProviderBatch.objects.filter(cycle=cycle).exists()
        or PayrollLine.objects.filter(cycle=cycle, channel=Channel.ACCOUNT).exists()
    ):
        return  # a cycle with transfers: the transfer leg moves it (disbursement.statuses)
    note = str(entry.cash_list)
    try:
        if cycle.state == CycleState.FUNDED:
            cycle = transition(actor=None, cycle=cycle, to_state=CycleState.SENT_TO_PROVIDER, note=note)
        transition(actor=None, cycle=cycle, to_state=CycleState.PAYING, note=note)
    except (TransitionRefused, TransitionForbidden) as exc:  # the cash is paid all the same
        log.warning("cycle %s not moved to paying: %s", cycle.pk, exc)


def _key_used_elsewhere() -> ValidationError:
    return ValidationError({"idempotency_key": _("This key was already used for another person on the list.")})


def _lookup(idempotency_key: str, entry_id: int) -> CashReceipt | None:
    known = CashReceipt.objects.filter(idempotency_key=idempotency_key).first()
    if known is not None and known.entry_id != entry_id:
        raise _key_used_elsewhere()
    return known


def _check_access(actor, entries: Iterable[CashEntry | None]) -> None:
    """CashEntry.DoesNotExist for an entry missing or outside the actor's areas, CashForbidden
    where the actor may see but not record (one check per commune)."""
    seen: dict[int, None] = {}
    for entry in entries:
        if entry is None or not access.can_in_area(actor, Cap.CASH_VIEW, entry.commune):
            raise CashEntry.DoesNotExist(_("Not found."))
        if entry.commune_id in seen:
            continue
        if not access.can_in_area(actor, Cap.CASH_RECORD, entry.commune):
            raise CashForbidden(_("Your role does not allow recording cash payments here."))
        seen[entry.commune_id] = None


def _when(occurred_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The moment of the receipt (now when not sent), aware; ValidationError in the future."""
    if occurred_at is None:
        occurred_at = now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": _("The time of the payment is in the future: check the phone's clock.")})
    return occurred_at


def _entries_qs():
    return CashEntry.objects.select_for_update(of=("self",)).select_related(
        "cash_list__pay_point", "cash_list__route", "cycle", "beneficiary", "commune"
    )


@transaction.atomic
def record_cash_receipt(
    *,
    actor,
    entry_id: int,
    idempotency_key: str,
    outcome: str,
    reason: str = "",
    note: str = "",
    receiver_kind: str = "",
    representation_id: int | None = None,
    receiver_cccd: str = "",
    occurred_at: dt.datetime | None,
    device: str = "",
    photo=None,
) -> CashReceipt:
    """Record what happened for one entry (see the module docstring). Raises
    CashEntry.DoesNotExist outside the actor's areas, CashForbidden for a reader, ValidationError
    for a refused input."""
    idempotency_key = (idempotency_key or "").strip()
    if not KEY_PATTERN.match(idempotency_key):
        raise ValidationError({"idempotency_key": _("Each record needs its own key (8 to 64 letters or digits).")})
    entry = _entries_qs().filter(pk=entry_id).first()
    _check_access(actor, [entry])
    assert entry is not None
    known = _lookup(idempotency_key, entry.pk)  # after the lock: a concurrent twin has committed
    if known is not None:
        return known
    if outcome not in ReceiptOutcome.values:
        raise ValidationError({"outcome": _("Say whether the person was paid or not.")})
    note = (note or "").strip()[:255]
    occurred_at = _when(occurred_at, timezone.now())
    check_photo(photo)

    fields: dict = {
        "entry": entry,
        "idempotency_key": idempotency_key,
        "outcome": outcome,
        "note": note,
        "occurred_at": occurred_at,
        "recorded_by": actor,
        "device": (device or "")[:64],
        "area_path": entry.area_path,
    }
    lines: dict[int, list[tuple[int, int, str]]] = {}
    with_payouts: set[int] = set()
    stopped: set[int] = set()
    if outcome == ReceiptOutcome.PAID:
        lines = _lines_of([entry.pk])
        with_payouts, stopped = _with_payouts(lines), _stopped_since([entry])
    result = _conflict(entry, outcome, with_payouts=with_payouts, stopped=stopped)
    if outcome == ReceiptOutcome.NOT_PAID:
        if reason not in NotPaidReason.values:
            raise ValidationError({"reason": _("Choose why the person was not paid.")})
        fields["reason"] = reason
    elif result is None:
        representation = None
        if receiver_kind == ReceiverKind.REPRESENTATIVE:
            day = timezone.localtime(occurred_at).date()
            representation = current_representations(entry.beneficiary, day).filter(pk=representation_id or 0).first()
        representation, name, checked = _receiver_of(entry, receiver_kind, representation, receiver_cccd, note)
        fields |= {
            "receiver_kind": receiver_kind,
            "representation": representation,
            "receiver_name": name,
            "cccd_checked": checked,
        }
    else:  # a conflict: kept as sent, nothing checked
        fields["receiver_kind"] = receiver_kind if receiver_kind in ReceiverKind.values else ReceiverKind.BENEFICIARY
    fields["result"] = result or ReceiptResult.RECORDED
    receipt = CashReceipt(**fields)
    if photo is not None:
        receipt.photo.save(getattr(photo, "name", "") or "bien-nhan.jpg", photo, save=False)
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        # the same key committed by a concurrent request in between: its answer stands
        known = _lookup(idempotency_key, entry.pk)
        if known is not None:
            return known
        raise

    payouts = 0
    if receipt.result == ReceiptResult.RECORDED:
        if outcome == ReceiptOutcome.PAID:
            rows = _payout_rows(entry, lines.get(entry.pk, []), occurred_at)
            Payout.objects.bulk_create(Payout.complete(rows))
            payouts = len(rows)
            from ansinh.reconciliation import ledger  # the cash paid, in this transaction

            ledger.on_payouts(actor=actor, line_ids=[row.line_id for row in rows])
            entry.state = EntryState.PAID
            entry.not_paid_reason = ""
        else:
            entry.state = EntryState.NOT_PAID
            entry.not_paid_reason = reason
        entry.save(update_fields=["state", "not_paid_reason", "updated_at"])
    receipt.answer = _answer(receipt, entry, payouts)
    receipt.save(update_fields=["answer"])
    record(**_event(actor, receipt, entry, payouts))
    if receipt.result == ReceiptResult.RECORDED:
        _move_cycle(entry.cycle, entry)
    return receipt


# --- a whole list at once --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One line of a list of receipts: what `record_cash_receipt` takes (no photo)."""

    entry_id: int
    idempotency_key: str
    outcome: str
    occurred_at: dt.datetime | None = None
    reason: str = ""
    note: str = ""
    receiver_kind: str = ""
    representation_id: int | None = None
    receiver_cccd: str = ""  # what the staff typed: all 12 digits or the last 4
    device: str = ""


@dataclass
class BulkResult:
    """What `record_receipts_bulk` did, by the items' positions in the list sent: `receipts` the
    receipt of each item (the first one for a key already used; None for a refused item),
    `errors` the refusals (each the ValidationError `record_cash_receipt` raises), `known` the
    items whose key was already used (nothing written), `one_by_one` the items that went through
    `record_cash_receipt` (a conflict, a refusal, an entry or key sent twice)."""

    receipts: list[CashReceipt | None]
    errors: dict[int, ValidationError] = field(default_factory=dict)
    known: list[int] = field(default_factory=list)
    one_by_one: list[int] = field(default_factory=list)

    def _new(self) -> list[CashReceipt]:
        known = set(self.known)
        return [r for i, r in enumerate(self.receipts) if r is not None and i not in known]

    @property
    def recorded(self) -> list[CashReceipt]:
        """The receipts written that changed the entries (paid, not paid)."""
        return [r for r in self._new() if r.result == ReceiptResult.RECORDED]

    @property
    def conflicts(self) -> list[CashReceipt]:
        """The receipts written as conflicts (kept, changing nothing)."""
        return [r for r in self._new() if r.result != ReceiptResult.RECORDED]


def _write_answers(made: list[CashReceipt]) -> None:
    """The receipts' answers (they hold the receipt's id, known once inserted): one parameterised
    UPDATE run for all rows (bulk_update's CASE expressions cost seconds for thousands of rows)."""
    import json

    from django.db import connection

    table = connection.ops.quote_name(CashReceipt._meta.db_table)
    value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    rows = [(json.dumps(r.answer), r.pk) for r in made]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET answer = {value} WHERE id = %s", rows)  # noqa: S608


def _representations(wanted: list[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], Representation]:
    """The representations asked for that are current on the day each was asked for (one query
    per day and chunk: a paper list spans a few pay days)."""
    by_day: dict[dt.date, set[int]] = defaultdict(set)
    for pk, day in wanted:
        by_day[day].add(pk)
    out: dict[tuple[int, dt.date], Representation] = {}
    for day, ids in by_day.items():
        for chunk in _chunks(sorted(ids)):
            for rep in Representation.objects.filter(_current_q(day), pk__in=chunk).select_related("representative"):
                out[(rep.pk, day)] = rep
    return out


@transaction.atomic
def record_receipts_bulk(*, actor, items: Sequence[ReceiptItem]) -> BulkResult:
    """Record a list of receipts with the rules of `record_cash_receipt`, set-based (see the
    module docstring), all in one transaction. The actor must hold the recording capability in
    every entry's commune, else nothing is written: CashEntry.DoesNotExist or CashForbidden, as
    `record_cash_receipt` raises. A key already used for the same entry returns its receipt
    (`known`, nothing written), for another entry is refused. An item that is refused (a CCCD that
    does not match, a receiver who is not listed, no reason...) is returned in `errors` and writes
    nothing; the other items are recorded. The result for the items that went through the bulk
    path is what `record_cash_receipt` would have recorded for them one after the other (an
    item of an entry or a key already in the list goes one by one, after the first)."""
    out = BulkResult(receipts=[None] * len(items))
    if not items:
        return out
    entries: dict[int, CashEntry] = {}
    for chunk in _chunks(sorted({int(item.entry_id) for item in items})):
        entries |= {e.pk: e for e in _entries_qs().filter(pk__in=chunk).order_by("pk")}
    _check_access(actor, (entries.get(int(item.entry_id)) for item in items))

    keys = [(item.idempotency_key or "").strip() for item in items]
    used: dict[str, CashReceipt] = {}
    for chunk in _chunks(sorted({k for k in keys if KEY_PATTERN.match(k)})):
        used |= {r.idempotency_key: r for r in CashReceipt.objects.filter(idempotency_key__in=chunk)}
    now = timezone.now()
    candidates: list[tuple[int, ReceiptItem, CashEntry, dt.datetime]] = []
    later: list[int] = []
    seen_keys: set[str] = set()
    seen_entries: set[int] = set()
    for i, (item, k) in enumerate(zip(items, keys, strict=True)):
        entry = entries[int(item.entry_id)]
        first = k not in seen_keys and entry.pk not in seen_entries
        seen_keys.add(k)
        seen_entries.add(entry.pk)
        if k in used and first:
            if used[k].entry_id == entry.pk:
                out.receipts[i] = used[k]
                out.known.append(i)
            else:
                out.errors[i] = _key_used_elsewhere()
            continue
        try:
            when = _when(item.occurred_at, now)
        except ValidationError:
            when = None
        bad_input = (
            not KEY_PATTERN.match(k)
            or item.outcome not in ReceiptOutcome.values
            or (item.outcome == ReceiptOutcome.NOT_PAID and item.reason not in NotPaidReason.values)
        )
        if not first or bad_input or when is None:
            later.append(i)
        else:
            candidates.append((i, item, entry, when))

    paying = [entry for _i, item, entry, _w in candidates if item.outcome == ReceiptOutcome.PAID]
    lines = _lines_of([e.pk for e in paying])
    with_payouts, stopped = _with_payouts(lines), _stopped_since(paying)
    reps = _representations(
        [
            (item.representation_id or 0, timezone.localtime(when).date())
            for _i, item, _e, when in candidates
            if item.outcome == ReceiptOutcome.PAID and item.receiver_kind == ReceiverKind.REPRESENTATIVE
        ]
    )
    fit: list[tuple[int, CashEntry, CashReceipt]] = []
    for i, item, entry, when in candidates:
        if _conflict(entry, item.outcome, with_payouts=with_payouts, stopped=stopped) is not None:
            later.append(i)  # the service keeps the conflict
            continue
        note = (item.note or "").strip()[:255]
        fields: dict = {
            "entry": entry,
            "idempotency_key": keys[i],
            "outcome": item.outcome,
            "note": note,
            "occurred_at": when,
            "recorded_by": actor,
            "device": (item.device or "")[:64],
            "area_path": entry.area_path,
            "result": ReceiptResult.RECORDED,
        }
        if item.outcome == ReceiptOutcome.NOT_PAID:
            fields["reason"] = item.reason
        else:
            rep = reps.get((item.representation_id or 0, timezone.localtime(when).date()))
            try:
                representation, name, checked = _receiver_of(entry, item.receiver_kind, rep, item.receiver_cccd, note)
            except ValidationError:
                later.append(i)  # the service raises the same refusal
                continue
            fields |= {
                "receiver_kind": item.receiver_kind,
                "representation": representation,
                "receiver_name": name,
                "cccd_checked": checked,
            }
        fit.append((i, entry, CashReceipt(**fields)))

    if fit:
        _write_bulk(actor, fit, lines)
        for i, _entry, receipt in fit:
            out.receipts[i] = receipt
    written = set(used) | {receipt.idempotency_key for _i, _e, receipt in fit}
    for i in sorted(later):
        item = items[i]
        out.one_by_one.append(i)
        try:
            receipt = record_cash_receipt(
                actor=actor,
                entry_id=int(item.entry_id),
                idempotency_key=item.idempotency_key,
                outcome=item.outcome,
                reason=item.reason,
                note=item.note,
                receiver_kind=item.receiver_kind,
                representation_id=item.representation_id,
                receiver_cccd=item.receiver_cccd,
                occurred_at=item.occurred_at,  # None: now
                device=item.device,
            )
        except ValidationError as exc:
            out.errors[i] = exc
            continue
        out.receipts[i] = receipt
        if receipt.idempotency_key in written:
            out.known.append(i)  # a key sent twice in the list: its first receipt
        written.add(receipt.idempotency_key)
    out.known.sort()
    return out


def _write_bulk(actor, fit: list[tuple[int, CashEntry, CashReceipt]], lines: dict) -> None:
    """The rows `record_cash_receipt` writes, for receipts that fit (recorded, checked):
    the receipts with their answers, one payout per line of a paid entry, the entries' states,
    one audit event per receipt, the cycles moved to paying (once per cycle)."""
    made = [receipt for _i, _e, receipt in fit]
    insert_rows(CashReceipt, made, batch_size=CHUNK)
    payouts: list[Payout] = []
    by_state: dict[tuple[str, str], list[int]] = defaultdict(list)
    events = []
    cycles: dict[int, tuple] = {}
    for _i, entry, receipt in fit:
        count = 0
        if receipt.outcome == ReceiptOutcome.PAID:
            rows = _payout_rows(entry, lines.get(entry.pk, []), receipt.occurred_at)
            payouts += rows
            count = len(rows)
            entry.state, entry.not_paid_reason = EntryState.PAID, ""
        else:
            entry.state, entry.not_paid_reason = EntryState.NOT_PAID, receipt.reason
        by_state[(entry.state, entry.not_paid_reason)].append(entry.pk)
        receipt.answer = _answer(receipt, entry, count)
        events.append(build_event(**_event(actor, receipt, entry, count)))
        cycles.setdefault(entry.cycle_id, (entry.cycle, entry))
    insert_rows(Payout, Payout.complete(payouts), batch_size=CHUNK)
    from ansinh.reconciliation import ledger  # the cash paid, in this transaction, set-based

    ledger.on_payouts(actor=actor, line_ids=[row.line_id for row in payouts])
    _write_answers(made)
    now = timezone.now()
    for (state, reason), ids in by_state.items():
        for chunk in _chunks(ids):
            CashEntry.objects.filter(pk__in=chunk).update(state=state, not_paid_reason=reason, updated_at=now)
    record_many(events)
    for cycle, entry in cycles.values():
        _move_cycle(cycle, entry)


__all__ = [
    "BulkResult",
    "CashForbidden",
    "ReceiptItem",
    "answer_of",
    "check_photo",
    "check_receiver_cccd",
    "current_representations",
    "record_cash_receipt",
    "record_receipts_bulk",
    "result_message",
    "status_code",
]
