"""The wait a texter is told: only from advocates on shift and recent handle times, never
invented; few unprompted texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.wait import (
    Budget,
    Staffing,
    budget_now,
    estimate_minutes,
    handle_minutes,
    is_next,
    spend,
    within_budget,
    worth_telling,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TYPICAL = (20.0, 30.0, 40.0)  # median 30 minutes


def staffing(
    on_shift: int = 2, slots: int = 6, free: int = 0, handles: tuple[float, ...] = TYPICAL
) -> Staffing:
    return Staffing(open=True, on_shift=on_shift, slots=slots, free=free, handle_minutes=handles)


@pytest.mark.parametrize(
    ("position", "facts", "minutes"),
    [
        (1, staffing(free=1), 5),  # room now: taken as soon as an advocate looks
        (2, staffing(free=2), 5),
        (1, staffing(free=0), 5),  # 1 x 30 / 6 slots = 5
        (3, staffing(free=0), 15),
        (4, staffing(free=1), 15),  # three wait for a slot
        (10, staffing(on_shift=1, slots=3, free=0), 100),
        (60, staffing(on_shift=1, slots=3, free=0), None),  # 600 min: too far to say
        (2, staffing(free=0, handles=(20.0, 30.0)), None),  # too few conversations to go by
        (1, Staffing(open=False, on_shift=2, slots=6, free=6, handle_minutes=TYPICAL), None),
        (1, staffing(on_shift=0, slots=0, free=0), None),  # nobody on shift
    ],
)
def test_estimates(position: int, facts: Staffing, minutes: int | None) -> None:
    assert estimate_minutes(position, facts) == minutes


@given(st.integers(1, 200), st.integers(1, 10), st.integers(0, 30))
def test_estimates_never_shrink_further_back_in_line(
    position: int, on_shift: int, free: int
) -> None:
    facts = staffing(on_shift=on_shift, slots=on_shift * 3, free=min(free, on_shift * 3))
    here, behind = estimate_minutes(position, facts), estimate_minutes(position + 1, facts)
    assert here is not None or behind is None
    if here is not None and behind is not None:
        assert 5 <= here <= behind and here % 5 == 0


def test_next_only_when_first_and_someone_has_room() -> None:
    assert is_next(1, staffing(free=1))
    assert not is_next(2, staffing(free=3))
    assert not is_next(1, staffing(free=0))
    assert not is_next(1, Staffing(open=False, on_shift=1, slots=3, free=3))
    assert not staffing(on_shift=0).staffed


@pytest.mark.parametrize(
    ("told", "now", "worth"),
    [
        (None, 5, True),
        (5, 5, False),
        (5, 6, False),  # behind someone urgent: not worth a buzz
        (5, 4, False),
        (5, 3, True),
        (2, 1, True),  # the front of the line
        (20, 16, False),
        (20, 15, True),
    ],
)
def test_a_place_in_line_is_news_only_when_it_moved_meaningfully(
    told: int | None, now: int, worth: bool
) -> None:
    assert worth_telling(told, now) is worth


def test_the_budget_is_per_hour() -> None:
    empty = Budget(0, None)
    assert within_budget(empty, NOW, 2)
    one = spend(empty, NOW)
    two = spend(one, NOW + timedelta(minutes=10))
    assert two == Budget(2, NOW)
    assert not within_budget(two, NOW + timedelta(minutes=59), 2)
    assert within_budget(two, NOW + timedelta(minutes=60), 2)
    assert budget_now(two, NOW + timedelta(minutes=61)) == Budget(0, NOW + timedelta(minutes=61))
    assert not within_budget(empty, NOW, 0)


def test_handle_minutes() -> None:
    spans = [(NOW, NOW + timedelta(minutes=12)), (NOW, NOW), (NOW, NOW - timedelta(minutes=1))]
    assert handle_minutes(spans) == (12.0,)
