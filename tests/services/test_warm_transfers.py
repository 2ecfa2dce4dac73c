"""Warm transfers (issue 18, item 6): an offer to a named colleague, who reads the handover note
and accepts or declines; the sender holds the texter until then, can withdraw, and gets it back
with a notice when nobody accepts in time. Through the console's HTTP API, ``process_pending``
for the texter's texts and ``jobs.fire_timers`` for the lapse, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.db.models import Conversation
from hotline.domain.triage import State
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import events_of, texter_of
from tests.texting import sent_to, text_in, tick


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


class At:
    """An advocate at the console, available."""

    def __init__(self, app: Flask) -> None:
        self.user = staff(app)
        self.client, self.csrf = sign_in(app, self.user)
        available(self.client, self.csrf)

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        return post(self.client, self.csrf, path, payload or {})

    def act(self, conversation_id: int, action: str, payload: dict[str, Any] | None = None) -> Any:
        return self.post(f"/console/api/conversations/{conversation_id}/{action}", payload)

    def offers(self) -> dict[str, Any]:
        answer = self.client.get("/console/api/transfer-offers")
        assert answer.status_code == 200
        found: dict[str, Any] = answer.get_json()
        return found


def holder_of(app: Flask, conversation_id: int) -> int | None:
    with runtime_of(app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.advocate_id


def offered(app: Flask) -> tuple[At, At, int, str]:
    phone = queued_texter(app)
    ann, ben = At(app), At(app)
    conversation_id = ann.post("/console/api/queue/take-next").get_json()["conversation_id"]
    ben.client.get("/console/api/poll")  # Ben's console is open: he is reachable
    moved = ann.act(
        conversation_id, "transfer", {"to_advocate_id": ben.user.id, "note": "Needs legal aid"}
    )
    assert moved.status_code == 200
    return ann, ben, conversation_id, phone


def test_the_receiver_sees_the_note_first_and_the_sender_holds_the_texter_until_accepted(
    app: Flask,
) -> None:
    ann, ben, conversation_id, phone = offered(app)

    assert holder_of(app, conversation_id) == ann.user.id, "still Ann's"
    assert ben.client.get(f"/console/api/conversations/{conversation_id}").status_code == 404
    (offer,) = ben.offers()["received"]
    assert offer["conversation_id"] == conversation_id
    assert offer["note"] == "Needs legal aid" and offer["from_advocate"] == ann.user.name
    assert [o["conversation_id"] for o in ann.offers()["sent"]] == [conversation_id]
    assert ann.act(conversation_id, "reply", {"body": "Still here."}).status_code == 200

    accepted = ben.act(conversation_id, "transfer/accept")

    assert accepted.status_code == 200
    assert accepted.get_json() == {"conversation_id": conversation_id}
    assert holder_of(app, conversation_id) == ben.user.id
    assert ben.client.get(f"/console/api/conversations/{conversation_id}").status_code == 200
    assert ann.client.get(f"/console/api/conversations/{conversation_id}").status_code == 404
    assert ben.offers()["received"] == [] and ann.offers()["sent"] == []
    kinds = [e.kind for e in events_of(app, phone)]
    assert kinds.count("transfer_offered") == 1 and kinds.count("transfer_accepted") == 1
    assert ben.act(conversation_id, "transfer/accept").status_code == 404, "the offer is over"


def test_declined_it_stays_with_the_sender_who_is_told(app: Flask) -> None:
    ann, ben, conversation_id, _ = offered(app)

    assert ben.act(conversation_id, "transfer/decline").status_code == 200

    assert holder_of(app, conversation_id) == ann.user.id
    (notice,) = ann.offers()["returned"]
    assert notice["outcome"] == "declined" and notice["to_advocate"] == ben.user.name
    assert ben.act(conversation_id, "transfer/accept").status_code == 404


def test_not_accepted_in_time_it_comes_back_with_a_notice(app: Flask, clock: FakeClock) -> None:
    ann, ben, conversation_id, _ = offered(app)
    minutes = runtime_of(app).settings.transfer_accept_minutes

    tick(app, clock, minutes - 0.5)
    assert [o["conversation_id"] for o in ben.offers()["received"]] == [conversation_id]
    tick(app, clock, 1)

    assert ben.offers()["received"] == []
    assert holder_of(app, conversation_id) == ann.user.id
    (notice,) = ann.offers()["returned"]
    assert notice["outcome"] == "lapsed" and notice["conversation_id"] == conversation_id
    refused = ben.act(conversation_id, "transfer/accept")
    assert refused.status_code == 404
    assert ann.act(conversation_id, "reply", {"body": "Still with you."}).status_code == 200


def test_the_sender_withdraws_and_only_one_offer_at_a_time(app: Flask) -> None:
    ann, ben, conversation_id, _ = offered(app)
    again = ann.act(conversation_id, "transfer", {"to_advocate_id": ben.user.id})
    assert again.status_code == 409
    assert again.get_json() == {
        "error": "this conversation is already offered: withdraw that offer first"
    }
    assert ben.act(conversation_id, "transfer/withdraw").status_code == 404, "not his to see"

    assert ann.act(conversation_id, "transfer/withdraw").status_code == 200

    assert ben.offers()["received"] == []
    assert ben.act(conversation_id, "transfer/accept").status_code == 404
    assert ann.act(conversation_id, "transfer/withdraw").status_code == 409


def test_texts_during_an_offer_reach_the_sender_and_stop_ends_it(
    app: Flask, clock: FakeClock
) -> None:
    ann, ben, conversation_id, phone = offered(app)
    before = len(sent_to(app, phone))

    text_in(app, phone, "he is here now")  # emergency words: urgent, alerted, the bot silent
    view = ann.client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert "he is here now" in [i.get("body") for i in view["timeline"]]
    assert view["priority"] == "urgent" and sent_to(app, phone)[before:] == []
    text_in(app, phone, "STOP")
    after_stop = len(sent_to(app, phone))

    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    refused = ben.act(conversation_id, "transfer/accept")
    assert refused.status_code == 409
    assert refused.get_json() == {
        "error": "this offer is over: the conversation was moved or closed"
    }
    assert ben.offers()["received"] == []
    tick(app, clock, runtime_of(app).settings.transfer_accept_minutes + 1)
    assert len(sent_to(app, phone)) == after_stop, "nothing after STOP"
    with runtime_of(app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.state is State.ENDED


def test_an_offer_needs_a_reachable_colleague_with_room_and_accepting_needs_room(
    app: Flask,
) -> None:
    ann, ben, conversation_id, _ = offered(app)
    capacity = runtime_of(app).settings.capacity
    for _ in range(capacity):
        queued_texter(app)
        assert ben.post("/console/api/queue/take-next").status_code == 200

    full = ben.act(conversation_id, "transfer/accept")

    assert full.status_code == 409 and full.get_json()["error"].startswith("you already have")
    assert holder_of(app, conversation_id) == ann.user.id
    advocates = ann.client.get("/console/api/advocates").get_json()["items"]
    (listed,) = [a for a in advocates if a["id"] == ben.user.id]
    assert listed["full"] is True
    assert ann.act(conversation_id, "transfer/withdraw").status_code == 200
    refused = ann.act(conversation_id, "transfer", {"to_advocate_id": ben.user.id})
    assert refused.status_code == 409
    assert refused.get_json() == {"error": "that advocate has no room for another conversation"}


def test_the_time_to_accept_is_a_setting_from_1_to_30_minutes(app: Flask, clock: FakeClock) -> None:
    boss = staff(app, "supervisor")
    client, csrf = sign_in(app, boss)
    path = "/supervisor/api/settings/transfer_accept_minutes"
    for wrong in (0, 31, "soon"):
        refused = client.put(path, json={"value": wrong}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 400, wrong
    assert client.put(path, json={"value": 1}, headers={"X-CSRF-Token": csrf}).status_code == 200
    ann, ben, conversation_id, _ = offered(app)

    tick(app, clock, 1.1)

    assert ben.offers()["received"] == []
    assert [n["outcome"] for n in ann.offers()["returned"]] == ["lapsed"]
    assert holder_of(app, conversation_id) == ann.user.id


def test_a_supervisor_reassigning_during_an_offer_ends_it_without_a_false_notice(
    app: Flask, clock: FakeClock
) -> None:
    ann, ben, conversation_id, _ = offered(app)
    carl = At(app)
    boss = staff(app, "supervisor")
    client, csrf = sign_in(app, boss)
    carl.client.get("/console/api/poll")
    reassigned = post(
        client,
        csrf,
        f"/supervisor/api/conversations/{conversation_id}/reassign",
        {"to_staff_id": carl.user.id},
    )
    assert reassigned.status_code == 200, reassigned.get_json()

    assert ben.act(conversation_id, "transfer/accept").status_code == 409
    assert ben.offers()["received"] == []
    tick(app, clock, runtime_of(app).settings.transfer_accept_minutes + 1)
    assert ann.offers()["returned"] == [], "not Ann's any more: nothing to tell her"
    assert holder_of(app, conversation_id) == carl.user.id
    ben.client.get("/console/api/poll")
    again = carl.act(conversation_id, "transfer", {"to_advocate_id": ben.user.id})
    assert again.status_code == 200, again.get_json()
    assert [o["conversation_id"] for o in ben.offers()["received"]] == [conversation_id]
