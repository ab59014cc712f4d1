"""ACCESS.md "Aggregates and small numbers": complementary suppression that cannot be undone.

`pinned_down` plays the reader who tries to recover a hidden count: it knows every shown
count, that the table adds up, and that counts are whole numbers of at least 0, and searches
all such tables by brute force. It shares no code with `access.disclosure`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from access.disclosure import (
    CONFIDENTIAL,
    Relation,
    Shown,
    complementary_suppressions,
    cross_tab_relations,
    determined_items,
    primary_suppressions,
    protect,
    protect_breakdown,
    protect_cross_tab,
)

Grid = list[list[int | None]]
Cell = tuple[int, int]


# --- The reader: brute force over every table consistent with what is shown ----------------


def _search(grid: Grid, first: Sequence[Cell], avoid: int | None) -> dict[Cell, int] | None:
    """One filling of the hidden cells that agrees with every shown count, or None.

    `grid` is the table as shown: cells, then each row's total in the last column, then the
    column totals in the last row, the grand total in the corner; None where hidden. With
    `avoid`, the hidden cells in `first` are filled first and the sum of the cells in
    `first`'s rows-or-columns support must differ from `avoid` (see `pinned_down`).
    """
    n_rows, n_columns = len(grid) - 1, len(grid[0]) - 1
    grand = grid[n_rows][n_columns]
    assert grand is not None, "the reader's search is bounded by the grand total"
    unknown = [(r, c) for r in range(n_rows) for c in range(n_columns) if grid[r][c] is None]
    order = [*[cell for cell in first if cell in unknown], *[u for u in unknown if u not in first]]
    row_total = [grid[r][n_columns] for r in range(n_rows)]
    column_total = [grid[n_rows][c] for c in range(n_columns)]

    def known(r: int, c: int) -> int:
        value = grid[r][c]
        return 0 if value is None else value

    rem_row = [
        None if t is None else t - sum(known(r, c) for c in range(n_columns))
        for r, t in enumerate(row_total)
    ]
    rem_column = [
        None if t is None else t - sum(known(r, c) for r in range(n_rows))
        for c, t in enumerate(column_total)
    ]
    rem_grand = [grand - sum(known(r, c) for r in range(n_rows) for c in range(n_columns))]
    left_row = [sum(1 for u in order if u[0] == r) for r in range(n_rows)]
    left_column = [sum(1 for u in order if u[1] == c) for c in range(n_columns)]
    if any(
        rem is not None and (rem < 0 or (rem and not left_row[r])) for r, rem in enumerate(rem_row)
    ):
        return None
    if any(
        rem is not None and (rem < 0 or (rem and not left_column[c]))
        for c, rem in enumerate(rem_column)
    ):
        return None
    if rem_grand[0] < 0 or (rem_grand[0] and not order):
        return None
    support_size = sum(1 for cell in first if cell in unknown)
    known_in_support = sum(known(r, c) for r, c in first)
    filled: dict[Cell, int] = {}

    def step(i: int) -> bool:
        if i == len(order):
            return True
        r, c = order[i]
        bound = rem_grand[0]
        if rem_row[r] is not None:
            bound = min(bound, rem_row[r])
        if rem_column[c] is not None:
            bound = min(bound, rem_column[c])
        forced = set()
        if rem_row[r] is not None and left_row[r] == 1:
            forced.add(rem_row[r])
        if rem_column[c] is not None and left_column[c] == 1:
            forced.add(rem_column[c])
        if i == len(order) - 1:
            forced.add(rem_grand[0])
        if len(forced) > 1:
            return False
        values = list(forced) if forced else list(range(bound + 1))
        for value in values:
            if not 0 <= value <= bound:
                continue
            filled[r, c] = value
            if (
                avoid is not None
                and i == support_size - 1
                and known_in_support + sum(filled[u] for u in order[:support_size]) == avoid
            ):
                continue
            left_row[r] -= 1
            left_column[c] -= 1
            rem_grand[0] -= value
            if rem_row[r] is not None:
                rem_row[r] -= value
            if rem_column[c] is not None:
                rem_column[c] -= value
            if step(i + 1):
                return True
            left_row[r] += 1
            left_column[c] += 1
            rem_grand[0] += value
            if rem_row[r] is not None:
                rem_row[r] += value
            if rem_column[c] is not None:
                rem_column[c] += value
        filled.pop((r, c), None)
        return False

    if avoid is not None and support_size == 0:
        return None if known_in_support == avoid else {}
    return dict(filled) if step(0) else None


def pinned_down(grid: Grid) -> set[Cell]:
    """Hidden positions (cells or totals) that take one value only in every whole-number,
    non-negative table that agrees with what is shown: the ones a reader could recover."""
    n_rows, n_columns = len(grid) - 1, len(grid[0]) - 1
    some_table = _search(grid, (), None)
    assert some_table is not None, "what is shown must come from some table"

    def value(cells: Sequence[Cell], table: dict[Cell, int]) -> int:
        return sum(table.get(cell, grid[cell[0]][cell[1]] or 0) for cell in cells)

    recovered = set()
    for r in range(n_rows + 1):
        for c in range(n_columns + 1):
            if grid[r][c] is not None:
                continue
            if r < n_rows and c < n_columns:
                support: list[Cell] = [(r, c)]
            elif r < n_rows:
                support = [(r, k) for k in range(n_columns)]
            else:
                support = [(k, c) for k in range(n_rows)]
            if _search(grid, support, avoid=value(support, some_table)) is None:
                recovered.add((r, c))
    return recovered


def shown_grid(table: object) -> Grid:
    """A protected cross-tab as a reader sees it, in `pinned_down`'s layout."""
    rows = [
        [*(cell.value for cell in cells), total.value]
        for cells, total in zip(table.cells, table.row_totals, strict=True)  # type: ignore[attr-defined]
    ]
    rows.append([*(c.value for c in table.column_totals), table.total.value])  # type: ignore[attr-defined]
    return rows


def breakdown_grid(parts: Sequence[Shown], total: Shown) -> Grid:
    """A one-way breakdown as a one-row table whose column totals are its own cells."""
    return [[*(p.value for p in parts), total.value], [*(p.value for p in parts), total.value]]


def small_shown(grid: Grid, *, fixed: set[Cell]) -> set[Cell]:
    """Shown counts of 1 to 4 other than fixed (published) ones."""
    return {
        (r, c)
        for r, row in enumerate(grid)
        for c, n in enumerate(row)
        if n is not None and 0 < n < 5 and (r, c) not in fixed
    }


def test_the_reader_recovers_a_cell_left_alone_in_its_row():
    # The reader must be able to fail a table, or the property test below proves nothing.
    assert pinned_down([[None, 8, 10], [7, 6, 13], [9, 14, 23]]) == {(0, 0)}
    assert pinned_down([[None, None, 10], [7, 6, 13], [9, 14, 23]]) == {(0, 0), (0, 1)}
    assert pinned_down([[None, None, 10], [None, None, 13], [9, 14, 23]]) == set()


# --- One-way breakdowns ------------------------------------------------------------------


def test_a_single_small_count_with_a_fixed_total_gets_a_partner_hidden():
    shown = protect_breakdown([7, 2, 9])
    assert [part.text for part in shown.parts] == [CONFIDENTIAL, CONFIDENTIAL, "9"]
    assert shown.total.text == "18"
    assert pinned_down(breakdown_grid(shown.parts, shown.total)) == set()


def test_41_on_the_scheme_17_23_and_1_cannot_be_worked_out_by_subtraction():
    # The demo's steering home: 41 − 17 − 23 = 1 undid the old per-number suppression.
    community, custody, remand = 17, 23, 1
    shown = protect_breakdown([community, custody, remand])
    assert shown.total.value == 41
    assert shown.parts[2].hidden
    assert shown.parts[0].hidden, "the smallest other part is the partner"
    assert shown.parts[1].value == 23
    assert pinned_down(breakdown_grid(shown.parts, shown.total)) == set()


def test_zero_is_shown_and_is_not_a_primary_suppression():
    assert primary_suppressions({"none": 0, "few": 3, "many": 5}) == {"few"}
    shown = protect_breakdown([0, 12, 9])
    assert [part.text for part in shown.parts] == ["0", "12", "9"]


def test_a_zero_is_never_the_partner_of_a_small_count():
    # Hiding the 0 would leave the 2 between 0 and 2: still known to be small.
    shown = protect_breakdown([0, 2, 9, 6])
    assert [part.text for part in shown.parts] == ["0", CONFIDENTIAL, "9", CONFIDENTIAL]


def test_a_fixed_total_is_shown_even_when_small_and_its_parts_are_hidden():
    shown = protect_breakdown([1, 1])
    assert shown.total.text == "2"
    assert all(part.hidden for part in shown.parts)
    not_fixed = protect_breakdown([1, 1], total_fixed=False)
    assert not_fixed.total.hidden


def test_complementary_step_hides_the_smallest_positive_partner():
    counts = {"total": 25, "a": 7, "b": 2, "c": 0, "d": 5, "e": 11}
    relations = [Relation("total", ("a", "b", "c", "d", "e"))]
    hidden = complementary_suppressions(counts, relations, {"b"}, fixed={"total"})
    assert hidden == {"b", "d"}


def test_complementary_step_hides_a_total_when_no_positive_part_is_left():
    counts = {"total": 20, "row": 6, "x": 6, "y": 0, "other": 14}
    relations = [Relation("row", ("x", "y")), Relation("total", ("row", "other"))]
    hidden = complementary_suppressions(counts, relations, {"x"}, fixed={"total"})
    assert hidden == {"x", "row", "other"}


def test_threshold_is_a_parameter():
    assert protect_breakdown([3, 12, 9], threshold=3).parts[0].value == 3
    assert protect_breakdown([3, 12, 9], threshold=10).parts[0].hidden


# --- The linear-algebra check ------------------------------------------------------------


def _two_by_two() -> list[Relation[str]]:
    return [
        Relation("R0", ("a", "b")),
        Relation("R1", ("c", "d")),
        Relation("C0", ("a", "c")),
        Relation("C1", ("b", "d")),
        Relation("T", ("R0", "R1")),
        Relation("T", ("C0", "C1")),
    ]


def test_determined_items_finds_counts_worked_out_through_several_relations():
    relations = _two_by_two()
    # a = C0 − c, and b = R0 − a: both follow, though each relation has two hidden items.
    assert determined_items(relations, {"a", "b", "R0"}) == {"a", "b", "R0"}
    assert determined_items(relations, {"a", "b"}) == {"a", "b"}
    # Four cells hidden, margins shown: a + 1, b − 1, c − 1, d + 1 fits as well.
    assert determined_items(relations, {"a", "b", "c", "d"}) == set()
    # R1 = c + d and a = C0 − c, whatever is hidden beside them.
    assert determined_items(relations, {"a", "b", "R0", "R1"}) == {"a", "b", "R0", "R1"}


def test_determined_items_sees_a_hidden_margin_given_away_by_the_other_margins():
    relations = _two_by_two()
    assert determined_items(relations, {"R0"}) == {"R0"}
    assert determined_items(relations, {"R0", "C0", "a"}) == {"R0", "C0", "a"}
    assert determined_items(relations, {"a", "b", "c", "d", "R0", "R1"}) == set()


# --- Two-way tables ----------------------------------------------------------------------


def test_a_small_cell_in_a_cross_tab_gets_partners_in_its_row_and_its_column():
    table = protect_cross_tab([[2, 8, 9], [7, 6, 11]])
    grid = shown_grid(table)
    assert grid[0][0] is None
    assert sum(v is None for v in grid[0][:3]) >= 2
    assert sum(v is None for v in (grid[0][0], grid[1][0])) == 2
    assert table.total.text == "43"
    assert pinned_down(grid) == set()
    assert small_shown(grid, fixed={(2, 3)}) == set()


def test_only_a_margin_can_protect_a_cell_whose_row_is_otherwise_zero():
    # Row "6, 0": hiding the 6 means nothing unless the row total 6 is hidden too,
    # and no other cell of that row can be: the only other one is 0.
    table = protect_cross_tab([[6, 0], [2, 9]])
    grid = shown_grid(table)
    assert grid[1][0] is None and grid[0][0] is None
    assert table.row_totals[0].hidden
    assert table.cells[0][1].text == "0"
    assert pinned_down(grid) == set()


def test_a_count_given_away_through_several_relations_gets_one_more_partner():
    # After the complementary step every row and column has two hidden counts or none,
    # yet the first column's total follows from the others: hiding one more count mends it,
    # without falling back to hiding the whole table.
    cells = [[2, 0, 0], [2, 2, 1], [1, 0, 0]]
    relations = cross_tab_relations(3, 3)
    counts = {("cell", r, c): n for r, row in enumerate(cells) for c, n in enumerate(row)}
    counts |= {("row", r): sum(row) for r, row in enumerate(cells)}
    counts |= {("column", c): sum(row[c] for row in cells) for c in range(3)}
    counts["total"] = 8
    first_pass = complementary_suppressions(
        counts, relations, primary_suppressions(counts, fixed={"total"}), fixed={"total"}
    )
    assert determined_items(relations, first_pass), "the complementary step alone leaks"
    grid = shown_grid(protect_cross_tab(cells))
    assert pinned_down(grid) == set()
    assert sum(v is not None for row in grid for v in row) > 1, "not the last resort"


def test_last_resort_shows_only_the_fixed_total():
    # Three people, all in one cell: every shown 0 would point at that cell.
    table = protect_cross_tab([[0, 0, 0], [0, 0, 3]])
    grid = shown_grid(table)
    assert table.total.text == "3"
    assert all(
        v is None for r, row in enumerate(grid) for c, v in enumerate(row) if (r, c) != (2, 3)
    )
    assert pinned_down(grid) == set()


def test_a_table_with_nothing_small_is_shown_whole():
    table = protect_cross_tab([[0, 8, 9], [7, 6, 0]])
    assert not table.any_hidden
    assert shown_grid(table) == [[0, 8, 9, 17], [7, 6, 0, 13], [7, 14, 9, 30]]


def test_random_tables_cannot_be_undone_and_show_no_small_count():
    rng = random.Random(20250603)
    tables_with_hidden = 0
    margins_hidden = 0
    for _ in range(400):
        n_rows, n_columns = rng.randint(2, 3), rng.randint(2, 4)
        largest = rng.choice((3, 6, 12))
        cells = [[rng.randint(0, largest) for _ in range(n_columns)] for _ in range(n_rows)]
        table = protect_cross_tab(cells)
        grid = shown_grid(table)
        truth = [[*row, sum(row)] for row in cells]
        truth.append([*(sum(col) for col in zip(*cells, strict=True)), sum(map(sum, cells))])
        for r, row in enumerate(grid):
            for c, n in enumerate(row):
                assert n is None or n == truth[r][c], "shown counts are the true counts"
        assert grid[n_rows][n_columns] == truth[n_rows][n_columns], "the fixed total is shown"
        assert small_shown(grid, fixed={(n_rows, n_columns)}) == set(), cells
        assert pinned_down(grid) == set(), cells
        tables_with_hidden += any(v is None for row in grid for v in row)
        margins_hidden += any(row[-1] is None for row in grid) or None in grid[-1]
    # The search must have had work to do, or it would pass whatever the code did.
    assert tables_with_hidden > 250 and margins_hidden > 100


# --- Shape and display -------------------------------------------------------------------


def test_hidden_counts_are_none_and_show_as_c_and_others_keep_their_value():
    counts = {"total": 1234, "a": 3, "b": 1231}
    shown = protect(counts, [Relation("total", ("a", "b"))], fixed={"total"})
    assert shown.values == {"total": 1234, "a": None, "b": None}
    assert shown.text("total") == "1,234"
    assert shown.text("a") == "[c]"
    assert shown.hidden == {"a", "b"}


def test_a_table_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="not the sum"):
        protect({"total": 5, "a": 3, "b": 3}, [Relation("total", ("a", "b"))])
    with pytest.raises(ValueError, match="at least 0"):
        protect({"total": 0, "a": -1, "b": 1}, [Relation("total", ("a", "b"))])


# --- Reading a published table back ------------------------------------------------------


def grid_from_html(html: str, testid: str) -> Grid:
    """The counts of a rendered GOV.UK table (header row and row headings dropped), with
    "[c]" as None: exactly what a reader of the page has to work with."""
    from html.parser import HTMLParser

    class TableReader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.rows: list[list[tuple[str, str]]] = []
            self.cell: list[str] | None = None
            self.tag = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table" and (self.depth or ("data-testid", testid) in attrs):
                self.depth += 1
            elif self.depth and tag == "tr":
                self.rows.append([])
            elif self.depth and tag in ("th", "td"):
                self.cell, self.tag = [], tag

        def handle_endtag(self, tag: str) -> None:
            if tag == "table" and self.depth:
                self.depth -= 1
            elif self.depth and tag in ("th", "td") and self.cell is not None:
                self.rows[-1].append((self.tag, "".join(self.cell).strip()))
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    reader = TableReader()
    reader.feed(html)
    assert reader.rows, f"no table {testid!r} on the page"
    grid: Grid = []
    for row in reader.rows[1:]:
        assert row[0][0] == "th", "each row starts with its heading"
        grid.append(
            [None if text == CONFIDENTIAL else int(text.replace(",", "")) for _, text in row[1:]]
        )
    return grid
