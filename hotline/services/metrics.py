"""The supervisors' metrics: conversations per day and hour (UTC), wait, first-reply and
handling times, abandonment, and counts by disposition, priority, survey score and advocate,
over the conversations a :class:`LogFilter` covers.

Figures are computed in SQL, on PostgreSQL or SQLite: the dialect's differences (durations,
hours, percentiles) are kept to :func:`seconds_between`, :func:`percentiles` and the hour
grouping in :func:`metrics_for`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Interval, func, literal, select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, ConversationHandler, StaffUser
from hotline.domain.risk import Priority
from hotline.services.conversation_log import LogFilter
from hotline.services.labels import disposition_labels

# ``[value, count]``: a value (a day, an hour, a disposition, a priority, a score; None for the
# rows without one) and how many conversations had it.
Tally = list[str | int | None]


class Spread(TypedDict):
    """Nearest-rank percentiles of a duration, in seconds; None when nothing was measured."""

    p50: float | None
    p90: float | None


class AdvocateTally(TypedDict):
    advocate: str
    conversations: int
    closed: int


class Metrics(TypedDict):
    per_day: list[Tally]
    per_hour: list[Tally]
    wait_seconds: Spread
    first_reply_seconds: Spread
    handle_seconds: Spread
    abandoned: int
    queued: int
    abandonment_rate: float | None
    dispositions: list[Tally]
    disposition_labels: dict[str, str]  # the label of each code in ``dispositions``
    priorities: list[Tally]
    survey_scores: list[Tally]
    per_advocate: list[AdvocateTally]
    conversations: int


def metrics_for(session: Session, filters: LogFilter) -> Metrics:
    """Everything the metrics page charts, in three scans of the conversations in range.

    One groups them by the hour they opened (UTC), giving the days and the hours of the day;
    one by disposition, priority, survey score and advocate, small enough to add up here
    into each of those and the totals; one takes the percentiles of the durations.
    """
    where = filters.where()
    d = session.get_bind().dialect.name
    hour: Any
    if d == "postgresql":
        # UTC as a zero offset, not as the name 'UTC', which is looked up again for every row.
        utc = func.timezone(literal(timedelta(0), Interval), Conversation.opened_at)
        hour = func.date_trunc("hour", utc)
    else:
        hour = func.strftime("%Y-%m-%dT%H:00:00", Conversation.opened_at)
    per_day: Counter[str] = Counter()
    per_hour: Counter[int] = Counter()
    for started, count in session.execute(select(hour, func.count()).where(*where).group_by(hour)):
        started = started if isinstance(started, datetime) else datetime.fromisoformat(started)
        per_day[started.date().isoformat()] += count
        per_hour[started.hour] += count

    dispositions: Counter[str | None] = Counter()
    priorities: Counter[Priority] = Counter()
    survey_scores: Counter[int | None] = Counter()
    total = queued = abandoned = 0
    kinds = (Conversation.disposition, Conversation.priority, Conversation.survey_score)
    for row in session.execute(
        select(
            *kinds,
            func.count().label("conversations"),
            func.count(Conversation.closed_at).label("closed"),
            func.count().filter(Conversation.queued_at.is_not(None)).label("queued"),
            func.count().filter(Conversation.close_reason == "abandoned").label("abandoned"),
        )
        .where(*where)
        .group_by(*kinds)
    ):
        dispositions[row.disposition] += row.conversations
        priorities[row.priority] += row.conversations
        survey_scores[row.survey_score] += row.conversations
        total += row.conversations
        queued += row.queued
        abandoned += row.abandoned
    per_advocate = _per_advocate(session, where)
    labels = disposition_labels(session)

    # From the first claim, not the holder's: a transfer must not restart the clocks (a first
    # reply before the transfer made the time to first reply negative). Rows older than the
    # column, never back-filled, fall back to their claim.
    first_claim = func.coalesce(Conversation.first_claimed_at, Conversation.claimed_at)
    claimed = first_claim.is_not(None)
    durations = percentiles(
        session,
        where,
        {
            "wait_seconds": (
                seconds_between(first_claim, Conversation.queued_at, d),
                claimed & Conversation.queued_at.is_not(None),
            ),
            "first_reply_seconds": (
                seconds_between(Conversation.first_reply_at, first_claim, d),
                claimed & Conversation.first_reply_at.is_not(None),
            ),
            "handle_seconds": (
                seconds_between(Conversation.closed_at, first_claim, d),
                claimed & Conversation.closed_at.is_not(None),
            ),
        },
        (0.5, 0.9),
    )
    return {
        "per_day": _in_order(per_day),
        "per_hour": _in_order(per_hour),
        "wait_seconds": _spread(durations["wait_seconds"]),
        "first_reply_seconds": _spread(durations["first_reply_seconds"]),
        "handle_seconds": _spread(durations["handle_seconds"]),
        "abandoned": abandoned,
        "queued": queued,
        "abandonment_rate": round(abandoned / queued, 3) if queued else None,
        "dispositions": _in_order(dispositions),
        "disposition_labels": {
            code: labels.get(code, code) for code in dispositions if code is not None
        },
        "priorities": _in_order(priorities),
        "survey_scores": _in_order(survey_scores),
        "per_advocate": per_advocate,
        "conversations": total,
    }


def _per_advocate(session: Session, where: list[ColumnElement[bool]]) -> list[AdvocateTally]:
    """Each staff member who handled conversations in range, by name: how many they held at
    some time (a transferred conversation counts for each advocate who had it) and how many
    of those they closed (the one holding it at the end).

    Two grouped scans, no set of (staff, conversation) pairs to sort: every handler's rows,
    then each holder's conversations, where those with no handler row for their holder (rows
    from before migration 0017) are counted for them too, and the closed ones are theirs."""
    handler = ConversationHandler
    held: Counter[int] = Counter()
    for staff_id, conversations in session.execute(
        select(handler.staff_id, func.count())
        .join(Conversation, Conversation.id == handler.conversation_id)
        .where(*where)
        .group_by(handler.staff_id)
    ):
        held[staff_id] += conversations
    closed: dict[int, int] = {}
    holder = Conversation.advocate_id
    for holder_id, unrecorded, closed_count in session.execute(
        select(
            holder,
            func.count().filter(handler.staff_id.is_(None)),
            func.count(Conversation.closed_at),
        )
        .outerjoin(  # at most one row: (conversation, staff) is the handlers' key
            handler,
            (handler.conversation_id == Conversation.id) & (handler.staff_id == holder),
        )
        .where(*where, holder.is_not(None))
        .group_by(holder)
    ):
        assert holder_id is not None  # the query keeps only held conversations
        held[holder_id] += unrecorded
        closed[holder_id] = closed_count
    counts = {
        staff_id: (conversations, closed.get(staff_id, 0))
        for staff_id, conversations in held.items()
        if conversations
    }
    staff = session.scalars(select(StaffUser).where(StaffUser.id.in_(counts))).all()
    return [
        {
            "advocate": member.name,
            "conversations": counts[member.id][0],
            "closed": counts[member.id][1],
        }
        for member in sorted(staff, key=lambda member: (member.name.casefold(), member.id))
    ]


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, in SQL, on PostgreSQL or SQLite."""
    if dialect == "postgresql":
        # date_part gives a double; EXTRACT gives numeric, several times slower to sort.
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def percentiles(
    session: Session,
    where: list[ColumnElement[bool]],
    series: dict[str, tuple[ColumnElement[Any], ColumnElement[bool]]],
    shares: tuple[float, ...],
) -> dict[str, dict[str, float | None]]:
    """Nearest-rank percentiles of several durations, each over the rows its condition keeps.

    ``series`` maps a name to (value, condition). The rank of share *s* among *n* values is
    ceil(s * n), as PostgreSQL's ``percentile_disc`` counts it. PostgreSQL does every series in
    one scan (the two shares of a series share one sort); SQLite, which has no such aggregate,
    counts each series and skips to each rank.
    """
    keys = [f"p{round(share * 100)}" for share in shares]
    result: dict[str, dict[str, float | None]] = {}
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            select(
                *(
                    func.percentile_disc(share).within_group(value).filter(condition)
                    for value, condition in series.values()
                    for share in shares
                )
            ).where(*where)
        ).one()
        values = iter(found)
        for name in series:
            result[name] = {key: _rounded(next(values)) for key in keys}
        return result
    for name, (value, condition) in series.items():
        present = select(value).where(*where, condition)
        count = int(session.scalar(select(func.count()).select_from(present.subquery())) or 0)
        result[name] = {}
        for key, share in zip(keys, shares, strict=True):
            if count == 0:
                result[name][key] = None
                continue
            offset = min(count - 1, max(0, math.ceil(share * count) - 1))
            result[name][key] = _rounded(
                session.scalar(present.order_by(value).offset(offset).limit(1))
            )
    return result


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _spread(found: dict[str, float | None]) -> Spread:
    return {"p50": found["p50"], "p90": found["p90"]}


def _in_order(counts: Mapping[Any, int]) -> list[Tally]:
    """``[value, count]`` pairs by value (enums as their text), the rows without one last, the
    same on every database."""
    plain = {getattr(value, "value", value): count for value, count in counts.items()}
    return [
        [value, plain[value]]
        for value in sorted(plain, key=lambda value: (value is None, 0 if value is None else value))
    ]
