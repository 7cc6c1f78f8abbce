"""A synthetic beneficiary registry: the demo (the two pilot units of An Giang with the source
report's numbers) and larger sets for benchmarks.

Everything is generated from a seeded `random.Random`, so the same database state gives the
same people. No row comes from real data: names are random combinations of common name parts
(`names.py`), CCCD numbers are built from the structure rules (birth-registration province,
century/gender digit, birth year) with six random digits, phones are random numbers behind
mobile prefixes.

Every row goes through the same checks as a form or an import row: `clean_beneficiary` (field
rules; its warnings become the row's `quality_issues`) and, in the demo, `check_database_rules`
for rows whose name and date of birth are already registered in the province (likely
duplicates). About one row in 200 is deliberately faulty (no phone without "has no phone",
no CCCD, a name of one word, an old 11-digit number, a person registered twice) so the
data-quality worklists have something to show. Rows are written with the set-based
`bulk_create_beneficiaries`.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.services import record
from ansinh.core.text import search_key
from ansinh.policy.models import Category
from ansinh.registry.bulk import BulkItem, bulk_create_beneficiaries
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, Gender, RepresentationKind, Representative, Status
from ansinh.registry.rules import clean_beneficiary, first_of_month
from ansinh.registry.services import check_database_rules, issue_codes
from ansinh.registry.validation import cccd_rules

from . import names
from .organisations import PROVINCE_CODE
from .villages import ensure_villages

SEED = "3010/BC-SLĐTBXH"
# Beneficiaries of the two pilot units in report 3010/BC-SLĐTBXH (3 Oct 2023), Biểu 01: those
# receiving in September 2023 (start month up to it, not stopped before it).
DEMO_TARGETS = {"884": 4065, "890": 5605}
PILOT_MONTH = date(2023, 9, 1)  # the month Biểu 01 counts (report as of 10/9/2023)
# people decided after the pilot's report (October 2023 to 2024), as a share of the target, so
# that the later months differ from September 2023
LATER_SHARE = 0.03
LATER_FIRST_DECISION = date(2023, 10, 1)
PILOT_ROUNDS = 12
DEMO_ACTION = "demo.registry.loaded"
SYNTHETIC_ACTION = "demo.registry.synthetic_loaded"

# Ages and dates are generated against a fixed day so the data do not change with the clock.
REFERENCE_DAY = date(2025, 1, 1)
FIRST_DECISION = date(2015, 1, 1)
LAST_DECISION = date(2024, 12, 31)
FAULTY_EVERY = 200  # one deliberately faulty row in 200 (0.5 %)
FAULTY_KINDS = ("no_phone", "no_cccd", "duplicate", "single_word", "old_phone")
ACTIVE = (Status.ACTIVE, Status.SUSPENDED)
QUERY_BATCH = 2000  # ids/keys per IN (...) query (SQLite's variable limit)

M, F = Gender.MALE, Gender.FEMALE

# Main category → weight (share of beneficiaries); the profile can change some.
CATEGORY_WEIGHTS: dict[str, float] = {
    "D20.5.5.c": 33,  # 80+ without pension
    "D20.5.6": 34,  # severe / extremely severe disability
    "D20.5.4": 11,  # poor single parent
    "D20.5.5.a": 10,  # poor elderly without supporter
    "D20.5.1": 5,  # orphans and abandoned children
    "D20.5.2": 1.2,  # 16–22 still in school
    "D20.5.5.d": 0.6,  # elderly eligible for a care home, cared for at home
    "D20.5.5.b": 0,  # 75–80 in extremely disadvantaged ethnic-minority areas (profile)
    "D20.5.8": 0.07,  # adult with HIV (sensitive)
    "D20.5.3": 0.03,  # child with HIV (sensitive)
}

STREETS = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hùng Vương",
    "Lý Thường Kiệt",
    "Nguyễn Trãi",
    "Phan Đình Phùng",
    "Hai Bà Trưng",
    "Quang Trung",
    "Lê Lai",
    "Nguyễn Văn Cừ",
    "Tôn Đức Thắng",
    "Võ Thị Sáu",
    "Trưng Nữ Vương",
)

# (relationship, gender, shares the child's family name, birth years) — guardians of children.
GUARDIANS = (
    ("Bà nội", F, False, (1950, 1972), 5),
    ("Ông nội", M, True, (1948, 1970), 3),
    ("Bà ngoại", F, False, (1950, 1972), 5),
    ("Ông ngoại", M, False, (1948, 1970), 2),
    ("Cô ruột", F, True, (1968, 1995), 3),
    ("Chú ruột", M, True, (1968, 1995), 3),
    ("Bác ruột", M, True, (1960, 1985), 1),
    ("Dì ruột", F, False, (1968, 1995), 3),
    ("Cậu ruột", M, False, (1968, 1995), 1),
    ("Anh ruột", M, True, (1990, 2004), 1),
    ("Chị ruột", F, True, (1990, 2004), 2),
)
# (relationship, gender, shares the family name of the (male) elderly person, birth years)
AUTHORISED = (
    ("Con trai", M, True, (1955, 1985), 5),
    ("Con gái", F, False, (1955, 1985), 6),
    ("Con dâu", F, False, (1958, 1988), 3),
    ("Con rể", M, False, (1955, 1985), 1),
    ("Cháu nội", M, True, (1980, 2002), 2),
    ("Cháu ngoại", F, False, (1980, 2002), 2),
)


@dataclass(frozen=True)
class Profile:
    """Who lives in an area, as far as the generator cares."""

    khmer: float = 0.0
    cham: float = 0.0
    hoa: float = 0.01
    home_cccd: tuple[str, ...] = ("089",)  # birth-registration codes of the area
    other_cccd: tuple[str, ...] = ("087", "091", "092", "094", "084", "079", "086", "093")
    other_share: float = 0.08
    weights: dict[str, float] = field(default_factory=dict)  # overrides of CATEGORY_WEIGHTS


PROFILES = {
    # Châu Đốc: a city, mostly Kinh, a small Khmer and a Chăm community.
    "884": Profile(khmer=0.03, cham=0.02),
    # Tịnh Biên: mountain town on the Cambodian border, a large Khmer population.
    "890": Profile(khmer=0.24, weights={"D20.5.5.b": 1.5}),
}
KHMER_PROVINCES = {"89", "91", "92", "86", "96", "94", "84", "95"}  # An Giang, Kiên Giang, Sóc Trăng …


@dataclass
class Place:
    commune: Area
    villages: list[Area]
    weight: float
    urban: bool


# ------------------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def _phone_prefixes() -> tuple[str, ...]:
    """Mobile prefixes of Viettel, Vinaphone and MobiFone from the policy file. 089 is left out:
    only 0896–0899 are mobile numbers."""
    with open(settings.ANSINH_POLICY_FILE, encoding="utf-8") as fh:
        carriers = yaml.safe_load(fh)["phone"]["prefixes_by_original_carrier"]
    prefixes = [p for name in ("viettel", "vinaphone", "mobifone") for p in carriers[name]["prefixes"]]
    return tuple(p for p in prefixes if p != "089")


@lru_cache(maxsize=1)
def _century_digit() -> dict[tuple[int, str], str]:
    return {(start, gender): digit for digit, (start, gender) in cccd_rules().century_gender.items()}


def cccd_for(rng: random.Random, *, birth_date: date, gender: str, province: str) -> str:
    """A structurally valid, random CCCD for a person born on `birth_date` in `province`."""
    digit = _century_digit()[(birth_date.year // 100 * 100, gender)]
    return f"{province}{digit}{birth_date.year % 100:02d}{rng.randrange(1_000_000):06d}"


def redraw_cccd(rng: random.Random, cccd: str) -> str:
    return cccd[:6] + f"{rng.randrange(1_000_000):06d}"


def _day_between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _birthday(birth: date, years: int) -> date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February
        return birth.replace(year=birth.year + years, day=28)


def _age(birth: date, on: date = REFERENCE_DAY) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# ----------------------------------------------------------------------------------- generator


class Synth:
    """Generates beneficiaries for a set of places (communes with their villages)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        places: list[Place],
        profile: Profile,
        category_codes: set[str],
        faulty_kinds: tuple[str, ...] = FAULTY_KINDS,
        decided: tuple[date, date] = (FIRST_DECISION, LAST_DECISION),
    ):
        self.rng = rng
        self.decided = decided
        self.places = places
        self.place_cum = _cumulative(p.weight for p in places)
        self.profile = profile
        weights = {**CATEGORY_WEIGHTS, **profile.weights}
        pairs = [(c, w) for c, w in weights.items() if w > 0 and c in category_codes]
        self.categories = [c for c, _w in pairs]
        self.category_cum = _cumulative(w for _c, w in pairs)
        self.has_disability = "D20.5.6" in category_codes
        self.faulty_kinds = faulty_kinds
        self.count = 0
        self.faulty = 0
        self.recent: deque[BeneficiaryInput] = deque(maxlen=300)
        self.phone_prefixes = _phone_prefixes()

    # -- public

    def groups(self, n: int) -> Iterator[list[BeneficiaryInput]]:
        """Groups (one person, or two sharing a representative) totalling exactly `n` rows."""
        next_faulty = FAULTY_EVERY
        while self.count < n:
            group = self._group(room=n - self.count)
            if len(group) == 1 and self.faulty_kinds and self.count + 1 >= next_faulty:
                kind = self.faulty_kinds[self.faulty % len(self.faulty_kinds)]
                if self._make_faulty(group[0], kind):
                    self.faulty += 1
                    next_faulty += FAULTY_EVERY
            self.count += len(group)
            if len(group) == 1 and not group[0].representatives:
                self.recent.append(group[0])
            yield group

    # -- building blocks

    def _place(self) -> tuple[Place, Area | None]:
        place = self.rng.choices(self.places, cum_weights=self.place_cum, k=1)[0]
        village = self.rng.choice(place.villages) if place.villages else None
        return place, village

    def _ethnicity(self) -> str:
        x = self.rng.random()
        p = self.profile
        if x < p.khmer:
            return "Khmer"
        if x < p.khmer + p.cham:
            return "Chăm"
        if x < p.khmer + p.cham + p.hoa:
            return "Hoa"
        return "Kinh"

    def _birth(self, first_year: int, last_year: int) -> date:
        return _day_between(self.rng, date(first_year, 1, 1), date(last_year, 12, 31))

    def _cccd_province(self) -> str:
        p = self.profile
        if self.rng.random() < p.other_share:
            return self.rng.choice(p.other_cccd)
        return self.rng.choice(p.home_cccd)

    def _cccd(self, birth: date, gender: str) -> str:
        return cccd_for(self.rng, birth_date=birth, gender=gender, province=self._cccd_province())

    def _phone(self) -> str:
        number = self.rng.choice(self.phone_prefixes) + f"{self.rng.randrange(10_000_000):07d}"
        if self.rng.random() < 0.2:  # as typed at the commune: "0912 345 678"
            return f"{number[:4]} {number[4:7]} {number[7:]}"
        return number

    def _name(self, gender: str, birth: date, ethnicity: str, family: str = "") -> str:
        return names.person_name(self.rng, gender=gender, birth_year=birth.year, ethnicity=ethnicity, family=family)

    def _address(self, place: Place) -> str:
        if place.urban and self.rng.random() < 0.7:
            return f"Số {self.rng.randint(1, 350)}, đường {self.rng.choice(STREETS)}"
        return f"Tổ {self.rng.randint(1, 20)}" if self.rng.random() < 0.85 else ""

    def _decision(self, eligible_from: date) -> tuple[str, date]:
        first, last = self.decided
        signed = _day_between(self.rng, max(eligible_from, first), last)
        return f"{self.rng.randint(12, 2999)}/QĐ-UBND", signed

    def _person(self, *, gender: str, years: tuple[int, int], ethnicity: str, family: str = "") -> PersonInput:
        birth = self._birth(*years)
        return PersonInput(
            full_name=self._name(gender, birth, ethnicity, family),
            birth_date=birth,
            gender=gender,
            cccd=self._cccd(birth, gender),
            phone=self._phone(),
        )

    def _representative(
        self, table, *, kind: str, relative_name: str, ethnicity: str, valid_from: date, payee: bool = True
    ) -> RepresentationInput:
        relationship, gender, same_family, years, _w = self.rng.choices(table, weights=[t[4] for t in table])[0]
        family = names.family_of(relative_name) if same_family else ""
        person = self._person(gender=gender, years=years, ethnicity=ethnicity, family=family)
        document = ""
        if kind == RepresentationKind.AUTHORISED:
            document = f"{self.rng.randint(1, 250)}/{valid_from.year}/GUQ"
        return RepresentationInput(
            person=person,
            kind=kind,
            relationship=relationship,
            document_number=document,
            valid_from=valid_from,
            is_payee=payee,
        )

    def _base(
        self,
        *,
        gender: str,
        birth: date,
        ethnicity: str,
        code: str,
        place: Place,
        village: Area | None,
        eligible_from: date,
        family: str = "",
    ) -> BeneficiaryInput:
        number, signed = self._decision(eligible_from)
        cannot_read = False
        age = _age(birth)
        if ethnicity == "Khmer":
            cannot_read = self.rng.random() < (0.5 if age >= 60 else 0.15)
        elif ethnicity == "Chăm":
            cannot_read = self.rng.random() < (0.25 if age >= 60 else 0.05)
        return BeneficiaryInput(
            full_name=self._name(gender, birth, ethnicity, family),
            birth_date=birth,
            gender=gender,
            commune_id=place.commune.pk,
            village_id=village.pk if village else None,
            cccd=self._cccd(birth, gender),
            phone=self._phone(),
            ethnicity=ethnicity,
            address=self._address(place),
            cannot_read_vietnamese=cannot_read,
            categories=[CategoryInput(code=code)],
            decision_number=number,
            decision_date=signed,
            start_month=first_of_month(signed),
        )

    # -- one group

    def _group(self, room: int) -> list[BeneficiaryInput]:
        code = self.rng.choices(self.categories, cum_weights=self.category_cum, k=1)[0]
        place, village = self._place()
        ethnicity = self._ethnicity()
        if code == "D20.5.1":
            return self._orphans(place, village, ethnicity, pair=room >= 2 and self.rng.random() < 0.3)
        if code in ("D20.5.5.c", "D20.5.5.a", "D20.5.5.b", "D20.5.5.d"):
            return self._elderly(code, place, village, ethnicity, room)
        if code == "D20.5.6":
            return [self._disabled(place, village, ethnicity)]
        if code == "D20.5.4":
            gender = F if self.rng.random() < 0.88 else M
            birth = self._birth(1975, 2002)
            b = self._base(
                gender=gender,
                birth=birth,
                ethnicity=ethnicity,
                code=code,
                place=place,
                village=village,
                eligible_from=_birthday(birth, 18),
            )
            b.categories[0].units = self.rng.choices((1, 2, 3), weights=(55, 33, 12))[0]
            return [b]
        if code == "D20.5.2":
            birth = self._birth(2004, 2008)
            gender = self.rng.choice((M, F))
            return [
                self._base(
                    gender=gender,
                    birth=birth,
                    ethnicity=ethnicity,
                    code=code,
                    place=place,
                    village=village,
                    eligible_from=_birthday(birth, 16),
                )
            ]
        if code == "D20.5.8":
            birth = self._birth(1970, 2000)
            gender = M if self.rng.random() < 0.6 else F
            return [
                self._base(
                    gender=gender,
                    birth=birth,
                    ethnicity=ethnicity,
                    code=code,
                    place=place,
                    village=village,
                    eligible_from=_birthday(birth, 18),
                )
            ]
        if code == "D20.5.3":
            birth = self._birth(2011, 2020)
            b = self._base(
                gender=self.rng.choice((M, F)),
                birth=birth,
                ethnicity=ethnicity,
                code=code,
                place=place,
                village=village,
                eligible_from=birth + timedelta(days=60),
            )
            self._child_guardian(b, ethnicity)
            return [b]
        raise ValueError(code)

    def _child_guardian(self, child: BeneficiaryInput, ethnicity: str, table=GUARDIANS) -> RepresentationInput:
        rep = self._representative(
            table,
            kind=RepresentationKind.GUARDIAN,
            relative_name=child.full_name,
            ethnicity=ethnicity,
            valid_from=child.decision_date,
        )
        child.representatives = [rep]
        child.phone = rep.person.phone  # a child is reached through the guardian
        return rep

    def _orphans(self, place: Place, village: Area | None, ethnicity: str, pair: bool) -> list[BeneficiaryInput]:
        birth = self._birth(2011, 2023)
        first = self._base(
            gender=self.rng.choice((M, F)),
            birth=birth,
            ethnicity=ethnicity,
            code="D20.5.1",
            place=place,
            village=village,
            eligible_from=birth + timedelta(days=30),
        )
        rep = self._child_guardian(first, ethnicity)
        if not pair:
            return [first]
        # a brother or sister with the same guardian: one representative for two beneficiaries
        sibling_birth = self._birth(max(2011, birth.year - 5), min(2023, birth.year + 5))
        if sibling_birth == birth:
            sibling_birth = birth + timedelta(days=400)
        second = self._base(
            gender=self.rng.choice((M, F)),
            birth=sibling_birth,
            ethnicity=ethnicity,
            code="D20.5.1",
            place=place,
            village=village,
            eligible_from=sibling_birth + timedelta(days=30),
            family=names.family_of(first.full_name),
        )
        second.address = first.address
        second.phone = rep.person.phone
        second.representatives = [
            RepresentationInput(
                person=rep.person,
                kind=rep.kind,
                relationship=rep.relationship,
                valid_from=second.decision_date,
                is_payee=True,
            )
        ]
        return [first, second]

    def _elderly_birth(self, code: str) -> tuple[date, date]:
        """(birth date, the day the person became eligible)"""
        if code == "D20.5.5.c":  # 80 by the last decision day: born 1924–1944, younger more often
            year = 1944 - int(self.rng.triangular(0, 21, 0))
            birth = self._birth(year, year)
            return birth, _birthday(birth, 80)
        if code == "D20.5.5.b":
            birth = self._birth(1945, 1949)
            return birth, _birthday(birth, 75)
        birth = self._birth(1930, 1964)
        return birth, _birthday(birth, 60)

    def _elderly(
        self, code: str, place: Place, village: Area | None, ethnicity: str, room: int
    ) -> list[BeneficiaryInput]:
        gender = F if self.rng.random() < 0.6 else M
        birth, eligible = self._elderly_birth(code)
        b = self._base(
            gender=gender,
            birth=birth,
            ethnicity=ethnicity,
            code=code,
            place=place,
            village=village,
            eligible_from=eligible,
        )
        self._elderly_needs(b, code)
        if code == "D20.5.5.c" and self.has_disability and self.rng.random() < 0.04:
            severity = "extremely_severe" if self.rng.random() < 0.4 else "severe"
            b.categories.append(CategoryInput(code="D20.5.6", condition=f"{severity}:child_or_elderly"))
        if not (b.frail and self.rng.random() < 0.45):
            return [b]
        rep = self._authorised(b, ethnicity)
        if code != "D20.5.5.c" or room < 2 or self.rng.random() >= 0.25:
            return [b]
        # the spouse, also 80+, paid through the same son or daughter
        spouse_gender = M if gender == F else F
        spouse_birth = _day_between(
            self.rng,
            max(date(1924, 1, 1), birth - timedelta(days=5 * 365)),
            min(date(1944, 12, 31), birth + timedelta(days=5 * 365)),
        )
        spouse = self._base(
            gender=spouse_gender,
            birth=spouse_birth,
            ethnicity=ethnicity,
            code=code,
            place=place,
            village=village,
            eligible_from=_birthday(spouse_birth, 80),
        )
        spouse.address = b.address
        self._elderly_needs(spouse, code)
        spouse.frail = True
        spouse.representatives = [
            RepresentationInput(
                person=rep.person,
                kind=rep.kind,
                relationship=rep.relationship,
                document_number=f"{self.rng.randint(1, 250)}/{spouse.decision_date.year}/GUQ",
                valid_from=spouse.decision_date,
                is_payee=True,
            )
        ]
        return [b, spouse]

    def _elderly_needs(self, b: BeneficiaryInput, code: str) -> None:
        age = _age(b.birth_date)
        frail = {"D20.5.5.d": 0.6}.get(code, 0.45 if age >= 90 else 0.25 if age >= 85 else 0.1)
        b.frail = self.rng.random() < frail
        b.cannot_travel = b.frail and self.rng.random() < 0.5
        if self.rng.random() < (0.25 if age >= 80 else 0.12):
            b.phone, b.no_phone = "", True

    def _authorised(self, b: BeneficiaryInput, ethnicity: str) -> RepresentationInput:
        rep = self._representative(
            AUTHORISED,
            kind=RepresentationKind.AUTHORISED,
            relative_name=b.full_name if b.gender == M else "",
            ethnicity=ethnicity,
            valid_from=b.decision_date,
        )
        b.representatives = [rep]
        return rep

    def _disabled(self, place: Place, village: Area | None, ethnicity: str) -> BeneficiaryInput:
        x = self.rng.random()
        birth = (
            self._birth(2009, 2022) if x < 0.12 else self._birth(1966, 2004) if x < 0.65 else self._birth(1935, 1964)
        )
        gender = M if self.rng.random() < 0.55 else F
        age = _age(birth)
        group = "child_or_elderly" if age < 16 or age >= 60 else "adult"
        severity = "extremely_severe" if self.rng.random() < 0.35 else "severe"
        b = self._base(
            gender=gender,
            birth=birth,
            ethnicity=ethnicity,
            code="D20.5.6",
            place=place,
            village=village,
            eligible_from=birth + timedelta(days=365),
        )
        b.categories[0].condition = f"{severity}:{group}"
        b.cannot_travel = self.rng.random() < (0.6 if severity == "extremely_severe" else 0.15)
        if age >= 60:
            b.frail = self.rng.random() < 0.3
        if age < 16:
            if self.rng.random() < 0.85:
                parent = (("Mẹ", F, False, (1975, 2000), 3), ("Cha", M, True, (1970, 1998), 1))
                self._child_guardian(b, ethnicity, table=parent)
        elif severity == "extremely_severe" and self.rng.random() < 0.35:
            table = (
                ("Mẹ", F, False, (1945, 1975), 3),
                ("Vợ", F, False, (1960, 2000), 2),
                ("Chồng", M, False, (1960, 2000), 1),
                ("Anh ruột", M, True, (1955, 1995), 1),
                ("Chị ruột", F, True, (1955, 1995), 2),
                ("Con gái", F, False, (1975, 2000), 1),
            )
            b.representatives = [
                self._representative(
                    table,
                    kind=RepresentationKind.AUTHORISED,
                    relative_name=b.full_name,
                    ethnicity=ethnicity,
                    valid_from=b.decision_date,
                )
            ]
        elif self.rng.random() < 0.06:
            b.phone, b.no_phone = "", True
        return b

    # -- deliberately faulty rows

    def _make_faulty(self, b: BeneficiaryInput, kind: str) -> bool:
        if kind == "no_phone":  # no number and the "has no phone" box not ticked
            b.phone, b.no_phone = "", False
        elif kind == "no_cccd":
            b.cccd = ""
        elif kind == "single_word":  # only the given name was written down
            b.full_name = b.full_name.split(" ")[-1]
        elif kind == "old_phone":  # an 11-digit number from before the 2018 conversion
            b.phone, b.no_phone = f"0168{self.rng.randrange(10_000_000):07d}", False
        elif kind == "duplicate":  # the same person registered a second time, another CCCD or none
            if not self.recent:
                return False
            twin = self.rng.choice(self.recent)
            b.full_name, b.birth_date, b.gender, b.ethnicity = (
                twin.full_name,
                twin.birth_date,
                twin.gender,
                twin.ethnicity,
            )
            b.categories = [CategoryInput(c.code, c.condition, c.units, c.fixed_key) for c in twin.categories]
            b.commune_id, b.village_id = twin.commune_id, twin.village_id
            b.decision_date = max(b.decision_date, twin.decision_date)
            b.start_month = first_of_month(b.decision_date)
            b.cccd = self._cccd(b.birth_date, b.gender) if self.rng.random() < 0.5 else ""
            b.representatives = []
        else:
            raise ValueError(kind)
        return True


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# -------------------------------------------------------------------------------------- writer


@dataclass
class Stats:
    beneficiaries: int = 0
    with_issues: int = 0
    representations: int = 0
    shared_representatives: int = 0
    sensitive: int = 0
    duplicates_flagged: int = 0

    def add(self, other: Stats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Writer:
    """Cleans generated rows exactly as an entry path would and writes them in bulk.

    CCCD numbers are random, so two people may draw the same one: the writer looks each chunk's
    numbers up (in the chunk and in the database) and draws again before validation, so the
    uniqueness rules are never hit. With `check_duplicates`, rows whose name and date of birth
    are already registered in the province get the real likely-duplicate warning
    (`check_database_rules`); a repeat inside one chunk waits for the next chunk so the first
    one is in the database by then."""

    def __init__(
        self,
        *,
        rng: random.Random,
        areas: dict[int, Area],
        category_ids: dict[str, int],
        province_path: str,
        check_duplicates: bool,
        sensitive_codes: set[str],
        audit_rows: bool = False,
    ):
        self.rng = rng
        self.areas = areas
        self.category_ids = category_ids
        self.category_codes = set(category_ids)
        self.province_path = province_path
        self.check_duplicates = check_duplicates
        self.sensitive_codes = sensitive_codes
        self.audit_rows = audit_rows
        self.today = timezone.localdate()
        self.carry: list[list[BeneficiaryInput]] = []

    def write(self, groups: list[list[BeneficiaryInput]]) -> Stats:
        """Write one chunk (inside the caller's transaction)."""
        groups = self.carry + groups
        self.carry = []
        if self.check_duplicates:
            groups, self.carry = _split_repeats(groups)
        rows = [b for g in groups for b in g]
        self._unique_cccds(rows)
        known = self._known_people(rows) if self.check_duplicates else set()
        items: list[BulkItem] = []
        stats = Stats()
        for data in rows:
            key = (search_key(data.full_name), data.birth_date)
            data, findings = clean_beneficiary(
                data, today=self.today, areas=self.areas, category_codes=self.category_codes
            )
            if findings.ok and key in known:
                check_database_rules(data, findings)
                stats.duplicates_flagged += "likely_duplicate" in findings.codes
            if findings.errors:  # a generator bug: such a row could never be stored
                raise ValueError(f"generated row is invalid: {data.full_name} {findings.errors}")
            issues = issue_codes(findings)
            items.append(BulkItem(data=data, issues=issues))
            stats.with_issues += bool(issues)
            stats.representations += len(data.representatives)
            stats.sensitive += any(c.code in self.sensitive_codes for c in data.categories)
        stats.shared_representatives = sum(
            1 for g in groups if len(g) == 2 and g[0].representatives and g[1].representatives
        )
        bulk_create_beneficiaries(
            actor=None,
            items=items,
            areas=self.areas,
            category_ids=self.category_ids,
            audit=self.audit_rows,
            note="synthetic data",
        )
        stats.beneficiaries = len(items)
        return stats

    def flush(self) -> Stats:
        total = Stats()
        while self.carry:
            total.add(self.write([]))
        return total

    def _unique_cccds(self, rows: list[BeneficiaryInput]) -> None:
        """Give every person of the chunk a CCCD used by nobody else (the same representative
        in two rows keeps one number)."""
        owner: dict[str, int] = {}  # cccd -> id() of the person holding it

        def holders():
            for b in rows:
                if b.cccd:
                    yield b
                for rep in b.representatives:
                    if rep.person.cccd:
                        yield rep.person

        for _attempt in range(20):
            taken = self._taken_in_db({p.cccd for p in holders()})
            clashes = 0
            owner.clear()
            for person in holders():
                holder = owner.get(person.cccd)
                if (holder is not None and holder != id(person)) or (holder is None and person.cccd in taken):
                    person.cccd = redraw_cccd(self.rng, person.cccd)
                    clashes += 1
                owner.setdefault(person.cccd, id(person))
            if not clashes:
                return
        raise RuntimeError("could not draw unique CCCD numbers")

    @staticmethod
    def _taken_in_db(numbers: set[str]) -> set[str]:
        numbers_list = sorted(numbers)
        taken: set[str] = set()
        for start in range(0, len(numbers_list), QUERY_BATCH):
            batch = numbers_list[start : start + QUERY_BATCH]
            taken |= set(Beneficiary.objects.filter(cccd__in=batch, status__in=ACTIVE).values_list("cccd", flat=True))
            taken |= set(Representative.objects.filter(cccd__in=batch).exclude(cccd="").values_list("cccd", flat=True))
        return taken

    def _known_people(self, rows: list[BeneficiaryInput]) -> set[tuple[str, date]]:
        keys = sorted({search_key(b.full_name) for b in rows})
        known: set[tuple[str, date]] = set()
        for start in range(0, len(keys), QUERY_BATCH):
            known |= set(
                Beneficiary.objects.filter(
                    area_path__startswith=self.province_path, name_key__in=keys[start : start + QUERY_BATCH]
                ).values_list("name_key", "birth_date")
            )
        return known


def _split_repeats(groups: list[list[BeneficiaryInput]]) -> tuple[list, list]:
    """Groups to write now, and groups holding a person whose name and birth date appeared
    earlier in the chunk (written with the next chunk)."""
    seen: set[tuple[str, date]] = set()
    now, later = [], []
    for group in groups:
        keys = [(search_key(b.full_name), b.birth_date) for b in group]
        if any(k in seen for k in keys) or len(set(keys)) < len(keys):
            later.append(group)
            continue
        seen.update(keys)
        now.append(group)
    return now, later


# ---------------------------------------------------------------------------------------- loads


def _places(district_or_province: Area, *, seed: str, khmer_places: bool) -> tuple[list[Place], dict[int, Area]]:
    communes = list(
        Area.objects.filter(path__startswith=district_or_province.path, level=Level.COMMUNE).order_by("code", "pk")
    )
    province = district_or_province.province
    villages = ensure_villages(communes=communes, seed=seed, province_code=province.code, khmer_places=khmer_places)
    rng = random.Random(f"{seed}:weights:{district_or_province.tree}:{district_or_province.code}")
    places = [
        Place(
            commune=c,
            villages=villages[c.pk],
            weight=rng.uniform(0.6, 1.4),
            urban=c.division_type in ("Phường", "Thị trấn"),
        )
        for c in communes
    ]
    areas = {c.pk: c for c in communes} | {v.pk: v for vs in villages.values() for v in vs}
    return places, areas


def _category_ids() -> tuple[dict[str, int], set[str]]:
    rows = list(Category.objects.values_list("code", "pk", "sensitive"))
    return {code: pk for code, pk, _s in rows}, {code for code, _pk, s in rows if s}


def pilot_villages() -> dict[int, list[Area]]:
    """Create the demo villages of the two pilot units (idempotent)."""
    out: dict[int, list[Area]] = {}
    for code in DEMO_TARGETS:
        district = Area.objects.get(tree=Tree.LEGACY, code=code)
        communes = list(Area.objects.filter(parent=district, level=Level.COMMUNE).order_by("code"))
        out |= ensure_villages(communes=communes, seed=SEED, province_code=PROVINCE_CODE, khmer_places=code == "890")
    return out


def _receiving_in(month: date):
    from django.db.models import Q

    return Q(start_month__lte=month) & (Q(end_month__isnull=True) | Q(end_month__gte=month))


@transaction.atomic
def load_demo_registry(*, actor=None) -> dict:
    """The demo registry: exactly DEMO_TARGETS beneficiaries of Châu Đốc and Tịnh Biên receiving in
    September 2023 (PILOT_MONTH: Biểu 01 of the pilot's report), decided 2015 – September 2023,
    then about LATER_SHARE more decided from October 2023 to 2024 (the later months). A person
    whose eligibility starts after the pilot month counts among the later ones, so each district
    is topped up until its September 2023 count is exact. Existing beneficiaries count (a re-run
    creates nothing; a partly filled district is topped up). One summary audit event when rows
    were created."""
    province = Area.objects.get(tree=Tree.LEGACY, code=PROVINCE_CODE)
    category_ids, sensitive = _category_ids()
    summary: dict[str, dict] = {}
    total = Stats()
    pilot_last = date(PILOT_MONTH.year, PILOT_MONTH.month, 28)
    for code, target in DEMO_TARGETS.items():
        district = Area.objects.get(tree=Tree.LEGACY, code=code)
        in_district = Beneficiary.objects.filter(area_path__startswith=district.path)
        existing = in_district.count()
        stats = Stats()
        places: list[Place] | None = None
        areas: dict[int, Area] = {}
        # the pilot month until it is exact (a few rows start after it, and are later ones)
        for phase in ["pilot"] * PILOT_ROUNDS + ["later"]:
            if phase == "pilot":
                missing = target - in_district.filter(_receiving_in(PILOT_MONTH)).count()
                decided = (FIRST_DECISION, pilot_last)
            else:
                later = round(target * LATER_SHARE)
                missing = later - in_district.filter(start_month__gt=PILOT_MONTH).count()
                decided = (LATER_FIRST_DECISION, LAST_DECISION)
            if missing <= 0:
                continue
            if places is None:
                places, areas = _places(district, seed=SEED, khmer_places=code == "890")
            now = in_district.count()
            synth = Synth(
                rng=random.Random(f"{SEED}:{code}:{now}"),
                places=places,
                profile=PROFILES[code],
                category_codes=set(category_ids),
                decided=decided,
            )
            writer = Writer(
                rng=random.Random(f"{SEED}:{code}:{now}:cccd"),
                areas=areas,
                category_ids=category_ids,
                province_path=province.path,
                check_duplicates=True,
                sensitive_codes=sensitive,
            )
            for chunk in _chunks(synth.groups(missing), 2000):
                stats.add(writer.write(chunk))
            stats.add(writer.flush())
        if in_district.filter(_receiving_in(PILOT_MONTH)).count() < target:
            raise RuntimeError(f"district {code}: could not reach {target} beneficiaries in {PILOT_MONTH:%m/%Y}")
        if stats.beneficiaries:
            summary[code] = {"name": district.name, "existing": existing, **stats.as_dict()}
            total.add(stats)
    if total.beneficiaries:
        record(
            actor=actor,
            action=DEMO_ACTION,
            area=province,
            after={
                "seed": SEED,
                "targets": DEMO_TARGETS,
                "receiving_in": PILOT_MONTH.isoformat(),
                "later_share": LATER_SHARE,
                "districts": summary,
                "total": total.as_dict(),
            },
            note="synthetic demo data: no real person",
        )
    return {"created": total.beneficiaries, "districts": summary}


def _chunks(groups: Iterator[list[BeneficiaryInput]], size: int) -> Iterator[list[list[BeneficiaryInput]]]:
    """Chunks of whole groups with about `size` rows each (a pair is never split)."""
    chunk: list[list[BeneficiaryInput]] = []
    rows = 0
    for group in groups:
        chunk.append(group)
        rows += len(group)
        if rows >= size:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def profile_for(province: Area) -> Profile:
    """A profile for any province: its own birth-registration codes, neighbours from the same
    post-2025 province, a Khmer share in the Mekong-delta provinces."""
    rules = cccd_rules()
    with open(settings.ANSINH_POLICY_FILE, encoding="utf-8") as fh:
        codes = yaml.safe_load(fh)["cccd"]["province_codes"]
    if province.tree == Tree.LEGACY:
        home = (f"0{province.code}",) if f"0{province.code}" in rules.province_codes else ("001",)
    else:
        home = tuple(sorted(c for c, v in codes.items() if str(v[1]) == province.code.zfill(2))) or ("001",)
    others = tuple(c for c in sorted(rules.province_codes) if c not in home and c[0] == "0")
    mekong = province.code in KHMER_PROVINCES
    return Profile(
        khmer=0.08 if mekong else 0.0,
        cham=0.005 if province.code in ("89", "91") else 0.0,
        home_cccd=home,
        other_cccd=others,
        other_share=0.05,
        weights={"D20.5.5.b": 0.8} if mekong else {},
    )


def load_synthetic(
    *,
    province: Area,
    size: int,
    chunk: int = 10_000,
    audit_rows: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Top the province up to `size` beneficiaries, spread over all its communes (villages are
    created where a commune has none). Generated and written chunk by chunk, one transaction
    and one summary audit event per chunk, so memory stays bounded for millions of rows.
    Rows are checked with `clean_beneficiary`; the likely-duplicate search is not run (it
    needs the province's names, which do not fit a bounded chunk)."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    with transaction.atomic():
        places, areas = _places(province, seed=SEED, khmer_places=province.code in KHMER_PROVINCES)
    if not places:
        raise ValueError(f"province {province.code} has no communes")
    existing = Beneficiary.objects.filter(area_path__startswith=province.path).count()
    missing = size - existing
    if missing <= 0:
        say(f"{province.full_name}: {existing:,} beneficiaries already, nothing to do")
        return {"created": 0, "existing": existing, "seconds": 0.0}
    category_ids, sensitive = _category_ids()
    seed = f"{SEED}:{province.tree}:{province.code}:{existing}"
    synth = Synth(
        rng=random.Random(seed),
        places=places,
        profile=profile_for(province),
        category_codes=set(category_ids),
        faulty_kinds=tuple(k for k in FAULTY_KINDS if k != "duplicate"),
    )
    writer = Writer(
        rng=random.Random(seed + ":cccd"),
        areas=areas,
        category_ids=category_ids,
        province_path=province.path,
        check_duplicates=False,
        sensitive_codes=sensitive,
        audit_rows=audit_rows,
    )
    say(
        f"{province.full_name}: {existing:,} beneficiaries, creating {missing:,} in {len(places)} communes "
        f"({sum(len(p.villages) for p in places)} villages)"
    )
    total = Stats()
    for number, groups in enumerate(_chunks(synth.groups(missing), chunk), start=1):
        with transaction.atomic():
            stats = writer.write(groups)
            record(
                actor=None,
                action=SYNTHETIC_ACTION,
                area=province,
                after={"seed": seed, "chunk": number, **stats.as_dict()},
                note="synthetic benchmark data: no real person",
            )
        total.add(stats)
        elapsed = time.monotonic() - started
        say(
            f"  {total.beneficiaries:>10,} / {missing:,}  {elapsed:7.1f} s  "
            f"{total.beneficiaries / max(elapsed, 1e-9):,.0f} rows/s"
        )
    return {
        "created": total.beneficiaries,
        "existing": existing,
        "seconds": time.monotonic() - started,
        **total.as_dict(),
    }
