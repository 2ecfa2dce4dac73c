"""The sign-in form's token is signed with HOTLINE_SECRET_KEY: a planted cookie gets nowhere."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from hotline.web.auth import LOGIN_CSRF_COOKIE
from hotline.web.login_csrf import login_token_ok, new_login_token
from tests.signing_in import PASSWORD, recorded, staff_member


def form_token(client: FlaskClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))
    assert match
    return match.group(1)


def test_the_form_holds_the_cookie_signed_not_the_cookie_itself(app: Flask) -> None:
    client = app.test_client()
    token = form_token(client)
    cookie = client.get_cookie(LOGIN_CSRF_COOKIE)
    assert cookie is not None and cookie.value != token
    assert login_token_ok("test-secret-key", cookie.value, token)
    assert not login_token_ok("another-secret-key-of-32-bytes-or-more", cookie.value, token)


def test_signing_in_with_the_pair_the_page_gave_works(app: Flask) -> None:
    user = staff_member(app)
    client = app.test_client()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": form_token(client)}
    )
    assert response.status_code == 302


def test_a_planted_cookie_and_matching_form_value_are_refused(app: Flask) -> None:
    """The old double-submit check took any cookie equal to the form value: someone able to
    set a cookie for the site could sign a victim into their own account."""
    user = staff_member(app)
    before = recorded(app)
    client = app.test_client()
    client.set_cookie(LOGIN_CSRF_COOKIE, "planted-value")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "planted-value"}
    )
    assert response.status_code == 400
    assert "the form expired" in response.get_data(as_text=True)
    assert recorded(app) == before


def test_a_token_signed_with_another_key_is_refused(
    make_app: Callable[..., Flask], isolated_database_url: str
) -> None:
    app = make_app(isolated_database_url)
    user = staff_member(app)
    cookie, token = new_login_token("some-other-installation-secret-key")
    client = app.test_client()
    client.set_cookie(LOGIN_CSRF_COOKIE, cookie)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400
