"""Trying a text against the risk lexicons: scored as the worker scores a first text, with an
unsaved draft in place of one language's lexicon; checked strictly; nothing stored but an audit
event that holds none of the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.catalogue import lexicon
from hotline.db.models import Event
from hotline.domain.risk import Lexicon
from hotline.domain.tuning import TuningError, lexicon_value
from hotline.services import lexicon_trial
from hotline.services.lexicon_trial import check_trial_text, trial, try_text, with_draft
from tests.console_client import queued_texter, staff
from tests.helpers import conversations_of
from tests.settings_support import change, english_lexicon, events, stored

SHIPPED = (lexicon("en"), lexicon("es"))


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    """A database of this test's own: overrides apply to every texter, so none may be shared."""
    return clocked_app


# -- scoring: pure -----------------------------------------------------------------------------


def test_a_weighted_phrase_gives_its_reason_and_score() -> None:
    assert trial("They lost my pasport", SHIPPED) == {
        "score": 30,
        "priority": "high",
        "reasons": ["passport (+30)"],
        "found": [{"phrase": "passport", "weight": 30, "words": "pasport"}],
        "emergency": [],
        "minor": False,
        "language": {"code": "en", "confident": True},
    }


def test_an_emergency_phrase_is_urgent_whatever_the_score() -> None:
    answer = trial("he has a GUN", SHIPPED)
    assert answer["priority"] == "urgent"
    assert answer["emergency"] == ["gun"]
    assert answer["reasons"] == ["emergency: gun"]
    assert answer["found"] == [{"phrase": "gun", "weight": None, "words": "gun"}]
    assert answer["score"] == 0


def test_both_languages_score_a_mixed_text() -> None:
    answer = trial("I am locked in, no puedo salir", SHIPPED)
    assert answer["score"] == 115
    assert answer["priority"] == "urgent"
    assert sorted(answer["reasons"]) == ["locked in (+60)", "no puedo salir (+55)"]


def test_a_minor_is_urgent() -> None:
    answer = trial("I'm 16 and I lost my passport", SHIPPED)
    assert (answer["minor"], answer["priority"], answer["score"]) == (True, "urgent", 30)
    assert trial("hello", SHIPPED) == {
        "score": 0, "priority": "normal", "reasons": [], "found": [], "emergency": [],
        "minor": False, "language": {"code": "en", "confident": True},
    }  # fmt: skip


def test_the_language_it_would_be_answered_in() -> None:
    assert trial("hola, necesito ayuda", SHIPPED)["language"] == {"code": "es", "confident": True}
    assert trial("911", SHIPPED)["language"] == {"code": None, "confident": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "text is required: type a text to try"),
        ("", "text is empty: type a text to try"),
        (" \n\t ", "text is empty: type a text to try"),
        (42, "text must be text"),
        (["passport"], "text must be text"),
        ("x" * 1001, "text is over 1000 characters"),
    ],
)
def test_the_text_is_checked(raw: Any, message: str) -> None:
    with pytest.raises(TuningError) as refused:
        check_trial_text(raw)
    assert str(refused.value) == message


def test_a_text_of_1000_characters_once_stripped_is_tried() -> None:
    assert check_trial_text("  " + "x" * 1000 + "\n") == "x" * 1000


# -- the draft ------------------------------------------------------------------------------------


def test_a_draft_replaces_only_its_language_and_keeps_the_minor_phrases() -> None:
    draft = english_lexicon(weights={"passport": 70}, emergency=["he is here"])
    tried = with_draft(SHIPPED, "en", draft)
    assert [found.language for found in tried] == ["en", "es"]
    assert tried[1] is SHIPPED[1]
    assert tried[0].weights == {"passport": 70} and tried[0].emergency == ("he is here",)
    assert tried[0].minor == SHIPPED[0].minor and tried[0].opt_out == SHIPPED[0].opt_out
    assert trial("they took my passport", tried)["priority"] == "urgent"
    assert trial("he has a gun", tried)["emergency"] == []  # no longer an English phrase
    assert trial("he is here", tried)["reasons"] == ["emergency: he is here"]
    assert trial("I am a minor", tried)["minor"] is True
    assert with_draft(SHIPPED) == SHIPPED and with_draft(SHIPPED, "es") == SHIPPED


def test_draft_thresholds_count() -> None:
    draft = english_lexicon(high_at=20, urgent_at=24)
    assert trial("passport", with_draft(SHIPPED, "en", draft))["priority"] == "urgent"
    draft = english_lexicon(high_at=20)
    assert trial("passport", with_draft(SHIPPED, "en", draft))["priority"] == "high"


@pytest.mark.parametrize(
    ("language", "draft", "message"),
    [
        ("fr", None, "language must be one of en, es"),
        (["en"], None, "language must be one of en, es"),
        (None, english_lexicon(), "language is required with a draft: the lexicon being edited"),
        ("en", [], "lexicon_en must be an object with urgent_at, high_at, emergency, weights"),
        (
            "es",
            english_lexicon(weights={"passport": 500}),
            "lexicon_es weights: \u201cpassport\u201d must weigh a whole number from 1 to 100",
        ),
        ("en", english_lexicon(high_at=70), "lexicon_en: high_at must be below urgent_at"),
        ("en", english_lexicon(emergency=[" "]), "lexicon_en emergency: a phrase is empty"),
    ],
)
def test_a_bad_draft_is_refused_naming_the_field(language: Any, draft: Any, message: str) -> None:
    with pytest.raises(TuningError) as refused:
        with_draft(SHIPPED, language, draft)
    assert str(refused.value) == message


def test_the_answer_is_built_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Assessment's fields reach the answer through trial_answer only: extend it there."""
    built: list[Any] = []

    def spy(*args: Any) -> dict[str, Any]:
        built.append(args)
        return {"spied": True}

    monkeypatch.setattr(lexicon_trial, "trial_answer", spy)
    assert trial("passport", SHIPPED) == {"spied": True}
    assert len(built) == 1


# -- with the database: as the worker scores it, audited, nothing changed ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "they took my passport",
        "I'm 15 and I owe them a debt",
        "he has a gun",
        "estoy encerrada y tengo una deuda",
        "hi",
    ],
)
def test_a_trial_says_what_the_worker_does_with_a_first_text(app: Flask, text: str) -> None:
    [conversation] = conversations_of(app, queued_texter(app, text))
    answer = trial(text, SHIPPED)
    assert answer["score"] == conversation.risk_score
    assert answer["reasons"] == (conversation.risk_reasons or [])
    assert answer["priority"] == conversation.priority.value
    assert answer["minor"] is conversation.minor


def test_a_draft_tried_is_what_the_worker_does_once_it_is_saved(app: Flask) -> None:
    draft = english_lexicon(weights={"kept my phone": 35, "passport": 10}, high_at=30)
    text = "they kept my phone. and my passport"
    tried = trial(text, with_draft(SHIPPED, "en", draft))
    assert tried["reasons"] == ["kept my phone (+35)", "passport (+10)"]

    change(app, staff(app, "supervisor"), "lexicon_en", draft)
    [conversation] = conversations_of(app, queued_texter(app, text))
    assert (conversation.risk_score, conversation.risk_reasons) == (45, tried["reasons"])
    assert conversation.priority.value == tried["priority"] == "high"


def in_force(app: Flask) -> tuple[Lexicon, ...]:
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        return runtime.tuned(session).triage.policy.lexicons


def test_trying_a_text_records_who_tried_and_never_the_text(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    text = "Maria says they lost my passport"
    draft = english_lexicon(weights={"maria": 9, "passport": 30})
    with runtime.sessions.begin() as session:
        answer = try_text(
            session, supervisor, in_force(app), text, runtime.clock.now(),
            language="en", draft=draft,
        )  # fmt: skip
    assert answer["reasons"] == ["passport (+30)", "maria (+9)"]
    [event] = events(app, "lexicon_tried")
    assert event.actor_id == supervisor.id
    assert (event.conversation_id, event.texter_id, event.message_id) == (None, None, None)
    assert event.detail == {"language": "en", "draft": True, "priority": "high", "score": 39}
    recorded = json.dumps(event.detail).casefold()
    assert not any(word in recorded for word in ("maria", "says", "passport", "took"))
    # Changed nothing: no override, no setting event, the lexicon in force is the shipped one.
    assert stored(app) == {}
    assert events(app, "setting_changed", "setting_reset") == []
    assert lexicon_value(in_force(app)[0]) == lexicon_value(SHIPPED[0])


def test_a_refused_trial_records_nothing(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    for text, language, draft in (
        ("", None, None),
        ("passport", "en", english_lexicon(urgent_at=0)),
        ("passport", "de", None),
    ):
        with pytest.raises(TuningError), runtime.sessions.begin() as session:
            try_text(session, supervisor, in_force(app), text, runtime.clock.now(),
                     language=language, draft=draft)  # fmt: skip
    with runtime.sessions() as session:
        assert session.scalars(select(Event).where(Event.kind == "lexicon_tried")).all() == []
    assert stored(app) == {}
