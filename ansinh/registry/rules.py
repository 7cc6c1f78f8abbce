"""Registry rules without side effects: checking a BeneficiaryInput, and the months decisions take
effect in. Used by services (one person) and by the importer (many at once, DB checks in bulk)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level

from .inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from .models import Gender, RepresentationKind, StopReason
from .validation import Findings, check_birth_date, check_identity, check_name, check_phone

_GENDERS = frozenset(Gender.values)  # the enum builds a new list on every `.values`


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(earlier: date, later: date) -> int:
    """Whole months from the month of `earlier` to the month of `later` (negative if later is earlier)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_after(event: date) -> date:
    """Stops and new levels apply from the month after the event — death, move, loss of
    eligibility, change of condition — not the month after the decision; the month of the event
    is paid in full (policy-facts §1.6). The difference becomes arrears or a recovery in payroll."""
    return add_months(first_of_month(event), 1)


def max_backdated_months() -> int:
    return int(getattr(settings, "ANSINH_MAX_BACKDATED_MONTHS", 12))


def check_start_month(
    *, start_month: date, signed_on: date | None, reason: str, findings: Findings, name: str = "start_month"
) -> None:
    """Payment starts from the month the decision is signed. An earlier start month needs a
    recorded reason and may be at most ANSINH_MAX_BACKDATED_MONTHS months earlier."""
    if signed_on is None:
        return
    months = months_between(start_month, signed_on)
    if months <= 0:
        return
    limit = max_backdated_months()
    if months > limit:
        findings.error(
            name,
            _(
                "The allowance can start at most %(limit)d months before the month of its decision "
                "(%(month)s); %(start)s is %(n)d months earlier."
            )
            % {
                "limit": limit,
                "month": signed_on.strftime("%m/%Y"),
                "start": start_month.strftime("%m/%Y"),
                "n": months,
            },
            code="backdated_too_far",
        )
    elif not (reason or "").strip():
        findings.error(
            "backdating_reason",
            _(
                "The start month is %(n)d months before the month of the decision (%(month)s): enter the "
                "reason; those months are paid as arrears."
            )
            % {"n": months, "month": signed_on.strftime("%m/%Y")},
            code="backdating_reason_missing",
        )


MAX_UNITS = 99  # people being raised, children cared for…
_CODE_LENGTH = 60  # BeneficiaryCategory.condition / fixed_key


def check_categories(
    categories: list[CategoryInput], *, category_codes: set[str], findings: Findings, name: str = "categories"
) -> None:
    """At least one category, each known, none twice, whole units from 1."""
    if not categories:
        findings.error(name, _("Choose at least one category."))
    seen: set[str] = set()
    for cat in categories:
        if cat.code not in category_codes:
            findings.error(name, _("Unknown category code “%(code)s”.") % {"code": cat.code})
        elif cat.code in seen:
            findings.error(name, _("The category “%(code)s” is chosen twice.") % {"code": cat.code})
        seen.add(cat.code)
        if isinstance(cat.units, bool) or not isinstance(cat.units, int) or not 1 <= cat.units <= MAX_UNITS:
            findings.error(
                name, _("The number of units must be a whole number from 1 to %(max)d.") % {"max": MAX_UNITS}
            )
        if len(cat.condition or "") > _CODE_LENGTH or len(cat.fixed_key or "") > _CODE_LENGTH:
            findings.error(name, _("The condition of category “%(code)s” is not valid.") % {"code": cat.code})


_REP_KINDS = frozenset(RepresentationKind.values)


def clean_representation(
    rep: RepresentationInput, *, today: date, beneficiary_cccd: str = "", prefix: str = ""
) -> tuple[RepresentationInput, Findings]:
    """A guardian or authorised person as entered on any path (form, API, import)."""
    person, f = clean_person(rep.person, today=today, prefix=prefix)
    rep.person = person
    if rep.kind not in _REP_KINDS:
        # the labels are the words a person types (the importer takes them, and the template's
        # short "Giám hộ"/"Ủy quyền")
        f.error(
            f"{prefix}kind",
            _("The kind must be “%(guardian)s” or “%(authorised)s”.")
            % {"guardian": RepresentationKind.GUARDIAN.label, "authorised": RepresentationKind.AUTHORISED.label},
        )
    if rep.valid_from and rep.valid_to and rep.valid_to < rep.valid_from:
        f.error(f"{prefix}valid_to", _("The end of validity is before its start."))
    if beneficiary_cccd and person.cccd and person.cccd == beneficiary_cccd:
        f.error(f"{prefix}cccd", _("The representative cannot have the beneficiary's CCCD."))
    if len(rep.relationship or "") > 60:
        f.error(f"{prefix}relationship", _("The relationship is too long (at most 60 characters)."))
    if len(rep.document_number or "") > 60:
        f.error(f"{prefix}document_number", _("The document number is too long (at most 60 characters)."))
    return rep, f


def check_stop_reason(reason: str, findings: Findings) -> None:
    if reason not in StopReason.values:
        findings.error("reason", _("Choose the reason for stopping."))


def clean_person(data: PersonInput, *, today: date, prefix: str = "") -> tuple[PersonInput, Findings]:
    f = Findings()
    name, _f = check_name(data.full_name, name=f"{prefix}full_name", findings=f)
    check_birth_date(data.birth_date, today=today, name=f"{prefix}birth_date", findings=f, required=False)
    if data.gender and data.gender not in _GENDERS:
        f.error(f"{prefix}gender", _("Gender must be male or female."))
    # a representative paid for someone needs a current card: an old 9-digit CMND is an error
    cccd, _legacy, _f = check_identity(
        data.cccd,
        birth_date=data.birth_date,
        gender=data.gender or None,
        name=f"{prefix}cccd",
        findings=f,
        legacy=False,
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
    # a record kept with an old CMND is checked again (its warning stays until a CCCD replaces it)
    data.cccd, data.legacy_id_number, _f = check_identity(
        data.cccd or data.legacy_id_number, birth_date=data.birth_date, gender=data.gender or None, findings=f
    )
    if not data.cccd and not data.legacy_id_number:
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
    check_categories(data.categories, category_codes=category_codes, findings=f)
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
    if data.start_month is not None and data.decision_date is not None and data.decision_date <= today:
        check_start_month(
            start_month=data.start_month, signed_on=data.decision_date, reason=data.backdating_reason, findings=f
        )
    payees = 0
    seen_people: set[str] = set()
    for i, rep in enumerate(data.representatives):
        rep, rf = clean_representation(rep, today=today, beneficiary_cccd=data.cccd, prefix=f"representatives.{i}.")
        f.merge(rf)
        key = rep.person.cccd or rep.person.full_name.casefold()
        if key in seen_people:
            f.error(f"representatives.{i}.cccd", _("The same representative is entered twice."))
        seen_people.add(key)
        payees += 1 if rep.is_payee else 0
    if payees > 1:
        f.error("representatives", _("Only one representative can be the current payee."))
    return data, f
