"""An advocate taking a texter from the queue, handing them back, and closing.

Exactly one advocate wins a conversation. Every path takes the texter's row lock first (the
same lock inbound processing takes, so a claim never interleaves with a text being handled),
then moves the conversation with a conditional update that only succeeds while nobody holds
it. ``take_next`` skips texters whose lock another advocate holds (``SKIP LOCKED``) on
PostgreSQL; on SQLite every write transaction is serialised already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, ConversationHandler, ConversationStatus, Texter
from hotline.db.session import lock_conversation, lock_texter
from hotline.domain.triage import Event as TriageEvent
from hotline.domain.triage import On, State
from hotline.services import events
from hotline.services.errors import Conflict
from hotline.services.queue import WAITING, queue_order
from hotline.services.triage import Triage


class ClaimError(Conflict):
    """The claim or close cannot happen (409): the conversation is not waiting, somebody else
    won it, it is not yours. The message says why and names no texter data."""


def do_claim(
    session: Session, triage: Triage, conversation_id: int, advocate_id: int, now: datetime
) -> None:
    """Give a waiting conversation to ``advocate_id``; :class:`ClaimError` if it is not waiting
    or somebody else won it."""
    texter_id = session.scalar(
        select(Conversation.texter_id).where(Conversation.id == conversation_id)
    )
    if texter_id is None:
        raise ClaimError("no such conversation")
    lock_texter(session, texter_id)
    _take(session, triage, conversation_id, advocate_id, now)


def do_take_next(session: Session, triage: Triage, advocate_id: int, now: datetime) -> int | None:
    """Give the most urgent, longest-waiting texter to ``advocate_id``: their conversation's
    id, or None if nobody waits."""
    while True:
        candidate = session.execute(
            select(Conversation.id, Conversation.texter_id)
            .join(Texter, Texter.id == Conversation.texter_id)
            .where(Conversation.state.in_(WAITING), Conversation.advocate_id.is_(None))
            .order_by(*queue_order())  # type: ignore[arg-type]
            .limit(1)
            .with_for_update(of=Texter, skip_locked=True, key_share=True)  # see lock_texter
        ).first()
        if candidate is None:
            return None
        try:
            _take(session, triage, candidate.id, advocate_id, now)
            return int(candidate.id)
        except ClaimError:
            continue  # taken between our look and our lock (SQLite): try the next one


def _take(
    session: Session, triage: Triage, conversation_id: int, advocate_id: int, now: datetime
) -> None:
    won = session.execute(  # type: ignore[attr-defined]
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.advocate_id.is_(None),
            Conversation.state.in_(WAITING),
        )
        .values(advocate_id=advocate_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise ClaimError("this texter is no longer waiting: another advocate has them")
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.refresh(conversation)
    hold(session, conversation, advocate_id, now)
    triage.advance(session, conversation, TriageEvent(On.CLAIMED), now)
    after_commit.queue_changed(session)  # also when the machine had nothing to say
    events.record(
        session,
        "claimed",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=advocate_id,
    )


def hold(session: Session, conversation: Conversation, staff_id: int, now: datetime) -> None:
    """Make ``staff_id`` the one holding ``conversation`` from ``now``: the one place every
    change of holder goes through (a claim, a transfer, a reassignment, a take-over, a
    sign-out's hand-over), so that ``first_claimed_at`` and the handlers the metrics credit
    (:class:`ConversationHandler`) are never missed.

    The caller holds the texter's lock and has checked the change is allowed; the events and
    the consoles told are the caller's.
    """
    conversation.advocate_id = staff_id
    conversation.claimed_at = now
    if conversation.first_claimed_at is None:
        conversation.first_claimed_at = now
    if session.get(ConversationHandler, (conversation.id, staff_id)) is None:
        session.add(
            ConversationHandler(conversation_id=conversation.id, staff_id=staff_id, first_at=now)
        )


def _locked(session: Session, conversation_id: int) -> Conversation:
    """The conversation, read again under its texter's lock; :class:`ClaimError` if unknown."""
    conversation = lock_conversation(session, conversation_id)
    if conversation is None:
        raise ClaimError("no such conversation")
    return conversation


def _held(session: Session, conversation_id: int, advocate_id: int) -> Conversation:
    conversation = _locked(session, conversation_id)
    if conversation.advocate_id != advocate_id or conversation.state is not State.WITH_ADVOCATE:
        raise ClaimError("this conversation is not yours")
    return conversation


def do_return_to_queue(
    session: Session,
    triage: Triage,
    conversation_id: int,
    advocate_id: int,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    """Hand a texter back to the queue, keeping their place (their first queued time).

    The triage machine's RETURNED puts them back in QUEUED: they are told their place again and
    their wait updates restart. ``reason`` says the hotline did it, not the advocate (e.g.
    ``"advocate_gone"``): the event then names no actor, only the advocate who held them.
    """
    conversation = _held(session, conversation_id, advocate_id)
    conversation.advocate_id = None
    conversation.claimed_at = None
    triage.advance(session, conversation, TriageEvent(On.RETURNED), now)
    after_commit.queue_changed(session)
    detail: dict[str, Any] = {}
    if reason is not None:
        detail = {"reason": reason, "advocate_id": advocate_id}
    events.record(
        session,
        "returned_to_queue",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=advocate_id if reason is None else None,
        **detail,
    )


def do_close(
    session: Session,
    triage: Triage,
    conversation_id: int,
    advocate_id: int,
    disposition: str,
    now: datetime,
) -> None:
    """Close a conversation the advocate holds. It stays theirs to reopen
    (:func:`do_reopen`) until its reopen window's timer fires, which then sends the survey if
    it is wanted and allowed (see :meth:`Triage.facts`)."""
    if not disposition.strip():
        raise ClaimError("a disposition is required to close")
    conversation = _held(session, conversation_id, advocate_id)
    triage.advance(session, conversation, TriageEvent(On.CLOSED), now)
    after_commit.queue_changed(session)  # their "my conversations" list travels with the queue
    events.record(
        session,
        "closed_by_advocate",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=advocate_id,
        disposition=disposition.strip(),
    )


def do_hand_over(
    session: Session,
    conversation_id: int,
    from_advocate_id: int,
    to_advocate_id: int,
    now: datetime,
) -> Conversation:
    """Move a conversation ``from_advocate_id`` holds to ``to_advocate_id`` at once (a transfer
    taken up, a sign-out hand-over). The caller checked the receiver; :class:`ClaimError` when
    the conversation is no longer the sender's. Takes the texter's lock."""
    conversation = _held(session, conversation_id, from_advocate_id)
    hold(session, conversation, to_advocate_id, now)
    if conversation.timer == "transfer":  # a warm offer still waiting ends with the move
        conversation.timer, conversation.timer_due_at = None, None
    after_commit.changed(session, conversation.id)
    # Both advocates' "my conversations" lists travel with the queue: tell their consoles.
    after_commit.queue_changed(session)
    return conversation


def do_reopen(
    session: Session, triage: Triage, conversation_id: int, advocate_id: int, now: datetime
) -> Conversation:
    """Give back to ``advocate_id`` a conversation they closed, while its reopen window lasts.

    :class:`ClaimError` when it was not theirs, or the window is over: the survey went, the
    texter wrote again (a new conversation), or they texted STOP. Takes the texter's lock.
    """
    conversation = _locked(session, conversation_id)
    if conversation.advocate_id != advocate_id or conversation.state is not State.JUST_CLOSED:
        raise ClaimError("this conversation can no longer be reopened")
    if conversation.timer_due_at is not None and conversation.timer_due_at <= now:
        raise ClaimError("the time to reopen this conversation is over")
    triage.advance(session, conversation, TriageEvent(On.REOPENED), now)
    conversation.status = ConversationStatus.OPEN
    conversation.closed_at = None
    conversation.close_reason = None
    conversation.disposition = None
    after_commit.queue_changed(session)
    events.record(
        session,
        "reopened",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=advocate_id,
    )
    return conversation
