"""Who is really at the console, and what happens to the texters of an advocate who is not.

"Available" is what an advocate said; *connected* is what their console shows: it polls
``/console/api/poll`` every second, and each poll records the time in
``StaffUser.console_seen_at`` (at most every few seconds, so a poll is not a write). An advocate
whose console has not polled for the grace period (``presence_grace_minutes``) has gone: the
browser closed, the laptop slept, the network dropped, or the session ended (idle, too old,
deactivated: its polls are refused, so they stop counting). The grace is minutes rather than
seconds because a browser slows the timers of a tab in the background to about one a minute.

An advocate who has gone is never offered for a transfer or a reassignment, and the periodic
:func:`do_release_absent` sets them away and hands their texters back to the queue, keeping
their place, with an alert for supervisors. Nobody waits on an advocate who is not there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Availability, Conversation, StaffUser
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.claims import ClaimError, do_return_to_queue
from hotline.services.triage import Triage

# A poll is recorded when the stored one is older than this (or than a quarter of the grace,
# if that is shorter): one write every 15 seconds per open console, not one a second.
WRITE_EVERY = timedelta(seconds=15)
ALERT = "advocate_gone"


def write_interval(grace: timedelta) -> timedelta:
    return min(WRITE_EVERY, grace / 4)


def do_touch(user: StaffUser, now: datetime, grace: timedelta) -> bool:
    """Record that ``user``'s console polled now; True when that needed a write."""
    seen = user.console_seen_at
    if seen is not None and now - seen < write_interval(grace):
        return False
    user.console_seen_at = now
    return True


def connected(user: StaffUser, now: datetime, grace: timedelta) -> bool:
    """Whether ``user``'s console polled within the grace period (and the account is on)."""
    seen = user.console_seen_at
    return user.active and seen is not None and now - seen <= grace


def connected_clause(now: datetime, grace: timedelta) -> ColumnElement[bool]:
    """:func:`connected` in SQL."""
    return and_(StaffUser.active.is_(True), StaffUser.console_seen_at >= now - grace)


def _gone_clause(now: datetime, grace: timedelta) -> ColumnElement[bool]:
    # Spelled out rather than NOT(connected): a NULL time would make NOT(...) NULL, not true.
    return or_(
        StaffUser.active.is_(False),
        StaffUser.console_seen_at.is_(None),
        StaffUser.console_seen_at < now - grace,
    )


def held_by(session: Session, staff_id: int) -> list[int]:
    """The conversations ``staff_id`` holds now, oldest claim first."""
    return list(
        session.scalars(
            select(Conversation.id)
            .where(Conversation.advocate_id == staff_id, Conversation.state == State.WITH_ADVOCATE)
            .order_by(Conversation.claimed_at, Conversation.id)
        )
    )


def lock_staff(session: Session, staff_id: int) -> StaffUser | None:
    """Load a staff member holding their row lock, re-read from the database.

    ``FOR NO KEY UPDATE`` on PostgreSQL: it serialises everything that decides about this
    person's presence (two beats releasing them, a poll, a sign-out) but not a claim that points
    a conversation at them, which takes only a KEY SHARE lock on the row. Take it before any
    texter's lock (:func:`hotline.db.session.lock_texter`), as every path here does, so two
    transactions never wait on each other in a circle. On SQLite the transaction already holds
    the database's write lock.
    """
    return session.scalars(
        select(StaffUser)
        .where(StaffUser.id == staff_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()


def absent_staff(session: Session, now: datetime, grace: timedelta) -> list[int]:
    """Staff marked available, or holding a conversation, whose console has gone quiet."""
    holding = select(Conversation.advocate_id).where(
        Conversation.state == State.WITH_ADVOCATE, Conversation.advocate_id.is_not(None)
    )
    return list(
        session.scalars(
            select(StaffUser.id)
            .where(
                or_(StaffUser.availability == Availability.AVAILABLE, StaffUser.id.in_(holding)),
                _gone_clause(now, grace),
            )
            .order_by(StaffUser.id)
        )
    )


def do_release_absent(
    session: Session, triage: Triage, staff_id: int, now: datetime, grace: timedelta
) -> int | None:
    """Set a staff member who has gone away and hand every texter they held back to the queue.

    Each texter keeps their place (their first queued time) and goes through the triage
    machine's RETURNED, as when an advocate hands them back: they are told their place again
    and their wait updates restart. One ``alert`` event (``alert="advocate_gone"``) tells
    supervisors, with how many conversations went back.

    Takes the person's row lock first and decides again under it: a poll that arrived since
    the look, or another beat that got here first, leaves nothing to do (no second alert).

    Returns how many conversations went back to the queue, or None when there was nothing to do.
    """
    user = lock_staff(session, staff_id)
    if user is None or connected(user, now, grace):
        return None
    held = held_by(session, staff_id)
    was_available = user.availability is Availability.AVAILABLE
    if not held and not was_available:
        return None
    returned: list[int] = []
    for conversation_id in held:
        try:
            do_return_to_queue(session, triage, conversation_id, staff_id, now, reason=ALERT)
        except ClaimError:
            continue  # closed or handed on between our look and the texter's lock
        returned.append(conversation_id)
    if was_available:
        user.availability = Availability.AWAY
        events.record(
            session, "availability", now, actor_id=None, staff_id=staff_id,
            availability=Availability.AWAY.value, reason=ALERT,
        )  # fmt: skip
    seen = user.console_seen_at
    events.record(
        session,
        "alert",
        now,
        actor_id=None,
        alert=ALERT,
        advocate_id=staff_id,
        conversations=len(returned),
        conversation_ids=returned,
        last_seen_at=seen.isoformat() if seen is not None else None,
    )
    after_commit.queue_changed(session)  # the queue, and the board's staff panel
    return len(returned)
