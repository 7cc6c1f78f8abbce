"""Registry rules without side effects: checking a BeneficiaryInput, and the months decisions take
effect in. Used by services (one person) and by the importer (many at once, DB checks in bulk)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level

from .inputs import BeneficiaryInput, PersonInput
from .models import Gender
from .validation import Findings, check_birth_date, check_cccd, check_name, check_phone

_GENDERS = frozenset(Gender.values)  # the enum builds a new list on every `.values`


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def stop_effective_month(*, reason: str, death_date: date | None, signed_on: date) -> date:
    """A stop takes effect from the month after death / loss of eligibility (policy-facts §1.6)."""
    basis = death_date if reason == "died" and death_date else signed_on
    return add_months(first_of_month(basis), 1)


def clean_person(data: PersonInput, *, today: date, prefix: str = "") -> tuple[PersonInput, Findings]:
    f = Findings()
    name, _f = check_name(data.full_name, name=f"{prefix}full_name", findings=f)
    check_birth_date(data.birth_date, today=today, name=f"{prefix}birth_date", findings=f, required=False)
    if data.gender and data.gender not in _GENDERS:
        f.error(f"{prefix}gender", _("Gender must be male or female."))
    cccd, _f = check_cccd(
        data.cccd, birth_date=data.birth_date, gender=data.gender or None, name=f"{prefix}cccd", findings=f
    )
    phone, _f = check_phone(data.phone, name=f"{prefix}phone", findings=f)
    return PersonInput(full_name=name, birth_date=data.birth_date, gender=data.gender, cccd=cccd, phone=phone), f


def clean_beneficiary(
    data: BeneficiaryInput, *, today: date, areas: dict[int, Area], category_codes: set[str]
) -> tuple[BeneficiaryInput, Findings]:
    """Field-level checks that need no per-row query: `areas` maps id→Area for the commune and
    village, `category_codes` is the set of known category codes."""
    f = Findings()
    data.full_name, _f = check_name(data.full_name, findings=f)
    check_birth_date(data.birth_date, today=today, findings=f)
    if data.gender not in _GENDERS:
        f.error("gender", _("Gender must be male or female."))
    data.cccd, _f = check_cccd(data.cccd, birth_date=data.birth_date, gender=data.gender or None, findings=f)
    if not data.cccd:
        f.warn("cccd", _("No CCCD number: payments to an account need one."))
    data.phone, _f = check_phone(data.phone, findings=f)
    if not data.phone and not data.no_phone:
        f.warn("phone", _("No phone number: tick “has no phone” or enter one."))
    commune = areas.get(data.commune_id)
    if commune is None or commune.level != Level.COMMUNE:
        f.error("commune", _("Choose a commune."))
    if data.village_id is not None:
        village = areas.get(data.village_id)
        if village is None or village.level != Level.VILLAGE or village.parent_id != data.commune_id:
            f.error("village", _("The village does not belong to the commune."))
    if not data.categories:
        f.error("categories", _("Choose at least one category."))
    for cat in data.categories:
        if cat.code not in category_codes:
            f.error("categories", _("Unknown category code “%(code)s”.") % {"code": cat.code})
        if cat.units < 1:
            f.error("categories", _("The number of units must be at least 1."))
    if data.start_month is None and data.decision_date is not None:
        data.start_month = first_of_month(data.decision_date)
    if data.start_month is None:
        f.error("start_month", _("The start month (or the decision date) is required."))
    else:
        data.start_month = first_of_month(data.start_month)
    if data.decision_date and data.decision_date > today:
        f.error("decision_date", _("The decision date cannot be in the future."))
    if data.decision_date is not None and not data.decision_number:
        f.error("decision_number", _("The decision number is required with the decision date."))
    payees = 0
    for i, rep in enumerate(data.representatives):
        person, pf = clean_person(rep.person, today=today, prefix=f"representatives.{i}.")
        rep.person = person
        f.merge(pf)
        if rep.kind not in ("guardian", "authorised"):
            f.error(f"representatives.{i}.kind", _("The kind must be guardian or authorised person."))
        if rep.valid_from and rep.valid_to and rep.valid_to < rep.valid_from:
            f.error(f"representatives.{i}.valid_to", _("The end of validity is before its start."))
        if data.cccd and person.cccd and person.cccd == data.cccd:
            f.error(f"representatives.{i}.cccd", _("The representative cannot have the beneficiary's CCCD."))
        payees += 1 if rep.is_payee else 0
    if payees > 1:
        f.error("representatives", _("Only one representative can be the current payee."))
    return data, f
