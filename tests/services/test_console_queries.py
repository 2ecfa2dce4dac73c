"""What the console's pages cost in statements sent to the database (issue 17): the advocates
a conversation can go to, in one query however many there are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from hotline import runtime_of
from hotline.db.models import Availability, StaffRole, StaffUser
from hotline.services.console import Console
from tests.conftest import new_phone
from tests.texting import claim
from tests.web.test_console_api import queued_texter


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    """A database of this test's own: the list of advocates is everyone's."""
    return clocked_app


@pytest.fixture
def statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the app's engine sends from now on, with its parameters (SQLite's own
    BEGIN IMMEDIATE left out)."""
    engine: Engine = runtime_of(app).engine
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement != "BEGIN IMMEDIATE":
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def console(app: Flask) -> Console:
    runtime = runtime_of(app)
    grace = timedelta(minutes=runtime.settings.presence_grace_minutes)
    return Console(runtime.triage, runtime.settings.capacity, grace)


def add_staff(
    app: Flask,
    role: StaffRole = StaffRole.ADVOCATE,
    *,
    available: bool = True,
    connected: bool = True,
    active: bool = True,
) -> int:
    """A staff member, straight into the database (no password to check here)."""
    runtime = runtime_of(app)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        staff = StaffUser(
            email=f"{role.value}-{new_phone()[2:]}@example.org",
            password_hash="never checked here",
            role=role,
            active=active,
            created_at=now,
            availability=Availability.AVAILABLE if available else Availability.AWAY,
            console_seen_at=now if connected else now - timedelta(hours=1),
        )
        session.add(staff)
        session.flush()
        return staff.id


def staff_member(app: Flask, staff_id: int) -> StaffUser:
    with runtime_of(app).sessions() as session:
        found = session.get(StaffUser, staff_id)
        assert found is not None
        return found


# -- the advocates a conversation can go to ------------------------------------------------------


def test_twenty_advocates_and_their_loads_in_one_query(
    app: Flask, statements: list[tuple[str, Any]]
) -> None:
    runtime = runtime_of(app)
    asking = add_staff(app)
    advocates = [add_staff(app) for _ in range(20)]
    for absent in ({"available": False}, {"connected": False}, {"active": False}):
        add_staff(app, **absent)
    for holder in (advocates[3], advocates[3], advocates[7]):
        claim(app, queued_texter(app), holder)
    emails = {i: staff_member(app, i).email for i in advocates}

    statements.clear()
    with runtime.sessions() as session:
        offered = console(app).advocates(session, asking, runtime.clock.now())

    assert len(statements) == 1, [sql for sql, _ in statements]
    held = {advocates[3]: 2, advocates[7]: 1}
    assert offered == [
        {"id": i, "email": emails[i], "active_count": held.get(i, 0)}
        for i in sorted(advocates, key=emails.__getitem__)
    ]
