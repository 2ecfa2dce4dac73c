"""A text's way from storage through the worker to the carrier, on both databases.

These drive the in-process queue by hand (``run_due``), so every step is visible.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from hotline import jobs, runtime_of
from hotline.catalogue import text as catalogue_text
from hotline.db.models import ConversationStatus, Message
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.runtime import use_in_process_queue
from hotline.services.process import process_pending
from hotline.sms.sender import LocalSender
from hotline.taskqueue import InProcessQueue
from tests.conftest import new_phone
from tests.helpers import (
    bodies,
    conversations_of,
    events_of,
    messages_of,
    post_signed,
    sms_form,
    texter_of,
)


def text_in(app: Flask, phone: str, body: str) -> None:
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200


def run(app: Flask) -> int:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    return tasks.run_due()


def sent_to(app: Flask, phone: str) -> list[str]:
    sender = runtime_of(app).sender
    assert isinstance(sender, LocalSender)
    return [text.body for _, text, _ in sender.outbox if text.to == phone]


def test_first_text_opens_a_conversation_and_is_acknowledged_once(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hello?")
    run(app)
    text_in(app, phone, "is anyone there")
    run(app)

    assert sent_to(app, phone) == [catalogue_text("acknowledgement")]
    [conversation] = conversations_of(app, phone)
    assert conversation.status is ConversationStatus.OPEN
    inbound = [m for m in messages_of(app, phone) if m.direction is Direction.INBOUND]
    assert all(m.processed_at is not None for m in inbound)
    assert {m.conversation_id for m in inbound} == {conversation.id}
    [outbound] = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    assert outbound.status is DeliveryStatus.SENT
    assert outbound.twilio_sid is not None and outbound.twilio_sid.startswith("SM")
    assert [e.kind for e in events_of(app, phone)] == ["conversation_opened"]


def test_texts_are_processed_in_order_whichever_task_runs_first(app: Flask) -> None:
    phone = new_phone()
    for body in ("one", "two", "three"):
        text_in(app, phone, body)
    inbound = messages_of(app, phone)
    runtime = runtime_of(app)

    # The task for the last text gets the lock first: it handles all three, oldest first.
    with runtime.sessions.begin() as session:
        outcome = process_pending(session, runtime.vault, inbound[-1].id, runtime.clock.now())
    assert outcome.processed == [m.id for m in inbound]
    # The other two tasks find nothing left to do.
    for message in inbound[:2]:
        with runtime.sessions.begin() as session:
            again = process_pending(session, runtime.vault, message.id, runtime.clock.now())
        assert again.processed == [] and again.to_send == []
    assert len(outcome.to_send) == 1


def test_processing_twice_sends_nothing_more(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    [message] = messages_of(app, phone)
    runtime = runtime_of(app)
    jobs.process_inbound(runtime, message.id)
    jobs.process_inbound(runtime, message.id)
    run(app)
    assert len(sent_to(app, phone)) == 1


def test_stop_confirms_once_closes_and_silences_everything_until_start(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hello")
    run(app)
    runtime = runtime_of(app)
    texter = texter_of(app, phone)
    assert texter is not None
    # A reply is waiting to go out when STOP arrives: it must never be sent.
    with runtime.sessions.begin() as session:
        from hotline.services.process import open_conversation, queue_text

        fresh = session.get(type(texter), texter.id)
        assert fresh is not None
        waiting = queue_text(
            session,
            runtime.vault,
            fresh,
            open_conversation(session, fresh),
            "an advocate's reply",
            runtime.clock.now(),
        ).id

    text_in(app, phone, " Stop. ")
    run(app)
    jobs.send_message(runtime, waiting)
    text_in(app, phone, "STOP")
    text_in(app, phone, "are you still there?")
    run(app)

    assert sent_to(app, phone) == [
        catalogue_text("acknowledgement"),
        catalogue_text("stop_confirmation"),
    ]
    with runtime.sessions() as session:
        assert session.get(Message, waiting).status is DeliveryStatus.CANCELED  # type: ignore[union-attr]
    [conversation] = conversations_of(app, phone)
    assert conversation.status is ConversationStatus.CLOSED
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out

    text_in(app, phone, "START")
    run(app)
    assert sent_to(app, phone)[-1] == catalogue_text("start_confirmation")
    texter = texter_of(app, phone)
    assert texter is not None and not texter.opted_out
    kinds = [e.kind for e in events_of(app, phone)]
    assert kinds.count("opt_out") == 1 and kinds.count("opt_in") == 1


def test_a_sentence_containing_stop_is_not_an_opt_out(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "please don't stop answering me")
    run(app)
    texter = texter_of(app, phone)
    assert texter is not None and not texter.opted_out
    assert sent_to(app, phone) == [catalogue_text("acknowledgement")]


def test_returning_texter_gets_a_new_conversation(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "first time")
    run(app)
    text_in(app, phone, "STOP")
    run(app)
    text_in(app, phone, "START")
    text_in(app, phone, "I am back")
    run(app)

    first, second = conversations_of(app, phone)
    assert first.status is ConversationStatus.CLOSED
    assert second.status is ConversationStatus.OPEN
    opened = [e for e in events_of(app, phone) if e.kind == "conversation_opened"]
    assert [e.detail["returning_texter"] for e in opened] == [False, True]


def test_sweep_hands_over_only_stranded_work(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, settings_overrides={"sweep_grace_seconds": 0.0001})
    phone = new_phone()
    text_in(app, phone, "one")
    text_in(app, phone, "two")
    runtime = runtime_of(app)
    fresh = InProcessQueue(start=False)
    use_in_process_queue(runtime, fresh)

    jobs.sweep(runtime)

    [inbound_first, _] = messages_of(app, phone)
    handed = [arg for name, arg in fresh.pending() if name == "hotline.process_inbound"]
    assert inbound_first.id in handed  # one task per texter is enough: it handles both texts
    fresh.run_due()
    assert all(m.processed_at is not None for m in messages_of(app, phone)[:2])
    assert bodies(app, messages_of(app, phone))[:2] == ["one", "two"]
    # Nothing is stranded any more: a second sweep hands over none of this texter's work.
    again = InProcessQueue(start=False)
    use_in_process_queue(runtime, again)
    jobs.sweep(runtime)
    mine = {m.id for m in messages_of(app, phone)}
    assert not [arg for _, arg in again.pending() if arg in mine]


def test_no_reply_is_stranded_after_processing(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    run(app)
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        unsent = session.scalars(
            select(Message).where(
                Message.texter_id == texter_of(app, phone).id,  # type: ignore[union-attr]
                Message.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING]),
            )
        ).all()
    assert unsent == []
