"""The one construction path of the registry: every beneficiary, start decision, category,
status row, representative and representation is built and written here, for one person (the
form, the API: `services`) and for many (the importer, the demo, benchmarks) alike.

Rows arrive already validated (`rules` + `matching`). Each chunk is written with a handful of
set-based statements — never one ORM save per row — and its audit events are bulk-inserted in
the same transaction.

On PostgreSQL the registry rows of a chunk go in with COPY (`ansinh.core.bulk.insert_rows`, shared
with the audit log): ids are taken from the table's sequence first, so the rows can be linked
before they are written. This is several times cheaper than bulk_create, whose array parameters
psycopg builds and escapes in Python (benchmarks/README.md: 50,000-row import). Other databases
use bulk_create."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.db import connection
from django.utils import timezone

from ansinh.areas.models import Area
from ansinh.audit.models import AuditEvent
from ansinh.audit.services import build_event, record_many, snapshot
from ansinh.core.bulk import insert_rows
from ansinh.core.text import name_sort_key, search_key

from . import matching
from .inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
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
PERSON_FIELDS = ("full_name", "birth_date", "gender", "phone")
LINK_FIELDS = ("kind", "relationship", "document_number", "valid_from", "valid_to", "is_payee")


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
        raise RuntimeError("registry writes must run inside a transaction")


def _created_by(actor):
    return actor if getattr(actor, "pk", None) else None


def _beneficiary(item: BulkItem, areas: dict[int, Area]) -> Beneficiary:
    d = item.data
    assert d.birth_date is not None and d.start_month is not None  # required by rules.check_beneficiary
    commune = areas[d.commune_id]
    village = areas.get(d.village_id) if d.village_id else None
    return Beneficiary(
        full_name=d.full_name,
        name_key=search_key(d.full_name),
        sort_key=name_sort_key(d.full_name),
        birth_date=d.birth_date,
        gender=d.gender,
        cccd=d.cccd,
        legacy_id_number=d.legacy_id_number,
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


def sensitive_codes() -> frozenset[str]:
    from ansinh.policy.models import Category

    return frozenset(Category.objects.filter(sensitive=True).values_list("code", flat=True))


def category_label(c, sensitive: frozenset[str] = frozenset()) -> str:
    """How a category appears in audit snapshots: code:condition:units. The audit log is read by
    roles that may not see HIV-related categories: their code is masked there (the decision
    itself keeps it)."""
    code = c.code if isinstance(c, CategoryInput) else c.category.code
    return f"{'***' if code in sensitive else code}:{c.condition}:{c.units}"


def snapshot_input(d: BeneficiaryInput, sensitive: frozenset[str] = frozenset()) -> dict:
    """The audit snapshot of a beneficiary, the same on every path."""
    data = {name: getattr(d, name) for name in BeneficiaryInput.EDITABLE}
    data["commune"], data["village"] = data.pop("commune_id"), data.pop("village_id")
    data["categories"] = sorted(category_label(c, sensitive) for c in d.categories)
    data["start_month"] = d.start_month
    return data


def category_rows(b: Beneficiary, categories: Sequence[CategoryInput], *, from_month, category_ids) -> list:
    return [
        BeneficiaryCategory(
            beneficiary=b,
            category_id=category_ids[c.code],
            condition=c.condition,
            units=c.units,
            fixed_key=c.fixed_key,
            from_month=from_month,
        )
        for c in categories
    ]


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
    created_by = _created_by(actor)
    hidden = sensitive_codes() if audit else frozenset()
    ids: list[int] = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        rows = insert_rows(Beneficiary, [_beneficiary(item, areas) for item in chunk])
        cats, decisions = [], []
        for b, item in zip(rows, chunk, strict=True):
            d = item.data
            cats.extend(category_rows(b, d.categories, from_month=d.start_month, category_ids=category_ids))
            decisions.append(
                Decision(
                    beneficiary=b,
                    kind=DecisionKind.START,
                    number=d.decision_number or "",
                    signed_on=d.decision_date or b.start_month,
                    effective_month=b.start_month,
                    backdating_reason=d.backdating_reason or "",
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
        if audit:
            record_many(
                [
                    build_event(
                        actor=actor,
                        action=action,
                        obj=b,
                        area=b.village or b.commune,
                        after=snapshot_input(item.data, hidden),
                        note=note,
                    )
                    for b, item in zip(rows, chunk, strict=True)
                ]
            )
        save_representations(
            actor,
            [(b, rep) for b, item in zip(rows, chunk, strict=True) for rep in item.data.representatives],
            audit=audit,
            new_beneficiaries=True,
        )
        ids.extend(b.pk for b in rows)
    return ids


# --- representatives ---------------------------------------------------------------------------


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


def person_changes(rep: Representative, p: PersonInput) -> dict[str, object]:
    """What an entry would change on a known person: only fields it fills, and the name only to
    another spelling of the same name (a different name is refused by `matching`)."""
    changes: dict[str, object] = {}
    for name in PERSON_FIELDS:
        value = getattr(p, name)
        if value in (None, "") or value == getattr(rep, name):
            continue
        if name == "full_name" and search_key(value) != rep.name_key:
            continue
        changes[name] = value
    return changes


def link_changes(link: Representation, rep: RepresentationInput) -> dict[str, object]:
    return {name: getattr(rep, name) for name in LINK_FIELDS if getattr(link, name) != getattr(rep, name)}


def _active_links(beneficiary_ids) -> dict[int, list[Representation]]:
    links: dict[int, list[Representation]] = defaultdict(list)
    ids = sorted({i for i in beneficiary_ids if i})
    for start in range(0, len(ids), 5000):
        for link in Representation.objects.filter(
            beneficiary_id__in=ids[start : start + 5000], ended_at__isnull=True
        ).select_related("representative"):
            links[link.beneficiary_id].append(link)
    return links


def find_link(links: list[Representation], p: PersonInput) -> Representation | None:
    """The current representation of the same person: by CCCD, else (no CCCD on either side)
    by name."""
    key = search_key(p.full_name)
    for link in links:
        rep = link.representative
        if (p.cccd and rep.cccd == p.cccd) or (not p.cccd and not rep.cccd and rep.name_key == key):
            return link
    return None


def save_representations(
    actor,
    pairs: Sequence[tuple[Beneficiary, RepresentationInput]],
    *,
    audit: bool = True,
    new_beneficiaries: bool = False,
) -> list[Representation]:
    """Link each representative to their beneficiary, or update the current link. A person is
    found by CCCD (one Representative row for everyone they represent) and is linked, never
    overwritten: their name, birth date, gender and phone change only when `actor` may edit the
    registry in the person's area. The payee of a beneficiary is unique: a new payee replaces
    the previous one. Every change of payee is also recorded in the payee history
    (`payments.payees.record_payee_changes`: from the start month for `new_beneficiaries`,
    created in this transaction, else from the next month). Returns the links in input order."""
    _require_atomic()
    if not pairs:
        return []
    cccds = sorted({rep.person.cccd for _b, rep in pairs if rep.person.cccd})
    people: dict[str, Representative] = {}
    for start in range(0, len(cccds), 5000):
        people |= {r.cccd: r for r in Representative.objects.filter(cccd__in=cccds[start : start + 5000])}
    links = _active_links(b.pk for b, _rep in pairs)
    # the payee by the flag before this write (links are changed in place below)
    payee_before = {b.pk: next((x for x in links.get(b.pk, []) if x.is_payee), None) for b, _rep in pairs}
    may_edit = matching.editor(actor)
    events: list[AuditEvent] = []
    # links are audited once written (a new link has no id before): (link, beneficiary, before)
    saved: list[tuple[Representation, Beneficiary, dict[str, Any] | None]] = []
    fresh: list[Representative] = []
    updated_people: dict[int, Representative] = {}
    chosen: list[tuple[Beneficiary, RepresentationInput, Representative, Representation | None]] = []
    for b, rep in pairs:
        p = rep.person
        link = find_link(links.get(b.pk, []), p)
        person = link.representative if link else (people.get(p.cccd) if p.cccd else None)
        if person is None:
            person = _person(p, b)
            fresh.append(person)
            if p.cccd:
                people[p.cccd] = person
        elif person.pk and may_edit(person.area_path):
            changes = person_changes(person, p)
            if changes:
                before = {k: getattr(person, k) for k in changes}
                for k, v in changes.items():
                    setattr(person, k, v)
                person.name_key = search_key(person.full_name)
                person.updated_at = timezone.now()
                updated_people[person.pk] = person
                if audit:
                    events.append(
                        build_event(
                            actor=actor,
                            action="registry.representative.updated",
                            obj=person,
                            before=before,
                            after=changes,
                        )
                    )
        chosen.append((b, rep, person, link))
    insert_rows(Representative, fresh)
    if audit:
        events.extend(
            build_event(actor=actor, action="registry.representative.created", obj=r, after=snapshot(r)) for r in fresh
        )
    if updated_people:
        Representative.objects.bulk_update(list(updated_people.values()), [*PERSON_FIELDS, "name_key", "updated_at"])

    # the payee is unique per beneficiary: clear the others first
    payee_of = {b.pk for b, rep, _p, _l in chosen if rep.is_payee}
    keep = [link.pk for b, rep, _p, link in chosen if rep.is_payee and link is not None]
    if payee_of:
        previous = Representation.objects.filter(beneficiary_id__in=payee_of, is_payee=True, ended_at__isnull=True)
        previous.exclude(pk__in=keep).update(is_payee=False)
    changed_links, new_links, result = [], [], []
    for b, rep, person, link in chosen:
        if link is None:
            link = Representation(
                beneficiary=b,
                representative=person,
                **{name: getattr(rep, name) for name in LINK_FIELDS},
            )
            new_links.append(link)
            link_before = None
        else:
            diff = link_changes(link, rep)
            if not diff:
                result.append(link)
                continue
            link_before = {k: getattr(link, k) for k in diff}
            for k, v in diff.items():
                setattr(link, k, v)
            changed_links.append(link)
        result.append(link)
        saved.append((link, b, link_before))
    if changed_links:
        Representation.objects.bulk_update(changed_links, list(LINK_FIELDS))
    insert_rows(Representation, new_links)
    if audit:
        record_many(events + [_link_event(actor, link, b, before) for link, b, before in saved])
    _record_payees(actor, chosen, result, payee_before, audit=audit, new_beneficiaries=new_beneficiaries)
    return result


def _record_payees(
    actor, chosen, result, before: dict[int, Representation | None], *, audit: bool, new_beneficiaries: bool
) -> None:
    """The payee each beneficiary had (by the flag) and has now; the changes go to the payee
    history. payments builds on the registry, so it is imported here, when the registry writes,
    never at module level (no import cycle; an explicit call rather than a signal)."""
    beneficiaries = {b.pk: b for b, _rep, _person, _link in chosen}
    after = dict(before)
    for (b, rep, _person, _link), link in zip(chosen, result, strict=True):
        current = after[b.pk]
        if rep.is_payee:
            after[b.pk] = link
        elif current is not None and current.pk == link.pk:
            after[b.pk] = None
    from ansinh.payments.payees import PayeeChange, record_payee_changes

    def pk_of(link: Representation | None) -> int | None:
        return link.pk if link is not None else None

    changes = [
        PayeeChange(beneficiaries[pk], now, previous=before[pk], new_beneficiary=new_beneficiaries)
        for pk, now in after.items()
        if pk_of(now) != pk_of(before[pk])
    ]
    if changes:
        record_payee_changes(actor=actor, changes=changes, audit=audit)


def _link_event(actor, link: Representation, b: Beneficiary, before: dict[str, Any] | None) -> AuditEvent:
    after = {name: getattr(link, name) for name in LINK_FIELDS}
    after["representative"] = link.representative.full_name
    after["cccd"] = link.representative.cccd
    return build_event(
        actor=actor,
        action="registry.representation.saved",
        obj=link,
        area=b.village or b.commune,
        before=before,
        after=after,
    )


# --- updates -----------------------------------------------------------------------------------


@dataclass
class Update:
    """A change to an existing beneficiary: identity and contact fields, and optionally a
    correction of the categories of the registration and representatives to link or update."""

    beneficiary: Beneficiary
    data: BeneficiaryInput
    issues: list[dict]
    categories: list[CategoryInput] | None = None  # None: leave the categories as they are
    representatives: list[RepresentationInput] | None = None


def current_categories(beneficiary_ids) -> dict[int, list[BeneficiaryCategory]]:
    found: dict[int, list[BeneficiaryCategory]] = defaultdict(list)
    ids = sorted(set(beneficiary_ids))
    for start in range(0, len(ids), 5000):
        for c in BeneficiaryCategory.objects.filter(
            beneficiary_id__in=ids[start : start + 5000], to_month__isnull=True
        ).select_related("category"):
            found[c.beneficiary_id].append(c)
    return found


def category_set(categories) -> set[tuple]:
    return {
        (c.code if isinstance(c, CategoryInput) else c.category.code, c.condition, c.units, c.fixed_key)
        for c in categories
    }


def bulk_update_beneficiaries(
    *,
    actor,
    changes: Sequence[Update],
    areas: dict[int, Area],
    category_ids: dict[str, int] | None = None,
    note: str = "",
) -> int:
    """Apply changed fields to existing rows, with an audit event per row holding only what
    changed. A category correction replaces the categories of the registration (they have not
    changed by decision since: `matching`/`importing` check that first)."""
    _require_atomic()
    names = [*BeneficiaryInput.EDITABLE, "name_key", "sort_key", "area_path", "quality_issues", "has_issues"]
    names.append("updated_at")
    n = 0
    now = timezone.now()
    hidden = sensitive_codes()
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        events = []
        cats_now = current_categories(u.beneficiary.pk for u in chunk if u.categories is not None)
        drop: list[int] = []
        add: list[BeneficiaryCategory] = []
        for u in chunk:
            b, d = u.beneficiary, u.data
            before = {name: getattr(b, name) for name in BeneficiaryInput.EDITABLE}
            for name in BeneficiaryInput.EDITABLE:
                setattr(b, name, getattr(d, name))
            b.name_key = search_key(b.full_name)
            b.sort_key = name_sort_key(b.full_name)
            village = areas.get(d.village_id) if d.village_id else None
            b.area_path = (village or areas[d.commune_id]).path
            b.quality_issues, b.has_issues = u.issues, bool(u.issues)
            b.updated_at = now
            after = {name: getattr(b, name) for name in BeneficiaryInput.EDITABLE}
            old = {k: v for k, v in before.items() if after[k] != v}
            new = {k: v for k, v in after.items() if before[k] != v}
            if u.categories is not None and category_set(u.categories) != category_set(cats_now[b.pk]):
                old["categories"] = sorted(category_label(c, hidden) for c in cats_now[b.pk])
                new["categories"] = sorted(category_label(c, hidden) for c in u.categories)
                drop.extend(c.pk for c in cats_now[b.pk])
                add.extend(category_rows(b, u.categories, from_month=b.start_month, category_ids=category_ids or {}))
            if old or new:
                events.append(
                    build_event(
                        actor=actor,
                        action="registry.beneficiary.updated",
                        obj=b,
                        area=village or areas[d.commune_id],
                        before=old,
                        after=new,
                        note=note,
                    )
                )
        Beneficiary.objects.bulk_update([u.beneficiary for u in chunk], names)
        if drop:
            BeneficiaryCategory.objects.filter(pk__in=drop).delete()
        insert_rows(BeneficiaryCategory, add)
        record_many(events)
        save_representations(
            actor, [(u.beneficiary, rep) for u in chunk for rep in (u.representatives or [])], audit=True
        )
        n += len(chunk)
    return n
