"""The conversation logs supervisors page through, and their export as CSV or JSON.

Never a phone number; message text only in an export that asked for it with a stated reason,
and every export is in the audit trail.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hotline.db.models import (
    Conversation,
    ConversationStatus,
    ConversationTag,
    Message,
    StaffUser,
)
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.answers import IsoTime, JsonObject, iso_time, iso_time_or_none
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.labels import disposition_label, disposition_labels
from hotline.services.supervision import stated_reason

PAGE_SIZE = 50
EXPORT_COLUMNS = (
    "id", "opened_at", "closed_at", "status", "state", "priority", "risk_score", "reasons",
    "language", "returning", "advocate", "disposition", "disposition_label", "close_reason",
    "survey_score", "tags", "wait_seconds",
)  # fmt: skip
MAX_EXPORT = 10_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    advocate: str | None  # the name of who holds or last held it (StaffUser.name)
    # The code, stable for spreadsheets and filters, and the label staff read.
    disposition: str | None
    disposition_label: str | None
    close_reason: str | None
    survey_score: int | None
    tags: list[str]
    wait_seconds: float | None


class LogPage(TypedDict):
    items: list[LogRow]
    next_before_id: int | None  # where the next page starts; None on the last page


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


def log_page(
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
        select(Conversation, StaffUser)
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
    labels = disposition_labels(session) if rows else {}
    return {
        "items": [
            _log_row(c, staff.name if staff else None, labels, tags.get(c.id, []))
            for c, staff in rows
        ],
        "next_before_id": rows[-1][0].id if more else None,
    }


def _log_row(
    c: Conversation, advocate: str | None, labels: dict[str, str], tags: list[str]
) -> LogRow:
    claimed = c.first_claimed_at or c.claimed_at  # the first claim: a transfer is not a wait
    wait = (claimed - c.queued_at).total_seconds() if claimed and c.queued_at else None
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
        "disposition_label": disposition_label(labels, c.disposition),
        "close_reason": c.close_reason,
        "survey_score": c.survey_score,
        "tags": sorted(tags),
        "wait_seconds": wait,
    }


def do_export(
    session: Session,
    vault: Vault,
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
        sealed = vault.encrypt(why)
    rows: list[dict[str, Any]] = []
    before: int | None = None
    while len(rows) < MAX_EXPORT:
        page = log_page(session, filters, before_id=before, page_size=500)
        rows.extend(dict(row) for row in page["items"])
        before = page["next_before_id"]
        if before is None:
            break
    rows = rows[:MAX_EXPORT]
    if include_text:
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
            neutralise("; ".join(v) if isinstance(v := row.get(c), list) else v) for c in columns
        )
    return out.getvalue()


def neutralise(cell: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
