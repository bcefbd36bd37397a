"""A ShownTable as a chart: SVG text made on the server, for a page, a print view or a snapshot.

Horizontal bars for one dimension, stacked bars for two, a line by month when the rows are months.
What it must survive: being printed in black and white (greys and hatched patterns, an outline
round every bar, each bar labelled with its number), a phone 390 px wide and an A4 page (a
viewBox, width 100%), a screen reader (``role="img"``, ``<title>`` and ``<desc>``), Thai labels
(a font list of Thai fonts found on Linux), and labels written by anyone in a form (every text
escaped). A hidden count is never drawn as a length: its bar or segment is left out and its
mark (``<5`` or ``x``) is written instead; a line leaves a gap with the mark under it.
"""

from __future__ import annotations

import re
import unicodedata
from html import escape

from ..translations import translate
from .table import MONTH, Shown, ShownTable
from .words import TOTAL, WITHHELD, choice_label, mark_notes, table_title

WIDTH = 480
FONT = "'Noto Sans Thai', 'Noto Sans Thai UI', Sarabun, Loma, Garuda, 'Tlwg Typo', 'DejaVu Sans', sans-serif"
TEXT = 13
SMALL = 11
LINE = 18  # height of a line of text
BAR = 18
LABEL_SPACE = 56  # room right of the longest bar for its number
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")

# Fills told apart without colour: solid greys, then patterns of black lines on white.
_PATTERNS = {
    "hatch": '<path d="M0 8 L8 0 M-2 2 L2 -2 M6 10 L10 6" stroke="#000" stroke-width="1.2"/>',
    "cross": '<path d="M0 0 L8 8 M8 0 L0 8" stroke="#000" stroke-width="1"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="#000"/>',
    "lines": '<path d="M0 4 L8 4" stroke="#000" stroke-width="1.4"/>',
    "columns": '<path d="M4 0 L4 8" stroke="#000" stroke-width="1.4"/>',
}
_FILLS = ("#3a3a3a", "hatch", "#b0b0b0", "dots", "#6e6e6e", "cross", "#e0e0e0", "lines", "columns")
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4")


def chart_svg(shown: ShownTable, language: str, *, title: str | None = None, chart_id: str = "chart") -> str:
    """The chart that suits the table, as SVG text in ``language`` (``th`` or ``en``).

    ``chart_id`` keeps the ids of several charts on one page apart (letters, digits, ``-``, ``_``).
    """
    canvas = _Canvas(_SAFE_ID.sub("_", chart_id) or "chart", title or table_title(shown, language))
    if shown.withheld:
        canvas.text(0, canvas.y + TEXT, translate(WITHHELD, language, k=shown.k))
        canvas.y += LINE
    elif shown.rows.name == MONTH:
        _line_chart(canvas, shown, language)
    elif shown.columns is None:
        _bar_chart(canvas, shown, language)
    else:
        _stacked_chart(canvas, shown, language)
    if not shown.withheld:
        _notes(canvas, shown, language)
    return canvas.svg(translate(TOTAL, language) + ": " + shown.total.text if not shown.withheld else "")


# -- the three kinds ------------------------------------------------------------------------


def _bar_chart(canvas: "_Canvas", shown: ShownTable, language: str) -> None:
    """One bar per row choice, its label above it and its number after it."""
    largest = max([v.count for v in shown.cells.values() if v.count], default=0)
    scale = (WIDTH - LABEL_SPACE) / largest if largest else 0
    for choice in shown.rows.choices:
        value = shown.cells[(choice.name, None)]
        canvas.text(0, canvas.y + TEXT, _fit(choice_label(choice, language), WIDTH, TEXT))
        canvas.y += LINE
        canvas.add(f'<g class="bar-row" data-choice="{_attr(choice.name)}">')
        if value.count:
            canvas.rect(0, canvas.y, value.count * scale, BAR, _FILLS[0], css="bar")
        canvas.value(value.count * scale + 4 if value.count else 0, canvas.y + BAR - 4, value)
        canvas.add("</g>")
        canvas.y += BAR + 8
    _total_line(canvas, shown, language)


def _stacked_chart(canvas: "_Canvas", shown: ShownTable, language: str) -> None:
    """One stacked bar per row choice: a segment per shown column choice, then the row's total;
    under it each column's number (or mark) beside its fill, so that every number is read."""
    columns = shown.columns.choices
    fills = {choice.name: canvas.fill(i) for i, choice in enumerate(columns)}
    _legend(canvas, [(fills[c.name], choice_label(c, language)) for c in columns])
    widest = max([sum(shown.cells[(r.name, c.name)].count or 0 for c in columns) for r in shown.rows.choices]
                 + [0])
    scale = (WIDTH - LABEL_SPACE) / widest if widest else 0
    for row in shown.rows.choices:
        canvas.text(0, canvas.y + TEXT, _fit(choice_label(row, language), WIDTH, TEXT))
        canvas.y += LINE
        canvas.add(f'<g class="bar-row" data-choice="{_attr(row.name)}">')
        x = 0.0
        for column in columns:
            value = shown.cells[(row.name, column.name)]
            if value.count:
                canvas.rect(x, canvas.y, value.count * scale, BAR, fills[column.name], css="segment")
                x += value.count * scale
        canvas.value(x + 4, canvas.y + BAR - 4, shown.row_totals[row.name], prefix="= ")
        canvas.y += BAR + 4
        _swatch_values(canvas, [(fills[c.name], shown.cells[(row.name, c.name)]) for c in columns])
        canvas.add("</g>")
        canvas.y += 6
    _swatch_values(canvas, [(fills[c.name], shown.column_totals[c.name]) for c in columns],
                   lead=translate(TOTAL, language) + ":")
    _total_line(canvas, shown, language)


def _line_chart(canvas: "_Canvas", shown: ShownTable, language: str) -> None:
    """Months along, counts up: one line (or one per column choice, told apart by dashes and
    marker shapes), a point and its number at each shown month, a gap and the mark at a hidden one."""
    months = shown.rows.choices
    series = [(None, "")] if shown.columns is None else [(c.name, choice_label(c, language)) for c in shown.columns.choices]
    if shown.columns is not None:
        _legend(canvas, [(None, label, i) for i, (_, label) in enumerate(series)])
    values = [shown.cells[(m.name, name)] for m in months for name, _ in series]
    largest = max([v.count for v in values if v.count], default=0)
    left, height, top = 8, 200, canvas.y + LINE
    step = (WIDTH - 2 * left) / max(len(months) - 1, 1)
    scale = height / largest if largest else 0
    bottom = top + height
    canvas.add(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{WIDTH - left}" y2="{bottom}" stroke="#000"/>')
    if largest:
        canvas.add(f'<line class="grid" x1="{left}" y1="{top}" x2="{WIDTH - left}" y2="{top}" '
                   'stroke="#999" stroke-dasharray="2 2"/>')
        canvas.text(WIDTH - left, top - 4, f"{largest:,}", size=SMALL, anchor="end", css="value")
    for index, (name, _label) in enumerate(series):
        canvas.add(f'<g class="series" data-choice="{_attr(name or "")}">')
        run: list[str] = []
        for i, month in enumerate(months):
            value = shown.cells[(month.name, name)]
            x = left + i * step
            if value.count is None:
                _polyline(canvas, run, index)
                run = []
                canvas.text(x, bottom - 6, value.mark, size=SMALL, anchor="middle", css="mark")
                continue
            y = bottom - value.count * scale
            run.append(f"{_n(x)},{_n(y)}")
            canvas.add(_marker(index, x, y))
            canvas.text(x, y - 7, f"{value.count:,}", size=SMALL, anchor="middle", css="value")
        _polyline(canvas, run, index)
        canvas.add("</g>")
    canvas.y = bottom + 4
    for i, month in enumerate(months):
        if len(months) <= 12 or i % 3 == 0:
            canvas.text(left + i * step, canvas.y + SMALL, choice_label(month, language), size=SMALL,
                        anchor="middle" if 0 < i < len(months) - 1 else ("start" if i == 0 else "end"))
    canvas.y += LINE + 4
    _total_line(canvas, shown, language)


# -- parts ----------------------------------------------------------------------------------


def _total_line(canvas: "_Canvas", shown: ShownTable, language: str) -> None:
    lead = translate(TOTAL, language) + ":"
    canvas.text(0, canvas.y + TEXT, lead, weight="bold")
    canvas.value(_text_width(lead, TEXT) + 6, canvas.y + TEXT, shown.total)
    canvas.y += LINE


def _legend(canvas: "_Canvas", entries: list[tuple]) -> None:
    """Swatches (or line samples) with their labels, wrapped to the width."""
    x = 0.0
    for entry in entries:
        fill, label = entry[0], _fit(entry[1], WIDTH - 24, SMALL)
        width = 24 + _text_width(label, SMALL) + 14
        if x and x + width > WIDTH:
            x, canvas.y = 0.0, canvas.y + LINE
        if fill is None:
            dash = _DASHES[entry[2] % len(_DASHES)]
            canvas.add(f'<line x1="{_n(x)}" y1="{_n(canvas.y + 8)}" x2="{_n(x + 18)}" y2="{_n(canvas.y + 8)}" '
                       f'stroke="#000" stroke-width="2" stroke-dasharray="{dash}"/>')
            canvas.add(_marker(entry[2], x + 9, canvas.y + 8))
        else:
            canvas.rect(x, canvas.y + 2, 18, 12, fill, css="swatch")
        canvas.text(x + 24, canvas.y + 13, label, size=SMALL)
        x += width
    canvas.y += LINE + 6


def _swatch_values(canvas: "_Canvas", entries: list[tuple[str, Shown]], lead: str = "") -> None:
    """A line of small swatches each followed by its number or mark (zeros left out)."""
    x = 0.0
    if lead:
        canvas.text(0, canvas.y + 12, lead, size=SMALL, weight="bold")
        x = _text_width(lead, SMALL) + 8
    for fill, value in entries:
        if value.count == 0:
            continue
        width = 16 + _text_width(value.text, SMALL) + 10
        if x and x + width > WIDTH:
            x, canvas.y = 0.0, canvas.y + 16
        canvas.rect(x, canvas.y + 3, 11, 11, fill, css="swatch")
        canvas.value(x + 15, canvas.y + 12, value, size=SMALL)
        x += width
    canvas.y += 18


def _notes(canvas: "_Canvas", shown: ShownTable, language: str) -> None:
    """What the marks mean, under the chart (only the marks it shows)."""
    for note in mark_notes(shown, language):
        canvas.text(0, canvas.y + 12, _fit(note, WIDTH, SMALL), size=SMALL)
        canvas.y += 16


def _polyline(canvas: "_Canvas", points: list[str], index: int) -> None:
    if len(points) > 1:
        dash = _DASHES[index % len(_DASHES)]
        canvas.add(f'<polyline class="line" points="{" ".join(points)}" fill="none" stroke="#000" '
                   f'stroke-width="2" stroke-dasharray="{dash}"/>')


def _marker(index: int, x: float, y: float) -> str:
    """A point's shape for a series: circle, square, triangle, diamond, ring."""
    shape = index % 5
    if shape == 0:
        return f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="#000"/>'
    if shape == 1:
        return f'<rect class="point" x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7" fill="#000"/>'
    if shape == 2:
        return (f'<path class="point" d="M{_n(x)} {_n(y - 4.5)} L{_n(x + 4.5)} {_n(y + 3.5)} '
                f'L{_n(x - 4.5)} {_n(y + 3.5)} Z" fill="#000"/>')
    if shape == 3:
        return (f'<path class="point" d="M{_n(x)} {_n(y - 4.5)} L{_n(x + 4.5)} {_n(y)} L{_n(x)} {_n(y + 4.5)} '
                f'L{_n(x - 4.5)} {_n(y)} Z" fill="#fff" stroke="#000"/>')
    return f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="#fff" stroke="#000" stroke-width="1.5"/>'


class _Canvas:
    """The SVG being written, top to bottom: ``y`` is where the next part goes."""

    def __init__(self, chart_id: str, title: str):
        self.id = chart_id
        self.title = _clean(title)
        self.parts: list[str] = []
        self.patterns: dict[str, str] = {}
        self.y = 0.0
        self.text(0, TEXT + 2, _fit(self.title, WIDTH, TEXT + 2), size=TEXT + 2, weight="bold")
        self.y = LINE + 10

    def fill(self, index: int) -> str:
        """The fill of the ``index``-th column choice: a grey or a pattern's url."""
        fill = _FILLS[index % len(_FILLS)]
        if fill.startswith("#"):
            return fill
        pattern_id = f"{self.id}-{fill}"
        self.patterns[pattern_id] = (
            f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="#fff"/>{_PATTERNS[fill]}</pattern>'
        )
        return f"url(#{pattern_id})"

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x: float, y: float, width: float, height: float, fill: str, css: str) -> None:
        self.parts.append(f'<rect class="{css}" x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
                          f'fill="{fill}" stroke="#000" stroke-width="0.8"/>')

    def text(self, x: float, y: float, text: str, *, size: int = TEXT, weight: str = "normal",
             anchor: str = "start", css: str = "label") -> None:
        self.parts.append(f'<text class="{css}" x="{_n(x)}" y="{_n(y)}" font-size="{size}" font-weight="{weight}" '
                          f'text-anchor="{anchor}">{escape(_clean(text), quote=False)}</text>')

    def value(self, x: float, y: float, value: Shown, *, prefix: str = "", size: int = TEXT) -> None:
        """A count as written beside its bar, or the mark of a hidden one."""
        text = value.mark if value.count is None else f"{value.count:,}"
        self.text(x, y, prefix + text, size=size, css="mark" if value.count is None else "value",
                  weight="bold" if value.count is None else "normal")

    def svg(self, description: str) -> str:
        height = _n(self.y + 6)
        defs = "<defs>" + "".join(self.patterns.values()) + "</defs>" if self.patterns else ""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="network-chart" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
            f'aria-labelledby="{self.id}-title {self.id}-desc" font-family="{_attr(FONT)}" fill="#000">'
            f'<title id="{self.id}-title">{escape(self.title, quote=False)}</title>'
            f'<desc id="{self.id}-desc">{escape(_clean(description), quote=False)}</desc>'
            f"{defs}{''.join(self.parts)}</svg>"
        )


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("", str(text))


def _attr(text: str) -> str:
    return escape(_clean(text), quote=True)


def _n(number: float) -> str:
    """A coordinate, short: two decimals at most."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _text_width(text: str, size: int) -> float:
    """A rough width: combining marks (Thai vowels above and below, tone marks) take no room."""
    return sum(0 if unicodedata.category(ch) == "Mn" else 1 for ch in text) * size * 0.58


def _fit(text: str, width: float, size: int) -> str:
    """``text`` cut with "…" to fit ``width``, never between a letter and its marks."""
    text = _clean(text)
    if _text_width(text, size) <= width:
        return text
    room = int(width / (size * 0.58)) - 1
    end = 0
    counted = 0
    for end, ch in enumerate(text):
        if unicodedata.category(ch) != "Mn":
            if counted == room:
                break
            counted += 1
    return text[:end].rstrip() + "…"

