"""A returning texter's earlier conversations, and an advocate's search of their own cases:
who may open what, only within retention, never after an erasure, always audited, and no
searched words in a URL or the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, EventDetail
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.console_client import available, post, run, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form

TURNS = ("hi", "no", "yes", "I need help", "skip")
RETENTION_DAYS = 60


@pytest.fixture
def app(make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock) -> Flask:
    return make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"retention_days": RETENTION_DAYS, "survey_enabled": False},
    )


def texts(app: Flask, phone: str, *turns: str) -> None:
    clock = runtime_of(app).clock
    for body in turns:
        assert isinstance(clock, FakeClock)
        clock.advance(1)
        assert (
            post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
        )
        run(app)


class Advocate:
    def __init__(self, app: Flask, role: str = "advocate") -> None:
        self.app = app
        self.user = staff(app, role)
        self.client, self.csrf = sign_in(app, self.user)
        available(self.client, self.csrf)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        return post(self.client, self.csrf, path, payload)

    def take_next(self) -> int:
        taken = self.post("/console/api/queue/take-next", {})
        assert taken.status_code == 200, taken.get_json()
        conversation_id: int = taken.get_json()["conversation_id"]
        return conversation_id

    def past(self, conversation_id: int) -> Any:
        return self.client.get(f"/console/api/past-conversations/{conversation_id}")

    def cases(self, query: Any) -> Any:
        return self.post("/console/api/cases", {"query": query})

    def sign_in_again(self) -> None:
        self.client, self.csrf = sign_in(self.app, self.user)


def handled_and_closed(app: Flask, ann: Advocate, phone: str) -> int:
    """Ann takes the texter at ``phone``, writes a note, tags and closes with a summary."""
    texts(app, phone, *TURNS)
    first = ann.take_next()
    path = f"/console/api/conversations/{first}"
    assert ann.post(f"{path}/notes", {"body": "Employer holds her passport."}).status_code == 200
    assert ann.post(f"{path}/tags", {"tag": "labor"}).status_code == 200
    closed = ann.post(
        f"{path}/close",
        {"disposition": "referred", "summary": "Referred to legal aid.", "confirmed": True},
    )
    assert closed.status_code == 200, closed.get_json()
    return first


def test_the_advocate_of_a_returning_texter_opens_the_earlier_conversation(app: Flask) -> None:
    ann, ben, cat = Advocate(app), Advocate(app), Advocate(app)
    phone = new_phone()
    first = handled_and_closed(app, ann, phone)
    texts(app, phone, *TURNS)  # the texter comes back
    second = ben.take_next()
    view = ben.client.get(f"/console/api/conversations/{second}").get_json()
    assert view["returning"] and [c["id"] for c in view["earlier"]] == [first]

    response = ben.past(first)
    assert response.status_code == 200
    past = response.get_json()
    assert past["id"] == first
    assert past["summary"] == "Referred to legal aid."
    assert past["disposition"] == "referred" and past["disposition_label"]
    assert [(n["author"], n["body"]) for n in past["notes"]] == [
        (ann.user.name, "Employer holds her passport.")
    ]
    assert past["tags"] == ["labor"]
    assert "timeline" not in past  # the notes of the case, not the transcript

    with runtime_of(app).sessions() as session:
        viewed = session.scalars(
            select(Event).where(Event.kind == "past_conversation_viewed")
        ).all()
    assert [(e.actor_id, e.conversation_id) for e in viewed] == [(ben.user.id, first)]

    # Someone with no part in it: as if it did not exist, and nothing is recorded.
    refused = cat.past(first)
    assert refused.status_code == 404
    assert refused.get_json() == {"error": "no such earlier conversation"}
    # The one who handled it may open it again; the open conversation is not an earlier one.
    assert ann.past(first).status_code == 200
    assert ben.past(second).status_code == 404
    assert ben.past(999_999).status_code == 404
    with runtime_of(app).sessions() as session:
        actors = session.scalars(
            select(Event.actor_id).where(Event.kind == "past_conversation_viewed")
        ).all()
    assert cat.user.id not in actors


def test_an_earlier_conversation_past_retention_no_longer_opens(
    app: Flask, clock: FakeClock
) -> None:
    ann, boss = Advocate(app), Advocate(app, "supervisor")
    first = handled_and_closed(app, ann, new_phone())
    clock.advance((RETENTION_DAYS - 1) * 86400)
    ann.sign_in_again()
    boss.sign_in_again()
    assert boss.past(first).status_code == 200
    clock.advance(2 * 86400)
    ann.sign_in_again()
    boss.sign_in_again()
    for someone in (ann, boss):
        response = someone.past(first)
        assert response.status_code == 404
        assert response.get_json()["error"] == (
            f"this conversation closed over {RETENTION_DAYS} days ago: no longer kept"
        )
    assert ann.cases("").get_json()["items"] == []


def test_an_erased_texters_earlier_conversations_do_not_open(app: Flask) -> None:
    ann, ben, boss = Advocate(app), Advocate(app), Advocate(app, "supervisor")
    phone = new_phone()
    first = handled_and_closed(app, ann, phone)
    texts(app, phone, *TURNS)
    second = ben.take_next()
    assert ben.past(first).status_code == 200
    erased = boss.post(
        f"/console/api/conversations/{second}/erase-texter",
        {"reason": "the texter asked us by phone to erase everything"},
    )
    assert erased.status_code == 200, erased.get_json()
    for someone in (ann, boss):
        response = someone.past(first)
        assert response.status_code == 404
        assert response.get_json() == {"error": "this texter's conversations were erased"}
    assert ann.cases("").get_json()["items"] == []


def test_an_advocate_searches_only_their_own_recent_cases(app: Flask, clock: FakeClock) -> None:
    ann, ben = Advocate(app), Advocate(app)
    first = handled_and_closed(app, ann, new_phone())
    texts(app, new_phone(), *TURNS)
    held = ann.take_next()

    found = ann.cases("PASSPORT employer")  # any case, any order, across the notes
    assert found.status_code == 200
    assert [c["id"] for c in found.get_json()["items"]] == [first]
    case = found.get_json()["items"][0]
    assert case["summary"] == "Referred to legal aid." and case["open"] is False
    assert case["disposition"] == "referred" and case["disposition_label"]
    assert [c["id"] for c in ann.cases("legal aid").get_json()["items"]] == [first]
    assert [c["id"] for c in ann.cases("labor").get_json()["items"]] == [first]
    assert ann.cases("passport shelter").get_json()["items"] == []  # every word must match
    everything = ann.cases("").get_json()["items"]
    assert [(c["id"], c["open"]) for c in everything] == [(held, True), (first, False)]

    # Ben handled none of them: his search finds nothing of Ann's.
    assert ben.cases("passport").get_json()["items"] == []
    assert ben.cases("").get_json()["items"] == []

    # The audit trail has who searched and how many were found, never the words.
    with runtime_of(app).sessions() as session:
        searches = session.execute(
            select(Event.actor_id, EventDetail.detail)
            .join(EventDetail, EventDetail.event_id == Event.id, isouter=True)
            .where(Event.kind == "cases_searched")
            .order_by(Event.id)
        ).all()
    assert len(searches) == 7
    assert searches[0] == (ann.user.id, {"words": 2, "found": 1})
    assert "passport" not in repr(searches).lower()

    # Recent means the last 30 days.
    clock.advance(31 * 86400)
    ann.sign_in_again()
    assert ann.cases("passport").get_json()["items"] == []


def test_a_bad_search_is_refused_and_nothing_is_recorded(app: Flask) -> None:
    ann = Advocate(app)
    refused = [ann.cases(5), ann.cases(["passport"]), ann.cases("x" * 101)]
    assert [r.status_code for r in refused] == [400, 400, 400]
    assert refused[0].get_json() == {"error": "query must be text"}
    assert refused[2].get_json() == {"error": "a search is at most 100 characters"}
    not_json = ann.client.post(
        "/console/api/cases", data="passport", headers={"X-CSRF-Token": ann.csrf}
    )
    assert not_json.status_code == 400
    # Never in a URL: there is no GET.
    assert ann.client.get("/console/api/cases?query=passport").status_code == 405
    with runtime_of(app).sessions() as session:
        assert session.scalars(select(Event).where(Event.kind == "cases_searched")).all() == []


def test_cases_need_a_signed_in_staff_member(app: Flask) -> None:
    client: FlaskClient = app.test_client()
    assert client.post("/console/api/cases", json={"query": ""}).status_code in (401, 403)
    assert client.get("/console/api/past-conversations/1").status_code == 401
