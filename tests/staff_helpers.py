"""Staff accounts and signed-in test clients, shared by the password and account tests.

Accounts made here go straight into the database, as the owner would have chosen their password:
they are not asked to change it. Only accounts created or reset by another person are.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, StaffSession, StaffUser
from hotline.services.staff import do_create_staff
from tests.conftest import new_phone

PASSWORD = "correct horse battery"


def make_staff(app: Flask, role: str = "advocate") -> StaffUser:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"{role}-{new_phone()[2:]}@example.org", PASSWORD, role, runtime.clock.now()
        )


def login_csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def password_client(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A client past the password step (whatever it then must do first)."""
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": login_csrf(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page_csrf(client: FlaskClient, path: str = "/account/password") -> str:
    """The session's CSRF token, as a page at ``path`` carries it."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.get_data(as_text=True))
    assert match
    return match.group(1)


def account(app: Flask, user_id: int) -> StaffUser:
    with runtime_of(app).sessions() as session:
        found = session.get(StaffUser, user_id)
        assert found is not None
        return found


def events_of(app: Flask, kind: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def live_sessions(app: Flask, user_id: int) -> int:
    with runtime_of(app).sessions() as session:
        return len(
            session.scalars(
                select(StaffSession.id).where(
                    StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
                )
            ).all()
        )
