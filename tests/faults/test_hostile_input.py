"""Hostile input to the Twilio webhooks, on both databases, through the in-process app.

Everything fuzzed here is *correctly signed* (with the test auth token), so it gets past the
signature check and exercises what comes after it: form parsing, validation, storing, and the
worker's processing of what was stored. The promises under test:

* never a 500 (an exception escaping the view fails the test too: ``TESTING`` propagates it);
* never a partial record: a whole message with its texter, or nothing at all;
* never an outbound fetch (media URLs pointing at 169.254.169.254, 127.0.0.1, ``file://``):
  a guard on ``socket.socket.connect`` refuses and records every connection that is not to the
  database, and an audit hook records URL opens, subprocesses and reads of the ``file://``
  targets.

Then the signature's edge cases (ports, schemes, slashes, proxies: what twilio's
``RequestValidator`` really does), and STOP's look-alikes.
"""

from __future__ import annotations

import hashlib
import operator
import re
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder, TestResponse

from hotline import runtime_of
from hotline.db.models import Message, Texter
from hotline.domain.delivery import DeliveryStatus, Direction, rank
from hotline.infra.taskqueue import InProcessQueue
from hotline.sms.inbound import parse_inbound
from hotline.sms.sender import LocalSender
from hotline.sms.signature import sign
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_PUBLIC_URL,
    new_phone,
)
from tests.helpers import events_of, messages_of, post_signed, sms_form, texter_of

FORM = "application/x-www-form-urlencoded"

# -- the guard against outbound connections ------------------------------------------------------

_DATABASE = urlsplit(POSTGRES_ADMIN_URL)
# psycopg connects through libpq, below Python's socket module, so the guard never even sees
# the database; it is allowed all the same, so a pure-Python driver would keep working.
DATABASE_ADDRESSES = {("127.0.0.1", 5432), (_DATABASE.hostname, _DATABASE.port or 5432)}
LOCAL_NAMES = {"127.0.0.1", "localhost", "::1", _DATABASE.hostname}
FILE_TARGETS = {"/etc/passwd", "/proc/self/environ", "/etc/shadow"}


@dataclass
class ConnectGuard:
    """What the code under test tried to reach while the guard was on."""

    attempts: list[str] = field(default_factory=list)

    def record(self, what: str) -> None:
        self.attempts.append(what)

    def assert_quiet(self) -> None:
        attempts, self.attempts = self.attempts, []
        assert attempts == [], f"outbound access during the request: {attempts}"


_active_guard: ConnectGuard | None = None
_audit_hook_installed = False
_AUDITED = {"urllib.Request", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    guard = _active_guard
    if guard is None:
        return
    if event in _AUDITED:
        guard.record(f"{event}: {args[0]!r}")
    elif event == "open" and isinstance(args[0], str) and args[0] in FILE_TARGETS:
        guard.record(f"open: {args[0]!r}")


def _allowed(address: Any) -> bool:
    return isinstance(address, tuple) and (address[0], address[1]) in DATABASE_ADDRESSES


@pytest.fixture
def connect_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectGuard]:
    """Refuse, and record, every connection that is not to the database while the test runs."""
    global _active_guard, _audit_hook_installed
    guard = ConnectGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        if not _allowed(address):
            guard.record(f"connect: {address!r}")
            raise ConnectionRefusedError("outbound connection refused by the test guard")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not _allowed(address):
            guard.record(f"connect_ex: {address!r}")
            return 111  # ECONNREFUSED
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL_NAMES:
            guard.record(f"getaddrinfo: {host!r}")
            raise socket.gaierror("name lookup refused by the test guard")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    if not _audit_hook_installed:
        sys.addaudithook(_audit)  # hooks cannot be removed: this one idles without a guard
        _audit_hook_installed = True
    _active_guard = guard
    try:
        yield guard
    finally:
        _active_guard = None
    guard.assert_quiet()


def test_the_guard_itself_catches_a_fetch(connect_guard: ConnectGuard) -> None:
    import urllib.request

    with pytest.raises(OSError):
        socket.create_connection(("169.254.169.254", 80), timeout=0.2)
    with pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:1/", timeout=0.2)
    with urllib.request.urlopen("file:///etc/passwd") as fetched:  # noqa: S310
        fetched.read(1)
    assert any("169.254.169.254" in a for a in connect_guard.attempts)
    assert any(a.startswith("urllib.Request") and "127.0.0.1" in a for a in connect_guard.attempts)
    assert "open: '/etc/passwd'" in connect_guard.attempts
    connect_guard.attempts.clear()


# -- the database, seen from the tests ------------------------------------------------------------


def counts(app: Flask) -> tuple[int, int]:
    """(texters, messages) in the whole database."""
    with runtime_of(app).sessions() as session:
        texters = session.scalar(select(func.count()).select_from(Texter)) or 0
        messages = session.scalar(select(func.count()).select_from(Message)) or 0
        return int(texters), int(messages)


def message_by_sid(app: Flask, sid: str) -> Message | None:
    with runtime_of(app).sessions() as session:
        return session.scalars(select(Message).where(Message.twilio_sid == sid)).first()


def run_queue(app: Flask) -> None:
    queue = runtime_of(app).tasks
    assert isinstance(queue, InProcessQueue)
    queue.run_due(include_delayed=True)


def sent_to(app: Flask, phone: str) -> list[str]:
    sender = runtime_of(app).sender
    assert isinstance(sender, LocalSender)
    return [text.body for _, text, _ in sender.outbox if text.to == phone]


# -- hostile requests ----------------------------------------------------------------------------

KNOWN_FIELDS = [
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To",
    "Body", "NumMedia", "NumSegments", "MediaUrl0", "MediaContentType0", "MessageStatus",
    "SmsStatus", "ErrorCode", "FromCountry", "ApiVersion",
]  # fmt: skip
SPECIAL_VALUES = [
    "", " ", "\x00", "a\x00b", "STOP\x00", "\u202eevil\u202c", "\u200b", "\ufeffSTOP",
    "\u200d\u200c\u2060", "שלום עולם", "مرحبا", "ЅТОР", "ＳＴＯＰ", "😀" * 5, "\r\n\r\n",
    "%00", "%FF%FE", "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "../../etc/passwd",
    "NaN", "-1", "99999999999999999999", "1e9", "١٢", "٣", " 3 ", "0x10", "+0", "\t10",
    "+1 (555) 010-0123", "+4477009\u200b00123", "x" * 1601, "x" * 70_000,
]  # fmt: skip
INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:1/",
    "http://127.0.0.1:5432/",
    "http://localhost:6379/",
    "http://[::1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "file:///etc/passwd",
    "file:///proc/self/environ",
]
MEDIA_TYPES = ["image/jpeg", "video/mp4", "IMAGE/PNG", "text/html; charset=x", "", "image/"]

texts = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),  # no lone surrogates
    st.sampled_from(SPECIAL_VALUES),
    st.builds(
        operator.mul,
        st.sampled_from(["x", "é", "😀", "\u200b", "\u202e", "\x00", "%"]),
        st.integers(0, 2000),
    ),
)
field_names = st.one_of(st.sampled_from(KNOWN_FIELDS), st.text(max_size=16))
message_sids = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "SM" + h)


def sids_from(sender: str) -> st.SearchStrategy[str]:
    """Message SIDs that repeat only with the same ``From``, as Twilio's own retries do.

    A repeated SID from another number is a known bug, pinned by its own test below.
    """
    prefix = hashlib.sha256(sender.encode("utf-8", "replace")).hexdigest()[:16]
    return st.text("0123456789abcdef", min_size=16, max_size=16).map(lambda h: "SM" + prefix + h)


# Fictional UK mobile numbers, so no fuzzed texter is another test's +1555 texter.
phones = st.one_of(
    st.from_regex(r"\+4477009[0-9]{5}", fullmatch=True),
    st.from_regex(r"\+44 7700 9[0-9]{5}", fullmatch=True),
    texts,
)
ENCODINGS = ["utf-8", "latin-1", "utf-16", "raw", "junk"]
CONTENT_TYPES = [
    FORM,
    FORM + "; charset=utf-8",
    FORM + "; charset=latin-1",
    FORM + "; charset=utf-16",
]


@dataclass(frozen=True)
class RawRequest:
    path: str  # with its query string, as sent
    body: bytes
    content_type: str


def _encode(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> bytes:
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding in ("utf-8", "latin-1", "utf-16"):
        return urlencode(pairs, encoding=encoding, errors="replace").encode("ascii")
    raw = "&".join(f"{name}={value}" for name, value in pairs).encode("utf-8", "replace")
    if encoding == "junk":  # bytes that are not UTF-8, spliced in anywhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=6)) + raw[at:]
    return raw


@st.composite
def inbound_requests(draw: st.DrawFn) -> RawRequest:
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)) > 0:  # mostly a plausible Twilio form, gone wrong somewhere
        sender = draw(phones)
        pairs += [
            (draw(st.sampled_from(["MessageSid", "SmsSid"])), draw(sids_from(sender) | texts)),
            ("AccountSid", TEST_ACCOUNT_SID),
            ("From", sender),
            ("To", "233733"),
            ("Body", draw(texts)),
        ]
        media = draw(st.integers(0, 12))
        pairs.append(("NumMedia", draw(st.just(str(media)) | texts)))
        for index in range(media):
            pairs.append((f"MediaUrl{index}", draw(st.sampled_from(INTERNAL_URLS) | texts)))
            pairs.append((f"MediaContentType{index}", draw(st.sampled_from(MEDIA_TYPES) | texts)))
    pairs += draw(st.lists(st.tuples(field_names, texts), max_size=6))
    pairs = list(draw(st.permutations(pairs)))
    return RawRequest("/twilio/sms", _encode(draw, pairs), draw(st.sampled_from(CONTENT_TYPES)))


STATUSES = [
    "queued", "sent", "delivered", "undelivered", "failed", "read", "canceled", "accepted",
    "sending", "pending", "submitting", "received", "DELIVERED", " sent ",
]  # fmt: skip


@st.composite
def status_requests(draw: st.DrawFn, known_sid: str, known_id: int) -> RawRequest:
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)) > 0:
        pairs += [
            (
                draw(st.sampled_from(["MessageSid", "SmsSid"])),
                draw(st.just(known_sid) | message_sids | texts),
            ),
            (
                draw(st.sampled_from(["MessageStatus", "SmsStatus"])),
                draw(st.sampled_from(STATUSES) | texts),
            ),
            ("AccountSid", TEST_ACCOUNT_SID),
        ]
        if draw(st.booleans()):
            pairs.append(("ErrorCode", draw(st.sampled_from(["30008", "21610", "0"]) | texts)))
    pairs += draw(st.lists(st.tuples(field_names, texts), max_size=6))
    pairs = list(draw(st.permutations(pairs)))
    hint = draw(
        st.none()
        | st.just(str(known_id))
        | st.sampled_from(["", "-1", "1e3", "١٢", "9" * 19, "9" * 40, "0x1", str(10**15)])
        # Not a bare small number: that would name another test's reply in the shared database.
        | texts.filter(lambda hint: not (hint.isascii() and hint.isdigit()))
    )
    path = "/twilio/status" + ("" if hint is None else "?m=" + quote(hint, safe=""))
    return RawRequest(path, _encode(draw, pairs), draw(st.sampled_from(CONTENT_TYPES)))


def what_the_app_parses(request: RawRequest) -> MultiDict[str, str]:
    """The form werkzeug makes of these bytes: what Twilio (or anyone with the token) signs."""
    builder = EnvironBuilder(
        path=request.path, method="POST", data=request.body, content_type=request.content_type
    )
    try:
        return builder.get_request().form
    finally:
        builder.close()


def post_raw(client: FlaskClient, request: RawRequest) -> tuple[TestResponse, MultiDict[str, str]]:
    form = what_the_app_parses(request)
    signature = sign(TEST_AUTH_TOKEN, TEST_PUBLIC_URL + request.path, form)
    response = client.post(
        request.path,
        data=request.body,
        content_type=request.content_type,
        headers={"X-Twilio-Signature": signature},
    )
    return response, form


SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
REFUSAL = (
    r"(MessageSid|From|Body|NumMedia|MediaContentType\d+|MessageStatus|ErrorCode) [a-zA-Z0-9 .]+"
    r"|request is not valid UTF-8 form data"
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_fuzzed_inbound_texts_never_fail_store_half_or_fetch(
    app: Flask, connect_guard: ConnectGuard
) -> None:
    client = app.test_client()
    max_body_chars = runtime_of(app).settings.max_body_chars
    vault = runtime_of(app).vault

    @FUZZ
    @given(request=inbound_requests())
    def check(request: RawRequest) -> None:
        form = what_the_app_parses(request)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        known_before = bool(SID.fullmatch(sid)) and message_by_sid(app, sid) is not None
        texters_before, messages_before = counts(app)

        response, form = post_raw(client, request)

        connect_guard.assert_quiet()
        assert response.status_code in (200, 400, 413), response.status_code
        texters_after, messages_after = counts(app)
        if response.status_code != 200:
            assert (texters_after, messages_after) == (texters_before, messages_before)
            if response.status_code == 400:
                assert re.fullmatch(REFUSAL, response.get_data(as_text=True).strip())
            return
        assert response.get_data(as_text=True).endswith("<Response/>")
        # A 200 means the app accepted exactly what parse_inbound accepts.
        text = parse_inbound(form, max_body_chars=max_body_chars)
        stored = message_by_sid(app, text.message_sid)
        assert stored is not None
        if known_before:
            assert (texters_after, messages_after) == (texters_before, messages_before)
            return
        assert messages_after == messages_before + 1
        assert texters_after - texters_before in (0, 1)
        assert stored.direction is Direction.INBOUND
        assert stored.body_ciphertext is not None
        assert vault.decrypt(stored.body_ciphertext) == text.body
        assert stored.num_media == text.num_media
        assert (stored.media_types or []) == list(text.media_types)
        with runtime_of(app).sessions() as session:
            texter = session.get(Texter, stored.texter_id)
            assert texter is not None and texter.phone_ciphertext is not None
            assert texter.phone_hash == vault.phone_hash(text.phone)
            assert vault.decrypt(texter.phone_ciphertext) == text.phone

        # The worker's side of it, under the same guard: processing fetches nothing either.
        run_queue(app)
        connect_guard.assert_quiet()
        with runtime_of(app).sessions() as session:
            processed = session.get(Message, stored.id)
            assert processed is not None and processed.processed_at is not None
            unsent = session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.texter_id == stored.texter_id,
                    Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
                )
            )
            assert unsent == 0

    check()


def test_fuzzed_status_callbacks_never_fail_create_or_regress(
    app: Flask, connect_guard: ConnectGuard
) -> None:
    client = app.test_client()
    phone = new_phone()
    assert post_signed(client, "/twilio/sms", sms_form(phone, "hello")).status_code == 200
    run_queue(app)
    [reply] = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]
    assert reply.twilio_sid is not None
    highest = rank(reply.status)

    @FUZZ
    @given(request=status_requests(reply.twilio_sid, reply.id))
    def check(request: RawRequest) -> None:
        nonlocal highest
        before = counts(app)

        response, _ = post_raw(client, request)

        connect_guard.assert_quiet()
        assert response.status_code in (200, 400, 413), response.status_code
        assert counts(app) == before  # a callback never creates a message or a texter
        if response.status_code == 400:
            assert re.fullmatch(REFUSAL, response.get_data(as_text=True).strip())
        with runtime_of(app).sessions() as session:
            current = session.get(Message, reply.id)
            assert current is not None and current.twilio_sid == reply.twilio_sid
            assert rank(current.status) >= highest  # never backwards
            highest = rank(current.status)

    check()


# -- signatures: what passes and what does not ------------------------------------------------

SIGNED_PATH = "/twilio/sms"


@dataclass(frozen=True)
class SignatureCase:
    public_url: str | None  # HOTLINE_PUBLIC_URL
    request_base: str  # the URL the app itself sees (its Host, scheme and port)
    signed_url: str  # the URL the signature was computed for
    expected: int


SIGNATURE_CASES = {
    # -- the public URL is configured (a proxy or tunnel in front) --
    "signed for the public URL, request's own Host differs": SignatureCase(
        "https://hotline.example.org",
        "http://10.0.0.5:8000",
        "https://hotline.example.org/twilio/sms",
        200,
    ),
    "signed for the internal URL the app sees": SignatureCase(
        "https://hotline.example.org",
        "http://10.0.0.5:8000",
        "http://10.0.0.5:8000/twilio/sms",
        403,
    ),
    "http where the public URL is https": SignatureCase(
        "https://hotline.example.org",
        "https://hotline.example.org",
        "http://hotline.example.org/twilio/sms",
        403,
    ),
    "explicit default port :443": SignatureCase(
        "https://hotline.example.org",
        "https://hotline.example.org",
        "https://hotline.example.org:443/twilio/sms",
        200,  # RequestValidator also tries the URL with the scheme's default port added
    ),
    "another port :8443": SignatureCase(
        "https://hotline.example.org",
        "https://hotline.example.org",
        "https://hotline.example.org:8443/twilio/sms",
        403,
    ),
    "no port where the public URL has :8443": SignatureCase(
        "https://hotline.example.org:8443",
        "https://hotline.example.org:8443",
        "https://hotline.example.org/twilio/sms",
        200,  # RequestValidator also tries the URL with its port removed: any port passes
    ),
    "default :443 where the public URL has :8443": SignatureCase(
        "https://hotline.example.org:8443",
        "https://hotline.example.org:8443",
        "https://hotline.example.org:443/twilio/sms",
        403,
    ),
    "signed with a trailing slash": SignatureCase(
        "https://hotline.example.org",
        "https://hotline.example.org",
        "https://hotline.example.org/twilio/sms/",
        403,
    ),
    "public URL configured with a trailing slash": SignatureCase(
        "https://hotline.example.org/",
        "http://10.0.0.5:8000",
        "https://hotline.example.org/twilio/sms",
        200,
    ),
    # -- no public URL: the request's own URL is what must have been signed --
    "no public URL, signed for the request's own URL": SignatureCase(
        None, "http://10.0.0.5:8000", "http://10.0.0.5:8000/twilio/sms", 200
    ),
    "no public URL, request's own URL without its port": SignatureCase(
        None, "http://10.0.0.5:8000", "http://10.0.0.5/twilio/sms", 200
    ),
    "no public URL, signed for the public name (proxy not configured)": SignatureCase(
        None, "http://10.0.0.5:8000", "https://hotline.example.org/twilio/sms", 403
    ),
    "no public URL, TLS ended at a proxy, signed for https": SignatureCase(
        None, "http://hotline.example.org", "https://hotline.example.org/twilio/sms", 403
    ),
}


@pytest.mark.parametrize("case", SIGNATURE_CASES.values(), ids=SIGNATURE_CASES.keys())
def test_signature_and_urls(
    make_app: Callable[..., Flask], database_url: str, case: SignatureCase
) -> None:
    app = make_app(database_url, settings_overrides={"public_url": case.public_url})
    phone = new_phone()
    form = sms_form(phone, "hello")
    before = counts(app)

    response = app.test_client().post(
        SIGNED_PATH,
        base_url=case.request_base,
        data=form,
        headers={
            "X-Twilio-Signature": sign(TEST_AUTH_TOKEN, case.signed_url, form),
            # Headers a proxy adds; the app does not trust them, HOTLINE_PUBLIC_URL decides.
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "hotline.example.org",
        },
    )

    assert response.status_code == case.expected
    if case.expected == 200:
        assert len(messages_of(app, phone)) == 1
    else:
        assert texter_of(app, phone) is None
        assert counts(app) == before


TAMPERS = ["wrong token", "body altered", "parameter added", "parameter removed", "query altered"]


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampered_requests_are_refused_and_change_nothing(app: Flask, tamper: str) -> None:
    phone = new_phone()
    form = sms_form(phone, "hello")
    path = "/twilio/sms"
    signature = sign(TEST_AUTH_TOKEN, TEST_PUBLIC_URL + path, form)
    if tamper == "wrong token":
        signature = sign("not-" + TEST_AUTH_TOKEN, TEST_PUBLIC_URL + path, form)
    elif tamper == "body altered":
        form["Body"] = "hello."
    elif tamper == "parameter added":
        form["MediaUrl0"] = "http://169.254.169.254/"
    elif tamper == "parameter removed":
        del form["To"]
    elif tamper == "query altered":
        signature = sign(TEST_AUTH_TOKEN, TEST_PUBLIC_URL + path + "?m=1", form)
        path += "?m=2"
    before = counts(app)

    response = app.test_client().post(path, data=form, headers={"X-Twilio-Signature": signature})

    assert response.status_code == 403
    assert texter_of(app, phone) is None
    assert counts(app) == before


def test_path_with_a_trailing_slash_is_not_the_webhook(app: Flask) -> None:
    phone = new_phone()
    form = sms_form(phone, "hello")
    url = TEST_PUBLIC_URL + "/twilio/sms/"
    response = app.test_client().post(
        "/twilio/sms/", data=form, headers={"X-Twilio-Signature": sign(TEST_AUTH_TOKEN, url, form)}
    )
    assert response.status_code == 404
    assert texter_of(app, phone) is None


def test_what_twilios_signature_cannot_see_is_harmless(app: Flask) -> None:
    """Twilio's scheme signs ``url + name1 + value1 + name2 + ...`` over *distinct* values.

    So a repeated parameter with the same value, and a name/value boundary moved
    (``Body=hello`` against ``Bodyhell=o``), keep a valid signature. Only someone replaying a
    captured request could do either, and a replay carries the same MessageSid: stored once.
    """
    phone = new_phone()
    form = sms_form(phone, "hello")
    signature = sign(TEST_AUTH_TOKEN, TEST_PUBLIC_URL + "/twilio/sms", form)
    client = app.test_client()
    headers = {"X-Twilio-Signature": signature}

    assert client.post("/twilio/sms", data=form, headers=headers).status_code == 200
    repeated = urlencode([*form.items(), ("Body", "hello")])
    assert (
        client.post("/twilio/sms", data=repeated, content_type=FORM, headers=headers).status_code
        == 200
    )
    shifted = {k: v for k, v in form.items() if k != "Body"} | {"Bodyhell": "o"}
    assert sign(TEST_AUTH_TOKEN, TEST_PUBLIC_URL + "/twilio/sms", shifted) == signature
    assert client.post("/twilio/sms", data=shifted, headers=headers).status_code == 200

    [message] = messages_of(app, phone)
    assert message.body_ciphertext is not None
    assert runtime_of(app).vault.decrypt(message.body_ciphertext) == "hello"


# -- STOP and its look-alikes ---------------------------------------------------------------------

OPT_OUTS = {
    "Cyrillic capitals": "ЅТОР",
    "trailing full stop": "Stop.",
    "spaced out": "s t o p",
    "full-width": "ＳＴＯＰ",
    "twice": "STOP STOP",
    "mixed scripts": "Ѕtоp",  # Cyrillic Ѕ and о among Latin letters
    "zero-width space inside": "ST\u200bOP",
    "right-to-left override": "\u202eSTOP",
    "mathematical bold": "𝐒𝐓𝐎𝐏",
    "Spanish, accented": "¡Pará!",
}
NOT_OPT_OUTS = {
    "a sentence that contains stop": "please don't stop",
    "stop inside a plea": "stop it, he hears",
}


def text_once(app: Flask, phone: str, body: str) -> None:
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    run_queue(app)


@pytest.mark.parametrize("body", OPT_OUTS.values(), ids=OPT_OUTS.keys())
def test_stop_look_alikes_opt_out_with_one_confirmation(app: Flask, body: str) -> None:
    phone = new_phone()
    text_once(app, phone, body)

    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    stop = runtime_of(app).triage.render_plain("stop_confirmation", "en")
    assert sent_to(app, phone) == [stop]
    assert [e.kind for e in events_of(app, phone)].count("opt_out") == 1
    text_once(app, phone, "hello?")
    assert sent_to(app, phone) == [stop]  # and nothing after it


@pytest.mark.parametrize("body", NOT_OPT_OUTS.values(), ids=NOT_OPT_OUTS.keys())
def test_stop_inside_a_sentence_is_not_an_opt_out(app: Flask, body: str) -> None:
    phone = new_phone()
    text_once(app, phone, body)

    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is None
    stop = runtime_of(app).triage.render_plain("stop_confirmation", "en")
    replies = sent_to(app, phone)
    assert stop not in replies
    assert replies and replies[0].startswith("Hi, thanks for texting.")
    assert "opt_out" not in [e.kind for e in events_of(app, phone)]


def test_lowercase_cyrillic_look_alike_opts_out(app: Flask) -> None:
    phone = new_phone()
    text_once(app, phone, "ѕтор")  # ѕ т о р: renders as a small-capital "sтop"
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None


def test_repeated_sid_from_another_number_changes_nothing(app: Flask) -> None:
    # Only someone holding the auth token can send this (Twilio's retries repeat the From),
    # but a duplicate must change nothing all the same: no texter row without a message.
    client = app.test_client()
    form = sms_form(new_phone(), "hello")
    assert post_signed(client, "/twilio/sms", form).status_code == 200
    before = counts(app)
    other = new_phone()

    response = post_signed(client, "/twilio/sms", {**form, "From": other})

    assert response.status_code == 200
    assert texter_of(app, other) is None
    assert counts(app) == before
