"""No texter data in logs, error pages or URLs; HTTPS headers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.infra.logs import configure_logging
from hotline.infra.taskqueue import InProcessQueue
from tests.conftest import new_phone
from tests.helpers import post_signed, sms_form


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    configure_logging()
    handler = Capture()
    handler.setFormatter(logging.getLogger().handlers[0].formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_whole_conversation_logs_no_number_and_no_text(app: Flask, captured: Capture) -> None:
    phone = new_phone()
    words = ["hi", "no", "yes", "my employer holds my passport xyzzy", "TX", "STOP"]
    for body in words:
        assert (
            post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
        )
        tasks = runtime_of(app).tasks
        assert isinstance(tasks, InProcessQueue)
        tasks.run_due()
    # Bad requests are logged too: with field names, never values.
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "x\x00y"))
    post_signed(app.test_client(), "/twilio/sms", sms_form("+1 (555) 867-5309 nope", "hi"))
    app.test_client().post("/twilio/sms", data=sms_form(phone, "unsigned xyzzy"))

    log = "\n".join(captured.lines)
    assert log  # something was logged, so the check below means something
    assert phone not in log and phone[2:] not in log and "867-5309" not in log
    assert "xyzzy" not in log and "passport" not in log


def test_an_error_page_carries_no_texter_data(
    make_app: Callable[..., Flask], database_url: str, captured: Capture
) -> None:
    app = make_app(database_url)
    phone = new_phone()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(f"failed for {phone} who wrote secret words")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert phone not in body and "secret words" not in body
    assert phone not in "\n".join(captured.lines)


def test_hsts_and_secure_cookie_over_https(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, settings_overrides={"public_url": "https://hotline.example.org"})
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]
    plain = make_app(database_url).test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
