"""The beneficiary registry over HTTP: search, registration, corrections, decisions and
representatives. Each endpoint parses, authorises on the beneficiary's area, calls one registry
service or query and shapes the answer; the rules live in `ansinh.registry`.

Another area's beneficiary is a 404; a user who may see but not change it gets a 403."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.core.text import phone_display
from ansinh.payments.services import designate_payee
from ansinh.registry import matching, queries, services
from ansinh.registry.bulk import sensitive_codes
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation
from ansinh.registry.privacy import contact_visible, mask_phone

from .common import Id, responses
from .schemas_registry import (
    BeneficiaryFilters,
    BeneficiaryIn,
    BeneficiaryOut,
    BeneficiaryPage,
    BeneficiaryPatch,
    CategoryIn,
    DecisionIn,
    DecisionOut,
    IncomingMoveOut,
    MoveAcceptIn,
    PayeeIn,
    RepresentationIn,
    RepresentationOut,
)

router = Router(tags=["registry"])


# --- authorisation --------------------------------------------------------------------------


def _deny() -> HttpError:
    return HttpError(403, _("Your role does not allow changing the registry in this area."))


def _area_of(b: Beneficiary) -> Area:
    return b.village or b.commune


def _beneficiary(request, beneficiary_id: int, cap: str | None = None, qs: QuerySet | None = None) -> Beneficiary:
    """The beneficiary if the user may see it (else 404) and, with `cap`, act on it (else 403)."""
    qs = queries.beneficiaries_for(request.auth) if qs is None else qs
    b = get_object_or_404(qs.select_related("commune", "village"), pk=beneficiary_id)
    if cap and not access.can_in_area(request.auth, cap, _area_of(b)):
        raise _deny()
    return b


# --- shaping --------------------------------------------------------------------------------


def _current_categories() -> Prefetch:
    return Prefetch(
        "categories",
        queryset=BeneficiaryCategory.objects.filter(to_month__isnull=True)
        .select_related("category")
        .order_by("category__code", "id"),
        to_attr="current_categories",
    )


def _category(c: BeneficiaryCategory) -> dict:
    return {
        "code": c.category.code,
        "name": c.category.name,
        "condition": c.condition,
        "units": c.units,
        "fixed_key": c.fixed_key,
        "from_month": c.from_month,
        "to_month": c.to_month,
    }


def _representation(link: Representation, full_cccd: bool, person_visible: bool, contact: bool) -> dict:
    """A representation; a person who belongs to another area (they also represent someone
    there) is shown by name and masked CCCD only."""
    rep = link.representative
    full_cccd = full_cccd and person_visible
    return {
        "id": link.pk,
        "representative_id": rep.pk,
        "full_name": rep.full_name,
        "birth_date": rep.birth_date if person_visible else None,
        "gender": rep.gender if person_visible else "",
        "cccd": rep.cccd if full_cccd else rep.masked_cccd,
        "cccd_masked": bool(rep.cccd) and not full_cccd,
        "phone": (rep.phone if contact else mask_phone(rep.phone)) if person_visible else "",
        "phone_display": (phone_display(rep.phone) if contact else mask_phone(rep.phone)) if person_visible else "",
        "kind": link.kind,
        "relationship": link.relationship,
        "document_number": link.document_number,
        "valid_from": link.valid_from,
        "valid_to": link.valid_to,
        "is_payee": link.is_payee and link.ended_at is None,
        "ended_at": link.ended_at,
    }


def _item(b: Beneficiary, full_cccd: bool, show_sensitive: bool, contact: bool) -> dict:
    """One beneficiary; the phone masked where the user may not see contact data
    (`registry.privacy.contact_visible`)."""
    return {
        "id": b.pk,
        "full_name": b.full_name,
        "birth_date": b.birth_date,
        "gender": b.gender,
        "cccd": b.cccd if full_cccd else b.masked_cccd,
        "cccd_masked": bool(b.cccd) and not full_cccd,
        "phone": b.phone if contact else mask_phone(b.phone),
        "phone_display": b.phone_display if contact else mask_phone(b.phone),
        "commune": {"id": b.commune.pk, "name": b.commune.name},
        "village": {"id": b.village.pk, "name": b.village.name} if b.village else None,
        "status": b.status,
        "start_month": b.start_month,
        "end_month": b.end_month,
        "cannot_travel": b.cannot_travel,
        "no_phone": b.no_phone,
        "cannot_read_vietnamese": b.cannot_read_vietnamese,
        "frail": b.frail,
        "has_issues": b.has_issues,
        "categories": [
            _category(c)
            for c in b.current_categories  # type: ignore[attr-defined]  # Prefetch(to_attr=...) by the callers
            if show_sensitive or not c.category.sensitive
        ],
    }


def _hidden_codes(show_sensitive: bool) -> frozenset[str]:
    """The category codes a reader may not see (HIV-related ones, unless they may), read once."""
    return frozenset() if show_sensitive else sensitive_codes()


def _decision(d, hidden: frozenset[str]) -> dict:
    """A decision; the categories in its details without the `hidden` ones."""
    details = dict(d.details or {})
    if hidden and details.get("categories"):
        details["categories"] = [c for c in details["categories"] if c.get("code") not in hidden]
    return {
        "id": d.pk,
        "kind": d.kind,
        "number": d.number,
        "signed_on": d.signed_on,
        "effective_month": d.effective_month,
        "reason": d.reason,
        "death_date": d.death_date,
        "event_date": d.event_date,
        "backdating_reason": d.backdating_reason,
        "note": d.note,
        "from_commune_id": d.from_commune_id,
        "to_commune_id": d.to_commune_id,
        "follows_id": d.follows_id,
        "details": details,
        "created_at": d.created_at,
    }


def _person_visible(request):
    return matching.viewer(request.auth)


def _links(b: Beneficiary, *, include_ended: bool) -> list[Representation]:
    qs = b.representations.select_related("representative")
    if not include_ended:
        qs = qs.filter(ended_at__isnull=True)
    return list(qs.order_by("ended_at", "id"))


def _detail(request, beneficiary_id: int) -> dict:
    qs = queries.beneficiaries_for(request.auth).prefetch_related(_current_categories())
    b = _beneficiary(request, beneficiary_id, qs=qs)
    full_cccd = queries.cccd_visible(request.auth)(b.area_path)
    show_sensitive = queries.sensitive_visible(request.auth)(b.area_path)
    contact = contact_visible(request.auth)(b.area_path)
    person_visible = _person_visible(request)
    links = _links(b, include_ended=False)
    return {
        **_item(b, full_cccd, show_sensitive, contact),
        "ethnicity": b.ethnicity,
        "address": b.address,
        "stop_reason": b.stop_reason,
        "death_date": b.death_date,
        "quality_issues": b.quality_issues or [],
        "representatives": [
            _representation(link, full_cccd, person_visible(link.representative.area_path), contact) for link in links
        ],
        "payee_representation_id": next((link.pk for link in links if link.is_payee), None),
        "decisions": list(b.decisions.order_by("effective_month", "id")),
        "created_at": b.created_at,
        "updated_at": b.updated_at,
    }


# --- parsing --------------------------------------------------------------------------------


def _categories(items: list[CategoryIn]) -> list[CategoryInput]:
    return [CategoryInput(code=c.code, condition=c.condition, units=c.units, fixed_key=c.fixed_key) for c in items]


def _representation_input(r: RepresentationIn) -> RepresentationInput:
    person = PersonInput(full_name=r.full_name, birth_date=r.birth_date, gender=r.gender, cccd=r.cccd, phone=r.phone)
    return RepresentationInput(
        person=person,
        kind=r.kind,
        relationship=r.relationship,
        document_number=r.document_number,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        is_payee=r.is_payee,
    )


def _current_input(b: Beneficiary) -> BeneficiaryInput:
    """The beneficiary's current row as a full input, to apply a partial update onto."""
    return BeneficiaryInput(**{name: getattr(b, name) for name in BeneficiaryInput.EDITABLE}, start_month=b.start_month)


def _target_area(user, commune_id: int, village_id: int | None) -> Area:
    """Where a new beneficiary would live (the village if it is one of the commune's), checked
    like an existing one: outside the user's areas 404, read-only 403."""
    area = Area.objects.filter(pk=village_id, parent_id=commune_id).first() if village_id else None
    area = area or Area.objects.filter(pk=commune_id).first()
    if area is None or not access.can_in_area(user, Cap.REGISTRY_VIEW, area):
        raise Http404
    if not access.can_in_area(user, Cap.REGISTRY_EDIT, area):
        raise _deny()
    return area


# --- endpoints ------------------------------------------------------------------------------


@router.get("/beneficiaries", response=responses({200: BeneficiaryPage}))
def list_beneficiaries(request, filters: Query[BeneficiaryFilters]):
    """Search the beneficiaries in the user's areas: a name search ranked (names starting with it
    first), otherwise in Vietnamese list order (given name first)."""
    params = queries.SearchParams(
        q=filters.q,
        cccd=filters.cccd,
        phone=filters.phone,
        area=filters.area,
        category=filters.category,
        status=filters.status or "",
        needs=tuple(filters.needs),
        issues=filters.issues,
    )
    results = queries.search(request.auth, params)  # ranked for a name, else in Vietnamese list order
    cap = queries.COUNT_CAP
    upto = queries.count_upto(results, cap)  # exact up to the cap: a million-row COUNT(*) is slow
    exact = upto <= cap
    count = min(upto, cap)
    # Only the counted window (the first `cap` matches, as in the web list) is paged through: a
    # page after it costs no query, and no request scans more than `cap` rows to skip them.
    start = (filters.page - 1) * filters.page_size
    end = min(start + filters.page_size, count)
    rows = (
        list(results.select_related("commune", "village").prefetch_related(_current_categories())[start:end])
        if start < end
        else []
    )
    visible = queries.cccd_visible(request.auth)
    sensitive = queries.sensitive_visible(request.auth)
    contact = contact_visible(request.auth)
    return {
        "items": [_item(b, visible(b.area_path), sensitive(b.area_path), contact(b.area_path)) for b in rows],
        "count": count,
        "count_exact": exact,
        "page": filters.page,
        "pages": max(1, math.ceil(count / filters.page_size)),
        "has_next": end < count,
    }


@router.post("/beneficiaries", response=responses({201: BeneficiaryOut}, body=True, forbidden=True, not_found=True))
def create_beneficiary(request, payload: BeneficiaryIn):
    """Register a beneficiary with categories, the start decision and representatives.
    A likely duplicate (same name and date of birth in the province) is refused unless
    `accept_duplicate` is true."""
    _target_area(request.auth, payload.commune_id, payload.village_id)
    data = BeneficiaryInput(
        **payload.dict(exclude={"categories", "representatives", "accept_duplicate"}),
        categories=_categories(payload.categories),
        representatives=[_representation_input(r) for r in payload.representatives],
    )
    b = services.create_beneficiary(actor=request.auth, data=data, accept_duplicate=payload.accept_duplicate)
    return Status(201, _detail(request, b.pk))


@router.get("/beneficiaries/{beneficiary_id}", response=responses({200: BeneficiaryOut}, not_found=True))
def get_beneficiary(request, beneficiary_id: Id):
    return _detail(request, beneficiary_id)


@router.patch(
    "/beneficiaries/{beneficiary_id}",
    response=responses({200: BeneficiaryOut}, body=True, forbidden=True, not_found=True),
)
def update_beneficiary(request, beneficiary_id: Id, payload: BeneficiaryPatch):
    """Correct identity, contact and needs fields; only the fields sent change."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    data = _current_input(b)
    for name, value in payload.dict(exclude_unset=True, exclude={"accept_duplicate"}).items():
        setattr(data, name, value)
    services.update_beneficiary(actor=request.auth, beneficiary=b, data=data, accept_duplicate=payload.accept_duplicate)
    return _detail(request, b.pk)


@router.get("/beneficiaries/{beneficiary_id}/decisions", response=responses({200: list[DecisionOut]}, not_found=True))
def list_decisions(request, beneficiary_id: Id):
    b = _beneficiary(request, beneficiary_id)
    hidden = _hidden_codes(queries.sensitive_visible(request.auth)(b.area_path))
    return [_decision(d, hidden) for d in b.decisions.order_by("effective_month", "id")]


def _move_areas(payload: DecisionIn) -> tuple[Area | None, Area | None]:
    to_commune = to_village = None
    if payload.to_commune_id is not None:
        to_commune = Area.objects.filter(pk=payload.to_commune_id, level=Level.COMMUNE).first()
        if to_commune is None:
            raise ValidationError({"to_commune": _("Choose the commune the person moves to.")})
    if payload.to_village_id is not None:
        to_village = Area.objects.filter(pk=payload.to_village_id, level=Level.VILLAGE).first()
        if to_village is None:
            raise ValidationError({"to_village": _("The village does not belong to the commune.")})
    return to_commune, to_village


@router.post(
    "/beneficiaries/{beneficiary_id}/decisions",
    response=responses({201: DecisionOut}, body=True, forbidden=True, not_found=True),
)
def create_decision(request, beneficiary_id: Id, payload: DecisionIn):
    """Record a signed decision (start, adjust, suspend, resume, stop, move) and apply it from
    its effective month. A stop on death takes effect from the month after death."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_DECIDE)
    to_commune, to_village = _move_areas(payload)
    decision = services.record_decision(
        actor=request.auth,
        beneficiary=b,
        kind=payload.kind,
        number=payload.number,
        signed_on=payload.signed_on,
        effective_month=payload.effective_month,
        reason=payload.reason,
        death_date=payload.death_date,
        event_date=payload.event_date,
        backdating_reason=payload.backdating_reason,
        to_commune=to_commune,
        to_village=to_village,
        categories=_categories(payload.categories) if payload.categories is not None else None,
        note=payload.note,
        funeral={
            "organiser_name": payload.organiser_name,
            "organiser_cccd": payload.organiser_cccd,
            "organiser_phone": payload.organiser_phone,
            "relationship": payload.organiser_relationship,
        },
    )
    return Status(201, _decision(decision, _hidden_codes(queries.sensitive_visible(request.auth)(b.area_path))))


@router.get(
    "/beneficiaries/{beneficiary_id}/representatives",
    response=responses({200: list[RepresentationOut]}, not_found=True),
)
def list_representatives(request, beneficiary_id: Id, include_ended: bool = False):
    b = _beneficiary(request, beneficiary_id)
    full_cccd = queries.cccd_visible(request.auth)(b.area_path)
    contact = contact_visible(request.auth)(b.area_path)
    visible = _person_visible(request)
    return [
        _representation(link, full_cccd, visible(link.representative.area_path), contact)
        for link in _links(b, include_ended=include_ended)
    ]


@router.post(
    "/beneficiaries/{beneficiary_id}/representatives",
    response=responses({201: RepresentationOut}, body=True, forbidden=True, not_found=True),
)
def add_representative(request, beneficiary_id: Id, payload: RepresentationIn):
    """Link a guardian or authorised person; a person already known by CCCD is reused."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    link = services.add_representation(actor=request.auth, beneficiary=b, data=_representation_input(payload))
    link = Representation.objects.select_related("representative").get(pk=link.pk)
    visible = _person_visible(request)(link.representative.area_path)
    contact = contact_visible(request.auth)(b.area_path)
    return Status(201, _representation(link, queries.cccd_visible(request.auth)(b.area_path), visible, contact))


@router.post(
    "/beneficiaries/{beneficiary_id}/payee",
    response=responses({200: list[RepresentationOut]}, body=True, forbidden=True, not_found=True),
)
def set_payee(request, beneficiary_id: Id, payload: PayeeIn):
    """Make one of the current representatives the payee, or (null) the beneficiary themself."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    link = None
    if payload.representation_id is not None:
        link = b.representations.filter(pk=payload.representation_id, ended_at__isnull=True).first()
        if link is None:
            raise ValidationError({"representation_id": _("This representative does not act for the beneficiary.")})
    # from the month of the one payee rule (payments.services.payee_change_month), with its
    # history (payments.designate_payee keeps the registry flag)
    designate_payee(actor=request.auth, beneficiary=b, representation=link)
    full_cccd = queries.cccd_visible(request.auth)(b.area_path)
    visible = _person_visible(request)
    contact = contact_visible(request.auth)(b.area_path)
    return [
        _representation(x, full_cccd, visible(x.representative.area_path), contact)
        for x in _links(b, include_ended=False)
    ]


@router.delete(
    "/beneficiaries/{beneficiary_id}/representatives/{representation_id}",
    response=responses({204: None}, forbidden=True, not_found=True),
)
def end_representative(request, beneficiary_id: Id, representation_id: Id):
    """End a representation (it stays in the history; the person is no longer paid for them)."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    link = get_object_or_404(b.representations.select_related("beneficiary__commune"), pk=representation_id)
    services.end_representation(actor=request.auth, representation=link)
    return Status(204, None)


# --- moves between communes ---------------------------------------------------------------------


def _incoming(m) -> dict:
    b = m.beneficiary
    return {
        "id": m.pk,
        "number": m.number,
        "signed_on": m.signed_on,
        "effective_month": m.effective_month,
        "full_name": b.full_name,
        "birth_year": b.birth_date.year,
        "cccd": b.masked_cccd,
        "from_commune": {"id": m.from_commune.pk, "name": m.from_commune.name},
        "to_commune": {"id": m.to_commune.pk, "name": m.to_commune.name},
    }


@router.get("/moves/incoming", response=responses({200: list[IncomingMoveOut]}, params=False))
def list_incoming_moves(request):
    """People whose old commune decided a move to one of the user's communes, waiting for the
    new commune's decision that continues their allowance."""
    return [_incoming(m) for m in queries.incoming_moves_for(request.auth)[:500]]


@router.post(
    "/moves/{move_id}/accept", response=responses({201: DecisionOut}, body=True, forbidden=True, not_found=True)
)
def accept_move(request, move_id: Id, payload: MoveAcceptIn):
    """The new commune's start decision for a move: the allowance continues from the month the
    old commune stopped it, and the person's record moves to the new commune."""
    move = get_object_or_404(queries.incoming_moves_for(request.auth), pk=move_id)
    to_commune = move.to_commune
    assert to_commune is not None  # a move decision names the commune it goes to (services.record_decision)
    if not access.can_in_area(request.auth, Cap.REGISTRY_DECIDE, to_commune):
        raise _deny()
    village = None
    if payload.village_id is not None:
        village = Area.objects.filter(pk=payload.village_id, parent=to_commune, level=Level.VILLAGE).first()
        if village is None:
            raise ValidationError({"village_id": _("The village does not belong to the commune.")})
    decision = services.accept_move(
        actor=request.auth,
        move=move,
        number=payload.number,
        signed_on=payload.signed_on,
        village=village,
        note=payload.note,
    )
    return Status(201, _decision(decision, _hidden_codes(queries.sensitive_visible(request.auth)(to_commune.path))))
