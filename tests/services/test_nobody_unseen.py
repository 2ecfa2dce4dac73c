"""Nobody in danger is left unseen (issue 13), through the real worker path on both databases:
signed texts into the webhook, ``process_pending`` run by the in-process queue, timers fired by
``jobs.fire_timers`` on a fake clock, claims and closes through their services.

Every state a conversation can be in is reached the way a texter reaches it, never built by
hand: the defect these guard against passed its domain test because that test started from a
state the worker never produces.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select, update

from hotline import runtime_of
from hotline.db.models import Availability, Conversation, ConversationStatus, Event, StaffUser
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services.queue import queue_position
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import events_of, texter_of
from tests.texting import (
    advocate,
    answer,
    claim,
    close,
    conversation,
    said,
    sent_to,
    text_in,
    tick,
)

SPANISH_PHRASES = ["esta aqui, tengo miedo", "me va a matar"]
EMERGENCY_PHRASES = ["they are here now", "he has a knife", "he is here", *SPANISH_PHRASES]
NO_ADVOCATE = [
    State.NEW,
    State.AWAIT_DANGER,
    State.AWAIT_SAFETY,
    State.AWAIT_NEEDS,
    State.AWAIT_LOCATION,
    State.QUEUED,
    State.QUEUE_CHECK_IN,
    State.JUST_CLOSED,
    State.SURVEY,
    State.ENDED,
]


@pytest.fixture
def app(make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock) -> Flask:
    """A database of the test's own: places in line are about the whole queue."""
    return make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))


def on_shift(app: Flask) -> int:
    """An advocate marked available, so that the queue behaves as on a staffed shift."""
    advocate_id = advocate(app)
    with runtime_of(app).sessions.begin() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == advocate_id)
            .values(availability=Availability.AVAILABLE)
        )
    return advocate_id


def bring_to(app: Flask, clock: FakeClock, phone: str, state: State, advocate_id: int) -> None:
    """Text (and wait) as a texter would until their conversation is in ``state``."""
    if state is State.NEW:
        return
    answers = {
        State.AWAIT_DANGER: ["hi"],
        State.AWAIT_SAFETY: ["hi", "no"],
        State.AWAIT_NEEDS: ["hi", "no", "yes"],
        State.AWAIT_LOCATION: ["hi", "no", "yes", "I need a job"],
    }.get(state, ["hi", "no", "yes", "I need a job", "skip"])
    for body in answers:
        text_in(app, phone, body)
    if state is State.QUEUE_CHECK_IN:
        for _ in range(3):  # wait updates every 10 minutes, "still there?" after 30 silent
            tick(app, clock, 10.5)
    closed = (State.JUST_CLOSED, State.SURVEY, State.ENDED)
    if state in (State.WITH_ADVOCATE, *closed):
        claim(app, phone, advocate_id)
    if state in closed:
        answer(app, phone, advocate_id)  # the survey goes only to texters a person answered
        close(app, phone, advocate_id)
    if state in (State.SURVEY, State.ENDED):
        tick(app, clock, 5.5)  # past the reopen window
    if state is State.ENDED:
        text_in(app, phone, "5")
    assert conversation(app, phone).state is state


def alerts(app: Flask, phone: str, kind: str) -> list[Event]:
    return [e for e in events_of(app, phone) if e.kind == "alert" and e.detail["alert"] == kind]


def place_in_line(app: Flask, phone: str) -> int:
    with runtime_of(app).sessions() as session:
        current = session.get(Conversation, conversation(app, phone).id)
        assert current is not None
        return queue_position(session, current)


# --- 1. emergency words get the guidance in every state ---------------------------------------


@pytest.mark.parametrize("phrase", EMERGENCY_PHRASES)
@pytest.mark.parametrize("state", NO_ADVOCATE)
def test_emergency_words_without_an_advocate_get_guidance_and_the_head_of_the_queue(
    app: Flask, clock: FakeClock, state: State, phrase: str
) -> None:
    advocate_id = on_shift(app)
    # Ahead of them before the emergency: a calm texter and an urgent one with a high score.
    text_in(app, new_phone(), "hi")
    for body in ("I am locked in and can't leave, they took my passport", "no", "yes", "x", "tx"):
        text_in(app, (urgent := new_phone()) if body.startswith("I am") else urgent, body)
    assert conversation(app, urgent).priority is Priority.URGENT
    phone = new_phone()
    bring_to(app, clock, phone, state, advocate_id)
    before = len(sent_to(app, phone))

    text_in(app, phone, phrase)

    replies = sent_to(app, phone)[before:]
    now = conversation(app, phone)
    # In the language they wrote in: a Spanish emergency is answered in Spanish.
    assert now.language == ("es" if phrase in SPANISH_PHRASES else "en")
    assert replies[0] == said(app, "emergency", now.language), "the guidance comes first"
    if state in (State.NEW, State.JUST_CLOSED, State.SURVEY, State.ENDED):
        # A new conversation: the guidance alone, then their place; no question first.
        assert replies == [
            said(app, "emergency", now.language),
            said(app, "queued_emergency", now.language),
        ]
    assert now.state is State.QUEUED and now.status is ConversationStatus.OPEN
    assert now.priority is Priority.URGENT
    assert now.emergency_at is not None and now.guidance_at is not None
    assert [e.conversation_id for e in alerts(app, phone, "emergency")] == [now.id]
    assert place_in_line(app, phone) == 1, "ahead of the higher risk score that came earlier"


@pytest.mark.parametrize("phrase", ["he has a knife", "me va a matar"])
def test_emergency_words_with_an_advocate_alert_staff_and_the_bot_stays_silent(
    app: Flask, clock: FakeClock, phrase: str
) -> None:
    advocate_id = on_shift(app)
    phone = new_phone()
    bring_to(app, clock, phone, State.WITH_ADVOCATE, advocate_id)
    before = len(sent_to(app, phone))

    text_in(app, phone, phrase)

    assert sent_to(app, phone)[before:] == []
    held = conversation(app, phone)
    assert held.state is State.WITH_ADVOCATE and held.advocate_id == advocate_id
    assert held.priority is Priority.URGENT and held.emergency_at is not None
    assert len(alerts(app, phone, "emergency")) == 1


def test_repeated_emergencies_are_each_alerted_but_guided_once_per_few_minutes(
    app: Flask, clock: FakeClock
) -> None:
    on_shift(app)
    phone = new_phone()
    text_in(app, phone, "he is here")
    clock.advance(60)
    text_in(app, phone, "he has a knife")
    clock.advance(60)
    text_in(app, phone, "please he is here")
    guidance = said(app, "emergency")
    assert sent_to(app, phone).count(guidance) == 1, "no flood of the same text"
    assert len(alerts(app, phone, "emergency")) == 3, "but every one raises the alert again"
    first = conversation(app, phone).emergency_at

    clock.advance(runtime_of(app).settings.emergency_guidance_minutes * 60)
    text_in(app, phone, "they are here now")
    assert sent_to(app, phone).count(guidance) == 2
    assert len(alerts(app, phone, "emergency")) == 4
    assert conversation(app, phone).emergency_at == first, "the head of the line stays theirs"


def test_the_guidance_interval_is_a_setting(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"emergency_guidance_minutes": 1.0},
    )
    phone = new_phone()
    text_in(app, phone, "he is here")
    clock.advance(61)
    text_in(app, phone, "he is here")
    assert sent_to(app, phone).count(said(app, "emergency")) == 2


# --- 3. urgent and minor disclosures never close without a person -----------------------------


def test_an_urgent_disclosure_then_silence_is_queued_not_closed(
    app: Flask, clock: FakeClock
) -> None:
    phone = new_phone()
    text_in(app, phone, "I can't leave, they took my passport and say I owe them")
    assert sent_to(app, phone) == [said(app, "welcome")]

    tick(app, clock, runtime_of(app).settings.triage_timeout_minutes + 1)

    held = conversation(app, phone)
    assert held.status is ConversationStatus.OPEN and held.state is State.QUEUED
    assert said(app, "closed_inactive") not in sent_to(app, phone)
    assert sent_to(app, phone) == [said(app, "welcome")], "silence is not texted"
    [alert] = alerts(app, phone, "held")
    assert alert.detail["why"] == ["urgent"]


def test_a_minor_who_says_it_is_not_safe_is_queued_and_never_texted_first(
    app: Flask, clock: FakeClock
) -> None:
    on_shift(app)
    phone = new_phone()
    for body in ("my pimp forced me, I'm under 18", "no", "no"):
        text_in(app, phone, body)
    assert sent_to(app, phone)[-1] == said(app, "not_safe_held")
    held = conversation(app, phone)
    assert held.status is ConversationStatus.OPEN and held.state is State.QUEUED
    assert held.minor and held.safe_to_text is False
    [alert] = alerts(app, phone, "held")
    assert "minor" in alert.detail["why"] and "not_safe" in alert.detail["why"]

    texts = len(sent_to(app, phone))
    for _ in range(12):  # six hours of silence
        tick(app, clock, 30)
    assert len(sent_to(app, phone)) == texts, "no wait update, no 'still there?'"
    assert conversation(app, phone).state is State.QUEUED


def test_an_urgent_texter_silent_in_the_queue_is_never_released(
    app: Flask, clock: FakeClock
) -> None:
    on_shift(app)
    phone = new_phone()
    for body in ("hi", "yes"):  # in danger now
        text_in(app, phone, body)
    for _ in range(12):
        tick(app, clock, 30)
    assert said(app, "still_there") not in sent_to(app, phone)
    assert said(app, "released") not in sent_to(app, phone)
    held = conversation(app, phone)
    assert held.status is ConversationStatus.OPEN and held.state is State.QUEUED


def test_a_calm_texter_is_still_closed_by_silence(app: Flask, clock: FakeClock) -> None:
    """The rule is for who needs a person, not a change for everyone."""
    phone = new_phone()
    text_in(app, phone, "hi")
    tick(app, clock, runtime_of(app).settings.triage_timeout_minutes + 1)
    assert conversation(app, phone).status is ConversationStatus.CLOSED
    assert sent_to(app, phone)[-1] == said(app, "closed_inactive")


# --- 4. "please stop texting me" is an opt-out ------------------------------------------------

OPT_OUT_STATES = [State.AWAIT_DANGER, State.AWAIT_SAFETY, State.QUEUED, State.WITH_ADVOCATE]


@pytest.mark.parametrize("request_", ["please stop texting me", "don't text me again"])
@pytest.mark.parametrize("state", OPT_OUT_STATES)
def test_asking_not_to_be_texted_opts_out_with_one_confirmation_then_silence(
    app: Flask, clock: FakeClock, state: State, request_: str
) -> None:
    advocate_id = on_shift(app)
    phone = new_phone()
    bring_to(app, clock, phone, state, advocate_id)
    before = len(sent_to(app, phone))

    text_in(app, phone, request_)

    assert sent_to(app, phone)[before:] == [said(app, "stop_confirmation")]
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    ended = conversation(app, phone)
    assert ended.state is State.ENDED and ended.close_reason == "opt_out"
    for body in ("hello?", "are you there", "he is here"):
        text_in(app, phone, body)
    for _ in range(4):
        tick(app, clock, 30)
    assert len(sent_to(app, phone)) == before + 1, "nothing after the confirmation"


@pytest.mark.parametrize("request_", ["deja de escribirme", "no me escriba mas"])
def test_a_spanish_request_not_to_be_texted_is_an_opt_out(app: Flask, request_: str) -> None:
    phone = new_phone()
    text_in(app, phone, "hola")
    text_in(app, phone, request_)
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    assert sent_to(app, phone)[-1] == said(app, "stop_confirmation", "es")


@pytest.mark.parametrize("body", ["stop it, he hears", "don't stop"])
def test_a_sentence_that_merely_holds_stop_stays_what_it_was(app: Flask, body: str) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, body)
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is None
    assert sent_to(app, phone)[-1] == said(app, "danger_reask")


# --- 5. emergencies from an opted-out number are seen by a person ----------------------------


def test_emergency_words_after_stop_send_nothing_and_alert_a_person(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "STOP")
    before = len(sent_to(app, phone))

    text_in(app, phone, "he has a gun")

    assert len(sent_to(app, phone)) == before, "STOP stays final"
    [alert] = alerts(app, phone, "opted_out_emergency")
    texter = texter_of(app, phone)
    assert texter is not None and alert.texter_id == texter.id
    assert alert.message_id is not None
    # Words without danger after STOP: stored, and no alert.
    text_in(app, phone, "hello")
    assert len(alerts(app, phone, "opted_out_emergency")) == 1


def test_an_opt_out_request_that_tells_of_danger_alerts_a_person(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "stop texting me he is here")
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    assert len(alerts(app, phone, "opted_out_emergency")) == 1


# --- 8. the survey never restarts a conversation by mistake -----------------------------------


@pytest.mark.parametrize(
    ("reply", "score", "answer"),
    [
        ("thanks!", None, "survey_goodbye"),
        ("5 thank you", 5, "survey_thanks"),
        ("gracias por todo", None, "survey_goodbye"),
        ("it was a 4, thanks", 4, "survey_thanks"),
    ],
)
def test_a_reply_to_the_survey_is_a_score_or_a_goodbye_not_a_new_conversation(
    app: Flask, clock: FakeClock, reply: str, score: int | None, answer: str
) -> None:
    advocate_id = on_shift(app)
    phone = new_phone()
    bring_to(app, clock, phone, State.SURVEY, advocate_id)
    opened = len(_conversations(app, phone))

    text_in(app, phone, reply)

    assert len(_conversations(app, phone)) == opened, "no new conversation"
    assert sent_to(app, phone)[-1] == said(app, answer)
    assert sent_to(app, phone).count(said(app, "welcome")) == 1, "no second welcome"
    ended = conversation(app, phone)
    assert ended.state is State.ENDED and ended.survey_score == score


def test_a_new_request_after_the_survey_opens_a_new_conversation(
    app: Flask, clock: FakeClock
) -> None:
    advocate_id = on_shift(app)
    phone = new_phone()
    bring_to(app, clock, phone, State.SURVEY, advocate_id)
    text_in(app, phone, "I need help again with my papers")
    assert len(_conversations(app, phone)) == 2
    assert sent_to(app, phone)[-1] == said(app, "welcome")


def _conversations(app: Flask, phone: str) -> list[int]:
    texter = texter_of(app, phone)
    assert texter is not None
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(select(Conversation.id).where(Conversation.texter_id == texter.id))
        )
