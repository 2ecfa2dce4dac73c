"""Finding work that was stored but never handed over, or handed over and lost.

Nothing here changes a row: the sweep only names ids for the ordinary, idempotent tasks, so two
sweeps at once (two beat schedulers by mistake) hand over the same ids and cause no double
effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hotline.db.models import Message
from hotline.domain.delivery import DeliveryStatus, Direction


@dataclass(frozen=True)
class Stranded:
    inbound: list[int]  # one text per texter: processing it handles all their pending texts
    outbound: list[int]


def find_stranded(
    session: Session,
    now: datetime,
    *,
    grace_seconds: float,
    lease_seconds: float,
    limit: int = 500,
) -> Stranded:
    """Stored work older than the grace period that no worker has finished."""
    cutoff = now - timedelta(seconds=grace_seconds)
    inbound = session.scalars(
        select(func.min(Message.id))
        .where(
            Message.direction == Direction.INBOUND,
            Message.processed_at.is_(None),
            Message.created_at <= cutoff,
        )
        .group_by(Message.texter_id)
        .order_by(func.min(Message.id))
        .limit(limit)
    ).all()
    lease_cutoff = now - timedelta(seconds=lease_seconds)
    outbound = session.scalars(
        select(Message.id)
        .where(
            or_(
                (Message.status == DeliveryStatus.PENDING)
                & (Message.created_at <= cutoff)
                & (Message.next_attempt_at.is_(None) | (Message.next_attempt_at <= now)),
                (Message.status == DeliveryStatus.SUBMITTING)
                & (Message.submitted_at <= lease_cutoff),
            )
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    return Stranded(inbound=[int(i) for i in inbound], outbound=[int(i) for i in outbound])
