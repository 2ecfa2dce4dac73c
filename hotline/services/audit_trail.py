"""The audit trail supervisors read: every event, newest first, filtered by kind, staff
member, conversation and time, with the reason staff stated for an exceptional read while that
reason is kept."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hotline.db.models import Event, StaffUser
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.answers import IsoTime, JsonObject, iso_time

PAGE_SIZE = 50


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


def audit_page(
    session: Session,
    vault: Vault,
    *,
    kind: str | None,
    actor_id: int | None,
    conversation_id: int | None,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
) -> AuditPage:
    """Events matching every filter given, newest first, ``PAGE_SIZE`` at a time;
    ``before_id`` continues after the last page."""
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
                "detail": _audit_detail(vault, e),
            }
            for e, email in rows
        ],
        "next_before_id": rows[-1][0].id if more else None,
    }


def _audit_detail(vault: Vault, event: Event) -> JsonObject:
    """The event's values, with the stated reason (kept encrypted, apart from the event)
    while it is kept."""
    reason = events.stated_reason(vault, event)
    return event.detail if reason is None else {**event.detail, "reason": reason}
