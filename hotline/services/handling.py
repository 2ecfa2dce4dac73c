"""An advocate handling texters from the console: availability, taking the next texter or a
chosen one, replying, notes, tags, transferring, closing.

Each action checks the request (a :class:`Conflict` says what to change; a conversation the
caller may not see is :class:`NotFound`, by the console's rule), changes state, records the
event with who did it, and registers the live-update bumps and texts to send after commit.
Claiming, handing back and closing themselves are :mod:`hotline.services.claims`.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from hotline.services import events
from hotline.services.claims import (
    do_claim,
    do_close,
    do_hand_over,
    do_return_to_queue,
    do_take_next,
)
from hotline.services.console import Console
from hotline.services.errors import Conflict
from hotline.services.outbox import queue_text
from hotline.services.quick_replies import fill_reply

MAX_REPLY_CHARS = 1600
MAX_NOTE_CHARS = 4000


@dataclass(frozen=True)
class Handling:
    """An advocate's actions, checked by the console's rules (``console``: who may see what,
    the capacity limit, who is reachable)."""

    console: Console

    def set_availability(
        self, session: Session, user: StaffUser, availability: str, now: datetime
    ) -> None:
        try:
            user.availability = Availability(availability)
        except ValueError:
            raise Conflict("availability must be available or away") from None
        events.record(session, "availability", now, actor_id=user.id, availability=availability)
        after_commit.queue_changed(session)  # the supervisors' board shows who is available

    def _check_can_take(self, session: Session, user: StaffUser) -> None:
        """Refuse (:class:`Conflict`) another texter to an advocate who is away or full."""
        capacity = self.console.capacity
        if user.availability is not Availability.AVAILABLE:
            raise Conflict("you are set to away: set yourself available to take texters")
        if self.console.load(session, user.id) >= capacity:
            raise Conflict(f"you already have {capacity} active conversations: close one first")

    def take_next(self, session: Session, user: StaffUser, now: datetime) -> int:
        """Take the next texter in line; their conversation's id."""
        self._check_can_take(session, user)
        taken = do_take_next(session, self.console.triage, user.id, now)
        if taken is None:
            raise Conflict("nobody is waiting")
        return taken

    def claim(self, session: Session, user: StaffUser, conversation_id: int, now: datetime) -> None:
        self._check_can_take(session, user)
        do_claim(session, self.console.triage, conversation_id, user.id, now)

    def _held(self, session: Session, user: StaffUser, conversation_id: int) -> Conversation:
        conversation = self.console.visible(session, user, conversation_id)
        if conversation.advocate_id != user.id or conversation.state is not State.WITH_ADVOCATE:
            raise Conflict("take this conversation before acting on it")
        return conversation

    def reply(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> int:
        """Store the advocate's reply, to be sent once the transaction has committed; its id."""
        body = _written(body, "reply", MAX_REPLY_CHARS)
        if "\x00" in body:
            raise Conflict("the reply contains a character that cannot be sent")
        conversation = self._held(session, user, conversation_id)
        # A quick reply's variables, filled in; an unknown one is refused, never sent as typed.
        body = fill_reply(self.console, conversation, user, body)
        texter = lock_texter(session, conversation.texter_id)
        assert texter is not None
        if texter.opted_out:
            raise Conflict("this texter texted STOP: nothing can be sent until they text START")
        if texter.phone_ciphertext is None:
            raise Conflict("this texter's number was erased: nothing can be sent")
        message = queue_text(
            session, self.console.vault, texter.id, conversation, body, now, author_id=user.id
        )
        session.flush()  # its id, for the event
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

    def add_note(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> None:
        """A private note on a conversation the caller may see: never sent to the texter."""
        body = _written(body, "note", MAX_NOTE_CHARS)
        conversation = self.console.visible(session, user, conversation_id)
        self._add_note(session, conversation, user, body, now)
        after_commit.changed(session, conversation.id)

    def _add_note(
        self,
        session: Session,
        conversation: Conversation,
        user: StaffUser,
        body: str,
        now: datetime,
    ) -> None:
        note = Note(
            conversation_id=conversation.id,
            author_id=user.id,
            body_ciphertext=self.console.vault.encrypt(body),
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

    def tag(
        self, session: Session, user: StaffUser, conversation_id: int, tag: str, now: datetime
    ) -> None:
        """Put a tag from the supervisors' list on the conversation (tagging again changes
        nothing)."""
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
        conversation = self.console.visible(session, user, conversation_id)
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

    def transfer(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        to_advocate_id: int | None,
        note: str,
        now: datetime,
    ) -> None:
        """To a named advocate (available, with room), or back to the queue (None)."""
        conversation = self._held(session, user, conversation_id)
        note = _written(note, "note", MAX_NOTE_CHARS, required=False)
        target = None
        if to_advocate_id is not None:
            target = session.get(StaffUser, to_advocate_id)
            if target is None or not target.active or target.id == user.id:
                raise Conflict("choose another active advocate")
            self.console.check_reachable(session, target, now)
            lock_texter(session, conversation.texter_id)
        if note:
            self._add_note(session, conversation, user, note, now)
        if target is None:
            do_return_to_queue(session, self.console.triage, conversation.id, user.id, now)
        else:
            do_hand_over(session, conversation.id, user.id, target.id, now)
        events.record(
            session,
            "transferred",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            # The name as staff read it in the timeline, and the id behind it for the record
            # (the audit trail shows that as the name it has then).
            **({"to": "queue"} if target is None else {"to": target.name, "to_staff": target.id}),
        )

    def close(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        disposition: str,
        summary: str,
        now: datetime,
    ) -> None:
        """Close a conversation the advocate holds, with a disposition on the list and an
        optional summary (kept encrypted)."""
        known = session.get(Disposition, disposition)
        if known is None or not known.active:
            raise Conflict("choose a disposition to close")
        summary = _written(summary, "summary", MAX_NOTE_CHARS, required=False)
        conversation = self._held(session, user, conversation_id)
        do_close(session, self.console.triage, conversation.id, user.id, disposition, now)
        conversation.disposition = disposition
        if summary:
            conversation.summary_ciphertext = self.console.vault.encrypt(summary)


def _written(text: str, what: str, most: int, *, required: bool = True) -> str:
    """``text`` trimmed; :class:`Conflict` when it is empty (if ``required``) or longer than
    ``most`` characters, naming ``what`` it is."""
    text = text.strip()
    if required and not text:
        raise Conflict(f"write a {what} first")
    if len(text) > most:
        raise Conflict(f"a {what} is at most {most} characters")
    return text
