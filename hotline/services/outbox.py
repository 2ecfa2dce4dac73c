"""Storing a text for the texter: pending until the transaction commits, then sent.

Every text the hotline sends, the machine's and an advocate's alike, is stored here first and
registered to be sent once its transaction has committed (:mod:`hotline.db.after_commit`);
:class:`hotline.services.send.Dispatcher` sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, Message
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault


def queue_text(
    session: Session,
    vault: Vault,
    texter_id: int,
    conversation: Conversation | None,
    body: str,
    now: datetime,
    *,
    compliance: bool = False,
    author_id: int | None = None,
) -> Message:
    """Store an outbound text as pending, to be sent once the transaction has committed.

    Not flushed here: the transaction's next flush writes it with the rest of what changed (a
    caller that needs its id flushes).
    """
    message = Message(
        texter_id=texter_id,
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
    after_commit.send(session, message)
    return message
