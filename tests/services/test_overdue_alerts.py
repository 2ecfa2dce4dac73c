"""Texters left waiting or unanswered (issue 18, item 8), through the real paths on both
databases: signed texts into the webhook and the worker, claims and replies through their
services, alerts raised by ``jobs.fire_timers`` on a fake clock, the board over HTTP."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Event, StaffUser
from hotline.services.alerts import Alerts
from hotline.services.claims import do_return_to_queue
from hotline.services.console import Console
from hotline.services.handling import Handling
from hotline.services.overdue import Thresholds, raise_overdue_alerts
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import create_staff, sign_in_client
from tests.texting import advocate, claim, conversation, run, text_in, tick

EMERGENCY = "he has a gun"


def alerts_of(app: Flask, kind: str) -> list[dict[str, Any]]:
    with runtime_of(app).sessions() as session:
        found = session.scalars(select(Event).where(Event.kind == "alert").order_by(Event.id))
        return [
            {"conversation_id": e.conversation_id, **(e.detail or {})}
            for e in found.unique()
            if (e.detail or {}).get("alert") == kind
        ]


def answer(app: Flask, phone: str, advocate_id: int) -> None:
    runtime = runtime_of(app)
    conversation_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        Handling(Console(runtime.triage, 3)).reply(
            session, user, conversation_id, "I am here with you", runtime.clock.now()
        )
    run(app)


def board(app: Flask) -> dict[str, Any]:
    client, _ = sign_in_client(app, create_staff(app, "supervisor"))
    found = client.get("/supervisor/api/board")
    assert found.status_code == 200
    return dict(found.get_json())


def held(board_answer: dict[str, Any], conversation_id: int) -> dict[str, Any]:
    for member in board_answer["advocates"]:
        for item in member["active"]:
            if item["id"] == conversation_id:
                return dict(item)
    raise AssertionError(f"conversation {conversation_id} is not on the board")


def test_an_urgent_texter_waiting_past_the_threshold_raises_one_alert(
    clocked_app: Flask, clock: FakeClock
) -> None:
    urgent, calm = new_phone(), new_phone()
    text_in(clocked_app, urgent, EMERGENCY)
    for body in ("hi", "no", "yes", "I need a job", "skip"):
        text_in(clocked_app, calm, body)
    tick(clocked_app, clock, 1)
    assert alerts_of(clocked_app, "urgent_waiting") == []
    assert board(clocked_app)["overdue_waiting"] == []

    tick(clocked_app, clock, 1.5)
    raised = alerts_of(clocked_app, "urgent_waiting")
    assert [a["conversation_id"] for a in raised] == [conversation(clocked_app, urgent).id]
    assert raised[0]["waited_seconds"] >= 150
    seen = board(clocked_app)
    assert seen["overdue_waiting"] == [conversation(clocked_app, urgent).id]
    assert seen["thresholds"] == {"urgent_wait_seconds": 120, "unanswered_seconds": 300}

    for _ in range(4):  # every tick after: the same episode, no second alert
        tick(clocked_app, clock, 0.5)
    assert len(alerts_of(clocked_app, "urgent_waiting")) == 1

    # The supervisors read it in words, with no texter data.
    runtime = runtime_of(clocked_app)
    supervisor = create_staff(clocked_app, "supervisor")
    with runtime.sessions() as session:
        shown = Alerts(runtime.vault).open_alerts(session, supervisor, runtime.clock.now())
    item = next(i for i in shown["items"] if i["kind"] == "urgent_waiting")
    assert item["label"] == "An urgent texter has waited too long"
    assert item["why"] == "waiting in the queue for 2 minutes"
    assert item["words"] is None and item["phone"] is None


def test_a_texter_handed_back_to_the_queue_is_a_new_wait(
    clocked_app: Flask, clock: FakeClock
) -> None:
    phone = new_phone()
    advocate_id = advocate(clocked_app)
    text_in(clocked_app, phone, EMERGENCY)
    tick(clocked_app, clock, 3)
    claim(clocked_app, phone, advocate_id)
    runtime = runtime_of(clocked_app)
    conversation_id = conversation(clocked_app, phone).id
    with runtime.sessions.begin() as session:
        do_return_to_queue(
            session, runtime.triage, conversation_id, advocate_id, runtime.clock.now()
        )
    run(clocked_app)
    tick(clocked_app, clock, 1)
    assert len(alerts_of(clocked_app, "urgent_waiting")) == 1  # back for a minute only
    tick(clocked_app, clock, 1.5)
    assert len(alerts_of(clocked_app, "urgent_waiting")) == 2


def test_unanswered_texts_show_on_the_board_and_alert_once_per_episode(
    clocked_app: Flask, clock: FakeClock
) -> None:
    phone = new_phone()
    advocate_id = advocate(clocked_app)
    text_in(clocked_app, phone, EMERGENCY)
    claim(clocked_app, phone, advocate_id)
    conversation_id = conversation(clocked_app, phone).id
    calm = held(board(clocked_app), conversation_id)
    assert calm["no_reply_yet"] is True
    # The text sent while queued waits from the claim: nobody could answer it before.
    assert calm["unanswered_texts"] == 1 and calm["unanswered_seconds"] == 0
    assert calm["overdue"] is False

    for _ in range(10):  # the texter: ten texts, no answer
        clock.advance(18)
        text_in(clocked_app, phone, "are you there?")
    seen = held(board(clocked_app), conversation_id)
    assert seen["no_reply_yet"] is True
    assert seen["unanswered_texts"] == 11
    assert seen["unanswered_seconds"] == 180
    assert seen["overdue"] is False
    assert alerts_of(clocked_app, "unanswered") == []

    tick(clocked_app, clock, 2.5)
    raised = alerts_of(clocked_app, "unanswered")
    assert len(raised) == 1
    assert raised[0]["conversation_id"] == conversation_id
    assert raised[0]["advocate_id"] == advocate_id
    assert raised[0]["texts"] == 11 and raised[0]["no_reply_yet"] is True
    assert held(board(clocked_app), conversation_id)["overdue"] is True
    tick(clocked_app, clock, 1)
    tick(clocked_app, clock, 5)
    assert len(alerts_of(clocked_app, "unanswered")) == 1

    answer(clocked_app, phone, advocate_id)
    answered = held(board(clocked_app), conversation_id)
    assert answered["no_reply_yet"] is False
    assert answered["unanswered_texts"] == 0 and answered["unanswered_seconds"] == 0
    assert answered["overdue"] is False
    tick(clocked_app, clock, 10)
    assert len(alerts_of(clocked_app, "unanswered")) == 1  # all answered: nothing to alert

    text_in(clocked_app, phone, "thank you, one more thing")
    tick(clocked_app, clock, 4)
    assert len(alerts_of(clocked_app, "unanswered")) == 1
    tick(clocked_app, clock, 1.5)
    again = alerts_of(clocked_app, "unanswered")
    assert len(again) == 2 and again[1]["texts"] == 1 and again[1]["no_reply_yet"] is False


def test_the_thresholds_are_run_time_settings(clocked_app: Flask, clock: FakeClock) -> None:
    supervisor = create_staff(clocked_app, "supervisor")
    client, csrf = sign_in_client(clocked_app, supervisor)
    changed = client.put(
        "/supervisor/api/settings/urgent_wait_alert_minutes",
        json={"value": 10},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.get_json()
    refused = client.put(
        "/supervisor/api/settings/unanswered_alert_minutes",
        json={"value": 0},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 400
    phone = new_phone()
    text_in(clocked_app, phone, EMERGENCY)
    tick(clocked_app, clock, 5)
    assert alerts_of(clocked_app, "urgent_waiting") == []
    assert board(clocked_app)["thresholds"]["urgent_wait_seconds"] == 600
    tick(clocked_app, clock, 5.5)
    assert len(alerts_of(clocked_app, "urgent_waiting")) == 1


def test_two_runs_at_once_raise_one_alert(clocked_app: Flask, clock: FakeClock) -> None:
    """The check for an earlier alert is made under the texter's lock: a second run that
    starts after the first committed finds its alert."""
    phone = new_phone()
    text_in(clocked_app, phone, EMERGENCY)
    clock.advance(300)
    runtime = runtime_of(clocked_app)
    thresholds = Thresholds.minutes(2, 5)
    with runtime.sessions.begin() as session:
        assert raise_overdue_alerts(session, thresholds, runtime.clock.now()) == 1
    with runtime.sessions.begin() as session:
        assert raise_overdue_alerts(session, thresholds, runtime.clock.now()) == 0
    jobs.fire_timers(runtime)
    assert len(alerts_of(clocked_app, "urgent_waiting")) == 1
