"""Writes to the area tree: loading the official trees, and the villages users manage.

The official trees are loaded set-based: one query reads what is there, new rows go in with
`bulk_create` in chunks, changed rows with `bulk_update`, then the materialised paths of the
new (or moved) rows are filled in once their ids are known. Re-running a load changes nothing.
"""

import gzip
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from ansinh.audit.services import diff, record, snapshot
from ansinh.core.references import referenced_by
from ansinh.core.text import normalize_name, search_key

from .copies import essential_moves, repath_copies
from .models import CURRENT_START, LEGACY_END, Area, Level, Tree

LEGACY_DATA = Path(__file__).parent / "data" / "vietnam-provinces-0.6.0-nested-divisions.json.gz"
LEGACY_SOURCE = "vietnam-provinces 0.6.0 (GSO data of 2025-01-04)"
CHUNK = 500

# The type words official names start with ("Thành phố Châu Đốc", "Xã Vĩnh Tế"), canonical spelling.
DIVISION_TYPES = ("Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Huyện", "Quận", "Tỉnh", "Xã")
# `vietnam_provinces.VietNamDivisionType` values of the current tree → the type we store.
CURRENT_TYPES = {
    "tỉnh": "Tỉnh",
    "thành phố trung ương": "Thành phố",
    "xã": "Xã",
    "phường": "Phường",
    "đặc khu": "Đặc khu",
}
LOADED_LEVELS = (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE)
CODE_WIDTH: dict[str, int] = {Level.PROVINCE: 2, Level.DISTRICT: 3, Level.COMMUNE: 5}

# Kinds of village-level units (stored in `division_type`).
VILLAGE_KINDS = ("Thôn", "Khóm", "Ấp", "Tổ dân phố", "Bản", "Buôn", "Làng", "Xóm", "Sóc", "Plei", "Phum")
_VILLAGE_KIND_BY_KEY = {search_key(kind): kind for kind in VILLAGE_KINDS}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Unit:
    """One administrative unit as the source data describes it."""

    level: str
    code: str
    name: str
    division_type: str
    parent_code: str | None = None


def official_code(level: str, number: int | str) -> str:
    """Official codes are zero-padded: province 2 digits, district 3, commune 5 ("89", "884",
    "30316"). Anything not a number is returned stripped, to be reported as unknown."""
    text = str(number).strip()
    return str(int(text)).zfill(CODE_WIDTH[level]) if text.isdigit() else text


def split_official_name(raw: str, default_type: str = "") -> tuple[str, str]:
    """'Thành phố  Châu Đốc' -> ('Thành phố', 'Châu Đốc'); names without a type word keep
    `default_type`. Only spacing and Unicode form are tidied: the source's capitalisation
    ("Cư M’gar", "Ea H’leo") is kept."""
    name = _SPACES.sub(" ", unicodedata.normalize("NFC", raw or "")).strip()
    lowered = name.lower()
    for kind in DIVISION_TYPES:
        if lowered.startswith(kind.lower() + " "):
            return kind, name[len(kind) + 1 :].strip()
    return default_type, name


# --- sources ---------------------------------------------------------------------------------


def current_source() -> str:
    import vietnam_provinces

    return f"vietnam-provinces {vietnam_provinces.__version__} (data of {vietnam_provinces.__data_version__})"


def current_units() -> list[Unit]:
    """The 34 provinces and 3,321 communes in force since 2025-07-01, from `vietnam-provinces`."""
    from vietnam_provinces import Province, Ward

    units: list[Unit] = []
    for province in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        kind, name = split_official_name(province.name, CURRENT_TYPES[province.division_type.value])
        units.append(Unit(Level.PROVINCE, official_code(Level.PROVINCE, province.code), name, kind))
    for ward in sorted(Ward.iter_all(), key=lambda w: int(w.code)):
        kind, name = split_official_name(ward.name, CURRENT_TYPES[ward.division_type.value])
        units.append(
            Unit(
                Level.COMMUNE,
                official_code(Level.COMMUNE, ward.code),
                name,
                kind,
                official_code(Level.PROVINCE, ward.province_code),
            )
        )
    return units


def _legacy_data() -> list[dict]:
    with gzip.open(LEGACY_DATA, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def legacy_province_codes() -> list[str]:
    """Codes of the 63 provinces of the shipped pre-2025 data."""
    return [official_code(Level.PROVINCE, p["code"]) for p in _legacy_data()]


def legacy_units(codes: list[str]) -> list[Unit]:
    """The given pre-2025 provinces with their districts and communes, from the shipped data.
    The file's own `division_type` fields are placeholders (every district says "huyện"), so
    the type comes from the name."""
    wanted = {official_code(Level.PROVINCE, c) for c in codes}
    units: list[Unit] = []
    found: set[str] = set()
    for province in _legacy_data():
        p_code = official_code(Level.PROVINCE, province["code"])
        if p_code not in wanted:
            continue
        found.add(p_code)
        kind, name = split_official_name(province["name"], "Tỉnh")
        units.append(Unit(Level.PROVINCE, p_code, name, kind))
        for district in province["districts"]:
            d_code = official_code(Level.DISTRICT, district["code"])
            kind, name = split_official_name(district["name"])
            units.append(Unit(Level.DISTRICT, d_code, name, kind, p_code))
            for ward in district["wards"]:
                kind, name = split_official_name(ward["name"])
                units.append(Unit(Level.COMMUNE, official_code(Level.COMMUNE, ward["code"]), name, kind, d_code))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError(
            _("Unknown pre-2025 province code(s): %(codes)s."),
            code="unknown_province",
            params={"codes": ", ".join(missing)},
        )
    return units


# --- loading ---------------------------------------------------------------------------------


def _sync_tree(
    *, tree: str, units: list[Unit], valid_from: date | None, valid_to: date | None, source: str
) -> dict[str, dict[str, int]]:
    """Insert or update `units` in `tree`, matched on (tree, code), level by level from the top.
    Validity dates are set on new rows only (a later end date set by hand is kept)."""
    existing = {a.code: a for a in Area.objects.filter(tree=tree).exclude(code="").exclude(level=Level.VILLAGE)}
    by_code: dict[str, Area] = {}
    moved_communes: list[Area] = []
    moved_paths: dict[str, str] = {}  # old path -> new path of every existing row that moved
    counts: dict[str, dict[str, int]] = {}

    for level in LOADED_LEVELS:
        level_units = [u for u in units if u.level == level]
        if not level_units:
            continue
        created: list[Area] = []
        updated: list[Area] = []
        for unit in level_units:
            parent_id = by_code[unit.parent_code].pk if unit.parent_code else None
            area = existing.get(unit.code)
            if area is None:
                area = Area(
                    tree=tree,
                    level=level,
                    code=unit.code,
                    name=unit.name,
                    name_key=search_key(unit.name),
                    division_type=unit.division_type,
                    parent_id=parent_id,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    source=source,
                )
                created.append(area)
            else:
                if area.level != level:
                    raise ValidationError(
                        _("Code %(code)s is already used by a %(level)s of this tree."),
                        code="code_taken",
                        params={"code": unit.code, "level": Level(area.level).label},
                    )
                if (area.name, area.division_type, area.parent_id) != (
                    unit.name,
                    unit.division_type,
                    parent_id,
                ):
                    area.name, area.name_key = unit.name, search_key(unit.name)
                    area.division_type, area.parent_id, area.source = unit.division_type, parent_id, source
                    updated.append(area)
            by_code[unit.code] = area

        Area.objects.bulk_create(created, batch_size=CHUNK)
        Area.objects.bulk_update(updated, ["name", "name_key", "division_type", "parent", "source"], batch_size=CHUNK)

        # Paths need the ids, known only now for the new rows; a moved parent moves the children.
        new_ids = {a.pk for a in created}
        updated_ids = {a.pk for a in updated}
        repathed: list[Area] = []
        for unit in level_units:
            area = by_code[unit.code]
            path = (by_code[unit.parent_code].path if unit.parent_code else "/") + f"{area.pk}/"
            if area.path != path:
                if area.pk not in new_ids:  # an existing row whose place in the tree changed
                    moved_paths[area.path] = path
                area.path, area.depth = path, path.count("/") - 2
                repathed.append(area)
                if area.pk not in new_ids:
                    updated_ids.add(area.pk)
                    if level == Level.COMMUNE:
                        moved_communes.append(area)
        _store_paths(repathed)

        counts[level] = {
            "created": len(new_ids),
            "updated": len(updated_ids),
            "unchanged": len(level_units) - len(new_ids) - len(updated_ids),
        }

    _repath_villages(moved_communes)
    _repath_copies(moved_paths)
    return counts


def _repath_villages(communes: list[Area]) -> None:
    """Villages hang under communes; when a commune's path changed, theirs follow."""
    ids = [c.pk for c in communes]
    for start in range(0, len(ids), CHUNK):
        _store_paths(list(Area.objects.filter(level=Level.VILLAGE, parent_id__in=ids[start : start + CHUNK])))


def _repath_copies(moved_paths: dict[str, str]) -> None:
    """The rows that copy a moved area's path (beneficiaries, representatives, import jobs, audit
    events …) follow it, set-based, in this transaction; one summary event says what moved and
    how many rows followed. Villages never change commune in a load, so their moves are implied
    by their commune's."""
    moves = essential_moves(moved_paths)
    if not moves:
        return
    rows = repath_copies(moves)
    record(
        actor=None,
        action="areas.paths.updated",
        after={
            "moves": [
                {"area": int(old.strip("/").split("/")[-1]), "from": old, "to": new}
                for old, new in sorted(moves.items())
            ],
            "rows": rows,
        },
    )


def _store_paths(areas: list[Area]) -> None:
    """Write path and depth of `areas` from their parents' stored paths: one UPDATE per chunk
    (bulk_update's CASE per row costs seconds for a few thousand rows)."""
    parent = Area.objects.filter(pk=OuterRef("parent_id"))
    own = Concat(Cast("id", output_field=CharField()), Value("/"), output_field=CharField())
    roots = [a.pk for a in areas if a.parent_id is None]
    children = [a.pk for a in areas if a.parent_id is not None]
    for start in range(0, len(roots), CHUNK):
        Area.objects.filter(pk__in=roots[start : start + CHUNK]).update(
            path=Concat(Value("/"), own, output_field=CharField()), depth=0
        )
    for start in range(0, len(children), CHUNK):
        Area.objects.filter(pk__in=children[start : start + CHUNK]).update(
            path=Concat(Subquery(parent.values("path")[:1]), own, output_field=CharField()),
            depth=Subquery(parent.values("depth")[:1]) + 1,
        )


def _changed(counts: dict[str, dict[str, int]]) -> bool:
    return any(c["created"] or c["updated"] for c in counts.values())


@transaction.atomic
def load_current_tree(*, actor) -> dict[str, dict[str, int]]:
    """Load or refresh the 2025 tree (34 provinces, 3,321 communes) from `vietnam-provinces`.
    Returns counts per level: {"province": {"created": …, "updated": …, "unchanged": …}, …}.
    One audit event per load that changed something."""
    source = current_source()
    counts = _sync_tree(
        tree=Tree.CURRENT, units=current_units(), valid_from=CURRENT_START, valid_to=None, source=source
    )
    if _changed(counts):
        record(
            actor=actor,
            action="areas.tree.loaded",
            after={"tree": Tree.CURRENT.value, "source": source, "counts": counts},
        )
    return counts


@transaction.atomic
def load_legacy_provinces(*, actor, codes: list[str]) -> dict[str, dict[str, int]]:
    """Load or refresh pre-2025 provinces (with districts and communes) from the shipped data,
    all in one transaction with one audit event."""
    units = legacy_units(codes)
    counts = _sync_tree(tree=Tree.LEGACY, units=units, valid_from=None, valid_to=LEGACY_END, source=LEGACY_SOURCE)
    if _changed(counts):
        province_codes = [u.code for u in units if u.level == Level.PROVINCE]
        area = Area.objects.get(tree=Tree.LEGACY, code=province_codes[0]) if len(province_codes) == 1 else None
        record(
            actor=actor,
            action="areas.tree.loaded",
            area=area,
            after={
                "tree": Tree.LEGACY.value,
                "source": LEGACY_SOURCE,
                "provinces": province_codes,
                "counts": counts,
            },
        )
    return counts


def load_legacy_province(*, actor, code: str) -> dict[str, dict[str, int]]:
    """Load or refresh one pre-2025 province, e.g. An Giang ("89")."""
    return load_legacy_provinces(actor=actor, codes=[code])


# --- villages --------------------------------------------------------------------------------


def _village_kind(kind: str) -> str:
    if not (kind or "").strip():
        return ""
    canonical = _VILLAGE_KIND_BY_KEY.get(search_key(kind))
    if canonical is None:
        raise ValidationError(
            _("Unknown kind of village “%(kind)s”; use one of: %(kinds)s."),
            code="unknown_kind",
            params={"kind": kind, "kinds": ", ".join(VILLAGE_KINDS)},
        )
    return canonical


def _village_name(name: str, kind: str) -> str:
    """Normalised name without a repeated kind ('ấp  an hòa' with kind Ấp -> 'An Hòa')."""
    name = normalize_name(name)
    if kind:
        words, kind_words = name.split(" "), len(kind.split(" "))
        if len(words) > kind_words and search_key(" ".join(words[:kind_words])) == search_key(kind):
            name = " ".join(words[kind_words:])
    if not name:
        raise ValidationError(_("A village needs a name."), code="required")
    max_length = Area._meta.get_field("name").max_length
    if max_length is not None and len(name) > max_length:
        raise ValidationError(_("This village name is too long."), code="max_length")
    return name


def _refuse_duplicate(commune: Area, name: str, exclude_pk: int | None = None) -> None:
    duplicates = Area.objects.filter(parent=commune, level=Level.VILLAGE, name_key=search_key(name))
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    if duplicates.exists():
        _raise_duplicate(commune, name)


def _raise_duplicate(commune: Area, name: str, cause: Exception | None = None) -> None:
    raise ValidationError(
        _("%(commune)s already has a village named “%(name)s”."),
        code="duplicate",
        params={"commune": commune.full_name, "name": name},
    ) from cause


@transaction.atomic
def create_village(*, actor, commune: Area, name: str, kind: str = "") -> Area:
    """A village (thôn, khóm, ấp, tổ dân phố …) under a commune, in the commune's tree and
    with its validity. Names are unique per commune, ignoring accents and case."""
    if commune.level != Level.COMMUNE:
        raise ValidationError(_("A village can only be created under a commune."), code="not_a_commune")
    kind = _village_kind(kind)
    name = _village_name(name, kind)
    _refuse_duplicate(commune, name)
    village = Area(
        tree=commune.tree,
        level=Level.VILLAGE,
        name=name,
        division_type=kind,
        parent=commune,
        valid_from=commune.valid_from,
        valid_to=commune.valid_to,
    )
    try:
        with transaction.atomic():
            village.save()
    except IntegrityError as exc:  # a concurrent create of the same name won the race
        _raise_duplicate(commune, name, exc)
    record(
        actor=actor,
        action="areas.village.created",
        obj=village,
        area=village,
        after=snapshot(village, ["tree", "name", "division_type", "parent", "valid_from", "valid_to"]),
    )
    return village


@transaction.atomic
def rename_village(*, actor, village: Area, name: str) -> Area:
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Only a village can be renamed here."), code="not_a_village")
    name = _village_name(name, village.division_type)
    if name == village.name:
        return village
    commune = village.parent
    assert commune is not None  # a village always hangs under its commune
    _refuse_duplicate(commune, name, exclude_pk=village.pk)
    before = {"name": village.name}
    village.name = name
    try:
        with transaction.atomic():
            village.save(update_fields=["name", "name_key"])
    except IntegrityError as exc:
        _raise_duplicate(commune, name, exc)
    record(
        actor=actor,
        action="areas.village.renamed",
        obj=village,
        area=village,
        before=before,
        after={"name": name},
    )
    return village


# --- corrections by an administrator ---------------------------------------------------------

# The fields an administrator's change of an area is audited with.
AREA_FIELDS = ["tree", "level", "code", "name", "division_type", "parent", "valid_from", "valid_to", "source"]
# The level a unit's parent has, per tree (None: a root).
PARENT_LEVEL: dict[tuple[str, str], str | None] = {
    (Tree.LEGACY, Level.PROVINCE): None,
    (Tree.LEGACY, Level.DISTRICT): Level.PROVINCE,
    (Tree.LEGACY, Level.COMMUNE): Level.DISTRICT,
    (Tree.CURRENT, Level.PROVINCE): None,
    (Tree.CURRENT, Level.COMMUNE): Level.PROVINCE,
    (Tree.LEGACY, Level.VILLAGE): Level.COMMUNE,
    (Tree.CURRENT, Level.VILLAGE): Level.COMMUNE,
}


def _tidy(name: str) -> str:
    """NFC and single spaces; official capitalisation ("Cư M’gar") is kept."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name or "")).strip()


def check_place(tree: str, level: str, parent: Area | None) -> None:
    """Where a unit of `level` may hang in `tree` (ValidationError keyed by field otherwise)."""
    if (tree, level) not in PARENT_LEVEL:
        raise ValidationError({"level": _("This tree has no units of this level.")}, code="level")
    expected = PARENT_LEVEL[(tree, level)]
    if expected is None and parent is not None:
        raise ValidationError({"parent": _("A province has no parent unit.")}, code="parent")
    if expected is not None and (parent is None or parent.level != expected or parent.tree != tree):
        message = _("The parent must be a unit of level “%(level)s” in the same tree.")
        raise ValidationError({"parent": message % {"level": Level(expected).label}}, code="parent")


@transaction.atomic
def create_area(
    *,
    actor,
    tree: str,
    level: str,
    name: str,
    parent: Area | None = None,
    code: str = "",
    division_type: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
    source: str = "",
) -> Area:
    """A province, district or commune added by hand (the official trees come from `load_areas`),
    placed where its tree has that level. A village is created as `create_village` does (its
    validity is the commune's)."""
    check_place(tree, level, parent)
    if level == Level.VILLAGE:
        assert parent is not None  # check_place refused a village without its commune
        return create_village(actor=actor, commune=parent, name=name, kind=division_type)
    area = Area(
        tree=tree,
        level=level,
        code=code.strip(),
        name=_tidy(name),
        name_key=search_key(name),
        division_type=division_type.strip(),
        parent=parent,
        valid_from=valid_from,
        valid_to=valid_to,
        source=source,
    )
    area.full_clean(exclude=["path"])
    area.save()
    record(actor=actor, action="areas.area.created", obj=area, area=area, after=snapshot(area, AREA_FIELDS))
    return area


@transaction.atomic
def change_area(
    *,
    actor,
    area: Area,
    name: str,
    code: str = "",
    division_type: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
    source: str = "",
) -> Area:
    """Correct a unit's name, code, type, validity or source. Its place in the tree (tree, level,
    parent) is fixed: the materialised paths of everything below it depend on it. A village's
    name follows the village rules (normalised, unique in its commune)."""
    current = Area.objects.select_for_update().get(pk=area.pk)
    before = snapshot(current, AREA_FIELDS)
    if current.level == Level.VILLAGE:
        division_type = _village_kind(division_type)
        name = _village_name(name, division_type)
        _refuse_duplicate(current.parent, name, exclude_pk=current.pk)
    name = _tidy(name)
    current.name, current.name_key = name, search_key(name)
    current.code, current.division_type = code.strip(), division_type.strip()
    current.valid_from, current.valid_to, current.source = valid_from, valid_to, source
    current.full_clean(exclude=["path"])
    old, new = diff(before, snapshot(current, AREA_FIELDS))
    if old or new:
        current.save()
        record(actor=actor, action="areas.area.changed", obj=current, area=current, before=old, after=new)
    return current


@transaction.atomic
def delete_area(*, actor, area: Area) -> None:
    """Delete a unit nothing refers to (no units below it, no people, roles or log entries);
    any other is ended by its validity instead (ValidationError)."""
    refs = referenced_by(area)
    if refs:
        raise ValidationError(
            _("%(area)s cannot be deleted: %(refs)s refer to it. Set an end of validity instead.")
            % {"area": area.full_name, "refs": ", ".join(refs)},
            code="referenced",
        )
    record(actor=actor, action="areas.area.deleted", obj=area, area=area.parent, before=snapshot(area, AREA_FIELDS))
    area.delete()
