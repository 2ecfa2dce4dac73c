"""POST /twilio/sms: signature, storing once, refusing bad input, surviving a missing broker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from celery import Celery
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.background.jobs import use_in_process_queue
from hotline.db.models import Message, Texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import PROCESS_INBOUND, CeleryTaskQueue, InProcessQueue
from hotline.sms.inbound import CUT_MARKER
from hotline.sms.signature import sign
from tests.conftest import TEST_PUBLIC_URL, new_phone, new_sid
from tests.helpers import bodies, messages_of, post_signed, sms_form, texter_of
from tests.support.stack import free_port


def queue_of(app: Flask) -> InProcessQueue:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    return tasks


def total_messages(app: Flask) -> int:
    with runtime_of(app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_signed_text_is_stored_encrypted_and_handed_over(app: Flask) -> None:
    phone = new_phone()
    response = post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "I need help"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    [message] = messages_of(app, phone)
    assert message.direction is Direction.INBOUND
    assert message.status is DeliveryStatus.RECEIVED
    assert message.processed_at is None
    assert message.body_ciphertext is not None and b"I need help" not in message.body_ciphertext
    assert bodies(app, [message]) == ["I need help"]
    assert queue_of(app).pending() == [(PROCESS_INBOUND, message.id)]
    texter = texter_of(app, phone)
    assert texter is not None and texter.phone_ciphertext is not None
    assert phone.encode() not in texter.phone_ciphertext
    assert phone[1:] not in texter.phone_hash


def test_duplicate_message_sid_stores_once_and_hands_over_once(app: Flask) -> None:
    phone = new_phone()
    form = sms_form(phone, "hello")
    client = app.test_client()
    first = post_signed(client, "/twilio/sms", form)
    second = post_signed(client, "/twilio/sms", form)

    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert len(messages_of(app, phone)) == 1
    assert len(queue_of(app).pending()) == 1


def test_concurrent_duplicates_store_one_message(
    make_app: Callable[..., Flask], postgres_url: str
) -> None:
    app = make_app(postgres_url)
    phone = new_phone()
    form = sms_form(phone, "same text, many deliveries")
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def deliver() -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(post_signed(client, "/twilio/sms", form).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [200] * 20
    assert len(messages_of(app, phone)) == 1
    assert len(queue_of(app).pending()) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        "no signature",
        "wrong token",
        "body altered after signing",
        "parameter added",
        "parameter removed",
        "other url",
    ],
)
def test_bad_signature_is_refused_and_changes_nothing(app: Flask, tamper: str) -> None:
    phone = new_phone()
    form = sms_form(phone, "hello")
    url = f"{TEST_PUBLIC_URL}/twilio/sms"
    token = runtime_of(app).settings.twilio_auth_token or ""
    signature = sign(token, url, form)
    if tamper == "no signature":
        signature = ""
    elif tamper == "wrong token":
        signature = sign("not-the-token", url, form)
    elif tamper == "body altered after signing":
        form["Body"] = "hello!"
    elif tamper == "parameter added":
        form["Extra"] = "1"
    elif tamper == "parameter removed":
        del form["NumMedia"]
    elif tamper == "other url":
        signature = sign(token, f"{TEST_PUBLIC_URL}/twilio/status", form)
    before = total_messages(app)

    response = app.test_client().post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )

    assert response.status_code == 403
    assert texter_of(app, phone) is None
    assert total_messages(app) == before
    assert queue_of(app).pending() == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"From": ""}, "From is missing"),
        ({"MessageSid": ""}, "MessageSid is missing"),
        ({"MessageSid": "SM123"}, "MessageSid is not a Twilio message SID"),
        ({"From": "not a number"}, "From is not an E.164 phone number"),
        ({"NumMedia": "abc"}, "NumMedia is not a whole number"),
        ({"NumMedia": "-1"}, "NumMedia is not a whole number"),
        ({"NumMedia": "99999999999999999999"}, "NumMedia is more than 10"),
        ({"NumMedia": "1"}, "MediaContentType0 is missing or not a media type"),
        ({"Body": "a\x00b"}, "Body contains a NUL character"),
    ],
)
def test_malformed_text_gets_400_and_changes_nothing(
    app: Flask, change: dict[str, str], error: str
) -> None:
    phone = new_phone()
    form = sms_form(phone, "hello")
    form.update(change)
    before = total_messages(app)

    response = post_signed(app.test_client(), "/twilio/sms", form)

    assert response.status_code == 400
    assert response.get_data(as_text=True).strip() == error
    assert phone not in response.get_data(as_text=True)
    assert total_messages(app) == before
    assert queue_of(app).pending() == []


def test_invalid_utf8_gets_400_and_changes_nothing(app: Flask) -> None:
    phone = new_phone()
    form = sms_form(phone, "placeholder")
    raw = urlencode(form).replace("Body=placeholder", "Body=%FF%FEbad").encode()
    # Sign what werkzeug parses from it (it leaves undecodable escapes as they are), so the
    # request gets past the signature check and the encoding check is what refuses it.
    parsed = dict(form, Body="%FF%FEbad")
    token = runtime_of(app).settings.twilio_auth_token or ""
    signature = sign(token, TEST_PUBLIC_URL + "/twilio/sms", parsed)
    before = total_messages(app)

    response = app.test_client().post(
        "/twilio/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 400
    assert total_messages(app) == before


def test_not_a_form_gets_415(app: Flask) -> None:
    response = app.test_client().post("/twilio/sms", json={"From": new_phone()})
    assert response.status_code == 415


def test_oversized_request_gets_413_and_changes_nothing(app: Flask) -> None:
    before = total_messages(app)
    response = post_signed(app.test_client(), "/twilio/sms", sms_form(new_phone(), "x" * 200_000))
    assert response.status_code == 413
    assert total_messages(app) == before


def test_mms_keeps_count_and_types_and_fetches_nothing(app: Flask) -> None:
    phone = new_phone()
    form = sms_form(
        phone,
        "",
        NumMedia="2",
        MediaContentType0="image/jpeg",
        MediaUrl0="http://169.254.169.254/latest/meta-data",
        MediaContentType1="Video/MP4",
        MediaUrl1="http://127.0.0.1:1/",
    )

    response = post_signed(app.test_client(), "/twilio/sms", form)

    assert response.status_code == 200
    [message] = messages_of(app, phone)
    assert message.num_media == 2
    assert message.media_types == ["image/jpeg", "video/mp4"]


def test_returning_texter_is_recognised_by_keyed_hash(app: Flask) -> None:
    phone = new_phone()
    client = app.test_client()
    post_signed(client, "/twilio/sms", sms_form(phone, "one"))
    post_signed(client, "/twilio/sms", sms_form(phone.replace("+1", "+1 "), "two"))
    with runtime_of(app).sessions() as session:
        texters = session.scalars(
            select(Texter).where(Texter.phone_hash == runtime_of(app).vault.phone_hash(phone))
        ).all()
    assert len(texters) == 1
    assert len(messages_of(app, phone)) == 2


def test_broker_down_still_stores_and_answers_fast_then_sweep_hands_over(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    dead_broker = Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0")
    dead_broker.conf.update(
        task_publish_retry=False,
        broker_connection_timeout=1,
        broker_transport_options={"socket_connect_timeout": 1},
    )
    app = make_app(database_url, tasks=CeleryTaskQueue(dead_broker))
    phone = new_phone()

    started = time.monotonic()
    response = post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "are you there"))
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 3.0
    [message] = messages_of(app, phone)
    assert message.processed_at is None

    # The broker is back: the sweep finds the stranded text and hands it over once.
    from hotline.background import jobs

    recovered = InProcessQueue(start=False)
    runtime = runtime_of(app)
    use_in_process_queue(runtime, recovered)
    runtime.settings = runtime.settings.with_overrides(sweep_grace_seconds=0.0001)
    jobs.sweep(runtime)
    assert (PROCESS_INBOUND, message.id) in recovered.pending()
    dead_broker.close()


def test_database_down_answers_503_fast_and_claims_nothing(
    make_app: Callable[..., Flask],
) -> None:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = make_app(closed)
    started = time.monotonic()
    response = post_signed(app.test_client(), "/twilio/sms", sms_form(new_phone(), "hello"))
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert "Response" not in response.get_data(as_text=True)
    assert elapsed < 5.0
    assert queue_of(app).pending() == []


def test_unknown_sid_prefix_is_refused(app: Flask) -> None:
    form = sms_form(new_phone(), "hello", sid=new_sid("XX"))
    assert post_signed(app.test_client(), "/twilio/sms", form).status_code == 400


def test_a_text_longer_than_the_limit_is_stored_cut_with_a_marker_not_refused(app: Flask) -> None:
    """Twilio does not retry a 4xx: refusing a long body would lose the text."""
    phone = new_phone()
    limit = runtime_of(app).settings.max_body_chars
    body = "he took my passport. " * (limit // 10)
    response = post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body))
    assert response.status_code == 200
    stored = [m for m in messages_of(app, phone) if m.direction is Direction.INBOUND]
    assert len(stored) == 1 and stored[0].body_ciphertext is not None
    kept = runtime_of(app).vault.decrypt(stored[0].body_ciphertext)
    assert kept == body[:limit] + CUT_MARKER.format(count=len(body) - limit)
    assert queue_of(app).pending(), "a long text is handed to the worker like any other"


def test_a_body_of_1601_characters_is_kept_whole(app: Flask) -> None:
    phone = new_phone()
    body = "x" * 1601
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    stored = [m for m in messages_of(app, phone) if m.direction is Direction.INBOUND]
    assert runtime_of(app).vault.decrypt(stored[0].body_ciphertext or b"") == body
