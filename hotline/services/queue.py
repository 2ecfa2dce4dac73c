"""The queue as the database sees it: who is waiting, in what order, and a texter's place.

:func:`hotline.domain.queue.sort_key` is the one definition of the order; this module is that
key in SQL, for the database to sort and count by.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

from hotline.db.models import Conversation
from hotline.domain.queue import Tier, sort_key
from hotline.domain.risk import Priority
from hotline.domain.triage import State

WAITING = (State.QUEUED, State.QUEUE_CHECK_IN)

# hotline.domain.queue.sort_key, column by column, for the database to sort by.
_tier = case(
    (Conversation.emergency_at.is_not(None), Tier.EMERGENCY.value),
    (Conversation.priority == Priority.URGENT, Tier.URGENT.value),
    (Conversation.priority == Priority.HIGH, Tier.HIGH.value),
    else_=Tier.NORMAL.value,
)
_score = case((_tier == Tier.URGENT.value, -Conversation.risk_score), else_=0)
_QUEUE_KEY: tuple[ColumnElement[Any], ...] = (
    _tier,
    _score,
    Conversation.__table__.c.queued_at,
    Conversation.__table__.c.id,
)


def queue_order() -> tuple[object, ...]:
    """ORDER BY for the queue: :func:`hotline.domain.queue.sort_key` in SQL."""
    return _QUEUE_KEY


def queue_key(conversation: Conversation) -> tuple[int, int, datetime, int]:
    assert conversation.queued_at is not None
    return sort_key(
        conversation.priority,
        conversation.queued_at,
        emergency=conversation.emergency_at is not None,
        risk_score=conversation.risk_score,
        id=conversation.id,
    )


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 for the next texter an advocate will take: how many waiting texters sort before."""
    ahead = session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.state.in_(WAITING),
            tuple_(*_QUEUE_KEY)
            < tuple_(
                *(
                    literal(v, c.type)
                    for v, c in zip(queue_key(conversation), _QUEUE_KEY, strict=True)
                )
            ),
        )
    )
    return int(ahead or 0) + 1
