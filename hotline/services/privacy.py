"""Keeping texters' data only as long as it must be kept: key rotation, retention, erasure.

Every function here is idempotent and safe to run while the hotline serves texters, and twice
at once: each change is a conditional UPDATE that only touches what still needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Message,
    Note,
    QualityReview,
    StaffUser,
    Texter,
)
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.triage import Event as TriageEvent
from hotline.domain.triage import On, State
from hotline.services import events
from hotline.services.triage import Outcome, Triage, erase_texter_content
from hotline.vault import Vault

# Every column that holds ciphertext, with its table's primary key.
ENCRYPTED: tuple[tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]], ...] = (
    (Texter.id, Texter.phone_ciphertext),
    (Message.id, Message.body_ciphertext),
    (Conversation.id, Conversation.needs_ciphertext),
    (Conversation.id, Conversation.location_ciphertext),
    (Conversation.id, Conversation.summary_ciphertext),
    (Note.id, Note.body_ciphertext),
    (QualityReview.id, QualityReview.feedback_ciphertext),
    (StaffUser.id, StaffUser.totp_secret_ciphertext),
    (StaffUser.id, StaffUser.totp_pending_ciphertext),
)


@dataclass
class RotationReport:
    rotated: int = 0
    already_current: int = 0
    batches: int = 0
    finished: bool = False


def rotate_keys(
    sessions: sessionmaker[Session],
    vault: Vault,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> RotationReport:
    """Re-encrypt every value not yet under the newest key, one committed batch at a time.

    Interrupt it at any point and run it again: it skips what is already current. Each value is
    replaced only if it is still the one read (an erasure in between wins). ``max_batches``
    stops early (for tests and for spreading the work out).
    """
    report = RotationReport()
    for key_column, value_column in ENCRYPTED:
        after: Any = None
        while True:
            if max_batches is not None and report.batches >= max_batches:
                return report
            with sessions.begin() as session:
                query = select(key_column, value_column).where(value_column.is_not(None))
                if after is not None:
                    query = query.where(key_column > after)
                rows = session.execute(query.order_by(key_column).limit(batch_size)).all()
                if not rows:
                    break
                for key, value in rows:
                    if vault.is_current(value):
                        report.already_current += 1
                        continue
                    session.execute(
                        update(key_column.class_)
                        .where(key_column == key, value_column == value)
                        .values({value_column.key: vault.rotate(value)})
                        .execution_options(synchronize_session=False)
                    )
                    report.rotated += 1
                after = rows[-1][0]
            report.batches += 1
    report.finished = True
    return report


@dataclass
class PurgeReport:
    texts: int = 0
    notes: int = 0
    answers: int = 0
    numbers: int = 0

    @property
    def total(self) -> int:
        return self.texts + self.notes + self.answers + self.numbers


def _erase(session: Session, column: InstrumentedAttribute[Any], *where: Any) -> int:
    table = column.class_
    count: int = session.execute(  # type: ignore[attr-defined]
        update(table)
        .where(column.is_not(None), *where)
        .values({column.key: None})
        .execution_options(synchronize_session=False)
    ).rowcount
    return count


def purge_expired(session: Session, now: datetime, retention_days: float) -> PurgeReport:
    """Erase the content of conversations closed more than ``retention_days`` ago.

    What stays is anonymous: when, how long, which priority and disposition, survey scores. A
    texter's number goes once none of their conversations is open or recent; their keyed hash
    stays, so an opt-out is still honoured. Running it twice, or two at once, changes nothing
    more than running it once.
    """
    cutoff = now - timedelta(days=retention_days)
    expired = select(Conversation.id).where(
        Conversation.status == ConversationStatus.CLOSED,
        Conversation.closed_at < cutoff,
        Conversation.state.in_((State.ENDED, State.SURVEY)),
    )
    report = PurgeReport()
    report.texts = _erase(session, Message.body_ciphertext, Message.conversation_id.in_(expired))
    report.notes = _erase(session, Note.body_ciphertext, Note.conversation_id.in_(expired))
    report.notes += _erase(
        session, QualityReview.feedback_ciphertext, QualityReview.conversation_id.in_(expired)
    )  # a reviewer's feedback may retell the conversation: it is a note about it
    for column in (
        Conversation.needs_ciphertext,
        Conversation.location_ciphertext,
        Conversation.summary_ciphertext,
    ):
        report.answers += _erase(session, column, Conversation.id.in_(expired))
    # The lexicon phrases that matched echo the texter's words: they go too (not counted).
    session.execute(
        update(Conversation)
        .where(Conversation.id.in_(expired))
        .values(risk_reasons=None)
        .execution_options(synchronize_session=False)
    )
    recent_or_open = exists().where(
        Conversation.texter_id == Texter.id,
        (Conversation.status == ConversationStatus.OPEN) | (Conversation.closed_at >= cutoff),
    )
    unsent = exists().where(
        Message.texter_id == Texter.id,
        Message.direction == Direction.OUTBOUND,
        Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
    )
    report.numbers = _erase(
        session,
        Texter.phone_ciphertext,
        Texter.last_seen_at < cutoff,
        ~recent_or_open,
        ~unsent,
    )
    if report.total:
        events.record(
            session,
            "purged",
            now,
            texts=report.texts,
            notes=report.notes,
            answers=report.answers,
            numbers=report.numbers,
            retention_days=retention_days,
        )
    return report


def erase_texter(
    session: Session,
    triage: Triage,
    texter_id: int,
    now: datetime,
    *,
    actor_id: int | None,
    reason: str,
    keep_number: bool = False,
) -> Outcome:
    """Erase a texter everywhere: every text, note and answer, and their number; open
    conversations end. A ``texter_erased`` event stays as the tombstone.

    Holds the texter's lock, so a text being processed at the same moment is handled either
    before (and erased with the rest) or after (and finds its own text erased). With
    ``keep_number`` the number stays until a confirmation queued after this has been sent.
    """
    if lock_texter(session, texter_id) is None:
        raise LookupError(texter_id)
    outcome = Outcome()
    for conversation in session.scalars(
        select(Conversation).where(
            Conversation.texter_id == texter_id, Conversation.status == ConversationStatus.OPEN
        )
    ).all():
        triage.close(session, conversation, "erased", now)  # then STOP ends it without a word
        triage.advance(session, conversation, TriageEvent(On.STOP), now, outcome)
    erase_texter_content(session, texter_id, now, actor_id=actor_id, reason=reason)
    if not keep_number:
        texter = session.get(Texter, texter_id)
        assert texter is not None
        texter.phone_ciphertext = None
    outcome.queue_changed = True
    return outcome


def finish_erasures(session: Session) -> int:
    """Drop the numbers of erased texters once nothing is left to send them."""
    unsent = exists().where(
        Message.texter_id == Texter.id,
        Message.direction == Direction.OUTBOUND,
        Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
    )
    return _erase(
        session,
        Texter.phone_ciphertext,
        and_(Texter.erasure_requested_at.is_not(None), ~unsent),
    )
