"""Queue order and the wait a texter is told to expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.domain.queue import DEFAULT_WAIT_MINUTES, estimate_wait_minutes, sort_key
from hotline.domain.risk import Priority

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_without_claims_the_default_wait_per_place() -> None:
    assert DEFAULT_WAIT_MINUTES == 10
    assert estimate_wait_minutes(1, [], NOW) == 10
    assert estimate_wait_minutes(3, [], NOW) == 30


def test_one_claim_is_no_rate() -> None:
    assert estimate_wait_minutes(2, minutes_ago(1), NOW) == 20


def test_a_steady_rate_gives_a_proportional_wait() -> None:
    every_five_minutes = minutes_ago(*range(5, 61, 5))  # 12 claims over the last hour
    assert estimate_wait_minutes(1, every_five_minutes, NOW) == 5
    assert estimate_wait_minutes(3, every_five_minutes, NOW) == 15
    assert estimate_wait_minutes(10, every_five_minutes, NOW) == 50


def test_a_partial_minute_rounds_up() -> None:
    # Two claims over 30 minutes: 15 minutes a claim.
    assert estimate_wait_minutes(1, minutes_ago(10, 30), NOW) == 15
    # Three over 10 minutes: 3 min 20 s a claim, so 4 minutes for the first in line.
    assert estimate_wait_minutes(1, minutes_ago(1, 5, 10), NOW) == 4


def test_claims_older_than_the_window_are_ignored() -> None:
    recent = minutes_ago(10, 20)
    assert estimate_wait_minutes(1, [*recent, *minutes_ago(61, 90, 600)], NOW) == 10
    # Only one claim left in the window: back to the default.
    assert estimate_wait_minutes(2, minutes_ago(5, 61, 120), NOW) == 20
    # A shorter window.
    assert estimate_wait_minutes(2, recent, NOW, window_minutes=15) == 20


def test_the_wait_is_never_below_one_minute() -> None:
    burst = [NOW] * 50
    assert estimate_wait_minutes(1, burst, NOW) == 1
    assert estimate_wait_minutes(0, [], NOW) == 1
    assert estimate_wait_minutes(0, minutes_ago(1, 2), NOW) == 1


def test_sort_key_orders_by_priority_then_waiting_longest() -> None:
    waiting = [
        ("normal early", Priority.NORMAL, NOW - timedelta(minutes=30)),
        ("urgent late", Priority.URGENT, NOW),
        ("high late", Priority.HIGH, NOW),
        ("normal late", Priority.NORMAL, NOW),
        ("urgent early", Priority.URGENT, NOW - timedelta(minutes=5)),
        ("high early", Priority.HIGH, NOW - timedelta(minutes=1)),
    ]
    ordered = sorted(waiting, key=lambda t: sort_key(t[1], t[2]))
    assert [name for name, _, _ in ordered] == [
        "urgent early",
        "urgent late",
        "high early",
        "high late",
        "normal early",
        "normal late",
    ]


def test_sort_key() -> None:
    assert sort_key(Priority.HIGH, NOW) == (2, 0, NOW, 0)


def test_in_danger_now_comes_first_then_urgent_by_score_then_the_rest() -> None:
    early, late = NOW - timedelta(minutes=20), NOW
    waiting = [
        ("urgent score 90 early", dict(priority=Priority.URGENT, queued_at=early, risk_score=90)),
        ("high early", dict(priority=Priority.HIGH, queued_at=early - timedelta(hours=1))),
        ("emergency late", dict(priority=Priority.URGENT, queued_at=late, emergency=True)),
        ("urgent score 120 late", dict(priority=Priority.URGENT, queued_at=late, risk_score=120)),
        ("emergency early", dict(priority=Priority.URGENT, queued_at=early, emergency=True)),
        ("normal earliest", dict(priority=Priority.NORMAL, queued_at=early - timedelta(days=1))),
    ]
    ordered = sorted(waiting, key=lambda t: sort_key(**t[1]))  # type: ignore[arg-type]
    assert [name for name, _ in ordered] == [
        "emergency early",  # a gun pointed at them does not wait behind a score
        "emergency late",
        "urgent score 120 late",
        "urgent score 90 early",
        "high early",
        "normal earliest",
    ]
