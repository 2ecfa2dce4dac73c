"""Small-cell suppression of a published table of counts, so that no count from 1 to
``threshold - 1`` can be read or worked out (issue 20).

A table here is counts by row (a code) and column (a period), published with every row's
total, every column's total and the grand total. Think of it as one (R+1) x (C+1) grid whose
last row holds the column totals and last column the row totals: each line of the grid then
says "the last number is the sum of the others".

**Primary suppression.** Every count, total or grand total from 1 to ``threshold - 1`` is
hidden and shown as ``"fewer than N"``, which tells a reader it is 1 to N-1. Zeros are shown:
a zero says that nobody in a period had that field's value, which points at no one, and
showing zeros keeps most of the table's arithmetic public. (The tables cross one field with
time, never two fields, so a zero cannot say that "everyone with A also had B".)

**Complementary suppression.** A hidden cell alone in its line is that line's total minus the
rest: it must not be. Generally, an attacker knows every number shown, that each line adds up,
that a "fewer than N" cell is 1 to N-1, that a ``"suppressed"`` cell is 0 or more and that a
row that is listed at all has a total of 1 or more (a report lists a code only when it was
counted), and looks for the values the hidden cells can take. A hidden cell is safe when at
least two whole numbers are possible for it. With the grid's lines as the two sides of a graph
(rows, columns) and the hidden cells as its edges, two possible tables differ by flows around
cycles of that graph; so a hidden cell is safe exactly when one step of +1 or -1 around some
cycle through it keeps every cell of the cycle within what its marker says (:func:`_movable`, a
search for a path in the residual graph: the grid's equations are a network's, so a step of one
is enough to decide). Until every hidden cell is safe, the cheapest fix for one that is not is
added: one more cell, or the three that close a rectangle through it (fewest totals first, then
the smallest counts hidden). When no such fix helps (a "fewer than N" marker can itself pin a
value: a row of two cells, both 1, total 2, under a threshold of 3), the cell is marked
``"suppressed"`` instead, which says less; as the last resort the whole table is.

With a threshold of 2, "fewer than 2" would mean exactly 1: those cells are marked
``"suppressed"`` from the start.

Publish one period granularity per set of tables: a month table and a quarter table of the
same cases are linked (a quarter is three months added up), and suppression here protects
each table only against its own arithmetic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import product
from typing import Final

SUPPRESSED: Final = "suppressed"
# What a cell shows: its count, or a marker.
Cell = int | str


def fewer_than(threshold: int) -> str:
    """The marker of a count below ``threshold`` (from 1), e.g. "fewer than 5"."""
    return f"fewer than {threshold}"


class _Status(Enum):
    SHOWN = 0
    PRIMARY = 1  # "fewer than N": 1 to N-1
    HIDDEN = 2  # "suppressed": 0 or more


@dataclass(frozen=True)
class Suppressed:
    """The table as published: each row's counts followed by its total, the column totals,
    the grand total."""

    rows: list[list[Cell]]
    column_totals: list[Cell]
    total: Cell


_INFINITY: Final = float("inf")


def suppress(
    counts: Sequence[Sequence[int]],
    threshold: int,
    columns: int,
    listed: Sequence[bool] | None = None,
) -> Suppressed:
    """Publish ``counts`` (rows of ``columns`` non-negative counts) with its totals, hiding
    what must be hidden (see the module's docstring).

    ``listed[i]`` says that a reader knows row i's total is not zero, because only such rows
    are published (the reports list a code only when it was counted, but "unknown" always):
    a hidden row total is then at least 1, and the protection takes that into account. By
    default every row is listed.

    Raises ValueError for a threshold below 2, a negative count, a row of another length, or
    a listed row whose total is zero.
    """
    if threshold < 2:
        raise ValueError("the threshold must be at least 2")
    if listed is None:
        listed = [True] * len(counts)
    if len(listed) != len(counts):
        raise ValueError("listed must say, for every row, whether it is listed")
    if any(flag and not sum(row) for flag, row in zip(listed, counts, strict=True)):
        raise ValueError("a listed row cannot have a zero total")
    grid = _Grid(counts, threshold, columns, listed)
    grid.protect()
    return grid.published()


def _reach(
    arcs: dict[int, list[int]], start: int, more: Sequence[tuple[int, int]] = ()
) -> set[int]:
    """The nodes reachable from ``start`` along ``arcs`` and the ``more`` arcs."""
    extra: dict[int, list[int]] = {}
    for tail, head in more:
        extra.setdefault(tail, []).append(head)
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for after in (*arcs.get(node, ()), *extra.get(node, ())):
            if after not in seen:
                seen.add(after)
                queue.append(after)
    return seen


class _Grid:
    def __init__(
        self,
        counts: Sequence[Sequence[int]],
        threshold: int,
        columns: int,
        listed: Sequence[bool],
    ) -> None:
        if any(len(row) != columns for row in counts):
            raise ValueError("every row must have a count per column")
        if any(count < 0 for row in counts for count in row):
            raise ValueError("counts cannot be negative")
        self.threshold = threshold
        self.listed = list(listed)
        self.r = len(counts)  # the row of column totals
        self.c = columns  # the column of row totals
        self.x: dict[tuple[int, int], int] = {}
        for i, row in enumerate(counts):
            for j, count in enumerate(row):
                self.x[i, j] = count
            self.x[i, self.c] = sum(row)
        for j in range(self.c):
            self.x[self.r, j] = sum(counts[i][j] for i in range(self.r))
        self.x[self.r, self.c] = sum(self.x[i, self.c] for i in range(self.r))
        self.status = {cell: _Status.SHOWN for cell in self.x}
        for cell, count in self.x.items():
            if 0 < count < threshold:
                # "fewer than 2" would say "1": hidden without saying how small.
                self.status[cell] = _Status.PRIMARY if threshold > 2 else _Status.HIDDEN

    def protect(self) -> None:
        """Hide more until every hidden cell is safe (:func:`_movable`)."""
        safe: set[tuple[int, int]] = set()  # hiding more never makes a safe cell unsafe
        while True:
            pinned = next(
                (
                    cell
                    for cell in sorted(self.x, key=self._margin_last)
                    if self.status[cell] is not _Status.SHOWN
                    and cell not in safe
                    and not self._check(cell, safe)
                ),
                None,
            )
            if pinned is None:
                return
            if self._fix(pinned):
                continue
            if self.status[pinned] is _Status.PRIMARY:
                self.status[pinned] = _Status.HIDDEN  # say less of it, and try again
                continue
            for cell in self.x:  # the last resort: nothing of the table is shown
                self.status[cell] = _Status.HIDDEN
            return

    def _check(self, cell: tuple[int, int], safe: set[tuple[int, int]]) -> bool:
        if self._movable(cell):
            safe.add(cell)
            return True
        return False

    def _fix(self, pinned: tuple[int, int]) -> bool:
        """Hide the cheapest set of cells that makes ``pinned`` safe; False when none does.

        The candidates are tried cheapest first. Which nodes the pinned cell's row and column
        reach is computed once: a candidate can only help when one of its arcs leaves what
        the start reaches and one enters what reaches the goal, and only those are searched.
        """
        i, j = pinned
        base = self._arcs(avoid=pinned)
        reverse: dict[int, list[int]] = {}
        for tail, heads in base.items():
            for head in heads:
                reverse.setdefault(head, []).append(tail)
        ends = [
            (start, goal, _reach(base, start), _reach(reverse, goal))
            for start, goal in self._directions(pinned)
        ]
        shown = {cell for cell, status in self.status.items() if status is _Status.SHOWN}
        candidates: set[tuple[int, int, int, tuple[tuple[int, int], ...]]] = set()
        for cell in shown:
            candidates.add((*self._cost([cell]), (cell,)))
        for r, c in product(range(self.r + 1), range(self.c + 1)):
            if r == i or c == j:
                continue
            new = tuple(sorted(cell for cell in ((i, c), (r, c), (r, j)) if cell in shown))
            if new:
                candidates.add((*self._cost(new), new))
        for *_, cells in sorted(candidates):
            for cell in cells:
                self.status[cell] = _Status.HIDDEN
            added = [arc for cell in cells for arc in self._arcs_of(cell)]
            for start, goal, reached, reaching in ends:
                if any(tail in reached and head in reaching for tail, head in added):
                    return True
                if (
                    any(tail in reached for tail, _ in added)
                    and any(head in reaching for _, head in added)
                    and goal in _reach(base, start, added)
                ):
                    return True
            for cell in cells:
                self.status[cell] = _Status.SHOWN
        return False

    def _cost(self, cells: Sequence[tuple[int, int]]) -> tuple[int, int, int]:
        """Fewest totals hidden, then the least hidden, then the fewest cells."""
        margins = hidden = 0
        for cell in cells:
            margins += cell[0] == self.r or cell[1] == self.c
            hidden += self.x[cell]
        return margins, hidden, len(cells)

    def _is_margin(self, cell: tuple[int, int]) -> bool:
        return cell[0] == self.r or cell[1] == self.c

    def _margin_last(self, cell: tuple[int, int]) -> tuple[bool, tuple[int, int]]:
        return self._is_margin(cell), cell

    def _signed(self, cell: tuple[int, int]) -> tuple[float, float, float]:
        """The cell's value and bounds as the flow sees them: a row or column total counts
        negatively (so every line of the grid sums to zero), the grand total positively."""
        value = self.x[cell]
        if self.status[cell] is _Status.PRIMARY:
            low, high = 1.0, float(self.threshold - 1)
        else:
            low, high = 0.0, _INFINITY
        if cell[1] == self.c and cell[0] < self.r and self.listed[cell[0]]:
            low = max(low, 1.0)  # a listed row's total is known not to be zero
        if self._is_margin(cell) and cell != (self.r, self.c):
            return -value, -high, -low
        return value, low, high

    def _movable(self, cell: tuple[int, int]) -> bool:
        """Whether a hidden cell can take another value: a step around a cycle through it,
        found as a path back between its row and its column that avoids the cell."""
        arcs = self._arcs(avoid=cell)
        return any(goal in _reach(arcs, start) for start, goal in self._directions(cell))

    def _directions(self, cell: tuple[int, int]) -> list[tuple[int, int]]:
        """The paths that would let a cell move: from its column back to its row where it can
        grow, from its row to its column where it can shrink."""
        value, low, high = self._signed(cell)
        row, column = cell[0], self.r + 1 + cell[1]
        found = []
        if value < high:
            found.append((column, row))
        if value > low:
            found.append((row, column))
        return found

    def _arcs_of(self, cell: tuple[int, int]) -> list[tuple[int, int]]:
        """A hidden cell in the residual graph, whose nodes are the grid's rows (0..r) and
        columns (r+1..): an arc row -> column where it can grow, column -> row where it can
        shrink."""
        value, low, high = self._signed(cell)
        row, column = cell[0], self.r + 1 + cell[1]
        arcs = []
        if value < high:
            arcs.append((row, column))
        if value > low:
            arcs.append((column, row))
        return arcs

    def _arcs(self, avoid: tuple[int, int]) -> dict[int, list[int]]:
        arcs: dict[int, list[int]] = {}
        for cell, status in self.status.items():
            if status is _Status.SHOWN or cell == avoid:
                continue
            for tail, head in self._arcs_of(cell):
                arcs.setdefault(tail, []).append(head)
        return arcs

    def published(self) -> Suppressed:
        def shown(cell: tuple[int, int]) -> Cell:
            status = self.status[cell]
            if status is _Status.PRIMARY:
                return fewer_than(self.threshold)
            if status is _Status.HIDDEN:
                return SUPPRESSED
            return self.x[cell]

        return Suppressed(
            rows=[[shown((i, j)) for j in range(self.c + 1)] for i in range(self.r)],
            column_totals=[shown((self.r, j)) for j in range(self.c)],
            total=shown((self.r, self.c)),
        )
