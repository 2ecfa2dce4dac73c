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
from hotline.services.labels import disposition_labels, staff_names

PAGE_SIZE = 50
# Detail keys whose value is a staff member's id: shown as their name.
STAFF_KEYS = frozenset({"staff_id", "advocate_id", "from_staff", "to_staff", "to_advocate_id"})


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
        select(Event, StaffUser)
        .outerjoin(StaffUser, StaffUser.id == Event.actor_id)
        .where(*clauses)
        .order_by(Event.id.desc())
        .limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    names = staff_names(
        session,
        (value for e, _ in rows for key, value in e.detail.items() if key in STAFF_KEYS),
    )
    labels = disposition_labels(session) if any("disposition" in e.detail for e, _ in rows) else {}
    return {
        "items": [
            {
                "id": e.id,
                "at": iso_time(e.created_at),
                "kind": e.kind,
                "actor": actor.name if actor else None,
                "conversation_id": e.conversation_id,
                "detail": _named(_audit_detail(vault, e), names, labels),
            }
            for e, actor in rows
        ],
        "next_before_id": rows[-1][0].id if more else None,
    }


def _named(detail: JsonObject, names: dict[int, str], labels: dict[str, str]) -> JsonObject:
    """The values as staff read them: a staff member's name for their id, a disposition's
    label for its code (an id no account has any more stays as it is)."""
    shown = dict(detail)
    for key, value in detail.items():
        if key in STAFF_KEYS and isinstance(value, int) and value in names:
            shown[key] = names[value]
        elif key == "disposition" and isinstance(value, str):
            shown[key] = labels.get(value, value)
    return shown


def _audit_detail(vault: Vault, event: Event) -> JsonObject:
    """The event's values, with the stated reason (kept encrypted, apart from the event)
    while it is kept."""
    reason = events.stated_reason(vault, event)
    return event.detail if reason is None else {**event.detail, "reason": reason}
