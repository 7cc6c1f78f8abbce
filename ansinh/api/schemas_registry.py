"""Request and response shapes of the registry API. Types and lengths only: the rules (CCCD
against birth date, phone format, categories, duplicates…) live in the registry services, so
the form, the importer and the API refuse the same things with the same translated messages.

String lengths mirror the model columns, so an over-long value is a 422, never a database error."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from ansinh.registry.models import DecisionKind, Status, StopReason
from ansinh.registry.queries import NEEDS_FLAGS

StatusValue = Literal[tuple(Status.values)]  # type: ignore[valid-type]
NeedsFlag = Literal[NEEDS_FLAGS]  # type: ignore[valid-type]
DecisionKindValue = Literal[tuple(DecisionKind.values)]  # type: ignore[valid-type]
StopReasonValue = Literal[("", *StopReason.values)]  # type: ignore[valid-type]


# --- search ---------------------------------------------------------------------------------


class BeneficiaryFilters(Schema):
    q: str = Field("", max_length=150, description="Name with or without diacritics, or a CCCD / phone number.")
    cccd: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    area: int | None = Field(None, description="Id of a commune or village in the user's areas.")
    status: StatusValue | None = None
    category: str = Field("", max_length=60, description="Category code, e.g. D20.5.6.")
    needs: list[NeedsFlag] = Field(default_factory=list, description="Repeatable; all given flags must be set.")
    issues: bool = Field(False, description="Only beneficiaries with data-quality issues.")
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


# --- input ----------------------------------------------------------------------------------


class CategoryIn(Schema):
    code: str = Field(..., max_length=60, description="Policy category code, e.g. D20.5.6.")
    condition: str = Field("", max_length=60, description="e.g. severe:adult")
    units: int = Field(1, le=32767, description="e.g. number of children being raised")
    fixed_key: str = Field("", max_length=60)


class RepresentationIn(Schema):
    """A guardian or authorised person (found by CCCD, else created) and how they act."""

    full_name: str = Field(..., max_length=150)
    birth_date: date | None = None
    gender: str = Field("", max_length=6, description="male or female")
    cccd: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    kind: str = Field(..., max_length=10, description="guardian or authorised")
    relationship: str = Field("", max_length=60)
    document_number: str = Field("", max_length=60)
    valid_from: date | None = None
    valid_to: date | None = None
    is_payee: bool = False


class BeneficiaryIn(Schema):
    full_name: str = Field(..., max_length=150)
    birth_date: date
    gender: str = Field(..., max_length=6, description="male or female")
    commune_id: int
    village_id: int | None = None
    cccd: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    ethnicity: str = Field("Kinh", max_length=50)
    address: str = Field("", max_length=255)
    cannot_travel: bool = False
    no_phone: bool = False
    cannot_read_vietnamese: bool = False
    frail: bool = False
    categories: list[CategoryIn] = Field(default_factory=list)
    decision_number: str = Field("", max_length=60)
    decision_date: date | None = None
    start_month: date | None = None
    representatives: list[RepresentationIn] = Field(default_factory=list)
    accept_duplicate: bool = Field(False, description="Register even if a likely duplicate exists.")


class BeneficiaryPatch(Schema):
    """Identity, contact and needs corrections. Only the fields sent change; the commune changes
    by a move decision and categories by an adjustment decision."""

    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(None, max_length=150)  # type: ignore[assignment]
    birth_date: date = None  # type: ignore[assignment]
    gender: str = Field(None, max_length=6)  # type: ignore[assignment]
    cccd: str = Field(None, max_length=20)  # type: ignore[assignment]
    phone: str = Field(None, max_length=20)  # type: ignore[assignment]
    ethnicity: str = Field(None, max_length=50)  # type: ignore[assignment]
    address: str = Field(None, max_length=255)  # type: ignore[assignment]
    village_id: int | None = None
    cannot_travel: bool = None  # type: ignore[assignment]
    no_phone: bool = None  # type: ignore[assignment]
    cannot_read_vietnamese: bool = None  # type: ignore[assignment]
    frail: bool = None  # type: ignore[assignment]


class DecisionIn(Schema):
    kind: DecisionKindValue
    number: str = Field(..., max_length=60)
    signed_on: date
    effective_month: date | None = Field(None, description="Defaults to the signing month; a stop is computed.")
    reason: StopReasonValue = ""
    death_date: date | None = None
    to_commune_id: int | None = None
    to_village_id: int | None = None
    categories: list[CategoryIn] | None = None
    note: str = Field("", max_length=2000)


class PayeeIn(Schema):
    representation_id: int | None = Field(..., description="null: the beneficiary is paid themself.")


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
    note: str
    from_commune_id: int | None
    to_commune_id: int | None
    details: dict
    created_at: datetime


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
    count_exact: bool = Field(..., description="Whether `count` (and `pages`) are exact.")
    page: int
    pages: int = Field(..., description="Number of pages; when `count_exact` is false, a lower bound.")
    has_next: bool = Field(..., description="Whether a next page has items.")
