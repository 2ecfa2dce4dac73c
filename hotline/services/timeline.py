"""A conversation's timeline: its texts, staff notes and logged events in one list, in the
order they happened, in the words staff read.

The caller decides who may see it and records the read (see :meth:`Console.conversation`).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, Event, Message, Note
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.services.answers import IsoTime, JsonObject, iso_time
from hotline.services.labels import staff_names

# Alert kinds meaning "emergency words" ("urgent" in older rows).
EMERGENCY_ALERTS = ("emergency", "urgent")
# Events a timeline shows, in the words staff read.
TIMELINE_EVENTS = {
    "conversation_opened": "Conversation opened",
    "answer": "Triage answer",
    "risk_assessed": "Risk assessed",
    "alert": "Alert",
    "alert_acknowledged": "Alert acknowledged by a supervisor",
    "claimed": "Taken by an advocate",
    "returned_to_queue": "Returned to the queue",
    "transferred": "Transferred",
    "closed_by_advocate": "Closed by the advocate",
    "conversation_closed": "Conversation ended",
    "opt_out": "Texter opted out (STOP)",
    "opt_in": "Texter opted in again (START)",
    "texter_erased": "Texter erased (safe word, DELETE or a supervisor)",
    "send_failed": "A reply could not be sent",
    "delivery_failed": "A reply was not delivered",
    "tagged": "Tagged",
    "reassigned": "Reassigned by a supervisor",
    "taken_over": "Taken over by a supervisor",
    "reopened": "Reopened by the advocate",
    "transfer_offered": "Transfer offered",
    "transfer_accepted": "Transfer accepted",
    "transfer_declined": "Transfer declined",
    "transfer_withdrawn": "Transfer offer withdrawn",
    "transfer_lapsed": "Transfer not accepted in time: still with the advocate",
    "help_answered": "A supervisor answered the request for help",
    "case_record_saved": "Case record saved",
}


# -- the entries (the JSON the console's script reads, field for field) ---------------------------


class MessageEntry(TypedDict):
    type: Literal["message"]
    id: int
    at: IsoTime
    direction: Direction
    body: str | None  # None once erased or purged
    status: DeliveryStatus
    error_code: int | None
    media: list[str]
    # The staff member's name (StaffUser.name); None for the texter and automatic texts.
    author: str | None
    automatic: bool


class NoteEntry(TypedDict):
    type: Literal["note"]
    id: int
    at: IsoTime
    body: str | None
    author: str | None


class EventEntry(TypedDict):
    type: Literal["event"]
    id: int
    at: IsoTime
    kind: str
    label: str
    detail: JsonObject
    author: str | None


TimelineEntry = MessageEntry | NoteEntry | EventEntry


def timeline(session: Session, vault: Vault, conversation: Conversation) -> list[TimelineEntry]:
    """Every text, note and shown event of ``conversation``, oldest first, texts and notes
    decrypted; the texter's erasure too, which is logged for the texter, not the conversation."""
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
    ).all()
    notes = session.scalars(
        select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)
    ).all()
    logged = session.scalars(
        select(Event)
        .where(
            or_(
                Event.conversation_id == conversation.id,
                # A texter's erasure is recorded once, for the texter, not per conversation.
                and_(
                    Event.kind == "texter_erased",
                    Event.conversation_id.is_(None),
                    Event.texter_id == conversation.texter_id,
                    Event.created_at >= conversation.opened_at,
                ),
            ),
            Event.kind.in_(TIMELINE_EVENTS),
        )
        .order_by(Event.id)
    ).all()
    authors = staff_names(
        session,
        {m.author_id for m in messages} | {n.author_id for n in notes}
        | {e.actor_id for e in logged},
    )  # fmt: skip
    items: list[TimelineEntry] = []
    for message in messages:
        items.append(
            {
                "type": "message",
                "id": message.id,
                "at": iso_time(message.created_at),
                "direction": message.direction,
                "body": _open(vault, message.body_ciphertext),
                "status": message.status,
                "error_code": message.error_code,
                "media": message.media_types or [],
                "author": authors.get(message.author_id) if message.author_id else None,
                "automatic": message.direction is Direction.OUTBOUND and message.author_id is None,
            }
        )
    for note in notes:
        items.append(
            {
                "type": "note",
                "id": note.id,
                "at": iso_time(note.created_at),
                "body": _open(vault, note.body_ciphertext),
                "author": authors.get(note.author_id),
            }
        )
    for event in logged:
        items.append(
            {
                "type": "event",
                "id": event.id,
                "at": iso_time(event.created_at),
                "kind": event.kind,
                "label": TIMELINE_EVENTS[event.kind],
                "detail": event.detail,
                "author": authors.get(event.actor_id) if event.actor_id else None,
            }
        )

    def rank(item: TimelineEntry) -> int:
        # Steps of one transaction share a time: the texter's text, then what it caused,
        # then the replies, then notes.
        if item["type"] == "message":
            return 0 if item["direction"] == "inbound" else 2
        return {"event": 1, "note": 3}[item["type"]]

    items.sort(key=lambda item: (item["at"], rank(item), item["id"]))
    return items


def last_emergency(conversation: Conversation, entries: list[TimelineEntry]) -> IsoTime | None:
    """When emergency words last came in this conversation (None if they never did): the
    latest emergency alert since ``emergency_at``, which records only the first."""
    if conversation.emergency_at is None:
        return None
    first = iso_time(conversation.emergency_at)
    later: list[IsoTime] = [
        item["at"]
        for item in entries
        if item["type"] == "event"
        and item["kind"] == "alert"
        and (item["detail"] or {}).get("alert") in EMERGENCY_ALERTS
        and item["at"] >= first
    ]
    return max([first, *later])


def _open(vault: Vault, ciphertext: bytes | None) -> str | None:
    return vault.decrypt(ciphertext) if ciphertext is not None else None
