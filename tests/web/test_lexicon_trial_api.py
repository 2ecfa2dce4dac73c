"""POST /supervisor/api/settings/lexicon/try: supervisors only, CSRF, bad input refused with a
message and nothing changed, the draft counted but never saved, the try audited without the
text."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event
from tests.console_client import sign_in, staff
from tests.settings_support import call, english_lexicon, setting, snapshot, supervisor_client

TRY = "/supervisor/api/settings/lexicon/try"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def tried(app: Flask) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == "lexicon_tried")))


def test_advocates_are_refused(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app, "advocate"))
    response = call(client, "post", TRY, {"text": "passport"}, csrf=csrf)
    assert response.status_code == 403
    assert tried(app) == []


def test_strangers_must_sign_in(app: Flask) -> None:
    assert call(app.test_client(), "post", TRY, {"text": "passport"}).status_code == 401


def test_without_the_csrf_token_it_is_refused(app: Flask) -> None:
    client, _ = supervisor_client(app)
    response = call(client, "post", TRY, {"text": "passport"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "missing or wrong CSRF token: reload the page"}
    assert tried(app) == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "text is required: type a text to try"),
        ({"text": ""}, "text is empty: type a text to try"),
        ({"text": "   \n "}, "text is empty: type a text to try"),
        ({"text": "x" * 1001}, "text is over 1000 characters"),
        ({"text": 7}, "text must be text"),
        ({"text": "hi", "value": 1}, 'send {"text": ...}, and optionally "language" and "draft"'),
        ({"text": "hi", "language": "fr"}, "language must be one of en, es"),
        (
            {"text": "hi", "draft": english_lexicon()},
            "language is required with a draft: the lexicon being edited",
        ),
        (
            {"text": "passport", "language": "en",
             "draft": english_lexicon(weights={"passport": 500})},
            "lexicon_en weights: \u201cpassport\u201d must weigh a whole number from 1 to 100",
        ),
        (
            {"text": "passport", "language": "es", "draft": {"urgent_at": 60}},
            "lexicon_es: missing high_at, emergency, weights",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message_and_nothing_changes(
    app: Flask, payload: dict[str, Any], message: str
) -> None:
    client, csrf = supervisor_client(app)
    before = snapshot(app)
    response = call(client, "post", TRY, payload, csrf=csrf)
    assert response.status_code == 400
    assert response.get_json() == {"error": message}
    assert snapshot(app) == before
    assert tried(app) == []


def test_a_text_gets_its_reasons_and_score(app: Flask) -> None:
    client, csrf = supervisor_client(app)
    response = call(client, "post", TRY, {"text": "They lost my PASSPORT, I'm 16"}, csrf=csrf)
    assert response.status_code == 200
    assert response.get_json() == {
        "score": 30,
        "priority": "urgent",
        "reasons": ["passport (+30)"],
        "found": [{"phrase": "passport", "weight": 30, "words": "passport"}],
        "emergency": [],
        "minor": True,
        "language": {"code": "en", "confident": True},
    }
    answer = call(client, "post", TRY, {"text": "he has a gun", "language": "en"}, csrf=csrf)
    assert answer.get_json()["emergency"] == ["gun"]
    assert answer.get_json()["priority"] == "urgent"


def test_an_unsaved_draft_changes_the_answer_and_nothing_else(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client, csrf = supervisor_client(app)
    before = snapshot(app)
    in_force = setting(client, "lexicon_en")["value"]
    text = "Rosa said they moved my car"
    assert call(client, "post", TRY, {"text": text}, csrf=csrf).get_json()["score"] == 0

    draft = english_lexicon(weights={**in_force["weights"], "moved my car": 45})
    with caplog.at_level(logging.DEBUG):
        response = call(client, "post", TRY, {"text": text, "language": "en", "draft": draft},
                        csrf=csrf)  # fmt: skip
    assert response.status_code == 200
    assert response.get_json() == {
        "score": 45,
        "priority": "high",
        "reasons": ["moved my car (+45)"],
        "found": [{"phrase": "moved my car", "weight": 45, "words": "moved my car"}],
        "emergency": [],
        "minor": False,
        "language": {"code": "en", "confident": True},
    }
    # The lexicon in force is the same, and the worker still scores the text 0.
    assert setting(client, "lexicon_en")["value"] == in_force
    assert call(client, "post", TRY, {"text": text}, csrf=csrf).get_json()["score"] == 0
    after = snapshot(app)
    assert after["overrides"] == before["overrides"] == {}
    assert after["admin_events"] == before["admin_events"]
    # The tries are audited, without the text or any of its words; and never logged.
    events = tried(app)
    assert [e.detail["draft"] for e in events] == [False, True, False]
    assert events[1].detail == {"language": "en", "draft": True, "priority": "high", "score": 45}
    assert {e.actor_id for e in events} != {None}
    recorded = json.dumps([e.detail for e in events]).casefold()
    for word in ("rosa", "said", "moved", "car"):
        assert word not in recorded
        assert word not in caplog.text.casefold()
