"""Operating hours: strict parsing, open or closed on the local wall clock, the next opening,
and the short form texts show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.hours import (
    ALWAYS_OPEN,
    MAX_DESCRIPTION,
    Opening,
    ScheduleError,
    canonical,
    describe,
    is_open,
    next_opening,
    parse,
    when,
    zone,
)

NEW_YORK = zone("America/New_York")
WEEKDAYS = parse("mon-fri 09:00-17:00; sat 10:00-14:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("text", [None, "", "   ", "\n"])
def test_nothing_written_means_always_open(text: str | None) -> None:
    assert parse(text) is ALWAYS_OPEN
    assert is_open(ALWAYS_OPEN, utc("2026-12-06 03:00"), NEW_YORK)
    assert next_opening(ALWAYS_OPEN, utc("2026-12-06 03:00"), NEW_YORK) is None
    assert describe(ALWAYS_OPEN, "en") == ""


def test_days_ranges_and_spans() -> None:
    assert parse("mon 09:00-17:00").openings == (Opening(0, 540, 1020),)
    assert [o.day for o in parse("fri-mon 9:00-10:00").openings] == [0, 4, 5, 6]
    assert [o.day for o in parse("daily 08:00-20:00").openings] == list(range(7))
    assert parse("sat 10:00-12:00, 13:00-15:00").openings == (
        Opening(5, 600, 720),
        Opening(5, 780, 900),
    )
    assert parse("fri 18:00-02:00").openings == (Opening(4, 1080, 1560),)  # past midnight
    assert parse("sun 00:00-24:00").openings == (Opening(6, 0, 1440),)
    assert parse("MON-FRI 09:00-17:00\nsat 10:00-14:00") == WEEKDAYS


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("monday 09:00-17:00", "\u201cmonday\u201d is not a day: use mon, tue ... sun or daily"),
        ("mon", "\u201cmon\u201d needs days and times, e.g. mon-fri 09:00-17:00"),
        ("mon 9-5", "\u201c9-5\u201d is not a time range like 09:00-17:00"),
        ("mon 09:00-25:00", "\u201c09:00-25:00\u201d is not a time range like 09:00-17:00"),
        ("mon 24:00-02:00", "\u201c24:00-02:00\u201d is not a time range like 09:00-17:00"),
        ("mon 09:00", "\u201c09:00\u201d is not a time range like 09:00-17:00"),
        ("mon 09:00-09:00", "\u201c09:00-09:00\u201d opens and closes at the same time"),
        ("mon,mon 09:00-10:00", "\u201cmon,mon\u201d names a day twice"),
        ("mon 09:00-17:00; mon 16:00-18:00", "two openings overlap"),
        ("sun 20:00-02:00; mon 01:00-03:00", "two openings overlap"),  # across the week's end
        (
            "; ".join(
                f"{d} 0{d_i}:00-0{d_i}:30"
                for d_i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
            ),
            "too many different hours to tell a texter in a short text",
        ),
        (";".join(["mon 01:00-02:00"] * 15), "at most 14 entries"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse(text)
    assert str(raised.value) == error


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleError, match="is not a known time zone"):
        zone("Mars/Olympus_Mons")
    with pytest.raises(ScheduleError):
        zone("../etc/passwd")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-12-07 13:59", False),  # Monday 8:59am in New York (UTC-5 in December)
        ("2026-12-07 14:00", True),  # 9:00am
        ("2026-12-07 21:59", True),  # 4:59pm
        ("2026-12-07 22:00", False),  # 5:00pm: closed
        ("2026-12-12 15:00", True),  # Saturday 10am
        ("2026-12-12 19:00", False),  # Saturday 2pm
        ("2026-12-13 16:00", False),  # Sunday
        ("2026-07-06 13:00", True),  # Monday 9am in summer (UTC-4)
        ("2026-07-06 12:59", False),
    ],
)
def test_open_on_the_local_wall_clock(moment: str, expected: bool) -> None:
    assert is_open(WEEKDAYS, utc(moment), NEW_YORK) is expected


def test_openings_past_midnight_and_across_the_end_of_the_week() -> None:
    nights = parse("sun 22:00-06:00")
    assert is_open(nights, utc("2026-12-07 03:00"), NEW_YORK)  # Sunday 10pm
    assert is_open(nights, utc("2026-12-07 10:59"), NEW_YORK)  # Monday 5:59am
    assert not is_open(nights, utc("2026-12-07 11:00"), NEW_YORK)


def test_next_opening() -> None:
    friday_evening = utc("2026-12-11 23:00")  # Friday 6pm
    assert next_opening(WEEKDAYS, friday_evening, NEW_YORK) == utc("2026-12-12 15:00")
    saturday_evening = utc("2026-12-12 23:00")
    assert next_opening(WEEKDAYS, saturday_evening, NEW_YORK) == utc("2026-12-14 14:00")
    # While open, the next opening is tomorrow's.
    assert next_opening(WEEKDAYS, utc("2026-12-07 15:00"), NEW_YORK) == utc("2026-12-08 14:00")
    # Daylight saving starts on 2027-03-14: Monday 9am is 13:00 UTC again.
    assert next_opening(WEEKDAYS, utc("2027-03-13 23:00"), NEW_YORK) == utc("2027-03-15 13:00")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_the_next_opening_is_open_and_nothing_before_it_is(naive: datetime) -> None:
    now = naive.replace(tzinfo=UTC, second=0, microsecond=0)
    opens = next_opening(WEEKDAYS, now, NEW_YORK)
    assert opens is not None and now < opens <= now + timedelta(days=8)
    assert is_open(WEEKDAYS, opens, NEW_YORK)
    if not is_open(WEEKDAYS, now, NEW_YORK):
        assert not is_open(WEEKDAYS, opens - timedelta(minutes=1), NEW_YORK)


def test_short_forms_for_texts() -> None:
    assert describe(WEEKDAYS, "en") == "Mon-Fri 9am-5pm, Sat 10am-2pm"
    assert describe(WEEKDAYS, "es") == "lun-vie 9:00-17:00, sab 10:00-14:00"
    assert describe(parse("daily 00:00-24:00"), "en") == "Daily 24h"
    assert describe(parse("mon,wed,fri 09:30-13:00"), "en") == "Mon,Wed,Fri 9:30am-1pm"
    assert describe(parse("fri 18:00-02:00"), "es") == "vie 18:00-2:00"
    friday = utc("2026-12-11 23:00")
    assert when(utc("2026-12-12 15:00"), friday, NEW_YORK, "en") == "tomorrow 10am"
    assert when(utc("2026-12-14 14:00"), friday, NEW_YORK, "es") == "lun 9:00"
    assert when(utc("2026-12-12 02:00"), friday, NEW_YORK, "en") == "today 9pm"


@given(
    st.lists(
        st.tuples(
            st.sets(st.integers(0, 6), min_size=1),
            st.integers(0, 23),
            st.sampled_from([0, 30]),
            st.integers(1, 12),
        ),
        max_size=3,
    )
)
def test_canonical_form_reads_back_the_same(entries: list[tuple[set[int], int, int, int]]) -> None:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    text = "; ".join(
        f"{','.join(days[d] for d in sorted(ds))} {h:02d}:{m:02d}-{(h + n) % 24:02d}:{m:02d}"
        for ds, h, m, n in entries
    )
    try:
        schedule = parse(text)
    except ScheduleError:
        return  # overlapping or too long to tell: refused, which is the point
    assert parse(canonical(schedule)) == schedule
    for language in ("en", "es"):
        assert len(describe(schedule, language)) <= MAX_DESCRIPTION
