"""Queue order and the wait a texter is told to expect."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum

from hotline.domain.risk import Priority

DEFAULT_WAIT_MINUTES = 10


class Tier(IntEnum):
    """The bands of the queue, first served first."""

    EMERGENCY = 0  # emergency words or "yes, in danger now": whoever has waited longest first
    URGENT = 1  # urgent by risk score: the highest score first
    HIGH = 2
    NORMAL = 3


def tier(priority: Priority, emergency: bool) -> Tier:
    if emergency:
        return Tier.EMERGENCY
    return {Priority.URGENT: Tier.URGENT, Priority.HIGH: Tier.HIGH}.get(priority, Tier.NORMAL)


def sort_key(
    priority: Priority,
    queued_at: datetime,
    *,
    emergency: bool = False,
    risk_score: int = 0,
    id: int = 0,
) -> tuple[int, int, datetime, int]:
    """The queue's order, defined once: texters in danger now (the longest waiting first), then
    the other urgent ones by risk score, then the rest by priority and wait; the id breaks ties.

    The SQL the console and claims sort by (``hotline.services.triage.queue_order``) computes
    this same key, and a property test holds the two together.
    """
    band = tier(priority, emergency)
    score = -risk_score if band is Tier.URGENT else 0
    return band.value, score, queued_at, id


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
