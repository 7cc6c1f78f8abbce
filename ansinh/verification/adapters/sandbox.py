"""The sandbox adapter: answers from the synthetic population register (`SyntheticResident`)
that the demo generates. Compares the fields the reference protocol compares."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from ..models import Outcome, SyntheticResident
from . import PersonAnswer, PersonQuery


def same_name(a: str, b: str) -> bool:
    """Equal up to Unicode normalisation, case and spacing (diacritics count: a name spelt
    without them is a mismatch, as the population database would report it)."""

    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())

    return norm(a) == norm(b)


def compare(query: PersonQuery, resident: SyntheticResident | None) -> PersonAnswer:
    if resident is None:
        return PersonAnswer(ref=query.ref, outcome=Outcome.NOT_FOUND)
    if resident.death_date is not None:
        return PersonAnswer(ref=query.ref, outcome=Outcome.DECEASED, death_date=resident.death_date)
    fields = []
    if not same_name(query.full_name, resident.full_name):
        fields.append("full_name")
    if query.birth_date != resident.birth_date:
        fields.append("birth_date")
    if query.gender != resident.gender:
        fields.append("gender")
    return PersonAnswer(ref=query.ref, outcome=Outcome.MISMATCH if fields else Outcome.MATCH, mismatched_fields=fields)


class SandboxAdapter:
    source = "sandbox"
    batch_size = 500

    def verify(self, items: Sequence[PersonQuery]) -> list[PersonAnswer]:
        residents = SyntheticResident.objects.in_bulk([q.cccd for q in items], field_name="cccd")
        return [compare(q, residents.get(q.cccd)) for q in items]
