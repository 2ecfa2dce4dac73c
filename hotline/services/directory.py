"""What supervisors manage for advocates: quick replies and the referral directory.

Changes take effect at once (advocates' consoles read the tables) and are audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue import LANGUAGES
from hotline.db.models import QuickReply, Referral, StaffUser
from hotline.domain import reply_variables
from hotline.services import events
from hotline.services.errors import InvalidInput, NotFound

QUICK_REPLY_FIELDS = {"language": 8, "title": 80, "body": 640}
REFERRAL_FIELDS = {
    "name": 120, "services": 400, "area": 120, "phone": 40, "hours": 120, "language": 40,
}  # fmt: skip


def _checked(payload: dict[str, Any], limits: dict[str, int], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, limit in limits.items():
        if name not in payload:
            if partial:
                continue
            raise InvalidInput(f"{name} is required")
        value = payload[name]
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name} must be text")
        if len(value.strip()) > limit:
            raise InvalidInput(f"{name} is at most {limit} characters")
        values[name] = value.strip()
    if "active" in payload:
        if not isinstance(payload["active"], bool):
            raise InvalidInput("active must be true or false")
        values["active"] = payload["active"]
    unknown = set(payload) - set(limits) - {"active"}
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}")
    if (
        "language" in values
        and limits is QUICK_REPLY_FIELDS
        and values["language"] not in LANGUAGES
    ):
        raise InvalidInput(f"language must be one of: {', '.join(LANGUAGES)}")
    return values


class QuickReplyEntry(TypedDict):
    id: int
    language: str
    title: str
    body: str
    active: bool


class ReferralDetails(TypedDict):
    """A referral's entry in the directory (:data:`REFERRAL_FIELDS`), with its id."""

    id: int
    name: str
    services: str
    area: str
    phone: str
    hours: str
    language: str


class ReferralEntry(ReferralDetails):
    """A referral as supervisors edit it."""

    active: bool  # whether advocates are offered it


def quick_replies(session: Session) -> list[QuickReplyEntry]:
    rows = session.scalars(select(QuickReply).order_by(QuickReply.language, QuickReply.title))
    return [
        {"id": r.id, "language": r.language, "title": r.title, "body": r.body, "active": r.active}
        for r in rows
    ]


def referrals(session: Session) -> list[ReferralEntry]:
    rows = session.scalars(select(Referral).order_by(Referral.name))
    return [
        {
            "id": r.id, "active": r.active, "name": r.name, "services": r.services,
            "area": r.area, "phone": r.phone, "hours": r.hours, "language": r.language,
        }
        for r in rows
    ]  # fmt: skip


def do_save_quick_reply(
    session: Session,
    user: StaffUser,
    payload: dict[str, Any],
    now: datetime,
    quick_reply_id: int | None = None,
) -> int:
    """Create a quick reply, or change one (``quick_reply_id``). Audited."""
    values = _checked(payload, QUICK_REPLY_FIELDS, partial=quick_reply_id is not None)
    try:
        reply_variables.check(values.get("body", ""))
    except reply_variables.UnknownVariable as unknown:
        raise InvalidInput(f"body holds an {unknown}") from None
    if quick_reply_id is None:
        row = QuickReply(active=True, **values)
        session.add(row)
    else:
        found = session.get(QuickReply, quick_reply_id)
        if found is None:
            raise NotFound("no such quick reply")
        row = found
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    events.record(
        session,
        "quick_reply_saved",
        now,
        actor_id=user.id,
        quick_reply_id=row.id,
        fields=sorted(values),
    )
    return row.id


def do_save_referral(
    session: Session,
    user: StaffUser,
    payload: dict[str, Any],
    now: datetime,
    referral_id: int | None = None,
) -> int:
    """Create a referral entry, or change one (``referral_id``). Audited."""
    values = _checked(payload, REFERRAL_FIELDS, partial=referral_id is not None)
    if referral_id is None:
        row = Referral(active=True, **values)
        session.add(row)
    else:
        found = session.get(Referral, referral_id)
        if found is None:
            raise NotFound("no such referral")
        row = found
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    events.record(
        session, "referral_saved", now, actor_id=user.id, referral_id=row.id, fields=sorted(values)
    )
    return row.id


__all__ = ["do_save_quick_reply", "do_save_referral", "quick_replies", "referrals"]
