"""The production stack, really started: gunicorn, PostgreSQL, Redis, a celery worker and beat,
and the real twilio client talking to a local fake of Twilio's API.

A text goes in through ``/twilio/sms`` over HTTP and comes out at the fake API; the fake's
status callbacks come back through ``/twilio/status``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import inspect, select, text

from hotline.db.models import Conversation, Event, EventDetail, Message, Texter
from hotline.domain.delivery import DeliveryStatus, Direction
from tests.conftest import new_phone
from tests.helpers import sms_form
from tests.support.production_stack import SHORT_CODE, Stack, converse, start_stack
from tests.support.stack import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

UNSTAFFED = "Thank you. No advocate is free right now, so we can't say how long the wait will be."


@pytest.fixture(scope="module")
def stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with start_stack(postgres_url, tmp_path_factory.mktemp("stack")) as started:
        yield started


def test_text_is_answered_through_twilio_and_delivery_is_recorded(stack: Stack) -> None:
    phone = new_phone()
    started = time.monotonic()
    response = stack.text(phone, "hello, I need help")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")

    [reply] = stack.wait_for_replies(phone, 1)
    elapsed = time.monotonic() - started
    print(f"webhook to fake Twilio API: {elapsed * 1000:.0f} ms")
    assert "Are you in danger right now? Reply YES or NO." in reply
    [message] = [m for m in stack.fake.messages if m.to == phone]
    assert message.from_ == SHORT_CODE
    assert message.status_callback is not None and "/twilio/status" in message.status_callback

    def delivered() -> bool:
        outbound = [m for m in stack.messages_of(phone) if m.direction is Direction.OUTBOUND]
        return len(outbound) == 1 and outbound[0].status is DeliveryStatus.DELIVERED

    wait_until(delivered, 10, "the delivered status callback")
    outbound = [m for m in stack.messages_of(phone) if m.direction is Direction.OUTBOUND]
    assert outbound[0].twilio_sid == message.sid


def test_fifty_concurrent_deliveries_of_one_sid_store_one_text_and_send_one_reply(
    stack: Stack,
) -> None:
    phone = new_phone()
    form = sms_form(phone, "the same text, fifty times")
    barrier = threading.Barrier(50)
    codes: list[int] = []

    def deliver() -> None:
        barrier.wait()
        codes.append(stack.post("/twilio/sms", form).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [200] * 50
    stack.wait_for_replies(phone, 1)
    time.sleep(3)  # give a wrong second reply every chance to show up, sweep included
    assert len(stack.replies_to(phone)) == 1
    inbound = [m for m in stack.messages_of(phone) if m.direction is Direction.INBOUND]
    assert len(inbound) == 1


def test_texts_from_one_texter_are_processed_in_order(stack: Stack) -> None:
    # Sent back to back, without waiting for answers: only in-order, one-at-a-time processing
    # gives this exact conversation, whichever worker process takes which text.
    phone = new_phone()
    turns = ["hi", "no", "yes", "I cannot leave the house", "10001"]
    for turn in turns:
        assert stack.text(phone, turn).status_code == 200
    replies = stack.wait_for_replies(phone, 5)
    assert replies[0].startswith("Hi, thanks for texting.")
    assert replies[1].startswith("Is it safe for you to text right now?")
    assert replies[2].startswith("Thank you. In a few words")
    assert replies[3].startswith("What city, state or ZIP code")
    assert replies[4].startswith(UNSTAFFED)
    inbound = [m for m in stack.messages_of(phone) if m.direction is Direction.INBOUND]
    assert len({m.conversation_id for m in inbound}) == 1
    time.sleep(1)
    assert len(stack.replies_to(phone)) == 5


def test_redis_down_texts_are_stored_and_answered_when_it_returns(stack: Stack) -> None:
    phones = [new_phone() for _ in range(5)]
    stack.redis.stop()
    try:
        for phone in phones:
            started = time.monotonic()
            response = stack.text(phone, "hello while the broker is down")
            assert response.status_code == 200
            assert time.monotonic() - started < 5
        for phone in phones:
            [message] = stack.messages_of(phone)
            assert message.processed_at is None
        assert all(stack.replies_to(phone) == [] for phone in phones)
    finally:
        stack.redis.start()

    for phone in phones:
        stack.wait_for_replies(phone, 1, timeout=60)
    time.sleep(3)
    assert [len(stack.replies_to(phone)) for phone in phones] == [1] * 5


def test_no_phone_number_or_text_in_clear_in_database_or_logs(stack: Stack) -> None:
    phone = new_phone()
    body = "my secret words 7731"
    assert stack.text(phone, body).status_code == 200
    stack.wait_for_replies(phone, 1)
    time.sleep(1)
    digits = phone.lstrip("+")

    with stack.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            dump = (
                connection.execute(
                    text(f"SELECT string_agg(t::text, '\n') FROM \"{table}\" t")
                ).scalar()
                or ""
            )
            assert digits not in dump, table
            assert body not in dump, table
    logs = stack.logs()
    assert "hotline.process_inbound" in logs  # the worker's log really is captured
    assert digits not in logs
    assert phone not in logs
    assert body not in logs


def test_whole_conversation_in_english_through_the_worker(stack: Stack) -> None:
    phone = new_phone()
    replies = converse(stack, phone, ["HELP", "no", "yes", "they took my passport", "TX"])
    assert replies[0].startswith("Hi, thanks for texting.")
    assert replies[1].startswith("Is it safe for you to text right now?")
    assert replies[2].startswith("Thank you. In a few words")
    assert replies[3].startswith("What city, state or ZIP code")
    assert replies[4].startswith(UNSTAFFED)


def test_whole_conversation_in_spanish_with_an_emergency_mid_triage(stack: Stack) -> None:
    phone = new_phone()
    replies = converse(stack, phone, ["AYUDA", "no"])
    assert replies[0].startswith("Hola, gracias por escribir.")
    assert replies[1].startswith("¿Es seguro para usted escribir ahora?")
    assert stack.text(phone, "tiene una pistola y esta aqui").status_code == 200
    replies = stack.wait_for_replies(phone, 4)
    assert replies[2].startswith("Si corre peligro ahora, llame al 911")
    assert replies[3].startswith("Gracias. Ahora no hay nadie de apoyo libre")


def test_stop_while_queued_silences_everything_until_start(stack: Stack) -> None:
    phone = new_phone()
    converse(stack, phone, ["hi", "yes"])  # in danger: queued at once
    replies = converse(stack, phone, ["STOP"])
    assert replies[-1].startswith("Anti-Trafficking Hotline: you are unsubscribed")
    assert stack.text(phone, "hello?").status_code == 200
    time.sleep(2)
    assert len(stack.replies_to(phone)) == len(replies)
    replies = converse(stack, phone, ["START"])
    assert replies[-1].startswith("Anti-Trafficking Hotline: you are subscribed again.")


def test_safe_word_through_the_worker_wipes_the_conversation(stack: Stack) -> None:
    phone = new_phone()
    converse(stack, phone, ["hi", "no", "yes", "my husband reads my phone"])
    texter_id = stack.messages_of(phone)[0].texter_id
    replies = converse(stack, phone, ["Clear"])
    assert replies[-1] == (
        "Done. Text us any time. You can also delete this thread from your phone."
    )
    assert stack.messages_of(phone) == []  # the number leads to nothing any more
    with stack.engine.connect() as connection:
        kept = connection.scalars(
            select(Message.body_ciphertext).where(
                Message.texter_id == texter_id, Message.body_ciphertext.is_not(None)
            )
        ).all()
        values = connection.scalars(
            select(EventDetail.detail).where(
                EventDetail.texter_id == texter_id, EventDetail.detail.is_not(None)
            )
        ).all()
    # Only the confirmation, until the sweep sees it sent; only the tombstone's values.
    assert [stack.vault.decrypt(body) for body in kept] in ([replies[-1]], [])
    assert [value.get("by") for value in values] == ["safe_word"]


def test_triage_silence_closes_on_a_real_timer(stack: Stack) -> None:
    phone = new_phone()
    converse(stack, phone, ["hello"])
    replies = stack.wait_for_replies(phone, 2, timeout=40)
    assert replies[1].startswith("We haven't heard back, so we've closed this chat")


def test_survey_after_an_advocate_answers_and_closes(stack: Stack) -> None:
    """The survey goes once the reopen window is over, on the real beat, and only because an
    advocate answered the texter (never to one nobody answered, nor to an urgent one)."""
    from hotline import create_app, runtime_of
    from hotline.db.models import StaffUser
    from hotline.services.claims import do_claim
    from hotline.services.console import Console
    from hotline.services.handling import Handling
    from hotline.services.staff import do_create_staff

    phone = new_phone()
    converse(stack, phone, ["hi", "no", "yes", "I need a job", "skip"])  # queued, not urgent
    app = create_app({"settings": stack.settings})
    runtime = runtime_of(app)
    try:
        with runtime.sessions.begin() as session:
            advocate = do_create_staff(
                session,
                f"adv-{phone[2:]}@example.org",
                "a long password!",
                "advocate",
                runtime.clock.now(),
            )
            # As if their console had just polled: the beat's presence job hands the texters
            # of an advocate whose console never polled back to the queue (a race under load).
            advocate.console_seen_at = runtime.clock.now()
            advocate_id = advocate.id
            texter_id = session.scalar(
                select(Texter.id).where(Texter.phone_hash == stack.vault.phone_hash(phone))
            )
            conversation_id = session.scalar(
                select(Conversation.id).where(Conversation.texter_id == texter_id)
            )
            assert conversation_id is not None
        with runtime.sessions.begin() as session:
            do_claim(session, runtime.triage, conversation_id, advocate_id, runtime.clock.now())
        handling = Handling(Console(runtime.triage, runtime.settings.capacity))
        with runtime.sessions.begin() as session:
            user = session.get(StaffUser, advocate_id)
            assert user is not None
            handling.reply(session, user, conversation_id, "We can help.", runtime.clock.now())
        with runtime.sessions.begin() as session:
            user = session.get(StaffUser, advocate_id)
            assert user is not None
            handling.close(
                session, user, conversation_id, "safety_planning", "", runtime.clock.now()
            )
        # welcome, three questions, queued, the advocate's reply, then the survey
        replies = stack.wait_for_replies(phone, 7)
        assert replies[5] == "We can help."
        assert replies[-1].startswith("Thank you for talking with us. How helpful was this chat")
        replies = converse(stack, phone, ["4"])
        assert replies[-1] == "Thank you. Text us any time you need us."
        with runtime.sessions() as session:
            closed = session.get(Conversation, conversation_id)
            assert closed is not None and closed.survey_score == 4
    finally:
        runtime.engine.dispose()
        app.extensions["celery"].close()


def conversation_of(stack: Stack, phone: str) -> Conversation:
    from sqlalchemy.orm import Session

    with Session(stack.engine) as session:
        found = session.scalars(
            select(Conversation)
            .join(Texter, Texter.id == Conversation.texter_id)
            .where(Texter.phone_hash == stack.vault.phone_hash(phone))
            .order_by(Conversation.id.desc())
        ).first()
        assert found is not None
        return found


def alerts_of(stack: Stack, conversation_id: int) -> list[str]:
    with stack.engine.connect() as connection:
        rows = connection.execute(
            select(EventDetail.detail)
            .join(Event, Event.id == EventDetail.event_id)
            .where(Event.kind == "alert", Event.conversation_id == conversation_id)
        )
        return [detail["alert"] for (detail,) in rows]


def test_emergency_words_while_queued_get_the_guidance_and_an_alert(stack: Stack) -> None:
    """The defect: once queued, "he is here" got no text at all and no alert."""
    phone = new_phone()
    replies = converse(stack, phone, ["hi", "no", "yes", "I need a job", "skip"])
    assert replies[-1].startswith("Thank you. No advocate is free right now")
    replies = converse(stack, phone, ["he is here"])
    assert replies[-1].startswith("If you are in danger now, call 911")
    queued = conversation_of(stack, phone)
    assert queued.state.value == "queued" and queued.priority.value == "urgent"
    assert queued.emergency_at is not None
    assert alerts_of(stack, queued.id) == ["emergency"]
    # Again at once: recorded and alerted, but the texter's phone does not buzz again.
    assert stack.text(phone, "he has a knife").status_code == 200
    wait_until(lambda: len(alerts_of(stack, queued.id)) == 2, 15, "the second alert")
    stack.wait_until_settled(phone)
    assert stack.replies_to(phone) == replies


def test_an_urgent_disclosure_then_silence_is_queued_on_a_real_timer(stack: Stack) -> None:
    """The defect: closed by the triage timer ("we haven't heard back") and never queued."""
    phone = new_phone()
    replies = converse(stack, phone, ["I can't leave, they took my passport and say I owe them"])
    assert replies[0].startswith("Hi, thanks for texting.")

    def held() -> bool:
        return conversation_of(stack, phone).state.value == "queued"

    wait_until(held, 40, "the silent urgent texter queued by the triage timer")
    kept = conversation_of(stack, phone)
    assert kept.status.value == "open" and kept.closed_at is None
    assert alerts_of(stack, kept.id) == ["held"]
    time.sleep(2)
    assert stack.replies_to(phone) == replies, "silence is not answered with a text"


def test_nobody_on_shift_the_texter_is_told_honestly_and_never_released(stack: Stack) -> None:
    phone = new_phone()
    replies = converse(stack, phone, ["hi", "no", "yes", "I need help with my papers", "skip"])
    honest = re.fullmatch(
        r"Thank you\. No advocate is free right now, so we can't say how long the wait will be\. "
        r"You are number (\d+) in line and keep your place\. If you are in danger, call 911\. "
        r"Reply STOP to opt out\.",
        replies[-1],
    )  # others in this module wait too: the number is theirs to set
    assert honest is not None, replies[-1]
    assert "soon" not in replies[-1] and " min" not in replies[-1]
    # Three times the silence that would ask "still there?" and release them, were anyone on
    # shift: beat fires their timers every second, and nothing is sent.
    time.sleep(20)
    assert len(stack.replies_to(phone)) == 5
    with stack.engine.connect() as connection:
        texter_id = connection.scalar(
            select(Texter.id).where(Texter.phone_hash == stack.vault.phone_hash(phone))
        )
        state, status, timer = connection.execute(
            select(Conversation.state, Conversation.status, Conversation.timer).where(
                Conversation.texter_id == texter_id
            )
        ).one()
    assert (state.value, status.value, timer) == ("queued", "open", "wait_update")
    # Their next text is acknowledged, with their place in line.
    replies = converse(stack, phone, ["hello? anyone?"])
    assert replies[-1] == f"We got your message. You are number {honest.group(1)} in line."


def test_healthz_reports_database_and_broker(stack: Stack) -> None:
    with requests.get(stack.public_url + "/healthz", timeout=5) as response:
        assert response.status_code == 200
        assert response.json() == {"database": "ok", "broker": "ok"}
