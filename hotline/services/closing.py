"""Closing safely: asking first when it matters, and reopening within a few minutes.

Closing asks the advocate to confirm (:class:`ConfirmClosing`, a 409 whose message lists the
reasons) when the texter never had a reply, when their last text has no answer, or when the
conversation is urgent or the texter may be a minor. A closed conversation stays its advocate's
to reopen for ``reopen_minutes`` (a run-time setting); the satisfaction survey waits until then,
and never goes to a texter no person answered or who was ever urgent (the triage machine's
``just_closed`` rows). Holding and closing themselves are :mod:`hotline.services.claims`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, Disposition, Message, StaffUser
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services.answers import IsoTime, iso_time
from hotline.services.claims import do_reopen
from hotline.services.errors import Conflict
from hotline.services.handling import Handling

CONFIRM_PREFIX = "confirm closing: "


class Closed(TypedDict):
    ok: Literal[True]
    reopen_until: IsoTime  # the advocate may reopen it until then


class ConfirmClosing(Conflict):
    """Closing needs the advocate's confirmation (409): the message is ``CONFIRM_PREFIX``
    followed by the reasons, separated by ``"; "``."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(CONFIRM_PREFIX + "; ".join(reasons))
        self.reasons = reasons


def reasons_to_confirm(session: Session, conversation: Conversation) -> list[str]:
    """Why closing ``conversation`` now deserves a second look; empty when it does not."""
    reasons = []
    if conversation.first_reply_at is None:
        reasons.append("no reply was ever sent to the texter")
    else:
        last_in = _last_id(session, conversation, Direction.INBOUND)
        last_reply = _last_id(session, conversation, Direction.OUTBOUND, staff_only=True)
        if last_in is not None and (last_reply is None or last_in > last_reply):
            reasons.append("the texter's last text has no answer")
    if conversation.priority is Priority.URGENT:
        reasons.append("the conversation is urgent")
    if conversation.minor:
        reasons.append("the texter may be a minor")
    return reasons


def _last_id(
    session: Session, conversation: Conversation, direction: Direction, *, staff_only: bool = False
) -> int | None:
    query = select(func.max(Message.id)).where(
        Message.conversation_id == conversation.id, Message.direction == direction
    )
    if staff_only:
        query = query.where(Message.author_id.is_not(None))
    found = session.scalar(query)
    return int(found) if found is not None else None


@dataclass(frozen=True)
class Closing:
    """Closing and reopening by the console's rules (``handling``) and the reopen window."""

    handling: Handling
    reopen_window: timedelta

    def close(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        disposition: str,
        summary: str,
        now: datetime,
        *,
        confirmed: bool,
    ) -> Closed:
        """Close, after the advocate confirmed when :func:`reasons_to_confirm` finds reasons
        (:class:`ConfirmClosing` otherwise, and nothing changes). A refusal the advocate must
        fix first (the disposition, not holding it) comes before the question."""
        known = session.get(Disposition, disposition)
        if known is None or not known.active:
            raise Conflict("choose a disposition to close")
        conversation = self.handling.console.visible(session, user, conversation_id)
        if conversation.advocate_id != user.id or conversation.state is not State.WITH_ADVOCATE:
            raise Conflict("take this conversation before acting on it")
        reasons = reasons_to_confirm(session, conversation)
        if reasons and not confirmed:
            raise ConfirmClosing(reasons)
        self.handling.close(session, user, conversation_id, disposition, summary, now)
        return {"ok": True, "reopen_until": iso_time(now + self.reopen_window)}

    def reopen(
        self, session: Session, user: StaffUser, conversation_id: int, now: datetime
    ) -> None:
        """Take back a conversation ``user`` closed, while the window lasts and they have room."""
        capacity = self.handling.console.capacity
        if self.handling.console.load(session, user.id) >= capacity:
            raise Conflict(f"you already have {capacity} active conversations: close one first")
        conversation = do_reopen(
            session, self.handling.console.triage, conversation_id, user.id, now
        )
        after_commit.changed(session, conversation.id)
