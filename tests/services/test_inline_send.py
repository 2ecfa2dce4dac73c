"""The inbound task sends the replies it stores itself, in order, at once; what cannot go at
once goes to the send task, and nothing is sent twice or left behind.

Runs on both databases, driving the in-process queue by hand.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.event import listen, remove
from sqlalchemy.exc import OperationalError

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Message
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import PROCESS_INBOUND, SEND_MESSAGE, InProcessQueue
from hotline.sms.sender import Accepted, LocalSender, OutboundText, RetryableSendError
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import bodies, messages_of, post_signed, sms_form
from tests.texting import reply, said

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
    make_app: Callable[..., Flask],
    isolated_database_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
    runtime = runtime_of(app)
    real_send = runtime.dispatcher.send_claimed

    def database_gone(claimed: object) -> object:
        raise OperationalError("UPDATE messages", {}, Exception("server closed the connection"))

    monkeypatch.setattr(runtime.dispatcher, "send_claimed", database_gone)
    phone = new_phone()

    text_and_process(app, phone, EMERGENCY)

    stored = replies(app, phone)
    # The first was claimed with its store and may or may not be with Twilio: it stays claimed
    # until the lease runs out and Twilio is asked. The second is put back, untried.
    assert [status for _, status in stored] == [DeliveryStatus.SUBMITTING, DeliveryStatus.PENDING]
    assert queue(app).pending() == [(SEND_MESSAGE, message_id) for message_id, _ in stored]
    assert [text for _, text, _ in sender(app).outbox if text.to == phone] == []

    monkeypatch.setattr(runtime.dispatcher, "send_claimed", real_send)  # the database is back
    assert jobs.send_message(runtime, stored[0][0]) is not None  # claimed: waits for the lease
    clock.advance(runtime.dispatcher.policy.lease_seconds)
    for message_id, _ in stored:
        assert jobs.send_message(runtime, message_id) is None
    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert sent == bodies(
        app, [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    )


# Claimed with their store: the inbound task writes its replies "submitting" in the transaction
# that stores them, and sends them once it commits, with no claim of their own. What the claim
# would refuse, or order behind an older reply, goes the usual way.


class KilledMidSend(LocalSender):
    """The worker's process dying in the call to Twilio: nothing after it runs. With
    ``took_it`` Twilio had taken the text (the answer never came back)."""

    def __init__(self, clock: FakeClock, *, took_it: bool) -> None:
        super().__init__(clock.now)
        self.took_it = took_it
        self.kill = True

    def send(self, text: OutboundText) -> Accepted:
        if self.kill:
            self.kill = False
            if self.took_it:
                super().send(text)
            raise Killed
        return super().send(text)


class Killed(BaseException):
    """Not an Exception: nothing in the worker catches it, as nothing survives a SIGKILL."""


def store(app: Flask, phone: str, *texts: str) -> list[int]:
    """The webhook stores each text; no task runs. Their ids. What is handed over from here on
    waits in a new queue, running the real jobs when asked to."""
    client = app.test_client()
    for body in texts:
        assert post_signed(client, "/twilio/sms", sms_form(phone, body)).status_code == 200
    handed = [i for name, i in queue(app).pending() if name == PROCESS_INBOUND]
    assert len(handed) == len(texts)
    jobs.use_in_process_queue(runtime_of(app), InProcessQueue(start=False))
    return handed


def run_handed(app: Flask) -> None:
    """Run what was handed over, delays and all, until nothing is left (bounded)."""
    for _ in range(20):
        if not queue(app).run_due(include_delayed=True):
            return
    raise AssertionError("tasks kept handing work over")


def test_a_first_texts_reply_leaves_in_two_commits_and_is_recorded_sent(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    [message_id] = store(app, phone, "hello, I need help")
    # Counted as connections taken from the pool, one per transaction: Twilio's answer is
    # recorded on a driver cursor (Dispatcher._record_accepted), where no "commit" event fires.
    transactions: list[object] = []

    def taken(*args: object) -> None:
        transactions.append(args)

    listen(runtime.engine, "checkout", taken)
    try:
        jobs.process_inbound(runtime, message_id)
    finally:
        remove(runtime.engine, "checkout", taken)
    [(reply_id, status)] = replies(app, phone)
    assert status is DeliveryStatus.SENT
    with runtime.sessions() as session:
        reply = session.get(Message, reply_id)
        assert reply is not None and reply.send_attempts == 1 and reply.twilio_sid
    # The store with the claim, then Twilio's answer: no transaction of the claim's own.
    assert len(transactions) == 2
    assert len([t for _, t, _ in sender(app).outbox if t.to == phone]) == 1


def test_a_reply_stored_before_a_stop_handled_in_the_same_task_is_never_sent(app: Flask) -> None:
    phone = new_phone()
    first, _stop = store(app, phone, "hello, I need help", "STOP")

    jobs.process_inbound(runtime_of(app), first)  # handles both, oldest first
    run_handed(app)

    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert sent == [said(app, "stop_confirmation")]
    statuses = [status for _, status in replies(app, phone)]
    assert statuses == [DeliveryStatus.CANCELED, DeliveryStatus.SENT]


def test_an_erasure_asked_in_the_same_task_claims_nothing_and_sends_only_its_confirmation(
    app: Flask,
) -> None:
    phone = new_phone()
    first, _delete = store(app, phone, "hello, I need help", "DELETE")

    jobs.process_inbound(runtime_of(app), first)
    run_handed(app)

    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert sent == [said(app, "deleted")]


def test_replies_wait_behind_an_older_unsent_reply_and_leave_after_it(app: Flask) -> None:
    phone = new_phone()
    older = reply(app, phone, "an older reply, not yet sent")
    [message_id] = store(app, phone, "hello, I need help")

    jobs.process_inbound(runtime_of(app), message_id)

    # Not claimed with its store: the claim orders it behind the older reply.
    [(welcome_id, status)] = [r for r in replies(app, phone) if r[0] != older]
    assert status is DeliveryStatus.PENDING
    assert sender(app).outbox == [] or all(t.to != phone for _, t, _ in sender(app).outbox)
    assert queue(app).pending() == [(SEND_MESSAGE, welcome_id)]
    runtime = runtime_of(app)
    assert jobs.send_message(runtime, older) is None
    assert jobs.send_message(runtime, welcome_id) is None
    sent = [text.body for _, text, _ in sender(app).outbox if text.to == phone]
    assert sent[0] == "an older reply, not yet sent" and len(sent) == 2


@pytest.mark.parametrize("took_it", [False, True], ids=["before-twilio", "after-twilio"])
def test_a_worker_killed_mid_send_leaves_its_claimed_replies_to_the_sweep_each_sent_once(
    make_app: Callable[..., Flask],
    isolated_database_url: str,
    clock: FakeClock,
    took_it: bool,
) -> None:
    carrier = KilledMidSend(clock, took_it=took_it)
    app = make_app(isolated_database_url, clock=clock, sender=carrier)
    runtime = runtime_of(app)
    phone = new_phone()
    [message_id] = store(app, phone, EMERGENCY)

    with pytest.raises(Killed):
        jobs.process_inbound(runtime, message_id)

    # Committed with their claim: both wait for the lease, neither is pending for a new claim.
    assert [status for _, status in replies(app, phone)] == [DeliveryStatus.SUBMITTING] * 2
    jobs.sweep(runtime)
    assert queue(app).pending() == []  # the lease has not run out: nothing to hand over yet

    clock.advance(runtime.dispatcher.policy.lease_seconds + runtime.settings.sweep_grace_seconds)
    jobs.sweep(runtime)
    assert sorted(queue(app).pending()) == [(SEND_MESSAGE, i) for i, _ in replies(app, phone)]
    run_handed(app)

    sent = [text.body for _, text, _ in carrier.outbox if text.to == phone]
    stored = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    assert sent == bodies(app, stored)  # each once, in order, whether Twilio had the first
    assert [status for _, status in replies(app, phone)] == [DeliveryStatus.SENT] * 2


def test_when_a_claimed_reply_cannot_go_those_claimed_after_it_wait_for_it(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, sender=BusyOnce())
    phone = new_phone()
    [message_id] = store(app, phone, EMERGENCY)

    jobs.process_inbound(runtime_of(app), message_id)

    first, second = replies(app, phone)
    assert (first[1], second[1]) == (DeliveryStatus.PENDING, DeliveryStatus.PENDING)
    with runtime_of(app).sessions() as session:
        later = session.get(Message, second[0])
        assert later is not None and later.send_attempts == 0  # put back untried
    assert [t for _, t, _ in sender(app).outbox if t.to == phone] == []
