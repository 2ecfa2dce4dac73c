"""The fake Twilio API: Twilio's shapes and errors, fault injection, signed status callbacks."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from hotline.sms.sender import OutboundText, TwilioSender
from hotline.sms.signature import is_valid
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, new_phone, new_sid
from tests.support.fake_twilio import FakeTwilio
from tests.support.stack import ROOT, free_port

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SHORT_CODE = "233733"
SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as running:
        yield running


@pytest.fixture
def api(fake: FakeTwilio) -> Iterator[requests.Session]:
    """A plain HTTP session that authenticates as the fake's account."""
    with requests.Session() as session:
        session.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        yield session


def messages_url(fake: FakeTwilio, account_sid: str = TEST_ACCOUNT_SID) -> str:
    return f"{fake.base_url}/2010-04-01/Accounts/{account_sid}/Messages.json"


def create(api: requests.Session, fake: FakeTwilio, **form: str) -> requests.Response:
    form = {"To": new_phone(), "From": SHORT_CODE, "Body": "hello", **form}
    with api.post(messages_url(fake), data={k: v for k, v in form.items() if v}) as response:
        return response


class _RewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=2.0)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        url = url.replace("https://api.twilio.com", self.base_url)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def client(fake: FakeTwilio) -> Iterator[Client]:
    """twilio's own REST client, talking to the fake."""
    http_client = _RewritingHttpClient(fake.base_url)
    yield Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, http_client=http_client)
    http_client.session.close()


# -- a receiver for status callbacks ----------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    url: str
    form: dict[str, str]
    signature: str


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class Receiver:
    """The app's side of status callbacks: records each POST and answers ``answer``."""

    def __init__(self) -> None:
        self.answer = 204
        self._received: list[Callback] = []
        self._changed = threading.Condition()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )

    def url(self, path_with_query: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path_with_query}"

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        callback = Callback(
            request.url, dict(request.form), request.headers.get("X-Twilio-Signature", "")
        )
        with self._changed:
            self._received.append(callback)
            self._changed.notify_all()
        return Response(status=self.answer)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Callback]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self._received) >= count, timeout), (
                f"{len(self._received)} callback(s) arrived; expected {count}"
            )
            return list(self._received)

    def serve(self) -> Iterator[Receiver]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        yield self
        self._server.shutdown()
        self._server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from Receiver().serve()


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# -- creating messages ------------------------------------------------------------------------


def test_create_answers_201_with_a_twilio_shaped_message(
    fake: FakeTwilio, api: requests.Session
) -> None:
    fake.callbacks = False  # nobody listens at the callback URL
    phone = new_phone()
    before = datetime.now(UTC).replace(microsecond=0)

    response = create(api, fake, To=phone, Body="hello", StatusCallback="http://x.test/s")

    assert response.status_code == 201
    body = response.json()
    assert SID.fullmatch(body["sid"])
    assert body["account_sid"] == TEST_ACCOUNT_SID
    assert (body["to"], body["from"], body["body"]) == (phone, SHORT_CODE, "hello")
    assert (body["status"], body["direction"]) == ("queued", "outbound-api")
    assert (body["error_code"], body["error_message"], body["price"]) == (None, None, None)
    assert body["api_version"] == "2010-04-01"
    assert body["num_segments"] == "1"
    assert body["messaging_service_sid"] is None
    assert body["uri"] == f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages/{body['sid']}.json"
    for stamp in ("date_created", "date_updated", "date_sent"):
        assert before <= parsedate_to_datetime(body[stamp]) <= datetime.now(UTC)
    [recorded] = fake.messages
    assert recorded.sid == body["sid"]
    assert (recorded.to, recorded.from_, recorded.body) == (phone, SHORT_CODE, "hello")
    assert recorded.status_callback == "http://x.test/s"


def test_twilio_client_reads_what_the_fake_answers(fake: FakeTwilio, client: Client) -> None:
    phone = new_phone()

    message = client.messages.create(to=phone, from_=SHORT_CODE, body="hi")

    assert SID.fullmatch(message.sid)
    assert (message.to, message.from_, message.body, message.status) == (
        phone,
        SHORT_CODE,
        "hi",
        "queued",
    )
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert message.error_code is None


def test_messaging_service_message_has_no_sender_yet(
    fake: FakeTwilio, api: requests.Session
) -> None:
    service = new_sid("MG")

    body = create(api, fake, From="", MessagingServiceSid=service).json()

    assert (body["from"], body["messaging_service_sid"], body["status"]) == (
        None,
        service,
        "accepted",
    )


@pytest.mark.parametrize(
    ("missing", "code"), [("To", 21604), ("From", 21603), ("Body", 21602)], ids=str
)
def test_missing_field_is_a_400_with_twilios_code(
    fake: FakeTwilio, api: requests.Session, missing: str, code: int
) -> None:
    response = create(api, fake, **{missing: ""})

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert fake.messages == []


@pytest.mark.parametrize(
    "auth",
    [None, (TEST_ACCOUNT_SID, "wrong-token"), ("AC" + "9" * 32, TEST_AUTH_TOKEN)],
    ids=["none", "wrong-token", "wrong-account"],
)
def test_bad_credentials_are_a_401(fake: FakeTwilio, auth: tuple[str, str] | None) -> None:
    form = {"To": new_phone(), "From": SHORT_CODE, "Body": "hello"}
    with requests.post(messages_url(fake), data=form, auth=auth, timeout=2) as response:
        assert response.status_code == 401
        assert response.json()["code"] == 20003
    assert fake.messages == []


def test_another_accounts_path_is_a_404(fake: FakeTwilio, api: requests.Session) -> None:
    form = {"To": new_phone(), "From": SHORT_CODE, "Body": "hello"}
    with api.post(messages_url(fake, "AC" + "9" * 32), data=form) as response:
        assert response.status_code == 404
        assert response.json()["code"] == 20404
    assert fake.messages == []


def test_opted_out_number_is_refused_with_21610(fake: FakeTwilio, api: requests.Session) -> None:
    phone = new_phone()
    fake.opt_out(phone)

    response = create(api, fake, To=phone)

    assert (response.status_code, response.json()["code"]) == (400, 21610)
    assert fake.messages == []
    assert create(api, fake).status_code == 201  # other numbers still go


# -- fault injection --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_fail_next_answers_the_status_then_recovers(
    fake: FakeTwilio, api: requests.Session, status: int, code: int
) -> None:
    fake.fail_next(status, count=2)

    answers = [create(api, fake) for _ in range(3)]

    assert [a.status_code for a in answers] == [status, status, 201]
    assert [a.json()["code"] for a in answers[:2]] == [code, code]
    assert len(fake.messages) == 1
    assert fake.requests_received == 3


def test_fail_next_with_a_code(fake: FakeTwilio, api: requests.Session) -> None:
    fake.fail_next(400, code=21211)

    response = create(api, fake)

    assert (response.status_code, response.json()["code"]) == (400, 21211)
    assert fake.messages == []


def test_timeout_next_takes_the_message_but_answers_late(
    fake: FakeTwilio, api: requests.Session
) -> None:
    fake.timeout_next(seconds=3.0)
    form = {"To": new_phone(), "From": SHORT_CODE, "Body": "late"}
    started = time.monotonic()

    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(messages_url(fake), data=form, timeout=0.3)

    assert time.monotonic() - started < 2.0
    [recorded] = fake.messages
    assert recorded.body == "late"
    assert create(api, fake).status_code == 201  # only the next one was late


def test_stop_cuts_a_late_answer_short() -> None:
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    fake.start()
    fake.timeout_next(seconds=30.0)
    with requests.Session() as session:
        session.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        form = {"To": new_phone(), "From": SHORT_CODE, "Body": "late"}
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.post(messages_url(fake), data=form, timeout=0.2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2.0


def test_stop_still_sends_a_late_answer_then_closes(fake: FakeTwilio) -> None:
    fake.timeout_next(seconds=30.0)
    answers: list[int] = []

    def send_late() -> None:
        with requests.Session() as session:
            session.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
            form = {"To": new_phone(), "From": SHORT_CODE, "Body": "late"}
            with session.post(messages_url(fake), data=form, timeout=10) as response:
                answers.append(response.status_code)

    client = threading.Thread(target=send_late)
    client.start()
    fake.wait_for(1)
    started = time.monotonic()
    fake.stop()
    client.join(timeout=5)

    assert time.monotonic() - started < 2.0
    assert answers == [201]  # cut short, as the werkzeug server it replaced did


def test_late_answers_wait_on_no_other_request(fake: FakeTwilio, api: requests.Session) -> None:
    late = 20
    fake.timeout_next(count=late, seconds=30.0)
    senders = [threading.Thread(target=create, args=(api, fake)) for _ in range(late)]
    for sender in senders:
        sender.start()
    fake.wait_for(late)

    started = time.monotonic()
    with requests.Session() as other:  # a connection of its own: api's are all held up
        other.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        form = {"To": new_phone(), "From": SHORT_CODE, "Body": "on time"}
        with other.post(messages_url(fake), data=form, timeout=5) as response:
            assert response.status_code == 201
    assert time.monotonic() - started < 2.0
    fake.stop()  # answers the late ones at once
    for sender in senders:
        sender.join(timeout=5)


def test_stop_twice_then_start_again() -> None:
    port = free_port()
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, port=port)
    fake.start()
    assert fake.base_url == f"http://127.0.0.1:{port}"
    fake.stop()
    fake.stop()
    with fake, requests.Session() as session:
        session.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        assert create(session, fake).status_code == 201


# -- keep-alive ----------------------------------------------------------------------------------


def test_a_session_sends_over_one_kept_alive_connection(
    fake: FakeTwilio, api: requests.Session
) -> None:
    for _ in range(3):
        assert create(api, fake).status_code == 201
    with api.get(messages_url(fake)) as listing:
        assert listing.status_code == 200

    assert (fake.requests_received, fake.connections_accepted) == (4, 1)


def test_twilio_sender_sends_over_one_kept_alive_connection(fake: FakeTwilio) -> None:
    sender = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, from_number=SHORT_CODE, api_base=fake.base_url
    )

    first = sender.send(OutboundText(new_phone(), "first"))
    second = sender.send(OutboundText(new_phone(), "second"))

    assert first.sid != second.sid
    assert (fake.requests_received, fake.connections_accepted) == (2, 1)


def test_a_new_client_is_a_new_connection(fake: FakeTwilio) -> None:
    for _ in range(2):
        with requests.Session() as session:
            session.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
            assert create(session, fake).status_code == 201

    assert fake.connections_accepted == 2
    fake.reset()
    assert fake.connections_accepted == 0


def test_wait_for_returns_once_enough_arrived(fake: FakeTwilio, api: requests.Session) -> None:
    later = threading.Timer(0.1, lambda: create(api, fake))
    later.start()
    try:
        [message] = fake.wait_for(1, timeout=5.0)
    finally:
        later.join()
    assert SID.fullmatch(message.sid)


def test_wait_for_fails_with_a_clear_message(fake: FakeTwilio) -> None:
    with pytest.raises(AssertionError, match=r"accepted 0 message\(s\) within 0.05 s; expected"):
        fake.wait_for(1, timeout=0.05)


def test_reset_forgets_everything(fake: FakeTwilio, api: requests.Session) -> None:
    phone = new_phone()
    create(api, fake)
    fake.opt_out(phone)
    fake.fail_next(500)

    fake.reset()

    assert (fake.messages, fake.requests_received) == ([], 0)
    assert create(api, fake, To=phone).status_code == 201


def test_base_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).base_url


# -- listing ----------------------------------------------------------------------------------


def test_list_filters_by_number_newest_first(fake: FakeTwilio, api: requests.Session) -> None:
    phone = new_phone()
    for body in ("one", "two", "three"):
        create(api, fake, To=phone, Body=body)
    create(api, fake, Body="someone else")

    with api.get(messages_url(fake), params={"To": phone}) as response:
        listing = response.json()

    assert response.status_code == 200
    assert [m["body"] for m in listing["messages"]] == ["three", "two", "one"]
    assert (listing["page"], listing["page_size"], listing["next_page_uri"]) == (0, 50, None)
    assert listing["first_page_uri"].startswith(f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/")


def test_list_date_sent_after_compares_to_the_second(
    fake: FakeTwilio, api: requests.Session
) -> None:
    phone = new_phone()
    create(api, fake, To=phone)
    created = fake.messages[0].date_created

    def listed(after: datetime) -> int:
        query = {"To": phone, "DateSent>": after.strftime("%Y-%m-%dT%H:%M:%SZ")}
        with api.get(messages_url(fake), params=query) as response:
            return len(response.json()["messages"])

    assert listed(created - timedelta(minutes=1)) == 1
    assert listed(created.replace(microsecond=0)) == 1  # the same second counts
    assert listed(created + timedelta(seconds=1)) == 0


def test_list_refuses_a_bad_date(fake: FakeTwilio, api: requests.Session) -> None:
    with api.get(messages_url(fake), params={"DateSent>": "yesterday"}) as response:
        assert (response.status_code, response.json()["code"]) == (400, 20001)


def test_twilio_client_lists_and_follows_pages(
    fake: FakeTwilio, api: requests.Session, client: Client
) -> None:
    phone = new_phone()
    since = datetime.now(UTC) - timedelta(seconds=1)
    for body in ("one", "two", "three"):
        create(api, fake, To=phone, Body=body)

    listed = client.messages.list(to=phone, date_sent_after=since, page_size=2)
    later = client.messages.list(to=phone, date_sent_after=since + timedelta(minutes=1))

    assert [m.body for m in listed] == ["three", "two", "one"]
    assert later == []


# -- status callbacks -------------------------------------------------------------------------


def test_callbacks_arrive_signed_in_order(fake: FakeTwilio, receiver: Receiver) -> None:
    phone = new_phone()
    url = receiver.url("/twilio/status?m=42")
    sender = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, from_number=SHORT_CODE, api_base=fake.base_url
    )

    accepted = sender.send(OutboundText(phone, "hello", status_callback=url))

    callbacks = receiver.wait_for(2)
    assert [c.form["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    for callback in callbacks:
        assert callback.url == url
        assert is_valid(TEST_AUTH_TOKEN, url, callback.form, callback.signature)
        assert not is_valid("another-token", url, callback.form, callback.signature)
        assert callback.form["MessageSid"] == callback.form["SmsSid"] == accepted.sid
        assert callback.form["SmsStatus"] == callback.form["MessageStatus"]
        assert (callback.form["To"], callback.form["From"]) == (phone, SHORT_CODE)
        assert callback.form["AccountSid"] == TEST_ACCOUNT_SID
        assert callback.form["ApiVersion"] == "2010-04-01"
    wait_until(lambda: len(fake.callback_results) == 2)
    assert [(r.sid, r.status, r.http_status) for r in fake.callback_results] == [
        (accepted.sid, "sent", 204),
        (accepted.sid, "delivered", 204),
    ]
    assert fake.messages[0].status == "delivered"
    assert fake.callback_errors == []


def test_callback_statuses_can_be_changed(fake: FakeTwilio, receiver: Receiver) -> None:
    fake.callback_statuses = ("sent", "undelivered")
    receiver.answer = 403
    with requests.Session() as api:
        api.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        create(api, fake, StatusCallback=receiver.url("/twilio/status"))

    callbacks = receiver.wait_for(2)

    assert [c.form["MessageStatus"] for c in callbacks] == ["sent", "undelivered"]
    assert "ErrorCode" not in callbacks[0].form
    assert callbacks[1].form["ErrorCode"] == "30008"
    wait_until(lambda: len(fake.callback_results) == 2)
    assert [r.http_status for r in fake.callback_results] == [403, 403]


def test_undeliverable_callbacks_are_recorded_not_raised(
    fake: FakeTwilio, api: requests.Session
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/twilio/status"

    sid = create(api, fake, StatusCallback=nobody).json()["sid"]

    wait_until(lambda: len(fake.callback_errors) == 2)
    assert [(e.sid, e.status, e.error) for e in fake.callback_errors] == [
        (sid, "sent", "ConnectionRefusedError"),
        (sid, "delivered", "ConnectionRefusedError"),
    ]
    assert fake.callback_results == []


def test_no_callbacks_when_turned_off(receiver: Receiver) -> None:
    with FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, callbacks=False) as fake:
        with requests.Session() as api:
            api.auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
            create(api, fake, StatusCallback=receiver.url("/twilio/status"))
        assert fake.messages[0].status == "queued"
    with pytest.raises(AssertionError, match="0 callback"):
        receiver.wait_for(1, timeout=0.1)


# -- privacy and the command line -------------------------------------------------------------


def test_logs_no_number_and_no_body(
    fake: FakeTwilio,
    api: requests.Session,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    phone, body = new_phone(), "secret words"

    create(api, fake, To=phone, Body=body, StatusCallback=receiver.url("/twilio/status"))
    with api.get(messages_url(fake), params={"To": phone}):
        pass
    fake.fail_next(400, code=21211)
    create(api, fake, To=phone, Body=body)
    receiver.wait_for(2)

    # The test's own client (this thread) may log its URLs; the fake's threads must not (they
    # post callbacks with http.client, which logs nothing, and its server's request lines are
    # silenced).
    fakes_logs = "\n".join(
        r.getMessage() for r in caplog.records if r.thread != threading.get_ident()
    )
    printed = capfd.readouterr()
    for output in (fakes_logs, printed.out, printed.err):
        assert phone not in output and phone[1:] not in output
        assert body not in output


def test_runs_from_the_command_line() -> None:
    command = [sys.executable, "-m", "tests.support.fake_twilio", "--port", "0"]
    command += ["--account-sid", TEST_ACCOUNT_SID, "--auth-token", TEST_AUTH_TOKEN]
    # From the top of the checkout, where ``tests`` is importable, whatever pytest's own directory.
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        try:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
            form = {"To": new_phone(), "From": SHORT_CODE, "Body": "bench"}
            url = f"{base_url}/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
            auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
            with requests.post(url, data=form, auth=auth, timeout=5) as response:
                assert response.status_code == 201
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
