"""POST /twilio/sms answered before Flask (hotline.web.inbound_sms): what it must keep of Flask's.

Through the Flask test client, which goes through ``app.wsgi_app`` as gunicorn does, on SQLite
and PostgreSQL: every answer carries the headers every response of the app gets, each answer is
timed, refusals store nothing, and the webhook still sits behind the trusted proxies' ProxyFix.
The production-stack and database-down tests post to it through gunicorn.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import TestResponse

from hotline import runtime_of
from hotline.db.models import Message
from hotline.infra import metrics
from hotline.infra.taskqueue import PROCESS_INBOUND, InProcessQueue
from hotline.sms.signature import sign
from hotline.web.inbound_sms import InboundSms
from hotline.web.security import security_headers
from tests.conftest import TEST_PUBLIC_URL, new_phone
from tests.helpers import messages_of, post_signed, sms_form, texter_of
from tests.support.stack import free_port

PATH = "/twilio/sms"


def total_messages(app: Flask) -> int:
    with runtime_of(app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def pending(app: Flask) -> list[tuple[str, int]]:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    return tasks.pending()


def timed() -> float:
    return metrics.REGISTRY.get_sample_value("hotline_webhook_seconds_count") or 0.0


def stored() -> float:
    return metrics.REGISTRY.get_sample_value("hotline_texts_stored_total") or 0.0


def assert_headers_of_every_response(client: FlaskClient, response: TestResponse) -> None:
    """The webhook's answer carries exactly the security headers Flask puts on a page."""
    page = client.get("/healthz")
    expected = security_headers(PATH, TEST_PUBLIC_URL.startswith("https://"))
    for name, value in expected:
        assert response.headers.get(name) == value, name
        assert page.headers.get(name) == value, name  # the same as the rest of the app's
    assert response.headers.get("Content-Length") == str(len(response.get_data()))


def unsigned(client: FlaskClient, form: dict[str, str]) -> TestResponse:
    return client.post(PATH, data=form, headers={"X-Twilio-Signature": "not-a-signature"})


def test_the_webhook_is_served_in_front_of_flask(app: Flask) -> None:
    assert isinstance(app.wsgi_app, InboundSms)


def test_a_stored_text_is_answered_with_every_responses_headers_counted_and_timed(
    app: Flask,
) -> None:
    client = app.test_client()
    phone = new_phone()
    was_timed, was_stored = timed(), stored()

    response = post_signed(client, PATH, sms_form(phone, "I need help"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.get_data() == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert_headers_of_every_response(client, response)
    [message] = messages_of(app, phone)
    assert pending(app) == [(PROCESS_INBOUND, message.id)]
    assert (timed(), stored()) == (was_timed + 1, was_stored + 1)


def test_a_repeated_sid_is_answered_alike_stored_once_and_not_counted_again(app: Flask) -> None:
    client = app.test_client()
    phone = new_phone()
    form = sms_form(phone, "hello")
    first = post_signed(client, PATH, form)
    was_timed, was_stored = timed(), stored()

    again = post_signed(client, PATH, form)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_data() == first.get_data()
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    assert len(messages_of(app, phone)) == 1
    assert len(pending(app)) == 1
    assert (timed(), stored()) == (was_timed + 1, was_stored)


def test_an_unsigned_text_is_refused_before_it_is_read(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    phone = new_phone()
    before, was_timed = total_messages(app), timed()

    with caplog.at_level(logging.INFO):
        response = unsigned(client, sms_form(phone, "I need help"))

    assert response.status_code == 403
    assert response.get_data(as_text=True) == "invalid Twilio signature\n"
    assert_headers_of_every_response(client, response)
    assert texter_of(app, phone) is None
    assert total_messages(app) == before
    assert pending(app) == []
    assert timed() == was_timed + 1
    assert [r.getMessage() for r in caplog.records] == [
        "refused /twilio/sms: missing or invalid Twilio signature"
    ]


def test_an_unsigned_malformed_text_gets_403_not_400(app: Flask) -> None:
    """The signature is checked first: a caller without the token learns nothing of the rules."""
    form = sms_form(new_phone(), "hello", NumMedia="many")
    assert unsigned(app.test_client(), form).status_code == 403
    raw = b"MessageSid=SM" + b"0" * 32 + b"&Body=%FF%FE"
    response = app.test_client().post(
        PATH,
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 403


def test_a_body_that_is_not_a_form_gets_415(app: Flask) -> None:
    client = app.test_client()
    before = total_messages(app)
    response = client.post(PATH, json={"From": new_phone(), "Body": "hello"})
    assert response.status_code == 415
    assert response.get_data(as_text=True) == "expected a form-encoded Twilio request\n"
    assert_headers_of_every_response(client, response)
    assert total_messages(app) == before


def test_a_form_type_with_parameters_is_still_a_form(app: Flask) -> None:
    form = sms_form(new_phone(), "hello")
    token = runtime_of(app).settings.twilio_auth_token or ""
    response = app.test_client().post(
        PATH,
        data=urlencode(form),
        content_type="Application/X-WWW-Form-URLEncoded; charset=UTF-8",
        headers={"X-Twilio-Signature": sign(token, TEST_PUBLIC_URL + PATH, form)},
    )
    assert response.status_code == 200


def test_signed_bytes_that_are_not_utf8_get_400_naming_no_value(app: Flask) -> None:
    client = app.test_client()
    phone = new_phone()
    form = sms_form(phone, "placeholder")
    # Latin-1 bytes, not percent-encoded: werkzeug reads the form as UTF-8 would fail to, and
    # reads nothing; the signature is over what werkzeug reads.
    raw = "&".join(f"{k}={v}" for k, v in form.items()).replace("placeholder", "caf\xe9")
    token = runtime_of(app).settings.twilio_auth_token or ""
    before = total_messages(app)

    response = client.post(
        PATH,
        data=raw.encode("latin-1"),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(token, TEST_PUBLIC_URL + PATH, {})},
    )

    assert response.status_code == 400
    assert response.get_data(as_text=True) == "request is not valid UTF-8 form data\n"
    assert_headers_of_every_response(client, response)
    assert total_messages(app) == before
    assert pending(app) == []


def test_an_invalid_field_gets_400_naming_the_field_not_its_value(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    phone = new_phone()
    before = total_messages(app)

    with caplog.at_level(logging.INFO):
        response = post_signed(client, PATH, sms_form(phone, "x\x00y"))

    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Body contains a NUL character\n"
    assert_headers_of_every_response(client, response)
    assert total_messages(app) == before
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Body contains a NUL character" in logged
    assert phone not in logged and phone[2:] not in logged


def test_a_body_over_the_limit_gets_413_before_the_signature_and_changes_nothing(
    app: Flask,
) -> None:
    client = app.test_client()
    before, was_timed = total_messages(app), timed()
    form = sms_form(new_phone(), "x" * (app.config["MAX_CONTENT_LENGTH"] + 1))

    response = unsigned(client, form)

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data()) == {"error": "request too large"}
    assert_headers_of_every_response(client, response)
    assert total_messages(app) == before
    assert timed() == was_timed + 1


def test_a_streamed_body_over_the_limit_is_cut_at_the_limit_and_stored_never(
    app: Flask,
) -> None:
    """Without a Content-Length (chunked), werkzeug reads up to the limit and no further, as it
    did when Flask read the body: what is left of a signed text fails its signature."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    form = sms_form(new_phone(), "x" * limit)
    token = runtime_of(app).settings.twilio_auth_token or ""
    before = total_messages(app)
    response = app.test_client().post(
        PATH,
        input_stream=io.BytesIO(urlencode(form).encode()),
        content_type="application/x-www-form-urlencoded",
        headers={
            "Transfer-Encoding": "chunked",
            "X-Twilio-Signature": sign(token, TEST_PUBLIC_URL + PATH, form),
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 403
    assert total_messages(app) == before


def test_database_down_gets_503_with_the_same_headers_and_nothing_handed_over(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    client = app.test_client()
    phone = new_phone()

    with caplog.at_level(logging.INFO):
        response = post_signed(client, PATH, sms_form(phone, "hello"))

    assert response.status_code == 503
    assert response.get_data(as_text=True) == "temporarily unavailable\n"
    assert pending(app) == []
    for name, value in security_headers(PATH, False):
        assert response.headers.get(name) == value, name
    assert [r.getMessage() for r in caplog.records] == [
        "inbound text not stored, database unavailable (OperationalError)"
    ]


def test_other_methods_and_paths_are_flasks(app: Flask) -> None:
    client = app.test_client()
    assert client.get(PATH).status_code == 405
    assert client.post(PATH + "/", data={}).status_code == 404
    assert client.get("/healthz").status_code == 200


def test_https_public_url_adds_hsts(make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url, settings_overrides={"public_url": "https://hotline.example.org"})
    response = post_signed(app.test_client(), PATH, sms_form(new_phone(), "hello"))
    assert response.status_code == 200
    assert (
        dict(security_headers(PATH, True))["Strict-Transport-Security"]
        == (response.headers["Strict-Transport-Security"])
    )


def test_behind_trusted_proxies_the_webhook_sits_inside_proxy_fix(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, settings_overrides={"trusted_proxies": 1})
    assert isinstance(app.wsgi_app, ProxyFix)
    assert isinstance(app.wsgi_app.app, InboundSms)
    phone = new_phone()
    form = sms_form(phone, "hello")
    token = runtime_of(app).settings.twilio_auth_token or ""

    response = app.test_client().post(
        PATH,
        data=form,
        headers={
            "X-Twilio-Signature": sign(token, TEST_PUBLIC_URL + PATH, form),
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",  # not trusted: only the client's address is read
            "X-Forwarded-Host": "elsewhere.example.org",
        },
    )

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert len(messages_of(app, phone)) == 1
