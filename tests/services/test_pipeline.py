"""A texter's whole conversation, from the webhook through the worker to the carrier, on both
databases: triage in English and Spanish, emergencies, STOP/START, the safe word, timers with an
injected clock, the queue, claiming, closing and the survey.

These drive the in-process queue by hand (``run_due``), so every step is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.background import jobs
from hotline.background.jobs import use_in_process_queue
from hotline.db import after_commit
from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Event,
    Message,
)
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.claims import ClaimError, do_claim, do_close, do_return_to_queue, do_take_next
from hotline.services.outbox import queue_text
from hotline.services.process import current_conversation, process_pending
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import (
    bodies,
    conversations_of,
    events_of,
    messages_of,
    post_signed,
    sms_form,
    texter_of,
)
from tests.texting import (
    advocate,
    answer,
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


@pytest.fixture
def database_url(isolated_database_url: str) -> str:
    """Each test here has the queue to itself: positions and claims are about the whole queue."""
    return isolated_database_url


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str, clock: FakeClock) -> Flask:
    return make_app(database_url, clock=clock, sender=LocalSender(clock.now))


def test_whole_triage_in_english_to_the_queue(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "HELP")
    text_in(app, phone, "no")
    text_in(app, phone, "yes")
    text_in(app, phone, "My boss took my passport and I owe him money")
    text_in(app, phone, "tx")

    replies = sent_to(app, phone)
    assert replies[:4] == [
        said(app, "welcome"),
        said(app, "safety_question"),
        said(app, "needs_question"),
        said(app, "location_question"),
    ]
    assert replies[4] == unstaffed_text(app, 1)  # nobody is on shift in this test
    assert "Msg & data rates may apply" in replies[0] and "STOP" in replies[0]
    queued = conversation(app, phone)
    assert queued.state is State.QUEUED and queued.queued_at is not None
    assert queued.in_danger is False and queued.safe_to_text is True
    vault = runtime_of(app).vault
    assert vault.decrypt(queued.needs_ciphertext or b"") == (
        "My boss took my passport and I owe him money"
    )
    assert vault.decrypt(queued.location_ciphertext or b"") == "TX"
    assert queued.priority is Priority.HIGH  # took ... passport (+40) and owe (+15): 55
    assert queued.risk_reasons == ["took ... passport (+40)", "owe (+15)"]
    assert queued.timer == "wait_update"


def test_whole_triage_in_spanish(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "AYUDA")
    text_in(app, phone, "no")
    text_in(app, phone, "sí")
    text_in(app, phone, "Estoy encerrada y no me pagan")
    text_in(app, phone, "saltar")

    replies = sent_to(app, phone)
    assert replies[:4] == [
        said(app, "welcome", "es"),
        said(app, "safety_question", "es"),
        said(app, "needs_question", "es"),
        said(app, "location_question", "es"),
    ]
    assert replies[4] == unstaffed_text(app, 1, "es")
    queued = conversation(app, phone)
    assert queued.language == "es" and queued.state is State.QUEUED
    assert queued.location_ciphertext is None
    assert queued.priority is Priority.URGENT  # encerrada (+40) and no me pagan (+20): 60


def test_espanol_switches_language_mid_question(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "ESPAÑOL")
    assert sent_to(app, phone) == [said(app, "welcome"), said(app, "welcome", "es")]
    assert conversation(app, phone).language == "es"
    texter = texter_of(app, phone)
    assert texter is not None and texter.language == "es"


def test_yes_to_danger_gets_emergency_guidance_and_the_head_of_the_queue(app: Flask) -> None:
    calm, scared = new_phone(), new_phone()
    for body in ("hi", "no", "yes", "I need advice", "skip"):
        text_in(app, calm, body)
    text_in(app, scared, "hello")
    text_in(app, scared, "YES")

    replies = sent_to(app, scared)
    assert replies[1] == said(app, "emergency")
    assert replies[2] == unstaffed_text(app, 1)  # first in line; nobody on shift, told so
    urgent = conversation(app, scared)
    assert urgent.priority is Priority.URGENT and urgent.state is State.QUEUED
    assert urgent.in_danger is True
    assert "alert" in [e.kind for e in events_of(app, scared)]


def test_emergency_words_mid_triage_skip_the_remaining_questions(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hello")
    text_in(app, phone, "no")
    text_in(app, phone, "he has a gun and he's here")
    replies = sent_to(app, phone)
    assert replies[-2] == said(app, "emergency")
    assert replies[-1] == unstaffed_text(app, 1)
    urgent = conversation(app, phone)
    assert urgent.state is State.QUEUED and urgent.priority is Priority.URGENT
    assert "emergency: gun" in (urgent.risk_reasons or [])


def test_emergency_in_the_first_text_never_waits_behind_a_question(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "help he is going to kill me")
    # The guidance first and alone, then their place: no welcome asking "are you in danger?".
    assert sent_to(app, phone) == [said(app, "emergency"), unstaffed_text(app, 1)]
    assert conversation(app, phone).state is State.QUEUED


def test_unanswered_questions_are_asked_at_most_twice_more_then_queue(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    for body in ("what?", "who is this", "just tell me"):
        text_in(app, phone, body)
    replies = sent_to(app, phone)
    assert replies[1:3] == [said(app, "danger_reask"), said(app, "danger_reask")]
    assert "You are number" in replies[3]
    assert conversation(app, phone).state is State.QUEUED


def test_not_safe_to_text_ends_with_an_explicit_goodbye(app: Flask) -> None:
    phone = new_phone()
    for body in ("hi", "no", "no"):
        text_in(app, phone, body)
    assert sent_to(app, phone)[-1] == said(app, "not_safe_goodbye")
    ended = conversation(app, phone)
    assert ended.state is State.ENDED and ended.status is ConversationStatus.CLOSED
    assert ended.close_reason == "not_safe"


def test_safe_word_ends_at_once_and_wipes_the_conversation(app: Flask) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes", "my husband hits me"):
        text_in(app, phone, body)
    wiped_id = conversation(app, phone).id
    before = events_of(app, phone)
    text_in(app, phone, "clear")

    assert sent_to(app, phone)[-1] == said(app, "safe_word_done")
    assert conversations_of(app, phone) == []  # the number no longer leads to anything
    with runtime_of(app).sessions() as session:
        wiped = session.get(Conversation, wiped_id)
        assert wiped is not None
        texts = session.scalars(select(Message).where(Message.conversation_id == wiped_id)).all()
        kinds = session.scalars(select(Event.kind).where(Event.texter_id == wiped.texter_id)).all()
    assert wiped.state is State.ENDED and wiped.close_reason == "safe_word"
    assert wiped.needs_ciphertext is None and wiped.risk_reasons is None
    kept = [m for m in texts if m.body_ciphertext is not None]
    assert [bodies(app, kept)] == [[said(app, "safe_word_done")]]  # until it is sent
    assert before and "texter_erased" in kinds


def test_stop_during_the_queue_then_start(app: Flask, clock: FakeClock) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need a place to stay", "skip"):
        text_in(app, phone, body)
    text_in(app, phone, "Stop.")
    before = len(sent_to(app, phone))
    assert sent_to(app, phone)[-1] == said(app, "stop_confirmation")
    stopped = conversation(app, phone)
    assert stopped.state is State.ENDED and stopped.close_reason == "opt_out"
    assert stopped.timer is None

    tick(app, clock, 60)  # no wait update, no check-in: nothing may go out
    text_in(app, phone, "hello??")
    assert len(sent_to(app, phone)) == before

    text_in(app, phone, "START")
    assert sent_to(app, phone)[-1] == said(app, "start_confirmation")
    text_in(app, phone, "hi again")
    assert sent_to(app, phone)[-1] == said(app, "welcome")
    first, second = conversations_of(app, phone)
    assert second.returning_texter and not first.returning_texter


def test_stop_cancels_a_reply_already_waiting_to_go_out(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    runtime = runtime_of(app)
    texter = texter_of(app, phone)
    assert texter is not None
    # Stored, and not yet handed over: a plain session runs no after-commit work.
    with Session(runtime.engine) as session, session.begin():
        stored = queue_text(
            session,
            runtime.vault,
            texter.id,
            current_conversation(session, texter.id),
            "an advocate's reply",
            runtime.clock.now(),
        )
        session.flush()
        waiting = stored.id
    text_in(app, phone, "STOP")
    jobs.send_message(runtime, waiting)
    with runtime.sessions() as session:
        assert session.get(Message, waiting).status is DeliveryStatus.CANCELED  # type: ignore[union-attr]
    assert "an advocate's reply" not in sent_to(app, phone)


def test_help_mid_triage_answers_and_continues(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "info")
    text_in(app, phone, "no")
    assert sent_to(app, phone) == [
        said(app, "welcome"),
        said(app, "help"),
        said(app, "safety_question"),
    ]


@pytest.mark.parametrize("cry", ["help", "HELP!", "ayuda"])
def test_help_in_answer_to_the_danger_question_is_also_a_yes(app: Flask, cry: str) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, cry)
    replies = sent_to(app, phone)
    language = conversation(app, phone).language
    assert replies[1] == said(app, "help", language), "the carriers' HELP answer first"
    assert replies[2] == said(app, "emergency", language)
    held = conversation(app, phone)
    assert held.state is State.QUEUED and held.in_danger is True
    assert held.emergency_at is not None


def test_triage_silence_closes_after_the_timeout(app: Flask, clock: FakeClock) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    tick(app, clock, 14)
    assert conversation(app, phone).state is State.AWAIT_DANGER
    tick(app, clock, 2)
    assert sent_to(app, phone)[-1] == said(app, "closed_inactive")
    assert conversation(app, phone).close_reason == "inactive"
    tick(app, clock, 120)
    assert len(sent_to(app, phone)) == 2  # after the end, the hotline never texts first


def test_queue_wait_updates_check_in_and_release(app: Flask, clock: FakeClock) -> None:
    on_shift(app, holding=3)  # on shift, with no room: the line does not move
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help with my visa", "skip"):
        text_in(app, phone, body)
    told = len(sent_to(app, phone))
    tick(app, clock, 11)
    assert len(sent_to(app, phone)) == told  # still number 1: not worth a text
    tick(app, clock, 10)
    tick(app, clock, 10)  # 31 minutes without a word from them: "still there?"
    assert sent_to(app, phone)[-1] == said(app, "still_there")
    assert conversation(app, phone).state is State.QUEUE_CHECK_IN
    text_in(app, phone, "yes I'm here")
    assert conversation(app, phone).state is State.QUEUED
    assert "You are number" in sent_to(app, phone)[-1]  # their place, confirmed

    for _ in range(3):  # 30 quiet minutes again
        tick(app, clock, 10)
    assert conversation(app, phone).state is State.QUEUE_CHECK_IN
    # Two "still there?" in the last hour: the budget of unprompted texts is spent, so the
    # release (a third) waits for the hour to pass.
    tick(app, clock, 11)
    tick(app, clock, 10)
    assert conversation(app, phone).state is State.QUEUE_CHECK_IN
    tick(app, clock, 10)
    assert sent_to(app, phone)[-1] == said(app, "released")
    released = conversation(app, phone)
    assert released.state is State.ENDED and released.close_reason == "abandoned"


def test_with_an_advocate_the_bot_is_silent_then_survey(app: Flask, clock: FakeClock) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes", "I was promised a job", "CA"):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    before = len(sent_to(app, phone))
    text_in(app, phone, "hello? are you a real person")
    text_in(app, phone, "I am scared")
    assert len(sent_to(app, phone)) == before
    assert conversation(app, phone).state is State.WITH_ADVOCATE

    answer(app, phone, advocate_id)  # the survey goes only to texters a person answered
    close(app, phone, advocate_id)
    tick(app, clock, runtime_of(app).settings.reopen_minutes + 0.5)  # the reopen window
    assert sent_to(app, phone)[-1] == said(app, "survey_question")
    text_in(app, phone, "5")
    assert sent_to(app, phone)[-1] == said(app, "survey_thanks")
    done = conversation(app, phone)
    assert done.survey_score == 5 and done.state is State.ENDED
    assert done.status is ConversationStatus.CLOSED


def test_text_after_close_instead_of_a_survey_answer_starts_a_new_conversation(app: Flask) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help", "skip"):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    close(app, phone, advocate_id)
    text_in(app, phone, "wait, one more thing")
    first, second = conversations_of(app, phone)
    assert first.state is State.ENDED and first.survey_score is None
    assert second.state is State.AWAIT_DANGER and second.returning_texter
    assert sent_to(app, phone)[-1] == said(app, "welcome")


def test_claims_give_exactly_one_owner_and_follow_queue_order(app: Flask) -> None:
    normal, urgent = new_phone(), new_phone()
    for body in ("hi", "no", "yes", "need advice", "skip"):
        text_in(app, normal, body)
    text_in(app, urgent, "he has a gun")
    first, second = advocate(app), advocate(app)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        taken = do_take_next(session, runtime.triage, first, runtime.clock.now())
    assert taken == conversation(app, urgent).id
    with runtime.sessions.begin() as session, pytest.raises(ClaimError):
        do_claim(session, runtime.triage, conversation(app, urgent).id, second, runtime.clock.now())
    assert conversation(app, urgent).advocate_id == first

    with runtime.sessions.begin() as session:
        do_return_to_queue(
            session, runtime.triage, conversation(app, urgent).id, first, runtime.clock.now()
        )
    back = conversation(app, urgent)
    assert back.state is State.QUEUED and back.advocate_id is None


def test_close_needs_the_holder_and_a_disposition(app: Flask) -> None:
    phone = new_phone()
    for body in ("hi", "yes"):
        text_in(app, phone, body)
    holder, other = advocate(app), advocate(app)
    claim(app, phone, holder)
    runtime = runtime_of(app)
    conversation_id = conversation(app, phone).id
    with pytest.raises(ClaimError, match="not yours"), runtime.sessions.begin() as session:
        do_close(session, runtime.triage, conversation_id, other, "referred", runtime.clock.now())
    with pytest.raises(ClaimError, match="disposition"), runtime.sessions.begin() as session:
        do_close(session, runtime.triage, conversation_id, holder, "  ", runtime.clock.now())
    assert conversation(app, phone).state is State.WITH_ADVOCATE


def test_discreet_mode_names_the_organisation_only_when_asked(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"discreet_mode": True, "org_name": "Freedom Network"},
    )
    phone = new_phone()
    for body in ("HELP", "info", "no", "yes", "they took my papers", "NY"):
        text_in(app, phone, body)
    replies = sent_to(app, phone)
    assert len(replies) == 6
    # Only the answer to the texter's own HELP ("info") names the program: the rules require it.
    assert [reply for reply in replies if "Freedom Network" in reply] == [replies[1]]
    assert replies[1].startswith("Freedom Network: ")
    for reply in replies:
        assert "traffick" not in reply.lower()


def test_keyword_answers_name_the_program_in_the_texters_language_even_when_discreet(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={
            "org_name": "Freedom Network",
            "org_name_es": "Red Libertad",
            "voice_number": "1-888-373-7888",
            "web_address": "example.org/help",
        },
    )
    assert runtime_of(app).triage.policy.discreet  # the default
    phone = new_phone()
    # INFO: a HELP in answer to the danger question is also a call for help (it moves them on).
    for body in ("hi", "INFO", "STOP", "HELP"):
        text_in(app, phone, body)
    welcome, help_reply, stopped, help_after_stop = sent_to(app, phone)
    assert "Freedom Network" not in welcome and "example.org" not in welcome
    assert help_reply == (
        "Freedom Network: text us here and a trained advocate will answer. You can also call "
        "1-888-373-7888. Web: example.org/help In an emergency call 911. Msg & data rates may "
        "apply. Reply STOP to opt out."
    )
    assert stopped == (
        "Freedom Network: you are unsubscribed and will get no more texts from us. Reply START "
        "to text with us again."
    )
    assert help_after_stop == (
        "Freedom Network: text us here and a trained advocate will answer. You can also call "
        "1-888-373-7888. Web: example.org/help In an emergency call 911. You are unsubscribed. "
        "Reply START to text with us again."
    )

    spanish = new_phone()
    for body in ("hola", "INFO", "PARAR"):  # AYUDA to a question is also a call for help
        text_in(app, spanish, body)
    bienvenida, ayuda, baja = sent_to(app, spanish)
    assert bienvenida.startswith("Hola, gracias por escribir.")
    assert ayuda.startswith("Red Libertad: puede escribirnos y le va a responder una persona")
    assert "Puede llamarnos al 1-888-373-7888. Web: example.org/help" in ayuda
    assert baja.startswith("Red Libertad: se ha dado de baja. No le enviaremos otros mensajes.")

    english_then_ayuda = new_phone()
    for body in ("hi", "STOP", "AYUDA"):
        text_in(app, english_then_ayuda, body)
    assert sent_to(app, english_then_ayuda)[-1] == (
        "Red Libertad: puede escribirnos y le va a responder una persona de apoyo. Puede llamarnos "
        "al 1-888-373-7888. Web: example.org/help En una emergencia llame al 911. Se ha dado de "
        "baja. Responda START para volver a escribirnos."
    )


def test_texts_are_processed_in_order_whichever_task_runs_first(app: Flask) -> None:
    phone = new_phone()
    client = app.test_client()
    for body in ("hi", "no", "yes"):
        post_signed(client, "/twilio/sms", sms_form(phone, body))
    inbound = messages_of(app, phone)
    runtime = runtime_of(app)
    # The task for the last text gets the lock first: it handles all three, oldest first.
    with runtime.sessions.begin() as session:
        processed = process_pending(session, runtime.triage, inbound[-1].id, runtime.clock.now())
    assert processed == [m.id for m in inbound]
    for message in inbound[:2]:
        with runtime.sessions.begin() as session:
            again = process_pending(session, runtime.triage, message.id, runtime.clock.now())
            assert again == [] and after_commit.registered(session).to_send == []
    assert conversation(app, phone).state is State.AWAIT_NEEDS


def test_sweep_hands_over_only_stranded_work(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, settings_overrides={"sweep_grace_seconds": 0.0001})
    phone = new_phone()
    client = app.test_client()
    post_signed(client, "/twilio/sms", sms_form(phone, "one"))
    post_signed(client, "/twilio/sms", sms_form(phone, "two"))
    runtime = runtime_of(app)
    fresh = InProcessQueue(start=False)
    use_in_process_queue(runtime, fresh)

    jobs.sweep(runtime)

    first = messages_of(app, phone)[0]
    handed = [arg for name, arg in fresh.pending() if name == "hotline.process_inbound"]
    assert first.id in handed  # one task per texter is enough: it handles both texts
    fresh.run_due()
    inbound = [m for m in messages_of(app, phone) if m.direction is Direction.INBOUND]
    assert all(m.processed_at is not None for m in inbound)
    again = InProcessQueue(start=False)
    use_in_process_queue(runtime, again)
    jobs.sweep(runtime)
    mine = {m.id for m in messages_of(app, phone)}
    assert not [arg for _, arg in again.pending() if arg in mine]


def test_sweep_hands_nothing_over_while_tasks_wait_for_a_worker(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    """Under a surge the queue is longer than the grace period: what looks stranded is waiting
    its turn, and handing it over again would only lengthen the line."""
    app = make_app(database_url, settings_overrides={"sweep_grace_seconds": 0.0001})
    phone = new_phone()
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "one"))
    runtime = runtime_of(app)
    behind = InProcessQueue(start=False)
    use_in_process_queue(runtime, behind)
    behind.process_inbound(10**9)  # someone else's task, still waiting for a worker

    jobs.sweep(runtime)

    assert behind.pending() == [("hotline.process_inbound", 10**9)]
    behind.run_due()  # the workers catch up; the next sweep hands the stranded text over
    jobs.sweep(runtime)
    [first] = messages_of(app, phone)
    assert behind.pending() == [("hotline.process_inbound", first.id)]


def test_no_reply_is_stranded_after_processing(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        unsent = session.scalars(
            select(Message).where(
                Message.texter_id == texter_of(app, phone).id,  # type: ignore[union-attr]
                Message.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING]),
            )
        ).all()
    assert unsent == []


def test_operators_can_replace_the_risk_lexicon(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    for language in ("en", "es"):
        (tmp_path / f"lexicon_{language}.toml").write_text(
            'urgent_at = 60\nhigh_at = 30\nemergency = ["pineapple"]\n[weights]\n"mango" = 35\n'
        )
    app = make_app(
        database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"lexicon_dir": str(tmp_path)},
    )
    calm, alarmed = new_phone(), new_phone()
    text_in(app, calm, "they took my passport, I like mango")
    assert conversation(app, calm).priority is Priority.HIGH
    assert conversation(app, calm).risk_reasons == ["mango (+35)"]
    text_in(app, alarmed, "hello")
    text_in(app, alarmed, "pineapple")
    assert sent_to(app, alarmed)[-2] == said(app, "emergency")
    assert conversation(app, alarmed).priority is Priority.URGENT


def test_espanol_while_queued_switches_later_texts(app: Flask, clock: FakeClock) -> None:
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help", "skip"):
        text_in(app, phone, body)
    before = len(sent_to(app, phone))
    text_in(app, phone, "español")
    assert len(sent_to(app, phone)) == before  # no reply: they are waiting
    assert conversation(app, phone).language == "es"
    text_in(app, phone, "hola?")
    assert sent_to(app, phone)[-1] == said_with(app, "queued_ack", "es", position=1)
