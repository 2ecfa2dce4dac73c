"""Queue order: who an advocate takes next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.domain.queue import sort_key
from hotline.domain.risk import Priority

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


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
