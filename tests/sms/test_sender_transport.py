"""TwilioSender's HTTP layer (urllib3's pool behind requests' adapter) keeps what the requests
session gave: keep-alive, the environment's proxy and CA bundle, the request as twilio's client
shaped it, and the sorting of failures by whether Twilio may have the text.

These tests talk to a small HTTP/1.1 server of their own, which records each request as it
came over the wire and can answer, cut or refuse as a test needs; the fake Twilio's own
keep-alive is tested in tests/sms/test_fake_twilio.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from hotline import runtime_of
from hotline.background import jobs
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import PROCESS_INBOUND, SEND_MESSAGE, InProcessQueue
from hotline.sms.sender import (
    AmbiguousSendError,
    OutboundText,
    TwilioSender,
    _BaseUrlHttpClient,
)
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, new_phone
from tests.helpers import messages_of, post_signed, send_failing, sms_form

SHORT_CODE = "233733"
MESSAGES = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"


@dataclass
class Seen:
    method: str
    target: str  # the request line's target: a path, or a whole URL through a proxy
    headers: dict[str, str]
    body: bytes


@dataclass
class KeepAliveServer:
    """Answers every request like Twilio accepting a message, over kept-alive connections."""

    server: ThreadingHTTPServer
    base_url: str
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    hang_up: bool = False  # read the request, then close without answering


def _handler(state: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            state["server"].connections += 1

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry phone numbers

        def _answer(self) -> None:
            server: KeepAliveServer = state["server"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            if server.hang_up:
                self.close_connection = True
                return
            if self.path.endswith("/redirected") or "/moved" not in self.path:
                status = 201 if self.command == "POST" else 200
                sid = f"SM{len(server.seen):032x}"
                payload = json.dumps({"sid": sid, "status": "queued"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(302)
            self.send_header("Location", self.path.replace("/moved", "/redirected"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

    return Handler


def _serve(tls: ssl.SSLContext | None = None) -> KeepAliveServer:
    state: dict[str, Any] = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    scheme = "http"
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    running = KeepAliveServer(httpd, f"{scheme}://127.0.0.1:{httpd.server_address[1]}")
    state["server"] = running
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return running


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    running = _serve()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def twilio_sender(base_url: str, timeout: float = 2.0) -> TwilioSender:
    return TwilioSender(
        TEST_ACCOUNT_SID,
        TEST_AUTH_TOKEN,
        from_number=SHORT_CODE,
        api_base=base_url,
        timeout=timeout,
    )


pytestmark = pytest.mark.usefixtures("no_proxy_settings")


# -- what goes over the wire ------------------------------------------------------------------


def test_texts_go_over_one_kept_alive_connection(server: KeepAliveServer) -> None:
    sender = twilio_sender(server.base_url)

    for _ in range(3):
        sender.send(OutboundText(new_phone(), "hello"))

    assert len(server.seen) == 3
    assert server.connections == 1


def test_the_request_is_the_one_twilio_shaped(server: KeepAliveServer) -> None:
    phone = new_phone()

    twilio_sender(server.base_url).send(
        OutboundText(phone, "we are here ✓", status_callback="https://h.test/s?m=1")
    )

    [seen] = server.seen
    assert (seen.method, seen.target) == ("POST", MESSAGES)
    assert parse_qs(seen.body.decode(), strict_parsing=True) == {
        "To": [phone],
        "From": [SHORT_CODE],
        "Body": ["we are here ✓"],
        "StatusCallback": ["https://h.test/s?m=1"],
    }
    token = base64.b64encode(f"{TEST_ACCOUNT_SID}:{TEST_AUTH_TOKEN}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {token}"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.headers["Content-Length"] == str(len(seen.body))
    assert seen.headers["User-Agent"].startswith("twilio-python/")
    assert seen.headers["Accept"] == "application/json"
    assert "gzip" in seen.headers["Accept-Encoding"]  # as requests' session asked


def test_query_parameters_join_those_already_in_the_url(server: KeepAliveServer) -> None:
    client = _BaseUrlHttpClient(server.base_url, 2.0)

    answer = client.request(
        "GET",
        f"https://api.twilio.com{MESSAGES}?PageToken=PA1",
        params={"To": "+15005550006", "PageSize": 50, "Skipped": None},
    )

    assert answer.status_code == 200
    assert json.loads(answer.text)["status"] == "queued"
    query = parse_qs(urlsplit(server.seen[0].target).query)
    assert query == {"PageToken": ["PA1"], "To": ["+15005550006"], "PageSize": ["50"]}
    assert client._test_only_last_response is answer


def test_a_json_request_is_sent_as_json(server: KeepAliveServer) -> None:
    client = _BaseUrlHttpClient(server.base_url, 2.0)

    client.request(
        "POST",
        f"https://api.twilio.com{MESSAGES}",
        data={"friendly_name": "a", "list": [1, 2]},
        headers={"Content-Type": "application/json"},
    )

    assert json.loads(server.seen[0].body) == {"friendly_name": "a", "list": [1, 2]}


def test_a_request_that_follows_redirects_is_followed(server: KeepAliveServer) -> None:
    client = _BaseUrlHttpClient(server.base_url, 2.0)

    answer = client.request("GET", f"{server.base_url}/moved", allow_redirects=True)

    assert answer.status_code == 200
    assert [seen.target for seen in server.seen] == ["/moved", "/redirected"]


def test_a_timeout_of_zero_is_refused(server: KeepAliveServer) -> None:
    client = _BaseUrlHttpClient(server.base_url, 2.0)

    with pytest.raises(ValueError):
        client.request("GET", f"{server.base_url}/x", timeout=0)

    assert server.seen == []


def process_first_text(app: Flask, phone: str, body: str) -> None:
    """The webhook stores the text, then the inbound job runs here and sends its replies."""
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    [(name, message_id)] = tasks.pending()
    assert name == PROCESS_INBOUND
    handed = runtime_of(app).tasks = InProcessQueue(start=False)
    handed.bind({PROCESS_INBOUND: lambda _: None, SEND_MESSAGE: lambda _: None})
    jobs.process_inbound(runtime_of(app), message_id)


def test_the_worker_sends_a_first_texts_replies_over_one_connection(
    make_app: Callable[..., Flask], database_url: str, server: KeepAliveServer
) -> None:
    app = make_app(database_url, sender=twilio_sender(server.base_url))
    phone = new_phone()

    process_first_text(app, phone, "he has a gun and he is here")  # guidance, then the line

    replies = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    assert len(replies) == 2
    assert all(m.status is DeliveryStatus.QUEUED for m in replies)  # as Twilio answered
    assert len(server.seen) == 2
    assert sorted(str(m.twilio_sid) for m in replies) == [f"SM{n:032x}" for n in (1, 2)]
    assert server.connections == 1


def test_the_worker_keeps_a_reply_whose_connection_was_cut_for_reconciling(
    make_app: Callable[..., Flask], database_url: str, server: KeepAliveServer
) -> None:
    server.hang_up = True
    app = make_app(database_url, sender=twilio_sender(server.base_url))
    phone = new_phone()

    process_first_text(app, phone, "he has a gun and he is here")

    replies = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    # The first may be at Twilio: it stays submitting until reconciled; the second waits.
    assert [m.status for m in replies] == [DeliveryStatus.SUBMITTING, DeliveryStatus.PENDING]
    assert all(m.twilio_sid is None for m in replies)
    assert len(server.seen) == 1


# -- the environment: proxies and the CA bundle -------------------------------------------------


def test_the_proxy_of_the_environment_carries_the_text(
    server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.base_url)
    # Resolvable by no one: the text gets through only by the proxy.
    sender = twilio_sender("http://api.twilio.invalid")

    sender.send(OutboundText(new_phone(), "hello"))

    [seen] = server.seen
    assert seen.target == f"http://api.twilio.invalid{MESSAGES}"


def test_a_host_in_no_proxy_is_reached_directly(
    server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = _serve()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")

        twilio_sender(server.base_url).send(OutboundText(new_phone(), "hello"))

        assert [seen.target for seen in server.seen] == [MESSAGES]
        assert proxy.seen == []
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotline test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[KeepAliveServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    running = _serve(context)
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_an_unknown_certificate_is_refused_and_the_text_kept_for_reconciling(
    tls_server: KeepAliveServer,
) -> None:
    # Checked against certifi's bundle, which does not know it. As before the change, a TLS
    # failure counts as ambiguous.
    with pytest.raises(AmbiguousSendError):
        twilio_sender(tls_server.base_url).send(OutboundText(new_phone(), "hello"))

    assert tls_server.seen == []


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_of_the_environment_is_trusted(
    tls_server: KeepAliveServer,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    monkeypatch.setenv(variable, str(certificate[0]))
    sender = twilio_sender(tls_server.base_url)

    sender.send(OutboundText(new_phone(), "hello"))
    sender.send(OutboundText(new_phone(), "hello"))

    assert len(tls_server.seen) == 2
    assert tls_server.connections == 1


# -- failures ---------------------------------------------------------------------------------


def test_a_connection_cut_after_sending_is_ambiguous(server: KeepAliveServer) -> None:
    server.hang_up = True

    error = send_failing(twilio_sender(server.base_url), new_phone(), "private words")

    assert type(error) is AmbiguousSendError
    assert len(server.seen) == 1


def test_a_proxy_that_refuses_is_ambiguous_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests reports it as a ProxyError, which never counted as "not reached".
    closed = _serve()
    closed.server.server_close()
    monkeypatch.setenv("HTTP_PROXY", closed.base_url)

    error = send_failing(twilio_sender("http://api.twilio.invalid"), new_phone(), "private")

    assert type(error) is AmbiguousSendError
