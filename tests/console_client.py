"""Staff at the console through its HTTP API: accounts, signed-in clients with their CSRF
token, JSON posts, and a texter waiting in the queue. Shared by the tests of the console, the
supervisor's pages, the settings and the admin API."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hotline import runtime_of
from hotline.db.models import StaffUser
from hotline.infra.taskqueue import InProcessQueue
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form
from tests.staff_helpers import PASSWORD, login_csrf, make_staff

# Made and signed in as in the account tests: one way to make a staff member in the tests.
staff = make_staff


def sign_in(app: Flask, user: StaffUser, password: str = PASSWORD) -> tuple[FlaskClient, str]:
    """A client signed in as ``user``, and its CSRF token."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": login_csrf(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/console").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match
    return client, match.group(1)


def post(client: FlaskClient, csrf: str, path: str, payload: dict[str, Any]) -> Any:
    return client.post(path, json=payload, headers={"X-CSRF-Token": csrf})


def run(app: Flask) -> None:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    tasks.run_due()


def queued_texter(app: Flask, *turns: str) -> str:
    phone = new_phone()
    clock = runtime_of(app).clock
    for body in turns or ("hi", "no", "yes", "I need help", "skip"):
        if isinstance(clock, FakeClock):
            clock.advance(1)  # a texter takes a moment to answer: timelines order by time
        assert (
            post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
        )
        run(app)
    return phone


def available(client: FlaskClient, csrf: str) -> None:
    assert (
        post(client, csrf, "/console/api/availability", {"availability": "available"}).status_code
        == 200
    )


def sent(app: Flask) -> list[str]:
    sender = runtime_of(app).sender
    assert isinstance(sender, LocalSender)
    return [text.body for _, text, _ in sender.outbox]


# Every page and API of the supervisor's side: advocates are refused each.
SUPERVISOR_ENDPOINTS = [
    ("get", "/supervisor"),
    ("get", "/supervisor/api/board"),
    ("get", "/supervisor/api/logs"),
    ("get", "/supervisor/api/export?format=csv"),
    ("get", "/supervisor/api/metrics"),
    ("get", "/supervisor/api/audit"),
    ("get", "/supervisor/api/staff"),
    ("post", "/supervisor/api/conversations/1/note"),
    ("post", "/supervisor/api/conversations/1/reassign"),
    ("post", "/supervisor/api/conversations/1/take-over"),
]
