"""Queue order and the wait a texter is told to expect."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from hotline.domain.risk import Priority

DEFAULT_WAIT_MINUTES = 10


def sort_key(priority: Priority, queued_at: datetime) -> tuple[int, datetime]:
    """Most urgent first; within a priority, whoever has waited longest."""
    return priority.rank, queued_at


def estimate_wait_minutes(
    position: int, recent_claims: Sequence[datetime], now: datetime, window_minutes: int = 60
) -> int:
    """Minutes until an advocate reaches ``position``, from how fast texters were taken lately.

    With fewer than two claims in the window there is no rate to go by, and the estimate is
    ``position`` times the default wait.
    """
    recent = [t for t in recent_claims if (now - t).total_seconds() <= window_minutes * 60]
    if len(recent) < 2:
        return max(1, position * DEFAULT_WAIT_MINUTES)
    span = max((now - min(recent)).total_seconds(), 60.0)
    seconds_per_claim = span / len(recent)
    return max(1, math.ceil(position * seconds_per_claim / 60))
