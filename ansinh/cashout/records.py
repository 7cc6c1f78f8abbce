"""Reads of what was recorded on the cash lists (receipts, withdrawals, account follow-ups) and
the day's list a phone keeps, scoped to the user's areas (pages and API share them). Another
area's record is outside every queryset here (404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.masking import mask_number

from . import queries
from .models import AccountFollowUp, CashEntry, CashList, CashReceipt, EntryState, Withdrawal
from .receipts import current_representations


def entries_for(user) -> QuerySet[CashEntry]:
    return CashEntry.objects.filter(cash_list__in=queries.cash_lists_for(user).values("pk")).select_related(
        "cash_list", "beneficiary", "village", "commune", "cycle"
    )


def receipts_for(user) -> QuerySet[CashReceipt]:
    return CashReceipt.objects.filter(entry__cash_list__in=queries.cash_lists_for(user).values("pk")).select_related(
        "entry__beneficiary", "entry__cash_list", "recorded_by", "representation__representative"
    )


def withdrawals_for(user) -> QuerySet[Withdrawal]:
    return access.scope(Withdrawal.objects.all(), user, Cap.CASH_VIEW, "area_path").select_related(
        "beneficiary", "pay_point", "recorded_by", "cash_entry", "cycle"
    )


def follow_ups_for(user) -> QuerySet[AccountFollowUp]:
    return access.scope(AccountFollowUp.objects.all(), user, Cap.CASH_VIEW, "area_path").select_related(
        "beneficiary", "account__institution", "withdrawal__pay_point", "closed_by", "commune"
    )


def may_record(user, commune) -> bool:
    return access.can_in_area(user, Cap.CASH_RECORD, commune)


def recordable_lists(user) -> QuerySet[CashList]:
    """The open lists the user may record on (their areas with cashout.record)."""
    q = access.area_q(user, Cap.CASH_RECORD, "area_path")
    qs = queries.cash_lists_for(user).filter(state="open")
    return qs if q is None else qs.filter(q)


def field_data(cash_list: CashList) -> dict:
    """What a phone keeps of the day's list: per person still to pay, the name, the amount, the
    village, the payee, the listed representatives' names and the last four digits of the CCCDs
    to check (masked). Nothing else (no full CCCD, no phone, no category)."""
    today = timezone.localdate()
    entries = []
    for e in queries.live_entries(cash_list).filter(state__in=[EntryState.PENDING, EntryState.NOT_PAID]):
        reps = [
            {
                "id": link.pk,
                "name": link.representative.full_name,
                "cccd": mask_number(link.representative.cccd),
            }
            for link in current_representations(e.beneficiary, today)
        ]
        entries.append(
            {
                "id": e.pk,
                "position": e.position,
                "name": e.beneficiary.full_name,
                "amount": e.amount,
                "village": e.village.name if e.village is not None else "",
                "payee": e.payee_name,
                "cccd": mask_number(e.beneficiary.cccd),
                "representatives": reps,
                "state": e.state,
            }
        )
    return {
        "list_id": cash_list.pk,
        "name": str(cash_list),
        "month": f"{cash_list.cycle.month:%m/%Y}",
        "day": today.isoformat(),
        "entries": entries,
    }
