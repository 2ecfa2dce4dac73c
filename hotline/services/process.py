"""Processing a texter's stored texts, one at a time and in order.

The worker calls :func:`process_pending` with the id of any stored inbound text. It takes the
texter's row lock, then handles every text of that texter not yet processed, oldest first. So
whichever task gets the lock first does the work in order, and a task for a text already handled
finds nothing to do: running it twice, or in the wrong order, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue import text as catalogue_text
from hotline.db.models import Conversation, ConversationStatus, Message, Texter
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.keywords import Keyword, parse_keyword
from hotline.services import events
from hotline.vault import Vault


@dataclass
class Outcome:
    """What processing produced, to act on once the transaction has committed."""

    processed: list[int] = field(default_factory=list)
    to_send: list[int] = field(default_factory=list)


def process_pending(session: Session, vault: Vault, message_id: int, now: datetime) -> Outcome:
    """Handle all unprocessed inbound texts of the texter who sent ``message_id``.

    Expects to run inside a transaction the caller commits; holds the texter's row lock from
    here to that commit.
    """
    outcome = Outcome()
    texter_id = session.scalar(select(Message.texter_id).where(Message.id == message_id))
    if texter_id is None:
        return outcome
    texter = lock_texter(session, texter_id)
    if texter is None:
        return outcome
    pending = session.scalars(
        select(Message)
        .where(
            Message.texter_id == texter.id,
            Message.direction == Direction.INBOUND,
            Message.processed_at.is_(None),
        )
        .order_by(Message.id)
    ).all()
    for message in pending:
        _handle(session, vault, texter, message, now, outcome)
        message.processed_at = now
        outcome.processed.append(message.id)
    texter.last_seen_at = now
    return outcome


def open_conversation(session: Session, texter: Texter) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.texter_id == texter.id, Conversation.status == ConversationStatus.OPEN
        )
    ).first()


def _handle(
    session: Session,
    vault: Vault,
    texter: Texter,
    message: Message,
    now: datetime,
    outcome: Outcome,
) -> None:
    body = vault.decrypt(message.body_ciphertext) if message.body_ciphertext is not None else ""
    keyword = parse_keyword(body)
    conversation = open_conversation(session, texter)

    if keyword is Keyword.STOP:
        message.conversation_id = conversation.id if conversation else None
        if texter.opted_out_at is None:
            texter.opted_out_at = now
            events.record(session, "opt_out", now, texter_id=texter.id, message_id=message.id)
            if conversation is not None:
                _close(session, conversation, now, reason="opt_out")
            _reply(
                session,
                vault,
                texter,
                conversation,
                "stop_confirmation",
                now,
                outcome,
                compliance=True,
            )
        return
    if keyword is Keyword.START and texter.opted_out_at is not None:
        texter.opted_out_at = None
        events.record(session, "opt_in", now, texter_id=texter.id, message_id=message.id)
        _reply(session, vault, texter, None, "start_confirmation", now, outcome, compliance=True)
        return
    if texter.opted_out_at is not None:
        # They asked us to stop: keep the text for the record, answer nothing but HELP.
        if keyword is Keyword.HELP:
            _reply(session, vault, texter, None, "help", now, outcome, compliance=True)
        events.record(
            session, "inbound_while_opted_out", now, texter_id=texter.id, message_id=message.id
        )
        return

    if conversation is None:
        conversation = Conversation(
            texter_id=texter.id,
            status=ConversationStatus.OPEN,
            state="acknowledged",
            priority="normal",
            opened_at=now,
            last_activity_at=now,
        )
        session.add(conversation)
        session.flush()
        returning = session.scalar(
            select(Conversation.id)
            .where(Conversation.texter_id == texter.id, Conversation.id != conversation.id)
            .limit(1)
        )
        events.record(
            session,
            "conversation_opened",
            now,
            conversation_id=conversation.id,
            texter_id=texter.id,
            returning_texter=returning is not None,
        )
        message.conversation_id = conversation.id
        # Placeholder until the triage machine answers: acknowledge every new conversation.
        key = "help" if keyword is Keyword.HELP else "acknowledgement"
        _reply(session, vault, texter, conversation, key, now, outcome, compliance=False)
        return

    message.conversation_id = conversation.id
    conversation.last_activity_at = now
    if keyword is Keyword.HELP:
        _reply(session, vault, texter, conversation, "help", now, outcome, compliance=True)


def _close(session: Session, conversation: Conversation, now: datetime, *, reason: str) -> None:
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = now
    events.record(
        session,
        "conversation_closed",
        now,
        conversation_id=conversation.id,
        texter_id=conversation.texter_id,
        reason=reason,
    )


def _reply(
    session: Session,
    vault: Vault,
    texter: Texter,
    conversation: Conversation | None,
    key: str,
    now: datetime,
    outcome: Outcome,
    *,
    compliance: bool,
) -> None:
    reply = queue_text(
        session,
        vault,
        texter,
        conversation,
        catalogue_text(key, texter.language),
        now,
        compliance=compliance,
    )
    outcome.to_send.append(reply.id)


def queue_text(
    session: Session,
    vault: Vault,
    texter: Texter,
    conversation: Conversation | None,
    body: str,
    now: datetime,
    *,
    compliance: bool = False,
    author_id: int | None = None,
) -> Message:
    """Store an outbound text as pending; the caller hands its id to the send task after commit."""
    message = Message(
        texter_id=texter.id,
        conversation_id=conversation.id if conversation else None,
        direction=Direction.OUTBOUND,
        body_ciphertext=vault.encrypt(body),
        status=DeliveryStatus.PENDING,
        compliance_notice=compliance,
        author_id=author_id,
        num_media=0,
        send_attempts=0,
        created_at=now,
        status_updated_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message
