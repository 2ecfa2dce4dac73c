"""Conversation timers: inactivity, wait updates, check-ins and surveys, fired when due.

Each conversation has at most one timer (``timer``, ``timer_due_at``), set by the triage
machine's TIMER action; :func:`fire_timer` feeds the matching event back to the machine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation
from hotline.db.session import lock_texter
from hotline.domain.triage import Event as TriageEvent
from hotline.domain.triage import On
from hotline.services import transfers, waiting
from hotline.services.triage import Triage

TIMER_EVENTS = {
    "triage": On.INACTIVE,
    "wait_update": On.WAIT_TIMER,
    "check_in": On.INACTIVE,
    "survey": On.INACTIVE,
    "survey_due": On.INACTIVE,  # the reopen window after closing is over
}


def fire_timer(session: Session, triage: Triage, conversation_id: int, now: datetime) -> None:
    """Fire the conversation's timer if it is due; nothing when it was fired or reset already.

    Takes the texter's lock, so two schedulers firing the same timer cause one effect.
    """
    texter_id = session.scalar(
        select(Conversation.texter_id).where(Conversation.id == conversation_id)
    )
    if texter_id is None:
        return
    lock_texter(session, texter_id)
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.refresh(conversation)
    name, due = conversation.timer, conversation.timer_due_at
    if name is None or due is None or due > now:
        return
    conversation.timer, conversation.timer_due_at = None, None  # the machine may set the next
    if name == transfers.TIMER:  # a warm transfer's offer: not the triage machine's
        transfers.do_lapse(session, conversation, now)
        return
    quiet = (now - (conversation.last_texter_at or conversation.opened_at)).total_seconds()
    actions = triage.advance(
        session, conversation, TriageEvent(TIMER_EVENTS[name], quiet_seconds=quiet), now
    )
    waiting.count_unprompted(conversation, actions, now)  # the texter did not ask for these


def due_timers(session: Session, now: datetime, limit: int = 200) -> list[int]:
    return [
        int(i)
        for i in session.scalars(
            select(Conversation.id)
            .where(Conversation.timer_due_at <= now)
            .order_by(Conversation.timer_due_at)
            .limit(limit)
        )
    ]
