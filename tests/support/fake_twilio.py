"""A local fake of Twilio's Messages REST API, for the real twilio client to talk to.

Point :class:`~hotline.sms.sender.TwilioSender` at it with ``api_base=fake.base_url``. It
answers like Twilio (Basic auth, the same JSON shapes and error codes), records what it took,
fails on demand (HTTP errors, answers that come too late) and posts signed status callbacks.

Where it differs from Twilio:

* ``DateSent`` filters compare to the second (Twilio documents whole days), and ``date_sent``
  is the moment the message was accepted (Twilio leaves it null until the carrier has it).
* Statuses move only through the callbacks it posts; nothing reaches a phone.

It logs nothing at all, because request lines carry phone numbers in their query strings.

``python -m tests.support.fake_twilio --port 8099 --account-sid AC... --auth-token T``, run at
the top of the checkout, serves one until Ctrl-C, for benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import http.client
import json
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode, urlsplit

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from hotline.domain.segments import count_segments
from hotline.sms.signature import sign

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

API_VERSION = "2010-04-01"
CALLBACK_TIMEOUT = 2.0
# Requests answered at once. A late answer holds a thread for its whole delay; werkzeug's server,
# used before, gave every request its own thread. Enough that late answers queue behind none.
SERVER_THREADS = 32
_MESSAGES = f"/{API_VERSION}/Accounts/<account_sid>/Messages.json"
_ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",  # Twilio quotes it; so do we
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
}


@dataclass(frozen=True)
class FakeMessage:
    """A message the fake accepted, as Twilio holds it. Number and body stay out of repr."""

    sid: str
    account_sid: str
    to: str = field(repr=False)
    from_: str | None = field(repr=False)
    messaging_service_sid: str | None
    body: str = field(repr=False)
    status: str
    date_created: datetime
    date_updated: datetime
    status_callback: str | None
    direction: str = "outbound-api"


@dataclass(frozen=True)
class CallbackResult:
    sid: str
    status: str
    http_status: int


@dataclass(frozen=True)
class CallbackError:
    sid: str
    status: str
    error: str  # the exception's class name only: its message may quote the URL's query


@dataclass(frozen=True)
class _Fault:
    status: int | None  # answer this HTTP status; None: take the message, answer late
    code: int | None = None
    delay: float = 0.0


def _counted(count: Callable[[], None]) -> type[HTTPChannel]:
    """waitress's connection class, calling ``count`` for each connection the server accepts."""

    class CountedChannel(HTTPChannel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            count()

    return CountedChannel


class FakeTwilio:
    """Twilio's Messages API on ``127.0.0.1``; see the module docstring."""

    def __init__(
        self, account_sid: str, auth_token: str, *, callbacks: bool = True, port: int = 0
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks = callbacks
        self.callback_statuses: tuple[str, ...] = ("sent", "delivered")
        self.callback_delay = 0.0  # seconds before each callback
        self._port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()  # late answers go out at once
        self._closing = threading.Event()  # waitress's loop thread closes every connection
        self._server: BaseWSGIServer | None = None
        self._port_served = 0
        self._thread: threading.Thread | None = None
        self._callback_threads: list[threading.Thread] = []
        self._routes = Map([Rule(_MESSAGES, endpoint="messages", methods=["GET", "POST"])])
        self._messages: list[FakeMessage] = []
        self._positions: dict[str, int] = {}  # sid -> index in _messages
        self._faults: deque[_Fault] = deque()
        self._opted_out: set[str] = set()
        self._requests_received = 0
        self._connections_accepted = 0
        self._callback_results: list[CallbackResult] = []
        self._callback_errors: list[CallbackError] = []

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free port (or the one given) and serve in a daemon thread.

        waitress keeps connections alive, as api.twilio.com does: a sender's pooled connection
        is used again rather than a new one made for every text, so the benchmarks count no
        connect per text that production does not pay. It logs no request lines (they carry
        phone numbers in their query strings).
        """
        if self._server is not None:
            raise RuntimeError("this fake Twilio is already running")
        self._stopping.clear()
        self._closing.clear()
        sockets: dict[int, Any] = {}  # waitress's socket map: what its loop thread serves
        server = create_server(
            self._wsgi, map=sockets, host="127.0.0.1", port=self._port, threads=SERVER_THREADS
        )
        if not isinstance(server, BaseWSGIServer):  # one address given, so one listening socket
            server.close()
            raise RuntimeError("waitress opened more than one listening socket")
        server.channel_class = _counted(self._connection_accepted)
        self._server, self._port_served = server, int(server.getsockname()[1])
        self._thread = threading.Thread(
            target=self._serve, args=(server, sockets), name="fake-twilio", daemon=True
        )
        self._thread.start()

    def _serve(self, server: BaseWSGIServer, sockets: dict[int, Any]) -> None:
        """waitress's loop (``server.run()``), closing every connection once ``stop`` asks: they
        belong to this thread, and the loop ends when none is left."""
        closed = False
        while sockets:
            wasyncore.loop(
                timeout=server.adj.asyncore_loop_timeout,
                use_poll=server.adj.asyncore_use_poll,
                map=sockets,
                count=1,
            )
            if self._closing.is_set() and not closed:
                closed = True
                for dispatcher in list(sockets.values()):
                    if isinstance(dispatcher, HTTPChannel) and dispatcher.total_outbufs_len:
                        dispatcher.close_when_flushed = True  # an answer still to send
                    else:
                        dispatcher.close()

    def stop(self) -> None:
        """Stop serving, cut short any delayed answer, and wait for callbacks in flight.

        A request being answered gets its answer (a late one at once), then every connection
        closes.
        """
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        # The requests in hand finish first, so their answers are queued before anything closes.
        server.task_dispatcher.shutdown(timeout=5)
        self._closing.set()
        # Wakes the loop thread; if it saw _closing first, it has closed its trigger already.
        with contextlib.suppress(OSError):
            server.pull_trigger()
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            pending, self._callback_threads = self._callback_threads, []
        for callback_thread in pending:
            callback_thread.join(timeout=CALLBACK_TIMEOUT * 2)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("start the fake Twilio first")
        return f"http://127.0.0.1:{self._port_served}"

    # -- what the tests steer and read ----------------------------------------------------------

    def fail_next(self, status: int, count: int = 1, code: int | None = None) -> None:
        """Answer the next ``count`` create requests with this HTTP status and Twilio error.

        ``code`` defaults to Twilio's generic one for the status (20429, 20500, 20503, ...).
        """
        with self._lock:
            self._faults.extend(_Fault(status, code) for _ in range(count))

    def timeout_next(self, count: int = 1, seconds: float = 5.0) -> None:
        """Take the next ``count`` messages, but answer only after ``seconds`` (or at stop)."""
        with self._lock:
            self._faults.extend(_Fault(None, delay=seconds) for _ in range(count))

    def opt_out(self, number: str) -> None:
        """Refuse texts to ``number`` from now on, as Twilio does after STOP (error 21610)."""
        with self._lock:
            self._opted_out.add(number)

    def reset(self) -> None:
        """Forget messages, faults, opt-outs, counts and callback records."""
        with self._lock:
            self._messages.clear()
            self._positions.clear()
            self._faults.clear()
            self._opted_out.clear()
            self._requests_received = 0
            self._connections_accepted = 0
            self._callback_results.clear()
            self._callback_errors.clear()

    @property
    def messages(self) -> list[FakeMessage]:
        """The accepted messages, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def requests_received(self) -> int:
        """Every HTTP request that reached the fake, whatever it was answered."""
        with self._lock:
            return self._requests_received

    @property
    def connections_accepted(self) -> int:
        """Every TCP connection the fake accepted; a kept-alive one counts once."""
        with self._lock:
            return self._connections_accepted

    def _connection_accepted(self) -> None:
        with self._lock:
            self._connections_accepted += 1

    @property
    def callback_results(self) -> list[CallbackResult]:
        with self._lock:
            return list(self._callback_results)

    @property
    def callback_errors(self) -> list[CallbackError]:
        with self._lock:
            return list(self._callback_errors)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[FakeMessage]:
        """Block until at least ``count`` messages were accepted; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"fake Twilio accepted {len(self._messages)} message(s) within "
                    f"{timeout:g} s; expected at least {count}"
                )
            return list(self._messages)

    # -- the API --------------------------------------------------------------------------------

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._dispatch(Request(environ))(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self._requests_received += 1
        try:
            _, args = self._routes.bind_to_environ(request.environ).match()
        except MethodNotAllowed:
            return _error(405, 20004, "Method not allowed")
        except HTTPException:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        auth = request.authorization
        if auth is None or not (
            _same(auth.username, self.account_sid) and _same(auth.password, self.auth_token)
        ):
            return _error(401, 20003)
        if args["account_sid"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method == "POST":
            return self._create(request.form)
        return self._list(request.args)

    def _create(self, form: Mapping[str, str]) -> Response:
        to, body = form.get("To", ""), form.get("Body", "")
        from_ = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.status is not None:
            return _error(fault.status, fault.code or 20000 + fault.status, to=to)
        if not to:
            return _error(400, 21604)
        if not (from_ or service):
            return _error(400, 21603)
        if not body:
            return _error(400, 21602)
        now = datetime.now(UTC)
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            messaging_service_sid=service,
            body=body,
            # Through a Messaging Service, Twilio has yet to pick the sender.
            status="queued" if from_ else "accepted",
            date_created=now,
            date_updated=now,
            status_callback=form.get("StatusCallback") or None,
        )
        with self._changed:
            if to in self._opted_out:
                return _error(400, 21610)
            self._positions[message.sid] = len(self._messages)
            self._messages.append(message)
            self._changed.notify_all()
        if self.callbacks and message.status_callback:
            self._start_callbacks(message)
        if fault is not None:  # Twilio took it, but its answer comes too late
            self._stopping.wait(fault.delay)
        return _json(_resource(message), 201)

    def _list(self, query: Mapping[str, str]) -> Response:
        try:
            after = _instant(query.get("DateSent>") or query.get("DateSent>="))
            before = _instant(query.get("DateSent<") or query.get("DateSent<="))
            day = _instant(query.get("DateSent"))
            page = int(query.get("Page", "0"))
            size = min(int(query.get("PageSize", "50")), 1000)
        except ValueError:
            return _error(400, 20001, "Invalid value for a list filter")
        if page < 0 or size < 1:
            return _error(400, 20001, "Invalid value for Page or PageSize")
        to, from_ = query.get("To"), query.get("From")
        with self._lock:
            found = [
                m
                for m in reversed(self._messages)  # Twilio lists newest first
                if (to is None or m.to == to)
                and (from_ is None or m.from_ == from_)
                and (after is None or m.date_created.replace(microsecond=0) >= after)
                and (before is None or m.date_created.replace(microsecond=0) <= before)
                and (day is None or m.date_created.date() == day.date())
            ]
        start = page * size
        chunk = found[start : start + size]
        kept = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json?"

        def page_uri(number: int) -> str:
            return path + urlencode({**kept, "PageSize": size, "Page": number})

        listing = {
            "messages": [_resource(m) for m in chunk],
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "page": page,
            "page_size": size,
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "next_page_uri": page_uri(page + 1) if len(found) > start + size else None,
        }
        return _json(listing, 200)

    # -- status callbacks -----------------------------------------------------------------------

    def _start_callbacks(self, message: FakeMessage) -> None:
        thread = threading.Thread(
            target=self._post_callbacks, args=(message,), name="fake-twilio-callbacks", daemon=True
        )
        with self._lock:
            self._callback_threads = [t for t in self._callback_threads if t.is_alive()]
            self._callback_threads.append(thread)
        thread.start()

    def _post_callbacks(self, message: FakeMessage) -> None:
        """Post each callback status in turn, on one connection per message. Plain http.client:
        the benchmarks count this process's CPU against the machine the stack runs on."""
        url = message.status_callback or ""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.hostname or "127.0.0.1", parts.port, timeout=CALLBACK_TIMEOUT)
        try:
            for status in tuple(self.callback_statuses):
                if self._stopping.wait(self.callback_delay):
                    return
                self._set_status(message.sid, status)
                params = _callback_params(message, status)
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sign(self.auth_token, url, params),
                }
                try:
                    connection.request("POST", target, body=urlencode(params), headers=headers)
                    with connection.getresponse() as response:
                        response.read()
                        result = CallbackResult(message.sid, status, response.status)
                except Exception as exc:  # recorded for the test to see; a thread cannot raise
                    connection.close()  # the next status gets a new connection
                    with self._lock:
                        self._callback_errors.append(
                            CallbackError(message.sid, status, type(exc).__name__)
                        )
                    continue
                with self._lock:
                    self._callback_results.append(result)
        finally:
            connection.close()

    def _set_status(self, sid: str, status: str) -> None:
        with self._lock:
            index = self._positions.get(sid)
            if index is not None:
                stored = self._messages[index]
                self._messages[index] = replace(
                    stored, status=status, date_updated=datetime.now(UTC)
                )


def _callback_params(message: FakeMessage, status: str) -> dict[str, str]:
    params = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": message.account_sid,
        "To": message.to,
        "ApiVersion": API_VERSION,
    }
    if message.from_:
        params["From"] = message.from_
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if status in ("failed", "undelivered"):
        params["ErrorCode"] = "30008"  # "Unknown error"
    return params


def _resource(message: FakeMessage) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}"
    created = format_datetime(message.date_created)
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "messaging_service_sid": message.messaging_service_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "direction": message.direction,
        "date_created": created,
        "date_sent": created,
        "date_updated": format_datetime(message.date_updated),
        "num_segments": str(count_segments(message.body).segments),
        "num_media": "0",
        "error_code": None,
        "error_message": None,
        "price": None,
        "price_unit": "USD",
        "api_version": API_VERSION,
        "uri": uri + ".json",
        "subresource_uris": {"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
    }


def _instant(value: str | None) -> datetime | None:
    """A ``DateSent`` filter value (a date, or a date and time) as an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _json(payload: Mapping[str, Any], status: int) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _error(status: int, code: int, message: str | None = None, *, to: str = "") -> Response:
    text = message or _ERROR_MESSAGES.get(code, "Injected failure").format(to=to)
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return _json({"code": code, "message": text, "more_info": more_info, "status": status}, status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_twilio",
        description="Serve a local fake of Twilio's Messages API until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--no-callbacks", action="store_true", help="post no status callbacks")
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid, args.auth_token, callbacks=not args.no_callbacks, port=args.port
    )
    with fake:
        print(fake.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
