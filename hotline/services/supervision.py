"""What supervisors see and do: the live board, conversation logs, export, metrics, the audit
trail, and stepping into a conversation (a note to the advocate, reassigning, taking over).

Figures are computed in SQL. Nothing here returns a phone number; message text leaves only in an
export that asked for it, and that request is in the audit trail.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Interval, func, literal, select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import (
    Availability,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Event,
    Message,
    StaffRole,
    StaffUser,
)
from hotline.db.session import lock_texter
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services import events, presence
from hotline.services.answers import IsoTime, JsonObject, iso_time, iso_time_or_none
from hotline.services.console import Console, ConversationSummary, stated_reason
from hotline.services.errors import Conflict, InvalidInput

PAGE_SIZE = 50
EXPORT_COLUMNS = (
    "id", "opened_at", "closed_at", "status", "state", "priority", "risk_score", "reasons",
    "language", "returning", "advocate", "disposition", "close_reason", "survey_score", "tags",
    "wait_seconds",
)  # fmt: skip
MAX_EXPORT = 10_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# -- what the supervisor's page reads (the JSON its script reads, field for field) --------------


class HeldConversation(TypedDict):
    """A conversation an advocate holds, on the board."""

    id: int
    priority: Priority
    language: str
    since_seconds: int
    quiet_seconds: int


class BoardAdvocate(TypedDict):
    id: int
    email: str
    role: StaffRole
    availability: Availability
    connected: bool
    seen_seconds: int | None  # since their console last polled; None if it never did
    active: list[HeldConversation]


class Today(TypedDict):
    opened: int
    closed: int
    texts_in: int


class Board(TypedDict):
    waiting: list[ConversationSummary]
    waiting_by_priority: dict[Priority, int]
    urgent_waiting: int
    longest_wait_seconds: int
    advocates: list[BoardAdvocate]
    today: Today


class LogRow(TypedDict):
    """One conversation in the logs (and a row of the export, which adds ``transcript``)."""

    id: int
    opened_at: IsoTime
    closed_at: IsoTime | None
    status: ConversationStatus
    state: State
    priority: Priority
    risk_score: int
    reasons: list[str]
    language: str
    returning: bool
    advocate: str | None
    disposition: str | None
    close_reason: str | None
    survey_score: int | None
    tags: list[str]
    wait_seconds: float | None


class LogPage(TypedDict):
    items: list[LogRow]
    next_before_id: int | None  # where the next page starts; None on the last page


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
    priorities: list[Tally]
    survey_scores: list[Tally]
    per_advocate: list[AdvocateTally]
    conversations: int


class AuditEntry(TypedDict):
    id: int
    at: IsoTime
    kind: str
    actor: str | None
    conversation_id: int | None
    detail: JsonObject


class AuditPage(TypedDict):
    items: list[AuditEntry]
    next_before_id: int | None


@dataclass(frozen=True)
class LogFilter:
    """Which conversations a log list, an export or metrics cover. Every field is optional."""

    opened_from: datetime | None = None
    opened_to: datetime | None = None
    status: str | None = None
    priority: str | None = None
    advocate_id: int | None = None
    disposition: str | None = None
    tag: str | None = None
    language: str | None = None
    returning: bool | None = None
    survey_score: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.opened_from is not None:
            clauses.append(Conversation.opened_at >= self.opened_from)
        if self.opened_to is not None:
            clauses.append(Conversation.opened_at < self.opened_to)
        if self.status is not None:
            clauses.append(Conversation.status == ConversationStatus(self.status))
        if self.priority is not None:
            clauses.append(Conversation.priority == Priority(self.priority))
        if self.advocate_id is not None:
            clauses.append(Conversation.advocate_id == self.advocate_id)
        if self.disposition is not None:
            clauses.append(Conversation.disposition == self.disposition)
        if self.tag is not None:
            clauses.append(
                Conversation.id.in_(
                    select(ConversationTag.conversation_id).where(ConversationTag.tag == self.tag)
                )
            )
        if self.language is not None:
            clauses.append(Conversation.language == self.language)
        if self.returning is not None:
            clauses.append(Conversation.returning_texter.is_(self.returning))
        if self.survey_score is not None:
            clauses.append(Conversation.survey_score == self.survey_score)
        return clauses

    def describe(self) -> JsonObject:
        """The filter as plain values, for the audit trail."""
        return {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in self.__dict__.items()
            if value is not None
        }


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


def neutralise(cell: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Supervision:
    console: Console
    dialect: str

    # -- the live board ----------------------------------------------------------------------

    def board(self, session: Session, now: datetime) -> Board:
        waiting = self.console.queue(session, now)
        start_of_day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        advocates = session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True))
            .order_by(StaffUser.availability, StaffUser.email)
        ).all()
        active = session.scalars(
            select(Conversation)
            .where(Conversation.state == State.WITH_ADVOCATE)
            .order_by(Conversation.claimed_at)
        ).all()
        by_advocate: dict[int, list[HeldConversation]] = {}
        for conversation in active:
            if conversation.advocate_id is None:
                continue
            by_advocate.setdefault(conversation.advocate_id, []).append(
                {
                    "id": conversation.id,
                    "priority": conversation.priority,
                    "language": conversation.language,
                    "since_seconds": int(
                        (now - (conversation.claimed_at or conversation.opened_at)).total_seconds()
                    ),
                    "quiet_seconds": int((now - conversation.last_activity_at).total_seconds()),
                }
            )
        today = session.execute(
            select(
                func.count().filter(Conversation.opened_at >= start_of_day),
                func.count().filter(Conversation.closed_at >= start_of_day),
            )
        ).one()
        texts_today = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.direction == Direction.INBOUND, Message.created_at >= start_of_day)
        )
        return {
            "waiting": waiting,
            "waiting_by_priority": {
                p: sum(1 for w in waiting if w["priority"] == p) for p in Priority
            },
            "urgent_waiting": sum(1 for w in waiting if w["priority"] == "urgent"),
            "longest_wait_seconds": max((w["waiting_seconds"] for w in waiting), default=0),
            "advocates": [
                {
                    "id": user.id,
                    "email": user.email,
                    "role": user.role,
                    "availability": user.availability,
                    "connected": presence.connected(user, now, self.console.presence_grace),
                    "seen_seconds": (
                        int((now - user.console_seen_at).total_seconds())
                        if user.console_seen_at is not None
                        else None
                    ),
                    "active": by_advocate.get(user.id, []),
                }
                for user in advocates
                if user.role is StaffRole.ADVOCATE or user.id in by_advocate
            ],
            "today": {
                "opened": int(today[0] or 0),
                "closed": int(today[1] or 0),
                "texts_in": int(texts_today or 0),
            },
        }

    # -- logs, timelines, export -------------------------------------------------------------

    def logs(
        self,
        session: Session,
        filters: LogFilter,
        *,
        before_id: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> LogPage:
        """Newest first, ``page_size`` at a time; ``before_id`` continues after the last page
        (keyset pagination: as fast on page 2,000 as on page 1)."""
        clauses = filters.where()
        if before_id is not None:
            clauses.append(Conversation.id < before_id)
        rows = session.execute(
            select(
                Conversation,
                StaffUser.email,
            )
            .outerjoin(StaffUser, StaffUser.id == Conversation.advocate_id)
            .where(*clauses)
            .order_by(Conversation.id.desc())
            .limit(page_size + 1)
        ).all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        tags: dict[int, list[str]] = {}
        if rows:
            for conversation_id, tag in session.execute(
                select(ConversationTag.conversation_id, ConversationTag.tag).where(
                    ConversationTag.conversation_id.in_([r[0].id for r in rows])
                )
            ):
                tags.setdefault(conversation_id, []).append(tag)
        return {
            "items": [self._log_row(c, email, tags.get(c.id, [])) for c, email in rows],
            "next_before_id": rows[-1][0].id if more else None,
        }

    def _log_row(self, c: Conversation, advocate: str | None, tags: list[str]) -> LogRow:
        wait = (
            (c.claimed_at - c.queued_at).total_seconds() if c.claimed_at and c.queued_at else None
        )
        return {
            "id": c.id,
            "opened_at": iso_time(c.opened_at),
            "closed_at": iso_time_or_none(c.closed_at),
            "status": c.status,
            "state": c.state,
            "priority": c.priority,
            "risk_score": c.risk_score,
            "reasons": c.risk_reasons or [],
            "language": c.language,
            "returning": c.returning_texter,
            "advocate": advocate,
            "disposition": c.disposition,
            "close_reason": c.close_reason,
            "survey_score": c.survey_score,
            "tags": sorted(tags),
            "wait_seconds": wait,
        }

    def export(
        self,
        session: Session,
        user: StaffUser,
        filters: LogFilter,
        *,
        fmt: str,
        include_text: bool,
        now: datetime,
        reason: str = "",
    ) -> str:
        """The filtered conversations as CSV or JSON; never a phone number, message text only
        when asked for, and then only with a stated ``reason`` (as for revealing a number:
        :class:`InvalidInput` without one). Audited, with the filter, whether text was
        included, and the reason, recorded as the reveal records its own."""
        if fmt not in ("csv", "json"):
            raise Conflict("format must be csv or json")
        sealed: bytes | None = None
        if include_text:
            why = stated_reason(reason, "message text is exported", InvalidInput)
            sealed = self.console.vault.encrypt(why)
        rows: list[dict[str, Any]] = []
        before: int | None = None
        while len(rows) < MAX_EXPORT:
            page = self.logs(session, filters, before_id=before, page_size=500)
            rows.extend(dict(row) for row in page["items"])
            before = page["next_before_id"]
            if before is None:
                break
        rows = rows[:MAX_EXPORT]
        if include_text:
            vault = self.console.vault
            texts: dict[int, list[str]] = {}
            for conversation_id, direction, body in session.execute(
                select(Message.conversation_id, Message.direction, Message.body_ciphertext)
                .where(Message.conversation_id.in_([r["id"] for r in rows]))
                .order_by(Message.id)
            ):
                shown = vault.decrypt(body) if body is not None else "(erased)"
                texts.setdefault(int(conversation_id or 0), []).append(
                    f"{'texter' if direction is Direction.INBOUND else 'hotline'}: {shown}"
                )
            for row in rows:
                row["transcript"] = "\n".join(texts.get(row["id"], []))
        events.record(
            session,
            "export",
            now,
            actor_id=user.id,
            format=fmt,
            include_text=include_text,
            rows=len(rows),
            filters=filters.describe(),
            sealed_reason=sealed,
        )
        if fmt == "json":
            return json.dumps(rows, ensure_ascii=False, indent=1)
        out = io.StringIO()
        columns = [*EXPORT_COLUMNS, *(["transcript"] if include_text else [])]
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                neutralise("; ".join(v) if isinstance(v := row.get(c), list) else v)
                for c in columns
            )
        return out.getvalue()

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, session: Session, filters: LogFilter) -> Metrics:
        """Everything the metrics page charts, in three scans of the conversations in range.

        One groups them by the hour they opened (UTC), giving the days and the hours of the day;
        one by disposition, priority, survey score and advocate, small enough to add up here
        into each of those and the totals; one takes the percentiles of the durations.
        """
        where = filters.where()
        d = self.dialect
        hour: Any
        if d == "postgresql":
            # UTC as a zero offset, not as the name 'UTC', which is looked up again for every row.
            utc = func.timezone(literal(timedelta(0), Interval), Conversation.opened_at)
            hour = func.date_trunc("hour", utc)
        else:
            hour = func.strftime("%Y-%m-%dT%H:00:00", Conversation.opened_at)
        per_day: Counter[str] = Counter()
        per_hour: Counter[int] = Counter()
        for started, count in session.execute(
            select(hour, func.count()).where(*where).group_by(hour)
        ):
            started = started if isinstance(started, datetime) else datetime.fromisoformat(started)
            per_day[started.date().isoformat()] += count
            per_hour[started.hour] += count

        dispositions: Counter[str | None] = Counter()
        priorities: Counter[Priority] = Counter()
        survey_scores: Counter[int | None] = Counter()
        per_advocate: dict[int, list[int]] = {}
        total = queued = abandoned = 0
        kinds = (
            Conversation.disposition,
            Conversation.priority,
            Conversation.survey_score,
            Conversation.advocate_id,
        )
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
            if row.advocate_id is not None:
                tally = per_advocate.setdefault(row.advocate_id, [0, 0])
                tally[0] += row.conversations
                tally[1] += row.closed
            total += row.conversations
            queued += row.queued
            abandoned += row.abandoned
        emails = session.execute(
            select(StaffUser.id, StaffUser.email)
            .where(StaffUser.id.in_(per_advocate))
            .order_by(StaffUser.email)
        ).all()

        claimed = Conversation.claimed_at.is_not(None)
        durations = percentiles(
            session,
            where,
            {
                "wait_seconds": (
                    seconds_between(Conversation.claimed_at, Conversation.queued_at, d),
                    claimed & Conversation.queued_at.is_not(None),
                ),
                "first_reply_seconds": (
                    seconds_between(Conversation.first_reply_at, Conversation.claimed_at, d),
                    claimed & Conversation.first_reply_at.is_not(None),
                ),
                "handle_seconds": (
                    seconds_between(Conversation.closed_at, Conversation.claimed_at, d),
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
            "priorities": _in_order(priorities),
            "survey_scores": _in_order(survey_scores),
            "per_advocate": [
                {
                    "advocate": email,
                    "conversations": per_advocate[staff_id][0],
                    "closed": per_advocate[staff_id][1],
                }
                for staff_id, email in emails
            ],
            "conversations": total,
        }

    # -- the audit trail -----------------------------------------------------------------------

    def audit(
        self,
        session: Session,
        *,
        kind: str | None,
        actor_id: int | None,
        conversation_id: int | None,
        since: datetime | None,
        until: datetime | None,
        before_id: int | None,
    ) -> AuditPage:
        clauses: list[ColumnElement[bool]] = []
        if kind:
            clauses.append(Event.kind == kind)
        if actor_id is not None:
            clauses.append(Event.actor_id == actor_id)
        if conversation_id is not None:
            clauses.append(Event.conversation_id == conversation_id)
        if since is not None:
            clauses.append(Event.created_at >= since)
        if until is not None:
            clauses.append(Event.created_at < until)
        if before_id is not None:
            clauses.append(Event.id < before_id)
        rows = session.execute(
            select(Event, StaffUser.email)
            .outerjoin(StaffUser, StaffUser.id == Event.actor_id)
            .where(*clauses)
            .order_by(Event.id.desc())
            .limit(PAGE_SIZE + 1)
        ).all()
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return {
            "items": [
                {
                    "id": e.id,
                    "at": iso_time(e.created_at),
                    "kind": e.kind,
                    "actor": email,
                    "conversation_id": e.conversation_id,
                    "detail": self._audit_detail(e),
                }
                for e, email in rows
            ],
            "next_before_id": rows[-1][0].id if more else None,
        }

    def _audit_detail(self, event: Event) -> JsonObject:
        """The event's values, with the stated reason (kept encrypted, apart from the event)
        while it is kept."""
        reason = events.stated_reason(self.console.vault, event)
        return event.detail if reason is None else {**event.detail, "reason": reason}

    # -- stepping in -------------------------------------------------------------------------

    def note_to_advocate(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> None:
        """A private note for the advocate on the conversation: never sent to the texter."""
        self.console.add_note(session, user, conversation_id, body, now)
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
        conversation.advocate_id = target.id
        conversation.claimed_at = conversation.claimed_at or now
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
