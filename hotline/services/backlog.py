"""How much work is waiting, counted for the operator's monitoring: counts only, no rows.

Two numbers an operator alerts on: texts and replies stored but not handed over (what the next
sweep will find: a broker or worker outage) and texters waiting for an advocate, by the band
of the queue they wait in (:class:`hotline.domain.queue.Tier`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation
from hotline.domain.queue import Tier
from hotline.services.queue import WAITING, queue_order
from hotline.services.sweep import find_stranded

# Counting stops here: past it the number only says "a great deal", and the query stays cheap.
BACKLOG_CAP = 10_000


@dataclass(frozen=True)
class Backlog:
    stranded_texts: int  # texters with a text no worker processed within the grace period
    stranded_replies: int  # replies no worker has sent past the grace period or their lease
    waiting: dict[Tier, int]  # texters in the queue, by band; every band present


def backlog(
    session: Session, now: datetime, *, grace_seconds: float, lease_seconds: float
) -> Backlog:
    """The sweep's backlog and the queue's length by band, as of ``now``."""
    stranded = find_stranded(
        session, now, grace_seconds=grace_seconds, lease_seconds=lease_seconds, limit=BACKLOG_CAP
    )
    tier = cast(ColumnElement[int], queue_order()[0])  # the band, in SQL
    rows = session.execute(
        select(tier, func.count())
        .select_from(Conversation)
        .where(Conversation.state.in_(WAITING))
        .group_by(tier)
    ).all()
    waiting = dict.fromkeys(Tier, 0)
    for band, count in rows:
        waiting[Tier(band)] = int(count)
    return Backlog(
        stranded_texts=len(stranded.inbound),
        stranded_replies=len(stranded.outbound),
        waiting=waiting,
    )
