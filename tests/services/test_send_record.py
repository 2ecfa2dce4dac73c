"""Recording what Twilio said of a sent reply: one UPDATE of its own, on the driver's cursor,
that never moves a status backwards and lets a database error out as SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Message
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import PROCESS_INBOUND, SEND_MESSAGE, InProcessQueue
from hotline.services.send import SendResult
from hotline.sms.sender import Accepted, LocalSender, OutboundText
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import message, messages_of, post_signed, sms_form
from tests.texting import reply


class Answering(LocalSender):
    """Twilio taking every text, answering with ``status``; ``before_answer`` runs between
    Twilio taking the text and its answer reaching us (a status callback that is quicker)."""

    def __init__(
        self,
        clock: FakeClock,
        status: str = "queued",
        sid: Callable[[Accepted], str] | None = None,
        before_answer: Callable[[Accepted], None] | None = None,
    ) -> None:
        super().__init__(clock.now)
        self.status, self.sid, self.before_answer = status, sid, before_answer

    def send(self, text: OutboundText) -> Accepted:
        taken = super().send(text)
        if self.before_answer is not None:
            self.before_answer(taken)
        sid = taken.sid if self.sid is None else self.sid(taken)
        return Accepted(sid=sid, status=self.status)


def test_a_status_callback_that_got_there_first_keeps_its_later_status(
    make_app: Callable[..., Flask], database_url: str, clock: FakeClock
) -> None:
    delivered_at = clock.now() + timedelta(seconds=1)
    sending: list[tuple[Flask, int]] = []

    def callback_first(taken: Accepted) -> None:
        app, message_id = sending[0]
        with runtime_of(app).sessions.begin() as session:
            found = session.get(Message, message_id)
            assert found is not None and found.status is DeliveryStatus.SUBMITTING
            found.status, found.status_updated_at = DeliveryStatus.DELIVERED, delivered_at
        clock.advance(2)

    app = make_app(database_url, clock=clock, sender=Answering(clock, before_answer=callback_first))
    message_id = reply(app, new_phone())
    sending.append((app, message_id))

    assert runtime_of(app).dispatcher.send(message_id).result is SendResult.SENT

    recorded = message(app, message_id)
    assert recorded.status is DeliveryStatus.DELIVERED  # not back to "queued"
    assert recorded.status_updated_at == delivered_at
    assert recorded.twilio_sid is not None and recorded.next_attempt_at is None


@pytest.mark.parametrize(
    ("answered", "recorded"),
    [
        ("queued", DeliveryStatus.QUEUED),
        ("sent", DeliveryStatus.SENT),
        ("a status Twilio may add one day", DeliveryStatus.QUEUED),
        ("received", DeliveryStatus.SUBMITTING),  # nothing it moves from: the row stays
    ],
)
def test_twilios_answer_is_recorded_with_its_sid_and_time(
    make_app: Callable[..., Flask],
    database_url: str,
    clock: FakeClock,
    answered: str,
    recorded: DeliveryStatus,
) -> None:
    carrier = Answering(clock, status=answered, before_answer=lambda _: clock.advance(2))
    app = make_app(database_url, clock=clock, sender=carrier)
    message_id = reply(app, new_phone())

    assert runtime_of(app).dispatcher.send(message_id).result is SendResult.SENT

    found = message(app, message_id)
    assert found.status is recorded and found.twilio_sid is not None
    assert found.next_attempt_at is None
    moved = recorded is not DeliveryStatus.SUBMITTING
    assert (found.status_updated_at == clock.now()) is moved  # Twilio's answer came 2 s later


def test_a_database_error_recording_the_answer_hands_the_reply_over_without_values(
    make_app: Callable[..., Flask],
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Twilio answering with the SID of the texter's own text: the unique index refuses it.
    inbound_sid: list[str] = []
    app = make_app(database_url, clock=clock, sender=Answering(clock, sid=lambda _: inbound_sid[0]))
    runtime = runtime_of(app)
    phone = new_phone()
    form = sms_form(phone, "hello, I need help")
    inbound_sid.append(form["MessageSid"])
    assert post_signed(app.test_client(), "/twilio/sms", form).status_code == 200
    [(name, message_id)] = runtime.tasks.pending()  # type: ignore[attr-defined]
    assert name == PROCESS_INBOUND
    runtime.tasks = handed = InProcessQueue(start=False)
    handed.bind({PROCESS_INBOUND: lambda _: None, SEND_MESSAGE: lambda _: None})

    jobs.process_inbound(runtime, message_id)  # does not raise: the reply is stored

    [sent] = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    assert sent.status is DeliveryStatus.SUBMITTING  # Twilio may have it: the lease decides
    assert handed.pending() == [(SEND_MESSAGE, sent.id)]
    assert runtime.engine.pool.checkedout() == 0  # the connection went back to the pool
    assert inbound_sid[0] not in caplog.text and phone not in caplog.text

    with pytest.raises(IntegrityError) as raised:
        runtime.dispatcher._record_accepted(sent.id, Accepted(inbound_sid[0], "queued"))
    assert inbound_sid[0] not in str(raised.value)
    assert runtime.engine.pool.checkedout() == 0
