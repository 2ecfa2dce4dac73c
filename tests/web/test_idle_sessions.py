"""Idle sessions (only a person's actions count) and what the poll tells whom (issue 15, 9-10).

The clock is the test's own: the default idle limit is 30 minutes, the prompt 2 minutes before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Conversation, StaffSession, StaffUser
from hotline.domain.triage import State
from hotline.infra.taskqueue import InProcessQueue
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import create_staff, post_signed, sign_in_client, sms_form

IDLE = 30 * 60  # seconds: the default HOTLINE_SESSION_IDLE_MINUTES
INPUT = {"X-Hotline-Input": "1"}
BACKGROUND = {"X-Hotline-Background": "1"}


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def poll(client: FlaskClient, ids: str = "", **headers: str) -> tuple[int, dict[str, Any]]:
    response = client.get(f"/console/api/poll?conversations={ids}", headers=headers)
    return response.status_code, response.get_json()


def last_seen(app: Flask, user: StaffUser) -> list[tuple[object, object]]:
    """(last_seen_at, ended_at) of each of the user's sessions."""
    with runtime_of(app).sessions() as session:
        return [
            (s.last_seen_at, s.ended_at)
            for s in session.scalars(select(StaffSession).where(StaffSession.user_id == user.id))
        ]


def queued_texter(app: Flask, clock: FakeClock) -> str:
    phone = new_phone()
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    for body in ("hi", "no", "yes", "I need help", "skip"):
        clock.advance(1)
        response = post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body))
        assert response.status_code == 200
        tasks.run_due()
    return phone


def take_one(app: Flask, clock: FakeClock) -> tuple[StaffUser, FlaskClient, str, int]:
    """A new advocate holding a new texter: (advocate, client, csrf, conversation id)."""
    queued_texter(app, clock)
    advocate = create_staff(app)
    client, csrf = sign_in_client(app, advocate)
    headers = {"X-CSRF-Token": csrf}
    assert (
        client.post(
            "/console/api/availability", json={"availability": "available"}, headers=headers
        ).status_code
        == 200
    )
    taken = client.post("/console/api/queue/take-next", json={}, headers=headers)
    assert taken.status_code == 200, taken.get_data(as_text=True)
    return advocate, client, csrf, taken.get_json()["conversation_id"]


# -- 9. idle means no person's action -----------------------------------------------------------


def test_a_poll_without_input_does_not_extend_the_session(app: Flask, clock: FakeClock) -> None:
    advocate = create_staff(app)
    client, _ = sign_in_client(app, advocate)
    status, answer = poll(client)
    assert status == 200
    assert answer["idle_seconds_left"] == IDLE
    assert answer["idle_warning_seconds"] == 120
    before = last_seen(app, advocate)

    clock.advance(IDLE - 60)
    status, answer = poll(client)
    assert status == 200 and answer["idle_seconds_left"] == 60
    # Anything the page fetches on its own is a background request too.
    assert client.get("/console/api/queue", headers=BACKGROUND).status_code == 200
    assert client.get("/console/api/idle").get_json()["idle_seconds_left"] == 60
    assert last_seen(app, advocate) == before  # nothing written: the idle clock did not move

    clock.advance(61)
    assert poll(client)[0] == 401


def test_a_poll_that_saw_input_extends_the_session(app: Flask, clock: FakeClock) -> None:
    advocate = create_staff(app)
    client, _ = sign_in_client(app, advocate)
    clock.advance(IDLE - 60)
    status, answer = poll(client, **INPUT)
    assert status == 200 and answer["idle_seconds_left"] == IDLE
    clock.advance(IDLE - 60)
    assert poll(client)[1]["idle_seconds_left"] == 60
    # A marked background GET that reports input counts as well.
    assert client.get("/console/api/queue", headers={**BACKGROUND, **INPUT}).status_code == 200
    clock.advance(IDLE - 1)
    assert poll(client)[1]["idle_seconds_left"] == 1


def test_a_person_acting_extends_the_session(app: Flask, clock: FakeClock) -> None:
    """A request that is not a background one (a page, an action) is a person's action; the
    prompt's button posts one, and needs the CSRF token like any other change."""
    advocate = create_staff(app)
    client, csrf = sign_in_client(app, advocate)
    clock.advance(IDLE - 30)
    assert client.get("/console").status_code == 200
    assert poll(client)[1]["idle_seconds_left"] == IDLE

    clock.advance(IDLE - 30)
    assert poll(client)[1]["idle_seconds_left"] == 30
    refused = client.post("/console/api/still-here", json={})
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    here = client.post("/console/api/still-here", json={}, headers={"X-CSRF-Token": csrf})
    assert here.status_code == 200 and here.get_json()["idle_seconds_left"] == IDLE


def test_an_idle_session_really_ends_server_side(app: Flask, clock: FakeClock) -> None:
    advocate = create_staff(app)
    client, csrf = sign_in_client(app, advocate)
    for _ in range(IDLE // 60):  # a console left open: polled every minute, never touched
        clock.advance(60)
        assert poll(client)[0] == 200
    clock.advance(1)
    assert poll(client)[0] == 401
    [(_, ended_at)] = last_seen(app, advocate)
    assert ended_at is not None
    # Ended for good: input, an action or a page now changes nothing.
    assert poll(client, **INPUT)[0] == 401
    assert (
        client.post("/console/api/still-here", json={}, headers={"X-CSRF-Token": csrf}).status_code
        == 401
    )
    page = client.get("/console")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_after_an_idle_end_the_presence_grace_hands_the_texters_back(
    app: Flask, clock: FakeClock
) -> None:
    """Ending for idleness moves no texter by itself; its refused polls no longer prove the
    console open, so after the presence grace the texters go back to the queue, as after any
    absence (and an advocate who signs in again within the grace keeps them)."""
    advocate, client, _, conversation_id = take_one(app, clock)
    clock.advance(IDLE + 1)
    assert poll(client, str(conversation_id))[0] == 401
    with runtime_of(app).sessions() as session:
        user = session.get(StaffUser, advocate.id)
        assert user is not None and user.console_seen_at is not None
        seen_at = user.console_seen_at
    grace = timedelta(minutes=runtime_of(app).settings.presence_grace_minutes)
    assert clock.now() - seen_at > grace  # the refused poll did not count as presence
    assert jobs.release_absent(runtime_of(app)) == [advocate.id]
    with runtime_of(app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.state is not State.WITH_ADVOCATE and conversation.advocate_id is None


def test_a_poll_still_proves_the_console_open(app: Flask, clock: FakeClock) -> None:
    """Presence is about the console being open, idle about a person acting: background polls
    keep the first without feeding the second."""
    advocate, client, _, conversation_id = take_one(app, clock)
    for _ in range(10):
        clock.advance(60)
        assert poll(client, str(conversation_id))[0] == 200
    assert jobs.release_absent(runtime_of(app)) == []
    with runtime_of(app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.advocate_id == advocate.id
    assert poll(client)[1]["idle_seconds_left"] == IDLE - 10 * 60


# -- 10. the poll answers only for conversations the caller may see ------------------------------


def test_an_advocate_gets_no_counter_for_another_advocates_conversation(
    app: Flask, clock: FakeClock
) -> None:
    _, alice, _, theirs = take_one(app, clock)
    _, bob, _, mine = take_one(app, clock)
    status, answer = poll(bob, f"{theirs},{mine},{theirs + mine + 1000}")
    assert status == 200
    assert answer["conversations"] == {str(mine): answer["conversations"][str(mine)]}
    assert set(poll(alice, f"{theirs},{mine}")[1]["conversations"]) == {str(theirs)}
    # Alone, the other's id gets exactly what an id that does not exist gets: nothing.
    assert poll(bob, str(theirs))[1]["conversations"] == {}
    assert poll(bob, "999999")[1]["conversations"] == {}


def test_supervisors_get_counters_for_any_conversation_that_exists(
    app: Flask, clock: FakeClock
) -> None:
    _, _, _, first = take_one(app, clock)
    _, _, _, second = take_one(app, clock)
    supervisor, _ = sign_in_client(app, create_staff(app, "supervisor"))
    answer = poll(supervisor, f"{second},{first},999999,{first}")[1]
    assert set(answer["conversations"]) == {str(second), str(first)}
