"""Every write to the registry. Verb-first, keyword-only, an actor, one transaction, audited."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.areas.models import Area
from ansinh.audit.services import record, snapshot
from ansinh.core.errors import InvalidTransition
from ansinh.core.text import search_key
from ansinh.policy.models import Category

from .inputs import BeneficiaryInput, PersonInput, RepresentationInput
from .models import (
    STATUS_TRANSITIONS,
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    DecisionKind,
    Representation,
    Representative,
    Status,
    StatusChange,
    StopReason,
)
from .rules import add_months, clean_beneficiary, clean_person, first_of_month, stop_effective_month
from .validation import Findings

ACTIVE_STATUSES = (Status.ACTIVE, Status.SUSPENDED)


def _areas_for(data: BeneficiaryInput) -> dict[int, Area]:
    ids = [i for i in (data.commune_id, data.village_id) if i]
    return {a.pk: a for a in Area.objects.filter(pk__in=ids)}


def _raise(findings: Findings) -> None:
    if findings.errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in findings.errors.items()})


def likely_duplicates(*, full_name: str, birth_date: date, commune: Area, exclude_id: int | None = None):
    """Beneficiaries in the same province with the same accent-free name and date of birth."""
    province_path = "/" + commune.path.strip("/").split("/")[0] + "/"
    qs = Beneficiary.objects.filter(
        name_key=search_key(full_name), birth_date=birth_date, area_path__startswith=province_path
    )
    return qs.exclude(pk=exclude_id) if exclude_id else qs


def likely_duplicate_message(dup: Beneficiary) -> str:
    return _("Likely duplicate: %(name)s, born %(date)s, is already registered (no. %(id)d).") % {
        "name": dup.full_name,
        "date": dup.birth_date.strftime("%d/%m/%Y"),
        "id": dup.pk,
    }


def check_database_rules(data: BeneficiaryInput, findings: Findings, *, exclude_id: int | None = None) -> None:
    """Rules that need the database: CCCD unique among active beneficiaries, likely duplicates."""
    if data.cccd:
        clash = Beneficiary.objects.filter(cccd=data.cccd, status__in=ACTIVE_STATUSES)
        if exclude_id:
            clash = clash.exclude(pk=exclude_id)
        if clash.exists():
            findings.error(
                "cccd",
                _("This CCCD already belongs to another beneficiary who is receiving."),
                code="cccd_taken",
            )
    if data.birth_date and data.full_name and data.commune_id:
        commune = Area.objects.get(pk=data.commune_id)
        dup = likely_duplicates(
            full_name=data.full_name, birth_date=data.birth_date, commune=commune, exclude_id=exclude_id
        ).first()
        if dup is not None:
            findings.warn(
                "full_name",
                likely_duplicate_message(dup),
                code="likely_duplicate",
            )


def validate_beneficiary(
    data: BeneficiaryInput, *, exclude_id: int | None = None, today: date | None = None
) -> tuple[BeneficiaryInput, Findings]:
    codes = set(Category.objects.filter(code__in=[c.code for c in data.categories]).values_list("code", flat=True))
    data, findings = clean_beneficiary(
        data, today=today or timezone.localdate(), areas=_areas_for(data), category_codes=codes
    )
    if findings.ok:
        check_database_rules(data, findings, exclude_id=exclude_id)
    return data, findings


def issue_codes(findings: Findings) -> list[dict]:
    return [{"field": k, "message": m} for k, v in findings.warnings.items() for m in v]


def _area_path(commune: Area, village: Area | None) -> str:
    return (village or commune).path


@transaction.atomic
def create_beneficiary(
    *, actor, data: BeneficiaryInput, accept_duplicate: bool = False, findings: Findings | None = None
) -> Beneficiary:
    """Register a beneficiary with categories, the start decision, status history and
    representatives. A likely duplicate is refused unless `accept_duplicate`."""
    if findings is None:
        data, findings = validate_beneficiary(data)
    _raise(findings)
    if not accept_duplicate and "likely_duplicate" in findings.codes:
        raise ValidationError({"full_name": findings.warnings["full_name"]}, code="likely_duplicate")
    areas = _areas_for(data)
    commune, village = areas[data.commune_id], areas.get(data.village_id) if data.village_id else None
    b = Beneficiary.objects.create(
        full_name=data.full_name,
        name_key=search_key(data.full_name),
        birth_date=data.birth_date,
        gender=data.gender,
        cccd=data.cccd,
        phone=data.phone,
        ethnicity=data.ethnicity or "",
        address=data.address,
        commune=commune,
        village=village,
        area_path=_area_path(commune, village),
        cannot_travel=data.cannot_travel,
        no_phone=data.no_phone,
        cannot_read_vietnamese=data.cannot_read_vietnamese,
        frail=data.frail,
        start_month=data.start_month,
        status=Status.ACTIVE,
        quality_issues=issue_codes(findings),
        has_issues=bool(findings.warnings),
    )
    _set_categories(b, data, from_month=data.start_month)
    decision = Decision.objects.create(
        beneficiary=b,
        kind=DecisionKind.START,
        number=data.decision_number or "",
        signed_on=data.decision_date or data.start_month,
        effective_month=data.start_month,
        created_by=actor if getattr(actor, "pk", None) else None,
        details={"categories": [asdict(c) for c in data.categories]},
    )
    StatusChange.objects.create(
        beneficiary=b,
        from_status="",
        to_status=Status.ACTIVE,
        effective_month=data.start_month,
        decision=decision,
    )
    record(actor=actor, action="registry.beneficiary.created", obj=b, after=_snap(b))
    for rep in data.representatives:
        add_representation(actor=actor, beneficiary=b, data=rep, _validated=True)
    return b


def _snap(b: Beneficiary) -> dict:
    data = snapshot(b, list(BeneficiaryInput.EDITABLE) + ["commune", "village", "status", "start_month"])
    data["categories"] = [
        f"{c.category_id}:{c.condition}:{c.units}" for c in b.categories.filter(to_month__isnull=True)
    ]
    return data


def _set_categories(b: Beneficiary, data: BeneficiaryInput, *, from_month: date) -> None:
    code_to_id = dict(Category.objects.filter(code__in=[c.code for c in data.categories]).values_list("code", "id"))
    BeneficiaryCategory.objects.bulk_create(
        [
            BeneficiaryCategory(
                beneficiary=b,
                category_id=code_to_id[c.code],
                condition=c.condition,
                units=c.units,
                fixed_key=c.fixed_key,
                from_month=from_month,
            )
            for c in data.categories
        ]
    )


@transaction.atomic
def update_beneficiary(*, actor, beneficiary: Beneficiary, data: BeneficiaryInput) -> Beneficiary:
    """Correct identity and contact data (not status or categories: those change by decision)."""
    b = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    data.categories = data.categories or [_category_input(c) for c in b.categories.filter(to_month__isnull=True)]
    data.start_month = data.start_month or b.start_month
    data, findings = validate_beneficiary(data, exclude_id=b.pk)
    _raise(findings)
    before = _snap(b)
    areas = _areas_for(data)
    for name in BeneficiaryInput.EDITABLE:
        setattr(b, name, getattr(data, name))
    b.name_key = search_key(b.full_name)
    b.area_path = _area_path(areas[data.commune_id], areas.get(data.village_id) if data.village_id else None)
    b.quality_issues = issue_codes(findings)
    b.has_issues = bool(findings.warnings)
    b.save()
    after = _snap(b)
    if before != after:
        record(
            actor=actor,
            action="registry.beneficiary.updated",
            obj=b,
            before={k: v for k, v in before.items() if after.get(k) != v},
            after={k: v for k, v in after.items() if before.get(k) != v},
        )
    return b


def _category_input(c: BeneficiaryCategory):
    from .inputs import CategoryInput

    return CategoryInput(code=c.category.code, condition=c.condition, units=c.units, fixed_key=c.fixed_key)


def _transition(b: Beneficiary, to_status: str) -> None:
    if to_status not in STATUS_TRANSITIONS.get(b.status, set()):
        raise InvalidTransition(
            _("A beneficiary whose status is “%(from)s” cannot become “%(to)s”.")
            % {"from": Status(b.status).label, "to": Status(to_status).label}
        )


@transaction.atomic
def record_decision(
    *,
    actor,
    beneficiary: Beneficiary,
    kind: str,
    number: str,
    signed_on: date,
    effective_month: date | None = None,
    reason: str = "",
    death_date: date | None = None,
    to_commune: Area | None = None,
    to_village: Area | None = None,
    categories: list | None = None,
    note: str = "",
) -> Decision:
    """Record a signed decision and apply it: status, categories or commune change from its
    effective month. A stop on death takes effect from the month after death."""
    b = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    errors: dict[str, list[str]] = {}
    if not number.strip():
        errors.setdefault("number", []).append(_("The decision number is required."))
    if signed_on > timezone.localdate():
        errors.setdefault("signed_on", []).append(_("The signing date cannot be in the future."))
    if kind == DecisionKind.STOP:
        if reason not in StopReason.values:
            errors.setdefault("reason", []).append(_("Choose the reason for stopping."))
        if reason == StopReason.DIED and death_date is None:
            errors.setdefault("death_date", []).append(_("The date of death is required."))
        if death_date and death_date > timezone.localdate():
            errors.setdefault("death_date", []).append(_("The date of death cannot be in the future."))
        if death_date and death_date < b.birth_date:
            errors.setdefault("death_date", []).append(_("The date of death is before the date of birth."))
    if kind == DecisionKind.MOVE and (to_commune is None or to_commune.pk == b.commune_id):
        errors.setdefault("to_commune", []).append(_("Choose the commune the person moves to."))
    if kind == DecisionKind.MOVE and to_village is not None and to_commune and to_village.parent_id != to_commune.pk:
        errors.setdefault("to_village", []).append(_("The village does not belong to the commune."))
    if kind == DecisionKind.ADJUST and not categories:
        errors.setdefault("categories", []).append(_("Choose the new categories."))
    if errors:
        raise ValidationError(errors)

    if kind == DecisionKind.STOP:
        month = stop_effective_month(reason=reason, death_date=death_date, signed_on=signed_on)
    else:
        month = first_of_month(effective_month or signed_on)
    before = _snap(b)
    decision = Decision(
        beneficiary=b,
        kind=kind,
        number=number.strip(),
        signed_on=signed_on,
        effective_month=month,
        reason=reason,
        death_date=death_date,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    new_status = {
        DecisionKind.SUSPEND: Status.SUSPENDED,
        DecisionKind.RESUME: Status.ACTIVE,
        DecisionKind.STOP: Status.STOPPED,
        DecisionKind.START: Status.ACTIVE,
    }.get(kind)
    if kind == DecisionKind.RESUME and b.status != Status.SUSPENDED:
        raise InvalidTransition(_("Only a suspended allowance can be resumed."))
    if kind == DecisionKind.START and b.status != Status.STOPPED:
        raise InvalidTransition(_("The allowance is already running; use an adjustment decision."))
    if kind in (DecisionKind.ADJUST, DecisionKind.MOVE) and b.status == Status.STOPPED:
        raise InvalidTransition(_("The allowance is stopped; record a new start decision first."))
    if new_status:
        _transition(b, new_status)
        if (
            kind == DecisionKind.START
            and b.cccd
            and Beneficiary.objects.filter(cccd=b.cccd, status__in=ACTIVE_STATUSES).exclude(pk=b.pk).exists()
        ):
            raise ValidationError({"cccd": _("This CCCD already belongs to another beneficiary who is receiving.")})
    if kind == DecisionKind.MOVE:
        decision.from_commune_id, decision.to_commune = b.commune_id, to_commune
        b.commune, b.village = to_commune, to_village
        b.area_path = _area_path(to_commune, to_village)
    if kind == DecisionKind.ADJUST:
        from .inputs import BeneficiaryInput as _BI

        codes = set(Category.objects.filter(code__in=[c.code for c in categories]).values_list("code", flat=True))
        unknown = [c.code for c in categories if c.code not in codes]
        if unknown:
            raise ValidationError({"categories": _("Unknown category code “%(code)s”.") % {"code": unknown[0]}})
        b.categories.filter(to_month__isnull=True, from_month__lt=month).update(to_month=add_months(month, -1))
        b.categories.filter(from_month__gte=month).delete()
        _set_categories(
            b,
            _BI(full_name="", birth_date=None, gender="", commune_id=0, categories=categories),
            from_month=month,
        )
        decision.details = {"categories": [asdict(c) for c in categories]}
    decision.save()
    if new_status:
        StatusChange.objects.create(
            beneficiary=b,
            from_status=b.status,
            to_status=new_status,
            reason=reason,
            effective_month=month,
            decision=decision,
        )
        b.status = new_status
        if new_status == Status.STOPPED:
            b.stop_reason, b.death_date, b.end_month = reason, death_date, add_months(month, -1)
            b.categories.filter(to_month__isnull=True).update(to_month=add_months(month, -1))
        elif new_status == Status.ACTIVE and kind == DecisionKind.START:
            b.stop_reason, b.death_date, b.end_month = "", None, None
            b.categories.filter(to_month__isnull=False).filter(
                Q(to_month=b.end_month) | Q(to_month__gte=add_months(month, -1))
            ).update(to_month=None)
    b.save()
    record(
        actor=actor,
        action=f"registry.decision.{kind}",
        obj=b,
        before=before,
        after=_snap(b),
        note=f"{decision.number} ({decision.effective_month:%m/%Y})",
    )
    return decision


def _find_or_create_person(actor, person: PersonInput, commune: Area) -> Representative:
    rep = Representative.objects.filter(cccd=person.cccd).first() if person.cccd else None
    if rep is None:
        rep = Representative.objects.create(
            full_name=person.full_name,
            name_key=search_key(person.full_name),
            birth_date=person.birth_date,
            gender=person.gender,
            cccd=person.cccd,
            phone=person.phone,
            commune=commune,
            area_path=commune.path,
        )
        record(actor=actor, action="registry.representative.created", obj=rep, after=snapshot(rep))
    else:
        before = snapshot(rep)
        for name in ("full_name", "birth_date", "gender", "phone"):
            value = getattr(person, name)
            if value:
                setattr(rep, name, value)
        rep.name_key = search_key(rep.full_name)
        after = snapshot(rep)
        if after != before:
            rep.save()
            record(actor=actor, action="registry.representative.updated", obj=rep, before=before, after=after)
    return rep


@transaction.atomic
def add_representation(
    *, actor, beneficiary: Beneficiary, data: RepresentationInput, _validated: bool = False
) -> Representation:
    """Link a guardian or authorised person (found by CCCD, else created) to a beneficiary."""
    if not _validated:
        data.person, f = clean_person(data.person, today=timezone.localdate())
        if data.kind not in ("guardian", "authorised"):
            f.error("kind", _("The kind must be guardian or authorised person."))
        if beneficiary.cccd and data.person.cccd == beneficiary.cccd:
            f.error("cccd", _("The representative cannot have the beneficiary's CCCD."))
        _raise(f)
    rep = _find_or_create_person(actor, data.person, beneficiary.commune)
    existing = Representation.objects.filter(beneficiary=beneficiary, representative=rep, ended_at__isnull=True).first()
    if existing is not None:
        link = existing
        before = snapshot(link)
        link.kind, link.relationship, link.document_number = (
            data.kind,
            data.relationship,
            data.document_number,
        )
        link.valid_from, link.valid_to = data.valid_from, data.valid_to
    else:
        link = Representation(
            beneficiary=beneficiary,
            representative=rep,
            kind=data.kind,
            relationship=data.relationship,
            document_number=data.document_number,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        )
        before = None
    if data.is_payee:
        Representation.objects.filter(beneficiary=beneficiary, is_payee=True).exclude(pk=link.pk).update(is_payee=False)
    link.is_payee = data.is_payee
    link.save()
    after = snapshot(link)
    if before != after:
        record(
            actor=actor,
            action="registry.representation.saved",
            obj=link,
            area=beneficiary.audit_area,
            before=before,
            after=after,
        )
    return link


@transaction.atomic
def set_payee(*, actor, beneficiary: Beneficiary, representation: Representation | None) -> None:
    """Make a representative the current payee, or (None) the beneficiary themself."""
    current = Representation.objects.filter(beneficiary=beneficiary, is_payee=True, ended_at__isnull=True).first()
    if (current and representation and current.pk == representation.pk) or (current is None and representation is None):
        return
    Representation.objects.filter(beneficiary=beneficiary, is_payee=True).update(is_payee=False)
    if representation is not None:
        if representation.beneficiary_id != beneficiary.pk or representation.ended_at is not None:
            raise ValidationError(_("This representative does not act for the beneficiary."))
        Representation.objects.filter(pk=representation.pk).update(is_payee=True)
    record(
        actor=actor,
        action="registry.payee.changed",
        obj=beneficiary,
        before={"payee": current.representative.full_name if current else beneficiary.full_name},
        after={"payee": representation.representative.full_name if representation else beneficiary.full_name},
    )


@transaction.atomic
def end_representation(*, actor, representation: Representation) -> None:
    if representation.ended_at is None:
        representation.ended_at = timezone.now()
        representation.is_payee = False
        representation.save(update_fields=["ended_at", "is_payee"])
        record(
            actor=actor,
            action="registry.representation.ended",
            obj=representation,
            area=representation.beneficiary.audit_area,
            before={"representative": str(representation.representative)},
        )
