"""Writing the append-only event log, and reading a stated reason back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.db.models import Event, EventDetail
from hotline.infra.vault import Vault, VaultError


def record(
    session: Session,
    kind: str,
    at: datetime,
    *,
    conversation_id: int | None = None,
    texter_id: int | None = None,
    message_id: int | None = None,
    actor_id: int | None = None,
    sealed_reason: bytes | None = None,
    **detail: Any,
) -> Event:
    """Append one event.

    The line itself keeps only ``kind``, the time, the ids and the actor; ``detail`` (ids, codes
    and figures, never a phone number or a text) and ``sealed_reason`` (a staff member's stated
    reason, encrypted by the caller with :meth:`Vault.encrypt`) go to its erasable
    :class:`EventDetail`.
    """
    event = Event(
        kind=kind,
        conversation_id=conversation_id,
        texter_id=texter_id,
        message_id=message_id,
        actor_id=actor_id,
        created_at=at,
    )
    if detail or sealed_reason is not None:
        event.erasable = EventDetail(detail=detail or None, reason_ciphertext=sealed_reason)
    session.add(event)
    return event


def stated_reason(vault: Vault, event: Event) -> str | None:
    """The reason a staff member gave for ``event``, while it is kept; None when there was none
    or it was erased (or cannot be read with today's keys)."""
    if event.erasable is None or event.erasable.reason_ciphertext is None:
        return None
    try:
        return vault.decrypt(event.erasable.reason_ciphertext)
    except VaultError:
        return None
