"""Small-cell suppression: nothing small is shown, and an attacker who knows every published
number, that every line adds up and what the markers say cannot work out any hidden count
(tests/suppression_attacker.py, written apart from the algorithm)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.suppression import SUPPRESSED, Suppressed, fewer_than, suppress
from tests.suppression_attacker import consistent_with, grid_of, pinned_cells


def truth_of(counts: list[list[int]]) -> dict[tuple[int, int], int]:
    """The true grid: counts, row totals, column totals, grand total."""
    height, width = len(counts), len(counts[0]) if counts else 0
    truth: dict[tuple[int, int], int] = {}
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            truth[i, j] = count
        truth[i, width] = sum(row)
    for j in range(width):
        truth[height, j] = sum(row[j] for row in counts)
    truth[height, width] = sum(map(sum, counts))
    return truth


def attack(
    counts: list[list[int]],
    shown: Suppressed,
    threshold: int,
    listed: list[bool] | None = None,
) -> None:
    """Everything this file asserts of a published table; ``listed`` as given to
    :func:`suppress` (every row by default)."""
    listed = [True] * len(counts) if listed is None else listed
    grid = grid_of(shown.rows, shown.column_totals, shown.total)
    truth = truth_of(counts)
    assert set(grid) == set(truth)
    for cell, value in truth.items():
        if 0 < value < threshold:
            assert grid[cell] in (fewer_than(threshold), SUPPRESSED), (cell, grid[cell])
        if isinstance(grid[cell], int):
            assert grid[cell] == value
    cap = truth[max(truth)] + threshold
    assert consistent_with(grid, truth, cap, listed)
    assert pinned_cells(grid, truth, cap, listed) == []


# Counts are mostly small, where suppression has work to do.
count = st.one_of(st.integers(0, 4), st.integers(0, 12))


@st.composite
def tables(draw: st.DrawFn) -> list[list[int]]:
    height = draw(st.integers(1, 4))
    width = draw(st.integers(1, 4))
    return [[draw(count) for _ in range(width)] for _ in range(height)]


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=tables(), threshold=st.sampled_from([2, 3, 5, 5, 5, 6]))
def test_no_hidden_count_can_be_worked_out(counts: list[list[int]], threshold: int) -> None:
    """As a report lists them: every row with a count, and the last ("unknown") always,
    which a reader cannot tell is zero or not; rows of zeros otherwise are not published."""
    counts = [row for row in counts[:-1] if sum(row)] + counts[-1:]
    listed = [True] * (len(counts) - 1) + [False]
    attack(counts, suppress(counts, threshold, len(counts[0]), listed), threshold, listed)


def test_a_table_with_nothing_small_is_unchanged() -> None:
    counts = [[5, 0, 12], [7, 9, 0]]
    shown = suppress(counts, 5, 3)
    assert shown.rows == [[5, 0, 12, 17], [7, 9, 0, 16]]
    assert shown.column_totals == [12, 9, 12]
    assert shown.total == 33


def test_a_small_count_alone_in_its_row_and_column_gets_company() -> None:
    counts = [[3, 20, 30], [40, 50, 60], [70, 80, 90]]
    shown = suppress(counts, 5, 3)
    assert shown.rows[0][0] == "fewer than 5"
    hidden = [
        (i, j) for i, row in enumerate(shown.rows) for j, c in enumerate(row) if isinstance(c, str)
    ]
    # A rectangle: the 3, one more in its row, one in its column, and the fourth corner; the
    # smallest counts, and no total.
    assert hidden == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert shown.column_totals == [113, 150, 180] and shown.total == 443
    attack(counts, shown, 5)


def test_one_column_with_a_grand_total_hides_two_cells() -> None:
    """A year's table: each row's total is its one count; one small row needs another."""
    counts = [[2], [30], [40]]
    shown = suppress(counts, 5, 1)
    assert shown.rows[0] == ["fewer than 5", "fewer than 5"]
    assert shown.rows[1] == [SUPPRESSED, SUPPRESSED]
    assert shown.rows[2] == [40, 40]
    assert shown.total == 72
    attack(counts, shown, 5)


def test_a_small_total_is_hidden_too() -> None:
    counts = [[0, 2, 1], [0, 0, 0]]
    shown = suppress(counts, 5, 3, [True, False])
    assert shown.rows[0][3] in ("fewer than 5", SUPPRESSED)
    assert shown.total in ("fewer than 5", SUPPRESSED)
    attack(counts, shown, 5, [True, False])


def test_the_threshold_decides_what_is_small() -> None:
    counts = [[1, 5, 30], [5, 9, 40], [30, 40, 2]]
    at_two = suppress(counts, 2, 3)
    # Only the 1 is small; "fewer than 2" would say 1, so it reads "suppressed". The 2 stays.
    assert at_two.rows[0][0] == SUPPRESSED
    assert at_two.rows[2][2] == 2
    assert "fewer than 2" not in [c for row in at_two.rows for c in row]
    attack(counts, at_two, 2)
    at_three = suppress(counts, 3, 3)
    assert at_three.rows[0][0] == at_three.rows[2][2] == "fewer than 3"
    attack(counts, at_three, 3)
    at_five = suppress(counts, 5, 3)
    assert at_five.rows[0][0] == at_five.rows[2][2] == "fewer than 5"
    attack(counts, at_five, 5)


def test_a_listed_row_is_known_not_to_be_zero() -> None:
    """Under a threshold of 2, a 1 hidden with the 0 of the unknown row beside it would be
    found again by a reader who knows a listed row is not zero: it needs another cell."""
    counts = [[2], [1], [0]]
    shown = suppress(counts, 2, 1, [True, True, False])
    assert shown.rows[1] == [SUPPRESSED, SUPPRESSED]
    assert shown.rows[0] == [SUPPRESSED, SUPPRESSED]
    attack(counts, shown, 2, [True, True, False])


def test_nothing_to_count() -> None:
    shown = suppress([], 5, 4)
    assert shown == Suppressed(rows=[], column_totals=[0, 0, 0, 0], total=0)


@pytest.mark.parametrize(
    ("counts", "threshold", "columns", "message"),
    [
        ([[1, 2]], 1, 2, "the threshold must be at least 2"),
        ([[1, -2]], 5, 2, "counts cannot be negative"),
        ([[1, 2], [3]], 5, 2, "every row must have a count per column"),
        ([[1, 2], [0, 0]], 5, 2, "a listed row cannot have a zero total"),
    ],
)
def test_bad_tables_are_refused(
    counts: list[list[int]], threshold: int, columns: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(counts, threshold, columns)


def test_a_wide_table_is_quick() -> None:
    """A year by month of the longest list (25 types and unknown), mostly small counts."""
    counts = [[(i * 7 + j * 3) % 6 for j in range(12)] for i in range(26)]
    started = time.perf_counter()
    shown = suppress(counts, 5, 12)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    assert all(
        not isinstance(value, int) or not 0 < value < 5 for row in shown.rows for value in row
    )
