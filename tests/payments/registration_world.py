"""A small commune of registering and non-registering people for the registration lists and
the coverage indicators: beneficiaries through the registry's services, accounts and payment
methods through small builders (the account-approval workflow is not what is tested here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ansinh.payments import crypto
from ansinh.payments.models import AccountStatus, Institution, PaymentMethod, ReceivingAccount
from ansinh.policy.entitlement import month_start
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import DecisionKind
from tests.factories import cccd_for

ACCOUNT_NUMBER = "7602205012345"  # the active account of NCC_OWN


def this_month() -> date:
    from django.utils import timezone

    return month_start(timezone.localdate())


def next_month() -> date:
    m = this_month()
    return date(m.year + m.month // 12, m.month % 12 + 1, 1)


_seq = iter(range(100, 999))


def person(actor, commune, village, name, birth, gender, category, *, condition="", fixed_key="", reps=()):
    data = BeneficiaryInput(
        full_name=name,
        birth_date=birth,
        gender=gender,
        commune_id=commune.pk,
        village_id=village.pk if village else None,
        cccd=cccd_for(birth, gender, f"{next(_seq):03d}456"),
        phone="0912345" + f"{next(_seq):03d}",
        categories=[CategoryInput(code=category, condition=condition, fixed_key=fixed_key)],
        decision_number="1/QĐ-UBND",
        decision_date=date(2024, 3, 12),
        representatives=list(reps),
    )
    return registry_services.create_beneficiary(actor=actor, data=data)


def account(beneficiary, number, status, *, holder=None, institution="VBA") -> ReceivingAccount:
    digits = crypto.normalize_number(number)
    return ReceivingAccount.objects.create(
        beneficiary=beneficiary,
        holder_representation=holder,
        kind="bank",
        # the list of banks comes with a data migration, which a browser test's flushed database lacks
        institution=Institution.objects.get_or_create(
            code=institution, defaults={"bin": "970405", "name": "Agribank", "number_min_length": 13}
        )[0],
        number_encrypted=crypto.encrypt(digits),
        number_hash=crypto.number_hash(digits),
        last4=digits[-4:],
        holder_name=(holder.representative.full_name if holder else beneficiary.full_name).upper(),
        status=status,
    )


def method(beneficiary, kind, from_month, acct=None) -> PaymentMethod:
    return PaymentMethod.objects.create(
        beneficiary=beneficiary,
        method=kind,
        account=acct,
        cash_reason="" if kind == "account" else "choice",
        from_month=from_month,
    )


@dataclass
class RegistrationWorld:
    ncc_own: object  # NCC, own active account, paid by account
    ncc_cash: object  # NCC, cash, no account: not registering
    ncc_guarded: object  # NCC, guardian is the payee and holds a pending account
    guardian: object  # the Representation of ncc_guarded
    bystander: object  # another representative of ncc_guarded who neither receives nor holds: not listed
    btxh_planned: object  # BTXH, pending account, account payment planned from next month
    btxh_hiv: object  # BTXH under an HIV-related category, active account, still paid in cash
    btxh_stopped: object  # BTXH with an active account but stopped: not registering
    btxh_unregistered_rep: object  # BTXH paid in cash whose authorised person is the payee: not listed
    btxh_b: object  # commune B, active account


def build(tree, officer_a, officer_b) -> RegistrationWorld:
    a, village, b = tree.a, tree.village_a, tree.b
    now, later = this_month(), next_month()

    ncc_own = person(
        officer_a, a, village, "Lê Văn Công", date(1948, 2, 3), "male", "NCC.g", fixed_key="war_invalid_100pct"
    )
    own = account(ncc_own, ACCOUNT_NUMBER, AccountStatus.ACTIVE)
    method(ncc_own, "account", now, own)

    ncc_cash = person(
        officer_a, a, village, "Phạm Văn Tiền", date(1950, 4, 5), "male", "NCC.g", fixed_key="war_invalid_100pct"
    )
    method(ncc_cash, "pay_point", now)

    guard = RepresentationInput(
        person=PersonInput(
            full_name="Trần Thị Giám",
            birth_date=date(1975, 6, 7),
            gender="female",
            cccd=cccd_for(date(1975, 6, 7), "female", "777001"),
        ),
        kind="guardian",
        relationship="con gái",
        is_payee=True,
    )
    other = RepresentationInput(
        person=PersonInput(full_name="Trần Văn Khác", birth_date=date(1978, 1, 1), gender="male"),
        kind="authorised",
        relationship="cháu",
    )
    ncc_guarded = person(
        officer_a,
        a,
        None,
        "Trần Văn Được",
        date(1935, 8, 9),
        "male",
        "NCC.g",
        fixed_key="war_invalid_100pct",
        reps=[guard, other],
    )
    guardian = ncc_guarded.representations.get(representative__full_name="Trần Thị Giám")
    bystander = ncc_guarded.representations.get(representative__full_name="Trần Văn Khác")
    account(ncc_guarded, "1900123456789", AccountStatus.PENDING, holder=guardian)

    btxh_planned = person(officer_a, a, village, "Nguyễn Thị Ánh", date(1940, 5, 17), "female", "D20.5.5.c")
    pending = account(btxh_planned, "7602205099999", AccountStatus.PENDING)
    method(btxh_planned, "pay_point", now)
    method(btxh_planned, "account", later, pending)

    btxh_hiv = person(officer_a, a, village, "Đỗ Văn Hạ", date(1980, 1, 2), "male", "D20.5.8")
    account(btxh_hiv, "7602205088888", AccountStatus.ACTIVE)
    method(btxh_hiv, "pay_point", now)

    btxh_stopped = person(officer_a, a, village, "Võ Thị Dừng", date(1930, 3, 3), "female", "D20.5.5.c")
    account(btxh_stopped, "7602205077777", AccountStatus.ACTIVE)
    registry_services.record_decision(
        actor=officer_a,
        beneficiary=btxh_stopped,
        kind=DecisionKind.STOP,
        number="9/QĐ-UBND",
        signed_on=date(2025, 2, 1),
        reason="ineligible",
        event_date=date(2025, 1, 15),
    )

    auth = RepresentationInput(
        person=PersonInput(full_name="Lý Văn Nhận", birth_date=date(1970, 1, 1), gender="male"),
        kind="authorised",
        is_payee=True,
    )
    btxh_unregistered_rep = person(
        officer_a, a, village, "Lý Thị Mặt", date(1938, 9, 9), "female", "D20.5.5.c", reps=[auth]
    )
    method(btxh_unregistered_rep, "pay_point", now)

    btxh_b = person(officer_b, b, None, "Hồ Văn Bê", date(1948, 2, 3), "male", "D20.5.5.c")
    account(btxh_b, "7602205066666", AccountStatus.ACTIVE)
    return RegistrationWorld(
        ncc_own,
        ncc_cash,
        ncc_guarded,
        guardian,
        bystander,
        btxh_planned,
        btxh_hiv,
        btxh_stopped,
        btxh_unregistered_rep,
        btxh_b,
    )
