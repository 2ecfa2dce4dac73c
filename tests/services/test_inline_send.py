"""The inbound task sends the replies it stores itself, in order, at once; what cannot go at
once goes to the send task, and nothing is sent twice or left behind.

Runs on both databases, driving the in-process queue by hand.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Message
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import PROCESS_INBOUND, SEND_MESSAGE, InProcessQueue
from hotline.sms.sender import Accepted, LocalSender, OutboundText, RetryableSendError
from tests.conftest import new_phone
from tests.helpers import bodies, messages_of, post_signed, sms_form

EMERGENCY = "he has a gun and he is here"  # the guidance, then their place: two replies


class BusyOnce(LocalSender):
    """Twilio answering 429 to the first text sent, then taking every text."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def send(self, text: OutboundText) -> Accepted:
        if not self.refused:
            self.refused += 1
            raise RetryableSendError("429 Too Many Requests", retry_after=30.0)
        return super().send(text)


def queue(app: Flask) -> InProcessQueue:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    return tasks


def sender(app: Flask) -> LocalSender:
    carrier = runtime_of(app).sender
    assert isinstance(carrier, LocalSender)
    return carrier


def text_and_process(app: Flask, phone: str, body: str) -> None:
    """The webhook stores the text; then only the inbound task runs, nothing it hands over."""
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    [(name, message_id)] = queue(app).pending()
    assert name == PROCESS_INBOUND
    runtime_of(app).tasks = InProcessQueue(start=False)  # what the task hands over lands here
    handed = queue(app)
    handed.bind({PROCESS_INBOUND: lambda _: None, SEND_MESSAGE: lambda _: None})
    jobs.process_inbound(runtime_of(app), message_id)


def replies(app: Flask, phone: str) -> list[tuple[int, DeliveryStatus]]:
    return [(m.id, m.status) for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]


def test_the_inbound_task_sends_its_replies_in_order_without_a_send_task(app: Flask) -> None:
    phone = new_phone()

    text_and_process(app, phone, EMERGENCY)

    stored = replies(app, phone)
    assert len(stored) == 2  # the guidance, then their place in line
    assert all(status is DeliveryStatus.SENT for _, status in stored)
    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert sent == bodies(
        app, [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    )
    assert queue(app).pending() == []  # no send task: all went from the inbound task


def test_a_reply_twilio_refuses_for_now_goes_to_the_send_task_and_leaves_once(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, sender=BusyOnce())
    phone = new_phone()

    text_and_process(app, phone, EMERGENCY)

    first, *later = replies(app, phone)
    assert first[1] is DeliveryStatus.PENDING  # refused for now, waits for its retry
    assert all(status is DeliveryStatus.PENDING for _, status in later)  # behind the older one
    handed = [(SEND_MESSAGE, message_id) for message_id, _ in [first, *later]]
    assert sorted(queue(app).pending()) == handed
    assert queue(app).run_due() == 0  # the retry waits the delay Twilio asked for

    runtime = runtime_of(app)
    assert jobs.send_message(runtime, first[0]) is not None  # not yet: next_attempt_at
    with runtime.sessions.begin() as session:
        message = session.get(Message, first[0])
        assert message is not None
        message.next_attempt_at = None  # the delay has passed
    for message_id, _ in [first, *later]:
        assert jobs.send_message(runtime, message_id) is None
    assert jobs.send_message(runtime, first[0]) is None  # a repeated task sends nothing

    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert len(sent) == 2
    assert [status for _, status in replies(app, phone)] == [DeliveryStatus.SENT] * 2


def test_a_database_error_mid_send_hands_every_unsent_reply_over(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_of(app)
    real_send = runtime.dispatcher.send

    def database_gone(message_id: int) -> object:
        raise OperationalError("UPDATE messages", {}, Exception("server closed the connection"))

    monkeypatch.setattr(runtime.dispatcher, "send", database_gone)
    phone = new_phone()

    text_and_process(app, phone, EMERGENCY)

    stored = replies(app, phone)
    assert [status for _, status in stored] == [DeliveryStatus.PENDING] * 2
    assert queue(app).pending() == [(SEND_MESSAGE, message_id) for message_id, _ in stored]
    assert [text for _, text, _ in sender(app).outbox if text.to == phone] == []

    monkeypatch.setattr(runtime.dispatcher, "send", real_send)  # the database is back
    for message_id, _ in stored:
        assert jobs.send_message(runtime, message_id) is None
    assert len([text for _, text, _ in sender(app).outbox if text.to == phone]) == 2
