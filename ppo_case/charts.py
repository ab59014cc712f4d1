"""Charts drawn on the server as plain SVG: a line chart (13 weekly points, or one a year)
and a bar chart (one bar per category, or grouped bars for two or three series). Here so
every app may draw one (offenders may not import reporting); `reporting.charts` re-exports it.

No JavaScript, no CSS variables and no stylesheet: every colour, font and size is an
attribute on a plain SVG element, so the same markup works in a browser and in WeasyPrint
(the annual report, brief R4). Fonts: DejaVu Sans, the only font installed (STACK.md).

Accessible (WCAG 1.1.1, GOV.UK "Data visualisation"): each chart is
`<svg role="img" aria-labelledby="ID-title ID-desc">` with a `<title>` and a `<desc>` in
words, and carries the rows of the data table the page shows beside it (`Chart.columns`,
`Chart.rows`): nothing is only in the picture. Colours from the GOV.UK palette; series also
differ by dash pattern and marker shape, so a chart printed in greyscale still reads.

Safe: every piece of text (titles, labels, series names) goes through `format_html` or
`escape`; numbers are formatted here. The markup is a `SafeString` only because it is built
from escaped pieces — no caller text is ever marked safe unescaped.

Small numbers: pass a count as `access.disclosure.Shown`; a hidden one is not drawn (a gap in
a line, no bar, "[c]" at its place) and the table shows "[c]" with the disclosure note.
`None` means "no figure" (such as a share of nothing) and shows "–".
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from access.disclosure import CONFIDENTIAL, CONFIDENTIAL_NOTE, Shown

Number: TypeAlias = int | float | Decimal | Fraction
Value: TypeAlias = int | float | Decimal | Fraction | Shown | None

# GOV.UK Frontend 6 palette (govuk-colour). Ordered so neighbouring series differ in
# lightness too: blue (dark-mid), orange (light), black, green.
BLUE = "#1d70b8"
ORANGE = "#f47738"
BLACK = "#0b0c0c"
GREEN = "#00703c"
DARK_GREY = "#505a5f"
MID_GREY = "#b1b4b6"
LIGHT_GREY = "#f3f2f1"
WHITE = "#ffffff"
SERIES_COLOURS = (BLUE, ORANGE, BLACK, GREEN)
# Dash patterns and marker shapes for the same series, for greyscale and colour blindness.
SERIES_DASHES = ("", "8 4", "2 3", "12 3 2 3")
SERIES_MARKERS = ("circle", "square", "triangle", "diamond")
FONT = "DejaVu Sans, Arial, sans-serif"

WIDTH = 640
HEIGHT = 300
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 52
LEGEND_ROW = 20
# A bar chart's category names wrap under their bars, a line each, up to LABEL_MAX_LINES.
LABEL_LINE = 13
LABEL_MAX_LINES = 4
# DejaVu Sans at 11 px averages under 6.6 px a character.
LABEL_CHAR_WIDTH = 6.6
MISSING = "–"

_ID = re.compile(r"^[a-z][a-z0-9-]{0,60}$")


@dataclass(frozen=True)
class Series:
    """One line (or one set of bars): its name and one value per label."""

    name: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Cell:
    """One cell of the data table: the text, and whether it is a hidden small number
    (templates/includes/disclosed_count.html reads `hidden` and `text`)."""

    text: str
    hidden: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Chart:
    """A chart ready to show: the SVG, its words, and the data table that goes beside it."""

    chart_id: str
    kind: str  # "line" or "bar"
    title: str
    description: str
    svg: SafeString
    # The data table: the first heading is for the row labels, then one per series.
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    note: str = ""

    @property
    def any_hidden(self) -> bool:
        return any(cell.hidden for row in self.rows for cell in row.cells)


# --- Numbers --------------------------------------------------------------------------------


def _number(value: Value) -> float | None:
    """The value to draw, or None when it is hidden or missing."""
    if value is None:
        return None
    if isinstance(value, Shown):
        return None if value.value is None else float(value.value)
    return float(value)


def _format(number: float | int | Decimal | Fraction, unit: str) -> str:
    if isinstance(number, Fraction):
        number = float(number)
    if isinstance(number, float):
        text = f"{number:,.1f}" if number != int(number) else f"{int(number):,}"
    elif isinstance(number, Decimal):
        text = f"{number:,}"
    else:
        text = f"{number:,}"
    return f"{text}{unit}"


def _cell(value: Value, unit: str) -> Cell:
    if value is None:
        return Cell(MISSING)
    if isinstance(value, Shown):
        if value.value is None:
            return Cell(CONFIDENTIAL, hidden=True)
        return Cell(_format(value.value, unit))
    return Cell(_format(value, unit))


def _nice_step(span: float, ticks: int = 5) -> float:
    """A step of 1, 2 or 5 × 10^k giving about `ticks` intervals over `span`."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return float(multiple * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def axis_ticks(low: float, high: float, *, whole: bool = True) -> list[float]:
    """Tick values from at most `low` to at least `high`, including 0. Whole numbers for
    counts (a step of at least 1)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low)
    if whole:
        step = max(step, 1.0)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    count = round((end - start) / step)
    return [round(start + i * step, 10) for i in range(count + 1)]


def _tick_text(value: float, unit: str) -> str:
    text = f"{int(value):,}" if value == int(value) else f"{value:,.1f}"
    return f"{text}{unit}"


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --- SVG pieces -----------------------------------------------------------------------------


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 12) -> str:
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" font-family="{}" font-size="{}" fill="{}">{}</text>',
        _n(x),
        _n(y),
        anchor,
        FONT,
        size,
        BLACK,
        content,
    )


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return format_html(
            '<rect x="{}" y="{}" width="8" height="8" fill="{}" stroke="{}"/>',
            _n(x - 4),
            _n(y - 4),
            colour,
            BLACK,
        )
    if shape == "triangle":
        points = f"{_n(x)},{_n(y - 5)} {_n(x + 5)},{_n(y + 4)} {_n(x - 5)},{_n(y + 4)}"
        return format_html('<polygon points="{}" fill="{}" stroke="{}"/>', points, colour, BLACK)
    if shape == "diamond":
        points = f"{_n(x)},{_n(y - 5)} {_n(x + 5)},{_n(y)} {_n(x)},{_n(y + 5)} {_n(x - 5)},{_n(y)}"
        return format_html('<polygon points="{}" fill="{}" stroke="{}"/>', points, colour, BLACK)
    return format_html(
        '<circle cx="{}" cy="{}" r="4" fill="{}" stroke="{}"/>', _n(x), _n(y), colour, BLACK
    )


class _Frame:
    """The plotting area and the y scale."""

    def __init__(self, ticks: list[float], legend_rows: int, label_lines: int = 1) -> None:
        self.ticks = ticks
        # Extra label lines push the legend (and the picture's foot) down.
        self.label_drop = (label_lines - 1) * LABEL_LINE
        self.height = HEIGHT + legend_rows * LEGEND_ROW + self.label_drop
        self.left = MARGIN_LEFT
        self.right = WIDTH - MARGIN_RIGHT
        self.top = MARGIN_TOP
        self.bottom = HEIGHT - MARGIN_BOTTOM
        self.low, self.high = ticks[0], ticks[-1]

    def y(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.bottom - (value - self.low) / span * (self.bottom - self.top)

    def axes(self, unit: str, y_label: str) -> list[str]:
        parts: list[str] = []
        for tick in self.ticks:
            y = self.y(tick)
            colour = DARK_GREY if tick == 0 else MID_GREY
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>',
                    _n(self.left),
                    _n(y),
                    _n(self.right),
                    _n(y),
                    colour,
                )
            )
            parts.append(_text(self.left - 6, y + 4, _tick_text(tick, unit), anchor="end"))
        if y_label:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-family="{}" font-size="12" '
                    'fill="{}" transform="rotate(-90 {} {})">{}</text>',
                    12,
                    _n((self.top + self.bottom) / 2),
                    FONT,
                    BLACK,
                    12,
                    _n((self.top + self.bottom) / 2),
                    y_label,
                )
            )
        return parts

    def x_labels(self, labels: Sequence[str], centres: Sequence[float]) -> list[str]:
        # Every label when they fit (13 weeks do at 640 px); otherwise every k-th.
        room = (self.right - self.left) / max(len(labels), 1)
        every = max(1, math.ceil(40 / room)) if room < 40 else 1
        size = 11 if len(labels) > 8 else 12
        return [
            _text(x, self.bottom + 16, label, size=size)
            for i, (label, x) in enumerate(zip(labels, centres, strict=True))
            if i % every == 0 or i == len(labels) - 1
        ]

    def wrapped_labels(self, lines: Sequence[Sequence[str]], centres: Sequence[float]) -> list[str]:
        """Each category's name on its own lines under its bar, so no two overlap."""
        return [
            _text(x, self.bottom + 16 + n * LABEL_LINE, line, size=11)
            for label, x in zip(lines, centres, strict=True)
            for n, line in enumerate(label)
        ]

    def legend(self, series: Sequence[Series], kind: str) -> list[str]:
        if len(series) < 2:
            return []
        parts: list[str] = []
        y = HEIGHT - 14 + self.label_drop
        x = float(self.left)
        for index, one in enumerate(series):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if kind == "line":
                parts.append(
                    format_html(
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3"'
                        ' stroke-dasharray="{}"/>',
                        _n(x),
                        _n(y),
                        _n(x + 28),
                        _n(y),
                        colour,
                        SERIES_DASHES[index % len(SERIES_DASHES)] or "none",
                    )
                )
                parts.append(
                    _marker(SERIES_MARKERS[index % len(SERIES_MARKERS)], x + 14, y, colour)
                )
            else:
                parts.append(
                    format_html(
                        '<rect x="{}" y="{}" width="16" height="12" fill="{}" stroke="{}"/>',
                        _n(x + 6),
                        _n(y - 6),
                        colour,
                        BLACK,
                    )
                )
            parts.append(_text(x + 34, y + 4, one.name, anchor="start"))
            x += 40 + 7.5 * len(one.name)
            if x > self.right - 80 and index < len(series) - 1:
                x = float(self.left)
                y += LEGEND_ROW
        return parts


def _svg(chart_id: str, title: str, description: str, height: int, body: list[str]) -> SafeString:
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{0}-title {0}-desc"'
        ' id="{0}" class="app-chart" width="{1}" height="{2}" viewBox="0 0 {1} {2}"'
        ' preserveAspectRatio="xMinYMin meet" font-family="{3}">'
        '<title id="{0}-title">{4}</title><desc id="{0}-desc">{5}</desc>'
        '<rect x="0" y="0" width="{1}" height="{2}" fill="{6}"/>',
        chart_id,
        WIDTH,
        height,
        FONT,
        title,
        description,
        WHITE,
    )
    # Every piece was built by format_html (escaped); joining them keeps them safe.
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308


# --- Checks and the data table --------------------------------------------------------------


def _check(chart_id: str, labels: Sequence[str], series: Sequence[Series]) -> None:
    if not _ID.match(chart_id):
        raise ValueError(f"chart_id must be lower case letters, digits and hyphens: {chart_id!r}")
    if not series:
        raise ValueError("a chart needs at least one series")
    if len(series) > len(SERIES_COLOURS):
        raise ValueError(f"at most {len(SERIES_COLOURS)} series in one chart")
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(labels)}")


def _rows(labels: Sequence[str], series: Sequence[Series], unit: str) -> tuple[Row, ...]:
    return tuple(
        Row(label, tuple(_cell(one.values[i], unit) for one in series))
        for i, label in enumerate(labels)
    )


def _describe(description: str, labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    """The caller's words, then the range and any gaps, so the `<desc>` stands alone."""
    text = description.strip()
    words = [text if text.endswith((".", "!", "?")) else f"{text}."] if text else []
    if labels:
        words.append(f"From {labels[0]} to {labels[-1]}.")
    for one in series:
        drawn = [(label, _number(v)) for label, v in zip(labels, one.values, strict=True)]
        numbers = [(label, n) for label, n in drawn if n is not None]
        prefix = f"{one.name}: " if len(series) > 1 else ""
        if numbers and len({n for _, n in numbers}) == 1 and len(numbers) > 1:
            words.append(f"{prefix}every value {_tick_text(numbers[0][1], unit)}.")
        elif numbers:
            low = min(numbers, key=lambda pair: pair[1])
            high = max(numbers, key=lambda pair: pair[1])
            words.append(
                f"{prefix}lowest {_tick_text(low[1], unit)} ({low[0]}), "
                f"highest {_tick_text(high[1], unit)} ({high[0]})."
            )
        hidden = sum(1 for v in one.values if isinstance(v, Shown) and v.hidden)
        if hidden:
            words.append(f"{prefix}{hidden} value{'s' if hidden != 1 else ''} not shown ([c]).")
    return " ".join(words)


def _note(series: Sequence[Series]) -> str:
    hidden = any(isinstance(v, Shown) and v.hidden for one in series for v in one.values)
    return CONFIDENTIAL_NOTE if hidden else ""


def _span(series: Sequence[Series]) -> tuple[float, float]:
    numbers = [n for one in series for n in map(_number, one.values) if n is not None]
    return (min(numbers, default=0.0), max(numbers, default=0.0))


def _whole(series: Sequence[Series]) -> bool:
    return all(isinstance(v, (int, Shown)) or v is None for one in series for v in one.values)


# --- The two charts -------------------------------------------------------------------------


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    label_heading: str = "Week",
    unit: str = "",
    y_label: str = "",
) -> Chart:
    """A line per series over `labels` (13 weeks, or years). A hidden or missing value
    breaks the line (no point is invented); a lone point between gaps is still marked."""
    _check(chart_id, labels, series)
    low, high = _span(series)
    frame = _Frame(axis_ticks(low, high, whole=_whole(series)), _legend_rows(series))
    count = len(labels)
    inner = frame.right - frame.left
    xs = [frame.left + inner * (i + 0.5) / count for i in range(count)] if count else []
    body = frame.axes(unit, y_label)
    body += frame.x_labels(labels, xs)
    for index, one in enumerate(series):
        colour = SERIES_COLOURS[index]
        dash = SERIES_DASHES[index] or "none"
        runs: list[list[tuple[float, float]]] = [[]]
        for x, value in zip(xs, one.values, strict=True):
            number = _number(value)
            if number is None:
                runs.append([])
            else:
                runs[-1].append((x, frame.y(number)))
        for run in runs:
            if len(run) > 1:
                body.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="3"'
                        ' stroke-dasharray="{}" stroke-linejoin="round"/>',
                        " ".join(f"{_n(x)},{_n(y)}" for x, y in run),
                        colour,
                        dash,
                    )
                )
            for x, y in run:
                body.append(_marker(SERIES_MARKERS[index], x, y, colour))
        for x, value in zip(xs, one.values, strict=True):
            if isinstance(value, Shown) and value.hidden and len(series) == 1:
                body.append(_text(x, frame.bottom - 6, CONFIDENTIAL, size=11))
    body += frame.legend(series, "line")
    described = _describe(description, labels, series, unit)
    return Chart(
        chart_id=chart_id,
        kind="line",
        title=title,
        description=described,
        svg=_svg(chart_id, title, described, frame.height, body),
        columns=(label_heading, *(one.name for one in series)),
        rows=_rows(labels, series, unit),
        note=_note(series),
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    label_heading: str = "Category",
    unit: str = "",
    y_label: str = "",
) -> Chart:
    """Vertical bars, one per category (grouped when there are several series), each with
    its value printed above it; a hidden count is drawn as "[c]" with no bar."""
    _check(chart_id, categories, series)
    low, high = _span(series)
    count = len(categories)
    inner = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    slot = inner / count if count else inner
    lines = [wrap_label(name, slot) for name in categories]
    frame = _Frame(
        axis_ticks(low, high, whole=_whole(series)),
        _legend_rows(series),
        max((len(one) for one in lines), default=1),
    )
    group = slot * 0.7
    bar = group / len(series)
    centres = [frame.left + slot * (i + 0.5) for i in range(count)]
    body = frame.axes(unit, y_label)
    body += frame.wrapped_labels(lines, centres)
    zero = frame.y(0.0)
    for index, one in enumerate(series):
        colour = SERIES_COLOURS[index]
        for centre, value in zip(centres, one.values, strict=True):
            x = centre - group / 2 + index * bar
            number = _number(value)
            label = _cell(value, unit).text
            if number is None:
                body.append(_text(x + bar / 2, zero - 6, label, size=11))
                continue
            top = frame.y(number)
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}"'
                    ' stroke-width="1"/>',
                    _n(x + 1),
                    _n(min(top, zero)),
                    _n(max(bar - 2, 1)),
                    _n(abs(zero - top)),
                    colour,
                    BLACK,
                )
            )
            above = min(top, zero) - 4 if number >= 0 else max(top, zero) + 14
            body.append(_text(x + bar / 2, above, label, size=11))
    body += frame.legend(series, "bar")
    described = _describe(description, categories, series, unit)
    return Chart(
        chart_id=chart_id,
        kind="bar",
        title=title,
        description=described,
        svg=_svg(chart_id, title, described, frame.height, body),
        columns=(label_heading, *(one.name for one in series)),
        rows=_rows(categories, series, unit),
        note=_note(series),
    )


def wrap_label(name: str, room: float) -> list[str]:
    """A category's name in lines that fit `room` pixels (long words are split), at most
    LABEL_MAX_LINES, the last ending "…" when more was cut: the data table beside the
    chart always has the whole name."""
    width = max(4, int((room - 6) // LABEL_CHAR_WIDTH))
    lines = textwrap.wrap(name, width, break_long_words=True) or [""]
    if len(lines) > LABEL_MAX_LINES:
        last = lines[LABEL_MAX_LINES - 1]
        lines = [*lines[: LABEL_MAX_LINES - 1], f"{last[: max(width - 1, 1)].rstrip()}…"]
    return lines


def _legend_rows(series: Sequence[Series]) -> int:
    if len(series) < 2:
        return 0
    width = sum(40 + 7.5 * len(one.name) for one in series)
    return max(1, math.ceil(width / (WIDTH - MARGIN_LEFT - MARGIN_RIGHT - 80)))
