"""A supervisor stepping into a conversation: a note to its advocate, reassigning it or taking
it over, and the exceptional acts that need a stated reason (revealing the texter's full number,
erasing the texter).

Each is in the audit trail with who did it; a stated reason is kept encrypted, apart from the
event (see :func:`hotline.services.events.stated_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, StaffRole, StaffUser, Texter
from hotline.db.session import lock_texter
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.claims import hold
from hotline.services.console import Console
from hotline.services.errors import Conflict, NotFound, Refusal
from hotline.services.handling import Handling
from hotline.services.privacy import erase_texter

REASON_MIN_CHARS = 10
REASON_MAX_CHARS = 500


@dataclass(frozen=True)
class Supervision:
    """A supervisor's acts on one conversation, by the console's rules (``console``)."""

    console: Console

    def note_to_advocate(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> None:
        """A private note for the advocate on the conversation: never sent to the texter."""
        Handling(self.console).add_note(session, user, conversation_id, body, now)
        events.record(
            session, "supervisor_note", now, conversation_id=conversation_id, actor_id=user.id
        )

    def reassign(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        to_staff_id: int,
        now: datetime,
        *,
        take_over: bool = False,
    ) -> None:
        """Give an active conversation to another advocate, or (``take_over``) to oneself."""
        conversation = self.console.visible(session, user, conversation_id)
        if conversation.state is not State.WITH_ADVOCATE:
            raise Conflict("only a conversation with an advocate can be reassigned")
        target = session.get(StaffUser, to_staff_id)
        if target is None or not target.active:
            raise Conflict("choose an active staff member")
        if not take_over:
            # Never to someone whose console is closed: the texter would wait on nobody.
            self.console.check_reachable(session, target, now)
        lock_texter(session, conversation.texter_id)
        session.refresh(conversation)
        previous = conversation.advocate_id
        if previous == target.id:
            raise Conflict("they already have this conversation")
        hold(session, conversation, target.id, now)
        events.record(
            session,
            "taken_over" if take_over else "reassigned",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            from_staff=previous,
            to_staff=target.id,
        )
        after_commit.queue_changed(session)
        after_commit.changed(session, conversation.id)

    def reveal_number(
        self, session: Session, user: StaffUser, conversation_id: int, reason: str, now: datetime
    ) -> str:
        """The texter's full number, for a supervisor with a stated reason; audited."""
        conversation, reason = self._with_reason(
            session, user, conversation_id, reason, "the full number is needed"
        )
        texter = session.get(Texter, conversation.texter_id)
        assert texter is not None
        if texter.phone_ciphertext is None:
            raise Conflict("this texter's number was erased")
        events.record(
            session,
            "number_revealed",
            now,
            conversation_id=conversation.id,
            texter_id=texter.id,
            actor_id=user.id,
            sealed_reason=self.console.vault.encrypt(reason),
        )
        return str(self.console.vault.decrypt(texter.phone_ciphertext))

    def erase_texter(
        self, session: Session, user: StaffUser, conversation_id: int, reason: str, now: datetime
    ) -> None:
        """A supervisor's "erase this texter": everything, everywhere, now; audited."""
        conversation, reason = self._with_reason(
            session, user, conversation_id, reason, "this texter is erased"
        )
        erase_texter(
            session,
            self.console.triage,
            conversation.texter_id,
            now,
            actor_id=user.id,
            by="supervisor",
            sealed_reason=self.console.vault.encrypt(reason),
        )

    def _with_reason(
        self, session: Session, user: StaffUser, conversation_id: int, reason: str, why: str
    ) -> tuple[Conversation, str]:
        """The conversation, for a supervisor who stated a reason; advocates see nothing."""
        if user.role not in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
            raise NotFound("no such conversation")
        reason = stated_reason(reason, why)
        return self.console.visible(session, user, conversation_id), reason


def stated_reason(reason: str, why: str, refusal: type[Refusal] = Conflict) -> str:
    """A supervisor's reason for an exceptional read (a full number, exported message text):
    trimmed, at most ``REASON_MAX_CHARS`` kept. Raises ``refusal`` when it is shorter than
    ``REASON_MIN_CHARS``, with a message that says ``why`` a reason is asked for."""
    reason = reason.strip()
    if len(reason) < REASON_MIN_CHARS:
        raise refusal(f"state why {why} (at least {REASON_MIN_CHARS} characters)")
    return reason[:REASON_MAX_CHARS]
