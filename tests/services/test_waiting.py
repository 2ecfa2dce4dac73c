"""Waiting when nobody is on shift, told honestly (issue 13, item 7), through the worker path
on both databases: the webhook, ``process_pending`` on the in-process queue, and
``jobs.fire_timers`` on a FakeClock (Monday 23 November 2026, 12:00 UTC: 7am in New York).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.domain.triage import State
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import conversations_of, events_of
from tests.texting import (
    claim,
    close,
    conversation,
    on_shift,
    said,
    said_with,
    sent_to,
    text_in,
    tick,
    unstaffed_text,
)

TRIAGE = ("hi", "no", "yes", "I need help with my visa", "skip")


@pytest.fixture
def database_url(isolated_database_url: str) -> str:
    """Staffing and positions are about the whole hotline: a database of the test's own."""
    return isolated_database_url


@pytest.fixture
def build(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> Callable[..., Flask]:
    def factory(**settings: Any) -> Flask:
        return make_app(
            database_url, clock=clock, sender=LocalSender(clock.now), settings_overrides=settings
        )

    return factory


@pytest.fixture
def app(build: Callable[..., Flask]) -> Flask:
    return build()


def queue(app: Flask, phone: str | None = None) -> str:
    phone = phone or new_phone()
    for body in TRIAGE:
        text_in(app, phone, body)
    clock = runtime_of(app).clock
    assert isinstance(clock, FakeClock)
    clock.advance(1)  # the next texter queues after this one
    return phone


def test_nobody_on_shift_an_honest_text_and_never_released(app: Flask, clock: FakeClock) -> None:
    phone = queue(app)
    assert sent_to(app, phone)[-1] == unstaffed_text(app, 1)
    assert sent_to(app, phone)[-1] == (
        "Thank you. No advocate is free right now, so we can't say how long the wait will be. "
        "You are number 1 in line and keep your place. If you are in danger, call 911. "
        "Reply STOP to opt out."
    )
    told = len(sent_to(app, phone))
    for _ in range(18):  # three silent hours: no "still there?", no release, no update
        tick(app, clock, 10)
    assert len(sent_to(app, phone)) == told
    waiting = conversation(app, phone)
    assert waiting.state is State.QUEUED and waiting.close_reason is None
    assert waiting.unprompted_count == 0


def test_texts_from_a_waiting_texter_get_one_acknowledgement_every_few_minutes(
    app: Flask, clock: FakeClock
) -> None:
    phone = queue(app)
    told = len(sent_to(app, phone))
    text_in(app, phone, "hello? is anyone there")
    assert sent_to(app, phone)[-1] == "We got your message. You are number 1 in line."
    text_in(app, phone, "please")
    clock.advance(4 * 60)
    text_in(app, phone, "I am scared")
    assert len(sent_to(app, phone)) == told + 1  # one acknowledgement per five minutes
    clock.advance(60)
    text_in(app, phone, "still waiting")
    assert sent_to(app, phone)[-1] == said_with(app, "queued_ack", position=1)
    assert len(sent_to(app, phone)) == told + 2
    assert conversation(app, phone).unprompted_count == 0  # asked for: not in the budget


def test_outside_hours_the_texter_is_told_when_we_open_and_keeps_their_place(
    build: Callable[..., Flask], clock: FakeClock
) -> None:
    app = build(
        operating_hours="mon-fri 09:00-17:00; sat 10:00-14:00",
        voice_number="1-888-373-7888",
        web_address="example.org/help",
        discreet_mode=False,  # the web address is only in waiting texts when not discreet
    )
    on_shift(app)  # an advocate marked available does not open the hotline early
    phone = queue(app)
    assert sent_to(app, phone)[-1] == (
        "We are closed. Advocates answer Mon-Fri 9am-5pm, Sat 10am-2pm EST; we open today 9am. "
        "You keep your place in line (number 1). If you are in danger, call 911. You can also "
        "call 1-888-373-7888. Web: example.org/help Reply STOP to opt out."
    )
    told = len(sent_to(app, phone))
    for _ in range(11):  # until 8:50am: silent, and still in line
        tick(app, clock, 10)
    assert len(sent_to(app, phone)) == told
    assert conversation(app, phone).state is State.QUEUED


def test_outside_hours_in_spanish_and_discreet_mode(
    build: Callable[..., Flask], clock: FakeClock
) -> None:
    app = build(
        operating_hours="mon-fri 09:00-17:00",
        voice_number="1-888-373-7888",
        web_address="antitrafficking.example.org",
        discreet_mode=True,
    )
    phone = new_phone()
    for body in ("AYUDA", "no", "si", "no me pagan", "saltar"):
        text_in(app, phone, body)
    assert sent_to(app, phone)[-1] == (
        "Estamos cerrados. Atendemos lun-vie 9:00-17:00 EST; abrimos hoy 9:00. Conserva el lugar "
        "1 en la fila. Si corre peligro, llame al 911. Puede llamarnos al 1-888-373-7888. "
        "Responda PARAR para darse de baja."
    )  # the web address could name the organisation: not in discreet mode


def test_first_in_line_with_an_advocate_free_is_told_they_are_next(app: Flask) -> None:
    on_shift(app)
    phone = queue(app)
    assert sent_to(app, phone)[-1] == said(app, "queued_next")
    assert sent_to(app, phone)[-1].startswith("Thank you. You're next in line")


def test_the_estimate_comes_from_recent_handle_times(
    build: Callable[..., Flask], clock: FakeClock
) -> None:
    app = build(capacity=1)
    advocate_id = on_shift(app)
    for _ in range(3):  # three conversations of 30 minutes each, claim to close
        done = new_phone()
        text_in(app, done, "he has a gun")
        claim(app, done, advocate_id)
        clock.advance(30 * 60)
        close(app, done, advocate_id)
    on_shift_phone = new_phone()
    text_in(app, on_shift_phone, "he has a gun")
    claim(app, on_shift_phone, advocate_id)  # at capacity: nobody is free
    first, second = queue(app), queue(app)
    assert sent_to(app, first)[-1] == (
        "Thank you. You are number 1 in line. We think the wait is about 30 min. "
        "Reply STOP to opt out."
    )
    assert "number 2 in line. We think the wait is about 60 min." in sent_to(app, second)[-1]


def test_without_handle_times_the_estimate_says_it_cannot_be_given(
    build: Callable[..., Flask],
) -> None:
    app = build(capacity=1)
    on_shift(app, holding=1)
    phone = queue(app)
    assert sent_to(app, phone)[-1] == said_with(app, "queued_no_estimate", position=1)
    assert "we can't estimate the wait right now" in sent_to(app, phone)[-1]


def test_a_wait_update_only_when_the_place_moved_and_within_the_budget(
    build: Callable[..., Flask], clock: FakeClock
) -> None:
    app = build(capacity=1)
    on_shift(app, holding=1)
    ahead = [queue(app), queue(app)]
    phone = queue(app)
    assert "number 3 in line" in sent_to(app, phone)[-1]
    told = len(sent_to(app, phone))
    tick(app, clock, 10)
    assert len(sent_to(app, phone)) == told  # not moved: nothing to say
    helper = on_shift(app)  # a second advocate takes the two ahead
    for other in ahead:
        claim(app, other, helper)
    tick(app, clock, 10)
    assert sent_to(app, phone)[-1] == said_with(app, "wait_update_no_estimate", position=1)
    assert conversation(app, phone).told_position == 1
    assert conversation(app, phone).unprompted_count == 1
    tick(app, clock, 10)  # 30 silent minutes: "still there?", the second unprompted text
    assert sent_to(app, phone)[-1] == said(app, "still_there")
    assert conversation(app, phone).unprompted_count == 2
    for _ in range(2):  # the hour's budget is spent: the release waits
        tick(app, clock, 10)
    assert len(sent_to(app, phone)) == told + 2
    assert conversation(app, phone).state is State.QUEUE_CHECK_IN


def test_a_released_texter_who_comes_back_soon_keeps_their_place(
    app: Flask, clock: FakeClock
) -> None:
    on_shift(app, holding=3)
    phone = queue(app)
    first = conversation(app, phone)
    for _ in range(3):
        tick(app, clock, 10)
    assert sent_to(app, phone)[-1] == said(app, "still_there")
    tick(app, clock, 11)
    assert sent_to(app, phone)[-1] == said(app, "released")
    assert conversation(app, phone).close_reason == "abandoned"

    clock.advance(60 * 60)  # an hour later, within the two hours kept
    text_in(app, phone, "sorry, I had to hide my phone")
    back = conversation(app, phone)
    assert back.id == first.id and len(conversations_of(app, phone)) == 1
    assert back.state is State.QUEUED and back.queued_at == first.queued_at
    assert back.close_reason is None and back.closed_at is None
    assert sent_to(app, phone)[-1] == said_with(app, "queued_no_estimate", position=1)
    assert said(app, "welcome") not in sent_to(app, phone)[1:]
    assert "conversation_reopened" in [e.kind for e in events_of(app, phone)]


def test_after_the_kept_time_a_new_conversation_starts(app: Flask, clock: FakeClock) -> None:
    on_shift(app, holding=3)
    phone = queue(app)
    for _ in range(3):
        tick(app, clock, 10)
    tick(app, clock, 11)
    assert conversation(app, phone).close_reason == "abandoned"
    clock.advance(121 * 60)
    text_in(app, phone, "hi again")
    assert len(conversations_of(app, phone)) == 2
    assert sent_to(app, phone)[-1] == said(app, "welcome")


def test_a_texter_who_asked_to_be_erased_never_gets_the_old_conversation_back(
    app: Flask, clock: FakeClock
) -> None:
    on_shift(app, holding=3)
    phone = queue(app)
    for _ in range(3):
        tick(app, clock, 10)
    tick(app, clock, 11)
    text_in(app, phone, "DELETE")
    clock.advance(5 * 60)
    text_in(app, phone, "hello")
    assert conversation(app, phone).state is State.AWAIT_DANGER
    assert runtime_of(app).triage.render_plain("welcome", "en") == sent_to(app, phone)[-1]
