"""Delivery status callbacks from Twilio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline.db.models import Message
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction, advances
from hotline.services import events
from hotline.services.send import mark_carrier_opt_out
from hotline.sms.inbound import StatusReport
from hotline.sms.sender import OPTED_OUT_ERROR

_FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})


@dataclass(frozen=True)
class Recorded:
    """The message a status was recorded for (or found already past it)."""

    message_id: int
    conversation_id: int | None


def apply_status(
    session: Session, report: StatusReport, now: datetime, message_id: int | None = None
) -> Recorded | None:
    """Record a delivery status; which message, or None when no outbound message matches.

    ``message_id`` comes from the callback URL: a callback can beat the sending worker to the
    database, before the SID is recorded. A status never moves backwards, so duplicated and
    out-of-order callbacks leave the latest status in place. The caller commits.
    """
    if report.error_code is None and report.status not in _FAILURES:
        moved = _advance(session, report, now, message_id)
        if moved is not None:
            return moved
    match = Message.twilio_sid == report.message_sid
    if message_id is not None:
        match = or_(
            match,
            (Message.id == message_id) & Message.twilio_sid.is_(None),
        )
    found = session.execute(
        select(Message.id, Message.texter_id)
        .where(match, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    if report.error_code == OPTED_OUT_ERROR:
        # Locks in the order the sender takes them (texter, then message): no deadlock.
        lock_texter(session, found.texter_id)
    message = session.scalars(select(Message).where(Message.id == found.id).with_for_update()).one()
    if message.twilio_sid is None:
        message.twilio_sid = report.message_sid
    if not advances(message.status, report.status):
        return Recorded(message.id, message.conversation_id)
    message.status = report.status
    message.status_updated_at = now
    if report.error_code is not None:
        message.error_code = report.error_code
    if report.status in _FAILURES:
        events.record(
            session,
            "delivery_failed",
            now,
            conversation_id=message.conversation_id,
            texter_id=message.texter_id,
            message_id=message.id,
            error_code=report.error_code,
        )
    if report.error_code == OPTED_OUT_ERROR:
        mark_carrier_opt_out(session, message.texter_id, now)
    return Recorded(message.id, message.conversation_id)


def _advance(
    session: Session, report: StatusReport, now: datetime, message_id: int | None
) -> Recorded | None:
    """The usual callback (``sent``, ``delivered``: no failure, no error code) in one statement:
    move the message's status on if it is earlier. None when no row moved, which leaves the
    cases that need a look first (an unknown SID, a status that does not advance) to the full
    path. PostgreSQL re-checks the condition on a row another transaction just changed, so a
    later status recorded meanwhile is never overwritten. A Core statement on the session's
    connection: the ORM's bulk update machinery cost more than the statement."""
    earlier = [status for status in DeliveryStatus if advances(status, report.status)]
    values = {"sid": report.message_sid, "status": report.status, "earlier": earlier, "now": now}
    if message_id is None:
        statement, values = _ADVANCE_BY_SID, values
    else:
        statement, values = _ADVANCE_BY_ID, {**values, "message_id": message_id}
    row = session.connection().execute(statement, values).first()
    return Recorded(row.id, row.conversation_id) if row is not None else None


_MESSAGES = cast(Table, Message.__table__)


def _advance_where(match: ColumnElement[bool]) -> Any:
    messages = _MESSAGES.c
    return (
        update(_MESSAGES)
        .where(
            match,
            messages.direction == Direction.OUTBOUND,
            messages.status.in_(bindparam("earlier", expanding=True)),
        )
        .values(
            status=bindparam("status", type_=messages.status.type),
            status_updated_at=bindparam("now", type_=messages.status_updated_at.type),
            twilio_sid=func.coalesce(messages.twilio_sid, bindparam("sid")),
        )
        .returning(messages.id, messages.conversation_id)
    )


# Built once: every callback runs one. By id (from the callback URL), the row's SID may still
# be missing (see above); by SID alone, it is unique.
_ADVANCE_BY_SID = _advance_where(_MESSAGES.c.twilio_sid == bindparam("sid"))
_ADVANCE_BY_ID = _advance_where(
    (_MESSAGES.c.id == bindparam("message_id"))
    & ((_MESSAGES.c.twilio_sid == bindparam("sid")) | _MESSAGES.c.twilio_sid.is_(None))
)
