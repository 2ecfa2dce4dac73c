"""The texting simulator, on a DEMO-mode app served over a real HTTP port.

Its texts reach the real ``/twilio/sms`` as signed webhooks; the simulated carrier posts signed
status callbacks back; nothing of it exists outside demo and development modes.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hotline import create_app, runtime_of
from hotline.catalogue import render
from hotline.devtools.simulated import SimulatedCarrier
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings
from hotline.sms.sender import LocalSender, OutboundText
from hotline.sms.signature import is_valid
from tests.conftest import TEST_AUTH_TOKEN, TEST_DATA_KEY, TEST_HASH_KEY, new_phone
from tests.demo_server import Served, serve_demo
from tests.helpers import bodies, messages_of
from tests.support.stack import free_port, wait_until

WELCOME_START = "Hi, thanks for texting."


@pytest.fixture
def demo(sqlite_template: Path, tmp_path: Path) -> Iterator[Served]:
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    with serve_demo(f"sqlite:///{path}") as served:
        yield served


class SimulatorApi:
    """The simulator's JSON API, as the page calls it."""

    def __init__(self, base: str, http: requests.Session) -> None:
        self.base = base
        self.http = http
        with http.get(f"{base}/simulator/api/csrf", timeout=5) as answer:
            self.token = answer.json()["csrf_token"]

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, csrf: bool = True
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.token} if csrf else {}
        with self.http.request(
            method, f"{self.base}/simulator/api{path}", json=body, headers=headers, timeout=15
        ) as answer:
            return answer

    def phone(self, number: str | None = None) -> dict[str, Any]:
        answer = self.call("POST", "/phones", {} if number is None else {"number": number})
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    def text(self, phone_id: int, body: str) -> dict[str, Any]:
        answer = self.call("POST", f"/phones/{phone_id}/texts", {"body": body})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def thread(self, phone_id: int) -> list[dict[str, Any]]:
        answer = self.call("GET", f"/phones/{phone_id}/messages")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["messages"])

    def delivered_replies(self, phone_id: int) -> list[str]:
        return [
            m["body"]
            for m in self.thread(phone_id)
            if m["author"] == "hotline" and m["status"] == "delivered"
        ]

    def wait_for_reply(self, phone_id: int, count: int = 1) -> list[str]:
        wait_until(lambda: len(self.delivered_replies(phone_id)) >= count, 10, "a delivered reply")
        return self.delivered_replies(phone_id)


@pytest.fixture
def api(demo: Served) -> Iterator[SimulatorApi]:
    with requests.Session() as http:
        yield SimulatorApi(demo.base, http)


def test_page_carries_the_csrf_token_and_no_inline_code(demo: Served, api: SimulatorApi) -> None:
    with api.http.get(f"{demo.base}/simulator", timeout=5) as page:
        html = page.text
        policy = page.headers["Content-Security-Policy"]
    assert page.status_code == 200
    assert f'<meta name="csrf-token" content="{api.token}">' in html
    assert "script-src 'self'" in policy
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/simulator.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    for asset in ("simulator.js", "simulator.css"):
        with api.http.get(f"{demo.base}/static/{asset}", timeout=5) as answer:
            assert answer.status_code == 200
    with api.http.get(f"{demo.base}/static/simulator.js", timeout=5) as script:
        assert "innerHTML" not in script.text


def test_a_text_arrives_signed_is_stored_and_its_reply_is_delivered(
    demo: Served, api: SimulatorApi
) -> None:
    phone = api.phone()
    assert re.fullmatch(r"\+155501\d{5}", phone["number"])

    sent = api.text(phone["id"], "hi")

    assert sent["status"] == "received" and sent["answers"] == ["HTTP 200"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent["id"])
    [inbound] = [
        m for m in messages_of(demo.app, phone["number"]) if m.direction is Direction.INBOUND
    ]
    assert inbound.twilio_sid == sent["id"]
    assert bodies(demo.app, [inbound]) == ["hi"]
    [reply] = api.wait_for_reply(phone["id"])
    assert reply.startswith(WELCOME_START)

    def reply_delivered_in_database() -> bool:
        outbound = [
            m for m in messages_of(demo.app, phone["number"]) if m.direction is Direction.OUTBOUND
        ]
        return bool(outbound) and outbound[0].status is DeliveryStatus.DELIVERED

    wait_until(reply_delivered_in_database, 10, "the delivered status callback")
    assert demo.carrier.callback_failures == 0
    thread = api.thread(phone["id"])
    assert [m["author"] for m in thread] == ["texter", "hotline"]


def test_replay_sends_the_same_message_sid_and_is_stored_once(
    demo: Served, api: SimulatorApi
) -> None:
    phone = api.phone()
    sent = api.text(phone["id"], "hello")
    api.wait_for_reply(phone["id"])

    replayed = api.call("POST", f"/phones/{phone['id']}/replay")

    assert replayed.status_code == 200
    assert replayed.json()["id"] == sent["id"]
    assert replayed.json()["answers"] == ["HTTP 200", "HTTP 200"]
    inbound = [
        m for m in messages_of(demo.app, phone["number"]) if m.direction is Direction.INBOUND
    ]
    assert [m.twilio_sid for m in inbound] == [sent["id"]]
    assert len(api.thread(phone["id"])) == 2  # the text once, the welcome once


def test_stop_gets_the_stop_confirmation(demo: Served, api: SimulatorApi) -> None:
    phone = api.phone()
    api.text(phone["id"], "STOP")

    [reply] = api.wait_for_reply(phone["id"])

    assert reply == render("stop_confirmation", "en", discreet=True, org=Settings.org_name)


def test_two_phones_are_two_texters_with_their_own_threads(demo: Served, api: SimulatorApi) -> None:
    first, second = api.phone(), api.phone()
    assert first["id"] != second["id"] and first["number"] != second["number"]
    api.text(first["id"], "hi")
    api.text(second["id"], "hello there")

    assert api.wait_for_reply(first["id"])[0].startswith(WELCOME_START)
    assert api.wait_for_reply(second["id"])[0].startswith(WELCOME_START)
    for phone, body in ((first, "hi"), (second, "hello there")):
        assert [m["body"] for m in api.thread(phone["id"]) if m["author"] == "texter"] == [body]
        assert len(messages_of(demo.app, phone["number"])) == 2


def test_a_number_finds_its_phone_and_only_fictional_numbers_are_taken(
    api: SimulatorApi,
) -> None:
    number = new_phone()
    created = api.call("POST", "/phones", {"number": number})
    found = api.call("POST", "/phones", {"number": number})

    assert created.status_code == 201 and found.status_code == 200
    assert found.json() == created.json() == {"id": created.json()["id"], "number": number}
    real = api.call("POST", "/phones", {"number": "+14155550100"})
    assert real.status_code == 400
    assert "fictional +1 555 numbers" in real.json()["error"]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    demo: Served, api: SimulatorApi, token: str | None
) -> None:
    phone = api.phone()
    before = api.call("GET", "/phones").json()
    headers = {} if token is None else {"X-CSRF-Token": token}

    def post(path: str, body: dict[str, Any]) -> requests.Response:
        url = f"{demo.base}/simulator/api{path}"
        with api.http.post(url, json=body, headers=headers, timeout=5) as answer:
            return answer

    refused = [
        post("/phones", {}),
        post(f"/phones/{phone['id']}/texts", {"body": "hi"}),
        post(f"/phones/{phone['id']}/replay", {}),
    ]
    with api.http.delete(
        f"{demo.base}/simulator/api/phones/{phone['id']}", headers=headers, timeout=5
    ) as removal:
        refused.append(removal)

    assert [r.status_code for r in refused] == [400] * 4
    assert refused[0].json() == {"error": "missing or wrong CSRF token: reload the page"}
    assert api.call("GET", "/phones").json() == before
    assert api.thread(phone["id"]) == []
    assert messages_of(demo.app, phone["number"]) == []


def test_bad_input_is_refused(api: SimulatorApi) -> None:
    phone = api.phone()
    empty = api.call("POST", f"/phones/{phone['id']}/texts", {"body": "  "})
    missing = api.call("POST", "/phones/999999/texts", {"body": "hi"})
    nothing_yet = api.call("POST", f"/phones/{phone['id']}/replay")
    not_text = api.call("POST", "/phones", {"number": 15550100000})

    assert (empty.status_code, empty.json()["error"]) == (400, "body must be a text to send")
    assert (missing.status_code, missing.json()["error"]) == (404, "no such phone")
    assert nothing_yet.status_code == 409
    assert not_text.status_code == 400


@pytest.mark.parametrize("mode", [Mode.TEST, Mode.PRODUCTION])
def test_the_simulator_is_not_there_outside_demo_and_development(
    make_app: Callable[..., Flask], sqlite_url: str, mode: Mode
) -> None:
    app = make_app(sqlite_url, settings_overrides={"mode": mode})
    client = app.test_client()

    assert client.get("/simulator").status_code == 404
    assert client.get("/simulator/api/csrf").status_code == 404
    assert client.post("/simulator/api/phones", json={}).status_code == 404


def test_a_production_app_from_settings_has_no_simulator(sqlite_url: str) -> None:
    settings = Settings(
        mode=Mode.PRODUCTION,
        database_url=sqlite_url,
        secret_key="production-secret",
        data_keys=(TEST_DATA_KEY,),
        hash_key=TEST_HASH_KEY,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from="233733",
    )
    app = create_app(
        {"settings": settings, "tasks": InProcessQueue(start=False), "sender": LocalSender()}
    )
    try:
        assert app.test_client().get("/simulator").status_code == 404
    finally:
        runtime_of(app).engine.dispose()


# -- the simulated carrier ----------------------------------------------------------------------


@contextmanager
def callback_catcher() -> Iterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    """A local endpoint recording each form posted to it, with its signature header."""
    posted: list[tuple[dict[str, str], str]] = []

    def endpoint(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        posted.append((dict(request.form), request.headers.get("X-Twilio-Signature", "")))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/twilio/status?m=7", posted
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_carrier_posts_signed_sent_then_delivered() -> None:
    carrier = SimulatedCarrier("carrier-token", timeline=(("sent", 0.02), ("delivered", 0.05)))
    number = new_phone()
    try:
        with callback_catcher() as (url, posted):
            accepted = carrier.send(OutboundText(number, "hello", status_callback=url))
            assert accepted.status == "queued"
            wait_until(lambda: len(posted) == 2, 5, "two status callbacks")
    finally:
        carrier.close()

    assert [form["MessageStatus"] for form, _ in posted] == ["sent", "delivered"]
    for form, signature in posted:
        assert set(form) >= {
            "MessageSid", "MessageStatus", "SmsStatus", "To", "From", "AccountSid", "ApiVersion",
        }  # fmt: skip
        assert form["MessageSid"] == accepted.sid and form["To"] == number
        assert form["SmsStatus"] == form["MessageStatus"]
        assert is_valid("carrier-token", url, form, signature)
    assert carrier.status_of(accepted.sid) == "delivered"
    [kept] = carrier.texts_to(number)
    assert (kept.sid, kept.body, kept.status) == (accepted.sid, "hello", "delivered")
    assert carrier.callback_failures == 0


def test_the_carrier_survives_an_unreachable_callback_and_logs_no_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    carrier = SimulatedCarrier("carrier-token", timeline=(("sent", 0.01), ("delivered", 0.02)))
    number = new_phone()
    dead = f"http://127.0.0.1:{free_port()}/twilio/status?m=1"
    try:
        first = carrier.send(OutboundText(number, "first", status_callback=dead))
        wait_until(lambda: carrier.callback_failures == 2, 10, "both callbacks to fail")
        second = carrier.send(OutboundText(number, "second"))  # no callback: status only
        wait_until(lambda: carrier.status_of(second.sid) == "delivered", 5, "the second text")
    finally:
        carrier.close()

    assert carrier.status_of(first.sid) == "delivered"
    assert [t.body for t in carrier.texts_to(number)] == ["first", "second"]
    assert number not in caplog.text and number[2:] not in caplog.text
    assert "first" not in caplog.text
    assert "simulated status callback sent not taken (ConnectionError)" in caplog.text
