"""Writing the append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.db.models import Event


def record(
    session: Session,
    kind: str,
    at: datetime,
    *,
    conversation_id: int | None = None,
    texter_id: int | None = None,
    message_id: int | None = None,
    actor_id: int | None = None,
    **detail: Any,
) -> Event:
    """Append one event. ``detail`` must hold no phone number and no message text."""
    event = Event(
        kind=kind,
        conversation_id=conversation_id,
        texter_id=texter_id,
        message_id=message_id,
        actor_id=actor_id,
        detail=detail,
        created_at=at,
    )
    session.add(event)
    return event
