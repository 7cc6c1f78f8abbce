"""Every write to the registry. Verb-first, keyword-only, an actor, one transaction, audited."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level
from ansinh.audit.services import record, snapshot
from ansinh.core.errors import InvalidTransition
from ansinh.core.text import search_key
from ansinh.policy.models import Category

from . import bulk, matching
from .inputs import BeneficiaryInput, RepresentationInput
from .models import (
    STATUS_TRANSITIONS,
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    DecisionKind,
    Representation,
    Status,
    StatusChange,
    StopReason,
)
from .rules import (
    add_months,
    check_categories,
    check_start_month,
    check_stop_reason,
    clean_beneficiary,
    clean_representation,
    first_of_month,
    month_after,
)
from .validation import Findings

ACTIVE_STATUSES = matching.ACTIVE_STATUSES


class LikelyDuplicate(ValidationError):
    """A likely duplicate that the user may confirm ("save anyway")."""


def _areas_for(data: BeneficiaryInput) -> dict[int, Area]:
    ids = [i for i in (data.commune_id, data.village_id) if i]
    return {a.pk: a for a in Area.objects.filter(pk__in=ids)}


def _raise(findings: Findings) -> None:
    if findings.errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in findings.errors.items()})


def likely_duplicates(*, full_name: str, birth_date: date, commune: Area, exclude_id: int | None = None):
    """Beneficiaries in the same province with the same accent-free name and date of birth."""
    qs = Beneficiary.objects.filter(
        name_key=search_key(full_name), birth_date=birth_date, area_path__startswith=matching.province_path(commune)
    ).select_related("commune")
    return qs.exclude(pk=exclude_id) if exclude_id else qs


def check_database_rules(
    data: BeneficiaryInput, findings: Findings, *, exclude_id: int | None = None, actor=None
) -> None:
    """Rules that need the database, the same for one row as for a file (`matching`): a CCCD
    of a receiving beneficiary is taken; a CCCD of a stopped one is that person, who gets a new
    start decision instead of a second record; a representative's CCCD registered under another
    name is refused; a likely duplicate is a warning to confirm. Another commune's record is
    named without its details."""
    can_see = matching.viewer(actor)
    if data.cccd:
        other = matching.by_cccd([data.cccd], exclude_id=exclude_id).get(data.cccd)
        if other is not None and other.status in ACTIVE_STATUSES:
            findings.error("cccd", matching.taken_message(other, can_see=can_see(other.area_path)), code="cccd_taken")
        elif other is not None:
            findings.error(
                "cccd", matching.stopped_message(other, can_see=can_see(other.area_path)), code="cccd_stopped"
            )
    elif data.full_name and data.birth_date and data.commune_id and not exclude_id:
        commune = Area.objects.get(pk=data.commune_id)
        stopped = [
            b
            for b in matching.by_name_in_commune(commune, [search_key(data.full_name)]).get(
                (search_key(data.full_name), data.birth_date), []
            )
            if b.status == Status.STOPPED
        ]
        if stopped:
            findings.error(
                "full_name",
                matching.stopped_message(stopped[-1], can_see=can_see(stopped[-1].area_path)),
                code="person_stopped",
            )
    conflicts = matching.representative_conflicts(rep.person for rep in data.representatives)
    for i, rep in enumerate(data.representatives):
        if rep.person.cccd in conflicts:
            findings.error(f"representatives.{i}.cccd", conflicts[rep.person.cccd], code="representative_conflict")
    if findings.errors:
        return
    if data.birth_date and data.full_name and data.commune_id:
        commune = Area.objects.get(pk=data.commune_id)
        dup = likely_duplicates(
            full_name=data.full_name, birth_date=data.birth_date, commune=commune, exclude_id=exclude_id
        ).first()
        if dup is not None:
            findings.warn(
                "full_name", matching.duplicate_message(dup, can_see=can_see(dup.area_path)), code="likely_duplicate"
            )


def validate_beneficiary(
    data: BeneficiaryInput, *, exclude_id: int | None = None, today: date | None = None, actor=None
) -> tuple[BeneficiaryInput, Findings]:
    codes = set(Category.objects.filter(code__in=[c.code for c in data.categories]).values_list("code", flat=True))
    data, findings = clean_beneficiary(
        data, today=today or timezone.localdate(), areas=_areas_for(data), category_codes=codes
    )
    if findings.ok:
        check_database_rules(data, findings, exclude_id=exclude_id, actor=actor)
    return data, findings


def issue_codes(findings: Findings) -> list[dict]:
    return [{"field": k, "message": m} for k, v in findings.warnings.items() for m in v]


def _category_ids(categories) -> dict[str, int]:
    return dict(Category.objects.filter(code__in=[c.code for c in categories]).values_list("code", "id"))


@transaction.atomic
def create_beneficiary(
    *, actor, data: BeneficiaryInput, accept_duplicate: bool = False, findings: Findings | None = None
) -> Beneficiary:
    """Register a beneficiary with categories, the start decision, status history and
    representatives, through the same construction path as a file import (`bulk`). A likely
    duplicate is refused unless `accept_duplicate`."""
    if findings is None:
        data, findings = validate_beneficiary(data, actor=actor)
    _raise(findings)
    if not accept_duplicate and "likely_duplicate" in findings.codes:
        raise LikelyDuplicate({"full_name": findings.warnings["full_name"]})
    (pk,) = bulk.bulk_create_beneficiaries(
        actor=actor,
        items=[bulk.BulkItem(data, issue_codes(findings))],
        areas=_areas_for(data),
        category_ids=_category_ids(data.categories),
    )
    return Beneficiary.objects.select_related("commune", "village").get(pk=pk)


def _snap(b: Beneficiary) -> dict:
    data = snapshot(b, list(BeneficiaryInput.EDITABLE) + ["commune", "village", "status", "start_month"])
    hidden = bulk.sensitive_codes()
    current = b.categories.filter(to_month__isnull=True).select_related("category")
    data["categories"] = sorted(bulk.category_label(c, hidden) for c in current)
    return data


@transaction.atomic
def update_beneficiary(
    *, actor, beneficiary: Beneficiary, data: BeneficiaryInput, accept_duplicate: bool = False
) -> Beneficiary:
    """Correct identity and contact data (not status or categories: those change by decision),
    through the same path as an import's updates. A change that makes the record look like
    another person's is refused unless `accept_duplicate`."""
    b = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    data.categories = data.categories or [_category_input(c) for c in b.categories.filter(to_month__isnull=True)]
    data.start_month = data.start_month or b.start_month
    data.representatives = []
    data, findings = validate_beneficiary(data, exclude_id=b.pk, actor=actor)
    _raise(findings)
    identity_changed = (search_key(data.full_name), data.birth_date) != (b.name_key, b.birth_date)
    if identity_changed and not accept_duplicate and "likely_duplicate" in findings.codes:
        raise LikelyDuplicate({"full_name": findings.warnings["full_name"]})
    bulk.bulk_update_beneficiaries(
        actor=actor, changes=[bulk.Update(b, data, issue_codes(findings))], areas=_areas_for(data)
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


def _check_event_date(f: Findings, name: str, value: date | None, b: Beneficiary, today: date) -> None:
    if value is None:
        return
    if value > today:
        f.error(name, _("The date cannot be in the future."))
    elif value < b.birth_date:
        f.error(name, _("The date is before the date of birth."))


def _move_target_errors(b: Beneficiary, to_commune: Area | None, to_village: Area | None, signed_on: date) -> dict:
    """A move goes to another commune of the same area tree, valid when the decision is signed
    (any province: people move across the country)."""
    errors: dict[str, list[str]] = {}
    if (
        to_commune is None
        or to_commune.level != Level.COMMUNE
        or to_commune.tree != b.commune.tree
        or to_commune.pk == b.commune_id
        or not Area.objects.filter(pk=to_commune.pk).valid_on(signed_on).exists()
    ):
        errors["to_commune"] = [_("Choose the commune the person moves to.")]
    elif to_village is not None and (to_village.level != Level.VILLAGE or to_village.parent_id != to_commune.pk):
        errors["to_village"] = [_("The village does not belong to the commune.")]
    return errors


def _restart_categories(b: Beneficiary, month: date, categories: list | None) -> list:
    """The categories a restart pays under from `month`: those given, else those that were
    current when the allowance stopped. New rows from `month`, so the months in between are not
    covered."""
    if categories is None:
        last = b.end_month
        closed = b.categories.filter(to_month=last).select_related("category") if last else []
        categories = [_category_input(c) for c in closed]
    b.categories.filter(from_month__gte=month).delete()
    BeneficiaryCategory.objects.bulk_create(
        bulk.category_rows(b, categories, from_month=month, category_ids=_category_ids(categories))
    )
    return categories


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
    event_date: date | None = None,
    to_commune: Area | None = None,
    to_village: Area | None = None,
    categories: list | None = None,
    backdating_reason: str = "",
    note: str = "",
    funeral: dict | None = None,
) -> Decision:
    """Record a signed decision and apply it (policy-facts §1.6):

    - start (a restart after a stop): from the month given, by default the month it is signed;
      an earlier month needs a reason and is limited (`rules.check_start_month`); it pays under
      the categories given, else those current when the allowance stopped;
    - stop and adjust: from the month after the event (death, loss of eligibility, change of
      condition), whatever month the decision is signed in; the month of death is paid in full;
    - suspend and resume: from the month given, by default the month it is signed;
    - move: the old commune's half of a move — the allowance stops from the month after the
      person moved; the new commune continues it from that month with `accept_move`.

    A death may carry `funeral` (organiser_name, organiser_cccd, organiser_phone, relationship):
    the one-off funeral support is recorded with it (`payroll.receivables.record_funeral_support`)."""
    b = Beneficiary.objects.select_for_update(of=("self",)).select_related("commune").get(pk=beneficiary.pk)
    today = timezone.localdate()
    f = Findings()
    if kind not in DecisionKind.values:
        f.error("kind", _("Choose the kind of decision."))
    if not number.strip():
        f.error("number", _("The decision number is required."))
    if len(number.strip()) > 60:
        f.error("number", _("The decision number is too long (at most 60 characters)."))
    if signed_on > today:
        f.error("signed_on", _("The signing date cannot be in the future."))
    if kind == DecisionKind.STOP:
        check_stop_reason(reason, f)
        if reason == StopReason.DIED:
            if death_date is None:
                f.error("death_date", _("The date of death is required."))
            event_date = death_date
        elif event_date is None:
            f.error("event_date", _("Enter the date the person moved away or stopped being eligible."))
    elif kind == DecisionKind.ADJUST:
        if event_date is None:
            f.error("event_date", _("Enter the date the person's condition changed."))
        check_categories(
            list(categories or []),
            category_codes=set(_category_ids(categories or [])),
            findings=f,
        )
    elif kind == DecisionKind.MOVE:
        if event_date is None:
            f.error("event_date", _("Enter the date the person moved."))
        for name, messages in _move_target_errors(b, to_commune, to_village, signed_on).items():
            for m in messages:
                f.error(name, m)
    elif kind == DecisionKind.START and categories is not None:
        check_categories(list(categories), category_codes=set(_category_ids(categories)), findings=f)
    _check_event_date(
        f,
        "death_date" if kind == DecisionKind.STOP and reason == StopReason.DIED else "event_date",
        event_date,
        b,
        today,
    )
    _raise(f)

    # the transition rules
    if kind == DecisionKind.RESUME and b.status != Status.SUSPENDED:
        raise InvalidTransition(_("Only a suspended allowance can be resumed."))
    if kind == DecisionKind.START and b.status != Status.STOPPED:
        raise InvalidTransition(_("The allowance is already running; use an adjustment decision."))
    if kind in (DecisionKind.ADJUST, DecisionKind.MOVE) and b.status == Status.STOPPED:
        raise InvalidTransition(_("The allowance is stopped; record a new start decision first."))
    if kind == DecisionKind.START and b.stop_reason == StopReason.DIED:
        raise InvalidTransition(_("The person has died; the allowance cannot start again."))

    if kind in (DecisionKind.STOP, DecisionKind.ADJUST, DecisionKind.MOVE):
        assert event_date is not None  # required above for these kinds
        month = month_after(event_date)
    else:
        month = first_of_month(effective_month or signed_on)
    if kind == DecisionKind.START:
        check_start_month(
            start_month=month, signed_on=signed_on, reason=backdating_reason, findings=f, name="effective_month"
        )
        if b.end_month and month <= b.end_month:
            f.error(
                "effective_month",
                _("The allowance was paid until %(month)s; a new start must be from a later month.")
                % {"month": b.end_month.strftime("%m/%Y")},
            )
        if b.cccd and Beneficiary.objects.filter(cccd=b.cccd, status__in=ACTIVE_STATUSES).exclude(pk=b.pk).exists():
            f.error("cccd", _("This CCCD already belongs to another beneficiary who is receiving."))
    if kind in (DecisionKind.STOP, DecisionKind.MOVE, DecisionKind.ADJUST) and month < b.start_month:
        f.error(
            "event_date",
            _("The allowance starts in %(month)s; the event cannot be before it.")
            % {"month": b.start_month.strftime("%m/%Y")},
        )
    _raise(f)

    before = _snap(b)
    decision = Decision(
        beneficiary=b,
        kind=kind,
        number=number.strip(),
        signed_on=signed_on,
        effective_month=month,
        reason=StopReason.MOVED if kind == DecisionKind.MOVE else (reason if kind == DecisionKind.STOP else ""),
        death_date=death_date if kind == DecisionKind.STOP else None,
        event_date=event_date if kind in (DecisionKind.STOP, DecisionKind.ADJUST, DecisionKind.MOVE) else None,
        backdating_reason=backdating_reason.strip() if kind == DecisionKind.START else "",
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    status_after: dict[str, Status] = {
        DecisionKind.SUSPEND: Status.SUSPENDED,
        DecisionKind.RESUME: Status.ACTIVE,
        DecisionKind.STOP: Status.STOPPED,
        DecisionKind.MOVE: Status.STOPPED,
        DecisionKind.START: Status.ACTIVE,
    }
    new_status = status_after.get(kind)
    if new_status:
        _transition(b, new_status)
    if kind == DecisionKind.MOVE:
        decision.from_commune_id, decision.to_commune = b.commune_id, to_commune
        decision.details = {"to_village": to_village.pk if to_village else None}
    if kind == DecisionKind.ADJUST:
        assert categories is not None  # check_categories refused none above
        b.categories.filter(to_month__isnull=True, from_month__lt=month).update(to_month=add_months(month, -1))
        b.categories.filter(from_month__gte=month).delete()
        BeneficiaryCategory.objects.bulk_create(
            bulk.category_rows(b, categories, from_month=month, category_ids=_category_ids(categories))
        )
        decision.details = {"categories": [asdict(c) for c in categories]}
    if kind == DecisionKind.START:
        decision.details = {"categories": [asdict(c) for c in _restart_categories(b, month, categories)]}
    decision.save()
    if new_status:
        _apply_status(b, new_status, decision)
    b.save()
    record(
        actor=actor,
        action=f"registry.decision.{kind}",
        obj=b,
        before=before,
        after=_snap(b),
        note=f"{decision.number} ({decision.effective_month:%m/%Y})",
    )
    if (
        kind == DecisionKind.STOP
        and reason == StopReason.DIED
        and funeral
        and (funeral.get("organiser_name") or "").strip()
    ):
        _record_funeral(actor, b, death_date, funeral)
    return decision


def _record_funeral(actor, b: Beneficiary, death_date, funeral: dict) -> None:
    """The funeral support recorded with the death. payroll builds on the registry, so it is
    imported here, when the registry writes (as `bulk` does with payments)."""
    from ansinh.payroll.receivables import FuneralRefused, record_funeral_support

    try:
        record_funeral_support(
            actor=actor,
            beneficiary=b,
            death_date=death_date,
            organiser_name=funeral.get("organiser_name") or "",
            organiser_cccd=funeral.get("organiser_cccd") or "",
            organiser_phone=funeral.get("organiser_phone") or "",
            relationship=funeral.get("relationship") or "",
        )
    except FuneralRefused as exc:
        raise ValidationError({"organiser_name": [str(exc)]}) from exc


def _apply_status(b: Beneficiary, new_status: str, decision: Decision) -> None:
    month = decision.effective_month
    StatusChange.objects.create(
        beneficiary=b,
        from_status=b.status,
        to_status=new_status,
        reason=decision.reason,
        effective_month=month,
        decision=decision,
    )
    b.status = new_status
    if new_status == Status.STOPPED:
        b.stop_reason, b.death_date, b.end_month = decision.reason, decision.death_date, add_months(month, -1)
        b.categories.filter(to_month__isnull=True).update(to_month=add_months(month, -1))
        b.categories.filter(from_month__gte=month).delete()
    elif decision.kind == DecisionKind.START:
        b.stop_reason, b.death_date, b.end_month = "", None, None


@transaction.atomic
def accept_move(
    *, actor, move: Decision, number: str, signed_on: date, village: Area | None = None, note: str = ""
) -> Decision:
    """The new commune's half of a move: its start decision, linked to the old commune's, which
    continues the allowance from the month the old one stopped — no month lost, none paid twice
    (months before this decision's month are paid as arrears). The beneficiary, their categories
    and representatives move to the new commune."""
    move = Decision.objects.select_for_update(of=("self",)).select_related("to_commune", "from_commune").get(pk=move.pk)
    b = Beneficiary.objects.select_for_update(of=("self",)).select_related("commune").get(pk=move.beneficiary_id)
    f = Findings()
    if move.kind != DecisionKind.MOVE or Decision.objects.filter(follows=move).exists():
        raise InvalidTransition(_("This move has already been received."))
    latest = b.decisions.order_by("-effective_month", "-id").first()
    if b.status != Status.STOPPED or b.stop_reason != StopReason.MOVED or latest is None or latest.pk != move.pk:
        raise InvalidTransition(_("This move is no longer pending."))
    if not number.strip():
        f.error("number", _("The decision number is required."))
    if signed_on > timezone.localdate():
        f.error("signed_on", _("The signing date cannot be in the future."))
    if signed_on < move.signed_on:
        f.error("signed_on", _("The decision cannot be signed before the old commune's decision."))
    if village is not None and (village.level != Level.VILLAGE or village.parent_id != move.to_commune_id):
        f.error("village", _("The village does not belong to the commune."))
    if b.cccd and Beneficiary.objects.filter(cccd=b.cccd, status__in=ACTIVE_STATUSES).exclude(pk=b.pk).exists():
        f.error("number", _("This CCCD already belongs to another beneficiary who is receiving."))
    _raise(f)
    before = _snap(b)
    month = move.effective_month
    decision = Decision(
        beneficiary=b,
        kind=DecisionKind.START,
        number=number.strip(),
        signed_on=signed_on,
        effective_month=month,
        from_commune_id=move.from_commune_id,
        to_commune_id=move.to_commune_id,
        follows=move,
        backdating_reason=(
            _("Moved from %(commune)s (decision %(number)s)")
            % {"commune": move.from_commune.full_name if move.from_commune else "", "number": move.number}
        )
        if first_of_month(signed_on) > month
        else "",
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _transition(b, Status.ACTIVE)
    decision.details = {"categories": [asdict(c) for c in _restart_categories(b, month, None)]}
    decision.save()
    _apply_status(b, Status.ACTIVE, decision)
    to_commune = move.to_commune
    assert to_commune is not None  # a move decision names the commune it goes to
    b.commune, b.village = to_commune, village
    b.area_path = (village or to_commune).path
    b.save()
    record(
        actor=actor,
        action="registry.decision.move_received",
        obj=b,
        before=before,
        after=_snap(b),
        note=f"{decision.number} ({decision.effective_month:%m/%Y})",
    )
    return decision


# --- representatives ---------------------------------------------------------------------------


def validate_representation(*, beneficiary: Beneficiary, data: RepresentationInput) -> RepresentationInput:
    """The rules of one representation, as for the representatives of a registration."""
    data, f = clean_representation(data, today=timezone.localdate(), beneficiary_cccd=beneficiary.cccd)
    conflicts = matching.representative_conflicts([data.person])
    if data.person.cccd in conflicts:
        f.error("cccd", conflicts[data.person.cccd])
    _raise(f)
    return data


@transaction.atomic
def add_representation(*, actor, beneficiary: Beneficiary, data: RepresentationInput) -> Representation:
    """Link a guardian or authorised person (found by CCCD, else created) to a beneficiary, or
    update the current link. A person known already is linked, never overwritten by somebody who
    may not edit the registry where that person belongs (`bulk.save_representations`)."""
    data = validate_representation(beneficiary=beneficiary, data=data)
    b = Beneficiary.objects.select_for_update(of=("self",)).select_related("commune", "village").get(pk=beneficiary.pk)
    (link,) = bulk.save_representations(actor, [(b, data)])
    return link


@transaction.atomic
def set_payee(*, actor, beneficiary: Beneficiary, representation: Representation | None) -> None:
    """Make a representative the current payee, or (None) the beneficiary themself."""
    Beneficiary.objects.select_for_update().filter(pk=beneficiary.pk).first()
    current = Representation.objects.filter(beneficiary=beneficiary, is_payee=True, ended_at__isnull=True).first()
    if (current and representation and current.pk == representation.pk) or (current is None and representation is None):
        return
    if representation is not None and (
        representation.beneficiary_id != beneficiary.pk or representation.ended_at is not None
    ):
        raise ValidationError(_("This representative does not act for the beneficiary."))
    Representation.objects.filter(beneficiary=beneficiary, is_payee=True).update(is_payee=False)
    if representation is not None:
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
    """End a representation. When its representative was the payee, the beneficiary is paid
    from the month of the payee rule (`payments.services.payee_change_month`: the next month
    once paid, the current month may be in a payroll already), recorded in the payee history
    (`payments.payees`)."""
    if representation.ended_at is None:
        was_payee = Representation.objects.filter(pk=representation.pk, is_payee=True).exists()
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
        if was_payee:
            # payments builds on the registry: imported here, never at module level
            from ansinh.payments.payees import PayeeChange, record_payee_changes

            record_payee_changes(
                actor=actor, changes=[PayeeChange(representation.beneficiary, None, previous=representation)]
            )
