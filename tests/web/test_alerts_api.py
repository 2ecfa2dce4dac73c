"""Alerts: the supervisors' list and acknowledgement, and the console's emergency, minor and
"do not text first" flags. On both databases."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Conversation, Event, Message, StaffUser, Texter
from hotline.domain.delivery import Direction
from hotline.services import events
from hotline.services.alerts import do_acknowledge
from tests.console_client import post, queued_texter, run, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import conversations_of, messages_of, post_signed, sms_form, texter_of

EMERGENCY_WORDS = "he has a gun <b>now</b> <script>alert(1)</script>"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def record_alert(app: Flask, kind: str, **ids_and_detail: Any) -> int:
    """An ``alert`` event as the worker records it; its id."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return events.record_at_once(
            session, "alert", runtime.clock.now(), alert=kind, **ids_and_detail
        )


def queued(app: Flask) -> tuple[str, Conversation]:
    phone = queued_texter(app)
    return phone, conversations_of(app, phone)[-1]


def opted_out_emergency(app: Flask, clock: FakeClock) -> tuple[str, int, int]:
    """A texter who texted STOP and then emergency words: (phone, alert id, texter's latest
    conversation id). The alert is recorded as the worker records it."""
    phone, conversation = queued(app)
    for body in ("STOP", EMERGENCY_WORDS):
        clock.advance(5)
        response = post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body))
        assert response.status_code == 200
        run(app)
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out
    text = [m for m in messages_of(app, phone) if m.direction is Direction.INBOUND][-1]
    alert_id = record_alert(
        app, "opted_out_emergency", conversation_id=None, texter_id=texter.id, message_id=text.id
    )
    return phone, alert_id, conversation.id


def alert_events(app: Flask, kind: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def no_number_in(phone: str, text: str) -> None:
    for form in (phone, phone[1:], phone[2:], phone[-7:]):
        assert form not in text


def test_advocates_are_refused_and_strangers_asked_to_sign_in(app: Flask) -> None:
    _, conversation = queued(app)
    alert_id = record_alert(app, "emergency", conversation_id=conversation.id)
    client, csrf = sign_in(app, staff(app))
    assert client.get("/supervisor/api/alerts").status_code == 403
    refused = post(client, csrf, f"/supervisor/api/alerts/{alert_id}/acknowledge", {})
    assert refused.status_code == 403 and refused.get_json()["error"] == "you may not see this"
    assert app.test_client().get("/supervisor/api/alerts").status_code == 401
    assert alert_events(app, "alert_acknowledged") == []


def test_open_alerts_newest_first_in_words(app: Flask, clock: FakeClock) -> None:
    _, first = queued(app)
    _, second = queued(app)
    advocate = staff(app)
    old = record_alert(app, "urgent", conversation_id=first.id, texter_id=first.texter_id)
    clock.advance(60)
    held = record_alert(app, "held", conversation_id=second.id, why="minor")
    clock.advance(60)
    gone = record_alert(
        app, "advocate_gone", conversation_id=None, advocate_id=advocate.id, conversations=2
    )
    clock.advance(60)
    new = record_alert(app, "emergency", conversation_id=first.id, texter_id=first.texter_id)

    client, _ = sign_in(app, staff(app, "supervisor"))
    answer = client.get("/supervisor/api/alerts").get_json()
    assert answer["count"] == 4
    items = answer["items"]
    assert [i["id"] for i in items] == [new, gone, held, old]
    assert [i["kind"] for i in items] == ["emergency", "advocate_gone", "held", "emergency"]
    assert items[0]["label"] == items[3]["label"] == "Emergency words from a texter"
    assert items[0]["conversation_id"] == first.id
    assert items[1]["advocate"] == advocate.name and items[1]["conversations"] == 2
    assert items[2]["why"] == "the texter may be a minor"
    assert items[0]["at"] > items[1]["at"] > items[2]["at"] > items[3]["at"]
    # Only an opted-out emergency carries a number or words.
    assert all(i["phone"] is None and i["words"] is None for i in items)


def test_an_opted_out_emergency_shows_the_masked_number_and_the_words_and_audits_the_read(
    app: Flask, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone, alert_id, history_id = opted_out_emergency(app, clock)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)

    response = client.get("/supervisor/api/alerts")
    raw = response.get_data(as_text=True)
    item = next(i for i in response.get_json()["items"] if i["id"] == alert_id)
    assert item["kind"] == "opted_out_emergency"
    assert item["label"] == "Emergency words from a number that texted STOP"
    assert item["conversation_id"] is None and item["history_conversation_id"] == history_id
    assert item["phone"] == "•" * (len(phone) - 3) + phone[-2:]
    assert item["words"] == EMERGENCY_WORDS  # as text: the page puts it in a text node
    no_number_in(phone, raw)

    texter = texter_of(app, phone)
    assert texter is not None
    reads = [e for e in alert_events(app, "transcript_viewed") if e.texter_id == texter.id]
    assert len(reads) == 1
    assert reads[0].actor_id == supervisor.id and reads[0].message_id is not None
    assert reads[0].detail == {"alert_id": alert_id}

    clock.advance(60)  # read again soon: one audit line is enough
    client.get("/supervisor/api/alerts")
    clock.advance(11 * 60)  # and later: recorded again
    client.get("/supervisor/api/alerts")
    reads = [e for e in alert_events(app, "transcript_viewed") if e.texter_id == texter.id]
    assert len(reads) == 2

    # Never a number or a text in a log line.
    no_number_in(phone, caplog.text)
    assert "gun" not in caplog.text


def test_an_erased_texter_s_alert_shows_neither_number_nor_words(
    app: Flask, clock: FakeClock
) -> None:
    phone, alert_id, _ = opted_out_emergency(app, clock)
    texter = texter_of(app, phone)
    assert texter is not None
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        session.get_one(Texter, texter.id).phone_ciphertext = None
        for message in session.scalars(select(Message).where(Message.texter_id == texter.id)):
            message.body_ciphertext = None
    client, _ = sign_in(app, staff(app, "supervisor"))
    item = next(
        i for i in client.get("/supervisor/api/alerts").get_json()["items"] if i["id"] == alert_id
    )
    assert item["phone"] == "(erased)" and item["words"] is None
    assert [e for e in alert_events(app, "transcript_viewed") if e.texter_id == texter.id] == []


def test_acknowledging_an_alert(app: Flask, clock: FakeClock) -> None:
    _, conversation = queued(app)
    keep = record_alert(app, "held", conversation_id=conversation.id, why="not_safe")
    alert_id = record_alert(app, "emergency", conversation_id=conversation.id)
    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    assert client.get("/supervisor/api/alerts").get_json()["count"] == 2

    clock.advance(30)
    done = post(client, csrf, f"/supervisor/api/alerts/{alert_id}/acknowledge", {})
    assert done.status_code == 200 and done.get_json() == {"ok": True, "alert_id": alert_id}
    [ack] = alert_events(app, "alert_acknowledged")
    assert ack.actor_id == supervisor.id and ack.conversation_id == conversation.id
    assert ack.detail == {"alert_id": alert_id, "alert": "emergency"}
    answer = client.get("/supervisor/api/alerts").get_json()
    assert answer["count"] == 1 and [i["id"] for i in answer["items"]] == [keep]

    # The conversation's timeline shows both, in words.
    view = client.get(f"/console/api/conversations/{conversation.id}").get_json()
    labels = [i["label"] for i in view["timeline"] if i["type"] == "event"]
    assert "Alert" in labels and "Alert acknowledged by a supervisor" in labels


def test_bad_acknowledgements_change_nothing(app: Flask) -> None:
    _, conversation = queued(app)
    alert_id = record_alert(app, "emergency", conversation_id=conversation.id)
    other = staff(app, "supervisor")
    client, csrf = sign_in(app, staff(app, "supervisor"))
    assert (
        post(client, csrf, f"/supervisor/api/alerts/{alert_id}/acknowledge", {}).status_code == 200
    )

    again_client, again_csrf = sign_in(app, other)
    again = post(again_client, again_csrf, f"/supervisor/api/alerts/{alert_id}/acknowledge", {})
    assert again.status_code == 409
    assert again.get_json()["error"].startswith(
        "this alert was already acknowledged by supervisor-"
    )

    with runtime_of(app).sessions() as session:
        not_an_alert = session.scalar(select(func.max(Event.id)).where(Event.kind != "alert"))
        unknown = (session.scalar(select(func.max(Event.id))) or 0) + 1000
    for ident in (not_an_alert, unknown):
        refused = post(client, csrf, f"/supervisor/api/alerts/{ident}/acknowledge", {})
        assert refused.status_code == 404 and refused.get_json() == {"error": "no such alert"}
    no_csrf = client.post(f"/supervisor/api/alerts/{alert_id}/acknowledge", json={})
    assert no_csrf.status_code == 400
    assert len(alert_events(app, "alert_acknowledged")) == 1


def test_alerts_older_than_a_week_leave_the_board(app: Flask, clock: FakeClock) -> None:
    _, conversation = queued(app)
    record_alert(app, "emergency", conversation_id=conversation.id)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)
    assert client.get("/supervisor/api/alerts").get_json()["count"] == 1
    clock.advance(timedelta(days=7, seconds=1).total_seconds())
    client, _ = sign_in(app, supervisor)  # a week later: a new session
    assert client.get("/supervisor/api/alerts").get_json() == {"items": [], "count": 0}


# -- the console's flags --------------------------------------------------------------------


def test_the_console_shows_emergency_minor_and_do_not_text_first(
    app: Flask, clock: FakeClock
) -> None:
    phone, conversation = queued(app)
    _, plain = queued(app)
    runtime = runtime_of(app)
    first = clock.now()
    with runtime.sessions.begin() as session:
        row = session.get_one(Conversation, conversation.id)
        row.emergency_at = first
        row.minor = True
        row.safe_to_text = False
        events.record(
            session, "alert", first, conversation_id=row.id, texter_id=row.texter_id,
            alert="emergency",
        )  # fmt: skip
    clock.advance(120)
    with runtime.sessions.begin() as session:
        events.record(
            session, "alert", clock.now(), conversation_id=conversation.id,
            texter_id=conversation.texter_id, alert="emergency",
        )  # fmt: skip

    advocate = staff(app)
    client, csrf = sign_in(app, advocate)
    queue = client.get("/console/api/queue").get_json()
    flagged = next(i for i in queue["items"] if i["id"] == conversation.id)
    assert flagged["emergency_at"] == first.isoformat()
    assert flagged["minor"] is True and flagged["do_not_text_first"] is True
    calm = next(i for i in queue["items"] if i["id"] == plain.id)
    assert calm["emergency_at"] is None and calm["minor"] is False
    assert calm["do_not_text_first"] is False

    post(client, csrf, "/console/api/availability", {"availability": "available"})
    claimed = post(client, csrf, f"/console/api/conversations/{conversation.id}/claim", {})
    assert claimed.status_code == 200
    view = client.get(f"/console/api/conversations/{conversation.id}").get_json()
    assert view["emergency_at"] == first.isoformat()
    assert view["emergency_last_at"] == clock.now().isoformat()
    assert view["minor"] is True and view["do_not_text_first"] is True
    no_number_in(phone, json.dumps(view))
    mine = client.get("/console/api/queue").get_json()["mine"]
    assert [m["minor"] for m in mine if m["id"] == conversation.id] == [True]


def test_a_conversation_without_emergency_has_no_banner_time(app: Flask) -> None:
    _, conversation = queued(app)
    client, _ = sign_in(app, staff(app, "supervisor"))
    view = client.get(f"/console/api/conversations/{conversation.id}").get_json()
    assert view["emergency_at"] is None and view["emergency_last_at"] is None


def test_concurrent_acknowledgements_record_one(app: Flask) -> None:
    _, conversation = queued(app)
    alert_id = record_alert(app, "emergency", conversation_id=conversation.id)
    runtime = runtime_of(app)
    supervisors = [staff(app, "supervisor") for _ in range(8)]
    barrier = threading.Barrier(len(supervisors))
    done: list[int] = []
    refused: list[str] = []

    def acknowledge(supervisor_id: int) -> None:
        barrier.wait()
        try:
            with runtime.sessions.begin() as session:
                user = session.get_one(StaffUser, supervisor_id)
                do_acknowledge(session, user, alert_id, runtime.clock.now())
            done.append(supervisor_id)
        except Exception as error:
            refused.append(str(error))

    threads = [threading.Thread(target=acknowledge, args=(s.id,)) for s in supervisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 1, refused
    assert len(refused) == 7 and all("already acknowledged" in r for r in refused), refused
    [ack] = alert_events(app, "alert_acknowledged")
    assert ack.actor_id == done[0]
