"""Charts of the monitoring dashboard as SVG written on the server (no JavaScript, nothing from
a CDN): horizontal bars (one per unit, with the target as a line) and lines (trends by month).

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` (read by screen readers),
Vietnamese labels and numbers written the Vietnamese way (1.598; 16,52 %); the page puts the
same figures in a table next to it (the fallback for those who cannot see the chart)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .kpis import format_number

_ids = itertools.count(1)

PALETTE = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384")


@dataclass
class Bar:
    label: str
    value: Decimal | int | None
    text: str = ""  # the value as written on the bar (defaults to the number)


@dataclass
class Series:
    name: str
    values: Sequence[Decimal | int | None]


def _num(value) -> float:
    return float(value or 0)


def _text(value, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{format_number(value, 2)} %" if percent else format_number(value)


def bar_chart(
    title: str,
    desc: str,
    bars: Sequence[Bar],
    *,
    percent: bool = True,
    target: Decimal | None = None,
    target_label: str = "",
) -> SafeString:
    """Horizontal bars, one per row, with an optional vertical target line."""
    uid = f"chart-{next(_ids)}"
    label_w, bar_w, value_w, row_h, top = 200, 360, 90, 26, 24
    width = label_w + bar_w + value_w
    height = top + row_h * max(1, len(bars)) + 10
    top_value = max([_num(b.value) for b in bars] + [_num(target), 100.0 if percent else 1.0])
    scale = bar_w / top_value if top_value else 0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{uid}-t {uid}-d" data-chart="bars">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        w = max(0.0, _num(bar.value) * scale)
        text = bar.text or _text(bar.value, percent)
        parts.append(
            f'<g data-bar="{i}"><text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"{escape(bar.label[:32])}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}" rx="2"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 16}" font-size="12">{escape(text)}</text></g>'
        )
    if target is not None:
        x = label_w + _num(target) * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="#dc3545" '
            f'stroke-dasharray="4 3" stroke-width="2" data-target="{escape(str(target))}"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="11" fill="#dc3545">'
            f"{escape(target_label)}</text>"
        )
    if not bars:
        parts.append(f'<text x="{label_w}" y="{top + 16}" font-size="12">–</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def line_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = True,
    target: Decimal | None = None,
) -> SafeString:
    """Lines over the months (`labels`), one per series, with a legend; a month without a
    value (nobody to count) leaves a gap."""
    uid = f"chart-{next(_ids)}"
    left, right, top, bottom = 56, 16, 16, 46
    plot_w, plot_h = 560, 180
    width, height = left + plot_w + right, top + plot_h + bottom + 18 * len(series)
    values = [_num(v) for s in series for v in s.values if v is not None]
    top_value = max(values + [_num(target), 100.0 if percent else 1.0])
    if not percent:
        top_value *= 1.1
    step = plot_w / max(1, len(labels) - 1)

    def y_of(v) -> float:
        return top + plot_h - _num(v) * plot_h / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{uid}-t {uid}-d" data-chart="lines">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    for k in range(5):  # the axis: 0, ¼, ½, ¾, top
        v = top_value * k / 4
        y = y_of(v)
        tick = f"{format_number(Decimal(str(v)), 0)} %" if percent else format_number(int(v))
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{escape(tick)}</text>'
        )
    for i, label in enumerate(labels):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="10">{escape(label)}</text>'
        )
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#dc3545" '
            'stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
    for n, s in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                segments.append([])
                continue
            x, y_pos = left + i * step, y_of(value)
            segments[-1].append(f"{x:.1f},{y_pos:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y_pos:.1f}" r="3" fill="{color}">'
                f"<title>{escape(labels[i])}: {escape(_text(value, percent))}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(points)}"/>')
        ly = top + plot_h + 34 + 18 * n
        parts.append(
            f'<rect x="{left}" y="{ly - 9}" width="14" height="4" fill="{color}"/>'
            f'<text x="{left + 20}" y="{ly - 4}" font-size="11">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
