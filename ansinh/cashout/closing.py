"""Closing a cash list at the end of the paying period (issue 12 part 3): the cash not paid goes
back with the settlement.

Every entry still to pay or not paid is returned. For a person still entitled (absent, refused,
another reason, or never visited) the entry is owed: the `PaidMonth` rows of its lines are
removed, so that the next cycle's payroll, which computes arrears as entitled − paid
(`payroll.adjustments`), pays the month as arrears; a recovery deducted from the unpaid cash is
given back to its receivable; funeral support not collected goes back to "recorded", so that the
next payroll carries its line again (it has no paid month). For a person who died or moved
nothing is owed: the commune officers are asked (in the application) to record the death or the
move in the registry so that the stop rules apply. An entry of source `withdrawal` is returned
without more: the money is still in the account. Closing twice changes nothing."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import Cap, Role
from ansinh.audit.services import record
from ansinh.core.money import format_vnd
from ansinh.notifications.models import Channel
from ansinh.notifications.services import Outgoing, queue_many
from ansinh.payroll.models import (
    FuneralState,
    FuneralSupport,
    LineType,
    PaidMonth,
    PayrollLine,
    Receivable,
    ReceivableState,
)

from .models import CashEntry, CashEntryLine, CashList, CashListState, EntrySource, EntryState, NotPaidReason
from .receipts import CashForbidden

NOT_OWED = (NotPaidReason.DIED, NotPaidReason.MOVED)
STOP_TEMPLATE = "cashout.record_stop"


def may_close(user, cash_list: CashList) -> bool:
    return access.can_in_area(user, Cap.CASH_MANAGE, cash_list.commune) or access.can_in_area(
        user, Cap.CASH_RECORD, cash_list.commune
    )


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _give_back_recoveries(line_ids: list[int]) -> dict[int, int]:
    """The recoveries deducted from cash that was not paid did not happen: their amounts go back
    to the receivables (`basis.split`: receivable id → amount), which are open again. Returns
    {receivable id: amount given back} (for the closing's audit entry)."""
    split: dict[int, int] = defaultdict(int)
    for basis in PayrollLine.objects.filter(pk__in=line_ids, line_type=LineType.RECOVERY).values_list(
        "basis", flat=True
    ):
        for rid, amount in ((basis or {}).get("split") or {}).items():
            split[int(rid)] += int(amount)
    back: dict[int, int] = {}
    for r in Receivable.objects.select_for_update().filter(pk__in=list(split)).order_by("pk"):
        take = min(split[r.pk], r.recovered)
        if take <= 0:
            continue
        r.recovered -= take
        fields = ["recovered"]
        if r.state == ReceivableState.RECOVERED:
            r.state, r.closed_at = ReceivableState.OPEN, None
            fields += ["state", "closed_at"]
        r.save(update_fields=fields)
        back[r.pk] = take
    return back


def _ask_to_record_stops(actor, cash_list: CashList, entries: list[CashEntry]) -> int:
    """An in-application message to the commune officers for each person who died or moved."""
    if not entries:
        return 0
    officers = (
        RoleAssignment.objects.active()
        .filter(role=Role.COMMUNE_OFFICER, user__is_active=True, area__path__in=_prefixes(cash_list.area_path))
        .values_list("user_id", flat=True)
    )
    users = User.objects.in_bulk(set(officers))
    messages = []
    with translation.override("vi"):
        for entry in entries:
            what = str(NotPaidReason(entry.not_paid_reason).label).lower()
            for user in users.values():
                messages.append(
                    Outgoing(
                        key=STOP_TEMPLATE,
                        variables={
                            "name": entry.beneficiary.full_name[:100],
                            "month": f"{cash_list.cycle.month:%m/%Y}",
                            "place": str(cash_list)[:100],
                            "what": what,
                        },
                        idempotency_key=f"cashout:stop:{entry.pk}:{user.pk}",
                        area=cash_list.commune,
                        user=user,
                        channel=Channel.IN_APP,
                    )
                )
    queue_many(actor=actor, messages=messages)
    return len(messages)


@transaction.atomic
def close_cash_list(*, actor, cash_list: CashList) -> dict:
    """Close the list: unpaid entries returned, owed or not (see the module docstring). Returns
    counts; a closed list answers {"already_closed": True} and changes nothing."""
    cash_list = (
        CashList.objects.select_for_update(of=("self",))
        .select_related("cycle", "commune", "pay_point", "route")
        .get(pk=cash_list.pk)
    )
    if not access.can_in_area(actor, Cap.CASH_VIEW, cash_list.commune):
        raise CashList.DoesNotExist(_("Not found."))
    if not may_close(actor, cash_list):
        raise CashForbidden(_("Your role does not allow closing cash lists here."))
    if cash_list.state == CashListState.CLOSED:
        return {"already_closed": True, "returned": 0, "owed": 0, "stops": 0}
    entries = list(
        CashEntry.objects.select_for_update(of=("self",))
        .filter(cash_list=cash_list, state__in=[EntryState.PENDING, EntryState.NOT_PAID])
        .select_related("beneficiary")
        .order_by("position", "pk")
    )
    # funeral support stays owed to the organiser whatever kept them away
    owed = [
        e for e in entries if e.source != EntrySource.WITHDRAWAL and (e.funeral or e.not_paid_reason not in NOT_OWED)
    ]
    stops = [
        e for e in entries if e.source != EntrySource.WITHDRAWAL and not e.funeral and e.not_paid_reason in NOT_OWED
    ]
    owed_ids = [e.pk for e in owed]
    CashEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        state=EntryState.RETURNED, updated_at=timezone.now()
    )
    CashEntry.objects.filter(pk__in=owed_ids).update(owed=True)
    owed_lines = list(CashEntryLine.objects.filter(entry_id__in=owed_ids).values_list("line_id", flat=True))
    removed, _detail = PaidMonth.objects.filter(line_id__in=owed_lines).delete()
    given_back = _give_back_recoveries(owed_lines)
    # funeral support has no paid month: back to "recorded", the next payroll has its line again
    funerals_reopened = FuneralSupport.objects.filter(
        pk__in=PayrollLine.objects.filter(pk__in=owed_lines, line_type=LineType.FUNERAL).values("funeral_id"),
        state=FuneralState.PAID,
    ).update(state=FuneralState.RECORDED)
    returned_amount = sum(e.amount for e in entries)
    from ansinh.reconciliation import ledger  # the cash returned, in this transaction

    ledger.on_cash_returned(actor=actor, cycle_id=cash_list.cycle_id, entry_ids=[e.pk for e in entries])
    cash_list.state = CashListState.CLOSED
    cash_list.closed_at = timezone.now()
    cash_list.closed_by = actor if getattr(actor, "pk", None) else None
    cash_list.save(update_fields=["state", "closed_at", "closed_by"])
    messages = _ask_to_record_stops(actor, cash_list, stops)
    result = {
        "already_closed": False,
        "returned": len(entries),
        "returned_amount": returned_amount,
        "owed": len(owed),
        "owed_amount": sum(e.amount for e in owed),
        "funerals_reopened": funerals_reopened,
        "stops": len(stops),
        "paid_months_removed": removed,
        "recoveries_given_back": sum(given_back.values()),
        "messages": messages,
    }
    record(
        actor=actor,
        action="cashout.list.closed",
        obj=cash_list,
        area=cash_list.commune,
        after={
            "list": str(cash_list),
            "month": f"{cash_list.cycle.month:%Y-%m}",
            "returned": len(entries),
            "amount": returned_amount,
            "owed": len(owed),
            "stops": len(stops),
            "funerals_reopened": funerals_reopened,
            # receivable id → đồng given back (the recovery was deducted from cash not paid)
            "receivables_given_back": {str(k): v for k, v in given_back.items()},
        },
    )
    return result


def returned_text(result: dict) -> str:
    """A Vietnamese summary of a closing for a message."""
    if result.get("already_closed"):
        return _("The list was already closed.")
    return _("List closed: %(returned)s people not paid (%(amount)s đồng returned), %(owed)s owed next month.") % {
        "returned": result["returned"],
        "amount": format_vnd(result["returned_amount"]),
        "owed": result["owed"],
    }
