"""Signing out without leaving texters behind.

An advocate who signs out is set away, and every conversation they hold goes first to the
queue (each texter keeping their place) or to one colleague who is connected, available and has
room for all of them. The console asks which before it signs out; see :func:`do_leave` for what
happens when nobody chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Availability, StaffUser
from hotline.services import events, presence
from hotline.services.auth import do_sign_out
from hotline.services.console import Console
from hotline.services.errors import InvalidInput
from hotline.services.handling import Handling

QUEUE = "queue"
TRANSFER = "transfer"
CHOICES = (QUEUE, TRANSFER)


@dataclass
class Left:
    """Where a sign-out's texters went."""

    returned: int = 0
    transferred: int = 0


def check_choice(choice: str | None, to_advocate_id: int | None) -> str:
    """The choice, defaulting to the queue; :class:`InvalidInput` naming the field if it is
    not one the hotline knows."""
    choice = QUEUE if choice is None or choice == "" else choice
    if choice not in CHOICES:
        raise InvalidInput('conversations must be "queue" (hand them back) or "transfer"')
    if choice == TRANSFER and to_advocate_id is None:
        raise InvalidInput('to_advocate_id is required with conversations "transfer"')
    if choice == QUEUE and to_advocate_id is not None:
        raise InvalidInput('to_advocate_id goes only with conversations "transfer"')
    return choice


def do_leave(
    session: Session,
    console: Console,
    user: StaffUser,
    token: str,
    now: datetime,
    *,
    choice: str | None = None,
    to_advocate_id: int | None = None,
) -> Left:
    """Sign ``user`` out: their conversations go to the queue or to a colleague, they are set
    away, and the session ends.

    With no choice the conversations go back to the queue, each texter keeping their place.
    Refusing instead would not keep the advocate at their desk: they would close the browser,
    and their texters would wait, unanswered and without wait updates, until the presence check
    noticed (the grace period). Handing them back at once is what protects the texter; the
    console asks first, so an advocate who wants a colleague to take over says so.

    Raises :class:`InvalidInput` (an unknown choice, a missing or unknown ``to_advocate_id``)
    or :class:`hotline.services.errors.Conflict` (that colleague is away, not connected
    or has no room for all of them). Nothing has changed then: the caller rolls back, and the
    advocate is still signed in, holding their conversations.

    Takes the advocate's row lock before any texter's, as the presence check does.
    """
    choice = check_choice(choice, to_advocate_id)
    presence.lock_staff(session, user.id)
    held = presence.held_by(session, user.id)
    target: StaffUser | None = None
    if choice == TRANSFER:
        target = session.get(StaffUser, to_advocate_id)
        if target is None or target.id == user.id:
            raise InvalidInput("to_advocate_id is not another advocate's id")
        console.check_reachable(session, target, now, max(1, len(held)))
    left = Left()
    handling = Handling(console)
    for conversation_id in held:
        handling.transfer(session, user, conversation_id, target.id if target else None, "", now)
    if target is None:
        left.returned = len(held)
    else:
        left.transferred = len(held)
    if user.availability is not Availability.AWAY:
        user.availability = Availability.AWAY
        events.record(
            session, "availability", now, actor_id=user.id,
            availability=Availability.AWAY.value, reason="sign_out",
        )  # fmt: skip
    user.console_seen_at = None  # gone now: the board need not wait out the grace period
    do_sign_out(session, token, now, returned=left.returned, transferred=left.transferred)
    after_commit.queue_changed(session)  # the queue, the colleague's list, the board's staff panel
    return left
