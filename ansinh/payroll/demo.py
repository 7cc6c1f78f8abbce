"""Demo payment cycles and provider contracts (An Giang). Idempotent.

- The 2023 pilot contract of each pilot district office (Châu Đốc 884, Tịnh Biên 890) with its
  post office: the second half of 2023 (a six-month contract, as the plan says), 5,000 đồng per
  beneficiary paid per month (plan 360/KH-UBND).
- Since 2024 the fee is a percentage of the amount paid set by each province. DEMO DATA: the
  figure used here, 150 basis points (1.5 %), is invented for the demo, not An Giang's decision;
  one contract a year between each current pilot commune's People's Committee and Bưu điện tỉnh
  An Giang.
- The cycles of the current month for the current province (91) are opened; the change lists of
  those with beneficiaries (the programmes with claims in the demo) are built and left in draft,
  open for changes.
- History, so that every screen has some (`load_demo_history`): the three months before the
  current one are run through the whole cycle up to "funded" for the demo's commune, Phường Châu
  Đốc (30316), the only current commune where the demo has a user for every step. Only its
  cycles of the programmes with claims are opened for those months (the other communes of the
  province have no officer, preparer or approver in the demo, so their past cycles would stay
  open for ever). Every step goes through the services, in order, as the demo user who holds its
  capability: canbo.xa (commune officer) submits the commune's list and records the decisions,
  the system builds the lists (as the nightly `build_change_lists` does), canbo.phong (office
  officer, payroll.prepare) accepts, appraises, generates, makes the funding request and records
  the treasury's advance, and lanhdao.phong approves with a code of the demo's documented
  authenticator (`payments.demo_approvals.DEMO_TOTP_SECRET`), never the one who generated.
  A little realistic history, seeded and small: in the second month the commune misses its
  deadline and the office generates with its last accepted list (`changelists.use_last_accepted`);
  before the third month three decisions are recorded late: a death in the first month with the
  funeral organiser (the funeral support line, and a receivable for the month paid after the
  death), a condition that became extremely severe in the first month (arrears) and one that
  became less severe (a recovery deducted from the payment).
- The pilot months July–September 2023 (`load_pilot_history`): the same steps for the cycles of
  the two pilot district offices (Châu Đốc 884, Tịnh Biên 890) of pre-2025 An Giang (89), once
  payroll scopes a pre-2025 cycle by its beneficiaries' pre-2025 commune (`payroll.scope`, used by
  `generation`; until then it is skipped). Who acts in 2023: the demo has no user on the pre-2025
  tree (its district offices are history), so the communes' lists are built and submitted as a
  system run (actor None, which those services allow), and the demo's office officer and approver
  (canbo.phong, lanhdao.phong: "the same logins and names as before the reform") get the office
  roles on the two pilot districts for as long as the demo acts (assigned and revoked through
  `accounts.services`, both audited), because appraising, approving with a TOTP code and funding
  need a signed-in person holding the capability in the cycle's area.

Timestamps are those of the load: the past months' lists are submitted (and marked late) on the
day the demo is loaded. The demo approver's device is put back on real time after the loader's
approvals (see `_approver_codes`)."""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from ansinh.accounts.models import Function, OrgKind, OrgUnit, Responsibility, RoleAssignment, User
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_role, revoke_role
from ansinh.areas.models import Area, Level, Tree
from ansinh.payments.models import Institution
from ansinh.policy.models import Kind, Programme
from ansinh.registry.inputs import CategoryInput
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Decision, DecisionKind, StopReason
from ansinh.registry.models import Status as RegistryStatus
from ansinh.registry.rules import add_months

from . import changelists
from .models import (
    ChangeList,
    ChangeListState,
    ContractPurpose,
    CycleDeadline,
    CycleState,
    DeadlineKind,
    FeeKind,
    PaymentCycle,
    ProviderContract,
)
from .services import ContractInput, create_contract, open_cycles

DEMO_PERCENT_BASIS_POINTS = 150  # demo value, not a published rate
PILOT_FLAT_FEE = 5_000  # đồng per beneficiary paid per month, An Giang 2023 (plan 360/KH-UBND)
WRONG_PAYMENTS = (
    "Bưu điện phối hợp với UBND cấp xã rà soát, thu hồi khoản chi sai chế độ và chuyển trả vào tài khoản "
    "của đơn vị chi trả trước ngày 20 tháng sau (dữ liệu minh họa)."
)


def _province(tree: str, code: str) -> Area | None:
    return Area.objects.filter(tree=tree, code=code, level=Level.PROVINCE).first()


def _contract(data: ContractInput) -> bool:
    exists = ProviderContract.objects.filter(
        paying_unit=data.paying_unit, purpose=data.purpose, valid_from=data.valid_from
    ).exists()
    if not exists:
        create_contract(actor=None, data=data)
    return not exists


def _funded_account(provider: OrgUnit) -> dict:
    """The provider's funded account the transfers are paid from (demo: at Agribank, a number
    made from the provider's id; no real account)."""
    institution = Institution.objects.filter(code="VBA").first()
    if institution is None:
        return {}
    return {"provider_account_number": f"7100{provider.pk:09d}", "provider_institution": institution}


def _pilot_contracts() -> int:
    """2023: each district office with its district post office."""
    made = 0
    offices = Responsibility.objects.filter(
        function=Function.APPROVE, area__tree=Tree.LEGACY, org_unit__kind=OrgKind.APPROVING_OFFICE
    ).select_related("org_unit__area", "area")
    for resp in offices:
        post = OrgUnit.objects.filter(kind=OrgKind.PROVIDER, area=resp.org_unit.area).first()
        if post is None:
            continue
        made += _contract(
            ContractInput(
                number=f"HĐ-{resp.area.code}/2023",
                paying_unit=resp.org_unit,
                provider=post,
                areas=[resp.area],
                purpose=ContractPurpose.REGULAR,
                valid_from=date(2023, 7, 1),
                valid_to=date(2023, 12, 31),
                signed_on=date(2023, 6, 26),
                fee_kind=FeeKind.FLAT,
                fee_flat=PILOT_FLAT_FEE,
                **_funded_account(post),
                wrong_payments=WRONG_PAYMENTS,
                note="Dữ liệu minh họa theo Kế hoạch 360/KH-UBND (hợp đồng 6 tháng cuối năm 2023).",
            )
        )
    return made


def _current_contracts(year: int) -> int:
    """Since the reform: each commune that approves, with the post office paying there."""
    made = 0
    approving = Responsibility.objects.filter(function=Function.APPROVE, area__tree=Tree.CURRENT).select_related(
        "org_unit__area", "area"
    )
    for resp in approving:
        pay = (
            Responsibility.objects.filter(function=Function.PAY, area=resp.area, org_unit__kind=OrgKind.PROVIDER)
            .select_related("org_unit")
            .first()
        )
        if pay is None:
            continue
        made += _contract(
            ContractInput(
                number=f"HĐ-{resp.area.code}/{year}",
                paying_unit=resp.org_unit,
                provider=pay.org_unit,
                areas=[resp.area],
                purpose=ContractPurpose.REGULAR,
                valid_from=date(year, 1, 1),
                valid_to=date(year, 12, 31),
                signed_on=date(year - 1, 12, 20),
                fee_kind=FeeKind.PERCENT,
                fee_basis_points=DEMO_PERCENT_BASIS_POINTS,
                **_funded_account(pay.org_unit),
                wrong_payments=WRONG_PAYMENTS,
                note="DỮ LIỆU MINH HỌA: mức phí 1,5% số tiền chi trả là giả định, không phải quyết định của tỉnh.",
            )
        )
    return made


def demo_programmes() -> list[Programme]:
    """The programmes with monthly allowances that someone in the registry claims (BTXH in the
    demo): the only ones whose cycles have beneficiaries."""
    claimed = BeneficiaryCategory.objects.values("category__programme_id")
    return list(Programme.objects.filter(categories__kind=Kind.MONTHLY, pk__in=claimed).distinct().order_by("code"))


def load_demo_cycles(today: date | None = None) -> dict:
    """The contracts, the history (the pilot months of 2023, then the three months before the
    current one) and the current month's cycles, open for changes with their lists in draft."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    history = [add_months(month, -n) for n in range(HISTORY_MONTHS, 0, -1)]
    with transaction.atomic():
        contracts = _pilot_contracts()
        for year in sorted({m.year for m in [*history, month]}):
            contracts += _current_contracts(year)
    _refresh_statistics()
    pilot = load_pilot_history(today=today)
    recent = load_demo_history(history, today=today)
    province = _province(Tree.CURRENT, CURRENT_PROVINCE)
    cycles: dict = {}
    drafts = 0
    if province is not None:
        with transaction.atomic():
            cycles = open_cycles(actor=None, month=month, area=province)
            drafts = _draft_lists(month, province)
    return {
        "contracts_created": contracts,
        "cycles": cycles,
        "draft_lists_built": drafts,
        "history": recent,
        "pilot": pilot,
    }


def _refresh_statistics() -> None:
    """PostgreSQL: the registry was just bulk-loaded and autovacuum has not analysed it yet;
    without statistics the planner picks nested loops and a generation takes seconds instead of
    a fraction of one. ANALYZE the tables the cycle reads (under a second for the demo)."""
    if connection.vendor != "postgresql":
        return
    from ansinh.payments.models import PayeeDesignation, PaymentMethod, ReceivingAccount
    from ansinh.registry.models import Representation, StatusChange

    models = (
        Beneficiary,
        BeneficiaryCategory,
        StatusChange,
        Decision,
        Representation,
        PaymentMethod,
        PayeeDesignation,
        ReceivingAccount,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models))


def _draft_lists(month: date, province: Area) -> int:
    """The current month's change lists of the cycles with beneficiaries, built by the system (as
    the nightly `build_change_lists` does) and left in draft; once only (a rebuild is audited)."""
    built = 0
    cycles = PaymentCycle.objects.filter(
        month=month, area_path__startswith=province.path, programme__in=demo_programmes(), state=S.OPEN
    ).order_by("area_path", "pk")
    for cycle in cycles:
        if not ChangeList.objects.filter(cycle=cycle).exists():
            changelists.build_change_lists(actor=None, cycle=cycle)
            built += 1
    return built


# --- the history: the cycle run month by month through the services -----------------------------

HISTORY_MONTHS = 3
CURRENT_PROVINCE = "91"
HOME_COMMUNE = "30316"  # Phường Châu Đốc: where the demo's users work (ansinh.demo.organisations)
COMMUNE_OFFICER, PREPARER, APPROVER = "canbo.xa", "canbo.phong", "lanhdao.phong"
MISSED_DEADLINE = 2  # in the second history month the commune misses its deadline
EVENTS_BEFORE = 3  # the late decisions are recorded before the third history month
SEED = "ansinh-demo-payroll"
S = CycleState
DONE = (S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING, S.SETTLED, S.CLOSED)
PILOT_PROVINCE = "89"
PILOT_DISTRICTS = ("884", "890")
PILOT_MONTHS = (date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1))


@dataclass
class Actors:
    """Who takes each step; None is a system run where the service allows it."""

    submitter: User | None
    preparer: User
    approver: User


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _next_code(device) -> str:
    """A code the device accepts now: django-otp accepts a code once and never one older than
    the last accepted, within its tolerance of the current 30-second step (following the drift
    it learnt). The loader approves several payrolls within seconds, so each code is that of the
    step after the last accepted one; `_approver_codes` puts the device back afterwards."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    now = totp.t()
    target = max(device.last_t + 1, now - device.tolerance)
    totp.time += (target - now) * device.step
    return f"{totp.token():0{device.digits}d}"


@contextmanager
def _approver_codes(approver: User) -> Iterator:
    """The demo approver's device while the loader approves, then put back as it was (drift and
    last accepted step), so that a visitor who adds the documented secret to an app can approve
    at once: the loader's codes, a few steps ahead of the clock, would otherwise shift the
    device's time. Only the demo's published secret is treated so."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=approver, confirmed=True).order_by("pk").first()
    saved = (device.drift, device.last_t) if device is not None else None
    try:
        yield device
    finally:
        if device is not None and saved is not None:
            TOTPDevice.objects.filter(pk=device.pk).update(drift=saved[0], last_t=saved[1])


def _approve(cycle: PaymentCycle, approver: User, device) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .approval import approve_payroll

    device = TOTPDevice.objects.get(pk=device.pk)  # the last accepted step, as verification saved it
    approve_payroll(actor=approver, cycle=cycle, token=_next_code(device))


def _due(cycle: PaymentCycle, kind: str) -> date:
    return CycleDeadline.objects.get(cycle=cycle, kind=kind).due_date


def run_cycle(cycle: PaymentCycle, actors: Actors, device, *, missed: Collection[int] = (), today: date) -> str:
    """Take one cycle from wherever it is to "funded", each step through its service and as the
    user who holds its capability: the lists built (system) and submitted (the commune; the
    communes in `missed` miss their deadline and the office uses their last accepted list), the
    lists accepted and the cycle appraised, the payroll generated, approved with a TOTP code by a
    second person, the funding request made and the treasury's advance recorded. Idempotent:
    a funded cycle is left alone. Returns the cycle's state."""
    from .approval import is_approved
    from .funding import make_funding_request, record_advance
    from .generation import generate_payroll

    cycle.refresh_from_db()
    if cycle.state in DONE:
        return cycle.state
    if cycle.state == S.OPEN:
        changelists.build_change_lists(actor=None, cycle=cycle)
        for cl in ChangeList.objects.filter(cycle=cycle, state__in=changelists.EDITABLE, used_previous=False).order_by(
            "area_path"
        ):
            if cl.commune_id in missed:
                changelists.use_last_accepted(actor=actors.preparer, change_list=cl, today=today)
            else:
                changelists.submit(actor=actors.submitter, change_list=cl)
        cycle.refresh_from_db()
    if cycle.state == S.CHANGES_SUBMITTED:
        for cl in ChangeList.objects.filter(cycle=cycle, state=ChangeListState.SUBMITTED).order_by("area_path"):
            changelists.accept(actor=actors.preparer, change_list=cl)
        changelists.appraise(actor=actors.preparer, cycle=cycle)
        cycle.refresh_from_db()
    if cycle.state == S.APPRAISED:
        generate_payroll(actor=actors.preparer, cycle=cycle)
        cycle.refresh_from_db()
    if cycle.state == S.PAYROLL_GENERATED and not is_approved(cycle.pk):
        _approve(cycle, actors.approver, device)
        cycle.refresh_from_db()
    if cycle.state == S.APPROVED:
        code = cycle.area.code
        funding = make_funding_request(
            actor=actors.preparer, cycle=cycle, number=f"{cycle.month:%m}/{cycle.month:%Y}/ĐNTƯ-{code}"
        )
        if funding.total <= 0:  # nobody to pay (a tiny test registry): no advance to record
            return cycle.state
        record_advance(
            actor=actors.preparer,
            cycle=cycle,
            amount=funding.total,
            received_on=_due(cycle, DeadlineKind.PAYROLL_FUNDING),
            reference=f"KBNN-{cycle.month:%Y%m}-{code}-{cycle.programme.code}",
        )
        cycle.refresh_from_db()
    return cycle.state


def load_demo_history(months: list[date], *, today: date) -> dict:
    """The months before the current one, in order, for the demo's commune (see the module's
    docstring). Each month is one transaction. Returns the state of each month's cycles."""
    commune = Area.objects.filter(tree=Tree.CURRENT, level=Level.COMMUNE, code=HOME_COMMUNE).first()
    submitter, preparer, approver = _user(COMMUNE_OFFICER), _user(PREPARER), _user(APPROVER)
    programmes = demo_programmes()
    if commune is None or submitter is None or preparer is None or approver is None or not programmes:
        return {"skipped": "no demo commune, users or claims"}
    actors = Actors(submitter=submitter, preparer=preparer, approver=approver)
    out: dict[str, list[str]] = {}
    with _approver_codes(approver) as device:
        if device is None:
            return {"skipped": "the demo approver has no authenticator device"}
        for n, month in enumerate(months, start=1):
            with transaction.atomic():
                open_cycles(actor=None, month=month, area=commune, programmes=programmes)
                cycles = list(
                    PaymentCycle.objects.filter(
                        month=month, area_path__startswith=commune.path, programme__in=programmes
                    ).order_by("programme__code")
                )
                if n == EVENTS_BEFORE and any(c.state == S.OPEN for c in cycles):
                    _late_decisions(commune, submitter, first=months[0], now=month)
                missed = {commune.pk} if n == MISSED_DEADLINE else set()
                out[f"{month:%Y-%m}"] = [run_cycle(c, actors, device, missed=missed, today=today) for c in cycles]
    return out


# --- the late decisions (recorded before the third month, about the first) -------------------------

DEMO_NOTE = "Dữ liệu minh họa."
DEATH_NUMBER, UP_NUMBER, DOWN_NUMBER = "1187/QĐ-UBND", "1188/QĐ-UBND", "1189/QĐ-UBND"
ORGANISERS = (("Văn", "Hùng"), ("Thị", "Thu Hằng"), ("Văn", "Phước"), ("Thị", "Ngọc Mai"), ("Minh", "Trí"))


def _candidates(commune: Area, code: str, condition: str = "", *, started_by: date):
    """Receiving beneficiaries of the commune with one claim in force (of `code` and
    `condition`) since `started_by` at the latest, no representative, no pending account change,
    in a stable order."""
    single = BeneficiaryCategory.objects.filter(to_month__isnull=True).values("beneficiary_id")
    claim = BeneficiaryCategory.objects.filter(category__code=code, to_month__isnull=True)
    if condition:
        claim = claim.filter(condition=condition)
    others = BeneficiaryCategory.objects.filter(to_month__isnull=True).exclude(category__code=code)
    return (
        Beneficiary.objects.filter(commune=commune, status=RegistryStatus.ACTIVE, ethnicity="Kinh", pk__in=single)
        .filter(start_month__lte=started_by)
        .filter(pk__in=claim.values("beneficiary_id"))
        .exclude(pk__in=others.values("beneficiary_id"))
        .exclude(representations__isnull=False)
        .exclude(account_changes__isnull=False)
        .order_by("pk")
    )


def _pick(rng: random.Random, qs) -> Beneficiary | None:
    ids = list(qs.values_list("pk", flat=True)[:500])
    return Beneficiary.objects.get(pk=rng.choice(ids)) if ids else None


def _decided(commune: Area, number: str, signed: date) -> bool:
    return Decision.objects.filter(number=number, signed_on=signed, beneficiary__commune=commune).exists()


def _late_decisions(commune: Area, officer: User, *, first: date, now: date) -> int:
    """Recorded by the commune officer in month `now` (signed on its 5th) about events of month
    `first`, after that month's payroll: a death (with the funeral organiser), a condition that
    became extremely severe and one that became less severe. Each once (by its number and date)."""
    from ansinh.registry.services import record_decision

    rng = random.Random(f"{SEED}-{first:%Y-%m}")
    signed = now.replace(day=5)
    made = 0
    if not _decided(commune, DEATH_NUMBER, signed):
        person = _pick(rng, _candidates(commune, "D20.5.5.c", started_by=first))
        if person is not None:
            family = person.full_name.split(" ", 1)[0]
            middle, given = rng.choice(ORGANISERS)
            organiser = f"{family} {middle} {given}"
            record_decision(
                actor=officer,
                beneficiary=person,
                kind=DecisionKind.STOP,
                number=DEATH_NUMBER,
                signed_on=signed,
                reason=StopReason.DIED,
                death_date=first.replace(day=17),
                note=f"Gia đình báo tử muộn. {DEMO_NOTE}",
                funeral={"organiser_name": organiser, "relationship": "Con"},
            )
            made += 1
    for number, before, after, why in (
        (
            UP_NUMBER,
            "severe:adult",
            "extremely_severe:adult",
            "Hội đồng xác định lại mức độ khuyết tật: đặc biệt nặng.",
        ),
        (DOWN_NUMBER, "extremely_severe:adult", "severe:adult", "Hội đồng xác định lại mức độ khuyết tật: nặng."),
    ):
        if _decided(commune, number, signed):
            continue
        person = _pick(rng, _candidates(commune, "D20.5.6", before, started_by=first))
        if person is None:
            continue
        record_decision(
            actor=officer,
            beneficiary=person,
            kind=DecisionKind.ADJUST,
            number=number,
            signed_on=signed,
            event_date=first.replace(day=8),
            categories=[CategoryInput(code="D20.5.6", condition=after)],
            note=f"{why} {DEMO_NOTE}",
        )
        made += 1
    return made


# --- the pilot months of 2023 (pre-2025 tree) -------------------------------------------------------


def legacy_scoping_available() -> bool:
    """Whether payroll finds the beneficiaries of a pre-2025 cycle (`payroll.scope`, used by
    `generation`): until then a 2023 cycle would find nobody, and its history is not run."""
    if importlib.util.find_spec("ansinh.payroll.scope") is None:
        return False
    from . import generation

    return any(
        getattr(value, "__name__", "") == "ansinh.payroll.scope"
        or getattr(value, "__module__", "") == "ansinh.payroll.scope"
        for value in vars(generation).values()
    )


@contextmanager
def _pilot_roles(users: Sequence[tuple[User, str]], districts: list[Area]) -> Iterator[None]:
    """The demo's office officer and approver hold the office roles on the pilot districts while
    the loader acts on the 2023 cycles (assigned, then revoked: both audited)."""
    made: list[RoleAssignment] = []
    with transaction.atomic():
        for user, role in users:
            for district in districts:
                if not RoleAssignment.objects.active().filter(user=user, role=role, area=district).exists():
                    made.append(assign_role(actor=None, user=user, role=role, area=district))
    try:
        yield
    finally:
        with transaction.atomic():
            for assignment in made:
                revoke_role(actor=None, assignment=assignment)


def load_pilot_history(*, today: date) -> dict:
    """July–September 2023 for the two pilot district offices (see the module's docstring)."""
    if not legacy_scoping_available():
        return {"skipped": "payroll does not scope pre-2025 cycles yet (ansinh.payroll.scope)"}
    province = _province(Tree.LEGACY, PILOT_PROVINCE)
    preparer, approver = _user(PREPARER), _user(APPROVER)
    programmes = demo_programmes()
    if province is None or preparer is None or approver is None or not programmes:
        return {"skipped": "no pre-2025 province, demo users or claims"}
    districts = list(
        Area.objects.filter(tree=Tree.LEGACY, level=Level.DISTRICT, code__in=PILOT_DISTRICTS).order_by("code")
    )
    cycles_of = PaymentCycle.objects.filter(area__in=districts, month__in=PILOT_MONTHS, programme__in=programmes)
    if cycles_of.filter(state__in=DONE).count() == len(PILOT_MONTHS) * len(districts) * len(programmes):
        return {"funded_cycles": cycles_of.count()}  # nothing to do: no roles to assign
    actors = Actors(submitter=None, preparer=preparer, approver=approver)
    out: dict[str, list[str]] = {}
    roles = [(preparer, Role.OFFICE_OFFICER), (approver, Role.APPROVER)]
    with _pilot_roles(roles, districts), _approver_codes(approver) as device:
        if device is None:
            return {"skipped": "the demo approver has no authenticator device"}
        for month in PILOT_MONTHS:
            with transaction.atomic():
                open_cycles(actor=None, month=month, area=province, programmes=programmes)
                cycles = list(cycles_of.filter(month=month).order_by("area_path", "programme__code"))
                out[f"{month:%Y-%m}"] = [run_cycle(c, actors, device, today=today) for c in cycles]
    return out
