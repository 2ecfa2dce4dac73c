"""An advocate handling texters from the console: availability, taking the next texter or a
chosen one, replying, notes, tags, transferring, closing.

Each ``do_*`` checks the request (a :class:`Conflict` says what to change; a conversation the
caller may not see is :class:`NotFound`, by the console's rule), changes state, records the
event with who did it, and registers the live-update bumps and texts to send after commit.
Claiming, handing back and closing themselves are :mod:`hotline.services.claims`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import (
    Availability,
    Conversation,
    ConversationTag,
    Disposition,
    Note,
    StaffUser,
    Tag,
)
from hotline.db.session import lock_texter
from hotline.domain.segments import count_segments
from hotline.domain.triage import State
from hotline.services import claims, events
from hotline.services.console import Console
from hotline.services.errors import Conflict
from hotline.services.outbox import queue_text

MAX_REPLY_CHARS = 1600
MAX_NOTE_CHARS = 4000


def do_set_availability(
    session: Session, user: StaffUser, availability: str, now: datetime
) -> None:
    try:
        user.availability = Availability(availability)
    except ValueError:
        raise Conflict("availability must be available or away") from None
    events.record(session, "availability", now, actor_id=user.id, availability=availability)
    after_commit.queue_changed(session)  # the supervisors' board shows who is available


def check_can_take(session: Session, console: Console, user: StaffUser) -> None:
    """Refuse (:class:`Conflict`) another texter to an advocate who is away or full."""
    if user.availability is not Availability.AVAILABLE:
        raise Conflict("you are set to away: set yourself available to take texters")
    if console.load(session, user.id) >= console.capacity:
        raise Conflict(f"you already have {console.capacity} active conversations: close one first")


def do_take_next(session: Session, console: Console, user: StaffUser, now: datetime) -> int:
    """Take the next texter in line; their conversation's id."""
    check_can_take(session, console, user)
    taken = claims.do_take_next(session, console.triage, user.id, now)
    if taken is None:
        raise Conflict("nobody is waiting")
    return taken


def do_claim(
    session: Session, console: Console, user: StaffUser, conversation_id: int, now: datetime
) -> None:
    check_can_take(session, console, user)
    claims.do_claim(session, console.triage, conversation_id, user.id, now)


def _held(
    session: Session, console: Console, user: StaffUser, conversation_id: int
) -> Conversation:
    conversation = console.visible(session, user, conversation_id)
    if conversation.advocate_id != user.id or conversation.state is not State.WITH_ADVOCATE:
        raise Conflict("take this conversation before acting on it")
    return conversation


def do_reply(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    body: str,
    now: datetime,
) -> int:
    """Store the advocate's reply, to be sent once the transaction has committed; its id."""
    body = body.strip()
    if not body:
        raise Conflict("write a reply first")
    if len(body) > MAX_REPLY_CHARS:
        raise Conflict(f"a reply is at most {MAX_REPLY_CHARS} characters")
    if "\x00" in body:
        raise Conflict("the reply contains a character that cannot be sent")
    conversation = _held(session, console, user, conversation_id)
    texter = lock_texter(session, conversation.texter_id)
    assert texter is not None
    if texter.opted_out:
        raise Conflict("this texter texted STOP: nothing can be sent until they text START")
    if texter.phone_ciphertext is None:
        raise Conflict("this texter's number was erased: nothing can be sent")
    message = queue_text(
        session, console.vault, texter.id, conversation, body, now, author_id=user.id
    )
    conversation.last_activity_at = now
    if conversation.first_reply_at is None:
        conversation.first_reply_at = now
    events.record(
        session,
        "advocate_reply",
        now,
        conversation_id=conversation.id,
        texter_id=texter.id,
        message_id=message.id,
        actor_id=user.id,
        segments=count_segments(body).segments,
    )
    after_commit.changed(session, conversation.id)
    return message.id


def do_add_note(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    body: str,
    now: datetime,
) -> None:
    """A private note on a conversation the caller may see: never sent to the texter."""
    body = body.strip()
    if not body:
        raise Conflict("write a note first")
    if len(body) > MAX_NOTE_CHARS:
        raise Conflict(f"a note is at most {MAX_NOTE_CHARS} characters")
    conversation = console.visible(session, user, conversation_id)
    _add_note(session, console, conversation, user, body, now)
    after_commit.changed(session, conversation.id)


def _add_note(
    session: Session,
    console: Console,
    conversation: Conversation,
    user: StaffUser,
    body: str,
    now: datetime,
) -> None:
    note = Note(
        conversation_id=conversation.id,
        author_id=user.id,
        body_ciphertext=console.vault.encrypt(body),
        created_at=now,
    )
    session.add(note)
    session.flush()
    events.record(
        session,
        "note_added",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=user.id,
        note_id=note.id,
    )


def do_tag(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    tag: str,
    now: datetime,
) -> None:
    """Put a tag from the supervisors' list on the conversation (once: tagging again is
    a no-op)."""
    tag = " ".join(tag.strip().lower().split())
    if not tag or len(tag) > 40 or not all(c.isalnum() or c in " -_" for c in tag):
        raise Conflict("a tag is 1 to 40 letters, digits, spaces, - or _")
    listed = session.get(Tag, tag)
    if listed is None or not listed.active:
        # Only the supervisors' list: free tags would split one meaning over many spellings.
        raise Conflict(
            f"\u201c{tag}\u201d is not on the tag list: choose one of the suggested tags "
            "(supervisors keep the list on the settings page)"
        )
    conversation = console.visible(session, user, conversation_id)
    exists = session.get(ConversationTag, (conversation.id, tag))
    if exists is None:
        session.add(
            ConversationTag(
                conversation_id=conversation.id, tag=tag, author_id=user.id, created_at=now
            )
        )
        events.record(
            session,
            "tagged",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            tag=tag,
        )
    after_commit.changed(session, conversation.id)


def do_transfer(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    to_advocate_id: int | None,
    note: str,
    now: datetime,
) -> None:
    """To a named advocate (available, with room), or back to the queue (None)."""
    conversation = _held(session, console, user, conversation_id)
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise Conflict(f"a note is at most {MAX_NOTE_CHARS} characters")
    if to_advocate_id is None:
        if note:
            _add_note(session, console, conversation, user, note, now)
        claims.do_return_to_queue(session, console.triage, conversation.id, user.id, now)
        events.record(
            session,
            "transferred",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            to="queue",
        )
        return
    target = session.get(StaffUser, to_advocate_id)
    if target is None or not target.active or target.id == user.id:
        raise Conflict("choose another active advocate")
    console.check_reachable(session, target, now)
    lock_texter(session, conversation.texter_id)
    if note:
        _add_note(session, console, conversation, user, note, now)
    conversation.advocate_id = target.id
    conversation.claimed_at = now
    events.record(
        session,
        "transferred",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        actor_id=user.id,
        to=target.email,
    )
    after_commit.changed(session, conversation.id)
    # Both advocates' "my conversations" lists travel with the queue: tell their consoles.
    after_commit.queue_changed(session)


def do_close(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    disposition: str,
    summary: str,
    now: datetime,
) -> None:
    """Close a conversation the advocate holds, with a disposition from the list and an
    optional summary (kept encrypted)."""
    known = session.get(Disposition, disposition)
    if known is None or not known.active:
        raise Conflict("choose a disposition to close")
    summary = summary.strip()
    if len(summary) > MAX_NOTE_CHARS:
        raise Conflict(f"a summary is at most {MAX_NOTE_CHARS} characters")
    conversation = _held(session, console, user, conversation_id)
    claims.do_close(session, console.triage, conversation.id, user.id, disposition, now)
    conversation.disposition = disposition
    if summary:
        conversation.summary_ciphertext = console.vault.encrypt(summary)
