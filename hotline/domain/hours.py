"""When advocates answer: a weekly schedule in the hotline's time zone.

A schedule is written the way a supervisor would say it, one entry per day or range of days,
entries separated by ``;`` or new lines::

    mon-fri 09:00-17:00; sat 10:00-14:00
    fri,sat 18:00-02:00          (past midnight: Friday night into Saturday morning)
    daily 08:00-20:00, 21:00-23:00

Days are ``mon tue wed thu fri sat sun`` (a range may wrap: ``fri-mon``), or ``daily``. Times
are ``HH:MM`` on a 24-hour clock; ``24:00`` ends a day; an end before the start runs past
midnight. An empty schedule means always open. :func:`parse` is strict and says what is
wrong; :func:`is_open` and :func:`next_opening` answer in the schedule's time zone, daylight
saving included; :func:`describe` is the short form texts show ("Mon-Fri 9am-5pm").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    # No accents: a character GSM-7 lacks halves what fits in a text.
    "es": ("lun", "mar", "mie", "jue", "vie", "sab", "dom"),
}
WEEK_MINUTES = 7 * 24 * 60
MAX_ENTRIES = 14
MAX_DESCRIPTION = 48  # characters of the short form, in either language: texts must stay short

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class ScheduleError(ValueError):
    """The schedule cannot be read, or cannot be told in a text; the message says why."""


@dataclass(frozen=True, order=True)
class Opening:
    """Open from ``start`` to ``end`` minutes after midnight of ``day`` (0 is Monday).

    ``end`` is above 1440 when the opening runs past midnight into the next day.
    """

    day: int
    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    """A week of openings. No openings at all: always open."""

    openings: tuple[Opening, ...] = ()

    @property
    def always_open(self) -> bool:
        return not self.openings


ALWAYS_OPEN = Schedule()


def parse(text: str | None) -> Schedule:
    """The schedule ``text`` describes; :class:`ScheduleError` naming the part at fault."""
    if text is None or not text.strip():
        return ALWAYS_OPEN
    entries = [e.strip() for e in re.split(r"[;\n]", text) if e.strip()]
    if len(entries) > MAX_ENTRIES:
        raise ScheduleError(f"at most {MAX_ENTRIES} entries")
    openings: list[Opening] = []
    for entry in entries:
        parts = entry.split(None, 1)
        if len(parts) != 2:
            raise ScheduleError(
                f"\u201c{entry[:30]}\u201d needs days and times, e.g. mon-fri 09:00-17:00"
            )
        days = _days(parts[0])
        for span in parts[1].split(","):
            start, end = _span(span.strip())
            openings += [Opening(day, start, end) for day in days]
    schedule = Schedule(tuple(sorted(set(openings))))
    _check_overlaps(schedule)
    for language in DAY_NAMES:
        if len(describe(schedule, language)) > MAX_DESCRIPTION:
            raise ScheduleError("too many different hours to tell a texter in a short text")
    return schedule


def _days(spec: str) -> list[int]:
    spec = spec.lower()
    if spec in ("daily", "everyday"):
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ScheduleError(
                f"\u201c{part[:12]}\u201d is not a day: use mon, tue ... sun or daily"
            )
        start = DAYS.index(first)
        stop = DAYS.index(last) if last else start
        days += [(start + i) % 7 for i in range((stop - start) % 7 + 1)]
    if len(set(days)) != len(days):
        raise ScheduleError(f"\u201c{spec[:20]}\u201d names a day twice")
    return days


def _span(spec: str) -> tuple[int, int]:
    first, sep, last = spec.partition("-")
    start, end = _minutes(first.strip()), _minutes(last.strip()) if sep else None
    if start is None or end is None or start >= 24 * 60:
        raise ScheduleError(f"\u201c{spec[:20]}\u201d is not a time range like 09:00-17:00")
    if end == start:
        raise ScheduleError(f"\u201c{spec[:20]}\u201d opens and closes at the same time")
    if end < start:
        end += 24 * 60  # past midnight
    return start, end


def _minutes(spec: str) -> int | None:
    match = _TIME.match(spec)
    if match is None:
        return None
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    return minutes if minutes <= 24 * 60 else None


def _check_overlaps(schedule: Schedule) -> None:
    spans = sorted(
        (o.day * 1440 + o.start + shift, o.day * 1440 + o.end + shift)
        for o in schedule.openings
        for shift in (0, WEEK_MINUTES)
    )
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise ScheduleError("two openings overlap")


def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (e.g. America/New_York); :class:`ScheduleError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("is not a known time zone, e.g. America/New_York") from None


def _minute_of_week(now_utc: datetime, tz: ZoneInfo) -> int:
    local = now_utc.astimezone(tz)
    return local.weekday() * 1440 + local.hour * 60 + local.minute


def is_open(schedule: Schedule, now_utc: datetime, tz: ZoneInfo) -> bool:
    """Whether ``now_utc`` falls in an opening, read on the wall clock of ``tz``."""
    if schedule.always_open:
        return True
    minute = _minute_of_week(now_utc, tz)
    for opening in schedule.openings:
        start, end = opening.day * 1440 + opening.start, opening.day * 1440 + opening.end
        if start <= minute < end or start <= minute + WEEK_MINUTES < end:
            return True
    return False


def next_opening(schedule: Schedule, now_utc: datetime, tz: ZoneInfo) -> datetime | None:
    """When the hotline next opens after ``now_utc`` (in UTC); None when always open."""
    if schedule.always_open:
        return None
    local_today = now_utc.astimezone(tz).date()
    candidates: list[datetime] = []
    for offset in range(8):
        day = local_today + timedelta(days=offset)
        for opening in schedule.openings:
            if opening.day == day.weekday():
                at = _local(day, opening.start, tz)
                if at > now_utc:
                    candidates.append(at)
    return min(candidates) if candidates else None


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return wall.astimezone(UTC)


def clock(minutes: int, language: str) -> str:
    """A time of day as texts show it: 9am, 5:30pm in English; 9:00, 17:30 in Spanish."""
    minutes %= 24 * 60
    hour, minute = divmod(minutes, 60)
    if language == "es":
        return f"{hour}:{minute:02d}"
    suffix = "am" if hour < 12 else "pm"
    twelve = hour % 12 or 12
    return f"{twelve}{suffix}" if minute == 0 else f"{twelve}:{minute:02d}{suffix}"


def describe(schedule: Schedule, language: str) -> str:
    """The short form for texts: "Mon-Fri 9am-5pm, Sat 10am-2pm"; "" when always open.

    Days with the same hours are grouped; consecutive days become a range.
    """
    if schedule.always_open:
        return ""
    names = DAY_NAMES.get(language, DAY_NAMES["en"])
    parts = []
    for spans, days in _grouped(schedule).items():
        times = " & ".join(
            "24h" if (s, e) == (0, 1440) else f"{clock(s, language)}-{clock(e, language)}"
            for s, e in spans
        )
        parts.append(f"{_day_ranges(days, names)} {times}")
    return ", ".join(parts)


def _grouped(schedule: Schedule) -> dict[tuple[tuple[int, int], ...], list[int]]:
    """Days with the same hours together, in the order of the week."""
    hours_of: dict[int, tuple[tuple[int, int], ...]] = {}
    for opening in schedule.openings:
        hours_of[opening.day] = (*hours_of.get(opening.day, ()), (opening.start, opening.end))
    groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for day in sorted(hours_of):
        groups.setdefault(hours_of[day], []).append(day)
    return groups


def _day_ranges(days: list[int], names: tuple[str, ...]) -> str:
    if len(days) == 7:
        return {"Mon": "Daily", "lun": "todos los dias", "mon": "daily"}[names[0]]
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs
    )


def when(at_utc: datetime, now_utc: datetime, tz: ZoneInfo, language: str) -> str:
    """A moment soon after ``now_utc`` as texts show it: "today 9am", "Mon 9am"."""
    local, today = at_utc.astimezone(tz), now_utc.astimezone(tz).date()
    at = clock(local.hour * 60 + local.minute, language)
    if local.date() == today:
        return f"{'hoy' if language == 'es' else 'today'} {at}"
    if local.date() == today + timedelta(days=1):
        return f"{'mañana' if language == 'es' else 'tomorrow'} {at}"
    return f"{DAY_NAMES.get(language, DAY_NAMES['en'])[local.weekday()]} {at}"


def canonical(schedule: Schedule) -> str:
    """The schedule written back in the form :func:`parse` reads: "mon-fri 09:00-17:00"."""

    def hhmm(minutes: int) -> str:
        minutes = minutes if minutes == 1440 else minutes % 1440
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    parts = []
    for spans, days in _grouped(schedule).items():
        times = ", ".join(f"{hhmm(s)}-{hhmm(e)}" for s, e in spans)
        parts.append(f"{_day_ranges(days, DAYS)} {times}")
    return "; ".join(parts)
