"""The texting simulator (demo and development only): be one or several texters in a browser.

Each simulated phone lives in this process, known to the page by a small id: its number travels
only inside JSON bodies, never in a URL. A text from a phone goes, from the server, to the
hotline's real ``/twilio/sms`` over HTTP, signed as Twilio signs it, so it takes exactly the path
a real text takes. The hotline's replies are read back from the
:class:`~hotline.devtools.simulated.SimulatedCarrier` that "sent" them, with the delivery status it
reported.

The JSON API's state-changing requests need the per-process token the page carries in its
``<meta name="csrf-token">`` (also at ``GET /simulator/api/csrf``) in an ``X-CSRF-Token``
header. Phones and token live in memory, so the simulator wants the single process the demo
(or the development server) runs in.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

import requests
from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from hotline.devtools.simulated import (
    API_VERSION,
    SIMULATED_ACCOUNT_SID,
    SIMULATED_SHORT_CODE,
    SimulatedCarrier,
)
from hotline.domain.phone import InvalidPhoneNumber, normalise
from hotline.domain.segments import count_segments
from hotline.services.answers import IsoTime, iso_time
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.sms.signature import sign
from hotline.web import runtime
from hotline.web.answers import Done, answers

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
CSRF_HEADER = "X-CSRF-Token"
WEBHOOK_TIMEOUT = 10.0
# Area code 555 is never assigned: a reply to such a number cannot reach a real phone, even in
# development with Twilio configured.
FICTIONAL_PREFIX = "+1555"
MAX_PHONES = 24


@dataclass
class SimulatedText:
    """A text one simulated phone sent, and how the hotline's webhook answered it."""

    sid: str
    body: str
    at: datetime
    # How the webhook answered each delivery: "HTTP 200", "HTTP 403", or why it was unreachable.
    answers: list[str] = field(default_factory=list)

    @property
    def taken(self) -> bool:
        return "HTTP 200" in self.answers


@dataclass
class Phone:
    id: int
    number: str
    texts: list[SimulatedText] = field(default_factory=list)


class Simulator:
    """The simulated phones of this process, and the page's CSRF token."""

    def __init__(self) -> None:
        self.csrf_token = secrets.token_urlsafe(32)
        self._lock = threading.Lock()
        self._phones: dict[int, Phone] = {}
        self._ids = itertools.count(1)

    def phones(self) -> list[Phone]:
        with self._lock:
            return list(self._phones.values())

    def phone(self, phone_id: int) -> Phone | None:
        with self._lock:
            return self._phones.get(phone_id)

    def find_or_add(self, number: str | None) -> tuple[Phone, bool]:
        """The phone with ``number`` (a fresh fictional one when None); True if it is new.

        Raises :class:`ValueError` when the simulator already holds :data:`MAX_PHONES`.
        """
        with self._lock:
            in_use = {phone.number: phone for phone in self._phones.values()}
            if number is not None and number in in_use:
                return in_use[number], False
            if len(self._phones) >= MAX_PHONES:
                raise ValueError(f"the simulator holds at most {MAX_PHONES} phones")
            while number is None or number in in_use:
                # +1 555 01x xxxx
                number = FICTIONAL_PREFIX + "01" + f"{secrets.randbelow(100_000):05d}"
            phone = Phone(next(self._ids), number)
            self._phones[phone.id] = phone
            return phone, True

    def remove(self, phone_id: int) -> bool:
        with self._lock:
            return self._phones.pop(phone_id, None) is not None

    def texts(self, phone: Phone) -> list[SimulatedText]:
        with self._lock:
            return list(phone.texts)

    def record(self, phone: Phone, text: SimulatedText, answer: str) -> None:
        """Note one delivery of ``text`` (the first adds it to the phone's texts)."""
        with self._lock:
            if not text.answers:
                phone.texts.append(text)
            text.answers.append(answer)

    def last_text(self, phone: Phone) -> SimulatedText | None:
        with self._lock:
            return phone.texts[-1] if phone.texts else None


# -- what the simulator's page reads --------------------------------------------------------------


class Token(TypedDict):
    csrf_token: str
    carrier: bool  # whether the hotline sends through the simulated carrier (replies show here)


class PhoneEntry(TypedDict):
    id: int
    number: str


class Phones(TypedDict):
    phones: list[PhoneEntry]


class SentByPhone(TypedDict):
    """A text the phone sent, and how the webhook answered each delivery of it."""

    id: str  # its MessageSid
    author: Literal["texter"]
    body: str
    at: IsoTime
    status: Literal["received", "refused"]
    answers: list[str]


class SentByHotline(TypedDict):
    """A reply the hotline sent to the phone, with the status the carrier reported last."""

    id: str
    author: Literal["hotline"]
    body: str
    at: IsoTime
    status: str


class Thread(TypedDict):
    phone: PhoneEntry
    carrier: bool
    messages: list[SentByPhone | SentByHotline]  # oldest first


class _QuietPolls(logging.Filter):
    """Keeps the page's once-a-second polls out of the development server's request log."""

    def filter(self, record: logging.LogRecord) -> bool:
        line = record.getMessage()
        return not ('"GET /simulator/api/' in line and '" 200 ' in line)


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    state.app.extensions["hotline_simulator"] = Simulator()
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _QuietPolls) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_QuietPolls())


def simulator() -> Simulator:
    found = current_app.extensions["hotline_simulator"]
    assert isinstance(found, Simulator)
    return found


def carrier() -> SimulatedCarrier | None:
    sender = runtime().sender
    return sender if isinstance(sender, SimulatedCarrier) else None


@bp.before_request
def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    given = request.headers.get(CSRF_HEADER, "")
    if not (given and hmac.compare_digest(given, simulator().csrf_token)):
        raise InvalidInput("missing or wrong CSRF token: reload the page")


def _payload() -> dict[str, Any]:
    if not request.content_length:
        return {}
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidInput("send a JSON object")
    return payload


def _phone(phone_id: int) -> Phone:
    phone = simulator().phone(phone_id)
    if phone is None:
        raise NotFound("no such phone")
    return phone


def _fictional(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidInput("number must be text")
    try:
        number = normalise(raw)
    except InvalidPhoneNumber:
        raise InvalidInput("number is not a phone number in E.164 form (+1555...)") from None
    if not (number.startswith(FICTIONAL_PREFIX) and len(number) == 12):
        raise InvalidInput(
            "simulator phones use fictional +1 555 numbers (like +1 555 010 1234), "
            "so no reply can reach a real phone"
        )
    return number


def _phone_json(phone: Phone) -> PhoneEntry:
    return {"id": phone.id, "number": phone.number}


# -- the page -------------------------------------------------------------------------------


@bp.get("")
def page() -> Response:
    rt = runtime()
    return Response(
        render_template(
            "simulator.html",
            csrf_token=simulator().csrf_token,
            carrier=carrier() is not None,
            max_body_chars=rt.settings.max_body_chars,
        )
    )


@bp.get("/api/csrf")
@answers(Token)
def csrf() -> Token:
    """The token for ``X-CSRF-Token``; for ``hotline simulate``, which has no page."""
    return {"csrf_token": simulator().csrf_token, "carrier": carrier() is not None}


# -- phones ---------------------------------------------------------------------------------


@bp.get("/api/phones")
@answers(Phones)
def phones() -> Phones:
    return {"phones": [_phone_json(p) for p in simulator().phones()]}


@bp.post("/api/phones")
@answers(PhoneEntry)
def add_phone() -> tuple[PhoneEntry, int]:
    """A new phone with a fresh number, or (with ``number``) the phone for that number."""
    raw = _payload().get("number")
    number = None if raw is None else _fictional(raw)
    try:
        phone, created = simulator().find_or_add(number)
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    return _phone_json(phone), 201 if created else 200


@bp.delete("/api/phones/<int:phone_id>")
@answers(Done)
def remove_phone(phone_id: int) -> Done:
    """Put a phone away. What the hotline stored from it stays."""
    if not simulator().remove(phone_id):
        raise NotFound("no such phone")
    return {"ok": True}


@bp.get("/api/phones/<int:phone_id>/messages")
@answers(Thread)
def messages(phone_id: int) -> Thread:
    """The phone's conversation, oldest first: its texts and the hotline's replies."""
    phone = _phone(phone_id)
    thread: list[tuple[datetime, int, SentByPhone | SentByHotline]] = []
    for text in simulator().texts(phone):
        thread.append((text.at, 0, _text_json(text)))
    found = carrier()
    for reply in found.texts_to(phone.number) if found else []:
        entry: SentByHotline = {
            "id": reply.sid,
            "author": "hotline",
            "body": reply.body,
            "at": iso_time(reply.at),
            "status": reply.status,
        }
        thread.append((reply.at, 1, entry))
    thread.sort(key=lambda item: (item[0], item[1]))
    return {
        "phone": _phone_json(phone),
        "carrier": found is not None,
        "messages": [e for *_, e in thread],
    }


def _text_json(text: SimulatedText) -> SentByPhone:
    return {
        "id": text.sid,
        "author": "texter",
        "body": text.body,
        "at": iso_time(text.at),
        "status": "received" if text.taken else "refused",
        "answers": list(text.answers),
    }


# -- texting --------------------------------------------------------------------------------


@bp.post("/api/phones/<int:phone_id>/texts")
@answers(SentByPhone)
def send_text(phone_id: int) -> tuple[SentByPhone, int]:
    """Text the hotline from this phone, through its real, signed webhook."""
    phone = _phone(phone_id)
    body = _payload().get("body")
    limit = runtime().settings.max_body_chars
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("body must be a text to send")
    if len(body) > limit:
        raise InvalidInput(f"body is longer than {limit} characters")
    text = SimulatedText("SM" + secrets.token_hex(16), body, runtime().clock.now())
    simulator().record(phone, text, _deliver(phone, text))
    return _text_json(text), 201


@bp.post("/api/phones/<int:phone_id>/replay")
@answers(SentByPhone)
def replay(phone_id: int) -> SentByPhone:
    """Deliver the phone's last text again, with the same MessageSid, as Twilio sometimes does."""
    phone = _phone(phone_id)
    text = simulator().last_text(phone)
    if text is None:
        raise Conflict("this phone has sent nothing yet")
    simulator().record(phone, text, _deliver(phone, text))
    return _text_json(text)


def _deliver(phone: Phone, text: SimulatedText) -> str:
    """POST the text to ``/twilio/sms`` as Twilio would; how the webhook answered."""
    rt = runtime()
    settings = rt.settings
    url = (settings.public_url or request.host_url).rstrip("/") + "/twilio/sms"
    form = {
        "MessageSid": text.sid,
        "SmsSid": text.sid,
        "SmsMessageSid": text.sid,
        "AccountSid": settings.twilio_account_sid or SIMULATED_ACCOUNT_SID,
        "From": phone.number,
        "To": settings.twilio_from or SIMULATED_SHORT_CODE,
        "Body": text.body,
        "NumMedia": "0",
        "NumSegments": str(count_segments(text.body).segments),
        "SmsStatus": "received",
        "FromCountry": "US",
        "ToCountry": "US",
        "ApiVersion": API_VERSION,
    }
    signature = sign(settings.twilio_auth_token or "", url, form)
    try:
        with requests.post(
            url, data=form, headers={"X-Twilio-Signature": signature}, timeout=WEBHOOK_TIMEOUT
        ) as answer:
            return f"HTTP {answer.status_code}"
    except requests.RequestException as exc:
        return f"webhook unreachable ({type(exc).__name__})"
