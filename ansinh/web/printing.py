"""Lists on paper: one print page for every list (beneficiaries, areas, organisations, people
moving in; later payroll and cash lists). A4, the unit and the title above the list with the
date, row numbers, the columns that fit, an optional "Ký nhận" column where people sign, no
menus or forms; every row, not a page of the screen.

The page is streamed: the template is rendered once with markers where the rows and the
summary go; the rows are written between them as HTML, a few hundred at a time, so a list of
20,000 people is never held in memory as one page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.http import StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from ansinh.accounts import access
from ansinh.areas.models import Level
from ansinh.core.exporter import TitleBlock, unit_name

ROWS_MARK = "<!--print:rows-->"
SUMMARY_MARK = "<!--print:summary-->"
ROWS_PER_WRITE = 500


@dataclass
class Summary:
    """A table after the list (e.g. counts per commune), made once the rows are read."""

    title: str
    headers: Sequence[str]
    rows: Callable[[], Iterable[Sequence]]
    numeric: frozenset[int] = frozenset()


@dataclass
class PrintList:
    """One list to print. A later list (payroll, cash lists) builds one of these from its own
    row iterator, already scoped and masked by its domain, and calls `print_response`."""

    block: TitleBlock
    headers: Sequence[str]
    rows: Iterable[Sequence]
    place: str = ""  # where the list is made, for the date line ("Châu Phú A, ngày …")
    numeric: frozenset[int] = frozenset({0})  # right-aligned columns (row numbers, counts)
    landscape: bool = True
    sign: bool | None = None  # None: no signature column offered; else whether it is shown
    sign_header: str = "Ký nhận"
    summary: Summary | None = None
    back_url: str = ""
    empty_text: str = ""


def heading_for(user, cap: str, title: str, lines: Sequence[str] = ()) -> tuple[TitleBlock, str]:
    """The title block of a list of the user's areas (those where `cap` holds) and the place
    of its date line: the unit of the user's one area, none for several or the country."""
    top = access.top_areas(user, cap)
    area = top[0] if len(top) == 1 else None
    commune = area.parent if area is not None and area.level == Level.VILLAGE else area
    return TitleBlock(unit=unit_name(area), title=title.upper(), lines=lines), commune.name if commune else ""


def _text(value) -> str:
    if value is None:
        return ""
    return str(value)


def _number(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    return _text(value)


def _row(cells: Sequence, numeric: frozenset[int], sign: bool, *, group_digits: bool = False) -> str:
    parts = ["<tr>"]
    for i, value in enumerate(cells):
        if i in numeric:
            text = _number(value) if group_digits and i else _text(value)
            parts.append(f'<td class="n">{escape(text)}</td>')
        else:
            parts.append(f"<td>{escape(_text(value))}</td>")
    if sign:
        parts.append('<td class="sign"></td>')
    parts.append("</tr>\n")
    return "".join(parts)


def _rows_html(page: PrintList) -> Iterator[str]:
    buffer: list[str] = []
    written = 0
    for cells in page.rows:
        buffer.append(_row(cells, page.numeric, bool(page.sign)))
        written += 1
        if len(buffer) >= ROWS_PER_WRITE:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)
    if not written:
        span = len(page.headers) + (1 if page.sign else 0)
        yield f'<tr><td colspan="{span}" class="empty">{escape(page.empty_text)}</td></tr>\n'


def _summary_html(summary: Summary) -> str:
    rows = "".join(_row(r, summary.numeric, False, group_digits=True) for r in summary.rows())
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in summary.headers)
    return (
        f'<section class="print-summary" data-summary><h2>{escape(summary.title)}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def print_response(request, page: PrintList, template: str = "print/list.html") -> StreamingHttpResponse:
    today = timezone.localdate()
    toggle = request.GET.copy()  # the same list with the signature column switched
    toggle.pop("sign", None)
    if not page.sign:
        toggle["sign"] = "1"
    context = {
        "page": page,
        "today": today,
        "sign_toggle": toggle.urlencode(),
    }
    html = render_to_string(template, context, request=request)
    head, rest = html.split(ROWS_MARK, 1)
    middle, tail = rest.split(SUMMARY_MARK, 1)

    def stream() -> Iterator[str]:
        yield head
        yield from _rows_html(page)
        yield middle
        if page.summary is not None:
            yield _summary_html(page.summary)
        yield tail

    response = StreamingHttpResponse(stream(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
