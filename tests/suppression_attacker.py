"""An attacker on a published table, written apart from :mod:`hotline.domain.suppression` and
sharing none of its reasoning: it reads only what is published, and searches the whole
numbers the hidden cells can take (every line adds up; a "fewer than N" cell is 1 to N-1, a
"suppressed" one 0 or more; a row that is listed at all, other than "unknown", has a total of
1 or more).

Used by the suppression tests: every hidden cell must be able to take at least two values, and
the true table must be one of the tables the attacker finds possible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Grid = dict[tuple[int, int], int | str]
Domain = dict[tuple[int, int], range]
Line = tuple[list[tuple[int, int]], tuple[int, int]]

FEWER = re.compile(r"^fewer than (\d+)$")


def grid_of(
    rows: Sequence[Sequence[int | str]], column_totals: Sequence[int | str], total: int | str
) -> Grid:
    """The published table as one grid: row i's counts then its total; the last row holds the
    column totals then the grand total."""
    grid: Grid = {}
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            grid[i, j] = cell
    for j, cell in enumerate([*column_totals, total]):
        grid[len(rows), j] = cell
    return grid


def lines_of(height: int, width: int) -> list[Line]:
    """Every row and column of a grid: (the cells that add up, the cell that is their sum)."""
    lines: list[Line] = []
    for i in range(height):
        lines.append(([(i, j) for j in range(width - 1)], (i, width - 1)))
    for j in range(width):
        lines.append(([(i, j) for i in range(height - 1)], (height - 1, j)))
    return lines


def domains(grid: Grid, cap: int, listed: Sequence[bool]) -> Domain:
    """What each hidden cell may be, from its marker and whether its row is listed;
    "suppressed" cells up to ``cap`` (a bounded search: whatever it finds possible is
    possible)."""
    found: Domain = {}
    width = 1 + max(j for _, j in grid)
    for cell, shown in grid.items():
        if isinstance(shown, int):
            continue
        fewer = FEWER.match(shown)
        if fewer:
            found[cell] = range(1, int(fewer.group(1)))
        elif shown == "suppressed":
            found[cell] = range(0, cap + 1)
        else:
            raise AssertionError(f"unknown marker {shown!r}")
        i, j = cell
        if j == width - 1 and i < len(listed) and listed[i]:
            found[cell] = range(max(1, found[cell].start), found[cell].stop)
    return found


def solve(grid: Grid, domain: Domain, lines: list[Line]) -> dict[tuple[int, int], int] | None:
    """One assignment of the hidden cells within ``domain`` under which every line adds up, or
    None. Depth first, fixing a line's last unknown cell from its sum, pruning on bounds."""
    values: dict[tuple[int, int], int] = {
        cell: shown for cell, shown in grid.items() if isinstance(shown, int)
    }

    def low(cell: tuple[int, int]) -> int:
        return values[cell] if cell in values else domain[cell].start

    def high(cell: tuple[int, int]) -> int:
        return values[cell] if cell in values else domain[cell].stop - 1

    def consistent() -> bool:
        for parts, total in lines:
            least = sum(low(cell) for cell in parts)
            most = sum(high(cell) for cell in parts)
            if least > high(total) or most < low(total):
                return False
        return True

    def search() -> bool:
        if not consistent():
            return False
        # A line with one unknown left decides it.
        for parts, total in lines:
            unknown = [cell for cell in (*parts, total) if cell not in values]
            if len(unknown) == 1:
                (cell,) = unknown
                known = sum(values[part] for part in parts if part in values)
                value = known if cell == total else values[total] - known
                if value not in domain[cell]:
                    return False
                values[cell] = value
                if search():
                    return True
                del values[cell]
                return False
        open_cells = [cell for cell in domain if cell not in values]
        if not open_cells:
            return all(sum(values[p] for p in parts) == values[total] for parts, total in lines)
        cell = min(open_cells, key=lambda c: (len(domain[c]), c))
        for value in domain[cell]:
            values[cell] = value
            if search():
                return True
            del values[cell]
        return False

    if search():
        return {cell: values[cell] for cell in domain}
    return None


def pinned_cells(
    grid: Grid, truth: dict[tuple[int, int], int], cap: int, listed: Sequence[bool]
) -> list[tuple[int, int]]:
    """The hidden cells that can take only their true value: for each, a search for a possible
    table where it is anything else."""
    height = 1 + max(i for i, _ in grid)
    width = 1 + max(j for _, j in grid)
    lines = lines_of(height, width)
    domain = domains(grid, cap, listed)
    pinned = []
    for cell in domain:
        others = dict(domain)
        true = truth[cell]
        found = None
        # Two searches over contiguous ranges: below the true value, above it.
        for part in (range(domain[cell].start, true), range(true + 1, domain[cell].stop)):
            if len(part) and found is None:
                others[cell] = part
                found = solve(grid, others, lines)
        if found is None:
            pinned.append(cell)
    return pinned


def consistent_with(
    grid: Grid, truth: dict[tuple[int, int], int], cap: int, listed: Sequence[bool]
) -> bool:
    """Whether the true table is one the attacker finds possible."""
    domain = domains(grid, cap, listed)
    for cell, shown in grid.items():
        if isinstance(shown, int) and truth[cell] != shown:
            return False
        if cell in domain and truth[cell] not in domain[cell]:
            return False
    height = 1 + max(i for i, _ in grid)
    width = 1 + max(j for _, j in grid)
    return all(
        sum(truth[p] for p in parts) == truth[total] for parts, total in lines_of(height, width)
    )
