"""Who needs me now: an advocate's own conversations, what is new in each, and those taken
from them (issue 18).

Each advocate has a :class:`Holding` of every conversation the console found them holding. It
remembers the newest texter text they have seen (unread counts), how the conversation came to
them (a transfer or reassignment is an alert until they look), and, once it is no longer theirs,
how it left them and by whose hand, until they dismiss it. The console's queue poll brings them
up to date (:func:`attend`): the conversations are the truth, holdings follow them, so no
action elsewhere (a claim, a STOP, a supervisor's take-over) needs to know about them.

Staff-facing text only: nothing here puts a texter's words or number into a log, an event or
an error; the first words of the last text travel only in the JSON the console shows as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Disposition,
    Event,
    Holding,
    Message,
    StaffUser,
    Texter,
)
from hotline.domain.delivery import Direction
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.answers import IsoTime, iso_time, iso_time_or_none
from hotline.services.console import Console, ConversationSummary
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.handling import MAX_NOTE_CHARS, Handling
from hotline.services.timeline import EMERGENCY_ALERTS

# How long after a conversation left them an advocate may still record how it went.
WRAP_UP_WINDOW = timedelta(minutes=30)
LAST_WORDS = 8  # how many of the last text's words the list shows
LAST_WORDS_CHARS = 60

AlertKind = Literal["new_text", "assigned", "supervisor_note", "emergency"]
# How a conversation left its advocate.
EndedHow = Literal[
    "closed", "transferred", "returned", "stop", "safe_word", "erased",
    "taken_over", "reassigned", "ended",
]  # fmt: skip
ERASED_HOWS = ("safe_word", "erased")  # nothing of the texter may stay on anyone's screen
# Events that give a conversation to an advocate, and that take it from them.
ARRIVALS = ("claimed", "transferred", "reassigned", "taken_over")
DEPARTURES = (
    "transferred", "reassigned", "taken_over", "returned_to_queue", "closed_by_advocate",
    "conversation_closed", "opt_out",
)  # fmt: skip


class MineItem(ConversationSummary):
    """One of the caller's conversations, with what needs them in it."""

    unread: int  # texter texts since they last looked
    last_words: str | None  # the first words of the texter's last text
    # Since the texter's first text after the last staff reply; None when nothing is unanswered.
    waiting_for_reply_seconds: int | None
    alerts: list[AlertKind]


class LostItem(TypedDict):
    """A conversation taken from the caller, until they dismiss it."""

    id: int
    how: EndedHow
    by: str | None  # the staff member's name; None for the texter or the hotline
    at: IsoTime
    # The texter was erased (safe word, DELETE, a supervisor): transcript and draft must go.
    erased: bool
    # Until when a disposition and a note may still be recorded; None when none may be.
    wrap_up_until: IsoTime | None
    wrapped_up: bool


@dataclass(frozen=True)
class Attended:
    mine: list[MineItem]
    lost: list[LostItem]


def attend(session: Session, console: Console, user: StaffUser, now: datetime) -> Attended:
    """The caller's conversations with their unread counts, alerts and waits, and those taken
    from them; brings their holdings up to date on the way.

    A fixed number of queries whatever the number of conversations (each newly ended holding
    adds one, once). Two polls at once are safe: a new holding is inserted with "on conflict
    do nothing", and ending one twice writes the same values.
    """
    held = session.scalars(
        select(Conversation)
        .where(Conversation.advocate_id == user.id, Conversation.state == State.WITH_ADVOCATE)
        .order_by(Conversation.claimed_at, Conversation.id)
    ).all()
    held_ids = [c.id for c in held]
    holdings = {
        h.conversation_id: h
        for h in session.scalars(
            select(Holding).where(
                Holding.advocate_id == user.id,
                or_(
                    Holding.conversation_id.in_(held_ids),
                    Holding.ended_at.is_(None),
                    Holding.dismissed_at.is_(None),
                ),
            )
        )
    }
    _open_holdings(session, user, held_ids, holdings, now)
    for holding in holdings.values():
        if holding.ended_at is None and holding.conversation_id not in held_ids:
            _end(session, holding, now)
    mine = _mine(session, console, user, held, holdings, now)
    lost = _lost(session, user, [h for h in holdings.values() if _shown_lost(h)], now)
    return Attended(mine, lost)


def _open_holdings(
    session: Session,
    user: StaffUser,
    held_ids: list[int],
    holdings: dict[int, Holding],
    now: datetime,
) -> None:
    """A holding for each held conversation: new ones inserted, ended ones (the conversation
    came back to them) reopened."""
    fresh = [i for i in held_ids if i not in holdings or holdings[i].ended_at is not None]
    if not fresh:
        return
    came = _arrivals(session, user, fresh)
    new = [i for i in fresh if i not in holdings]
    if new:
        dialect = session.get_bind().dialect.name
        insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
        session.execute(
            insert(Holding)
            .values(
                [
                    {
                        "advocate_id": user.id,
                        "conversation_id": i,
                        "started_at": now,
                        "came_how": came.get(i, "claimed"),
                    }
                    for i in new
                ]
            )
            .on_conflict_do_nothing()
        )
        for holding in session.scalars(
            select(Holding).where(Holding.advocate_id == user.id, Holding.conversation_id.in_(new))
        ):
            holdings[holding.conversation_id] = holding
    for i in fresh:
        holding = holdings[i]
        if holding.ended_at is not None:
            holding.started_at = now
            holding.came_how = came.get(i, "claimed")
            holding.seen_at = None
            holding.ended_at = holding.ended_how = holding.ended_by_id = None
            holding.wrapped_up_at = holding.dismissed_at = None


def _arrivals(session: Session, user: StaffUser, conversation_ids: list[int]) -> dict[int, str]:
    """How each conversation last came to an advocate ("claimed", "transferred"...), from the
    event log: a supervisor's reassignment reads "reassigned" even if it named the caller."""
    came: dict[int, str] = {}
    for conversation_id, kind, actor_id in session.execute(
        select(Event.conversation_id, Event.kind, Event.actor_id)
        .where(Event.conversation_id.in_(conversation_ids), Event.kind.in_(ARRIVALS))
        .order_by(Event.id)
    ):
        if conversation_id is not None:
            came[conversation_id] = "claimed" if actor_id == user.id else kind
    return came


def _end(session: Session, holding: Holding, now: datetime) -> None:
    """Write down how the conversation left its advocate: erased, STOP, a colleague's hand...
    An ending of their own doing (they closed, transferred or handed it back) is dismissed at
    once: nothing to explain."""
    conversation = session.get(Conversation, holding.conversation_id)
    assert conversation is not None
    texter = session.get(Texter, conversation.texter_id)
    assert texter is not None
    last = session.execute(
        select(Event.kind, Event.actor_id, Event.created_at)
        .where(
            Event.conversation_id == conversation.id,
            Event.kind.in_(DEPARTURES),
            Event.created_at >= holding.started_at,
        )
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    kind, actor_id, at = last if last is not None else (None, None, now)
    how: EndedHow
    if texter.erasure_requested_at is not None:
        erased_by = session.scalar(
            select(Event.actor_id)
            .where(Event.texter_id == texter.id, Event.kind == "texter_erased")
            .order_by(Event.id.desc())
            .limit(1)
        )
        how, actor_id = ("erased", erased_by)
        if erased_by is None and conversation.close_reason == "safe_word":
            how = "safe_word"
        at = texter.erasure_requested_at
    elif conversation.close_reason == "safe_word":
        how, actor_id = "safe_word", None
    elif kind == "opt_out" or conversation.close_reason == "opt_out":
        how, actor_id = "stop", None
    elif kind in ("transferred", "reassigned", "taken_over"):
        how = kind  # type: ignore[assignment]
    elif kind == "returned_to_queue":
        how = "returned"
    elif kind == "closed_by_advocate":
        how = "closed"
    else:
        how, actor_id = "ended", None
    holding.ended_at = at
    holding.ended_how = how
    holding.ended_by_id = actor_id
    if actor_id == holding.advocate_id and how in ("closed", "transferred", "returned"):
        holding.dismissed_at = now


def _shown_lost(holding: Holding) -> bool:
    return holding.ended_at is not None and holding.dismissed_at is None


def _mine(
    session: Session,
    console: Console,
    user: StaffUser,
    held: list[Conversation] | Any,
    holdings: dict[int, Holding],
    now: datetime,
) -> list[MineItem]:
    if not held:
        return []
    ids = [c.id for c in held]
    unread = _unread(session, user, ids)
    last_words = _last_words(session, console, ids)
    waiting = _waiting_since(session, ids)
    noticed = _noticed(session, user, ids)
    items: list[MineItem] = []
    for conversation in held:
        holding = holdings[conversation.id]
        alerts: list[AlertKind] = []
        if unread.get(conversation.id, 0):
            alerts.append("new_text")
        if holding.came_how in ("transferred", "reassigned") and holding.seen_at is None:
            alerts.append("assigned")
        alerts.extend(noticed.get(conversation.id, []))
        since = waiting.get(conversation.id)
        items.append(
            {
                **console._summary(conversation, now),
                "unread": unread.get(conversation.id, 0),
                "last_words": last_words.get(conversation.id),
                "waiting_for_reply_seconds": (
                    None if since is None else max(0, int((now - since).total_seconds()))
                ),
                "alerts": alerts,
            }
        )
    return items


def _unread(session: Session, user: StaffUser, ids: list[int]) -> dict[int, int]:
    """Texter texts after each holding's ``read_through``: one query."""
    rows = session.execute(
        select(Message.conversation_id, func.count())
        .join(
            Holding,
            and_(
                Holding.conversation_id == Message.conversation_id,
                Holding.advocate_id == user.id,
            ),
        )
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == Direction.INBOUND,
            Message.id > func.coalesce(Holding.read_through, 0),
        )
        .group_by(Message.conversation_id)
    )
    return {conversation_id: int(count) for conversation_id, count in rows if conversation_id}


def _last_words(session: Session, console: Console, ids: list[int]) -> dict[int, str]:
    """The first few words of each conversation's newest texter text: two queries."""
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids), Message.direction == Direction.INBOUND)
        .group_by(Message.conversation_id)
    )
    words: dict[int, str] = {}
    for conversation_id, ciphertext in session.execute(
        select(Message.conversation_id, Message.body_ciphertext).where(Message.id.in_(newest))
    ):
        if conversation_id is not None and ciphertext is not None:
            words[conversation_id] = first_words(console.vault.decrypt(ciphertext))
    return words


def first_words(text: str) -> str:
    """At most :data:`LAST_WORDS` words and :data:`LAST_WORDS_CHARS` characters, with "…"
    when something was left out."""
    words = text.split()
    shown = " ".join(words[:LAST_WORDS])
    if len(shown) > LAST_WORDS_CHARS:
        shown = shown[:LAST_WORDS_CHARS].rstrip()
    return shown + ("…" if shown != " ".join(words) else "")


def _waiting_since(session: Session, ids: list[int]) -> dict[int, datetime]:
    """When the texter's first text after the last staff reply came, per conversation: how
    long they have waited for a person. One query."""
    answered = (
        select(func.coalesce(func.max(Message.id), 0))
        .where(
            Message.conversation_id == Conversation.id,
            Message.direction == Direction.OUTBOUND,
            Message.author_id.is_not(None),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Conversation.id, func.min(Message.created_at))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.id.in_(ids),
            Message.direction == Direction.INBOUND,
            Message.id > answered,
        )
        .group_by(Conversation.id)
    )
    return {conversation_id: since for conversation_id, since in rows if since is not None}


def _noticed(session: Session, user: StaffUser, ids: list[int]) -> dict[int, list[AlertKind]]:
    """Supervisors' notes and emergency words since the caller last looked: one query."""
    found: dict[int, list[AlertKind]] = {}
    for event in session.scalars(
        select(Event)
        .join(
            Holding,
            and_(
                Holding.conversation_id == Event.conversation_id,
                Holding.advocate_id == user.id,
            ),
        )
        .where(
            Event.conversation_id.in_(ids),
            Event.kind.in_(("supervisor_note", "alert")),
            Event.created_at > func.coalesce(Holding.seen_at, Holding.started_at),
        )
        .order_by(Event.id)
    ).unique():
        kind: AlertKind | None = None
        if event.kind == "supervisor_note":
            kind = "supervisor_note"
        elif event.detail.get("alert") in EMERGENCY_ALERTS:
            kind = "emergency"
        if kind is not None and event.conversation_id is not None:
            kinds = found.setdefault(event.conversation_id, [])
            if kind not in kinds:
                kinds.append(kind)
    return found


def _lost(
    session: Session, user: StaffUser, holdings: list[Holding], now: datetime
) -> list[LostItem]:
    if not holdings:
        return []
    names = {
        staff.id: staff.name
        for staff in session.scalars(
            select(StaffUser).where(
                StaffUser.id.in_({h.ended_by_id for h in holdings if h.ended_by_id is not None})
            )
        )
    }
    items: list[LostItem] = []
    for holding in sorted(holdings, key=lambda h: (h.ended_at, h.id)):
        assert holding.ended_at is not None
        how: EndedHow = holding.ended_how  # type: ignore[assignment]
        erased = how in ERASED_HOWS
        until = holding.ended_at + WRAP_UP_WINDOW
        items.append(
            {
                "id": holding.conversation_id,
                "how": how,
                "by": names.get(holding.ended_by_id) if holding.ended_by_id else None,
                "at": iso_time(holding.ended_at),
                "erased": erased,
                "wrap_up_until": (
                    None
                    if erased or holding.wrapped_up_at is not None or now > until
                    else iso_time_or_none(until)
                ),
                "wrapped_up": holding.wrapped_up_at is not None,
            }
        )
    return items


# -- the advocate's actions ------------------------------------------------------------------------


def _holding(session: Session, user: StaffUser, conversation_id: int) -> Holding:
    holding = session.scalar(
        select(Holding).where(
            Holding.advocate_id == user.id, Holding.conversation_id == conversation_id
        )
    )
    if holding is None:
        raise NotFound("no such conversation")
    return holding


def do_mark_read(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    through: int | None,
    now: datetime,
) -> None:
    """The caller has seen the conversation they hold, up to the texter text ``through`` (a
    message id; None: every text so far). Its alerts clear. Recorded in the audit trail.
    :class:`NotFound` unless they hold it now (by the console's rule)."""
    if through is not None and (isinstance(through, bool) or not isinstance(through, int)):
        raise InvalidInput("through must be a message id")
    if through is not None and through < 1:
        raise InvalidInput("through must be a message id")
    conversation = console.visible(session, user, conversation_id)
    if conversation.advocate_id != user.id:
        raise NotFound("no such conversation")  # a supervisor viewing holds nothing
    holding = session.scalar(
        select(Holding).where(
            Holding.advocate_id == user.id, Holding.conversation_id == conversation_id
        )
    )
    if holding is None or holding.ended_at is not None:
        # Looked at before any poll opened its holding (or since it came back): open it now.
        holdings = {holding.conversation_id: holding} if holding is not None else {}
        _open_holdings(session, user, [conversation_id], holdings, now)
        holding = holdings[conversation_id]
    newest = session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND
        )
    )
    upto = newest if through is None or newest is None else min(through, newest)
    holding.read_through = max(holding.read_through or 0, upto or 0) or None
    holding.seen_at = now
    events.record(
        session, "conversation_read", now, conversation_id=conversation_id,
        texter_id=conversation.texter_id, actor_id=user.id,
    )  # fmt: skip


def do_wrap_up(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    disposition: str,
    note: str,
    now: datetime,
) -> None:
    """How a conversation taken from the caller went, in their words: a disposition (recorded
    on the conversation if it was closed without one) and a private note, once, within
    :data:`WRAP_UP_WINDOW` of it leaving them. Never after an erasure: nothing of that texter
    may be written again. Audited as a ``wrapped_up`` event."""
    disposition, note = disposition.strip(), note.strip()
    if not disposition and not note:
        raise InvalidInput("choose a disposition or write a note")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note is at most {MAX_NOTE_CHARS} characters")
    if disposition:
        known = session.get(Disposition, disposition)
        if known is None or not known.active:
            raise InvalidInput("choose a disposition from the list")
    holding = _holding(session, user, conversation_id)
    if holding.ended_at is None:
        raise Conflict("this conversation is still yours: close it as usual")
    if holding.ended_how in ERASED_HOWS:
        raise Conflict("this texter was erased: nothing more can be recorded")
    if holding.wrapped_up_at is not None:
        raise Conflict("you already recorded how this conversation went")
    if holding.dismissed_at is not None or now > holding.ended_at + WRAP_UP_WINDOW:
        raise Conflict(
            f"too late: how it went may be recorded within {_minutes(WRAP_UP_WINDOW)} of it "
            "leaving you; tell a supervisor instead"
        )
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    if (
        disposition
        and conversation.status is ConversationStatus.CLOSED
        and conversation.disposition is None
    ):
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.disposition.is_(None))
            .values(disposition=disposition)
            .execution_options(synchronize_session="fetch")
        )
    if note:
        Handling(console)._add_note(session, conversation, user, note, now)
    holding.wrapped_up_at = now
    events.record(
        session, "wrapped_up", now, conversation_id=conversation_id,
        texter_id=conversation.texter_id, actor_id=user.id,
        disposition=disposition or None, note=bool(note), how=holding.ended_how,
    )  # fmt: skip
    after_commit.changed(session, conversation_id)


def do_dismiss(session: Session, user: StaffUser, conversation_id: int, now: datetime) -> None:
    """The caller has read how a conversation left them: it leaves their list. Audited."""
    holding = _holding(session, user, conversation_id)
    if holding.ended_at is None:
        raise Conflict("this conversation is still yours")
    if holding.dismissed_at is not None:
        raise Conflict("already dismissed")
    holding.dismissed_at = now
    events.record(
        session, "lost_dismissed", now, conversation_id=conversation_id,
        actor_id=user.id, how=holding.ended_how,
    )  # fmt: skip


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"
