""" "Ask a supervisor" (issue 18, item 7): an advocate's short reason becomes an alert on the
supervisors' board, and the supervisor's answer arrives as a note in the conversation, through
the console's and the board's HTTP APIs on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline import runtime_of
from hotline.db.models import Event
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.helpers import events_of


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


class Signed:
    def __init__(self, app: Flask, role: str = "advocate") -> None:
        self.user = staff(app, role)
        self.client, self.csrf = sign_in(app, self.user)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        return post(self.client, self.csrf, path, payload)


def holding(app: Flask) -> tuple[Signed, int, str]:
    phone = queued_texter(app)
    ann = Signed(app)
    available(ann.client, ann.csrf)
    taken = ann.post("/console/api/queue/take-next", {})
    return ann, taken.get_json()["conversation_id"], phone


def ask_path(conversation_id: int) -> str:
    return f"/console/api/conversations/{conversation_id}/ask-supervisor"


def open_alerts(client: FlaskClient) -> list[dict[str, Any]]:
    answer = client.get("/supervisor/api/alerts")
    assert answer.status_code == 200
    items: list[dict[str, Any]] = answer.get_json()["items"]
    return items


def test_asking_puts_the_reason_on_the_board_and_the_answer_comes_as_a_note(app: Flask) -> None:
    ann, conversation_id, phone = holding(app)
    boss = Signed(app, "supervisor")

    asked = ann.post(ask_path(conversation_id), {"reason": "  Texter mentions a weapon,\n unsure "})

    assert asked.status_code == 200
    alert_id = asked.get_json()["alert_id"]
    (item,) = [i for i in open_alerts(boss.client) if i["id"] == alert_id]
    assert item["kind"] == "help_requested"
    assert item["label"] == "An advocate asks for a supervisor"
    assert item["conversation_id"] == conversation_id
    assert item["advocate"] == ann.user.name
    assert item["reason"] == "Texter mentions a weapon, unsure"
    # The reason is staff writing that may describe the texter: encrypted, not in the detail.
    alert = next(e for e in events_of(app, phone) if e.id == alert_id)
    assert "weapon" not in str(alert.detail) and alert.actor_id == ann.user.id

    answered = boss.post(
        f"/supervisor/api/alerts/{alert_id}/answer", {"answer": "Ask if they are safe now."}
    )

    assert answered.status_code == 200
    assert answered.get_json() == {"alert_id": alert_id, "conversation_id": conversation_id}
    assert [i for i in open_alerts(boss.client) if i["id"] == alert_id] == [], "acknowledged"
    view = ann.client.get(f"/console/api/conversations/{conversation_id}").get_json()
    notes = [i for i in view["timeline"] if i["type"] == "note"]
    assert [n["body"] for n in notes] == ["Ask if they are safe now."]
    kinds = [e.kind for e in events_of(app, phone)]
    assert {"alert_acknowledged", "help_answered", "note_added"} <= set(kinds)

    again = boss.post(f"/supervisor/api/alerts/{alert_id}/answer", {"answer": "Twice?"})
    assert again.status_code == 409 and "already acknowledged" in again.get_json()["error"]
    view = ann.client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert len([i for i in view["timeline"] if i["type"] == "note"]) == 1, "nothing added"


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"reason": "   "}, 400, "say in a few words what you need help with"),
        ({"reason": "x" * 201}, 400, "the reason is at most 200 characters"),
        ({"reason": 5}, 400, "reason must be text"),
        ({}, 400, "say in a few words what you need help with"),
    ],
)
def test_a_request_needs_a_short_reason_and_changes_nothing_without_one(
    app: Flask, payload: dict[str, Any], status: int, error: str
) -> None:
    ann, conversation_id, phone = holding(app)

    refused = ann.post(ask_path(conversation_id), payload)

    assert refused.status_code == status and refused.get_json() == {"error": error}
    assert not [e for e in events_of(app, phone) if e.kind == "alert"]


def test_only_the_holder_asks_and_only_supervisors_answer(app: Flask) -> None:
    ann, conversation_id, phone = holding(app)
    stranger = Signed(app)

    assert stranger.post(ask_path(conversation_id), {"reason": "help"}).status_code == 404
    alert_id = ann.post(ask_path(conversation_id), {"reason": "help"}).get_json()["alert_id"]
    answer = f"/supervisor/api/alerts/{alert_id}/answer"
    assert ann.post(answer, {"answer": "I answer myself"}).status_code == 403

    boss = Signed(app, "supervisor")
    assert boss.post(answer, {"answer": "  "}).status_code == 400
    assert boss.post(answer, {"answer": "x" * 4001}).status_code == 400
    with runtime_of(app).sessions() as session:
        other = session.query(Event).filter(Event.kind == "claimed").first()
        assert other is not None
    not_help = boss.post(f"/supervisor/api/alerts/{other.id}/answer", {"answer": "hm"})
    assert not_help.status_code == 404
    assert boss.post("/supervisor/api/alerts/999999/answer", {"answer": "hm"}).status_code == 404
    assert [i["id"] for i in open_alerts(boss.client)] == [alert_id], "still open"
    assert not [e for e in events_of(app, phone) if e.kind == "note_added"]
