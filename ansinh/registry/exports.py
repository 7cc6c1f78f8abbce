"""Spreadsheets of the registry: the import template, the error report of an import, and the
filtered beneficiary list (with its size limit, its masking and its audit event)."""

from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.exporter import (
    ERROR_FILL,
    Sheet,
    TitleBlock,
    header_cells,
    print_setup,
    to_xlsx,
    unit_name,
    write_workbook,
)
from ansinh.core.masking import mask_number
from ansinh.policy.labels import condition_label

from .columns import COLUMNS, ERROR_HEADER, WARNING_HEADER
from .importing import read_rows
from .models import Beneficiary, ImportJob, Status
from .privacy import contact_visible, exportable, mask_phone
from .queries import SearchParams, cccd_visible, count_upto


def import_template() -> bytes:
    """The XLSX template: the data sheet with Vietnamese headers and drop-downs, a sheet of
    category codes and conditions, and instructions."""
    from ansinh.policy.models import Category

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = "Danh sách"
    ws.append([c.header for c in COLUMNS])
    letters = {c.key: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    for i, c in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letters[c.key]].width = c.width
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 45
    for key, options in (
        ("gender", '"Nam,Nữ"'),
        ("rep_gender", '"Nam,Nữ"'),
        ("rep_kind", '"Giám hộ,Ủy quyền"'),
    ):
        dv = DataValidation(type="list", formula1=options, allow_blank=True)
        dv.add(f"{letters[key]}2:{letters[key]}5000")
        ws.add_data_validation(dv)
    for key in ("cannot_travel", "no_phone", "cannot_read_vietnamese", "frail", "rep_is_payee"):
        dv = DataValidation(type="list", formula1='"x"', allow_blank=True)
        dv.add(f"{letters[key]}2:{letters[key]}5000")
        ws.add_data_validation(dv)
    for key in ("cccd", "phone", "rep_cccd", "rep_phone"):
        for row in range(2, 5001):
            ws[f"{letters[key]}{row}"].number_format = "@"  # keep leading zeros
    # the categories by their Vietnamese names (a drop-down of the category column); the old
    # codes (D20.5.6) and condition keys (severe:adult) are still accepted by the importer
    cats = wb.create_sheet("Danh mục")
    cats.append(["Tên đối tượng", "Điều kiện (ghi một trong các điều kiện)"])
    with translation.override("vi"):
        for category in Category.objects.prefetch_related("coefficient_rules").order_by("programme__code", "code"):
            conditions = sorted({r.condition for r in category.coefficient_rules.all() if r.condition})
            cats.append([category.name_vi or category.name_en, "; ".join(condition_label(c) for c in conditions)])
    dv = DataValidation(type="list", formula1=f"'Danh mục'!$A$2:$A${cats.max_row}", allow_blank=True)
    dv.add(f"{letters['category']}2:{letters['category']}5000")
    ws.add_data_validation(dv)
    cats.column_dimensions["A"].width = 90
    cats.column_dimensions["B"].width = 80
    guide = wb.create_sheet("Hướng dẫn")
    for line in [
        _("One row per beneficiary. Required columns: full name, date of birth, gender, category."),
        _("Dates as dd/mm/yyyy; the start month as mm/yyyy (default: the month of the decision)."),
        _("CCCD: 12 digits, typed as text so the leading zeros stay."),
        _("Phone: a 10-digit mobile number; old 11-digit numbers are converted."),
        _("Village: the name of a village already created in the commune."),
        _(
            "Representative columns: fill them for a guardian or authorised person; x in “Nhận tiền thay” makes "
            "them the payee."
        ),
        _("Nothing is written until you confirm; re-importing the same file changes nothing."),
    ]:
        guide.append([line])
    guide.column_dimensions["A"].width = 120
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def error_report(job: ImportJob) -> bytes:
    """The uploaded rows as they were, with an error column (and warnings) per row."""
    errors: dict[int, list[str]] = defaultdict(list)
    for e in job.errors:
        errors[e["row"]].append(f"{e['column']}: {e['message']}")
    warnings: dict[int, list[str]] = defaultdict(list)
    for w in job.warnings:
        warnings[w["row"]].append(f"{w['column']}: {w['message']}")
    keys, rows = read_rows(job.file.path, name=job.original_name)
    headers = {c.key: c.header for c in COLUMNS}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    # set up to print, but without a title block: the corrected report is uploaded again as it is
    print_setup(ws, header_row=1)
    ws.append(header_cells(ws, ["Dòng", ERROR_HEADER, WARNING_HEADER] + [headers[k] for k in keys]))
    for number, raw in rows:
        message = "\n".join(errors.get(number, []))
        cells = [number, message, "\n".join(warnings.get(number, []))] + [raw.get(k) for k in keys]
        if message:
            cells = [_error_cell(ws, v) for v in cells]
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _error_cell(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.fill = ERROR_FILL
    return cell


LIST_HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Số điện thoại",
    "Dân tộc",
    "Xã/phường",
    "Thôn/khóm/ấp",
    "Đối tượng",
    "Trạng thái",
    "Tháng bắt đầu",
    "Người nhận thay",
    "Không đi lại được",
    "Không có điện thoại",
    "Không đọc được tiếng Việt",
    "Già yếu",
]


def beneficiary_rows(user, qs, tally: dict[int, list[int]] | None = None):
    """Rows of the filtered list; CCCD masked unless the user may see it in that area, phone
    numbers masked unless the user may see contact data there (registry.privacy).
    Sensitive (HIV) category codes are never written to lists. With `tally`, each row is also
    counted per commune ({commune id: [people, receiving]}, for `commune_summary`)."""
    from .models import BeneficiaryCategory, Representation

    full_cccd = cccd_visible(user)
    full_phone = contact_visible(user)
    qs = qs.select_related("commune", "village").order_by("sort_key", "id")  # Vietnamese list order
    start = 0
    for chunk in _chunks(qs, LIST_CHUNK):
        ids = [b.pk for b in chunk]
        cats: dict[int, list[str]] = defaultdict(list)
        for bc in BeneficiaryCategory.objects.filter(beneficiary_id__in=ids, to_month__isnull=True).select_related(
            "category"
        ):
            if not bc.category.sensitive:
                cats[bc.beneficiary_id].append(bc.category.name)
        payees = dict(
            Representation.objects.filter(beneficiary_id__in=ids, is_payee=True, ended_at__isnull=True).values_list(
                "beneficiary_id", "representative__full_name"
            )
        )
        for offset, b in enumerate(chunk, start=start + 1):
            show = full_cccd(b.area_path)
            if tally is not None:
                counts = tally.setdefault(b.commune_id, [0, 0])
                counts[0] += 1
                counts[1] += b.status == Status.ACTIVE
            yield [
                offset,
                b.full_name,
                b.birth_date.strftime("%d/%m/%Y"),
                "Nam" if b.gender == "male" else "Nữ",
                b.cccd if show else mask_number(b.cccd),
                b.phone_display if full_phone(b.area_path) else mask_phone(b.phone),
                b.ethnicity,
                b.commune.full_name,
                b.village.full_name if b.village else "",
                "; ".join(cats.get(b.pk, [])),
                b.get_status_display(),
                b.start_month.strftime("%m/%Y"),
                payees.get(b.pk, ""),
                _x(b.cannot_travel),
                _x(b.no_phone),
                _x(b.cannot_read_vietnamese),
                _x(b.frail),
            ]
        start += len(chunk)


LIST_CHUNK = 2000


def _chunks(rows, size: int):
    """The rows in lists of at most `size`, in their order, in bounded memory.

    A queryset (ordered by sort_key, id) is read by keyset pagination: each chunk is the next
    `size` rows after the last (sort_key, id) seen, so every chunk costs about the same, where
    LIMIT/OFFSET re-reads and discards all the rows before the page (quadratic on a long list);
    on PostgreSQL the condition is a range of the (sort_key, id) index. The queryset must not
    hold the same beneficiary twice (the category filter of registry.queries.search uses
    distinct()). Anything else (the ranked results of a name search) is read through its own
    iteration, `size` rows at a time."""
    if not isinstance(rows, QuerySet):
        it = iter(rows)
        while chunk := list(islice(it, size)):
            yield chunk
        return
    page = rows
    while chunk := list(page[:size]):
        yield chunk
        if len(chunk) < size:
            return
        key, pk = chunk[-1].sort_key, chunk[-1].pk
        # sort_key >= key bounds the index range; the OR picks up after the last row seen
        page = rows.filter(Q(sort_key__gte=key) & (Q(sort_key__gt=key) | Q(id__gt=pk)))


def _x(flag: bool) -> str:
    return "x" if flag else ""


LIST_TITLE = "Danh sách đối tượng"
LIST_WIDTHS = [6, 26, 12, 8, 15, 14, 9, 20, 18, 14, 12, 10, 24, 8, 8, 8, 8]


# the columns of the list that fit an A4 page (landscape) with a signature column
PRINT_HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Xã/phường",
    "Thôn/khóm/ấp",
    "Đối tượng",
    "Trạng thái",
    "Người nhận thay",
]
COMMUNE_HEADER = "Xã/phường"  # shown on paper only when the list spans several communes
SUMMARY_TITLE = "Tổng hợp theo xã"
SUMMARY_HEADERS = ["STT", "Xã/phường", "Thuộc", "Số đối tượng", "Đang hưởng"]
SUMMARY_WIDTHS = [6, 32, 32, 14, 12]


def beneficiary_list_xlsx(user, qs) -> bytes:
    return to_xlsx(title=LIST_TITLE, headers=LIST_HEADERS, rows=beneficiary_rows(user, qs), widths=LIST_WIDTHS)


@dataclass
class ListExport:
    file: IO[bytes]  # a temporary file, at its start; deleted when closed
    rows: int


def _limited(actor, results, *, printing: bool = False):
    """`results` in the areas where the actor may take the list away (as a file or on paper)
    and its number of rows; a ValidationError above `settings.ANSINH_EXPORT_MAX_ROWS`."""
    results = exportable(actor, results)
    limit = settings.ANSINH_EXPORT_MAX_ROWS
    count = count_upto(results, limit)
    if count > limit:
        if printing:
            message = _(
                "The list has more than %(limit)s beneficiaries, too many to print. Narrow the search "
                "(choose a district, a commune or a status) and print again."
            )
        else:
            message = _(
                "The list has more than %(limit)s beneficiaries, too many for one file. Narrow the search "
                "(choose a district, a commune or a status) and export again."
            )
        raise ValidationError(message, code="too_many_rows", params={"limit": f"{limit:,}".replace(",", ".")})
    return results, count


@dataclass
class ListHeading:
    """What a list on paper or in a file says about itself: the title block, the place of the
    date line, whether it spans several communes (then it shows the commune of each person
    and the counts per commune)."""

    block: TitleBlock
    place: str
    per_commune: bool
    area: Area | None


def list_heading(actor, params: SearchParams, title: str) -> ListHeading:
    area = list_area(actor, params)
    commune = area.parent if area is not None and area.level == Level.VILLAGE else area
    return ListHeading(
        block=TitleBlock(unit=unit_name(area), title=title.upper(), lines=_filter_lines(params, area)),
        place=commune.name if commune is not None else "",
        per_commune=area is None or area.level in (Level.PROVINCE, Level.DISTRICT),
        area=area,
    )


def _filter_lines(params: SearchParams, area: Area | None) -> list[str]:
    """The search as a line under the title ("Lọc: Khóm Châu Long 1; Trạng thái: Đang hưởng")."""
    parts = []
    if area is not None and area.level == Level.VILLAGE:
        parts.append(area.full_name)
    if params.status:
        parts.append(f"Trạng thái: {dict(Status.choices).get(params.status, params.status)}")
    if params.category:
        from ansinh.policy.models import Category

        category = Category.objects.filter(code=params.category).first()
        parts.append(f"Đối tượng: {category.name_vi if category else params.category}")
    q = _logged_filters(SearchParams(q=params.q)).get("q", "")
    if q:
        parts.append(f"Tìm: “{q}”")
    return [f"Lọc: {'; '.join(parts)}"] if parts else []


def commune_summary(tally: dict[int, list[int]]) -> list[list]:
    """Counts per commune (from `beneficiary_rows(tally=…)`), by the unit above and the commune
    name, with a total row."""
    communes = sorted(
        Area.objects.filter(pk__in=list(tally)).select_related("parent"),
        key=lambda a: (a.parent.name_key if a.parent else "", a.name_key),
    )
    rows: list[list] = [
        [i, a.full_name, a.parent.full_name if a.parent else "", *tally[a.pk]] for i, a in enumerate(communes, start=1)
    ]
    rows.append(["", "Tổng cộng", "", sum(t[0] for t in tally.values()), sum(t[1] for t in tally.values())])
    return rows


def export_beneficiary_list(*, actor, results, params: SearchParams) -> ListExport:
    """The searched list (`results`, already scoped to the actor's areas) as an XLSX file,
    limited to the areas where the actor may export, written to a temporary file (bounded
    memory) and logged as a read of personal data ("registry.exported": the filter and the
    number of rows; Decree 13/2023 asks that exports of personal data be recorded). The sheet
    has a title block and is set up to print; a list spanning several communes (a district's,
    a province's) gets a second sheet with the counts per commune.

    A list longer than `settings.ANSINH_EXPORT_MAX_ROWS` (20,000) is refused: it is more than a
    commune or a district holds, and a whole province's personal data is not taken away as one
    spreadsheet (a filter by district or commune gives the lists people work with)."""
    results, _count = _limited(actor, results)
    heading = list_heading(actor, params, LIST_TITLE)
    tally: dict[int, list[int]] | None = {} if heading.per_commune else None
    written = 0

    def counted():
        nonlocal written
        for row in beneficiary_rows(actor, results, tally):
            written += 1
            yield row

    block = heading.block.dated(timezone.localdate())

    def sheets():
        yield Sheet(title=LIST_TITLE, headers=LIST_HEADERS, rows=counted(), widths=LIST_WIDTHS, heading=block)
        if tally:
            yield Sheet(
                title=SUMMARY_TITLE,
                headers=SUMMARY_HEADERS,
                rows=commune_summary(tally),
                widths=SUMMARY_WIDTHS,
                heading=TitleBlock(block.unit, SUMMARY_TITLE.upper(), block.lines),
                landscape=False,
            )

    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (handed to the response, which closes it)
    try:
        write_workbook(out, sheets())
        with transaction.atomic():
            record(
                actor=actor,
                action="registry.exported",
                area=heading.area,
                after={"format": "xlsx", "rows": written, "filters": _logged_filters(params)},
            )
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return ListExport(file=out, rows=written)


@dataclass
class PrintedList:
    """A list for the print page: its heading, the printed columns, the rows (an iterator, read
    once, chunk by chunk), and the counts per commune once the rows are read (None for a
    commune's own list)."""

    heading: ListHeading
    headers: list[str]
    rows: Iterator[list]
    count: int
    summary: Callable[[], list[list]] | None


def print_beneficiary_list(*, actor, results, params: SearchParams) -> PrintedList:
    """The searched list on paper: every row (not a page of the screen), under the same rules
    as the file — the areas where the actor may take the list away, the same size limit, CCCD
    and phones masked where the actor may not see them, no HIV-related category — logged as
    "registry.printed". The columns are those that fit an A4 page; the commune column only on
    a list that spans several communes."""
    results, count = _limited(actor, results, printing=True)
    heading = list_heading(actor, params, LIST_TITLE)
    headers = [h for h in PRINT_HEADERS if heading.per_commune or h != COMMUNE_HEADER]
    picks = [LIST_HEADERS.index(h) for h in headers]
    tally: dict[int, list[int]] | None = {} if heading.per_commune else None
    rows = ([row[i] for i in picks] for row in beneficiary_rows(actor, results, tally))
    with transaction.atomic():
        record(
            actor=actor,
            action="registry.printed",
            area=heading.area,
            after={"format": "print", "rows": count, "filters": _logged_filters(params)},
        )
    summary = (lambda: commune_summary(tally)) if tally is not None else None
    return PrintedList(heading=heading, headers=headers, rows=rows, count=count, summary=summary)


def list_area(actor, params: SearchParams) -> Area | None:
    """The area a list is of, where its export or print is logged: the area searched, else the
    actor's one area (so that the commune's or the province's own log shows it); national (no
    area) otherwise."""
    if params.area:
        area = Area.objects.filter(pk=params.area).select_related("parent").first()
        if area is not None:
            return area
    top = access.top_areas(actor, Cap.REGISTRY_EXPORT)
    return top[0] if len(top) == 1 else None


def _logged_filters(params: SearchParams) -> dict:
    """The search as the audit log keeps it: numbers searched for (a CCCD, a phone) masked."""
    filters = {k: v for k, v in asdict(params).items() if v not in ("", None, (), False)}
    q = filters.get("q", "")
    if any(ch.isdigit() for ch in q):
        filters["q"] = mask_number("".join(ch for ch in q if ch.isdigit()))
    if filters.get("phone"):
        filters["phone"] = mask_phone(filters["phone"])
    return filters


__all__ = ["Beneficiary", "beneficiary_list_xlsx", "error_report", "export_beneficiary_list", "import_template"]
