"""Delivery status callbacks from Twilio."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hotline.db.models import Message
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction, advances
from hotline.domain.inbound import StatusReport
from hotline.services import events
from hotline.services.send import mark_carrier_opt_out
from hotline.sms.sender import OPTED_OUT_ERROR

_FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})


def apply_status(
    session: Session, report: StatusReport, now: datetime, message_id: int | None = None
) -> Message | None:
    """Record a delivery status; the message, or None when no outbound message matches.

    ``message_id`` comes from the callback URL: a callback can beat the sending worker to the
    database, before the SID is recorded. A status never moves backwards, so duplicated and
    out-of-order callbacks leave the latest status in place. The caller commits.
    """
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
        return message
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
    return message
