"""What triage reads in a texter's words (issue 14), through the real worker path on both
databases: signed texts into the webhook, ``process_pending`` run by the in-process queue.

- a call for help at any question is never "we didn't get that";
- the language is followed without a keyword, from the first text and from answers, and a
  texter writing a language we cannot text in is told once, in it, where to call;
- a minor is urgent, marked, and raised as an alert;
- a location is stored as a state.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.catalogue import other_language_emergency, other_language_line
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from tests.conftest import new_phone
from tests.helpers import events_of
from tests.texting import conversation, said, sent_to, text_in

DISTRESS = ["help me please", "please", "I'm scared", "ayúdame por favor", "tengo miedo", "😭"]
# The answers that bring a texter to each question, in English.
TO = {
    State.AWAIT_DANGER: ["hi"],
    State.AWAIT_SAFETY: ["hi", "no"],
    State.AWAIT_NEEDS: ["hi", "no", "yes"],
    State.AWAIT_LOCATION: ["hi", "no", "yes", "I need a job"],
}
REASKS = {"danger_reask", "safety_reask", "needs_reask", "location_reask"}


def reasks(app: Flask, phone: str) -> set[str]:
    sent = set(sent_to(app, phone))
    return {key for key in REASKS for lang in ("en", "es") if said(app, key, lang) in sent}


# --- a call for help is never "we didn't get that" ---------------------------------------------


@pytest.mark.parametrize("cry", DISTRESS)
@pytest.mark.parametrize("state", list(TO))
def test_a_call_for_help_at_any_question_moves_the_texter_on(
    app: Flask, state: State, cry: str
) -> None:
    phone = new_phone()
    for body in TO[state]:
        text_in(app, phone, body)
    text_in(app, phone, cry)

    assert reasks(app, phone) == set(), "never asked again"
    after = conversation(app, phone)
    if state is State.AWAIT_DANGER:
        # A yes to danger: the guidance, and the head of the queue.
        assert after.state is State.QUEUED and after.in_danger is True
        assert after.emergency_at is not None
        assert said(app, "emergency", after.language) in sent_to(app, phone)
    elif state is State.AWAIT_NEEDS:
        assert after.state is State.AWAIT_LOCATION  # their words are the need
    else:
        assert after.state is State.QUEUED, "on to a person, not to more questions"


def test_a_reply_that_opens_with_no_is_a_no(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "no im ok, just a question")
    assert conversation(app, phone).state is State.AWAIT_SAFETY
    assert reasks(app, phone) == set()


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["hola", "buenas noches", "necesito ayuda con mi jefe"])
def test_a_spanish_first_text_is_answered_in_spanish_without_a_keyword(
    app: Flask, first: str
) -> None:
    phone = new_phone()
    text_in(app, phone, first)
    assert sent_to(app, phone) == [said(app, "welcome", "es")]
    assert conversation(app, phone).language == "es"


def test_a_spanish_emergency_first_text_gets_the_guidance_in_spanish(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "tengo miedo, el esta afuera")
    assert sent_to(app, phone)[0] == said(app, "emergency", "es")
    now = conversation(app, phone)
    assert now.emergency_at is not None and now.priority is Priority.URGENT


def test_an_answer_in_spanish_switches_the_next_question(app: Flask) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes"):
        text_in(app, phone, body)
    assert conversation(app, phone).language == "en"
    text_in(app, phone, "mi patron no me paga desde hace dos meses")
    assert sent_to(app, phone)[-1] == said(app, "location_question", "es")
    assert conversation(app, phone).language == "es"
    assert [
        e.detail["language"] for e in events_of(app, phone) if e.kind == "language_detected"
    ] == ["es"]


def test_english_words_in_a_spanish_answer_do_not_switch_it_back(app: Flask) -> None:
    phone = new_phone()
    for body in ("hola", "no", "si"):
        text_in(app, phone, body)
    text_in(app, phone, "mi jefe me debe el overtime")
    assert conversation(app, phone).language == "es"


@pytest.mark.parametrize(
    ("first", "language"),
    [
        ("Chồng tôi đánh tôi, tôi sợ lắm", "vi"),
        ("我老板拿走了我的护照", "zh"),
        ("Мой работодатель забрал мой паспорт", "ru"),
        ("Bonjour, j'ai besoin d'aide, mon patron ne me paie pas", "fr"),
    ],
)
def test_a_language_we_cannot_text_in_is_told_once_in_it(
    make_app: Callable[..., Flask], isolated_database_url: str, first: str, language: str
) -> None:
    app = make_app(isolated_database_url, settings_overrides={"voice_number": "1-888-373-7888"})
    phone = new_phone()
    text_in(app, phone, first)
    text_in(app, phone, first)
    line = other_language_line(language, "1-888-373-7888")
    assert line is not None and "1-888-373-7888" in line
    sent = sent_to(app, phone)
    assert sent[0] == line and sent.count(line) == 1, "told once, first"
    now = conversation(app, phone)
    assert now.texter_language == language
    assert now.language in ("en", "es")  # the texts that follow are in a language we write


def test_danger_in_a_language_we_cannot_text_in_gets_911_in_it_first(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "Он сейчас здесь с ножом")  # "he is here now with a knife"
    sent = sent_to(app, phone)
    assert sent[0] == other_language_emergency("ru")
    assert sent[1] == other_language_line("ru", "")
    assert sent[2] == said(app, "emergency", conversation(app, phone).language)
    assert conversation(app, phone).emergency_at is not None


# --- minors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        "I'm 16 and a man I met online wants me to meet him and do things for money",
        "my pimp forced me, I'm under 18",
        "soy menor y mi novio me hace salir con sus amigos por dinero",
        "im in 9th grade and my bf makes me see his friends",
    ],
)
def test_a_minor_is_urgent_marked_and_raised(app: Flask, first: str) -> None:
    phone = new_phone()
    text_in(app, phone, first)
    now = conversation(app, phone)
    assert now.minor is True
    assert now.priority is Priority.URGENT
    alerts = [
        e for e in events_of(app, phone) if e.kind == "alert" and e.detail["alert"] == "minor"
    ]
    assert [e.conversation_id for e in alerts] == [now.id]
    text_in(app, phone, "please")  # said again or not, one alert
    assert len([e for e in events_of(app, phone) if e.detail.get("alert") == "minor"]) == 1


# --- locations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "state"), [("Chicago", "IL"), ("77063", "TX"), ("nueva york", "NY"), ("tx", "TX")]
)
def test_a_location_is_stored_as_a_state(app: Flask, place: str, state: str) -> None:
    phone = new_phone()
    for body in [*TO[State.AWAIT_LOCATION], place]:
        text_in(app, phone, body)
    now = conversation(app, phone)
    assert now.state is State.QUEUED
    assert runtime_of(app).vault.decrypt(now.location_ciphertext or b"") == state
