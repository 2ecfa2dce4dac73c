"""What the console's pages cost in statements sent to the database (issue 17): the advocates
a conversation can go to, in one query however many there are, and a conversation's view,
whose look-up of staff emails names only the staff in that conversation."""

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
from hotline.services.handling import Handling
from tests.conftest import new_phone
from tests.console_client import queued_texter
from tests.texting import claim, conversation, text_in


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
    names = {i: staff_member(app, i).name for i in advocates}

    statements.clear()
    with runtime.sessions() as session:
        offered = console(app).advocates(session, asking, runtime.clock.now())

    assert len(statements) == 1, [sql for sql, _ in statements]
    held = {advocates[3]: 2, advocates[7]: 1}
    assert offered == [
        {
            "id": i,
            "name": names[i],
            "active_count": held.get(i, 0),
            "full": held.get(i, 0) >= runtime.settings.capacity,
        }
        for i in sorted(advocates, key=lambda i: names[i].casefold())
    ]


# -- a conversation's view ------------------------------------------------------------------------


def staff_look_ups(statements: list[tuple[str, Any]]) -> list[set[Any]]:
    """The parameters of each statement that reads staff members' emails."""
    found = []
    for sql, parameters in statements:
        if "staff_users.email" in sql and "FROM staff_users" in sql:
            values = parameters.values() if isinstance(parameters, dict) else parameters
            found.append(set(values))
    return found


def viewed(app: Flask, viewer: int, conversation_id: int, statements: list[Any]) -> dict[str, Any]:
    """``viewer`` opens the conversation; ``statements`` holds what the view alone sent."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, viewer)
        assert user is not None
        statements.clear()
        return console(app).conversation(session, user, conversation_id, runtime.clock.now())


def test_a_view_of_200_texts_takes_the_statements_of_a_short_one_and_only_its_staff(
    app: Flask, statements: list[tuple[str, Any]]
) -> None:
    supervisor = add_staff(app, StaffRole.SUPERVISOR)
    holder, other = add_staff(app), add_staff(app)
    for _ in range(30):  # staff who have nothing to do with either conversation
        add_staff(app)
    short, long = new_phone(), new_phone()
    for phone, count in ((short, 5), (long, 200)):
        for n in range(count):
            text_in(app, phone, ["hi", "no", "yes", "I need help", "skip"][n % 5])
    claim(app, short, other)
    claim(app, long, holder)
    runtime = runtime_of(app)
    short_id, long_id = conversation(app, short).id, conversation(app, long).id
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, holder)
        assert user is not None
        Handling(console(app)).add_note(session, user, long_id, "a note", runtime.clock.now())
        Handling(console(app)).reply(session, user, long_id, "hello", runtime.clock.now())

    viewed(app, supervisor, short_id, statements)
    short_view = len(statements)
    view = viewed(app, supervisor, long_id, statements)

    texts = [i for i in view["timeline"] if i["type"] == "message" and i["direction"] == "inbound"]
    assert len(texts) == 200
    assert len(statements) == short_view, [sql for sql, _ in statements]
    assert staff_look_ups(statements) == [{holder}]  # not every staff member's email
