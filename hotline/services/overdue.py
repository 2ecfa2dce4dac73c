"""Texters at risk of being left alone: an urgent texter waiting in the queue too long, and a
texter whose texts an advocate holding them has not answered.

Two readings, one rule: :func:`unanswered` says, for conversations with an advocate, whether
the advocate has replied at all and since when the texter's texts wait for an answer; the board
shows it, and :func:`raise_overdue_alerts` (run by the timer job every tick) turns what is past
the supervisors' thresholds into alerts.

An alert is raised once per *episode*, not once per tick: an urgent texter's wait episode
starts when they were queued (or last handed back to the queue), an unanswered episode at the
first text the advocate has not answered (or the claim, if later). A new episode, after a
reply or a return to the queue, can alert again. Each conversation is decided under its
texter's lock, so two beats at once raise one alert.

Alerts carry ids and figures only: never a text, never a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, Event, EventDetail, Message
from hotline.db.session import lock_texter
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.queue import WAITING

URGENT_WAITING = "urgent_waiting"
UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Thresholds:
    """When a wait becomes an alert (run-time settings ``urgent_wait_alert_minutes`` and
    ``unanswered_alert_minutes``)."""

    urgent_wait: timedelta
    unanswered: timedelta

    @classmethod
    def minutes(cls, urgent_wait: float, unanswered: float) -> Thresholds:
        return cls(timedelta(minutes=urgent_wait), timedelta(minutes=unanswered))


@dataclass(frozen=True)
class Unanswered:
    """Where a conversation with an advocate stands: ``no_reply_yet`` while no advocate has
    ever replied; ``since`` the first of the texter's texts after the last advocate reply (but
    never before the current advocate took them: they cannot answer before), None when every
    text is answered; ``texts`` how many texts wait."""

    no_reply_yet: bool
    since: datetime | None
    texts: int

    def seconds(self, now: datetime) -> int:
        return 0 if self.since is None else max(0, int((now - self.since).total_seconds()))


def unanswered(session: Session, conversations: list[Conversation]) -> dict[int, Unanswered]:
    """:class:`Unanswered` for each conversation, by id, in one query whatever their number."""
    if not conversations:
        return {}
    ids = [c.id for c in conversations]
    last_reply = (
        select(Message.conversation_id, func.max(Message.id).label("id"))
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == Direction.OUTBOUND,
            Message.author_id.is_not(None),  # a person's reply, not an automatic text
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    waiting = {
        conversation_id: (int(count), first)
        for conversation_id, count, first in session.execute(
            select(Message.conversation_id, func.count(), func.min(Message.created_at))
            .outerjoin(last_reply, last_reply.c.conversation_id == Message.conversation_id)
            .where(
                Message.conversation_id.in_(ids),
                Message.direction == Direction.INBOUND,
                Message.id > func.coalesce(last_reply.c.id, 0),
            )
            .group_by(Message.conversation_id)
        )
    }
    found: dict[int, Unanswered] = {}
    for conversation in conversations:
        texts, since = waiting.get(conversation.id, (0, None))
        if since is not None and conversation.claimed_at is not None:
            since = max(since, conversation.claimed_at)
        found[conversation.id] = Unanswered(
            no_reply_yet=conversation.first_reply_at is None, since=since, texts=texts
        )
    return found


def urgent_waits(session: Session, now: datetime) -> dict[int, datetime]:
    """When each urgent texter in the queue began this wait, by conversation id: queued, or
    handed back to the queue since (a texter handed back keeps their place in line, so
    ``queued_at`` alone would say the earlier wait)."""
    waiting = dict(
        session.execute(
            select(
                Conversation.id, func.coalesce(Conversation.queued_at, Conversation.opened_at)
            ).where(
                Conversation.state.in_(WAITING),
                Conversation.advocate_id.is_(None),
                Conversation.priority == Priority.URGENT,
            )
        ).all()
    )
    if not waiting:
        return {}
    returned = session.execute(
        select(Event.conversation_id, func.max(Event.created_at))
        .where(Event.conversation_id.in_(waiting), Event.kind == "returned_to_queue")
        .group_by(Event.conversation_id)
    ).all()
    for conversation_id, at in returned:
        if conversation_id is not None:
            waiting[conversation_id] = max(waiting[conversation_id], at)
    return waiting


def raise_overdue_alerts(session: Session, thresholds: Thresholds, now: datetime) -> int:
    """Record an ``alert`` event (``urgent_waiting`` or ``unanswered``) for each texter past a
    threshold whose episode has none yet; how many were raised.

    Expects to run in its own transaction: each candidate's texter is locked before the check
    for an earlier alert, so concurrent runs raise each alert once.
    """
    raised = 0
    for conversation_id, started in urgent_waits(session, now).items():
        if now - started < thresholds.urgent_wait:
            continue
        if _alerted_since(session, conversation_id, URGENT_WAITING, started):
            continue  # the usual case, every tick after the first: no lock needed to know
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        lock_texter(session, conversation.texter_id)
        session.refresh(conversation)
        if conversation.advocate_id is not None or conversation.state not in WAITING:
            continue  # claimed meanwhile
        if _alerted_since(session, conversation.id, URGENT_WAITING, started):
            continue
        events.record(
            session, "alert", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, actor_id=None, alert=URGENT_WAITING,
            waited_seconds=int((now - started).total_seconds()),
        )  # fmt: skip
        raised += 1

    held = session.scalars(
        select(Conversation).where(
            Conversation.state == State.WITH_ADVOCATE, Conversation.advocate_id.is_not(None)
        )
    ).all()
    standing = unanswered(session, list(held))
    for conversation in held:
        found = standing[conversation.id]
        if found.since is None or now - found.since < thresholds.unanswered:
            continue
        if _alerted_since(session, conversation.id, UNANSWERED, found.since):
            continue
        lock_texter(session, conversation.texter_id)
        session.refresh(conversation)
        if conversation.state is not State.WITH_ADVOCATE or conversation.advocate_id is None:
            continue  # closed or handed back meanwhile
        found = unanswered(session, [conversation])[conversation.id]  # a reply may have come
        if found.since is None or now - found.since < thresholds.unanswered:
            continue
        if _alerted_since(session, conversation.id, UNANSWERED, found.since):
            continue
        events.record(
            session, "alert", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, actor_id=None, alert=UNANSWERED,
            advocate_id=conversation.advocate_id, texts=found.texts,
            no_reply_yet=found.no_reply_yet, unanswered_seconds=found.seconds(now),
        )  # fmt: skip
        raised += 1
    if raised:
        after_commit.queue_changed(session)  # the supervisors' boards list the alerts
    return raised


def _alerted_since(session: Session, conversation_id: int, kind: str, since: datetime) -> bool:
    details = session.scalars(
        select(EventDetail.detail)
        .join(Event, Event.id == EventDetail.event_id)
        .where(
            Event.kind == "alert",
            Event.conversation_id == conversation_id,
            # Strictly after: an alert is raised a threshold after its episode began, so one
            # at the very instant a new episode began belongs to the episode before.
            Event.created_at > since,
        )
    ).all()
    return any((detail or {}).get("alert") == kind for detail in details)
