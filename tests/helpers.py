"""Signed Twilio requests and database look-ups for the tests."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text
from werkzeug.test import TestResponse

from hotline import runtime_of
from hotline.db.models import Conversation, Event, Message, StaffUser, Texter
from hotline.services.staff import do_create_staff
from hotline.sms.sender import OutboundText, Sender, SendError
from hotline.sms.signature import sign
from tests.conftest import TEST_ACCOUNT_SID, new_phone, new_sid


def sms_form(phone: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    form = {
        "MessageSid": sid or new_sid(),
        "AccountSid": TEST_ACCOUNT_SID,
        "From": phone,
        "To": "233733",
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def post_signed(
    client: FlaskClient, path: str, form: dict[str, str], *, token: str | None = None, **kw: Any
) -> TestResponse:
    """POST ``form`` to ``path`` signed as Twilio would sign it for the app's public URL."""
    app: Flask = client.application
    settings = runtime_of(app).settings
    url = f"{settings.public_url}{path}"
    signature = sign(token or settings.twilio_auth_token or "", url, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature}, **kw)


def texter_of(app: Flask, phone: str) -> Texter | None:
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        return session.scalars(
            select(Texter).where(Texter.phone_hash == runtime.vault.phone_hash(phone))
        ).first()


def messages_of(app: Flask, phone: str) -> list[Message]:
    """Every message to or from ``phone``, oldest first."""
    texter = texter_of(app, phone)
    if texter is None:
        return []
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(
                select(Message).where(Message.texter_id == texter.id).order_by(Message.id)
            )
        )


def bodies(app: Flask, messages: list[Message]) -> list[str]:
    vault = runtime_of(app).vault
    return [vault.decrypt(m.body_ciphertext) if m.body_ciphertext else "" for m in messages]


def conversations_of(app: Flask, phone: str) -> list[Conversation]:
    texter = texter_of(app, phone)
    if texter is None:
        return []
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(
                select(Conversation)
                .where(Conversation.texter_id == texter.id)
                .order_by(Conversation.id)
            )
        )


def events_of(app: Flask, phone: str) -> list[Event]:
    texter = texter_of(app, phone)
    if texter is None:
        return []
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(select(Event).where(Event.texter_id == texter.id).order_by(Event.id))
        )


# -- staff: accounts and signed-in clients (for tests in any module) ------------------------------

STAFF_PASSWORD = "correct horse battery"


def create_staff(app: Flask, role: str = "advocate") -> StaffUser:
    """A new staff account with ``STAFF_PASSWORD``."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"{role}-{new_phone()[2:]}@example.org", STAFF_PASSWORD, role,
            runtime.clock.now(),
        )  # fmt: skip


def sign_in_client(app: Flask, user: StaffUser) -> tuple[FlaskClient, str]:
    """A client signed in as ``user`` (with ``STAFF_PASSWORD``), and its CSRF token."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    response = client.post(
        "/login",
        data={"email": user.email, "password": STAFF_PASSWORD, "csrf_token": found.group(1)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/console").get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found
    return client, found.group(1)


def dump(app: Flask) -> str:
    """Every row of every table as text, binary values decoded as Latin-1: what a database dump
    would show."""
    engine = runtime_of(app).engine
    with engine.connect() as connection:
        parts = []
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(repr(tuple(row)))
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
    return "\n".join(parts)


def stated_reason(app: Flask, event: Event) -> str | None:
    """The reason a staff member gave for ``event``, decrypted (kept apart from the event)."""
    from hotline.services import events

    return events.stated_reason(runtime_of(app).vault, event)


def send_failing(sender: Sender, phone: str, body: str) -> SendError:
    """Send, expecting a SendError whose message carries neither the number nor the text."""
    with pytest.raises(SendError) as caught:
        sender.send(OutboundText(phone, body))
    error = caught.value
    for leak in (phone, phone[1:], body):
        assert leak not in str(error)
        assert leak not in repr(error.args)
    assert error.__cause__ is None
    return error


def message(app: Flask, message_id: int) -> Message:
    """The stored message ``message_id``, read in a session of its own."""
    with runtime_of(app).sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def rigged_draws(monkeypatch: pytest.MonkeyPatch, *firsts: str) -> None:
    """``secrets.choice`` gives the characters of ``firsts`` (dashes left out) first, then random
    ones: the generator's first draws are whatever the test needs."""
    queued = list("".join(firsts).replace("-", ""))
    real = secrets.choice

    def choice(alphabet: str) -> str:
        return queued.pop(0) if queued else real(alphabet)

    monkeypatch.setattr(secrets, "choice", choice)
