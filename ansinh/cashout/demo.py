"""The demo's cash pay-out (issue 12, point 8), after the transfers (`disbursement.demo`).

- Pay points: at least one in use in every current demo commune with beneficiaries and in every
  pre-2025 commune of the pilot districts (Châu Đốc 884, Tịnh Biên 890) paid by the 2023 cycles:
  a post office with an ATM nearby in some, a commune hall without one in others (the coverage
  page shows figures like "3 of 7 wards with an ATM"); the demo's commune (Phường Châu Đốc) has
  both, each serving half of its villages. One home-delivery route per commune through all its
  villages. The demo's provider staff (`buudien`) is the staff of the demo commune's places (the
  only commune where that user works). Pay days for every demo month: from the transfers deadline,
  two working days (three at the post offices of the current communes), 7:30–11:00 at a commune
  hall, 7:30–16:30 at a post office (lunch break 11:00–13:30), 13:30–16:30 on a route.
- The cash lists of every funded demo cycle (the 2023 pilot months, the months before the current
  one), built through `lists.build_cash_lists`.
- Receipts as `receipts.record_cash_receipt` records them, as the demo's provider staff (the first
  ones of each list, every refusal and death through the service; the rest, thousands a month,
  through `receipts.record_receipts_bulk`, the same rules set-based, see `_bulk`), with outcomes
  drawn from a seeded generator (the same on every machine): in the past months about 96 % paid
  (to the listed representative where one is listed), about 3 % absent, two refusals and one death
  per cycle; those lists are then closed (`closing.close_cash_list`: the unpaid cash returned; the
  owed months become arrears when a later cycle is generated: approved cycles are never
  regenerated). The latest month stays open with about a third of each list still to pay, so that
  the field page has work; one person is kept to pay on purpose for the public lookup
  (`LOOKUP_CCCD`, see README).
- Withdrawals at the demo commune's pay points by account holders credited in the latest month:
  most served, four "cannot withdraw" (no OTP, forgot the PIN, no card), each of which opens the
  person's cash path of the month, the office's exception and the account's follow-up; one of them
  is then paid in cash.

Who acts: the demo's commune officer (`canbo.xa`) manages the demo commune's places and builds its
lists, the commune officer of Tịnh Biên (`canbo.tinhbien`) manages hers; the other communes' places
and the 2023 lists are a system run (actor None, which those services allow). A receipt needs a
signed-in person: the demo's provider staff (`buudien`) records, and for the 2023 lists holds the
provider's staff role on the two pilot districts for as long as the loader acts there (assigned and
revoked through `accounts.services`, both audited, as `payroll.demo` does for the 2023 approvals).

Idempotent: a place, a month's days or a list that exists is left alone, an entry that is no longer
to pay is not recorded again, a closed list is not closed again; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.models import User
from ansinh.accounts.roles import Cap, Role
from ansinh.areas.models import Area, Level, Tree
from ansinh.payroll.models import CycleState, PaymentCycle, PayrollLine

from . import closing, lists, pay_points, receipts, withdrawals
from .models import (
    CannotWithdrawReason,
    CashEntry,
    CashList,
    CashListState,
    DeliveryRoute,
    EntrySource,
    EntryState,
    NotPaidReason,
    PayDay,
    PayPoint,
    PayPointKind,
    ReceiptOutcome,
    ReceiverKind,
    Withdrawal,
    WithdrawalMeans,
    WithdrawalOutcome,
)

SEED = "ansinh-demo-cash"
COMMUNE_OFFICER, OFFICE_OFFICER, PROVIDER_STAFF = "canbo.xa", "canbo.phong", "buudien"
OTHER_OFFICER = "canbo.tinhbien"
HOME_COMMUNE = "30316"
PILOT_DISTRICTS = ("884", "890")
ATM_COMMUNES = 3  # of the current demo communes, the first ones (by code) have an ATM nearby
PAID_SHARE = 0.96  # past months
ABSENT_SHARE = 0.03
LATEST_PAID_SHARE = 0.66  # the latest month, still paying
LATEST_ABSENT_SHARE = 0.01
REFUSALS, DEATHS = 2, 1  # per past cycle
SERVED_WITHDRAWALS = 36
SERVICE_FIRST = 5  # per list of the current communes (2023: 1), the first receipts go one by one through the
# service, the rest in bulk
NOT_PAID_NOTES: dict[str, str] = {
    NotPaidReason.ABSENT: "Không có mặt trong các ngày chi trả.",
    NotPaidReason.REFUSED: "Từ chối nhận, đề nghị xem lại mức trợ cấp.",
    NotPaidReason.DIED: "Gia đình báo đã mất, chưa có giấy báo tử.",
}
PAPER_NOTE = "Không có căn cước: đã kiểm tra giấy khai sinh (dữ liệu minh họa)."
REP_PAPER_NOTE = "Đã kiểm tra giấy ủy quyền (dữ liệu minh họa)."
CANNOT = (
    (CannotWithdrawReason.NO_OTP, "Điện thoại đăng ký đã mất, không nhận được mã OTP."),
    (CannotWithdrawReason.FORGOT_PIN, "Quên mã PIN thẻ, nhập sai ba lần."),
    (CannotWithdrawReason.NO_CARD, "Chưa nhận thẻ ngân hàng."),
    (CannotWithdrawReason.NO_OTP, "Số điện thoại nhận OTP là của con, con đi làm xa."),
)
# the person the README's lookup example shows (kept to pay at a pay point in the latest month): this
# CCCD when that person is on the demo commune's post-office list, else the first of that list by CCCD
# who has a phone and no representative (a smaller registry, in the tests)
LOOKUP_CCCD = "079058260493"  # Nguyễn Văn Sơn, phone ending 0428, in the full demo (README)
S = CycleState
FUNDED_OR_LATER = lists.BUILDABLE_STATES


# --- who acts -------------------------------------------------------------------------------------


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _may_manage(user: User | None, area: Area) -> bool:
    return user is not None and access.can_in_area(user, Cap.CASH_MANAGE, area)


def _may_record(user: User | None, area: Area) -> bool:
    return user is not None and access.can_in_area(user, Cap.CASH_RECORD, area)


# --- the communes ---------------------------------------------------------------------------------


def _funded_cycles() -> list[PaymentCycle]:
    return list(
        PaymentCycle.objects.filter(state__in=FUNDED_OR_LATER)
        .select_related("area", "programme")
        .order_by("month", "area_path", "programme__code")
    )


def _communes(cycles: list[PaymentCycle]) -> list[Area]:
    """The current demo communes with beneficiaries, and the communes of the funded cycles' lines
    (the pre-2025 communes of the 2023 pilot months)."""
    from ansinh.demo.organisations import CURRENT_PILOT_COMMUNES
    from ansinh.registry.models import Beneficiary

    with_people = Beneficiary.objects.values("commune_id")
    current = Area.objects.filter(
        tree=Tree.CURRENT, level=Level.COMMUNE, code__in=CURRENT_PILOT_COMMUNES, pk__in=with_people
    )
    paid = PayrollLine.objects.filter(cycle__in=[c.pk for c in cycles]).values("commune_id")
    by_lines = Area.objects.filter(level=Level.COMMUNE, pk__in=paid)
    found = {a.pk: a for a in [*current, *by_lines]}
    return sorted(found.values(), key=lambda a: (a.tree != Tree.CURRENT, a.code))


def _villages(commune: Area) -> list[Area]:
    return list(Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key", "pk"))


def _rng(*parts) -> random.Random:
    return random.Random(":".join([SEED, *map(str, parts)]))


def _draw(*parts) -> float:
    """A number in [0, 1) fixed by `parts` (the same on every run and machine)."""
    digest = hashlib.sha256(":".join([SEED, *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- places ---------------------------------------------------------------------------------------


def _kind_name(commune: Area) -> str:
    return (commune.division_type or "xã").lower()


def _places_wanted(commune: Area, atm: bool, staff: list[User]) -> tuple[list[pay_points.PayPointInput], str]:
    """The pay points of a commune and the name of its route."""
    villages = _villages(commune)
    label = f"{_kind_name(commune)} {commune.name}"
    first = villages[0].full_name if villages else commune.name
    post = pay_points.PayPointInput(
        name=f"Bưu điện văn hóa {label}",
        kind=PayPointKind.POST_OFFICE,
        address=f"Đường trung tâm, {first}, {label}",
        atm_nearby=True,
        atm_note="Cây ATM Agribank cạnh bưu điện, cách khoảng 50 m.",
        staff=staff,
        contact="Nhân viên bưu điện văn hóa (dữ liệu minh họa)",
    )
    hall = pay_points.PayPointInput(
        name=f"Hội trường UBND {label}",
        kind=PayPointKind.COMMUNE_HALL,
        address=f"Trụ sở UBND {label}",
        atm_nearby=False,
        staff=staff,
        contact="Văn phòng UBND (dữ liệu minh họa)",
    )
    route = f"Chi trả tại nhà – {commune.name}"
    if commune.code == HOME_COMMUNE and commune.tree == Tree.CURRENT and len(villages) >= 2:
        half = (len(villages) + 1) // 2
        post.villages, hall.villages = villages[:half], villages[half:]
        return [post, hall], route
    return [post if atm else hall], route


def _ensure_places(commune: Area, manager: User | None, *, atm: bool, staff: list[User]) -> dict:
    made = {"pay_points": 0, "routes": 0}
    wanted, route_name = _places_wanted(commune, atm, staff)
    for data in wanted:
        if not PayPoint.objects.filter(commune=commune, name=data.name).exists():
            pay_points.create_pay_point(actor=manager, commune=commune, data=data)
            made["pay_points"] += 1
    if not DeliveryRoute.objects.filter(commune=commune, name=route_name).exists():
        pay_points.create_route(
            actor=manager,
            commune=commune,
            data=pay_points.RouteInput(name=route_name, villages=_villages(commune), staff=staff),
        )
        made["routes"] += 1
    return made


def _pay_days(place, month: date, deadline: date | None = None) -> list[pay_points.DayInput]:
    """Two working days from the transfers deadline (three at a post office of the current
    communes), within the month."""
    if deadline is None:
        deadline = pay_points.transfers_deadline(place.commune, month)
    is_post = isinstance(place, PayPoint) and place.kind == PayPointKind.POST_OFFICE
    if isinstance(place, DeliveryRoute):
        hours, count, note = (time(13, 30), time(16, 30)), 2, "Đi từng nhà theo danh sách."
    elif is_post:
        count = 3 if place.commune.tree == Tree.CURRENT else 2
        hours, note = (time(7, 30), time(16, 30)), "Nghỉ trưa 11:00–13:30."
    else:
        hours, count, note = (time(7, 30), time(11, 0)), 2, ""
    days: list[pay_points.DayInput] = []
    day = deadline
    while len(days) < count and day.month == month.month:
        if not pay_points.non_working(day):
            days.append(pay_points.DayInput(day=day, opens=hours[0], closes=hours[1], note=note))
        day += timedelta(days=1)
    return days


def _ensure_days(commune: Area, manager: User | None, months: Iterable[date]) -> int:
    made = 0
    places = [
        *PayPoint.objects.filter(commune=commune, active=True).select_related("commune"),
        *DeliveryRoute.objects.filter(commune=commune, active=True).select_related("commune"),
    ]
    months = list(months)
    # the months a place already has days for: one query for the commune, not one per place and month
    has_days = set(
        PayDay.objects.filter(month__in=months)
        .filter(Q(pay_point__commune=commune) | Q(route__commune=commune))
        .values_list("month", "pay_point_id", "route_id")
        .distinct()
    )
    for month in months:
        deadline: date | None = None  # the same for the commune's places: read once a month
        for place in places:
            point = place if isinstance(place, PayPoint) else None
            route = place if isinstance(place, DeliveryRoute) else None
            if (month, getattr(point, "pk", None), getattr(route, "pk", None)) in has_days:
                continue
            if deadline is None:
                deadline = pay_points.transfers_deadline(commune, month)
            days = _pay_days(place, month, deadline)
            if days:
                pay_points.set_pay_days(actor=manager, month=month, days=days, pay_point=point, route=route)
                made += len(days)
    return made


# --- receipts -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """What the loader needs of an entry still to pay (read as values: thousands per cycle)."""

    pk: int
    cash_list_id: int
    beneficiary_id: int
    funeral: bool
    month: date
    cccd: str
    representation_id: int | None
    rep_cccd: str | None
    rep_from: date | None
    rep_to: date | None
    rep_ended: dt.datetime | None


_ROW_FIELDS = (
    "pk",
    "cash_list_id",
    "beneficiary_id",
    "funeral",
    "cycle__month",
    "beneficiary__cccd",
    "representation_id",
    "representation__representative__cccd",
    "representation__valid_from",
    "representation__valid_to",
    "representation__ended_at",
)


def _rows(qs) -> list[_Row]:
    return [_Row(*values) for values in qs.values_list(*_ROW_FIELDS)]


def _when(entry: _Row, days: dict, share: float, now: dt.datetime) -> dt.datetime:
    """A moment during the place's pay days (earlier people on the list come earlier)."""
    place_days = days.get(entry.cash_list_id) or []
    if not place_days:
        moment = timezone.make_aware(dt.datetime.combine(entry.month.replace(day=20), time(9, 0)))
    else:
        d = place_days[min(int(share * len(place_days)), len(place_days) - 1)]
        start = dt.datetime.combine(d.day, d.opens)
        span = (dt.datetime.combine(d.day, d.closes) - start).total_seconds()
        moment = timezone.make_aware(start + timedelta(seconds=int(span * _draw("t", entry.pk) * 0.95)))
    return min(moment, now - timedelta(minutes=5))


def _list_days(cycle: PaymentCycle) -> dict[int, list[PayDay]]:
    out: dict[int, list[PayDay]] = {}
    for cl in CashList.objects.filter(cycle=cycle):
        out[cl.pk] = list(
            PayDay.objects.filter(month=cycle.month, pay_point_id=cl.pay_point_id, route_id=cl.route_id).order_by(
                "day", "opens"
            )
        )
    return out


def _rep_valid(entry: _Row, when: dt.datetime) -> bool:
    """The listed representation is current on the day of the receipt."""
    if not entry.representation_id or entry.rep_ended is not None:
        return False
    day = timezone.localtime(when).date()
    return (entry.rep_from is None or entry.rep_from <= day) and (entry.rep_to is None or entry.rep_to >= day)


def _pay(actor: User, entry: _Row, when: dt.datetime) -> bool:
    """Record the entry paid through the service: to the listed representative when there is
    one, else to the person (the last four digits of the receiver's CCCD checked; a receiver
    without one: the paper checked, in the note)."""
    tries = [_receiver(entry, representative=True)] if _rep_valid(entry, when) else []
    tries.append(_receiver(entry, representative=False))
    for kw in tries:
        try:
            receipts.record_cash_receipt(
                actor=actor,
                entry_id=entry.pk,
                idempotency_key=f"demo-cash-{entry.pk}",
                outcome=ReceiptOutcome.PAID,
                occurred_at=when,
                device="demo",
                **kw,
            )
            return True
        except ValidationError:
            continue
    return False


def _not_paid(actor: User, entry: _Row, reason: str, when: dt.datetime) -> None:
    receipts.record_cash_receipt(
        actor=actor,
        entry_id=entry.pk,
        idempotency_key=f"demo-cash-{entry.pk}",
        outcome=ReceiptOutcome.NOT_PAID,
        reason=reason,
        note=NOT_PAID_NOTES.get(reason, ""),
        occurred_at=when,
        device="demo",
    )


def _pending(cycle: PaymentCycle) -> list[_Row]:
    return _rows(
        CashEntry.objects.filter(cycle=cycle, state=EntryState.PENDING, cash_list__state=CashListState.OPEN)
        .exclude(source=EntrySource.WITHDRAWAL)
        .order_by("cash_list_id", "position", "pk")
    )


def lookup_person(cycle: PaymentCycle):
    """The person kept to pay for the README's lookup example: on the demo commune's post-office
    list of the latest month, with a phone and a CCCD, no representative, the first by CCCD."""
    candidates = (
        CashEntry.objects.filter(
            cycle=cycle,
            funeral=False,
            source=EntrySource.PAYROLL,
            cash_list__pay_point__kind=PayPointKind.POST_OFFICE,
            representation__isnull=True,
        )
        .exclude(beneficiary__phone="")
        .exclude(beneficiary__cccd="")
        .exclude(state=EntryState.CANCELLED)
        .select_related("beneficiary")
        .order_by("beneficiary__cccd")
    )
    return candidates.filter(beneficiary__cccd=LOOKUP_CCCD).first() or candidates.first()


def _record_cycle(cycle: PaymentCycle, actor: User, *, latest: bool, now: dt.datetime, dead: set[int]) -> dict:
    """Record the outcomes of the cycle's entries still to pay (see the module): the first ones
    of each list, the refusals and the deaths one by one through `record_cash_receipt`, the
    rest in bulk (`receipts.record_receipts_bulk`, the same rules)."""
    out: dict[str, int] = defaultdict(int)
    entries = _pending(cycle)
    if not entries:
        return dict(out)
    days = _list_days(cycle)
    keep: set[int] = set()
    special: dict[int, str] = {}
    if latest:
        person = lookup_person(cycle)
        if person is not None:
            keep.add(person.pk)
    else:
        rng = _rng("special", cycle.area.code, f"{cycle.month:%Y-%m}")
        regular = [e for e in entries if not e.funeral and e.beneficiary_id not in dead]
        picked = rng.sample(regular, min(len(regular), REFUSALS + DEATHS))
        for i, e in enumerate(picked):
            special[e.pk] = NotPaidReason.DIED if i < DEATHS else NotPaidReason.REFUSED
    paid_share, absent_share = (LATEST_PAID_SHARE, LATEST_ABSENT_SHARE) if latest else (PAID_SHARE, ABSENT_SHARE)
    first = SERVICE_FIRST if cycle.area.tree == Tree.CURRENT else 1
    one_by_one: list[tuple[_Row, str, dt.datetime]] = []
    bulk: list[tuple[_Row, str, dt.datetime]] = []
    seen_per_list: dict[int, int] = defaultdict(int)
    for e in entries:
        if e.pk in keep or (e.funeral and latest):
            continue  # kept to pay; the funeral organiser comes on a later day
        share = _draw("o", f"{cycle.month:%Y-%m}", e.beneficiary_id, e.funeral)
        reason = NotPaidReason.DIED if e.beneficiary_id in dead else special.get(e.pk, "")
        if not reason and share >= paid_share:
            if latest and share >= paid_share + absent_share:
                continue  # still to pay
            reason = NotPaidReason.ABSENT
        when = _when(e, days, min(share / paid_share, 0.99) if not reason else 0.99, now)
        seen_per_list[e.cash_list_id] += 1
        if reason in (NotPaidReason.DIED, NotPaidReason.REFUSED) or seen_per_list[e.cash_list_id] <= first:
            one_by_one.append((e, reason, when))
        else:
            bulk.append((e, reason, when))
        if reason == NotPaidReason.DIED:
            dead.add(e.beneficiary_id)
    for e, reason, when in one_by_one:
        if not reason:
            if _pay(actor, e, when):
                out["paid"] += 1
            continue
        _not_paid(actor, e, reason, when)
        out[str(reason)] += 1
    for key, n in _bulk(actor, bulk).items():
        out[key] += n
    return dict(out)


def _receiver(entry: _Row, *, representative: bool) -> dict:
    """Who received the money and what the staff typed: the last four digits of the receiver's
    CCCD on record, or, for a receiver without one, the paper checked in the note."""
    if representative:
        cccd, note = entry.rep_cccd or "", REP_PAPER_NOTE
        kind: dict = {"receiver_kind": ReceiverKind.REPRESENTATIVE, "representation_id": entry.representation_id}
    else:
        cccd, note, kind = entry.cccd or "", PAPER_NOTE, {"receiver_kind": ReceiverKind.BENEFICIARY}
    return kind | {"receiver_cccd": cccd[-4:], "note": "" if cccd else note}


def _item(entry: _Row, reason: str, when: dt.datetime, *, representative: bool) -> receipts.ReceiptItem:
    """One line of the paper list: not paid with its reason, or paid to the receiver chosen."""
    kw: dict = (
        {"outcome": ReceiptOutcome.NOT_PAID, "reason": reason, "note": NOT_PAID_NOTES.get(reason, "")}
        if reason
        else {"outcome": ReceiptOutcome.PAID, **_receiver(entry, representative=representative)}
    )
    return receipts.ReceiptItem(
        entry_id=entry.pk, idempotency_key=f"demo-cash-{entry.pk}", occurred_at=when, device="demo", **kw
    )


def _bulk(actor: User, decisions: list[tuple[_Row, str, dt.datetime]]) -> dict[str, int]:
    """The receipts of a whole list at once through `receipts.record_receipts_bulk` (the same
    rules as one by one, set-based): paid to the listed representative where one is current on
    the day, else to the person; a representative refused is tried again as the person, as `_pay`
    does. Counts by outcome of the receipts recorded set-based, and "one_by_one" for the items the
    service recorded one by one (a conflict, a refusal)."""
    out: dict[str, int] = defaultdict(int)
    todo = [(e, reason, when, not reason and _rep_valid(e, when)) for e, reason, when in decisions]
    while todo:
        result = receipts.record_receipts_bulk(
            actor=actor, items=[_item(e, reason, when, representative=rep) for e, reason, when, rep in todo]
        )
        one_by_one, known = set(result.one_by_one), set(result.known)
        for i, receipt in enumerate(result.receipts):
            if receipt is None or i in known:
                continue
            if i in one_by_one:
                out["one_by_one"] += 1
            else:
                out[str(todo[i][1]) or "paid"] += 1
        # a representative refused: the person, as `_pay` does
        todo = [(e, reason, when, False) for i, (e, reason, when, rep) in enumerate(todo) if rep and i in result.errors]
    return dict(out)


# --- withdrawals ----------------------------------------------------------------------------------


def _withdrawals(cycle: PaymentCycle, actor: User, now: dt.datetime) -> dict:
    """Account holders of the latest month at the demo commune's pay points."""
    from ansinh.disbursement.models import Instruction, InstructionState

    out = {"served": 0, "cannot": 0, "paid_in_cash": 0}
    if Withdrawal.objects.filter(cycle=cycle).exists():
        return out
    points = list(PayPoint.objects.filter(commune=cycle.area, active=True).prefetch_related("villages"))
    if not points:
        return out
    by_village = {v.pk: p for p in points for v in p.villages.all()}
    credited = list(
        Instruction.objects.filter(line__cycle=cycle, state=InstructionState.CREDITED, line__line_type="regular")
        .select_related("line__beneficiary")
        .order_by("pk")
    )
    rng = _rng("withdrawals", cycle.pk)
    chosen = rng.sample(credited, min(len(credited), SERVED_WITHDRAWALS + len(CANNOT)))
    days = {p.pk: list(PayDay.objects.filter(pay_point=p, month=cycle.month).order_by("day")) for p in points}
    for n, instruction in enumerate(chosen):
        b = instruction.line.beneficiary
        point = by_village.get(b.village_id) or points[0]
        point_days = days.get(point.pk) or []
        if point_days:
            d = point_days[n % len(point_days)]
            when = timezone.make_aware(dt.datetime.combine(d.day, d.opens) + timedelta(minutes=7 * (n % 30)))
        else:
            when = timezone.make_aware(dt.datetime.combine(cycle.month.replace(day=20), time(8, 0)))
        when = min(when, now - timedelta(minutes=5))
        key = f"demo-wd-{cycle.pk}-{b.pk}"
        if n < len(CANNOT):
            reason, note = CANNOT[n]
            w = withdrawals.record_withdrawal(
                actor=actor,
                pay_point=point,
                beneficiary=b,
                idempotency_key=key,
                outcome=WithdrawalOutcome.CANNOT,
                reason=reason,
                note=note,
                occurred_at=when,
            )
            out["cannot"] += 1
            if n == 0 and w.cash_entry_id:  # the first one was paid the same day at the counter
                entry = _rows(CashEntry.objects.filter(pk=w.cash_entry_id, state=EntryState.PENDING))
                if entry and _pay(actor, entry[0], when + timedelta(minutes=20)):
                    out["paid_in_cash"] += 1
        else:
            means = WithdrawalMeans.CARD if rng.random() < 0.6 else WithdrawalMeans.CCCD_SMS
            withdrawals.record_withdrawal(
                actor=actor,
                pay_point=point,
                beneficiary=b,
                idempotency_key=key,
                outcome=WithdrawalOutcome.SERVED,
                means=means,
                amount=instruction.amount,
                occurred_at=when,
            )
            out["served"] += 1
    return out


def _temporary_roles(grants: Sequence[tuple[User, str]], areas: list[Area]):
    """`payroll.demo`'s: the roles held while the loader acts, then revoked (both audited)."""
    from ansinh.payroll.demo import _pilot_roles

    return _pilot_roles(grants, areas)


# --- the loader -----------------------------------------------------------------------------------


def _places_and_lists(cycles: list[PaymentCycle], today: date) -> dict:
    officer, other = _user(COMMUNE_OFFICER), _user(OTHER_OFFICER)
    communes = _communes(cycles)
    out: dict = defaultdict(int)
    out["communes"] = len(communes)
    months_of: dict[int, set[date]] = defaultdict(set)
    for commune_id, month in (
        PayrollLine.objects.filter(cycle__in=[c.pk for c in cycles])
        .values_list("commune_id", "cycle__month")
        .distinct()
        .order_by()
    ):
        months_of[commune_id].add(month)
    this_month = today.replace(day=1)
    current = [c for c in communes if c.tree == Tree.CURRENT]
    atm_codes = {c.code for c in current[:ATM_COMMUNES]}
    for commune in communes:
        months = set(months_of[commune.pk])
        if commune.tree == Tree.CURRENT:
            months.add(this_month)
            atm = commune.code in atm_codes
        else:
            atm = _draw("atm", commune.code) < 0.4
        # the commune's officer where the demo has one, else a system run
        manager = next((u for u in (officer, other) if _may_manage(u, commune)), None)
        with transaction.atomic():
            staff = list(pay_points.staff_candidates(commune))
            made = _ensure_places(commune, manager, atm=atm, staff=staff)
            out["pay_points"] += made["pay_points"]
            out["routes"] += made["routes"]
            out["pay_days"] += _ensure_days(commune, manager, sorted(months))
    for cycle in cycles:
        if CashList.objects.filter(cycle=cycle).exists():
            continue
        actor = officer if officer is not None and lists.may_build(officer, cycle) else None
        result = lists.build_cash_lists(actor=actor, cycle=cycle)
        out["cash_lists"] += len(result.lists)
        out["entries"] += result.created
    return dict(out)


def load_demo_cash_lists(today: date | None = None) -> dict:
    """The places, their days and the cash lists of every funded cycle (see the module)."""
    today = today or timezone.localdate()
    return {"communes": 0, "entries": 0} | _places_and_lists(_funded_cycles(), today)


def load_demo_cash(today: date | None = None) -> dict:
    """Pay points, days, cash lists, receipts, closings and withdrawals of the demo (see the
    module). Returns counts of what was added and the seconds it took."""
    started = clock.monotonic()
    today = today or timezone.localdate()
    cycles = _funded_cycles()
    out: dict = {"communes": 0, "entries": 0} | _places_and_lists(cycles, today)
    staff = _user(PROVIDER_STAFF)
    if staff is not None:
        legacy = [c for c in cycles if c.area.tree != Tree.CURRENT and _has_open_lists(c)]
        districts = sorted({c.area for c in legacy if c.area.level == Level.DISTRICT}, key=lambda a: a.code)
        grants = [(staff, Role.PROVIDER_STAFF)] if districts else []
        with _temporary_roles(grants, districts):
            _receipts(cycles, staff=staff, out=out)
    out["seconds"] = round(clock.monotonic() - started, 1)
    return out


def _has_open_lists(cycle: PaymentCycle) -> bool:
    return CashList.objects.filter(cycle=cycle, state=CashListState.OPEN).exists()


def _receipts(cycles: list[PaymentCycle], *, staff: User, out: dict) -> None:
    now = timezone.now()
    latest_month = max((c.month for c in cycles if c.area.tree == Tree.CURRENT), default=None)
    dead: dict[str, set[int]] = defaultdict(set)
    for cycle in cycles:
        if not _may_record(staff, cycle.area) or not _has_open_lists(cycle):
            continue
        latest = cycle.month == latest_month and cycle.area.tree == Tree.CURRENT
        with transaction.atomic():
            recorded = _record_cycle(cycle, staff, latest=latest, now=now, dead=dead[cycle.area_path])
            for reason, n in recorded.items():
                out[f"receipts_{reason}"] = out.get(f"receipts_{reason}", 0) + n
            if latest:
                for key, n in _withdrawals(cycle, staff, now).items():
                    out[f"withdrawals_{key}"] = out.get(f"withdrawals_{key}", 0) + n
            else:
                for cl in CashList.objects.filter(cycle=cycle, state=CashListState.OPEN).order_by("pk"):
                    closed = closing.close_cash_list(actor=staff, cash_list=cl)
                    out["lists_closed"] = out.get("lists_closed", 0) + 1
                    out["returned"] = out.get("returned", 0) + closed["returned"]
