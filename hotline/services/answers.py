"""The words the services' answers are written in: times and dates as the JSON carries them, and
JSON that has no fixed shape.

Each service declares the shape of what it answers next to the code that builds it, as a
``TypedDict`` (a plain dict at run time, so the web layer sends it as it is: see
:mod:`hotline.web.answers`). Enums in those shapes are :class:`~enum.StrEnum` members, which JSON
writes as their text. Times are written here once, as ISO 8601 text with the UTC offset
(``2026-11-23T12:00:00+00:00``), the form the pages' scripts parse.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NewType, TypeAlias

# An instant as ISO 8601 text with its offset: what datetime.isoformat() writes for the UTC
# timestamps the database returns.
IsoTime = NewType("IsoTime", str)
# A day as ISO 8601 text (2026-11-23).
IsoDate = NewType("IsoDate", str)

# Any JSON value: what an event's details or a setting's value hold, shaped by whoever wrote them.
JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]


def iso_time(at: datetime) -> IsoTime:
    return IsoTime(at.isoformat())


def iso_time_or_none(at: datetime | None) -> IsoTime | None:
    return None if at is None else IsoTime(at.isoformat())


def iso_date(day: date) -> IsoDate:
    return IsoDate(day.isoformat())
