"""Delivery status of a message, and the rule that it never moves backwards."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryStatus(StrEnum):
    # inbound
    RECEIVED = "received"
    # outbound, before Twilio has it
    PENDING = "pending"  # stored, not yet handed to Twilio
    SUBMITTING = "submitting"  # a worker is calling Twilio; outcome not yet recorded
    # outbound, Twilio's own statuses
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    # outbound, never sent by decision (the texter opted out, the conversation was erased)
    CANCELED = "canceled"


_RANK = {
    DeliveryStatus.RECEIVED: 0,
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SUBMITTING: 1,
    DeliveryStatus.ACCEPTED: 2,
    DeliveryStatus.SCHEDULED: 2,
    DeliveryStatus.QUEUED: 2,
    DeliveryStatus.SENDING: 3,
    DeliveryStatus.SENT: 4,
    DeliveryStatus.DELIVERED: 5,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.CANCELED: 5,
    DeliveryStatus.READ: 6,
}

# Twilio statuses a status callback may carry.
CALLBACK_STATUSES = frozenset(
    {
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.SCHEDULED,
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENDING,
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.UNDELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.READ,
        DeliveryStatus.CANCELED,
    }
)


def rank(status: DeliveryStatus) -> int:
    return _RANK[status]


def advances(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """True when ``new`` is later in a message's life than ``current``.

    A late or duplicated callback (``sent`` after ``delivered``) does not advance, and a final
    status never gives way to another final status.
    """
    return rank(new) > rank(current)
