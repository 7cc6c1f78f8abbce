"""Request and response shapes of the registry API. Types and lengths only: the rules (CCCD
against birth date, phone format, categories, duplicates…) live in the registry services, so
the form, the importer and the API refuse the same things with the same translated messages.

String lengths mirror the model columns and ids are 64-bit (`.common`), so an over-long value, a
NUL character or a huge id is a 422, never a database error. Closed lists (gender, status,
decision kind, stop reason, representation kind, needs flags) are enums in the schema."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from ansinh.registry.models import DecisionKind, Gender, RepresentationKind, Status, StopReason
from ansinh.registry.queries import COUNT_CAP, NEEDS_FLAGS
from ansinh.registry.rules import MAX_UNITS

from .common import Id, text

if TYPE_CHECKING:  # enums built from the models' choices at run time: plain strings to mypy
    StatusValue = str
    NeedsFlag = str
    DecisionKindValue = str
    StopReasonValue = str
    GenderValue = str
    GenderOrBlank = str
    RepresentationKindValue = str
else:
    StatusValue = Literal[tuple(Status.values)]
    NeedsFlag = Literal[NEEDS_FLAGS]
    DecisionKindValue = Literal[tuple(DecisionKind.values)]
    StopReasonValue = Literal[("", *StopReason.values)]
    GenderValue = Literal[tuple(Gender.values)]
    GenderOrBlank = Literal[("", *Gender.values)]
    RepresentationKindValue = Literal[tuple(RepresentationKind.values)]
Units = Field(1, ge=1, le=MAX_UNITS, description="e.g. number of children being raised")


# --- search ---------------------------------------------------------------------------------


class BeneficiaryFilters(Schema):
    q: str = text("", max_length=150, description="Name with or without diacritics, or a CCCD / phone number.")
    cccd: str = text("", max_length=20)
    phone: str = text("", max_length=20)
    area: Id | None = Field(None, description="Id of a commune or village in the user's areas.")
    status: StatusValue | None = None
    category: str = text("", max_length=60, description="Category code, e.g. D20.5.6.")
    needs: list[NeedsFlag] = Field(default_factory=list, description="Repeatable; all given flags must be set.")
    issues: bool = Field(False, description="Only beneficiaries with data-quality issues.")
    page: int = Field(
        1,
        ge=1,
        le=COUNT_CAP,
        description=f"Only the first {COUNT_CAP:,} matches can be paged through; a page after them is empty.",
    )
    page_size: int = Field(50, ge=1, le=200)


# --- input ----------------------------------------------------------------------------------


class CategoryIn(Schema):
    code: str = text(..., min_length=1, max_length=60, description="Policy category code, e.g. D20.5.6.")
    condition: str = text("", max_length=60, description="e.g. severe:adult")
    units: int = Units
    fixed_key: str = text("", max_length=60)


class RepresentationIn(Schema):
    """A guardian or authorised person (found by CCCD, else created) and how they act."""

    full_name: str = text(..., min_length=1, max_length=150)
    birth_date: date | None = None
    gender: GenderOrBlank = ""
    cccd: str = text("", max_length=20)
    phone: str = text("", max_length=20)
    kind: RepresentationKindValue
    relationship: str = text("", max_length=60)
    document_number: str = text("", max_length=60)
    valid_from: date | None = None
    valid_to: date | None = None
    is_payee: bool = False


class BeneficiaryIn(Schema):
    full_name: str = text(..., min_length=1, max_length=150)
    birth_date: date
    gender: GenderValue
    commune_id: Id
    village_id: Id | None = None
    cccd: str = text("", max_length=20)
    phone: str = text("", max_length=20)
    ethnicity: str = text("Kinh", max_length=50)
    address: str = text("", max_length=255)
    cannot_travel: bool = False
    no_phone: bool = False
    cannot_read_vietnamese: bool = False
    frail: bool = False
    categories: list[CategoryIn] = Field(default_factory=list)
    decision_number: str = text("", max_length=60)
    decision_date: date | None = None
    start_month: date | None = None
    backdating_reason: str = text(
        "", max_length=255, description="Required when the start month is before the month of the decision."
    )
    representatives: list[RepresentationIn] = Field(default_factory=list)
    accept_duplicate: bool = Field(False, description="Register even if a likely duplicate exists.")


class BeneficiaryPatch(Schema):
    """Identity, contact and needs corrections. Only the fields sent change; the commune changes
    by a move decision and categories by an adjustment decision."""

    model_config = ConfigDict(extra="forbid")

    full_name: str = text(None, min_length=1, max_length=150)
    birth_date: date = None  # type: ignore[assignment]
    gender: GenderValue = None  # type: ignore[assignment]
    cccd: str = text(None, max_length=20)
    phone: str = text(None, max_length=20)
    ethnicity: str = text(None, max_length=50)
    address: str = text(None, max_length=255)
    village_id: Id | None = None
    cannot_travel: bool = None  # type: ignore[assignment]
    no_phone: bool = None  # type: ignore[assignment]
    cannot_read_vietnamese: bool = None  # type: ignore[assignment]
    frail: bool = None  # type: ignore[assignment]
    accept_duplicate: bool = Field(False, description="Save even if the record then looks like another person's.")


class DecisionIn(Schema):
    kind: DecisionKindValue
    number: str = text(..., min_length=1, max_length=60)
    signed_on: date
    effective_month: date | None = Field(
        None,
        description="Start, suspend, resume: defaults to the signing month. Stop, adjust and move take effect "
        "from the month after `event_date` (`death_date` for a death).",
    )
    reason: StopReasonValue = ""
    death_date: date | None = None
    event_date: date | None = Field(
        None, description="Stop (other than death), adjust, move: the date of the move, loss of eligibility or change."
    )
    backdating_reason: str = text(
        "", max_length=255, description="Start: required when the month is before the month of the decision."
    )
    to_commune_id: Id | None = None
    to_village_id: Id | None = None
    categories: list[CategoryIn] | None = None
    note: str = text("", max_length=2000)
    organiser_name: str = text(
        "", max_length=150, description="A death: the person organising the funeral (receives the funeral support)."
    )
    organiser_cccd: str = text("", max_length=12)
    organiser_phone: str = text("", max_length=20)
    organiser_relationship: str = text("", max_length=60)


class PayeeIn(Schema):
    representation_id: Id | None = Field(..., description="null: the beneficiary is paid themself.")


# --- output ---------------------------------------------------------------------------------


class AreaRef(Schema):
    id: int
    name: str


class CategoryOut(Schema):
    code: str
    name: str
    condition: str
    units: int
    fixed_key: str
    from_month: date
    to_month: date | None


class RepresentationOut(Schema):
    id: int = Field(..., description="The representation (link) id, used for payee and ending.")
    representative_id: int
    full_name: str
    birth_date: date | None
    gender: str
    cccd: str = Field(..., description="Full only with the right to view CCCDs in the area, else masked.")
    cccd_masked: bool
    phone: str = Field(..., description="E.164")
    phone_display: str
    kind: str
    relationship: str
    document_number: str
    valid_from: date | None
    valid_to: date | None
    is_payee: bool
    ended_at: datetime | None


class DecisionSummary(Schema):
    id: int
    kind: str
    number: str
    signed_on: date
    effective_month: date


class DecisionOut(DecisionSummary):
    reason: str
    death_date: date | None
    event_date: date | None
    backdating_reason: str
    note: str
    from_commune_id: int | None
    to_commune_id: int | None
    follows_id: int | None = Field(None, description="A move's start decision: the old commune's move decision.")
    details: dict
    created_at: datetime


class IncomingMoveOut(Schema):
    """A move towards one of the user's communes, not yet continued there."""

    id: int
    number: str
    signed_on: date
    effective_month: date = Field(..., description="The month the new commune's payment continues from.")
    full_name: str
    birth_year: int
    cccd: str = Field(..., description="Masked.")
    from_commune: AreaRef
    to_commune: AreaRef


class MoveAcceptIn(Schema):
    number: str = text(..., min_length=1, max_length=60)
    signed_on: date
    village_id: Id | None = None
    note: str = text("", max_length=2000)


class BeneficiaryItem(Schema):
    id: int
    full_name: str
    birth_date: date
    gender: str
    cccd: str = Field(..., description="Full only with the right to view CCCDs in the area, else masked.")
    cccd_masked: bool
    phone: str = Field(..., description="E.164")
    phone_display: str
    commune: AreaRef
    village: AreaRef | None
    status: str
    start_month: date
    end_month: date | None
    cannot_travel: bool
    no_phone: bool
    cannot_read_vietnamese: bool
    frail: bool
    has_issues: bool
    categories: list[CategoryOut]


class BeneficiaryOut(BeneficiaryItem):
    ethnicity: str
    address: str
    stop_reason: str
    death_date: date | None
    quality_issues: list[dict]
    representatives: list[RepresentationOut]
    payee_representation_id: int | None
    decisions: list[DecisionSummary]
    created_at: datetime
    updated_at: datetime


class BeneficiaryPage(Schema):
    items: list[BeneficiaryItem]
    count: int = Field(
        ...,
        description="Number of matching beneficiaries. Counting stops at 10,000: when `count_exact` is "
        "false, more than `count` match.",
    )
    count_exact: bool = Field(..., description="Whether `count` is exact.")
    page: int
    pages: int = Field(
        ...,
        description="Number of pages. Only the first 10,000 matches can be paged through; narrow the search "
        "to reach the others.",
    )
    has_next: bool = Field(..., description="Whether a next page has items.")
