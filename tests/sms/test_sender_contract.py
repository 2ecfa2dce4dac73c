"""Both senders keep the Sender contract; TwilioSender sorts Twilio's failures by what is safe.

TwilioSender runs against the fake Twilio API through twilio's real REST client.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hotline.sms.sender import (
    OPTED_OUT_ERROR,
    Accepted,
    AmbiguousSendError,
    LocalSender,
    OutboundText,
    PermanentSendError,
    RetryableSendError,
    Sender,
    TwilioSender,
)
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, new_phone, new_sid
from tests.helpers import send_failing
from tests.support.fake_twilio import FakeTwilio
from tests.support.stack import free_port

SHORT_CODE = "233733"
SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, callbacks=False) as running:
        yield running


def twilio_sender(base_url: str, *, timeout: float = 1.0, **sender: str) -> TwilioSender:
    sender = sender or {"from_number": SHORT_CODE}
    return TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base=base_url, timeout=timeout, **sender
    )


@pytest.fixture(params=["twilio", "local"])
def sender(request: pytest.FixtureRequest) -> Sender:
    if request.param == "local":
        return LocalSender()
    fake: FakeTwilio = request.getfixturevalue("fake")
    return twilio_sender(fake.base_url)


# -- the contract -----------------------------------------------------------------------------


def test_send_returns_an_accepted_sid(sender: Sender) -> None:
    accepted = sender.send(OutboundText(new_phone(), "hello"))

    assert isinstance(accepted, Accepted)
    assert SID.fullmatch(accepted.sid)
    assert accepted.status in {"queued", "accepted", "sent"}


def test_find_sent_finds_the_text_by_number_and_body(sender: Sender) -> None:
    phone = new_phone()
    since = datetime.now(UTC) - timedelta(seconds=1)
    sender.send(OutboundText(phone, "an earlier text"))
    accepted = sender.send(OutboundText(phone, "we are here for you"))

    assert sender.find_sent(phone, "we are here for you", since) == accepted


def test_find_sent_ignores_another_body_number_or_a_later_since(sender: Sender) -> None:
    phone = new_phone()
    since = datetime.now(UTC) - timedelta(seconds=1)
    sender.send(OutboundText(phone, "we are here for you"))

    assert sender.find_sent(phone, "another text", since) is None
    assert sender.find_sent(new_phone(), "we are here for you", since) is None
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert sender.find_sent(phone, "we are here for you", later) is None


def test_find_sent_with_nothing_sent_is_none(sender: Sender) -> None:
    assert sender.find_sent(new_phone(), "hello", datetime.now(UTC) - timedelta(hours=1)) is None


# -- TwilioSender: what reaches Twilio --------------------------------------------------------


def test_from_number_reaches_twilio(fake: FakeTwilio) -> None:
    phone = new_phone()

    accepted = twilio_sender(fake.base_url).send(OutboundText(phone, "hello"))

    [recorded] = fake.messages
    assert (recorded.sid, recorded.to, recorded.body) == (accepted.sid, phone, "hello")
    assert (recorded.from_, recorded.messaging_service_sid) == (SHORT_CODE, None)
    assert recorded.status_callback is None


def test_messaging_service_reaches_twilio(fake: FakeTwilio) -> None:
    service = new_sid("MG")
    sender = twilio_sender(fake.base_url, messaging_service_sid=service)

    accepted = sender.send(OutboundText(new_phone(), "hello"))

    [recorded] = fake.messages
    assert (recorded.from_, recorded.messaging_service_sid) == (None, service)
    assert accepted.status == "accepted"


def test_status_callback_reaches_twilio(fake: FakeTwilio) -> None:
    url = "https://hotline.test/twilio/status?m=17"

    twilio_sender(fake.base_url).send(OutboundText(new_phone(), "hello", status_callback=url))

    assert fake.messages[0].status_callback == url


def test_a_sender_needs_a_from_number_or_a_service() -> None:
    with pytest.raises(ValueError, match="from number or a messaging service"):
        TwilioSender(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)


# -- TwilioSender: sorting failures ------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retryable(fake: FakeTwilio, status: int) -> None:
    fake.fail_next(status)

    error = send_failing(twilio_sender(fake.base_url), new_phone(), "private words")

    assert type(error) is RetryableSendError
    assert str(status) in str(error)
    assert fake.messages == []


def test_invalid_number_is_permanent_with_its_code(fake: FakeTwilio) -> None:
    fake.fail_next(400, code=21211)  # Twilio's own message quotes the number

    error = send_failing(twilio_sender(fake.base_url), new_phone(), "private words")

    assert type(error) is PermanentSendError
    assert error.code == 21211
    assert fake.messages == []


def test_opted_out_number_is_permanent_with_21610(fake: FakeTwilio) -> None:
    phone = new_phone()
    fake.opt_out(phone)

    error = send_failing(twilio_sender(fake.base_url), phone, "private words")

    assert type(error) is PermanentSendError
    assert error.code == OPTED_OUT_ERROR == 21610
    assert fake.messages == []


def test_bad_credentials_are_retried_not_failed_for_good(fake: FakeTwilio) -> None:
    # Wrong credentials are the operator's to fix; the texter's reply must survive until then.
    sender = TwilioSender(
        TEST_ACCOUNT_SID, "wrong-token", from_number=SHORT_CODE, api_base=fake.base_url
    )

    error = send_failing(sender, new_phone(), "private words")

    assert type(error) is RetryableSendError
    assert "20003" in str(error)


def test_late_answer_is_ambiguous_and_find_sent_sees_it_went_through(fake: FakeTwilio) -> None:
    phone, body = new_phone(), "private words"
    since = datetime.now(UTC) - timedelta(seconds=5)
    sender = twilio_sender(fake.base_url, timeout=0.3)
    fake.timeout_next(seconds=3.0)
    started = time.monotonic()

    error = send_failing(sender, phone, body)

    assert type(error) is AmbiguousSendError
    assert time.monotonic() - started < 2.0
    [recorded] = fake.messages
    assert sender.find_sent(phone, body, since) == Accepted(recorded.sid, "queued")


def test_nobody_listening_is_retryable() -> None:
    sender = twilio_sender(f"http://127.0.0.1:{free_port()}")

    error = send_failing(sender, new_phone(), "private words")

    assert type(error) is RetryableSendError
    with pytest.raises(RetryableSendError):
        sender.find_sent(new_phone(), "private words", datetime.now(UTC))
