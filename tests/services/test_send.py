"""Sending a reply at most once: retries, refusals, ambiguity, dead workers, opt-outs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from hotline import runtime_of
from hotline.db.models import Texter
from hotline.domain.delivery import DeliveryStatus
from hotline.services.send import SendResult
from hotline.sms.sender import AmbiguousSendError, PermanentSendError, RetryableSendError
from tests.conftest import new_phone
from tests.fakes import FakeClock, ScriptedSender
from tests.helpers import events_of, message, texter_of
from tests.texting import reply


def make(make_app: Callable[..., Flask], url: str, clock: FakeClock, *script: object) -> Flask:
    return make_app(url, sender=ScriptedSender(script, clock), clock=clock)  # type: ignore[arg-type]


def sender_of(app: Flask) -> ScriptedSender:
    sender = runtime_of(app).sender
    assert isinstance(sender, ScriptedSender)
    return sender


def test_send_records_twilio_sid_and_never_sends_twice(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock)
    phone = new_phone()
    message_id = reply(app, phone)
    dispatcher = runtime_of(app).dispatcher

    first = dispatcher.send(message_id)
    second = dispatcher.send(message_id)

    assert first.result is SendResult.SENT
    assert second.result is SendResult.NOTHING
    assert sender_of(app).calls == 1
    sent = message(app, message_id)
    assert sent.status is DeliveryStatus.SENT and sent.twilio_sid is not None
    assert sent.send_attempts == 1


def test_retryable_errors_back_off_then_send_once(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(
        make_app,
        database_url,
        clock,
        RetryableSendError("Twilio answered HTTP 429"),
        RetryableSendError("Twilio answered HTTP 503"),
    )
    message_id = reply(app, new_phone())
    dispatcher = runtime_of(app).dispatcher

    first = dispatcher.send(message_id)
    assert first.result is SendResult.RETRY and first.retry_after > 0
    waiting = message(app, message_id)
    assert waiting.status is DeliveryStatus.PENDING and waiting.next_attempt_at is not None
    # Too early: nothing is sent, the wait is reported again.
    early = dispatcher.send(message_id)
    assert early.result is SendResult.RETRY and sender_of(app).calls == 1

    clock.advance(first.retry_after + 1)
    second = dispatcher.send(message_id)
    assert second.result is SendResult.RETRY
    assert second.retry_after > first.retry_after * 0.8  # exponential, with jitter
    clock.advance(second.retry_after + 1)
    assert dispatcher.send(message_id).result is SendResult.SENT
    assert sender_of(app).calls == 3
    assert len(sender_of(app).outbox) == 1
    assert message(app, message_id).send_attempts == 3


def test_retries_are_bounded(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        database_url,
        sender=ScriptedSender([RetryableSendError("HTTP 500")] * 20),
        clock=clock,
        settings_overrides={"send_max_retries": 2},
    )
    phone = new_phone()
    message_id = reply(app, phone)
    dispatcher = runtime_of(app).dispatcher
    results = []
    for _ in range(5):
        outcome = dispatcher.send(message_id)
        results.append(outcome.result)
        clock.advance(outcome.retry_after + 1)

    assert results[:3] == [SendResult.RETRY, SendResult.RETRY, SendResult.FAILED]
    assert results[3:] == [SendResult.NOTHING, SendResult.NOTHING]
    assert message(app, message_id).status is DeliveryStatus.FAILED
    assert "send_gave_up" in [e.kind for e in events_of(app, phone)]


def test_permanent_refusal_fails_with_code_and_21610_opts_out(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock, PermanentSendError("refused", 21610))
    phone = new_phone()
    first = reply(app, phone)
    later = reply(app, phone, "another reply")
    dispatcher = runtime_of(app).dispatcher

    assert dispatcher.send(first).result is SendResult.FAILED
    refused = message(app, first)
    assert refused.status is DeliveryStatus.FAILED and refused.error_code == 21610
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out
    assert dispatcher.send(later).result is SendResult.CANCELED
    assert sender_of(app).calls == 1


def test_ambiguous_send_that_reached_twilio_is_reconciled_not_resent(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock, (AmbiguousSendError("read timeout"), True))
    message_id = reply(app, new_phone())
    dispatcher = runtime_of(app).dispatcher

    first = dispatcher.send(message_id)
    assert first.result is SendResult.RETRY
    assert message(app, message_id).status is DeliveryStatus.SUBMITTING
    # Within the lease another worker keeps its hands off.
    assert dispatcher.send(message_id).result is SendResult.RETRY
    clock.advance(first.retry_after + 1)

    assert dispatcher.send(message_id).result is SendResult.SENT
    assert sender_of(app).calls == 1
    assert len(sender_of(app).outbox) == 1
    assert message(app, message_id).twilio_sid == sender_of(app).outbox[0][0].sid


def test_ambiguous_send_that_did_not_reach_twilio_is_sent_again_once(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock, (AmbiguousSendError("connection reset"), False))
    message_id = reply(app, new_phone())
    dispatcher = runtime_of(app).dispatcher

    clock.advance(dispatcher.send(message_id).retry_after + 1)
    assert dispatcher.send(message_id).result is SendResult.SENT
    assert len(sender_of(app).outbox) == 1
    assert sender_of(app).calls == 2


def test_worker_dying_mid_send_is_recovered_after_the_lease(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock)
    message_id = reply(app, new_phone())
    dispatcher = runtime_of(app).dispatcher
    # A worker claims the message and dies before calling Twilio.
    claim = dispatcher._claim(message_id)
    assert not hasattr(claim, "result")
    assert message(app, message_id).status is DeliveryStatus.SUBMITTING

    clock.advance(dispatcher.policy.lease_seconds + 1)
    assert dispatcher.send(message_id).result is SendResult.SENT
    assert len(sender_of(app).outbox) == 1


def test_concurrent_sends_of_one_message_call_twilio_once(
    make_app: Callable[..., Flask], postgres_url: str, clock: FakeClock
) -> None:
    app = make(make_app, postgres_url, clock)
    message_id = reply(app, new_phone())
    dispatcher = runtime_of(app).dispatcher
    barrier = threading.Barrier(10)
    results: list[SendResult] = []

    def send() -> None:
        barrier.wait()
        results.append(dispatcher.send(message_id).result)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(SendResult.SENT) == 1
    assert sender_of(app).calls == 1


def test_opted_out_texter_gets_only_compliance_notices(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock)
    phone = new_phone()
    ordinary = reply(app, phone)
    notice = reply(app, phone, "You have been unsubscribed", compliance=True)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        texter = session.get(Texter, texter_of(app, phone).id)  # type: ignore[union-attr]
        assert texter is not None
        texter.opted_out_at = clock.now()

    assert runtime.dispatcher.send(ordinary).result is SendResult.CANCELED
    assert runtime.dispatcher.send(notice).result is SendResult.SENT
    assert [text.body for _, text, _ in sender_of(app).outbox] == ["You have been unsubscribed"]
    assert message(app, ordinary).status is DeliveryStatus.CANCELED


def test_replies_to_one_texter_leave_in_the_order_they_were_written(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    app = make(make_app, database_url, clock)
    phone = new_phone()
    first = reply(app, phone, "first question")
    second = reply(app, phone, "second question")
    other = reply(app, new_phone(), "someone else's reply")
    dispatcher = runtime_of(app).dispatcher

    waiting = dispatcher.send(second)
    assert waiting.result is SendResult.RETRY and waiting.retry_after > 0
    assert dispatcher.send(other).result is SendResult.SENT  # other texters do not wait
    assert dispatcher.send(first).result is SendResult.SENT
    assert dispatcher.send(second).result is SendResult.SENT
    mine = [text.body for _, text, _ in sender_of(app).outbox if text.to == phone]
    assert mine == ["first question", "second question"]
