"""Keeping texters' data only as long as it must be kept: key rotation, retention, erasure.

Every function here is idempotent and safe to run while the hotline serves texters, and twice
at once: each change is a conditional UPDATE that only touches what still needs it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from hotline.db import after_commit
from hotline.db.content import columns
from hotline.db.models import (
    Base,
    Conversation,
    ConversationStatus,
    Event,
    EventDetail,
    Message,
    RecoveryCode,
    SignInAttempt,
    StaffSession,
    Texter,
)
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.triage import Event as TriageEvent
from hotline.domain.triage import On, State
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.erasure import PURGED, empty_content, erase_texter_content, forget_texter
from hotline.services.triage import Triage


def encrypted_columns() -> list[tuple[Column[Any], Column[Any]]]:
    """Every column that holds ciphertext, with its table's primary key: derived from what the
    columns declare (:mod:`hotline.db.content`), so a new one is rotated without a change here."""
    found = []
    for table, column, _ in columns(Base.metadata, where="encrypted"):
        [key] = table.primary_key.columns
        found.append((key, column))
    return found


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
    for key_column, value_column in encrypted_columns():
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
                        update(value_column.table)
                        .where(key_column == key, value_column == value)
                        .values({value_column.name: vault.rotate(value)})
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
    details: int = 0
    reasons: int = 0
    sign_in_attempts: int = 0
    staff_sessions: int = 0
    recovery_codes: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def lines(self) -> list[str]:
        """What was removed, for ``hotline purge`` and the log: one phrase per kind."""
        return [
            f"{self.texts} texts emptied",
            f"{self.notes} notes and review feedback emptied",
            f"{self.answers} conversations' answers, flags and risk reasons emptied",
            f"{self.details} event details emptied",
            f"{self.reasons} stated reasons erased",
            f"{self.numbers} texters' numbers forgotten (number dropped, hash replaced)",
            f"{self.sign_in_attempts} sign-in attempts deleted",
            f"{self.staff_sessions} ended staff sessions deleted",
            f"{self.recovery_codes} used recovery codes deleted",
        ]


def _erase(session: Session, column: InstrumentedAttribute[Any], *where: Any) -> int:
    result = session.execute(
        update(column.class_)
        .where(column.is_not(None), *where)
        .values({column.key: None})
        .execution_options(synchronize_session=False)
    )
    return cast(int, result.rowcount)  # type: ignore[attr-defined]


def _no_pending_work() -> list[ColumnElement[bool]]:
    """The texter has nothing left to send or to answer: forgetting their number now would
    lose a text."""
    unsent = exists().where(
        Message.texter_id == Texter.id,
        Message.direction == Direction.OUTBOUND,
        Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
    )
    unanswered = exists().where(
        Message.texter_id == Texter.id,
        Message.direction == Direction.INBOUND,
        Message.processed_at.is_(None),
    )
    return [~unsent, ~unanswered]


def purge_expired(
    session: Session,
    now: datetime,
    retention_days: float,
    staff_record_days: float | None = None,
) -> PurgeReport:
    """Erase the content of conversations closed more than ``retention_days`` ago, and forget
    texters away that long; delete staff records older than ``staff_record_days``.

    What is emptied is what the columns declare ``purged`` (:mod:`hotline.db.content`): texts,
    notes, free-text and yes/no answers, flags, risk reasons, Twilio's message ids and the
    events' values; staff members' stated reasons go when as old. What stays is anonymous
    figures: when, how long, priority, disposition, tags, survey scores. A texter with no open
    or recent conversation and nothing left to send is forgotten: their number goes and its
    keyed hash is replaced (an opt-out stays as a bare hash: :func:`forget_texter`). Running it
    twice, or two at once, changes nothing more than running it once.
    """
    cutoff = now - timedelta(days=retention_days)
    expired = select(Conversation.id).where(
        Conversation.status == ConversationStatus.CLOSED,
        Conversation.closed_at < cutoff,
        Conversation.state.in_((State.ENDED, State.JUST_CLOSED, State.SURVEY)),
    )
    report = PurgeReport()
    emptied = empty_content(session, PURGED, expired, loose_before=cutoff)
    report.texts = emptied.get("messages", 0)
    report.notes = emptied.get("notes", 0) + emptied.get("quality_reviews", 0)
    report.answers = emptied.get("conversations", 0)
    report.details = emptied.get("event_details", 0)
    report.reasons = _erase(
        session,
        EventDetail.reason_ciphertext,
        EventDetail.event_id.in_(select(Event.id).where(Event.created_at < cutoff)),
    )
    recent_or_open = exists().where(
        Conversation.texter_id == Texter.id,
        (Conversation.status == ConversationStatus.OPEN) | (Conversation.closed_at >= cutoff),
    )
    away = session.scalars(
        select(Texter)
        .where(
            Texter.phone_ciphertext.is_not(None),
            Texter.last_seen_at < cutoff,
            ~recent_or_open,
            *_no_pending_work(),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for texter in away:
        forget_texter(session, texter)
    report.numbers = len(away)
    if staff_record_days is not None:
        _purge_staff_records(session, now - timedelta(days=staff_record_days), report)
    if report.total:
        events.record(session, "purged", now, retention_days=retention_days, **asdict(report))
    return report


def _purge_staff_records(session: Session, cutoff: datetime, report: PurgeReport) -> None:
    """Sign-in attempts, ended (or long dead) sessions and used recovery codes older than
    ``cutoff``: the lockout looks back minutes, and the audit trail keeps each sign-in."""

    def deleted(statement: Any) -> int:
        return cast(int, session.execute(statement).rowcount)  # type: ignore[attr-defined]

    report.sign_in_attempts = deleted(delete(SignInAttempt).where(SignInAttempt.at < cutoff))
    report.staff_sessions = deleted(
        delete(StaffSession).where(
            func.coalesce(StaffSession.ended_at, StaffSession.last_seen_at) < cutoff
        )
    )
    report.recovery_codes = deleted(delete(RecoveryCode).where(RecoveryCode.used_at < cutoff))


def erase_texter(
    session: Session,
    triage: Triage,
    texter_id: int,
    now: datetime,
    *,
    actor_id: int | None,
    by: str,
    sealed_reason: bytes | None = None,
    keep_number: bool = False,
) -> None:
    """Erase a texter everywhere (:func:`erase_texter_content`); open conversations end. A
    ``texter_erased`` event stays as the tombstone.

    Holds the texter's lock, so a text being processed at the same moment is handled either
    before (and erased with the rest) or after (and finds its own text erased). With
    ``keep_number`` the number stays until a confirmation queued after this has been sent.
    """
    if lock_texter(session, texter_id) is None:
        raise LookupError(texter_id)
    for conversation in session.scalars(
        select(Conversation).where(
            Conversation.texter_id == texter_id, Conversation.status == ConversationStatus.OPEN
        )
    ).all():
        triage.close(session, conversation, "erased", now)  # then STOP ends it without a word
        triage.advance(session, conversation, TriageEvent(On.STOP), now)
    erase_texter_content(
        session,
        texter_id,
        now,
        actor_id=actor_id,
        by=by,
        sealed_reason=sealed_reason,
        keep_number=keep_number,
    )
    after_commit.queue_changed(session)


def finish_erasures(session: Session) -> int:
    """Once nothing is left to send an erased texter: drop their number, and empty the last
    texts (the confirmation) and Twilio's ids of them. How many texters were finished."""
    # Not yet finished: still holding the number (so each sweep looks at few rows).
    erased_and_done = and_(
        Texter.erasure_requested_at.is_not(None),
        Texter.phone_ciphertext.is_not(None),
        *_no_pending_work(),
    )
    finished = select(Texter.id).where(erased_and_done)
    session.execute(
        update(Message)
        .where(
            Message.texter_id.in_(finished),
            or_(Message.body_ciphertext.is_not(None), Message.twilio_sid.is_not(None)),
        )
        .values(body_ciphertext=None, twilio_sid=None)
        .execution_options(synchronize_session=False)
    )
    return _erase(session, Texter.phone_ciphertext, erased_and_done)
