"""The supervisors' live board: who is waiting, who is on shift and what each holds, and
today's counts (UTC days)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import Availability, Conversation, Message, StaffRole, StaffUser
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services import presence
from hotline.services.console import Console, ConversationSummary
from hotline.services.overdue import Thresholds, unanswered, urgent_waits
from hotline.settings import Settings

DEFAULT_THRESHOLDS = Thresholds.minutes(
    Settings.urgent_wait_alert_minutes, Settings.unanswered_alert_minutes
)


class HeldConversation(TypedDict):
    """A conversation an advocate holds, on the board."""

    id: int
    priority: Priority
    language: str
    since_seconds: int
    quiet_seconds: int
    # The texter's side (hotline.services.overdue): no advocate reply yet at all; how long the
    # first unanswered text has waited (0: every text answered) and how many wait; past the
    # unanswered alert threshold.
    no_reply_yet: bool
    unanswered_seconds: int
    unanswered_texts: int
    overdue: bool


class BoardAdvocate(TypedDict):
    id: int
    email: str
    name: str  # how staff are shown (StaffUser.name)
    role: StaffRole
    availability: Availability
    connected: bool
    seen_seconds: int | None  # since their console last polled; None if it never did
    active: list[HeldConversation]


class Today(TypedDict):
    opened: int
    closed: int
    texts_in: int


class BoardThresholds(TypedDict):
    """The alert thresholds in force, in seconds."""

    urgent_wait_seconds: int
    unanswered_seconds: int


class Board(TypedDict):
    waiting: list[ConversationSummary]
    # Urgent texters who have waited past the threshold: their ids, in queue order.
    overdue_waiting: list[int]
    thresholds: BoardThresholds
    waiting_by_priority: dict[Priority, int]
    urgent_waiting: int
    longest_wait_seconds: int
    advocates: list[BoardAdvocate]
    today: Today


def live_board(
    session: Session, console: Console, now: datetime, thresholds: Thresholds | None = None
) -> Board:
    """The board as it is at ``now``: the queue as the console shows it, active staff (advocates,
    and anyone else holding a conversation) with their conversations and whether each texter
    waits for an answer, and today's counts. ``thresholds``: the alert thresholds in force
    (by default the settings' defaults)."""
    thresholds = thresholds or DEFAULT_THRESHOLDS
    waiting = console.queue(session, now)
    urgent_since = urgent_waits(session, now)
    start_of_day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    advocates = session.scalars(
        select(StaffUser)
        .where(StaffUser.active.is_(True))
        .order_by(StaffUser.availability, StaffUser.email)
    ).all()
    active = session.scalars(
        select(Conversation)
        .where(Conversation.state == State.WITH_ADVOCATE)
        .order_by(Conversation.claimed_at)
    ).all()
    standing = unanswered(session, list(active))
    by_advocate: dict[int, list[HeldConversation]] = {}
    for conversation in active:
        if conversation.advocate_id is None:
            continue
        texter_side = standing[conversation.id]
        by_advocate.setdefault(conversation.advocate_id, []).append(
            {
                "id": conversation.id,
                "priority": conversation.priority,
                "language": conversation.language,
                "since_seconds": int(
                    (now - (conversation.claimed_at or conversation.opened_at)).total_seconds()
                ),
                "quiet_seconds": int((now - conversation.last_activity_at).total_seconds()),
                "no_reply_yet": texter_side.no_reply_yet,
                "unanswered_seconds": texter_side.seconds(now),
                "unanswered_texts": texter_side.texts,
                "overdue": texter_side.since is not None
                and now - texter_side.since >= thresholds.unanswered,
            }
        )
    today = session.execute(
        select(
            func.count().filter(Conversation.opened_at >= start_of_day),
            func.count().filter(Conversation.closed_at >= start_of_day),
        )
    ).one()
    texts_today = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.direction == Direction.INBOUND, Message.created_at >= start_of_day)
    )
    return {
        "waiting": waiting,
        "overdue_waiting": [
            w["id"]
            for w in waiting
            if w["id"] in urgent_since and now - urgent_since[w["id"]] >= thresholds.urgent_wait
        ],
        "thresholds": {
            "urgent_wait_seconds": int(thresholds.urgent_wait.total_seconds()),
            "unanswered_seconds": int(thresholds.unanswered.total_seconds()),
        },
        "waiting_by_priority": {p: sum(1 for w in waiting if w["priority"] == p) for p in Priority},
        "urgent_waiting": sum(1 for w in waiting if w["priority"] == "urgent"),
        "longest_wait_seconds": max((w["waiting_seconds"] for w in waiting), default=0),
        "advocates": [
            {
                "id": user.id,
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "availability": user.availability,
                "connected": presence.connected(user, now, console.presence_grace),
                "seen_seconds": (
                    int((now - user.console_seen_at).total_seconds())
                    if user.console_seen_at is not None
                    else None
                ),
                "active": by_advocate.get(user.id, []),
            }
            for user in advocates
            if user.role is StaffRole.ADVOCATE or user.id in by_advocate
        ],
        "today": {
            "opened": int(today[0] or 0),
            "closed": int(today[1] or 0),
            "texts_in": int(texts_today or 0),
        },
    }
