"""Every write to applications. Verb-first, keyword-only, an actor (None for the public site),
one transaction, audited; every state change goes through `_change_state` against the one map
of allowed changes (models.TRANSITIONS).

The procedure (Decree 20/2021 Art. 7-8; Decree 147/2025 since 2025-07-01): the application is
received online or at the counter; the commune reviews it (accepts it for posting, returns it for
more documents, or refuses it with a reason); the accepted application is posted publicly for
two working days (never HIV information: `public_category_name`); after the posting the
competent chairperson decides: an approval creates the beneficiary (or restarts a stopped one
with the same CCCD) through the registry's services, a refusal records the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import Function, OrgKind, OrgUnit
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.errors import InvalidTransition
from ansinh.payroll.calendar import is_working_day, shift_to_working_day
from ansinh.payroll.models import NonWorkingRule
from ansinh.policy.models import Category, Kind
from ansinh.registry import matching
from ansinh.registry import services as registry
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, Decision, DecisionKind, RepresentationKind, Status
from ansinh.registry.rules import first_of_month
from ansinh.registry.validation import Findings, check_birth_date, check_identity, check_name, check_phone

from . import files as docs
from . import throttle
from .models import OPEN_STATES, Application, Attachment, Channel, State

REFORM_DAY = date(2025, 7, 1)  # Decree 147/2025: the commune chairperson decides from this day
POSTING_WORKING_DAYS = 2
REFERENCE_TRIES = 5


@dataclass
class ApplicantInput:
    full_name: str
    birth_date: date | None
    gender: str
    cccd: str
    phone: str
    commune_id: int | None
    entitlement: str  # "code|condition|fixed_key", as the registry's decision form
    village_id: int | None = None
    address: str = ""
    rep_name: str = ""
    rep_cccd: str = ""
    rep_phone: str = ""
    rep_relationship: str = ""
    note: str = ""


# --- helpers ---------------------------------------------------------------------------------------


def _raise(f: Findings) -> None:
    if f.errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in f.errors.items()})


def _require(actor, cap: str, application: Application) -> None:
    if not access.can_in_area(actor, cap, application.commune):
        raise PermissionDenied(_("You may not do this for this commune."))


def _change_state(app: Application, to: str) -> str:
    if not app.can_become(to):
        raise InvalidTransition(
            _("An application that is “%(from)s” cannot become “%(to)s”.")
            % {"from": State(app.state).label, "to": State(to).label}
        )
    before, app.state = app.state, to
    return before


def _audit(actor, app: Application, action: str, before_state: str, note: str = "", **after) -> None:
    record(
        actor=actor,
        action=action,
        obj=app,
        before={"state": before_state} if before_state else None,
        after={"reference": app.reference, "state": app.state, **after},
        note=note,
    )


def next_reference(year: int) -> str:
    """The next free reference of the year (HS-2026-000045). Two submissions at the same moment
    may compute the same one: the unique constraint refuses the second, which takes the next
    (`_create`)."""
    last = (
        Application.objects.filter(reference__startswith=f"HS-{year}-")
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    return f"HS-{year}-{int(last.rsplit('-', 1)[1]) + 1 if last else 1:06d}"


def receiving_communes():
    """The communes that take applications online: those where someone may review them (a role
    carrying applications.review on the commune or above), valid today."""
    from functools import reduce
    from operator import or_

    from django.db.models import Q

    from ansinh.accounts.models import RoleAssignment
    from ansinh.accounts.roles import ROLE_CAPABILITIES

    roles = [r for r, caps in ROLE_CAPABILITIES.items() if Cap.APPLICATIONS_REVIEW in caps]
    paths = set(RoleAssignment.objects.active().filter(role__in=roles).values_list("area__path", flat=True))
    if not paths:
        return Area.objects.none()
    return (
        Area.objects.filter(level=Level.COMMUNE)
        .valid_on(timezone.localdate())
        .filter(reduce(or_, (Q(path__startswith=p) for p in paths)))
        .select_related("parent")
        .order_by("name_key")
    )


def parse_entitlement(value: str) -> tuple[Category | None, str, str]:
    code, condition, fixed_key = ((value or "").split("|") + ["", ""])[:3]
    category = Category.objects.filter(code=code, kind=Kind.MONTHLY).first() if code else None
    return category, condition, fixed_key


def posting_period(starts: date) -> tuple[date, date]:
    """The two working days of a public posting: from `starts` (moved to the next working day
    when it is not one) to the next working day after it. Weekends and Vietnamese public holidays
    (payroll.calendar, the `holidays` package) do not count."""
    first = shift_to_working_day(starts, NonWorkingRule.NEXT)
    last, left = first, POSTING_WORKING_DAYS - 1
    while left:
        last += timedelta(days=1)
        if is_working_day(last):
            left -= 1
    return first, last


def decidable_from(app: Application) -> date | None:
    """The first day a decision may be recorded: the day after the posting ends."""
    return app.posting_ends + timedelta(days=1) if app.posting_ends else None


def signer_title(commune: Area, on: date) -> str:
    """The competent chairperson: the commune People's Committee's since 2025-07-01, before that
    the unit that approved for the commune (accounts.Responsibility, function approve)."""
    unit = None
    if on >= REFORM_DAY:
        unit = OrgUnit.objects.filter(kind=OrgKind.COMMUNE_COMMITTEE, area=commune, active=True).first()
    if unit is None:
        from ansinh.accounts.services import responsible_unit

        unit = responsible_unit(area=commune, function=Function.APPROVE, on=on)
    name = unit.name if unit else f"UBND {commune.division_type.lower()} {commune.name}".replace("  ", " ")
    return _("Chairperson of %(unit)s") % {"unit": name}


# --- checking an application -----------------------------------------------------------------------


def check_applicant(data: ApplicantInput, *, communes=None, exclude_id: int | None = None) -> dict:
    """The applicant's data cleaned (a dict of model fields); a ValidationError listing every
    problem. `communes`: the communes the commune must be among."""
    f = Findings()
    today = timezone.localdate()
    name, _f = check_name(data.full_name, findings=f)
    check_birth_date(data.birth_date, today=today, findings=f)
    if data.gender not in ("male", "female"):
        f.error("gender", _("Gender must be male or female."))
    cccd = ""
    if not (data.cccd or "").strip():
        f.error("cccd", _("The CCCD (personal identification number) is required."))
    else:
        cccd, _legacy, _f = check_identity(
            data.cccd, birth_date=data.birth_date, gender=data.gender or None, findings=f, legacy=False
        )
    phone, _f = check_phone(data.phone, findings=f)
    rep_name = rep_cccd = rep_phone = ""
    if (data.rep_name or "").strip() or (data.rep_cccd or "").strip() or (data.rep_phone or "").strip():
        rep_name, _f = check_name(data.rep_name, name="rep_name", findings=f)
        if (data.rep_cccd or "").strip():
            rep_cccd, _l, _f = check_identity(
                data.rep_cccd, birth_date=None, gender=None, name="rep_cccd", findings=f, legacy=False
            )
            if rep_cccd and rep_cccd == cccd:
                f.error("rep_cccd", _("The representative's CCCD is the applicant's own."))
        rep_phone, _f = check_phone(data.rep_phone, name="rep_phone", findings=f)
        if not (data.rep_relationship or "").strip():
            f.error("rep_relationship", _("Enter the representative's relationship to the applicant."))
    if not phone and not rep_phone:
        f.error(
            "phone",
            _(
                "Enter a phone number (the applicant's or the representative's): it is needed to follow the "
                "application."
            ),
        )
    commune = Area.objects.filter(pk=data.commune_id, level=Level.COMMUNE).first() if data.commune_id else None
    if commune is None or (communes is not None and not communes.filter(pk=commune.pk).exists()):
        f.error("commune", _("Choose the commune where the applicant lives."))
    village = None
    if data.village_id:
        village = Area.objects.filter(pk=data.village_id, level=Level.VILLAGE).first()
        if village is None or commune is None or village.parent_id != commune.pk:
            f.error("village", _("The village does not belong to the commune."))
    category, condition, fixed_key = parse_entitlement(data.entitlement)
    if category is None:
        f.error("entitlement", _("Choose the category the applicant claims."))
    for field_name, value, limit in (
        ("address", data.address, 255),
        ("rep_relationship", data.rep_relationship, 60),
        ("note", data.note, 2000),
    ):
        if len(value or "") > limit:
            f.error(field_name, _("The text is too long (at most %(n)d characters).") % {"n": limit})
    _raise(f)
    if cccd:
        _check_duplicates(cccd, f, exclude_id=exclude_id)
    _raise(f)
    assert commune is not None and category is not None
    return {
        "full_name": name,
        "birth_date": data.birth_date,
        "gender": data.gender,
        "cccd": cccd,
        "phone": phone,
        "commune": commune,
        "village": village,
        "address": (data.address or "").strip(),
        "area_path": (village or commune).path,
        "rep_name": rep_name,
        "rep_cccd": rep_cccd,
        "rep_phone": rep_phone,
        "rep_relationship": (data.rep_relationship or "").strip() if rep_name else "",
        "category": category,
        "condition": condition,
        "fixed_key": fixed_key,
        "note": (data.note or "").strip(),
    }


def _check_duplicates(cccd: str, f: Findings, *, exclude_id: int | None = None) -> None:
    """A person who already receives the allowance needs no application; one application at a time."""
    if Beneficiary.objects.filter(cccd=cccd, status__in=matching.ACTIVE_STATUSES).exists():
        f.error(
            "cccd",
            _(
                "The person with this CCCD already receives a monthly allowance: no new application is needed. "
                "For a change, contact the commune People's Committee."
            ),
            code="already_beneficiary",
        )
        return
    open_ = Application.objects.filter(cccd=cccd, state__in=OPEN_STATES)
    if exclude_id:
        open_ = open_.exclude(pk=exclude_id)
    if open_.exists():
        f.error(
            "cccd",
            _(
                "An application for the person with this CCCD is already being handled. Follow it on the "
                "status page or contact the commune."
            ),
            code="open_application",
        )


# --- receiving -------------------------------------------------------------------------------------


def _create(*, actor, data: dict, channel: str, uploads: list[docs.Upload]) -> Application:
    checked = docs.check_uploads(uploads)
    written: list[Attachment] = []
    try:
        with transaction.atomic():
            app = Application(
                channel=channel,
                state=State.SUBMITTED,
                submitted_at=timezone.now(),
                received_by=actor if getattr(actor, "pk", None) else None,
                **data,
            )
            for attempt in range(REFERENCE_TRIES):
                app.reference = next_reference(timezone.localdate().year)
                try:
                    with transaction.atomic():
                        app.save()
                    break
                except IntegrityError:
                    if attempt == REFERENCE_TRIES - 1:
                        raise
            written = docs.store(app, checked, actor=actor)
            _audit(
                actor,
                app,
                "applications.submitted",
                "",
                channel=channel,
                documents=len(written),
            )
    except BaseException:
        docs.remove_files(written)
        raise
    return app


def submit_online(*, data: ApplicantInput, uploads: list[docs.Upload], client: str) -> Application:
    """An application from the public site (no sign-in). Rate-limited per client: a refused or
    invalid submission counts too. Returns the application (its reference for the applicant)."""
    throttle.check_submission(client)
    throttle.count(throttle.SUBMIT, client)
    cleaned = check_applicant(data, communes=receiving_communes())
    return _create(actor=None, data=cleaned, channel=Channel.ONLINE, uploads=uploads)


def submit_at_counter(*, actor, data: ApplicantInput, uploads: list[docs.Upload]) -> Application:
    """An application received at the commune counter by a member of staff who reviews
    applications there."""
    cleaned = check_applicant(data, communes=access.scope(Area.objects.all(), actor, Cap.APPLICATIONS_REVIEW, "path"))
    if not access.can_in_area(actor, Cap.APPLICATIONS_REVIEW, cleaned["commune"]):
        raise PermissionDenied(_("You may not do this for this commune."))
    return _create(actor=actor, data=cleaned, channel=Channel.COUNTER, uploads=uploads)


def add_documents(*, actor, application: Application, uploads: list[docs.Upload]) -> list[Attachment]:
    """More documents: by the applicant (actor None, proven by the status page) while the
    application is returned for more, or by staff at the counter while it is open. A returned
    application goes back to the commune (submitted)."""
    if actor is not None:
        _require(actor, Cap.APPLICATIONS_REVIEW, application)
    if not uploads:
        raise ValidationError({"attachments": [_("Choose at least one document.")]})
    written: list[Attachment] = []
    try:
        with transaction.atomic():
            app = Application.objects.select_for_update().get(pk=application.pk)
            allowed = {State.RETURNED} if actor is None else OPEN_STATES
            if app.state not in allowed:
                raise InvalidTransition(_("Documents can no longer be added to this application."))
            checked = docs.check_uploads(uploads, already=app.attachments.count())
            written = docs.store(app, checked, actor=actor)
            before = ""
            if app.state == State.RETURNED:
                before = _change_state(app, State.SUBMITTED)
                app.save(update_fields=["state", "updated_at"])
            _audit(actor, app, "applications.documents_added", before, documents=len(written))
    except BaseException:
        docs.remove_files(written)
        raise
    application.refresh_from_db()
    return written


# --- the commune's review --------------------------------------------------------------------------

REVIEW_OUTCOMES = ("accept", "return", "reject")


@transaction.atomic
def review(*, actor, application: Application, outcome: str, comment: str = "") -> Application:
    """The commune's review: accept (under review, to be posted), return for more documents
    (the comment tells the applicant what is missing: they see it on the status page), or
    refuse with a reason."""
    app = Application.objects.select_for_update().select_related("commune").get(pk=application.pk)
    _require(actor, Cap.APPLICATIONS_REVIEW, app)
    comment = (comment or "").strip()
    if outcome not in REVIEW_OUTCOMES:
        raise ValidationError({"outcome": [_("Choose the outcome of the review.")]})
    if outcome in ("return", "reject") and not comment:
        raise ValidationError(
            {
                "comment": [
                    _("Say what documents are missing.") if outcome == "return" else _("Enter the reason for refusing.")
                ]
            }
        )
    if len(comment) > 2000:
        raise ValidationError({"comment": [_("The text is too long (at most %(n)d characters).") % {"n": 2000}]})
    target = {"accept": State.UNDER_REVIEW, "return": State.RETURNED, "reject": State.REJECTED}[outcome]
    before = _change_state(app, target)
    app.reviewed_at = timezone.now()
    if outcome == "return":
        app.review_comment = comment
    elif outcome == "reject":
        app.rejection_reason = comment
        app.decided_at = timezone.now()
    action = {"accept": "applications.accepted", "return": "applications.returned", "reject": "applications.rejected"}
    app.save()
    _audit(actor, app, action[outcome], before, note=comment)
    return app


@transaction.atomic
def post_publicly(*, actor, application: Application, starts: date | None = None) -> Application:
    """Post the accepted application publicly at the commune (and on the public site) for two
    working days from `starts` (today by default; not in the past)."""
    app = Application.objects.select_for_update().select_related("commune").get(pk=application.pk)
    _require(actor, Cap.APPLICATIONS_REVIEW, app)
    today = timezone.localdate()
    starts = starts or today
    if starts < today:
        raise ValidationError({"starts": [_("The posting cannot start in the past.")]})
    if starts > today + timedelta(days=30):
        raise ValidationError({"starts": [_("The posting must start within 30 days.")]})
    before = _change_state(app, State.POSTED)
    app.posting_starts, app.posting_ends = posting_period(starts)
    app.save()
    _audit(actor, app, "applications.posted", before, posting_starts=app.posting_starts, posting_ends=app.posting_ends)
    return app


@transaction.atomic
def withdraw(*, actor, application: Application, reason: str = "") -> Application:
    """The applicant withdraws (recorded by staff at their request)."""
    app = Application.objects.select_for_update().select_related("commune").get(pk=application.pk)
    _require(actor, Cap.APPLICATIONS_REVIEW, app)
    before = _change_state(app, State.WITHDRAWN)
    app.decided_at = timezone.now()
    app.save()
    _audit(actor, app, "applications.withdrawn", before, note=(reason or "").strip()[:500])
    return app


# --- the chairperson's decision --------------------------------------------------------------------


def _beneficiary_input(app: Application, *, number: str, signed_on: date, start: date, backdating_reason: str):
    reps = []
    if app.rep_name:
        reps.append(
            RepresentationInput(
                person=PersonInput(full_name=app.rep_name, cccd=app.rep_cccd, phone=app.rep_phone),
                kind=RepresentationKind.AUTHORISED,
                relationship=app.rep_relationship,
            )
        )
    return BeneficiaryInput(
        full_name=app.full_name,
        birth_date=app.birth_date,
        gender=app.gender,
        commune_id=app.commune_id,
        village_id=app.village_id,
        cccd=app.cccd,
        phone=app.phone,
        no_phone=not app.phone,
        address=app.address,
        categories=[CategoryInput(code=app.category.code, condition=app.condition, fixed_key=app.fixed_key)],
        decision_number=number,
        decision_date=signed_on,
        start_month=start,
        backdating_reason=backdating_reason,
        representatives=reps,
    )


@transaction.atomic
def decide(
    *,
    actor,
    application: Application,
    approve: bool,
    number: str = "",
    signed_on: date | None = None,
    signer: str = "",
    start_month: date | None = None,
    backdating_reason: str = "",
    reason: str = "",
    accept_duplicate: bool = False,
) -> Application:
    """Record the competent chairperson's decision, only once the posting period has ended.

    Approval: the decision number, date and signer; the allowance starts from `start_month`, by
    default the month the decision is signed (registry.rules.check_start_month; an earlier month
    needs a reason). The beneficiary is created through the registry's services with the claimed
    category, the start decision and the representative (as authorised person); a person with
    the same CCCD whose allowance was stopped is updated and restarted by a start decision
    instead. Refusal: the reason (the decision number, when there is one, is kept)."""
    app = (
        Application.objects.select_for_update(of=("self",))
        .select_related("commune", "village", "category")
        .get(pk=application.pk)
    )
    _require(actor, Cap.REGISTRY_DECIDE, app)
    today = timezone.localdate()
    if app.state != State.POSTED:
        raise InvalidTransition(_("Only an application that has been posted publicly can be decided."))
    assert app.posting_ends is not None  # a posted application has its dates (appl_posted_has_dates)
    decidable = app.posting_ends + timedelta(days=1)
    if today <= app.posting_ends:
        raise InvalidTransition(
            _("The public posting ends on %(end)s; the decision can be recorded from %(day)s.")
            % {"end": app.posting_ends.strftime("%d/%m/%Y"), "day": decidable.strftime("%d/%m/%Y")}
        )
    number, signer, reason = (number or "").strip(), (signer or "").strip(), (reason or "").strip()
    f = Findings()
    if approve:
        if not number:
            f.error("number", _("The decision number is required."))
        if not signer:
            f.error("signer", _("Enter the name of the person who signed the decision."))
    elif not reason:
        f.error("reason", _("Enter the reason for refusing."))
    if len(number) > 60:
        f.error("number", _("The decision number is too long (at most 60 characters)."))
    if len(signer) > 150:
        f.error("signer", _("The text is too long (at most %(n)d characters).") % {"n": 150})
    if signed_on is None:
        f.error("signed_on", _("Enter the date the decision was signed."))
    elif signed_on > today:
        f.error("signed_on", _("The signing date cannot be in the future."))
    elif signed_on <= app.posting_ends:
        f.error("signed_on", _("The decision cannot be signed before the public posting has ended."))
    _raise(f)
    assert signed_on is not None
    before = app.state
    app.decision_number, app.decision_date, app.decided_at = number, signed_on, timezone.now()
    app.decision_signer = signer
    app.decision_signer_title = signer_title(app.commune, signed_on)
    if not approve:
        _change_state(app, State.REJECTED)
        app.rejection_reason = reason
        app.save()
        _audit(actor, app, "applications.rejected", before, note=reason)
        return app

    start = first_of_month(start_month or signed_on)
    existing = Beneficiary.objects.filter(cccd=app.cccd).order_by("-id").first() if app.cccd else None
    if existing is not None and existing.status in matching.ACTIVE_STATUSES:
        raise ValidationError(
            {
                "cccd": [
                    _(
                        "The person with this CCCD already receives a monthly allowance; the application cannot be "
                        "approved."
                    )
                ]
            }
        )
    data = _beneficiary_input(app, number=number, signed_on=signed_on, start=start, backdating_reason=backdating_reason)
    decision: Decision | None
    if existing is not None and existing.status == Status.STOPPED:
        data.decision_number, data.decision_date, data.representatives = "", None, []
        data.start_month = existing.start_month
        registry.update_beneficiary(actor=actor, beneficiary=existing, data=data, accept_duplicate=accept_duplicate)
        decision = registry.record_decision(
            actor=actor,
            beneficiary=existing,
            kind=DecisionKind.START,
            number=number,
            signed_on=signed_on,
            effective_month=start,
            categories=data.categories,
            backdating_reason=backdating_reason,
            note=_("Application %(reference)s") % {"reference": app.reference},
        )
        beneficiary = existing
        rep = _beneficiary_input(app, number=number, signed_on=signed_on, start=start, backdating_reason="")
        for link in rep.representatives:
            registry.add_representation(actor=actor, beneficiary=beneficiary, data=link)
    else:
        beneficiary = registry.create_beneficiary(actor=actor, data=data, accept_duplicate=accept_duplicate)
        decision = beneficiary.decisions.filter(kind=DecisionKind.START).order_by("-id").first()
        assert decision is not None  # create_beneficiary records the start decision
    app.beneficiary, app.decision = beneficiary, decision
    app.start_month = start
    _change_state(app, State.APPROVED)
    app.save()
    _audit(actor, app, "applications.approved", before, start_month=start, decision_number=number)
    return app


@transaction.atomic
def record_download(*, actor, attachment: Attachment) -> None:
    """A member of staff opened a document of an application (logged)."""
    record(
        actor=actor,
        action="applications.document_opened",
        obj=attachment.application,
        after={"reference": attachment.application.reference, "kind": attachment.kind},
    )
