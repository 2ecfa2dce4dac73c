"""Queue order: who an advocate takes next."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from hotline.domain.risk import Priority


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

    The SQL the console and claims sort by (``hotline.services.queue.queue_order``) computes
    this same key, and a property test holds the two together.
    """
    band = tier(priority, emergency)
    score = -risk_score if band is Tier.URGENT else 0
    return band.value, score, queued_at, id
