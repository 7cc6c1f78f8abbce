"""Importing beneficiaries (with representatives) from XLSX or CSV for one commune.

1. `read_rows` streams the file (python-calamine for XLSX, csv for CSV).
2. `check_file` validates the WHOLE file first: per-row field rules, then set-based database
   checks (CCCDs, likely duplicates), and classifies every valid row as create / update /
   unchanged. Nothing is written.
3. `apply_plan` writes the valid rows in one transaction with bulk statements and one audit
   event per changed beneficiary. Re-importing the same file finds every row unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level
from ansinh.core.text import search_key
from ansinh.policy.labels import condition_of
from ansinh.policy.models import Category, CoefficientRule

from . import bulk, matching
from .columns import BY_KEY, header_key
from .inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from .models import Beneficiary, Status
from .rules import clean_beneficiary, first_of_month
from .services import issue_codes

MAX_ROWS = 200_000
TRUTHY = {"x", "có", "co", "1", "true", "yes", "y", "v", "✓"}


class FileError(Exception):
    """The file as a whole cannot be read (wrong format, no header, too many rows)."""


@dataclass
class RowError:
    row: int  # spreadsheet row number (header is row 1)
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Plan:
    rows: int = 0
    creates: list[tuple[int, BeneficiaryInput, list[dict]]] = field(default_factory=list)
    updates: list[tuple[int, int, BeneficiaryInput, list[dict]]] = field(default_factory=list)  # row, id, data
    unchanged: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "created": len(self.creates),
            "updated": len(self.updates),
            "unchanged": len(self.unchanged),
            "error_rows": self.error_rows,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


# ---------------------------------------------------------------------------------------- reading


HEADER_SCAN_ROWS = 15  # a title block (unit, list title, date) sits above the header row
# the first words of the lines under a list that are not people: totals and signatures
_FOOTER_WORDS = (
    "tong cong",
    "tong so",
    "cong:",
    "nguoi lap",
    "lap bieu",
    "xac nhan",
    "chu tich",
    "pho chu tich",
    "thu truong",
    "ke toan",
    "ky ten",
    "(ky",
    "ngay ",
)


def read_rows(
    path: str | Path, *, name: str | None = None, notes: list[RowError] | None = None
) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Returns (recognised column keys, iterator of (row number, {key: raw value})), row numbers
    as the spreadsheet shows them. The header row is looked for in the first HEADER_SCAN_ROWS
    rows (offices put a title block above it); the rows skipped on the way — the title block, a
    row of column numbers under the header, total and signature lines — are told in `notes`."""
    name = (name or str(path)).lower()
    if name.endswith(".csv"):
        raw_rows = _csv_rows(path)
    elif name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raw_rows = _xlsx_rows(path)
    else:
        raise FileError(_("Upload an Excel file (.xlsx) or a CSV file."))
    notes = notes if notes is not None else []
    header_number, header = _find_header(raw_rows)
    keys = [header_key(str(h or "")) for h in header]
    if header_number > 1:
        notes.append(
            RowError(
                header_number,
                "",
                _(
                    "The header row is row %(row)d: the title above it was skipped. Data rows are numbered "
                    "as in your file."
                )
                % {"row": header_number},
            )
        )
    required = [k for k in keys if k in _REQUIRED]

    def rows() -> Iterator[tuple[int, dict]]:
        for number, values in enumerate(raw_rows, start=header_number + 1):
            if number - header_number > MAX_ROWS:
                raise FileError(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS})
            if all(_blank(v) for v in values):
                continue
            row = {k: v for k, v in zip(keys, values, strict=False) if k}
            if number == header_number + 1 and _numbering_row(values):
                notes.append(
                    RowError(number, "", _("Row %(row)d numbers the columns; it was skipped.") % {"row": number})
                )
                continue
            if _footer_row(row, required):
                notes.append(
                    RowError(
                        number,
                        "",
                        _(
                            "Row %(row)d has no date of birth or gender: read as a total or signature line "
                            "and skipped. If it is a person, fill those columns in."
                        )
                        % {"row": number},
                    )
                )
                continue
            yield number, row

    return [k for k in keys if k], rows()


_REQUIRED = frozenset(c.key for c in BY_KEY.values() if c.required)


def _blank(value) -> bool:
    return value in (None, "") or (isinstance(value, str) and not value.strip())


def _find_header(raw_rows: Iterator[list]) -> tuple[int, list]:
    """(row number, cells) of the first row within HEADER_SCAN_ROWS that names every required
    column; a FileError that says what is missing otherwise."""
    best: tuple[int, int, list] | None = None  # (columns recognised, row number, cells)
    anything = False
    for number in range(1, HEADER_SCAN_ROWS + 1):
        try:
            cells = next(raw_rows)
        except StopIteration:
            break
        anything = anything or not all(_blank(c) for c in cells)
        found = {header_key(str(c or "")) for c in cells} - {None}
        if found >= _REQUIRED:
            return number, cells
        if found and (best is None or len(found) > best[0]):
            best = (len(found), number, cells)
    if best is None:
        if not anything:
            raise FileError(_("The file is empty."))
        raise FileError(
            _(
                "No header row in the first %(n)d rows: the header row names the columns (%(columns)s). "
                "Download the template and copy your data into it."
            )
            % {"n": HEADER_SCAN_ROWS, "columns": ", ".join(c.header for c in BY_KEY.values() if c.required)}
        )
    _count, number, cells = best
    found = {header_key(str(c or "")) for c in cells}
    missing = [c.header for c in BY_KEY.values() if c.required and c.key not in found]
    raise FileError(
        _(
            "The header row (row %(row)d) lacks the columns: %(columns)s. Add them, or download the template "
            "and copy your data into it."
        )
        % {"row": number, "columns": ", ".join(missing)}
    )


_COLUMN_NUMBER = re.compile(r"\(?\s*(?:\d{1,2}|[a-z])\s*\)?")


def _numbering_row(values: list) -> bool:
    """A row of column numbers under the header: (1) (2) (3)… or 1 2 3… or A B C…"""
    cells = [_text(v).lower() for v in values if not _blank(v)]
    return len(cells) >= 3 and all(_COLUMN_NUMBER.fullmatch(c) for c in cells)


def _footer_row(row: dict, required: list[str]) -> bool:
    """A line that is not a person: no date of birth or gender, and nothing in the required
    columns but total and signature words ("Tổng cộng", "Người lập biểu", "Chủ tịch UBND xã")."""
    if any(not _blank(row.get(k)) for k in ("birth_date", "gender") if k in required):
        return False
    texts = [_label_key(_text(row.get(k))) for k in required if not _blank(row.get(k))]
    return all(text.startswith(_FOOTER_WORDS) for text in texts)


def _xlsx_rows(path) -> Iterator[list]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise FileError(_("The file could not be read as an Excel workbook.")) from exc
    yield from sheet.iter_rows()


def _csv_rows(path) -> Iterator[list]:
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        # a title block above the header has no delimiters: sniff the lines that have some
        sample = "\n".join(line for line in text[:16384].splitlines() if any(d in line for d in ",;\t"))[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:  # one column, or a sample the sniffer cannot read: plain comma-separated
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:  # e.g. a field over the size limit, a NUL byte
        raise FileError(_("The CSV file could not be read: %(error)s") % {"error": exc}) from exc


# ------------------------------------------------------------------------------------- converting


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{4})")


def _date(value, *, month_only: bool = False) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and 1800 <= value <= 2100:
        raise ValueError(str(int(value)))  # a year alone (1945), not the serial number of a day in 1905
    if isinstance(value, (int, float)) and 1 < value < 80000:  # Excel serial number
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    text = str(value).strip()
    # the template's own formats without strptime (a 50,000-row file has 100,000+ dates)
    if match := (_MONTH_YEAR if month_only else _DAY_MONTH_YEAR).fullmatch(text):
        numbers = [int(part) for part in match.groups()]
        try:
            return dt.date(numbers[1], numbers[0], 1) if month_only else dt.date(numbers[2], numbers[1], numbers[0])
        except ValueError:
            raise ValueError(text) from None
    formats = (
        ["%m/%Y", "%m-%Y", "%Y-%m", "%d/%m/%Y", "%Y-%m-%d"]
        if month_only
        else ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y"]
    )
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


@lru_cache(maxsize=4096)
def _label_key(text: str) -> str:
    """search_key of a short, often repeated cell (gender, a flag, a village name)."""
    return search_key(text)


def _gender(value) -> str:
    text = _label_key(_text(value))
    return {
        "nam": "male",
        "male": "male",
        "m": "male",
        "nu": "female",
        "female": "female",
        "f": "female",
    }.get(text, text)


def _bool(value) -> bool:
    text = _text(value)
    return bool(text) and (_label_key(text) in TRUTHY or text.lower() in TRUTHY)


def _rep_kind(value) -> str:
    """'Giám hộ', 'Người giám hộ', 'Ủy quyền', 'Người được ủy quyền' (the kinds' labels, which
    the error names) or the API's values."""
    text = _label_key(_text(value)).removeprefix("nguoi ")
    if text.startswith("giam ho") or text == "guardian":
        return "guardian"
    if text.startswith(("uy quyen", "duoc uy quyen")) or text in ("authorised", "authorized", "authorised person"):
        return "authorised"
    return text


@dataclass
class Context:
    commune: Area
    villages: dict[str, int]  # name_key -> id
    areas: dict[int, Area]
    category_codes: set[str]
    today: dt.date
    # search_key of a category's Vietnamese and English names -> its code (the template's
    # values), and each code's condition keys
    category_names: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, set[str]] = field(default_factory=dict)

    def code_of(self, typed: str) -> str:
        """A category by its name as the template gives it (accents, case and spaces ignored), or
        by its code (the earlier template's values: case, spaces and 'Đ' typed for 'D' ignored)."""
        key = typed.strip().replace(" ", "").replace("Đ", "D").replace("đ", "d").upper()
        if not key:
            return ""
        if not hasattr(self, "_codes_upper"):
            self._codes_upper = {c.upper(): c for c in self.category_codes}
        return self._codes_upper.get(key) or self.category_names.get(_label_key(typed), typed.strip())

    def codes_of(self, typed: str) -> list[str]:
        """Several categories separated by ";" (names hold commas), or codes separated by ","."""
        codes: list[str] = []
        for part in (p.strip() for p in typed.split(";")):
            if not part:
                continue
            code = self.code_of(part)
            if code in self.category_codes or "," not in part:
                codes.append(code)
            else:
                codes.extend(self.code_of(p) for p in part.split(",") if p.strip())
        return codes

    def condition_of(self, code: str, typed: str) -> str:
        """The condition key of the category from its name or the key itself (policy.labels)."""
        return condition_of(typed, sorted(self.conditions.get(code, ())))


def make_context(commune: Area) -> Context:
    villages = list(Area.objects.filter(parent=commune, level=Level.VILLAGE))
    areas = {commune.pk: commune} | {v.pk: v for v in villages}
    keys: dict[str, int] = {}
    for v in villages:
        keys[v.name_key] = v.pk
        keys[search_key(v.full_name)] = v.pk
    return Context(
        commune=commune,
        villages=keys,
        areas=areas,
        category_codes=set(Category.objects.values_list("code", flat=True)),
        today=timezone.localdate(),
        category_names={
            search_key(name): code
            for code, *names in Category.objects.values_list("code", "name_vi", "name_en")
            for name in names
            if name
        },
        conditions=_conditions(),
    )


def _conditions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for code, condition in CoefficientRule.objects.exclude(condition="").values_list("category__code", "condition"):
        found.setdefault(code, set()).add(condition)
    return found


def _identity_text(value, key: str, notes: Callable[[str, str], None]) -> str:
    """An identity number from a cell. A number cell drops leading zeros: a 9-digit CMND that
    starts with 0 comes back with 8 digits and gets its zero again (a CCCD's are restored by
    validation.check_identity, which can check them against the date of birth)."""
    text = _text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and text.isdigit() and len(text) == 8:
        restored = "0" + text
        notes(
            key,
            _("%(value)s had lost its leading zero (a number cell): restored as the old ID card number %(new)s.")
            % {"value": text, "new": restored},
        )
        return restored
    return text


# what offices write in the phone column of a person without one
_NO_PHONE = frozenset({"khong", "khong co", "ko", "ko co", "k co", "kco", "khong co dt", "khong co sdt", "-", "--"})


def _says_no_phone(value) -> bool:
    return _label_key(_text(value)) in _NO_PHONE


def _phone_text(value, key: str, notes: Callable[[str, str], None]) -> str:
    """A phone number from a cell; "không có" there means no phone (ticked, with a note)."""
    if _says_no_phone(value):
        notes(key, _("“%(value)s” read as “has no phone”.") % {"value": _text(value)})
        return ""
    return _text(value)


def to_input(
    raw: dict,
    ctx: Context,
    errors: Callable[[str, str], None],
    notes: Callable[[str, str], None] | None = None,
) -> BeneficiaryInput:
    """The input of one row; `errors` and `notes` (warnings: what was repaired) get (column key,
    message)."""
    notes = notes or (lambda _key, _message: None)

    def date_of(key, month_only=False):
        try:
            return _date(raw.get(key), month_only=month_only)
        except ValueError:
            errors(
                key,
                _("“%(value)s” is not a date: type it as dd/mm/yyyy, e.g. 03/02/1941.") % {"value": _text(raw.get(key))}
                if not month_only
                else _("“%(value)s” is not a month: type it as mm/yyyy, e.g. 02/2024.")
                % {"value": _text(raw.get(key))},
            )
            return None

    village_id = None
    village_name = _text(raw.get("village"))
    if village_name:
        village_id = ctx.villages.get(_label_key(village_name))
        if village_id is None:
            errors(
                "village",
                _("The village “%(name)s” does not exist in %(commune)s; create it first.")
                % {"name": village_name, "commune": ctx.commune.full_name},
            )
    units_text = _text(raw.get("units"))
    units = 1
    if units_text:
        if units_text.isdigit() and int(units_text) >= 1:
            units = int(units_text)
        else:
            errors("units", _("The number of people raised must be a whole number from 1."))
    categories = []
    code = ctx.code_of(_text(raw.get("category")))
    if code:
        condition = ctx.condition_of(code, _text(raw.get("condition")))
        categories.append(CategoryInput(code=code, condition=condition, units=units))
    for other in ctx.codes_of(_text(raw.get("other_categories"))):
        categories.append(CategoryInput(code=other))
    reps = []
    rep_name = _text(raw.get("rep_full_name"))
    if rep_name:
        reps.append(
            RepresentationInput(
                person=PersonInput(
                    full_name=rep_name,
                    birth_date=date_of("rep_birth_date"),
                    gender=_gender(raw.get("rep_gender")) if _text(raw.get("rep_gender")) else "",
                    cccd=_identity_text(raw.get("rep_cccd"), "rep_cccd", notes),
                    phone=_phone_text(raw.get("rep_phone"), "rep_phone", notes),
                ),
                kind=_rep_kind(raw.get("rep_kind")) or "authorised",
                relationship=_text(raw.get("rep_relationship")),
                document_number=_text(raw.get("rep_document")),
                valid_from=date_of("rep_valid_from"),
                valid_to=date_of("rep_valid_to"),
                is_payee=_bool(raw.get("rep_is_payee")),
            )
        )
    return BeneficiaryInput(
        full_name=_text(raw.get("full_name")),
        birth_date=date_of("birth_date"),
        gender=_gender(raw.get("gender")),
        commune_id=ctx.commune.pk,
        village_id=village_id,
        cccd=_identity_text(raw.get("cccd"), "cccd", notes),
        phone=_phone_text(raw.get("phone"), "phone", notes),
        ethnicity=_text(raw.get("ethnicity")) or "Kinh",
        address=_text(raw.get("address")),
        cannot_travel=_bool(raw.get("cannot_travel")),
        no_phone=_bool(raw.get("no_phone")) or _says_no_phone(raw.get("phone")),
        cannot_read_vietnamese=_bool(raw.get("cannot_read_vietnamese")),
        frail=_bool(raw.get("frail")),
        categories=categories,
        decision_number=_text(raw.get("decision_number")),
        decision_date=date_of("decision_date"),
        start_month=date_of("start_month", month_only=True),
        backdating_reason=_text(raw.get("backdating_reason")),
        representatives=reps,
    )


# --------------------------------------------------------------------------------------- checking

FIELD_TO_KEY = {"commune": "village", "categories": "category", "representatives": "rep_full_name"}


def _column_of(field_name: str) -> str:
    from .columns import header_label

    return header_label(field_name)


def check_file(
    path, *, commune: Area, name: str | None = None, progress: Callable[[int, int], None] | None = None
) -> Plan:
    """Validate the whole file; classify rows. Reads the database, writes nothing."""
    ctx = make_context(commune)
    plan = Plan()
    _keys, rows = read_rows(path, name=name, notes=plan.warnings)
    parsed: list[tuple[int, BeneficiaryInput, list[dict]]] = []
    seen_cccd: dict[str, int] = {}
    for number, raw in rows:
        plan.rows += 1
        row_errors: list[RowError] = []

        def err(key, message, _row=number, _errors=row_errors):
            _errors.append(RowError(_row, BY_KEY[key].header if key in BY_KEY else key, message))

        def note(key, message, _row=number):
            plan.warnings.append(RowError(_row, BY_KEY[key].header if key in BY_KEY else key, message))

        data = to_input(raw, ctx, err, note)
        data, findings = clean_beneficiary(data, today=ctx.today, areas=ctx.areas, category_codes=ctx.category_codes)
        for field_name, messages in findings.errors.items():
            row_errors.extend(RowError(number, _column_of(field_name), m) for m in messages)
        if data.cccd and not row_errors:
            first = seen_cccd.setdefault(data.cccd, number)
            if first != number:
                row_errors.append(
                    RowError(
                        number,
                        BY_KEY["cccd"].header,
                        _("The same CCCD is already on row %(row)d of this file: keep one of the two rows.")
                        % {"row": first},
                    )
                )
        for field_name, messages in findings.warnings.items():
            plan.warnings.extend(RowError(number, _column_of(field_name), m) for m in messages)
        if row_errors:
            plan.errors.extend(row_errors)
        else:
            parsed.append((number, data, issue_codes(findings)))
        if progress and plan.rows % 1000 == 0:
            progress(plan.rows, 0)
    _classify(parsed, plan, ctx)
    plan.errors.sort(key=lambda e: e.row)
    plan.warnings.sort(key=lambda e: e.row)
    return plan


def _classify(parsed: list[tuple[int, BeneficiaryInput, list[dict]]], plan: Plan, ctx: Context) -> None:
    """Match rows to existing beneficiaries by CCCD (else by name + date of birth in the
    commune), every status included, in a few set-based queries (`matching`, the rules of the
    single-row service too); decide create / update / unchanged / error.

    A row for a person whose allowance was stopped (died, moved, no longer eligible) is an
    error: re-importing an old list never brings them back."""
    name_keys = {number: search_key(d.full_name) for number, d, _i in parsed}  # once per row
    # only the compared fields: a re-import of 50,000 rows holds 50,000 of these at once
    compared = tuple(name.removesuffix("_id") for name in BeneficiaryInput.EDITABLE) + ("start_month",)
    by_cccd = matching.by_cccd((d.cccd for _n, d, _i in parsed), fields=compared)
    # rows without a CCCD, and rows whose CCCD is new: the CCCD may complete a record kept without
    # one (an old CMND replaced, a number found), found by name and date of birth in the commune
    no_cccd_keys = {name_keys[n] for n, d, _i in parsed if not d.cccd or d.cccd not in by_cccd}
    by_name = matching.by_name_in_commune(ctx.commune, no_cccd_keys, fields=compared) if no_cccd_keys else {}
    known = matching.known_in_province(ctx.commune, ((name_keys[n], d.birth_date) for n, d, _i in parsed))
    conflicts = matching.representative_conflicts(rep.person for _n, d, _i in parsed for rep in d.representatives)
    in_commune = ctx.commune.path

    def can_see(path: str) -> bool:
        return path.startswith(in_commune)

    matched: dict[int, Beneficiary] = {}
    for number, data, _issues in parsed:
        existing = by_cccd.get(data.cccd) if data.cccd else None
        if existing is None:
            matches = by_name.get((name_keys[number], data.birth_date), [])
            receiving = [b for b in matches if b.status != Status.STOPPED]
            existing = receiving[0] if len(receiving) == 1 else (matches[-1] if matches and not receiving else None)
        if existing is not None:
            matched[number] = existing
    cats_now = bulk.current_categories(b.pk for b in matched.values())
    links_now = bulk._active_links(b.pk for b in matched.values())

    for number, data, issues in parsed:
        bad = [rep.person.cccd for rep in data.representatives if rep.person.cccd in conflicts]
        if bad:
            plan.errors.extend(RowError(number, BY_KEY["rep_cccd"].header, conflicts[c]) for c in bad)
            continue
        existing = matched.get(number)
        if existing is not None and existing.status == Status.STOPPED:
            header = BY_KEY["cccd" if data.cccd else "full_name"].header
            plan.errors.append(
                RowError(number, header, matching.stopped_message(existing, can_see=can_see(existing.area_path)))
            )
            continue
        if existing is not None and existing.commune_id != ctx.commune.pk:
            plan.errors.append(
                RowError(
                    number,
                    BY_KEY["cccd"].header,
                    _(
                        "This CCCD belongs to a person registered in %(commune)s. If the person has moved here, "
                        "ask that commune to record the move decision, which brings the record here; otherwise "
                        "check the number against the card."
                    )
                    % {"commune": existing.commune.full_name},
                )
            )
            continue
        if existing is None:
            dup = known.get((name_keys[number], data.birth_date))
            if dup is not None:
                message = matching.duplicate_message(dup, can_see=can_see(dup.area_path))
                plan.warnings.append(RowError(number, BY_KEY["full_name"].header, message))
                issues = [*issues, {"field": "full_name", "message": message}]
            plan.creates.append((number, data, issues))
            continue
        current = cats_now.get(existing.pk, [])
        categories_changed = bulk.category_set(data.categories) != bulk.category_set(current)
        if categories_changed and any(c.from_month != existing.start_month for c in current):
            plan.errors.append(
                RowError(
                    number,
                    BY_KEY["category"].header,
                    _(
                        "The categories differ from the record (%(now)s), which changed by decision since "
                        "registration: record an adjustment decision on the person's page instead."
                    )
                    % {"now": ", ".join(sorted(c.category.code for c in current))},
                )
            )
            continue
        if (
            categories_changed
            or _differs(existing, data)
            or _representatives_differ(links_now.get(existing.pk, []), data, can_see)
        ):
            plan.updates.append((number, existing.pk, data, issues))
        else:
            plan.unchanged.append(number)


def _differs(b: Beneficiary, d: BeneficiaryInput) -> bool:
    return any(getattr(b, name) != getattr(d, name) for name in BeneficiaryInput.EDITABLE)


def _representatives_differ(links, d: BeneficiaryInput, can_edit) -> bool:
    for rep in d.representatives:
        link = bulk.find_link(links, rep.person)
        if link is None or bulk.link_changes(link, rep):
            return True
        if can_edit(link.representative.area_path) and bulk.person_changes(link.representative, rep.person):
            return True
    return False


# --------------------------------------------------------------------------------------- applying


@transaction.atomic
def apply_plan(*, actor, plan: Plan, commune: Area, note: str = "") -> dict:
    """Write the plan's valid rows: all of them or none."""
    ctx = make_context(commune)
    category_ids = dict(Category.objects.values_list("code", "id"))
    for _n, data, _i in plan.creates:
        assert data.start_month is not None  # required by rules.check_beneficiary
        data.start_month = first_of_month(data.start_month)
    created = bulk.bulk_create_beneficiaries(
        actor=actor,
        items=[bulk.BulkItem(d, i) for _n, d, i in plan.creates],
        areas=ctx.areas,
        category_ids=category_ids,
        note=note,
    )
    existing = Beneficiary.objects.select_related("commune", "village").in_bulk([pk for _n, pk, _d, _i in plan.updates])
    changes = [
        bulk.Update(existing[pk], d, i, categories=d.categories, representatives=d.representatives)
        for _n, pk, d, i in plan.updates
        if pk in existing
    ]
    updated = bulk.bulk_update_beneficiaries(
        actor=actor, changes=changes, areas=ctx.areas, category_ids=category_ids, note=note
    )
    return {"created": len(created), "updated": updated, "unchanged": len(plan.unchanged)}
