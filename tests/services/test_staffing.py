"""Who can answer now: opening hours, advocates on shift and their room, recent handle times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.db.models import Availability, StaffUser
from hotline.services.staffing import HoursPolicy, on_shift, recent_handle_minutes, staffing
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.texting import advocate, claim, close, text_in
from tests.texting import on_shift as shift


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def test_available_advocates_and_their_room(app: Flask) -> None:
    runtime = runtime_of(app)
    busy = shift(app, holding=2)
    shift(app)  # available, holding none
    advocate(app)  # away: not on shift
    retired = shift(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, retired)
        assert user is not None and user.availability is Availability.AVAILABLE
        user.active = False
    with runtime.sessions() as session:
        assert on_shift(session, 3) == (2, 1 + 3)
        assert on_shift(session, 2) == (2, 0 + 2)
    assert busy


def test_handle_times_from_conversations_closed_in_the_last_day(
    app: Flask, clock: FakeClock
) -> None:
    runtime = runtime_of(app)
    advocate_id = shift(app)
    for minutes in (10, 20):
        phone = new_phone()
        text_in(app, phone, "he has a gun")
        claim(app, phone, advocate_id)
        clock.advance(minutes * 60)
        close(app, phone, advocate_id)
    with runtime.sessions() as session:
        assert sorted(recent_handle_minutes(session, clock.now())) == [10.0, 20.0]
        later = clock.now() + timedelta(hours=25)
        assert recent_handle_minutes(session, later) == ()


def test_closed_means_nobody_on_shift(app: Flask) -> None:
    runtime = runtime_of(app)
    shift(app)
    settings = runtime.settings.with_overrides(operating_hours="sat-sun 10:00-14:00")
    policy = HoursPolicy.from_settings(settings)
    with runtime.sessions() as session:
        # Monday 23 November 2026, 7am in New York.
        closed = staffing(session, policy, runtime.clock.now())
        assert not closed.open and not closed.staffed and closed.on_shift == 0
        always = staffing(session, HoursPolicy.from_settings(runtime.settings), runtime.clock.now())
        assert always.open and always.staffed and always.on_shift == 1 and always.free == 3
