"""Who needs me now (issue 18) through the console's HTTP API: my conversations with unread
counts, the first words of the last text, how long the texter has waited and the alerts that
concern me; marking read; and a conversation taken from me explained (how, by whom), with a
wrap-up and a dismissal, never after an erasure. Each refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select

from hotline import runtime_of
from hotline.db.models import Conversation, Event, Holding, Message, Note, StaffUser
from hotline.domain.delivery import Direction
from tests.console_client import available, post, queued_texter, run, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form
from tests.texting import conversation


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


class Desk:
    """An advocate at their console."""

    def __init__(self, app: Flask, role: str = "advocate", name: str | None = None) -> None:
        self.user: StaffUser = staff(app, role)
        if name is not None:
            with runtime_of(app).sessions.begin() as session:
                found = session.get(StaffUser, self.user.id)
                assert found is not None
                found.display_name = name
        self.client: FlaskClient
        self.client, self.csrf = sign_in(app, self.user)
        available(self.client, self.csrf)

    def queue(self) -> dict[str, Any]:
        response = self.client.get("/console/api/queue")
        assert response.status_code == 200
        answer: dict[str, Any] = response.get_json()
        return answer

    def mine(self, conversation_id: int) -> dict[str, Any]:
        (item,) = [i for i in self.queue()["mine"] if i["id"] == conversation_id]
        return item

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        return post(self.client, self.csrf, path, payload if payload is not None else {})


def text(app: Flask, phone: str, body: str) -> None:
    runtime_of(app).clock.advance(1)  # type: ignore[attr-defined]
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    run(app)


def claimed(app: Flask, desk: Desk) -> tuple[str, int]:
    phone = queued_texter(app)
    conversation_id = conversation(app, phone).id
    assert desk.post(f"/console/api/conversations/{conversation_id}/claim").status_code == 200
    return phone, conversation_id


def holding(app: Flask, user: StaffUser, conversation_id: int) -> Holding:
    with runtime_of(app).sessions() as session:
        found = session.scalar(
            select(Holding).where(
                Holding.advocate_id == user.id, Holding.conversation_id == conversation_id
            )
        )
        assert found is not None
        return found


def kinds(app: Flask, conversation_id: int) -> list[str]:
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(
                select(Event.kind)
                .where(Event.conversation_id == conversation_id)
                .order_by(Event.id)
            )
        )


# -- my conversations ------------------------------------------------------------------------------


def test_my_conversation_counts_unread_texts_until_i_open_it(app: Flask, clock: FakeClock) -> None:
    ann = Desk(app)
    phone, conversation_id = claimed(app, ann)
    item = ann.mine(conversation_id)
    assert item["unread"] == 5 and item["alerts"] == ["new_text"]  # the triage answers
    assert ann.post(f"/console/api/conversations/{conversation_id}/read").status_code == 200
    item = ann.mine(conversation_id)
    assert item["unread"] == 0 and item["alerts"] == []
    assert "conversation_read" in kinds(app, conversation_id)

    text(app, phone, "are you still there? I have to leave the house very soon")
    clock.advance(42)
    item = ann.mine(conversation_id)
    assert item["unread"] == 1 and item["alerts"] == ["new_text"]
    assert item["last_words"] == "are you still there? I have to leave…"
    assert 42 <= item["waiting_for_reply_seconds"] <= 60


def newest_text(app: Flask, conversation_id: int) -> int:
    with runtime_of(app).sessions() as session:
        found = session.scalar(
            select(func.max(Message.id)).where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.INBOUND,
            )
        )
        assert found is not None
        return found


def test_reading_up_to_a_text_leaves_later_ones_unread(app: Flask) -> None:
    ann = Desk(app)
    phone, conversation_id = claimed(app, ann)
    ann.post(f"/console/api/conversations/{conversation_id}/read")
    text(app, phone, "one")
    shown = newest_text(app, conversation_id)
    text(app, phone, "two")
    assert ann.mine(conversation_id)["unread"] == 2
    # The page showed only "one" when it said so: "two" stays unread.
    path = f"/console/api/conversations/{conversation_id}/read"
    assert ann.post(path, {"through": shown}).status_code == 200
    assert ann.mine(conversation_id)["unread"] == 1
    assert ann.post(path, {"through": 10**9}).status_code == 200  # never past the newest
    assert holding(app, ann.user, conversation_id).read_through == newest_text(app, conversation_id)
    assert ann.mine(conversation_id)["unread"] == 0


def test_waiting_for_my_reply_stops_when_i_reply(app: Flask) -> None:
    ann = Desk(app)
    phone, conversation_id = claimed(app, ann)
    assert ann.mine(conversation_id)["waiting_for_reply_seconds"] is not None
    reply = {"body": "I am here."}
    assert ann.post(f"/console/api/conversations/{conversation_id}/reply", reply).status_code == 200
    assert ann.mine(conversation_id)["waiting_for_reply_seconds"] is None
    text(app, phone, "thank you")
    assert ann.mine(conversation_id)["waiting_for_reply_seconds"] is not None


def test_a_transfer_to_me_is_an_alert_until_i_look(app: Flask) -> None:
    ann, ben = Desk(app), Desk(app)
    _, conversation_id = claimed(app, ann)
    ben.queue()  # Ben's console is open
    moved = {"to_advocate_id": ben.user.id, "note": "over to you"}
    assert (
        ann.post(f"/console/api/conversations/{conversation_id}/transfer", moved).status_code == 200
    )
    # A warm transfer: Ben holds the texter once he accepts the offer.
    accept = f"/console/api/conversations/{conversation_id}/transfer/accept"
    assert ben.post(accept).status_code == 200
    assert "assigned" in ben.mine(conversation_id)["alerts"]
    ben.post(f"/console/api/conversations/{conversation_id}/read")
    assert ben.mine(conversation_id)["alerts"] == []
    # Ann transferred it herself: nothing to explain to her.
    assert ann.queue()["lost"] == [] and ann.queue()["mine"] == []


def test_a_supervisors_note_and_emergency_words_are_alerts(app: Flask, clock: FakeClock) -> None:
    ann, boss = Desk(app), Desk(app, "supervisor")
    phone, conversation_id = claimed(app, ann)
    ann.post(f"/console/api/conversations/{conversation_id}/read")
    clock.advance(1)
    note = {"body": "Ask about a safe place."}
    assert (
        boss.post(f"/supervisor/api/conversations/{conversation_id}/note", note).status_code == 200
    )
    assert ann.mine(conversation_id)["alerts"] == ["supervisor_note"]
    text(app, phone, "he has a gun")
    assert ann.mine(conversation_id)["alerts"] == ["new_text", "supervisor_note", "emergency"]
    ann.post(f"/console/api/conversations/{conversation_id}/read")
    assert ann.mine(conversation_id)["alerts"] == []


def test_reading_refuses_bad_input_and_others_conversations(app: Flask) -> None:
    ann, ben, boss = Desk(app), Desk(app), Desk(app, "supervisor")
    _, conversation_id = claimed(app, ann)
    ann.queue()
    before = holding(app, ann.user, conversation_id)
    path = f"/console/api/conversations/{conversation_id}/read"
    for bad in ({"through": "12"}, {"through": True}, {"through": 0}):
        response = ann.post(path, bad)
        assert response.status_code == 400
        assert response.get_json() == {"error": "through must be a message id"}
    assert ann.client.post(path, data="nope", headers={"X-CSRF-Token": ann.csrf}).status_code == 400
    assert ben.post(path).status_code == 404  # another advocate's
    assert boss.post(path).status_code == 404  # a supervisor viewing holds nothing
    assert ann.post("/console/api/conversations/999999/read").status_code == 404
    after = holding(app, ann.user, conversation_id)
    assert (after.read_through, after.seen_at) == (before.read_through, before.seen_at)
    assert "conversation_read" not in kinds(app, conversation_id)


# -- taken away, explained -------------------------------------------------------------------------


def test_taken_over_explained_with_wrap_up_and_dismissal(app: Flask) -> None:
    ann, boss = Desk(app), Desk(app, "supervisor", name="Maria Lopez")
    _, conversation_id = claimed(app, ann)
    ann.queue()
    take = f"/supervisor/api/conversations/{conversation_id}/take-over"
    assert boss.post(take).status_code == 200
    answer = ann.queue()
    assert answer["mine"] == []
    (lost,) = answer["lost"]
    assert lost["id"] == conversation_id
    assert (lost["how"], lost["by"], lost["erased"]) == ("taken_over", "Maria Lopez", False)
    assert lost["wrap_up_until"] is not None and lost["wrapped_up"] is False

    wrap = f"/console/api/conversations/{conversation_id}/wrap-up"
    done = {"disposition": "referred", "note": "Draft I did not send: call the shelter"}
    assert ann.post(wrap, done).status_code == 200
    (lost,) = ann.queue()["lost"]
    assert lost["wrapped_up"] is True and lost["wrap_up_until"] is None
    again = ann.post(wrap, done)
    assert again.status_code == 409
    assert again.get_json() == {"error": "you already recorded how this conversation went"}
    with runtime_of(app).sessions() as session:
        notes = session.scalars(select(Note).where(Note.conversation_id == conversation_id)).all()
        still = session.get(Conversation, conversation_id)
        assert still is not None and still.advocate_id == boss.user.id  # not hers to close
        assert still.disposition is None
    assert [n.author_id for n in notes] == [ann.user.id]
    assert "wrapped_up" in kinds(app, conversation_id)

    dismiss = f"/console/api/conversations/{conversation_id}/dismiss"
    assert ann.post(dismiss).status_code == 200
    assert ann.queue()["lost"] == []
    assert ann.post(dismiss).status_code == 409
    assert "lost_dismissed" in kinds(app, conversation_id)


def test_reassigned_names_who_did_it(app: Flask) -> None:
    ann, ben = Desk(app), Desk(app)
    boss = Desk(app, "supervisor", name="Sam Boss")
    _, conversation_id = claimed(app, ann)
    ann.queue()
    ben.queue()
    move = {"to_staff_id": ben.user.id}
    path = f"/supervisor/api/conversations/{conversation_id}/reassign"
    assert boss.post(path, move).status_code == 200
    (lost,) = ann.queue()["lost"]
    assert (lost["how"], lost["by"]) == ("reassigned", "Sam Boss")
    assert "assigned" in ben.mine(conversation_id)["alerts"]


def test_stop_explained_and_the_disposition_recorded_after(app: Flask) -> None:
    ann = Desk(app)
    phone, conversation_id = claimed(app, ann)
    ann.queue()
    text(app, phone, "STOP")
    (lost,) = ann.queue()["lost"]
    assert (lost["how"], lost["by"], lost["erased"]) == ("stop", None, False)
    wrap = f"/console/api/conversations/{conversation_id}/wrap-up"
    assert ann.post(wrap, {"disposition": "referred"}).status_code == 200
    with runtime_of(app).sessions() as session:
        ended = session.get(Conversation, conversation_id)
        assert ended is not None and ended.disposition == "referred"


def test_the_safe_word_erases_and_offers_no_wrap_up(app: Flask) -> None:
    ann = Desk(app)
    phone, conversation_id = claimed(app, ann)
    ann.queue()
    text(app, phone, runtime_of(app).settings.safe_word)
    (lost,) = ann.queue()["lost"]
    assert (lost["how"], lost["erased"], lost["wrap_up_until"]) == ("safe_word", True, None)
    response = ann.post(
        f"/console/api/conversations/{conversation_id}/wrap-up", {"note": "she said she was safe"}
    )
    assert response.status_code == 409
    assert response.get_json() == {"error": "this texter was erased: nothing more can be recorded"}
    with runtime_of(app).sessions() as session:
        assert (
            session.scalars(select(Note).where(Note.conversation_id == conversation_id)).all() == []
        )
    assert "wrapped_up" not in kinds(app, conversation_id)


def test_a_supervisors_erasure_is_explained_by_name(app: Flask) -> None:
    ann, boss = Desk(app), Desk(app, "supervisor", name="Sam Boss")
    _, conversation_id = claimed(app, ann)
    ann.queue()
    erase = {"reason": "the texter asked us by phone to erase everything"}
    path = f"/console/api/conversations/{conversation_id}/erase-texter"
    assert boss.post(path, erase).status_code == 200
    (lost,) = ann.queue()["lost"]
    assert (lost["how"], lost["by"], lost["erased"]) == ("erased", "Sam Boss", True)


def test_closing_my_own_conversation_leaves_nothing_to_explain(app: Flask) -> None:
    ann = Desk(app)
    _, conversation_id = claimed(app, ann)
    ann.queue()
    close = {"disposition": "referred", "confirmed": True}
    assert ann.post(f"/console/api/conversations/{conversation_id}/close", close).status_code == 200
    assert ann.queue()["lost"] == []
    assert ann.post(f"/console/api/conversations/{conversation_id}/dismiss").status_code == 409


def test_wrap_up_refuses_bad_input_others_and_late(app: Flask, clock: FakeClock) -> None:
    ann, ben, boss = Desk(app), Desk(app), Desk(app, "supervisor")
    _, conversation_id = claimed(app, ann)
    wrap = f"/console/api/conversations/{conversation_id}/wrap-up"
    ann.queue()
    assert ann.post(wrap, {"disposition": "referred"}).status_code == 409  # still hers
    boss.post(f"/supervisor/api/conversations/{conversation_id}/take-over")
    ann.queue()
    refusals = [
        ({}, 400, "choose a disposition or write a note"),
        ({"disposition": "no-such-code"}, 400, "choose a disposition from the list"),
        ({"disposition": 3}, 400, "disposition must be text"),
        ({"note": "x" * 4001}, 400, "a note is at most 4000 characters"),
    ]
    for payload, status, message in refusals:
        response = ann.post(wrap, payload)
        assert (response.status_code, response.get_json()) == (status, {"error": message})
    assert ben.post(wrap, {"disposition": "referred"}).status_code == 404
    assert ben.post(f"/console/api/conversations/{conversation_id}/dismiss").status_code == 404
    for _ in range(4):  # past the window, the session kept alive meanwhile
        clock.advance(timedelta(minutes=8).total_seconds())
        assert ann.post("/console/api/still-here").status_code == 200
    late = ann.post(wrap, {"disposition": "referred"})
    assert late.status_code == 409 and "too late" in late.get_json()["error"]
    (lost,) = ann.queue()["lost"]
    assert lost["wrap_up_until"] is None and lost["wrapped_up"] is False
    assert "wrapped_up" not in kinds(app, conversation_id)


# -- what a poll costs -----------------------------------------------------------------------------


def test_queries_per_poll_do_not_grow_with_my_conversations(app: Flask) -> None:
    ann = Desk(app)
    engine: Engine = runtime_of(app).engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement != "BEGIN IMMEDIATE":
            sent.append(statement)

    def cost() -> int:
        ann.queue()  # holdings opened, endings written
        sent.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            ann.queue()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(sent)

    claimed(app, ann)
    one = cost()
    for _ in range(runtime_of(app).settings.capacity - 1):
        phone, _ = claimed(app, ann)
        text(app, phone, "hello?")
    assert cost() == one
