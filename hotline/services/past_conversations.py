"""A returning texter's earlier conversations, and an advocate's own recent cases.

An earlier conversation opens with what the advocate then wrote down (summary, disposition,
notes, tags), not its transcript. Who may open one: a supervisor or admin; the advocate who
handled it; and the advocate holding the same texter's conversation now (the reason the texter
is "returning"). Only while it is kept: closed within the retention period, and never once the
texter was erased. Every opening is in the audit trail.

The case search looks only at the caller's own conversations of the last
:data:`CASE_SEARCH_DAYS` days. Its words never leave the request: not in a URL (it is a POST),
not in the audit trail (which records how many words and results), not in a log.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import (
    Conversation,
    ConversationStatus,
    ConversationTag,
    Disposition,
    Note,
    StaffRole,
    StaffUser,
    Texter,
)
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.answers import IsoTime, iso_time, iso_time_or_none
from hotline.services.console import Console
from hotline.services.errors import InvalidInput, NotFound

CASE_SEARCH_DAYS = 30
MAX_QUERY_CHARS = 100
MAX_CASES = 50


class PastNote(TypedDict):
    author: str  # the staff member's name (display name, or the email's local part)
    created_at: IsoTime
    body: str


class PastConversation(TypedDict):
    id: int
    opened_at: IsoTime
    closed_at: IsoTime | None
    priority: Priority
    language: str
    disposition: str | None
    disposition_label: str | None
    summary: str | None
    notes: list[PastNote]
    tags: list[str]


class Case(TypedDict):
    """One of the caller's own conversations, as the case search lists it."""

    id: int
    opened_at: IsoTime
    closed_at: IsoTime | None
    open: bool  # still held by the caller: it opens in the console, not as an earlier one
    disposition: str | None
    disposition_label: str | None
    summary: str | None


def _kept_since(now: datetime, retention_days: float) -> datetime:
    return now - timedelta(days=retention_days)


def _labels(session: Session) -> dict[str, str]:
    return {
        code: label for code, label in session.execute(select(Disposition.code, Disposition.label))
    }


def _may_open(session: Session, user: StaffUser, conversation: Conversation) -> bool:
    if user.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
        return True
    if conversation.advocate_id == user.id:
        return True
    holding_same_texter = session.scalar(
        select(Conversation.id)
        .where(
            Conversation.texter_id == conversation.texter_id,
            Conversation.advocate_id == user.id,
            Conversation.state == State.WITH_ADVOCATE,
        )
        .limit(1)
    )
    return holding_same_texter is not None


def past_conversation(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    now: datetime,
    retention_days: float,
) -> PastConversation:
    """An earlier, closed conversation: its summary, disposition, notes and tags.

    :class:`NotFound` when there is none ``user`` may open (ids reveal nothing), and, for one
    they may, when it is no longer kept: past retention or its texter erased. Audited
    (``past_conversation_viewed``).
    """
    conversation = session.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.status is not ConversationStatus.CLOSED
        or not _may_open(session, user, conversation)
    ):
        raise NotFound("no such earlier conversation")
    texter = session.get(Texter, conversation.texter_id)
    assert texter is not None
    if texter.erasure_requested_at is not None:
        raise NotFound("this texter's conversations were erased")
    if conversation.closed_at is None or conversation.closed_at < _kept_since(now, retention_days):
        raise NotFound(f"this conversation closed over {retention_days:g} days ago: no longer kept")
    events.record(
        session,
        "past_conversation_viewed",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=user.id,
    )
    authors = {
        staff.id: staff.name
        for staff in session.scalars(
            select(StaffUser).where(
                StaffUser.id.in_(
                    select(Note.author_id).where(Note.conversation_id == conversation.id)
                )
            )
        )
    }
    notes: list[PastNote] = [
        {
            "author": authors.get(note.author_id, "staff"),
            "created_at": iso_time(note.created_at),
            "body": console.vault.decrypt(note.body_ciphertext),
        }
        for note in session.scalars(
            select(Note).where(Note.conversation_id == conversation.id).order_by(Note.created_at)
        )
        if note.body_ciphertext is not None
    ]
    return {
        "id": conversation.id,
        "opened_at": iso_time(conversation.opened_at),
        "closed_at": iso_time_or_none(conversation.closed_at),
        "priority": conversation.priority,
        "language": conversation.language,
        "disposition": conversation.disposition,
        "disposition_label": _labels(session).get(conversation.disposition or ""),
        "summary": _open(console, conversation.summary_ciphertext),
        "notes": notes,
        "tags": sorted(
            session.scalars(
                select(ConversationTag.tag).where(
                    ConversationTag.conversation_id == conversation.id
                )
            )
        ),
    }


def search_cases(
    session: Session,
    console: Console,
    user: StaffUser,
    query: Any,
    now: datetime,
    retention_days: float,
) -> list[Case]:
    """The caller's own conversations of the last :data:`CASE_SEARCH_DAYS` days (and within
    retention) whose summary, notes, disposition, tags, needs or place hold every word of
    ``query``, newest first; all of them for an empty query. At most :data:`MAX_CASES`.

    :class:`InvalidInput` for a query that is not text or is too long. Audited
    (``cases_searched``: how many words and results, never the words).
    """
    if not isinstance(query, str):
        raise InvalidInput("query must be text")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"a search is at most {MAX_QUERY_CHARS} characters")
    words = [_folded(word) for word in query.split()][:8]
    since = max(now - timedelta(days=CASE_SEARCH_DAYS), _kept_since(now, retention_days))
    rows = session.scalars(
        select(Conversation)
        .join(Texter, Texter.id == Conversation.texter_id)
        .where(
            Conversation.advocate_id == user.id,
            Conversation.opened_at >= since,
            Texter.erasure_requested_at.is_(None),
            (Conversation.closed_at.is_(None)) | (Conversation.closed_at >= since),
        )
        .order_by(Conversation.opened_at.desc(), Conversation.id.desc())
        .limit(500)
    ).all()
    labels = _labels(session)
    found: list[Case] = []
    for conversation in rows:
        summary = _open(console, conversation.summary_ciphertext)
        label = labels.get(conversation.disposition or "")
        if words and not _matches(session, console, conversation, words, summary, label):
            continue
        found.append(
            {
                "id": conversation.id,
                "opened_at": iso_time(conversation.opened_at),
                "closed_at": iso_time_or_none(conversation.closed_at),
                "open": conversation.state is State.WITH_ADVOCATE,
                "disposition": conversation.disposition,
                "disposition_label": label,
                "summary": summary,
            }
        )
        if len(found) == MAX_CASES:
            break
    events.record(
        session, "cases_searched", now, actor_id=user.id, words=len(words), found=len(found)
    )
    return found


def _matches(
    session: Session,
    console: Console,
    conversation: Conversation,
    words: list[str],
    summary: str | None,
    label: str | None,
) -> bool:
    texts = [
        summary,
        label,
        conversation.disposition,
        _open(console, conversation.needs_ciphertext),
        _open(console, conversation.location_ciphertext),
        *session.scalars(
            select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation.id)
        ),
        *(
            _open(console, ciphertext)
            for ciphertext in session.scalars(
                select(Note.body_ciphertext).where(Note.conversation_id == conversation.id)
            )
        ),
    ]
    haystack = _folded(" ".join(text for text in texts if text))
    return all(word in haystack for word in words)


def _folded(text: str) -> str:
    """Lower case without accents: "Refugio" finds "refugio", "niño" finds "nino"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _open(console: Console, ciphertext: bytes | None) -> str | None:
    return console.vault.decrypt(ciphertext) if ciphertext is not None else None


__all__ = ["CASE_SEARCH_DAYS", "past_conversation", "search_cases"]
