"""The weekly quality review: drawing last week's sample, reviewing it, feedback to advocates.

Each week a random sample of the conversations closed the week before is drawn for review
(:func:`draw_week`). A supervisor reads the transcript (through the console's audited API) and
scores it against :data:`hotline.domain.review.RUBRIC`, with feedback for the advocate,
encrypted at rest like a note (:func:`do_submit_review`). A review is submitted once and is
read-only after. The advocate sees the reviews of their own conversations, and only those
(:func:`advocate_feedback`), and marks each one read (:func:`do_mark_seen`).

Every change is an event; feedback text never goes into one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Event,
    QualityReview,
    StaffUser,
)
from hotline.domain.review import (
    NOT_APPLICABLE,
    RUBRIC,
    SCALE,
    CriterionJson,
    ScoreError,
    Scores,
    check_feedback,
    choose_sample,
    previous_week,
    validate_scores,
    week_bounds,
)
from hotline.domain.risk import Priority
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.answers import IsoDate, IsoTime, iso_date, iso_time, iso_time_or_none
from hotline.services.errors import Conflict, InvalidInput, NotFound

# A week is drawn this long after it ended, so a conversation closed in its last second has
# surely committed by then.
DRAW_GRACE = timedelta(minutes=10)
WEEKS_LISTED = 52
FEEDBACK_LISTED = 50
# pg_advisory_xact_lock key space of the draw ("QREV"), one lock per week.
_LOCK_NAMESPACE = 0x51524556


class ReviewNotFound(NotFound):
    """No such review, or not one this person may see (404, "no such review")."""

    def __init__(self) -> None:
        super().__init__("no such review")


@dataclass
class Draw:
    """What one draw did. ``already_drawn``: the week had its sample, nothing was added."""

    week_start: date
    sampled: list[int] = field(default_factory=list)  # conversation ids added
    candidates: int = 0
    already_drawn: bool = False


# -- what the review pages read (the JSON their scripts read, field for field) ------------------


class ScalePoint(TypedDict):
    score: int
    label: str


class Rubric(TypedDict):
    criteria: list[CriterionJson]
    scale: list[ScalePoint]
    not_applicable: str  # the answer a criterion that allows it takes instead of a score


class SampledReview(TypedDict):
    """One conversation of a week's sample, for supervisors. No feedback text."""

    id: int
    conversation_id: int
    week_start: IsoDate
    advocate_id: int | None
    advocate: str | None
    opened_at: IsoTime
    closed_at: IsoTime | None
    disposition: str | None
    priority: Priority
    language: str
    writes_in: str | None
    erased: bool
    reviewed: bool
    reviewer: str | None
    reviewed_at: IsoTime | None
    seen_at: IsoTime | None  # when the advocate read the review
    scores: Scores | None


class ReviewDetail(SampledReview):
    feedback: str | None


class CriterionScore(TypedDict):
    key: str
    label: str
    score: int | str | None  # 1 to 4, "n/a", or None when the review has none for it


class FeedbackEntry(TypedDict):
    """A review of one of the advocate's own conversations."""

    id: int
    conversation_id: int
    week_start: IsoDate
    closed_at: IsoTime | None
    disposition: str | None
    reviewer: str | None
    reviewed_at: IsoTime | None
    seen: bool
    scores: list[CriterionScore]
    feedback: str | None


class Feedback(TypedDict):
    unseen: int
    items: list[FeedbackEntry]
    rubric: Rubric


def rubric_json() -> Rubric:
    return {
        "criteria": [criterion.as_json() for criterion in RUBRIC],
        "scale": [{"score": score, "label": label} for score, label in SCALE.items()],
        "not_applicable": NOT_APPLICABLE,
    }


def default_week(now: datetime) -> date:
    """The week a draw at ``now`` is for: the last one that ended (a little while) ago."""
    return previous_week(now - DRAW_GRACE)


def check_week(week_start: date, now: datetime) -> None:
    """:class:`InvalidInput` unless ``week_start`` is a Monday of a week that is over."""
    if week_start.weekday() != 0:
        raise InvalidInput("week must be a Monday, like 2026-11-16")
    if week_bounds(week_start)[1] + DRAW_GRACE > now:
        raise InvalidInput("that week is not over yet: a week is drawn once it has ended")


def erased() -> ColumnElement[bool]:
    """True for a conversation whose texter was erased after it opened (its content is gone).

    Erasure clears every conversation the texter had so far and leaves a ``texter_erased``
    event as the tombstone; the texter's own mark is cleared if they text again, the event
    stays. Conversations ended by the erasure itself also carry the close reason.
    """
    return or_(
        func.coalesce(Conversation.close_reason, "") == "erased",
        exists().where(
            Event.kind == "texter_erased",
            Event.texter_id == Conversation.texter_id,
            Event.created_at >= Conversation.opened_at,
        ),
    )


def _lock_week(session: Session, week_start: date) -> None:
    """Serialise draws of one week across processes, until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every write transaction began with
    ``BEGIN IMMEDIATE`` and so already holds the database's one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = (_LOCK_NAMESPACE << 32) | week_start.toordinal()
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": key})


def draw_week(
    session: Session,
    week_start: date,
    now: datetime,
    *,
    sample_size: int,
    per_advocate: int,
    rng: random.Random | None = None,
) -> Draw:
    """Draw the review sample of the week starting ``week_start`` (a Monday, in UTC).

    Candidates: conversations closed in that week that an advocate held, not erased, not in a
    sample already. See :func:`hotline.domain.review.choose_sample` for who is chosen. Drawing
    a week that has a sample adds nothing, and two draws at once add one sample: the second
    waits for the first's lock, then finds its rows. Raises :class:`InvalidInput` for a week
    that is not a Monday or not over.
    """
    check_week(week_start, now)
    _lock_week(session, week_start)
    drawn = Draw(week_start)
    if session.scalar(
        select(QualityReview.id).where(QualityReview.week_start == week_start).limit(1)
    ):
        drawn.already_drawn = True
        return drawn
    start, end = week_bounds(week_start)
    rows = session.execute(
        select(Conversation.id, Conversation.advocate_id)
        .where(
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at >= start,
            Conversation.closed_at < end,
            Conversation.advocate_id.is_not(None),
            ~erased(),
            ~exists().where(QualityReview.conversation_id == Conversation.id),
        )
        .order_by(Conversation.id)
    ).all()
    candidates = [(row.id, row.advocate_id) for row in rows if row.advocate_id is not None]
    drawn.candidates = len(candidates)
    chosen = choose_sample(candidates, sample_size, per_advocate, rng or random.SystemRandom())
    if not chosen:
        return drawn
    advocate_of = dict(candidates)
    session.add_all(
        QualityReview(
            conversation_id=conversation_id,
            advocate_id=advocate_of[conversation_id],
            week_start=week_start,
            sampled_at=now,
        )
        for conversation_id in chosen
    )
    session.flush()  # a second sample of a conversation fails here, on the unique constraint
    drawn.sampled = chosen
    events.record(
        session,
        "reviews_drawn",
        now,
        week_start=week_start.isoformat(),
        sampled=len(chosen),
        candidates=len(candidates),
        advocates=len(set(advocate_of.values())),
        sample_size=sample_size,
        per_advocate=per_advocate,
    )
    return drawn


# -- supervisors: the samples and one review ---------------------------------------------------


def sample_weeks(session: Session) -> list[IsoDate]:
    """Weeks that have a sample, newest first (ISO dates of their Mondays)."""
    weeks = session.scalars(
        select(QualityReview.week_start)
        .group_by(QualityReview.week_start)
        .order_by(QualityReview.week_start.desc())
        .limit(WEEKS_LISTED)
    )
    return [iso_date(week) for week in weeks]


def _rows() -> Any:
    advocate = aliased(StaffUser, name="advocate")
    reviewer = aliased(StaffUser, name="reviewer")
    return (
        select(QualityReview, Conversation, advocate, reviewer, erased().label("erased"))
        .join(Conversation, Conversation.id == QualityReview.conversation_id)
        .outerjoin(advocate, advocate.id == QualityReview.advocate_id)
        .outerjoin(reviewer, reviewer.id == QualityReview.reviewer_id)
    )


def _row_json(row: Any) -> SampledReview:
    review: QualityReview = row.QualityReview
    conversation: Conversation = row.Conversation
    return {
        "id": review.id,
        "conversation_id": review.conversation_id,
        "week_start": iso_date(review.week_start),
        "advocate_id": review.advocate_id,
        "advocate": row.advocate.name if row.advocate is not None else None,
        "opened_at": iso_time(conversation.opened_at),
        "closed_at": iso_time_or_none(conversation.closed_at),
        "disposition": conversation.disposition,
        "priority": conversation.priority,
        "language": conversation.language,
        "writes_in": conversation.texter_language,
        "erased": bool(row.erased),
        "reviewed": review.reviewed_at is not None,
        "reviewer": row.reviewer.name if row.reviewer is not None else None,
        "reviewed_at": iso_time_or_none(review.reviewed_at),
        "seen_at": iso_time_or_none(review.seen_at),
        "scores": review.scores,
    }


def week_sample(session: Session, week_start: date) -> list[SampledReview]:
    """The week's sample: to review first, then by when each was closed. No feedback text."""
    rows = session.execute(
        _rows()
        .where(QualityReview.week_start == week_start)
        .order_by(QualityReview.reviewed_at.is_not(None), Conversation.closed_at, QualityReview.id)
    ).all()
    return [_row_json(row) for row in rows]


def review_detail(session: Session, vault: Vault, review_id: int) -> ReviewDetail:
    """One review with its feedback, for supervisors. :class:`ReviewNotFound` if none."""
    row = session.execute(_rows().where(QualityReview.id == review_id)).first()
    if row is None:
        raise ReviewNotFound()
    ciphertext = row.QualityReview.feedback_ciphertext
    return {
        **_row_json(row),
        "feedback": vault.decrypt(ciphertext) if ciphertext is not None else None,
    }


def do_submit_review(
    session: Session,
    vault: Vault,
    reviewer: StaffUser,
    review_id: int,
    scores: object,
    feedback: object,
    now: datetime,
) -> None:
    """Score a sampled conversation and leave feedback for its advocate; once only.

    Raises :class:`ReviewNotFound`, :class:`InvalidInput` for scores or feedback that do not
    fit the rubric, and :class:`Conflict` when it was reviewed already (by anyone, even a
    moment ago in another request), is the reviewer's own, or was erased since it was drawn.
    """
    review = session.get(QualityReview, review_id)
    if review is None:
        raise ReviewNotFound()
    if review.reviewed_at is not None:
        raise Conflict("this conversation was reviewed already; a review cannot be changed")
    if review.advocate_id == reviewer.id:
        raise Conflict("you handled this conversation: another supervisor reviews it")
    if session.scalar(select(erased()).where(Conversation.id == review.conversation_id)):
        raise Conflict("this texter was erased after the sample was drawn: nothing to review")
    try:
        checked_scores = validate_scores(scores)
        checked_feedback = check_feedback(feedback)
    except ScoreError as error:
        raise InvalidInput(str(error)) from None
    # Conditional, so that of two reviewers submitting at once exactly one is recorded.
    done = session.execute(
        update(QualityReview)
        .where(QualityReview.id == review_id, QualityReview.reviewed_at.is_(None))
        .values(
            reviewer_id=reviewer.id,
            reviewed_at=now,
            scores=checked_scores,
            feedback_ciphertext=vault.encrypt(checked_feedback),
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this conversation was reviewed already; a review cannot be changed")
    session.expire(review)  # read afresh: the UPDATE went around the loaded object
    events.record(
        session,
        "review_submitted",
        now,
        conversation_id=review.conversation_id,
        actor_id=reviewer.id,
        review_id=review.id,
        advocate_id=review.advocate_id,
        week_start=review.week_start.isoformat(),
        scores=checked_scores,
    )


# -- advocates: feedback on their own conversations ----------------------------------------------


def advocate_feedback(session: Session, vault: Vault, advocate: StaffUser) -> Feedback:
    """The reviews of ``advocate``'s own conversations, newest first; nobody else's."""
    reviewer = aliased(StaffUser)
    mine = (QualityReview.advocate_id == advocate.id, QualityReview.reviewed_at.is_not(None))
    rows = session.execute(
        select(QualityReview, Conversation, reviewer)
        .join(Conversation, Conversation.id == QualityReview.conversation_id)
        .outerjoin(reviewer, reviewer.id == QualityReview.reviewer_id)
        .where(*mine)
        .order_by(QualityReview.reviewed_at.desc(), QualityReview.id.desc())
        .limit(FEEDBACK_LISTED)
    ).all()
    unseen = session.scalar(
        select(func.count())
        .select_from(QualityReview)
        .where(*mine, QualityReview.seen_at.is_(None))
    )
    items: list[FeedbackEntry] = []
    for review, conversation, by in rows:
        scores = review.scores or {}
        items.append(
            {
                "id": review.id,
                "conversation_id": review.conversation_id,
                "week_start": iso_date(review.week_start),
                "closed_at": iso_time_or_none(conversation.closed_at),
                "disposition": conversation.disposition,
                "reviewer": by.name if by is not None else None,
                "reviewed_at": iso_time_or_none(review.reviewed_at),
                "seen": review.seen_at is not None,
                "scores": [
                    {"key": c.key, "label": c.label, "score": scores.get(c.key)} for c in RUBRIC
                ],
                "feedback": vault.decrypt(review.feedback_ciphertext)
                if review.feedback_ciphertext is not None
                else None,
            }
        )
    return {"unseen": int(unseen or 0), "items": items, "rubric": rubric_json()}


def do_mark_seen(session: Session, advocate: StaffUser, review_id: int, now: datetime) -> None:
    """The advocate read the review. Only their own; reading it again changes nothing."""
    review = session.get(QualityReview, review_id)
    if review is None or review.advocate_id != advocate.id or review.reviewed_at is None:
        raise ReviewNotFound()
    marked = session.execute(
        update(QualityReview)
        .where(QualityReview.id == review_id, QualityReview.seen_at.is_(None))
        .values(seen_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(review)
    if marked.rowcount == 1:  # type: ignore[attr-defined]
        events.record(
            session,
            "review_seen",
            now,
            conversation_id=review.conversation_id,
            actor_id=advocate.id,
            review_id=review.id,
        )
