"""What a waiting texter can honestly be told: whether anyone is on shift, and how long.

Pure functions over :class:`Staffing`, the facts :mod:`hotline.services.staffing` reads: is the
hotline open, how many advocates are available and how much room they have, and how long
advocates recently took per conversation. Nothing here invents a number: without an advocate
on shift, or without enough recent conversations to go by, the estimate is None and the texter
is told it cannot be estimated.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_HANDLE_SAMPLES = 3  # fewer closed conversations than this: no estimate
MAX_ESTIMATE_MINUTES = 240  # beyond four hours a number would mislead more than help


@dataclass(frozen=True)
class Staffing:
    """Who can answer now. ``free`` is the room left with advocates on shift (conversations
    they may still take); ``slots`` the room they have in all."""

    open: bool
    on_shift: int
    slots: int
    free: int
    handle_minutes: tuple[float, ...] = ()

    @property
    def staffed(self) -> bool:
        """Open, with at least one advocate available: the queue can move."""
        return self.open and self.on_shift > 0


def estimate_minutes(position: int, staffing: Staffing) -> int | None:
    """Minutes until an advocate takes the texter at ``position`` (1 is next), or None.

    Texters within the free room are taken as soon as an advocate looks: a few minutes. The
    others wait for conversations to end: at the typical (median) recent handle time spread
    over every slot on shift. Rounded up to 5 minutes, since it is an estimate.
    """
    if not staffing.staffed or staffing.slots <= 0:
        return None
    if position <= staffing.free:
        return 5
    if len(staffing.handle_minutes) < MIN_HANDLE_SAMPLES:
        return None
    typical = statistics.median(staffing.handle_minutes)
    minutes = (position - staffing.free) * typical / staffing.slots
    rounded = max(5, 5 * math.ceil(minutes / 5))
    return rounded if rounded <= MAX_ESTIMATE_MINUTES else None


def is_next(position: int, staffing: Staffing) -> bool:
    """First in line and an advocate has room now: "You're next"."""
    return position == 1 and staffing.staffed and staffing.free > 0


def worth_telling(told: int | None, position: int) -> bool:
    """Whether a place in line is news enough for a text nobody asked for.

    Only progress is news (moving back, behind someone urgent, is not worth a buzz): reaching
    the front, or moving up by at least two places and a quarter of the line told.
    """
    if told is None:
        return True
    if position >= told:
        return False
    moved = told - position
    return position == 1 or moved >= max(2, math.ceil(told / 4))


@dataclass(frozen=True)
class Budget:
    """Unprompted texts sent in the hour that began at ``since``."""

    count: int
    since: datetime | None


def budget_now(budget: Budget, now: datetime) -> Budget:
    """The budget as it stands at ``now``: a new hour starts from zero."""
    if budget.since is None or now - budget.since >= timedelta(hours=1):
        return Budget(0, now)
    return budget


def within_budget(budget: Budget, now: datetime, per_hour: int) -> bool:
    return budget_now(budget, now).count < per_hour


def spend(budget: Budget, now: datetime) -> Budget:
    current = budget_now(budget, now)
    return Budget(current.count + 1, current.since)


def handle_minutes(spans: Sequence[tuple[datetime, datetime]]) -> tuple[float, ...]:
    """Minutes from claim to close of each conversation, the impossible ones left out."""
    return tuple(
        (closed - claimed).total_seconds() / 60 for claimed, closed in spans if closed > claimed
    )
