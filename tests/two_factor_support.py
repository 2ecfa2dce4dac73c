"""Helpers for the two-factor tests: staff accounts, signing in through the pages, and reading
the setup page."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient

from hotline import runtime_of
from hotline.db.models import StaffUser
from hotline.domain import totp
from hotline.services.staff import do_create_staff
from tests.conftest import new_phone

PASSWORD = "correct horse battery"


def make_staff(app: Flask, role: str = "advocate") -> StaffUser:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"{role}-{new_phone()[2:]}@example.org", PASSWORD, role, runtime.clock.now()
        )


def login_csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def password_sign_in(app: Flask, user: StaffUser, password: str = PASSWORD) -> FlaskClient:
    """A client past the password (and so, with two-factor on, at the code page)."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": login_csrf(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page_csrf(client: FlaskClient, path: str = "/account/two-factor") -> str:
    """The session's CSRF token, from a staff page."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, page
    return match.group(1)


def submit_code(client: FlaskClient, code: str) -> int:
    """Post ``code`` on the sign-in code page; the status it answers (302 when signed in)."""
    return client.post(
        "/login/code", data={"code": code, "csrf_token": login_csrf(client, "/login/code")}
    ).status_code


def shown_key(page: str) -> str | None:
    """The pending key the setup page shows (without its spaces), if it shows one."""
    match = re.search(r'<p class="secret" id="totp-key">.*?<code>([A-Z2-7 ]+)</code>', page)
    return match.group(1).replace(" ", "") if match else None


def shown_recovery_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)


def code_now(secret: str, now: datetime) -> str:
    return totp.code_at(secret, now.timestamp())


def web_enrol(app: Flask, client: FlaskClient, csrf: str) -> tuple[str, list[str]]:
    """Turn two-factor on through the pages; the secret and the recovery codes shown."""
    clock = runtime_of(app).clock
    started = client.post("/account/two-factor/start", data={"csrf_token": csrf})
    assert started.status_code == 303, started.get_data(as_text=True)
    secret = shown_key(client.get("/account/two-factor").get_data(as_text=True))
    assert secret
    done = client.post(
        "/account/two-factor", data={"csrf_token": csrf, "code": code_now(secret, clock.now())}
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    return secret, shown_recovery_codes(done.get_data(as_text=True))
