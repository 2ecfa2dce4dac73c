"""An advocate asking a supervisor for help, and the supervisor's answer.

Asking raises an alert of kind ``help_requested`` on the supervisors' board (the alerts
machinery of :mod:`hotline.services.alerts`), with the advocate's short reason kept encrypted
as the event's stated reason: it is staff writing, but it may well describe the texter. The
supervisor's answer is a private note in that conversation (never sent to the texter), and
answering acknowledges the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Event, StaffUser
from hotline.services import events
from hotline.services.alerts import do_acknowledge, kind_of
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.handling import MAX_NOTE_CHARS
from hotline.services.supervision import Supervision

HELP_REQUESTED = "help_requested"
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class Asking:
    """Asking for and giving help, by the console's rules (``supervision.console``)."""

    supervision: Supervision

    def ask(
        self, session: Session, user: StaffUser, conversation_id: int, reason: str, now: datetime
    ) -> int:
        """Alert the supervisors about a conversation ``user`` holds; the alert's id.

        :class:`InvalidInput` when the reason is empty or longer than ``MAX_REASON_CHARS``;
        :class:`Conflict` when the conversation is not ``user``'s to ask about.
        """
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidInput("say in a few words what you need help with")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(f"the reason is at most {MAX_REASON_CHARS} characters")
        console = self.supervision.console
        conversation = console.visible(session, user, conversation_id)
        if conversation.advocate_id != user.id:
            raise Conflict("ask about a conversation you hold")
        alert_id = events.record_at_once(
            session,
            "alert",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            sealed_reason=console.vault.encrypt(reason),
            alert=HELP_REQUESTED,
            advocate_id=user.id,
        )
        # The boards list open alerts with the queue: its counter makes them look again.
        after_commit.queue_changed(session)
        after_commit.changed(session, conversation.id)
        return alert_id

    def answer(
        self, session: Session, user: StaffUser, alert_id: int, answer: str, now: datetime
    ) -> int:
        """Put a supervisor's answer to a request for help in its conversation as a note, and
        acknowledge the request; the conversation's id.

        :class:`NotFound` for no such request; :class:`Conflict` when someone answered or
        acknowledged it already (nothing is added then).
        """
        if not 0 < alert_id < 2**31:
            raise NotFound("no such request for help")
        alert = session.get(Event, alert_id)
        if alert is None or kind_of(alert) != HELP_REQUESTED or alert.conversation_id is None:
            raise NotFound("no such request for help")
        body = answer.strip()
        if not body:
            raise InvalidInput("write an answer first")
        if len(body) > MAX_NOTE_CHARS:
            raise InvalidInput(f"an answer is at most {MAX_NOTE_CHARS} characters")
        # First: it takes the alert's lock and refuses one answered already.
        do_acknowledge(session, user, alert.id, now)
        self.supervision.note_to_advocate(session, user, alert.conversation_id, body, now)
        events.record(
            session,
            "help_answered",
            now,
            conversation_id=alert.conversation_id,
            texter_id=alert.texter_id,
            actor_id=user.id,
            alert_id=alert.id,
        )
        return alert.conversation_id
