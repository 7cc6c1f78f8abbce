"""Demo payment data (called by load_demo once the demo registry is in the current tree): how
each beneficiary of the two pilot units is paid, so that the pilot's situation is visible.

- Every receiving beneficiary gets a payment method from a month in 2023 (the pilot), or from
  their start month when they started later; cash records its reason: frail or cannot-travel
  people (registry flags) are paid at home, people without a phone at a pay point for that
  reason, the others at a pay point by choice or because they cannot use an account.
- The pilot, July–September 2023 (`payments.demo_pilot`): who opened an account in each month
  and from which month they are paid by account, chosen so that the records give the figures
  of report 3010/BC-SLĐTBXH (Biểu 01–03) for Châu Đốc and Tịnh Biên; with a registry too small
  for them (tests), the plain shares below apply to everyone.
- Besides the pilot's openings, about 14% of Châu Đốc's and 18% of Tịnh Biên's other
  beneficiaries opened an account later (from October 2023) (the shares of report 3010):
  mostly at the post office's partner bank (Nam A Bank), some at
  Agribank or another bank, some e-wallets; held by the payee representative where there is
  one (guardians of children, authorised persons of the elderly), else by the beneficiary.
  Holder names are as banks print them (upper case, no diacritics), a few in another word
  order, a few with a dropped middle name: confirmed by a person (active) or still waiting for
  confirmation (pending). Most account holders are paid by account from the month after the
  account was opened (cash before); a few still choose cash (the "share choosing account
  payment" indicator).
- Deliberate problems for the worklists, in the demo commune (Phường Châu Đốc): a beneficiary
  who died with an active account still paid by account; one account receiving for two
  beneficiaries whose holder represents only one (the pilot's failure 4); beneficiaries
  without a payment method.
- Payee designations from the start month for payees known only by the registry flag (a demo
  registry written before designations existed; the registry's writers record them now).

Seeded (`random.Random`), set-based (insert_rows in chunks, numbers encrypted with one
MultiFernet), idempotent: a second call adds nothing. One summary audit event
(demo.payments.loaded), as the demo registry does.

`load_synthetic_payments` does the same, plainer, for the benchmark provinces of
`load_demo --size N --province CODE`: a payment method for every receiving beneficiary and
about 15% active accounts with unique numbers, chunk by chunk."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.services import record
from ansinh.core.bulk import insert_rows
from ansinh.registry.models import (
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    DecisionKind,
    Representation,
    Status,
    StopReason,
)

from . import crypto, demo_pilot, names
from .models import (
    AccountKind,
    AccountStatus,
    CashReason,
    Institution,
    InstitutionKind,
    Method,
    PayeeDesignation,
    PaymentMethod,
    ReceivingAccount,
)

SEED = "3010/BC-SLĐTBXH:payments"
DEMO_ACTION = "demo.payments.loaded"
SYNTHETIC_ACTION = "demo.payments.synthetic_loaded"
# share of beneficiaries with an active account per pilot unit (report 3010, 2023)
ACCOUNT_SHARES = {"884": 0.14, "890": 0.18}
SYNTHETIC_ACCOUNT_SHARE = 0.15
# where the accounts are: the post office's partner bank mostly (weights)
BANKS = (("NAB", 78), ("VBA", 10), ("VCB", 2), ("BIDV", 2), ("LPB", 2))
WALLETS = (("VTLMONEY", 3), ("VNPTMONEY", 2), ("momo", 1))
CASH_HOLDER_SHARE = 0.07  # account holders who still choose cash
REORDERED_SHARE = 0.03  # holder names printed given name first
WEAK_CONFIRMED_SHARE = 0.02  # holder names with a dropped middle name, confirmed by a person
WEAK_PENDING = 12  # accounts with a weak holder name waiting for confirmation (not active)
WITHOUT_METHOD = 2
CHUNK = 2000
ACTIVE = (Status.ACTIVE, Status.SUSPENDED)


@dataclass
class _Person:
    pk: int
    full_name: str
    start_month: date
    frail: bool
    cannot_travel: bool
    no_phone: bool
    phone: str
    unit: str
    commune: str
    payee: tuple[int, str, str] | None  # representation id, name, phone


def _month_after(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _pick(rng: random.Random, table) -> str:
    return rng.choices([code for code, _w in table], weights=[w for _c, w in table])[0]


def _institutions() -> dict[str, Institution]:
    codes = [c for c, _w in BANKS + WALLETS]
    found = {i.code: i for i in Institution.objects.filter(code__in=codes, active=True)}
    if "NAB" not in found:
        raise RuntimeError("the list of banks has no Nam A Bank (NAB): load the banks first")
    return found


def _wallet_number(rng: random.Random, phone: str) -> str:
    if phone.startswith("+84") and len(phone) == 12:
        return "0" + phone[3:]
    return "09" + "".join(rng.choices("0123456789", k=8))


def _bank_number(rng: random.Random, institution: Institution) -> str:
    length = min(max(13, institution.number_min_length), institution.number_max_length)
    return str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=length - 1))


def _reordered(name: str) -> str:
    """The bank's other word order: the given name first ('ANH NGUYEN THI')."""
    words = name.split()
    return " ".join([words[-1], *words[:-1]]) if len(words) > 1 else name


def _weak(name: str) -> str:
    """A holder name without its middle name(s) ('NGUYEN ANH'): needs a person to confirm."""
    words = name.split()
    return f"{words[0]} {words[-1]}" if len(words) > 2 else name


class _Builder:
    """Collects unsaved accounts and methods; numbers are unique within the load."""

    def __init__(self, rng: random.Random, institutions: dict[str, Institution]):
        self.rng = rng
        self.institutions = institutions
        self.used: set[str] = set()
        self.accounts: list[ReceivingAccount] = []
        self.numbers: list[str] = []
        self.methods: list[PaymentMethod] = []
        self.counts: Counter[str] = Counter()

    def number(self, institution: Institution, phone: str) -> str:
        for _attempt in range(50):
            value = (
                _wallet_number(self.rng, phone)
                if institution.kind == InstitutionKind.WALLET
                else _bank_number(self.rng, institution)
            )
            if value not in self.used:
                self.used.add(value)
                return value
            phone = ""
        raise RuntimeError("could not draw a unique account number")

    def account(
        self,
        p: _Person,
        *,
        status: str,
        opened_on: date,
        name_style: str = "plain",
        number: str | None = None,
        code: str | None = None,
        holder_name: str | None = None,
        holder: int | None | str = "payee",
    ) -> ReceivingAccount:
        code = code or _pick(self.rng, BANKS if self.rng.random() < 0.9 else WALLETS)
        institution = self.institutions.get(code) or self.institutions["NAB"]
        holder_id = (p.payee[0] if p.payee else None) if holder == "payee" else holder
        registered = p.payee[1] if holder_id and p.payee else p.full_name
        phone = p.payee[2] if holder_id and p.payee else p.phone
        shown = holder_name or names.bank_form(registered)
        if name_style == "reordered":
            shown = _reordered(shown)
        elif name_style == "weak":
            shown = _weak(shown)
        value = number or self.number(institution, phone)
        confirmed = status == AccountStatus.ACTIVE and not names.is_strong(names.name_score(shown, registered))
        acc = ReceivingAccount(
            beneficiary_id=p.pk,
            holder_representation_id=holder_id,
            kind=AccountKind.WALLET if institution.kind == InstitutionKind.WALLET else AccountKind.BANK,
            institution=institution,
            last4=value[-4:],
            holder_name=shown,
            name_score=names.name_score(shown, registered),
            name_confirmed_at=timezone.now() if confirmed else None,
            status=status,
            opened_on=opened_on,
        )
        self.accounts.append(acc)
        self.numbers.append(value)
        self.counts[f"accounts_{status}"] += 1
        self.counts["wallets"] += institution.kind == InstitutionKind.WALLET
        self.counts["held_by_representative"] += holder_id is not None
        self.counts["names_confirmed"] += confirmed
        return acc

    def method(self, p: _Person, method: str, month: date, *, reason: str = "", account=None) -> None:
        self.methods.append(
            PaymentMethod(
                beneficiary_id=p.pk,
                method=method,
                cash_reason="" if method == Method.ACCOUNT else reason,
                account=account,
                from_month=month,
            )
        )

    def cash(self, p: _Person) -> tuple[str, str]:
        if p.frail:
            return Method.HOME, CashReason.FRAIL
        if p.cannot_travel:
            return Method.HOME, CashReason.CANNOT_TRAVEL
        if p.no_phone:
            return Method.PAY_POINT, CashReason.NO_PHONE
        return Method.PAY_POINT, CashReason.CHOICE if self.rng.random() < 0.85 else CashReason.NO_ACCOUNT

    def write(self) -> None:
        """Accounts (numbers encrypted with one MultiFernet), then the methods that use them."""
        for acc, enc, digest in zip(
            self.accounts, crypto.encrypt_many(self.numbers), crypto.hash_many(self.numbers), strict=True
        ):
            acc.number_encrypted, acc.number_hash = enc, digest
        for start in range(0, len(self.accounts), CHUNK):
            insert_rows(ReceivingAccount, self.accounts[start : start + CHUNK])
        for pm in self.methods:
            if pm.account is not None:
                pm.account_id = pm.account.pk
        for start in range(0, len(self.methods), CHUNK):
            insert_rows(PaymentMethod, self.methods[start : start + CHUNK])


def _people() -> list[_Person]:
    from ansinh.demo.organisations import CURRENT_PILOT_COMMUNES

    rows = (
        Beneficiary.objects.filter(
            commune__tree=Tree.CURRENT, commune__code__in=CURRENT_PILOT_COMMUNES, status__in=ACTIVE
        )
        .order_by("pk")
        .values_list(
            "pk",
            "full_name",
            "start_month",
            "frail",
            "cannot_travel",
            "no_phone",
            "phone",
            "legacy_commune__parent__code",
            "commune__code",
        )
    )
    payees = {
        b: (pk, name, phone)
        for b, pk, name, phone in Representation.objects.filter(
            beneficiary__commune__tree=Tree.CURRENT,
            beneficiary__commune__code__in=CURRENT_PILOT_COMMUNES,
            is_payee=True,
            ended_at__isnull=True,
        ).values_list("beneficiary_id", "pk", "representative__full_name", "representative__phone")
    }
    return [
        _Person(
            pk=pk,
            full_name=name,
            start_month=start,
            frail=frail,
            cannot_travel=travel,
            no_phone=no_phone,
            phone=phone,
            # the pilot unit of the pre-2025 tree; for people registered since, by commune
            unit=unit or ("884" if commune in ("30316", "30325") else "890"),
            commune=commune,
            payee=payees.get(pk),
        )
        for pk, name, start, frail, travel, no_phone, phone, unit, commune in rows
    ]


def _pilot_accounts(b: _Builder, people: list[_Person], roles: dict) -> None:
    """The pilot's openings and payment methods (`demo_pilot`): an active account at Nam A Bank
    opened on the planned day, cash until the month paid by account; the relatives paid in July
    into a July opener's account get that account's number and holder (a link rejected in
    August: cash that month), then their own account from the month planned."""
    rng = random.Random(f"{SEED}:pilot")
    opened: dict[int, tuple[ReceivingAccount, str]] = {}
    firsts: dict[int, date] = {}
    for p in people:
        role = roles[p.pk]
        acc = b.account(p, status=AccountStatus.ACTIVE, opened_on=role.opened_on, code="NAB")
        opened[p.pk] = (acc, b.numbers[-1])
        firsts[p.pk] = max(p.start_month.replace(day=1), date(2023, rng.randint(3, 6), 1))
        b.counts["pilot_" + role.group] += 1
    for p in people:
        role = roles[p.pk]
        first = firsts[p.pk]
        how, reason = b.cash(p)
        if role.july_into is not None:
            into, number = opened[role.july_into]
            other = b.account(
                p,
                status=AccountStatus.REJECTED,
                opened_on=into.opened_on or role.opened_on,
                code="NAB",
                number=number,
                holder_name=into.holder_name,
                holder=None,
            )
            july, august = demo_pilot.MONTHS[0], demo_pilot.MONTHS[1]
            if first < july:
                b.method(p, how, first, reason=reason)
            b.method(p, Method.ACCOUNT, july, account=other)
            b.method(p, how, august, reason=reason if how != Method.PAY_POINT else CashReason.NO_ACCOUNT)
        elif first < role.account_from:
            b.method(p, how, first, reason=reason)
        b.method(p, Method.ACCOUNT, role.account_from, account=opened[p.pk][0])
        b.counts["paid_by_account"] += 1


def _pilot_decisions(roles: dict) -> int:
    """The pilot's coefficient changes from August 2023 (`demo_pilot`), through the registry."""
    from ansinh.registry.inputs import CategoryInput
    from ansinh.registry.services import record_decision

    adjusted = sorted((pk, r.adjust) for pk, r in roles.items() if r.adjust is not None)
    people = Beneficiary.objects.in_bulk([pk for pk, _a in adjusted])
    made = 0
    for n, (pk, (_before, after)) in enumerate(adjusted, start=1):
        if Decision.objects.filter(beneficiary_id=pk, number=f"{2300 + n}/QĐ-UBND").exists():
            continue
        units = BeneficiaryCategory.objects.filter(
            beneficiary_id=pk, category__code=demo_pilot.ADJUST_CODE, to_month__isnull=True
        ).values_list("units", flat=True)
        record_decision(
            actor=None,
            beneficiary=people[pk],
            kind=DecisionKind.ADJUST,
            number=f"{2300 + n}/QĐ-UBND",
            signed_on=demo_pilot.ADJUST_SIGNED,
            effective_month=demo_pilot.MONTHS[1],
            event_date=demo_pilot.ADJUST_SIGNED - timedelta(days=14),
            categories=[CategoryInput(code=demo_pilot.ADJUST_CODE, condition=after, units=units.first() or 1)],
            note="Hội đồng xác định lại mức độ khuyết tật (dữ liệu minh họa).",
        )
        made += 1
    return made


def _designate_flagged_payees() -> int:
    """Payees known only by the registry flag get their designation from the start month."""
    from ansinh.demo.organisations import CURRENT_PILOT_COMMUNES

    links = Representation.objects.filter(
        beneficiary__commune__tree=Tree.CURRENT,
        beneficiary__commune__code__in=CURRENT_PILOT_COMMUNES,
        is_payee=True,
        ended_at__isnull=True,
    ).filter(~Exists(PayeeDesignation.objects.filter(beneficiary=OuterRef("beneficiary"))))
    rows = [
        PayeeDesignation(beneficiary_id=b, representation_id=pk, from_month=start)
        for pk, b, start in links.values_list("pk", "beneficiary_id", "beneficiary__start_month")
    ]
    for start in range(0, len(rows), CHUNK):
        insert_rows(PayeeDesignation, rows[start : start + CHUNK])
    return len(rows)


def _record_death(p: _Person) -> None:
    """The pilot's failure: a beneficiary died and their account still receives."""
    from ansinh.registry.services import record_decision

    death = max(date(2025, 8, 14), p.start_month + timedelta(days=40))
    record_decision(
        actor=None,
        beneficiary=Beneficiary.objects.get(pk=p.pk),
        kind=DecisionKind.STOP,
        number="DEMO-1/QĐ-UBND",
        signed_on=death + timedelta(days=21),
        reason=StopReason.DIED,
        death_date=death,
        note="synthetic demo data: no real person",
    )


@transaction.atomic
def load_demo_payments(*, actor=None) -> dict:
    """Payment methods, receiving accounts and payee designations for the demo (module
    docstring). Returns the counts; a second call adds nothing (`created` False)."""
    from ansinh.demo.organisations import CURRENT_PROVINCE_CODE, HOME_COMMUNE

    people = _people()
    designations = _designate_flagged_payees()
    if not people or PaymentMethod.objects.filter(beneficiary__commune__code__in={p.commune for p in people}).exists():
        return {"created": False, "payee_designations": designations}
    rng = random.Random(SEED)
    b = _Builder(rng, _institutions())
    try:
        pilot: demo_pilot.Plan | None = demo_pilot.plan(people, rng=random.Random(demo_pilot.SEED))
    except demo_pilot.PlanError:
        pilot = None  # a registry too small for the published figures (tests)
    planned = pilot.roles if pilot is not None else {}

    # who has an active account: exactly the unit's share; the demo commune's deliberate
    # problems are chosen first, among people of the home commune
    by_unit: dict[str, list[_Person]] = {}
    for p in people:
        by_unit.setdefault(p.unit, []).append(p)
    holders: set[int] = set()
    for unit, members in sorted(by_unit.items()):
        share = ACCOUNT_SHARES.get(unit, 0.15)
        others = [p for p in members if p.pk not in planned]
        holders |= {p.pk for p in rng.sample(others, round(share * len(others)))}
    home = [p for p in people if p.commune == HOME_COMMUNE and p.pk not in planned]
    home_holders = [p for p in home if p.pk in holders and p.payee is None]
    home_others = [p for p in home if p.pk not in holders]
    # (a small demo, as in some tests, may have too few people for some of them)
    deceased, sharer = (home_holders[0], home_holders[1]) if len(home_holders) > 1 else (None, None)
    # receives on `sharer`'s account, whose holder does not represent them
    shared_with = home_others[0] if sharer and home_others else None
    rest = home_others[1:] if shared_with else home_others
    without_method = {p.pk for p in rest[:WITHOUT_METHOD]}
    pool = rest[WITHOUT_METHOD:]
    waiting = {p.pk for p in rng.sample(pool, min(WEAK_PENDING, len(pool)))}
    special = {x.pk for x in (deceased, sharer, shared_with) if x is not None}
    cash_holders = {pk for pk in sorted(holders) if rng.random() < CASH_HOLDER_SHARE} - special

    shared_number = b.number(b.institutions["NAB"], "") if sharer is not None else ""
    today = timezone.localdate()
    if pilot is not None:
        _pilot_accounts(b, [p for p in people if p.pk in planned], planned)
    # after the pilot's report (when the pilot's openings are planned), or from June 2023
    pilot_low = date(2023, 10, 1) if pilot is not None else date(2023, 6, 1)
    for p in people:
        if p.pk in planned:
            continue
        if p.pk in without_method:
            b.counts["without_method"] += 1
            continue
        first = max(p.start_month.replace(day=1), date(2023, rng.randint(3, 6), 1))
        how, reason = b.cash(p)
        if p.pk in holders or (shared_with is not None and p.pk == shared_with.pk):
            in_pilot = rng.random() < 0.7
            low, high = (pilot_low, date(2023, 12, 20)) if in_pilot else (date(2024, 1, 5), date(2025, 10, 31))
            opened = max(low, p.start_month) + timedelta(days=rng.randint(0, max((high - low).days, 1)))
            opened = min(opened, today)
            style = rng.random()
            name_style = (
                "reordered"
                if style < REORDERED_SHARE
                else "weak"
                if style < REORDERED_SHARE + WEAK_CONFIRMED_SHARE
                else "plain"
            )
            if sharer is not None and p.pk == sharer.pk:
                acc = b.account(
                    p, status=AccountStatus.ACTIVE, opened_on=opened, code="NAB", number=shared_number, holder=None
                )
            elif sharer is not None and shared_with is not None and p.pk == shared_with.pk:
                acc = b.account(
                    p,
                    status=AccountStatus.ACTIVE,
                    opened_on=opened,
                    code="NAB",
                    number=shared_number,
                    holder_name=names.bank_form(sharer.full_name),
                    holder=None,
                )
            else:
                acc = b.account(p, status=AccountStatus.ACTIVE, opened_on=opened, name_style=name_style)
            if p.pk in cash_holders:
                b.method(p, how, first, reason=reason if how != Method.PAY_POINT else CashReason.CHOICE)
                b.counts["holders_paid_cash"] += 1
                continue
            switch = max(_month_after(opened), first)
            if switch > first:
                b.method(p, how, first, reason=reason)
            b.method(p, Method.ACCOUNT, switch, account=acc)
            b.counts["paid_by_account"] += 1
            continue
        if p.pk in waiting:
            opened = date(2025, rng.randint(1, 10), rng.randint(1, 28))
            b.account(p, status=AccountStatus.PENDING, opened_on=opened, name_style="weak")
        if how == Method.HOME and rng.random() < 0.4 and first < date(2024, 1, 1):
            # paid at a pay point until their health changed
            b.method(p, Method.PAY_POINT, first, reason=CashReason.CHOICE)
            b.method(p, how, date(2024, rng.randint(1, 12), 1), reason=reason)
            b.counts["changed_to_home"] += 1
        else:
            b.method(p, how, first, reason=reason)
        b.counts["home" if how == Method.HOME else "pay_point"] += 1
        b.counts[f"cash_{reason}"] += 1
    b.write()
    if deceased is not None:
        _record_death(deceased)
    if pilot is not None:
        _pilot_decisions(planned)

    units = {}
    for unit, members in sorted(by_unit.items()):
        ids = {p.pk for p in members}
        active = sum(1 for a in b.accounts if a.beneficiary_id in ids and a.status == AccountStatus.ACTIVE)
        units[unit] = {
            "beneficiaries": len(members),
            "active_accounts": active,
            "share": round(active / len(members), 4),
        }
    summary = {
        "created": True,
        "seed": SEED,
        "beneficiaries": len(people),
        "methods": len(b.methods),
        "accounts": len(b.accounts),
        "units": units,
        "payee_designations": designations,
        "pilot": pilot.units if pilot is not None else None,
        **dict(sorted(b.counts.items())),
        "problems": {
            "deceased_with_active_account": deceased.pk if deceased else None,
            "shared_account": [x.pk for x in (sharer, shared_with) if x is not None],
            "without_method": sorted(without_method),
            "weak_names_waiting": len(waiting),
        },
    }
    province = Area.objects.filter(tree=Tree.CURRENT, level=Level.PROVINCE, code=CURRENT_PROVINCE_CODE).first()
    record(actor=actor, action=DEMO_ACTION, area=province, after=summary, note="synthetic demo data: no real person")
    return summary


# ------------------------------------------------------------------------------- benchmarks


def load_synthetic_payments(
    province_code: str,
    *,
    tree: str | None = None,
    chunk: int = 10_000,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """A payment method for every receiving beneficiary of the province without one, and about
    15% active accounts (unique numbers, each encrypted), for the worklist benchmark. Chunk by
    chunk (keyset on the id), one transaction and one summary audit event per chunk, so memory
    stays bounded for a million rows. The province is the current one with that code, else
    the legacy one (or the `tree` given)."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    provinces = Area.objects.filter(level=Level.PROVINCE, code=province_code)
    province = (
        provinces.filter(tree=tree).first()
        if tree
        else (provinces.filter(tree=Tree.CURRENT).first() or provinces.filter(tree=Tree.LEGACY).first())
    )
    if province is None:
        raise ValueError(f"no province {province_code}")
    institutions = _institutions()
    nab = institutions["NAB"]
    rng = random.Random(f"{SEED}:{province.tree}:{province.code}")
    last = 0
    totals: Counter[str] = Counter()
    encrypt_seconds = 0.0
    while True:
        with transaction.atomic():
            rows = list(
                Beneficiary.objects.filter(area_path__startswith=province.path, pk__gt=last, status__in=ACTIVE)
                .filter(~Exists(PaymentMethod.objects.filter(beneficiary=OuterRef("pk"))))
                .order_by("pk")
                .values_list("pk", "full_name", "start_month", "frail", "cannot_travel", "no_phone")[:chunk]
            )
            if not rows:
                break
            low, high = rows[0][0], rows[-1][0]
            payees = {
                b: (link, name)
                for b, link, name in Representation.objects.filter(
                    beneficiary_id__gte=low,
                    beneficiary_id__lte=high,
                    beneficiary__area_path__startswith=province.path,
                    is_payee=True,
                    ended_at__isnull=True,
                ).values_list("beneficiary_id", "pk", "representative__full_name")
            }
            accounts, numbers, methods = [], [], []
            for pk, name, start, frail, travel, no_phone in rows:
                month = max(start, date(2023, 1, 1))
                if rng.random() < SYNTHETIC_ACCOUNT_SHARE:
                    number = f"8{pk:012d}"  # unique per beneficiary, 13 digits
                    holder, holder_name = payees.get(pk, (None, name))  # the payee holds it
                    acc = ReceivingAccount(
                        beneficiary_id=pk,
                        holder_representation_id=holder,
                        kind=AccountKind.BANK,
                        institution=nab,
                        last4=number[-4:],
                        holder_name=names.bank_form(holder_name),
                        name_score=100,  # the registered name as the bank prints it
                        status=AccountStatus.ACTIVE,
                        opened_on=date(2023, 7, 1) + timedelta(days=pk % 700),
                    )
                    accounts.append(acc)
                    numbers.append(number)
                    methods.append(
                        PaymentMethod(beneficiary_id=pk, method=Method.ACCOUNT, account=acc, from_month=month)
                    )
                    continue
                if frail or travel:
                    how, reason = Method.HOME, CashReason.FRAIL if frail else CashReason.CANNOT_TRAVEL
                else:
                    how, reason = Method.PAY_POINT, CashReason.NO_PHONE if no_phone else CashReason.CHOICE
                methods.append(PaymentMethod(beneficiary_id=pk, method=how, cash_reason=reason, from_month=month))
            t = time.monotonic()
            for acc, enc, digest in zip(accounts, crypto.encrypt_many(numbers), crypto.hash_many(numbers), strict=True):
                acc.number_encrypted, acc.number_hash = enc, digest
            encrypt_seconds += time.monotonic() - t
            insert_rows(ReceivingAccount, accounts)
            for pm in methods:
                if pm.account is not None:
                    pm.account_id = pm.account.pk
            insert_rows(PaymentMethod, methods)
            stats = {"methods": len(methods), "accounts": len(accounts)}
            record(
                actor=None,
                action=SYNTHETIC_ACTION,
                area=province,
                after={"seed": SEED, **stats},
                note="synthetic benchmark data: no real person",
            )
            totals.update(stats)
            last = high
        elapsed = time.monotonic() - started
        say(f"  payments: {totals['methods']:>10,} methods, {totals['accounts']:,} accounts  {elapsed:7.1f} s")
    return {
        "methods": totals["methods"],
        "accounts": totals["accounts"],
        "encrypt_seconds": round(encrypt_seconds, 2),
        "seconds": round(time.monotonic() - started, 2),
    }
