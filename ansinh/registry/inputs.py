"""Typed inputs of the registry services, shared by the form, the importer and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class CategoryInput:
    code: str
    condition: str = ""
    units: int = 1
    fixed_key: str = ""


@dataclass
class PersonInput:
    """A representative (guardian or authorised person)."""

    full_name: str
    birth_date: date | None = None
    gender: str = ""
    cccd: str = ""
    phone: str = ""


@dataclass
class RepresentationInput:
    person: PersonInput
    kind: str  # RepresentationKind
    relationship: str = ""
    document_number: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    is_payee: bool = False


@dataclass
class BeneficiaryInput:
    full_name: str
    birth_date: date | None
    gender: str
    commune_id: int
    village_id: int | None = None
    cccd: str = ""
    # an old 9-digit ID card (CMND) when the person has no CCCD yet (validation.check_identity)
    legacy_id_number: str = ""
    phone: str = ""
    ethnicity: str = "Kinh"
    address: str = ""
    cannot_travel: bool = False
    no_phone: bool = False
    cannot_read_vietnamese: bool = False
    frail: bool = False
    categories: list[CategoryInput] = field(default_factory=list)
    decision_number: str = ""
    decision_date: date | None = None
    start_month: date | None = None
    # required when the start month is before the month of the decision (arrears are paid)
    backdating_reason: str = ""
    representatives: list[RepresentationInput] = field(default_factory=list)

    # fields compared for "changed?" by the importer and written by update_beneficiary
    EDITABLE = (
        "full_name",
        "birth_date",
        "gender",
        "cccd",
        "legacy_id_number",
        "phone",
        "ethnicity",
        "address",
        "commune_id",
        "village_id",
        "cannot_travel",
        "no_phone",
        "cannot_read_vietnamese",
        "frail",
    )
