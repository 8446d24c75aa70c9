"""Server-side SVG charts for the dashboard: pure functions, data in, SVG markup out.

Rules:
- every chart is ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
  (which says the figures in words); the page puts a data table beside it, so nothing is
  told by the drawing alone;
- colours and sizes are SVG presentation attributes (``fill=``, ``font-size=``), never
  ``style=``: the Content-Security-Policy forbids inline styles;
- every text that comes from the data is escaped here (the result is ``Markup``, inserted
  as is by the templates);
- the drawing scales with its box (``viewBox``, no fixed size): the stylesheet gives it the
  width of its column, from a phone to a desktop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320
FONT = 14
MAX_COLUMN = 56  # a few columns stay columns, not blocks
INK = "#1b1b1b"
MUTED = "#595959"
BAR = "#1d5b94"
GRID = "#d0d7de"
LINE_CHARS = 30  # of a bar's label, in capitals (issuers are written so) at FONT
EMPTY = "Chưa có số liệu"


@dataclass(frozen=True)
class Datum:
    """One bar: its label, its count, and optionally its own colour."""

    label: str
    count: int
    colour: str = BAR


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _lines(label: str, width: int = LINE_CHARS, most: int = 2) -> list[str]:
    """The label in lines of ``width`` characters at most, broken between words; what does
    not fit in ``most`` lines is cut with "…" (the table beside says it whole)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = [*lines[: most - 1], _short(" ".join(lines[most - 1 :]), width)]
    return [_short(line, width) for line in lines] or [""]


def vi_number(value: int) -> str:
    """Vietnamese thousands separator: 12.345."""
    return f"{value:,}".replace(",", ".")


def describe(data: Sequence[Datum], unit: str) -> str:
    """The figures in words, for ``<desc>``: 'A: 3 hồ sơ; B: 1 hồ sơ.'"""
    if not data:
        return EMPTY + "."
    return "; ".join(f"{d.label}: {vi_number(d.count)} {unit}" for d in data) + "."


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'font-family="DejaVu Sans, Noto Sans, sans-serif" font-size="{FONT}">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _empty(chart_id: str, title: str) -> Markup:
    text = f'<text x="{WIDTH / 2:g}" y="40" text-anchor="middle" fill="{MUTED}">{EMPTY}</text>'
    return _svg(chart_id, title, EMPTY + ".", 64, [text])


def bar_chart(chart_id: str, title: str, data: Sequence[Datum], unit: str) -> Markup:
    """Horizontal bars, one row each, the label above its bar in up to two lines (long names
    of issuing bodies still read on a phone); the count at the bar's end."""
    if not data:
        return _empty(chart_id, title)
    top = max(d.count for d in data) or 1
    line, bar_height, room = FONT + 4, 16, WIDTH - 48
    body, y = [], 4
    for datum in data:
        lines = _lines(datum.label)
        label = "".join(
            f'<text x="0" y="{y + FONT + i * line}" fill="{INK}">{escape(text)}</text>'
            for i, text in enumerate(lines)
        )
        bar_y = y + len(lines) * line + 2
        length = max(2.0, room * datum.count / top)
        body.append(
            f"<g><title>{escape(datum.label)}: {vi_number(datum.count)} {escape(unit)}</title>"
            f'{label}<rect x="0" y="{bar_y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{escape(datum.colour)}" rx="2"/>'
            f'<text x="{length + 6:.1f}" y="{bar_y + FONT - 1}" fill="{INK}">'
            f"{vi_number(datum.count)}</text></g>"
        )
        y = bar_y + bar_height + 12
    return _svg(chart_id, title, describe(data, unit), y, body)


def column_chart(chart_id: str, title: str, data: Sequence[Datum], unit: str) -> Markup:
    """Vertical columns along a baseline (years, months, confidence bands), the count above
    each; with many columns only every n-th label is written under the axis."""
    if not data:
        return _empty(chart_id, title)
    top = max(d.count for d in data) or 1
    height, base, left = 220, 180, 8
    slot = (WIDTH - 2 * left) / len(data)
    every = max(1, round(len(data) / 8))
    body = [_gridline(left, base)]
    for i, datum in enumerate(data):
        tall = (base - 24) * datum.count / top
        middle = left + (i + 0.5) * slot
        wide = min(slot * 0.7, MAX_COLUMN)
        body.append(
            f"<g><title>{escape(datum.label)}: {vi_number(datum.count)} {escape(unit)}</title>"
            f'<rect x="{middle - wide / 2:.1f}" y="{base - tall:.1f}" width="{wide:.1f}" '
            f'height="{tall:.1f}" fill="{escape(datum.colour)}" rx="2"/>'
            f'<text x="{middle:.1f}" y="{base - tall - 4:.1f}" text-anchor="middle" '
            f'fill="{INK}">{vi_number(datum.count)}</text>'
        )
        if i % every == 0:
            body.append(
                f'<text x="{middle:.1f}" y="{base + 18}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(_short(datum.label, 12))}</text>'
            )
        body.append("</g>")
    return _svg(chart_id, title, describe(data, unit), height, body)


def line_chart(chart_id: str, title: str, data: Sequence[Datum], unit: str) -> Markup:
    """A line with a dot per point (pages digitized month by month)."""
    if not data:
        return _empty(chart_id, title)
    if len(data) == 1:  # one month is no line: a column says it better
        return column_chart(chart_id, title, data, unit)
    top = max(d.count for d in data) or 1
    height, base, left, right = 220, 180, 24, WIDTH - 24
    step = (right - left) / (len(data) - 1)
    every = max(1, round(len(data) / 6))
    points = [(left + i * step, base - (base - 24) * d.count / top) for i, d in enumerate(data)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body = [
        _gridline(left, base),
        f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2.5"/>',
    ]
    for i, (datum, (x, y)) in enumerate(zip(data, points, strict=True)):
        body.append(
            f"<g><title>{escape(datum.label)}: {vi_number(datum.count)} {escape(unit)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BAR}"/>'
        )
        if i % every == 0 or i == len(data) - 1:
            body.append(
                f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="{MUTED}">'
                f"{escape(_short(datum.label, 12))}</text>"
            )
        body.append("</g>")
    body.append(
        f'<text x="{left}" y="14" fill="{MUTED}">cao nhất {vi_number(top)} {escape(unit)}</text>'
    )
    return _svg(chart_id, title, describe(data, unit), height, body)


def _gridline(left: float, base: float) -> str:
    return (
        f'<line x1="{left:g}" y1="{base:g}" x2="{WIDTH - left:g}" y2="{base:g}" '
        f'stroke="{GRID}" stroke-width="1"/>'
    )
