"""Server-drawn SVG charts: accessible markup, escaped text, hidden counts never drawn,
the data table carrying the same figures, and markup WeasyPrint can read (plain XML)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from access.disclosure import CONFIDENTIAL_NOTE, Shown
from reporting.charts import (
    BLUE,
    ORANGE,
    Series,
    axis_ticks,
    bar_chart,
    line_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [f"W{n}" for n in range(1, 14)]


def _tree(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own markup


def _weekly(values, **kwargs):
    return line_chart(
        chart_id="ppos-per-week",
        title="PPOs on the scheme per week",
        description="The number of PPOs on the scheme at the end of each week",
        labels=WEEKS,
        series=[Series("PPOs", tuple(values))],
        **kwargs,
    )


def test_a_line_chart_is_accessible_svg_with_title_and_description():
    chart = _weekly(range(10, 23))
    assert isinstance(chart.svg, SafeString)
    root = _tree(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "ppos-per-week-title ppos-per-week-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "ppos-per-week-title"
    assert title.text == "PPOs on the scheme per week"
    assert desc is not None and desc.get("id") == "ppos-per-week-desc"
    # The description says in words what the picture shows: range and extremes.
    assert desc.text == chart.description
    assert "From W1 to W13." in chart.description
    assert "lowest 10 (W1), highest 22 (W13)" in chart.description
    # No script, no stylesheet, no CSS variables: WeasyPrint draws plain elements.
    markup = str(chart.svg)
    assert "<script" not in markup and "<style" not in markup and "var(--" not in markup
    assert "DejaVu Sans" in markup


def test_the_line_runs_through_13_points_in_order_top_is_highest():
    chart = _weekly(range(10, 23))
    root = _tree(chart)
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1
    points = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert len(points) == 13
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    assert xs == sorted(xs) and len(set(xs)) == 13
    # Rising values are drawn higher up the page (smaller y).
    assert ys == sorted(ys, reverse=True)
    assert lines[0].get("stroke") == BLUE
    assert len(root.findall(f"{SVG}circle")) == 13


def test_the_data_table_has_the_same_figures():
    chart = _weekly([1_234, *range(12)], label_heading="Week ending")
    assert chart.columns == ("Week ending", "PPOs")
    assert [row.label for row in chart.rows] == WEEKS
    assert chart.rows[0].cells[0].text == "1,234"
    assert chart.rows[12].cells[0].text == "11"
    assert chart.note == ""


def test_a_hidden_count_is_not_drawn_breaks_the_line_and_shows_c():
    values = [Shown(6), Shown(7), Shown(None), *[Shown(8)] * 10]
    chart = _weekly(values)
    root = _tree(chart)
    runs = root.findall(f"{SVG}polyline")
    # The gap splits the line in two (2 points, then 10); nothing is drawn for week 3.
    assert sorted(len(r.get("points", "").split()) for r in runs) == [2, 10]
    assert len(root.findall(f"{SVG}circle")) == 12
    assert chart.rows[2].cells[0].hidden and chart.rows[2].cells[0].text == "[c]"
    assert chart.note == CONFIDENTIAL_NOTE
    assert "1 value not shown ([c])" in chart.description
    assert chart.any_hidden
    # The hidden value cannot be read off the axis: the top tick covers only shown values.
    assert "[c]" in str(chart.svg)


def test_missing_values_are_a_dash_not_zero():
    chart = _weekly([None, *range(12)])
    assert chart.rows[0].cells[0].text == "–"
    assert not chart.rows[0].cells[0].hidden


def test_user_text_is_escaped_everywhere():
    evil = '<script>alert("x")</script> & "quote"'
    chart = bar_chart(
        chart_id="mix",
        title=evil,
        description=evil,
        categories=[evil, "Theft"],
        series=[Series(evil, (3, 4)), Series("Other", (1, 2))],
    )
    markup = str(chart.svg)
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup
    # Still well-formed XML, so the escaping did not break the structure.
    root = _tree(chart)
    assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]


def test_a_bar_chart_draws_one_bar_per_shown_value_with_its_label():
    chart = bar_chart(
        chart_id="offence-mix",
        title="Offences charged by category",
        description="Offences charged in the year, by category",
        categories=["Burglary", "Theft", "Robbery"],
        series=[Series("Offences", (Shown(None), Shown(30), Shown(15)))],
        label_heading="Offence category",
    )
    root = _tree(chart)
    bars = [r for r in root.findall(f"{SVG}rect") if r.get("fill") == BLUE]
    assert len(bars) == 2
    heights = [float(b.get("height", "0")) for b in bars]
    # Theft (30) is twice Robbery (15): heights in proportion from the zero line.
    assert heights[0] == pytest.approx(2 * heights[1], rel=0.01)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "30" in texts and "15" in texts and "[c]" in texts
    assert chart.rows[0].cells[0].hidden
    assert chart.columns == ("Offence category", "Offences")


def test_grouped_bars_use_two_colours_and_a_legend():
    chart = bar_chart(
        chart_id="by-year",
        title="Re-offending by year",
        description="Share with a proven re-offence",
        categories=["2023-24", "2024-25"],
        series=[
            Series("PPOs", (Decimal("77.3"), Decimal("74.9"))),
            Series("All offenders", (Decimal("25.0"), Decimal("24.5"))),
        ],
        unit="%",
    )
    root = _tree(chart)
    fills = [r.get("fill") for r in root.findall(f"{SVG}rect")]
    # Two bars of each colour, plus one legend swatch each.
    assert fills.count(BLUE) == 3 and fills.count(ORANGE) == 3
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "PPOs" in texts and "All offenders" in texts
    assert "77.3%" in texts
    assert chart.rows[1].cells == (chart.rows[1].cells[0], chart.rows[1].cells[1])
    assert [c.text for c in chart.rows[1].cells] == ["74.9%", "24.5%"]


def test_negative_values_extend_the_axis_below_zero():
    chart = line_chart(
        chart_id="change",
        title="Change",
        description="",
        labels=["2023-24", "2024-25"],
        series=[Series("Change", (Decimal("-12.5"), Decimal("3.0")))],
        unit="%",
    )
    texts = [t.text for t in _tree(chart).iter(f"{SVG}text")]
    assert any(t and t.startswith("-") and t.endswith("%") for t in texts)


@pytest.mark.parametrize(
    ("low", "high", "whole", "expected"),
    [
        (0, 0, True, [0, 1]),
        (0, 3, True, [0, 1, 2, 3]),
        (0, 22, True, [0, 5, 10, 15, 20, 25]),
        (0, 103, True, [0, 50, 100, 150]),
        (0, 0.4, False, [0, 0.1, 0.2, 0.3, 0.4]),
        (-12.5, 3, False, [-15, -10, -5, 0, 5]),
    ],
)
def test_axis_ticks_cover_the_data_and_include_zero(low, high, whole, expected):
    assert axis_ticks(low, high, whole=whole) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chart_id": "Bad Id"},
        {"series": []},
        {"series": [Series("Short", (1, 2))]},
        {"series": [Series(str(n), tuple(range(13))) for n in range(5)]},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    arguments = {
        "chart_id": "ok",
        "title": "T",
        "description": "D",
        "labels": WEEKS,
        "series": [Series("S", tuple(range(13)))],
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        line_chart(**arguments)


def test_the_include_renders_the_svg_and_the_table_beside_it():
    chart = _weekly([Shown(None), *[Shown(9)] * 12])
    html = render_to_string("reporting/_chart.html", {"chart": chart})
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert 'data-testid="ppos-per-week-table"' in html
    assert re.search(r"<th scope=\"row\" class=\"govuk-table__header\">W1</th>", html)
    assert "<abbr" in html  # the hidden cell, as the disclosure include shows it
    assert CONFIDENTIAL_NOTE in html


REASONS = [
    "Significant custodial sentence (over 2 years)",
    "Reviewed after two years on the scheme",
    "Responding positively – stepped down",
    "Moved out of the area",
]


def _label_lines(chart) -> dict[float, list[str]]:
    """The category names under the bars, by their x position, top line first: the
    texts below the plotting area at 11 px that are not value labels."""
    by_x: dict[float, list[tuple[float, str]]] = {}
    for text in _tree(chart).iter(f"{SVG}text"):
        y = float(text.get("y"))
        if y > 300 - 52 and text.get("font-size") == "11":
            by_x.setdefault(float(text.get("x")), []).append((y, text.text or ""))
    return {x: [t for _, t in sorted(lines)] for x, lines in by_x.items()}


def test_long_category_names_wrap_under_their_own_bar_without_overlapping():
    chart = bar_chart(
        chart_id="reasons",
        title="Reasons for de-selection",
        description="How many were de-selected for each reason",
        categories=REASONS,
        series=[Series("People", (1, 1, 3, 0))],
    )
    lines = _label_lines(chart)
    assert len(lines) == 4
    xs = sorted(lines)
    slot = xs[1] - xs[0]
    for x in xs:
        # Every word of the name is there, in order, and no line is wider than its slot
        # at the widest DejaVu Sans character average of 6.6 px.
        assert " ".join(lines[x]).split() == REASONS[xs.index(x)].split()
        assert all(len(line) * 6.6 <= slot for line in lines[x]), lines[x]
    # The picture grows to hold the extra lines instead of cutting them off.
    deepest = max(len(v) for v in lines.values())
    assert deepest > 1
    assert int(_tree(chart).get("height")) == 300 + (deepest - 1) * 13


def test_a_very_long_name_is_cut_with_an_ellipsis_and_kept_whole_in_the_table():
    name = "Education, Training and Employment " * 6
    chart = bar_chart(
        chart_id="long",
        title="Long",
        description="Long names",
        categories=[name.strip(), *REASONS],
        series=[Series("People", (2, 1, 1, 3, 0))],
    )
    first = _label_lines(chart)[min(_label_lines(chart))]
    assert len(first) == 4 and first[-1].endswith("…")
    assert chart.rows[0].label == name.strip()


def test_a_description_of_equal_values_says_so_instead_of_lowest_and_highest():
    chart = bar_chart(
        chart_id="gaps",
        title="Gaps",
        description="People with a gap per pathway",
        categories=["Accommodation", "Finance", "Drugs and Alcohol"],
        series=[Series("People", (0, 0, 0))],
    )
    assert "every value 0." in chart.description
    assert "lowest" not in chart.description
