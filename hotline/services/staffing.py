"""Who can answer a waiting texter now: opening hours, advocates on shift, recent handle times.

Read-only look-ups feeding the pure rules of :mod:`hotline.domain.wait`. "On shift" means an
active staff account marked available (presence from the console may refine that later);
"free" is the room those advocates have left under the capacity limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import Availability, Conversation, StaffUser
from hotline.domain import hours
from hotline.domain.triage import State
from hotline.domain.wait import Staffing, handle_minutes
from hotline.settings import Settings

HANDLE_WINDOW = timedelta(hours=24)
HANDLE_SAMPLES = 50  # the latest closed conversations an estimate goes by


@dataclass(frozen=True)
class HoursPolicy:
    """What the waiting texts need from settings (see :mod:`hotline.services.waiting`)."""

    schedule: hours.Schedule
    zone: ZoneInfo
    voice_number: str
    web_address: str
    capacity: int
    unprompted_per_hour: int
    ack_minutes: float
    keep_place_minutes: float

    @classmethod
    def from_settings(cls, settings: Settings) -> HoursPolicy:
        """Settings were checked when read (environment or override): parsing cannot fail."""
        return cls(
            schedule=hours.parse(settings.operating_hours),
            zone=hours.zone(settings.timezone),
            voice_number=settings.voice_number,
            web_address=settings.web_address,
            capacity=settings.capacity,
            unprompted_per_hour=settings.unprompted_per_hour,
            ack_minutes=settings.ack_minutes,
            keep_place_minutes=settings.keep_place_minutes,
        )


def is_open(policy: HoursPolicy, now: datetime) -> bool:
    return hours.is_open(policy.schedule, now, policy.zone)


def on_shift(session: Session, capacity: int) -> tuple[int, int]:
    """How many advocates are available, and how many more conversations they may take."""
    held = (
        select(Conversation.advocate_id, func.count().label("held"))
        .where(Conversation.state == State.WITH_ADVOCATE, Conversation.advocate_id.is_not(None))
        .group_by(Conversation.advocate_id)
        .subquery()
    )
    loads = session.execute(
        select(func.coalesce(held.c.held, 0))
        .select_from(StaffUser)
        .outerjoin(held, held.c.advocate_id == StaffUser.id)
        .where(StaffUser.active.is_(True), StaffUser.availability == Availability.AVAILABLE)
    ).scalars()
    counted = [int(load) for load in loads]
    return len(counted), sum(max(0, capacity - load) for load in counted)


def recent_handle_minutes(session: Session, now: datetime) -> tuple[float, ...]:
    """Minutes from claim to close of the latest conversations closed in the last day."""
    spans = session.execute(
        select(Conversation.claimed_at, Conversation.closed_at)
        .where(
            Conversation.closed_at >= now - HANDLE_WINDOW,
            Conversation.claimed_at.is_not(None),
        )
        .order_by(Conversation.closed_at.desc())
        .limit(HANDLE_SAMPLES)
    ).all()
    return handle_minutes([(claimed, closed) for claimed, closed in spans if claimed and closed])


def staffing(
    session: Session, policy: HoursPolicy, now: datetime, *, with_handle_times: bool = True
) -> Staffing:
    """The facts a waiting texter's text is chosen from. Closed: nobody counts as on shift."""
    if not is_open(policy, now):
        return Staffing(open=False, on_shift=0, slots=0, free=0)
    advocates, free = on_shift(session, policy.capacity)
    return Staffing(
        open=True,
        on_shift=advocates,
        slots=advocates * policy.capacity,
        free=free,
        handle_minutes=recent_handle_minutes(session, now) if with_handle_times else (),
    )
