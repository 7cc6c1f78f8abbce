"""The dashboard's figures as cells of the page: each number with the list it counts
(`registry.stats` counts them by the same conditions as the list's filters). A zero, or a list
the user may not open, is shown without a link: never a link to nothing."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ansinh.core.text import format_number
from ansinh.registry.stats import Dashboard, Figures

# (figure, label, the registry list's filter; None for a figure with a list of its own)
COLUMNS = [
    ("receiving", _("People receiving"), {"status": "active"}),
    ("started", _("Started this month"), {"change": "started"}),
    ("stopped", _("Stopped this month"), {"change": "stopped"}),
    ("issues", _("Records with data-quality issues"), {"issues": "on"}),
    ("imports", _("Imports in progress"), None),
    ("moving_in", _("Moving in from other communes"), None),
]


@dataclass(frozen=True)
class Cell:
    figure: str
    label: str
    value: int
    href: str | None

    @property
    def shown(self) -> str:
        return format_number(self.value)  # 9.670


def cells(figures: Figures, *, area: int | None, linked: bool, can_import: bool) -> list[Cell]:
    """One cell per column. `area`: the commune to filter the list on; `linked`: whether the
    lists may be opened for these figures (not for a commune the user sees only part of)."""
    out = []
    for figure, label, params in COLUMNS:
        value = getattr(figures, figure)
        href = None
        if value and params is not None and linked:
            query = {"area": area, **params} if area else params
            href = f"{reverse('registry:list')}?{urlencode(query)}"
        elif value and figure == "imports" and can_import:
            href = reverse("imports:index")
        elif value and figure == "moving_in":
            href = reverse("registry:moves")
        out.append(Cell(figure, str(label), value, href))
    return out


def page_figures(dashboard: Dashboard | None, *, can_import: bool) -> dict | None:
    """What the dashboard's template shows: the month, and one commune's cells on their own or
    a row of cells per commune with the totals."""
    if dashboard is None:
        return None
    rows = [
        (
            row,
            cells(
                row.figures,
                area=None if dashboard.single else row.area_filter,
                linked=dashboard.single or row.area_filter is not None,
                can_import=can_import,
            ),
        )
        for row in dashboard.rows
    ]
    total = cells(dashboard.total, area=None, linked=True, can_import=can_import)
    return {"month": dashboard.month, "single": dashboard.single, "rows": rows, "total": total, "columns": COLUMNS}


def worklist_cells(counts: dict[str, int] | None, *, commune: int | None = None) -> list[Cell] | None:
    """The open data-quality problems per kind (ansinh.quality), each linked to the worklist
    filtered on it; kinds without a problem are left out."""
    if counts is None:
        return None
    from ansinh.quality.models import Kind

    base = {"commune": commune} if commune else {}
    return [
        Cell(kind, str(Kind(kind).label), n, f"{reverse('worklists')}?{urlencode({**base, 'kind': kind})}")
        for kind, n in counts.items()
        if n
    ]
