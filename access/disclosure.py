"""Small numbers in tables: which counts to hide so that no one can be identified.

ACCESS.md "Aggregates and small numbers": counts of 1–4 are suppressed — complementarily, so
that no hidden count can be worked out by subtraction from a total or the other parts — in
breakdowns by a personal characteristic (sex, ethnicity, age band, disability, crossed with
anything) and in any output marked for publication. "One function does this for pages, CSVs,
PDFs and the API": `protect()`, with `protect_breakdown()` and `protect_cross_tab()` for the two
common shapes. Headline counts of the scheme's own caseload are shown exactly and are passed in
as *fixed*: published elsewhere, so never hidden, and known to anyone reading the table.

Pure: no database and no models, so any output can call it on numbers it has already counted.
Hidden counts are shown as "[c]" (confidential), the Government Statistical Service symbol.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

# ACCESS.md "Aggregates and small numbers": counts of 1 to 4 are suppressed.
SUPPRESSION_THRESHOLD = 5

# Government Statistical Service symbol for a value withheld to protect confidentiality.
CONFIDENTIAL = "[c]"
CONFIDENTIAL_NOTE = (
    "[c] not shown so that no one can be identified: counts of 1 to 4, "
    "and any count from which one could be worked out"
)

Item = TypeVar("Item", bound=Hashable)


@dataclass(frozen=True)
class Relation(Generic[Item]):
    """One additive fact a reader knows: `total` is the sum of `parts`."""

    total: Item
    parts: tuple[Item, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True)
class Shown:
    """One count as it may be disclosed: the number, or None and "[c]" when it is hidden."""

    value: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None

    @property
    def text(self) -> str:
        return CONFIDENTIAL if self.value is None else f"{self.value:,}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Disclosure(Generic[Item]):
    """What may be disclosed of a table: hidden counts are not kept, only their names."""

    values: Mapping[Item, int | None]
    hidden: frozenset[Item]

    def __getitem__(self, item: Item) -> Shown:
        return Shown(self.values[item])

    def text(self, item: Item) -> str:
        return self[item].text


def primary_suppressions(
    counts: Mapping[Item, int],
    *,
    fixed: Collection[Item] = (),
    threshold: int = SUPPRESSION_THRESHOLD,
) -> set[Item]:
    """Counts of 1 to threshold−1 not published elsewhere. Zero is shown: it names no one."""
    return {item for item, n in counts.items() if 0 < n < threshold and item not in fixed}


def _cheapest(
    candidates: Iterable[Item],
    counts: Mapping[Item, int],
    hidden: set[Item],
    fixed: Collection[Item],
) -> Item | None:
    """The smallest positive count still shown and not fixed (first in order on a tie).

    A hidden zero protects little: everyone knows a count is at least 0, so a reader who
    sees the rest of a row can still bound the small count from above by the total.
    """
    usable = [c for c in candidates if c not in hidden and c not in fixed and counts[c] > 0]
    return min(usable, key=lambda c: counts[c]) if usable else None


def complementary_suppressions(
    counts: Mapping[Item, int],
    relations: Sequence[Relation[Item]],
    hidden: set[Item],
    *,
    fixed: Collection[Item] = (),
) -> set[Item]:
    """Hide partners until no relation has exactly one hidden item (else it is its difference).

    In a relation whose one hidden item is a part, hide the smallest positive part still
    shown; if there is none, hide the relation's total (unless fixed), which then needs a
    partner of its own in the relations above it. Repeats until nothing changes.
    """
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for relation in relations:
            in_relation = [item for item in relation.items if item in hidden]
            if len(in_relation) != 1:
                continue
            partner = _cheapest(relation.parts, counts, hidden, fixed)
            if partner is None and relation.total not in hidden and relation.total not in fixed:
                partner = relation.total
            if partner is not None:
                hidden.add(partner)
                changed = True
    return hidden


def determined_items(relations: Sequence[Relation[Item]], hidden: Collection[Item]) -> set[Item]:
    """Hidden items that the shown items fix exactly through the relations.

    Each relation is the row `total − Σ parts = 0`; moving the shown items to the right-hand
    side leaves a system over the hidden items only. A hidden item i is determined iff the
    unit vector e_i lies in the row space of that system's matrix, i.e. iff the reduced row
    echelon form has a row equal to e_i. Exact arithmetic (Fraction), so nothing is missed
    or invented by rounding.
    """
    columns = sorted(hidden, key=repr)
    index = {item: i for i, item in enumerate(columns)}
    rows: list[list[Fraction]] = []
    for relation in relations:
        row = [Fraction(0)] * len(columns)
        if relation.total in index:
            row[index[relation.total]] += 1
        for part in relation.parts:
            if part in index:
                row[index[part]] -= 1
        if any(row):
            rows.append(row)

    pivot_row = 0
    pivots: list[int] = []
    for col in range(len(columns)):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [value / lead for value in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivots.append(col)
        pivot_row += 1

    return {
        columns[col]
        for r, col in enumerate(pivots)
        if all(value == 0 for c, value in enumerate(rows[r]) if c != col)
    }


def items_to_hide(
    counts: Mapping[Item, int],
    relations: Sequence[Relation[Item]],
    *,
    fixed: Collection[Item] = (),
    threshold: int = SUPPRESSION_THRESHOLD,
) -> frozenset[Item]:
    """Which counts to hide: primary, then complementary, then checked by linear algebra.

    1. Primary: counts of 1 to threshold−1 (ACCESS.md: 1–4) unless fixed.
    2. Complementary: `complementary_suppressions`, until stable.
    3. Verify: `determined_items` must be empty. If not, hide the smallest positive shown
       item in any relation of a determined item and go back to 2; if there is none, hide
       every item that is not fixed (the last resort).

    Why that is enough against a reader who also knows counts are whole numbers ≥ 0: for a
    table with margins (row totals, column totals, a grand total) the relations are the
    flow-conservation equations of a network (grand total → row totals → cells → column
    totals → grand total), so their matrix is totally unimodular; a one-way breakdown with
    its total is the same with a single row. Every direction in the kernel of the hidden
    part of that matrix is then a combination of cycles with entries 0, +1 and −1. If a
    hidden item is not determined, some such cycle moves it; adding the cycle changes each
    hidden count by at most 1, and since steps 1–3 hide only positive counts (a hidden part
    is ≥ 1, a hidden total is at least its hidden part), every count stays ≥ 0. So another
    table of whole numbers agrees with everything shown and differs in that item: it cannot
    be pinned down. After the last resort zeros may be hidden too; with only the grand
    total shown, any hidden count can still move by one unit between cells.

    Relations of other shapes are handled the same way, but the integer guarantee above is
    argued for these two shapes only. The reader assumed is one who knows what is shown,
    how the table adds up, and that counts are whole numbers ≥ 0 (the usual model for
    cell suppression); a table whose only published count is small (e.g. 4 people in a
    2 × 2 table) says little more than that count.
    """
    _check_consistent(counts, relations)
    fixed = frozenset(fixed)
    hidden = primary_suppressions(counts, fixed=fixed, threshold=threshold)
    while True:
        hidden = complementary_suppressions(counts, relations, hidden, fixed=fixed)
        exposed = determined_items(relations, hidden)
        if not exposed:
            return frozenset(hidden)
        around = [item for rel in relations if exposed & set(rel.items) for item in rel.items]
        extra = _cheapest(dict.fromkeys(around), counts, hidden, fixed)
        if extra is None:
            # Last resort: show only what is published elsewhere anyway.
            return frozenset(item for item in counts if item not in fixed)
        hidden.add(extra)


def protect(
    counts: Mapping[Item, int],
    relations: Sequence[Relation[Item]],
    *,
    fixed: Collection[Item] = (),
    threshold: int = SUPPRESSION_THRESHOLD,
) -> Disclosure[Item]:
    """ACCESS.md small-number suppression for any table: the counts that may be shown.

    `counts` holds every item of the table (cells and totals); `relations` says which items
    add up to which; `fixed` names items shown exactly elsewhere (a headline count), which
    are never hidden. Hidden items come back as None, and display as "[c]".
    """
    hidden = items_to_hide(counts, relations, fixed=fixed, threshold=threshold)
    values = {item: None if item in hidden else n for item, n in counts.items()}
    return Disclosure(values=values, hidden=hidden)


def _check_consistent(counts: Mapping[Item, int], relations: Sequence[Relation[Item]]) -> None:
    for n in counts.values():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"A count must be a whole number of at least 0, not {n!r}")
    for relation in relations:
        if counts[relation.total] != sum(counts[part] for part in relation.parts):
            raise ValueError(f"{relation.total!r} is not the sum of {relation.parts!r}")


# --- The two common shapes ----------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedBreakdown:
    parts: tuple[Shown, ...]
    total: Shown

    @property
    def any_hidden(self) -> bool:
        return self.total.hidden or any(part.hidden for part in self.parts)


def protect_breakdown(
    parts: Sequence[int], *, total_fixed: bool = True, threshold: int = SUPPRESSION_THRESHOLD
) -> ProtectedBreakdown:
    """A one-way breakdown and its total (fixed by default: usually a headline count)."""
    counts: dict[Hashable, int] = {("part", i): n for i, n in enumerate(parts)}
    counts["total"] = sum(parts)
    part_keys: tuple[Hashable, ...] = tuple(("part", i) for i in range(len(parts)))
    relations: list[Relation[Hashable]] = [Relation("total", part_keys)]
    shown = protect(counts, relations, fixed={"total"} if total_fixed else (), threshold=threshold)
    return ProtectedBreakdown(
        parts=tuple(shown[("part", i)] for i in range(len(parts))), total=shown["total"]
    )


@dataclass(frozen=True)
class ProtectedCrossTab:
    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]
    column_totals: tuple[Shown, ...]
    total: Shown

    @property
    def any_hidden(self) -> bool:
        every = [*self.row_totals, *self.column_totals, self.total]
        return any(item.hidden for item in every) or any(c.hidden for r in self.cells for c in r)


def cross_tab_relations(n_rows: int, n_columns: int) -> list[Relation[Hashable]]:
    """Each row total, each column total and the grand total (both ways) as sums."""
    cell: list[list[Hashable]] = [[("cell", r, c) for c in range(n_columns)] for r in range(n_rows)]
    rows: list[Hashable] = [("row", r) for r in range(n_rows)]
    columns: list[Hashable] = [("column", c) for c in range(n_columns)]
    relations: list[Relation[Hashable]] = []
    relations += [Relation(rows[r], tuple(cell[r])) for r in range(n_rows)]
    relations += [
        Relation(columns[c], tuple(cell[r][c] for r in range(n_rows))) for c in range(n_columns)
    ]
    relations += [Relation("total", tuple(rows)), Relation("total", tuple(columns))]
    return relations


def protect_cross_tab(
    cells: Sequence[Sequence[int]],
    *,
    total_fixed: bool = True,
    threshold: int = SUPPRESSION_THRESHOLD,
) -> ProtectedCrossTab:
    """A two-way table with row totals, column totals and a grand total (fixed by default)."""
    n_rows = len(cells)
    n_columns = len(cells[0]) if cells else 0
    if any(len(row) != n_columns for row in cells):
        raise ValueError("Every row of a table needs the same number of cells")
    counts: dict[Hashable, int] = {}
    for r, row in enumerate(cells):
        for c, n in enumerate(row):
            counts["cell", r, c] = n
        counts["row", r] = sum(row)
    for c in range(n_columns):
        counts["column", c] = sum(row[c] for row in cells)
    counts["total"] = sum(sum(row) for row in cells)
    shown = protect(
        counts,
        cross_tab_relations(n_rows, n_columns),
        fixed={"total"} if total_fixed else (),
        threshold=threshold,
    )
    return ProtectedCrossTab(
        cells=tuple(tuple(shown["cell", r, c] for c in range(n_columns)) for r in range(n_rows)),
        row_totals=tuple(shown["row", r] for r in range(n_rows)),
        column_totals=tuple(shown["column", c] for c in range(n_columns)),
        total=shown["total"],
    )
