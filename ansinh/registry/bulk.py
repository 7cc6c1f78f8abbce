"""Set-based writes of many beneficiaries at once (import, demo, benchmarks).

Rows arrive already validated (rules.clean_beneficiary + the bulk database checks of the
caller). Each chunk is written with a handful of set-based statements — never one ORM save per
row — and one audit event per beneficiary, bulk-inserted in the same transaction.

On PostgreSQL the registry rows of a chunk go in with COPY (`ansinh.core.bulk.insert_rows`, shared
with the audit log): ids are taken from the table's sequence first, so the rows can be linked
before they are written. This is several times cheaper than bulk_create, whose array parameters
psycopg builds and escapes in Python (benchmarks/README.md: 50,000-row import). Other databases
use bulk_create."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.db import connection

from ansinh.areas.models import Area
from ansinh.audit.services import build_event, record_many
from ansinh.core.bulk import insert_rows
from ansinh.core.text import search_key

from .inputs import BeneficiaryInput, PersonInput
from .models import (
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    DecisionKind,
    Representation,
    Representative,
    Status,
    StatusChange,
)

CHUNK = 2000


@dataclass
class BulkItem:
    data: BeneficiaryInput
    issues: list[dict]


def _flat_dict(item) -> dict:
    """dataclasses.asdict of a dataclass whose fields are plain values (CategoryInput), without
    asdict's recursive deep copy."""
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("bulk registry writes must run inside a transaction")


def _beneficiary(item: BulkItem, areas: dict[int, Area]) -> Beneficiary:
    d = item.data
    commune = areas[d.commune_id]
    village = areas.get(d.village_id) if d.village_id else None
    return Beneficiary(
        full_name=d.full_name,
        name_key=search_key(d.full_name),
        birth_date=d.birth_date,
        gender=d.gender,
        cccd=d.cccd,
        phone=d.phone,
        ethnicity=d.ethnicity or "",
        address=d.address,
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        cannot_travel=d.cannot_travel,
        no_phone=d.no_phone,
        cannot_read_vietnamese=d.cannot_read_vietnamese,
        frail=d.frail,
        start_month=d.start_month,
        status=Status.ACTIVE,
        quality_issues=item.issues,
        has_issues=bool(item.issues),
    )


def snapshot_input(d: BeneficiaryInput) -> dict:
    data = {name: getattr(d, name) for name in BeneficiaryInput.EDITABLE}
    data["commune"], data["village"] = data.pop("commune_id"), data.pop("village_id")
    data["categories"] = [f"{c.code}:{c.condition}:{c.units}" for c in d.categories]
    return data


def bulk_create_beneficiaries(
    *,
    actor,
    items: Sequence[BulkItem],
    areas: dict[int, Area],
    category_ids: dict[str, int],
    action: str = "registry.beneficiary.created",
    audit: bool = True,
    note: str = "",
) -> list[int]:
    """Create beneficiaries with their categories, start decision, first status and
    representatives. Returns the new ids in input order."""
    _require_atomic()
    created_by = actor if getattr(actor, "pk", None) else None
    ids: list[int] = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        rows = insert_rows(Beneficiary, [_beneficiary(item, areas) for item in chunk])
        cats, decisions = [], []
        for b, item in zip(rows, chunk, strict=True):
            d = item.data
            cats.extend(
                BeneficiaryCategory(
                    beneficiary=b,
                    category_id=category_ids[c.code],
                    condition=c.condition,
                    units=c.units,
                    fixed_key=c.fixed_key,
                    from_month=d.start_month,
                )
                for c in d.categories
            )
            decisions.append(
                Decision(
                    beneficiary=b,
                    kind=DecisionKind.START,
                    number=d.decision_number or "",
                    signed_on=d.decision_date or d.start_month,
                    effective_month=d.start_month,
                    created_by=created_by,
                    details={"categories": [_flat_dict(c) for c in d.categories]},
                )
            )
        insert_rows(BeneficiaryCategory, cats)
        decisions = insert_rows(Decision, decisions)
        insert_rows(
            StatusChange,
            [
                StatusChange(
                    beneficiary=b,
                    from_status="",
                    to_status=Status.ACTIVE,
                    effective_month=b.start_month,
                    decision=dec,
                )
                for b, dec in zip(rows, decisions, strict=True)
            ],
        )
        _bulk_representatives(actor, rows, [item.data for item in chunk], audit=audit)
        if audit:
            record_many(
                [
                    build_event(
                        actor=actor,
                        action=action,
                        obj=b,
                        area=b.village or b.commune,
                        after=snapshot_input(item.data),
                        note=note,
                    )
                    for b, item in zip(rows, chunk, strict=True)
                ]
            )
        ids.extend(b.pk for b in rows)
    return ids


def _bulk_representatives(actor, rows: list[Beneficiary], inputs: list[BeneficiaryInput], *, audit: bool) -> None:
    """One person representing several beneficiaries is one Representative row (matched by CCCD)."""
    wanted = [(b, rep) for b, d in zip(rows, inputs, strict=True) for rep in d.representatives]
    if not wanted:
        return
    cccds = {rep.person.cccd for _b, rep in wanted if rep.person.cccd}
    by_cccd = {r.cccd: r for r in Representative.objects.filter(cccd__in=cccds)} if cccds else {}
    people: list[Representative] = []
    fresh: list[Representative] = []
    for b, rep in wanted:
        key = rep.person.cccd
        if key and key in by_cccd:
            people.append(by_cccd[key])
            continue
        person = _person(rep.person, b)
        fresh.append(person)
        people.append(person)
        if key:
            by_cccd[key] = person
    insert_rows(Representative, fresh)
    links = insert_rows(
        Representation,
        [
            Representation(
                beneficiary=b,
                representative=person,
                kind=rep.kind,
                relationship=rep.relationship,
                document_number=rep.document_number,
                valid_from=rep.valid_from,
                valid_to=rep.valid_to,
                is_payee=rep.is_payee,
            )
            for (b, rep), person in zip(wanted, people, strict=True)
        ],
    )
    if audit:
        record_many(
            [
                build_event(
                    actor=actor,
                    action="registry.representation.saved",
                    obj=link,
                    area=link.beneficiary.village or link.beneficiary.commune,
                    after={
                        "representative": link.representative.full_name,
                        "kind": link.kind,
                        "is_payee": link.is_payee,
                        "cccd": link.representative.cccd,
                    },
                )
                for link in links
            ]
        )


def _person(p: PersonInput, b: Beneficiary) -> Representative:
    return Representative(
        full_name=p.full_name,
        name_key=search_key(p.full_name),
        birth_date=p.birth_date,
        gender=p.gender,
        cccd=p.cccd,
        phone=p.phone,
        commune=b.commune,
        area_path=b.commune.path,
    )


def bulk_update_beneficiaries(
    *,
    actor,
    changes: Sequence[tuple[Beneficiary, BeneficiaryInput, list[dict]]],
    areas: dict[int, Area],
    note: str = "",
) -> int:
    """Apply changed identity/contact fields to existing rows (import re-runs) with an audit
    event per row holding only what changed."""
    _require_atomic()
    fields = list(BeneficiaryInput.EDITABLE) + [
        "name_key",
        "area_path",
        "quality_issues",
        "has_issues",
    ]
    n = 0
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        events = []
        for b, d, issues in chunk:
            before = {name: getattr(b, name) for name in BeneficiaryInput.EDITABLE}
            for name in BeneficiaryInput.EDITABLE:
                setattr(b, name, getattr(d, name))
            b.name_key = search_key(b.full_name)
            village = areas.get(d.village_id) if d.village_id else None
            b.area_path = (village or areas[d.commune_id]).path
            b.quality_issues, b.has_issues = issues, bool(issues)
            after = {name: getattr(b, name) for name in BeneficiaryInput.EDITABLE}
            events.append(
                build_event(
                    actor=actor,
                    action="registry.beneficiary.updated",
                    obj=b,
                    area=village or areas[d.commune_id],
                    before={k: v for k, v in before.items() if after[k] != v},
                    after={k: v for k, v in after.items() if before[k] != v},
                    note=note,
                )
            )
        Beneficiary.objects.bulk_update([c[0] for c in chunk], fields)
        record_many(events)
        n += len(chunk)
    return n
