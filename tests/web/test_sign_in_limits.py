"""The sign-in forms against a determined adversary: a limit per client address in front of the
per-email lockout (X-Forwarded-For read only behind a trusted proxy), a lockout that lets a
person with a second factor through, and input no form can hold refused plainly."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hotline import runtime_of
from tests.signing_in import (
    PASSWORD,
    code_now,
    recorded,
    spy_on_argon2,
    staff_member,
    switch_on_two_factor,
)

TOO_MANY_FROM_HERE = "too many sign-in attempts from this address: wait a minute, then try again"
LIMIT = 3


@pytest.fixture
def limited(make_app: Callable[..., Flask], isolated_database_url: str) -> Flask:
    """An app whose sign-in forms take three tries a minute from one address."""
    return make_app(
        isolated_database_url, settings_overrides={"sign_in_per_client_per_minute": LIMIT}
    )


def login_csrf(client: FlaskClient, path: str = "/login", **kw: object) -> str:
    page = client.get(path, **kw).get_data(as_text=True)  # type: ignore[arg-type]
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def post_login(
    client: FlaskClient,
    email: str,
    password: str,
    *,
    address: str = "198.51.100.7",
    forwarded_for: str | None = None,
) -> TestResponse:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    environ = {"REMOTE_ADDR": address}
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": login_csrf(client)},
        headers=headers,
        environ_base=environ,
    )


def post_code(client: FlaskClient, code: str, *, address: str = "198.51.100.7") -> TestResponse:
    return client.post(
        "/login/code",
        data={"code": code, "csrf_token": login_csrf(client, "/login/code")},
        environ_base={"REMOTE_ADDR": address},
    )


def assert_too_many_from_here(response: TestResponse) -> None:
    assert response.status_code == 429
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == TOO_MANY_FROM_HERE
    assert response.headers["Retry-After"] == "60"


def test_past_the_limit_a_client_gets_429_and_nothing_is_checked_or_recorded(
    limited: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = staff_member(limited)
    client = limited.test_client()
    for _ in range(LIMIT):
        assert post_login(client, member.email, "wrong guess").status_code == 401
    before = recorded(limited)
    checked = spy_on_argon2(monkeypatch)
    assert_too_many_from_here(post_login(client, member.email, PASSWORD))
    assert_too_many_from_here(post_code(client, "123456"))  # one limit for both forms
    assert checked == [] and recorded(limited) == before
    # Another address is not held back by this one (the per-email lockout is another matter).
    other = limited.test_client()
    assert post_login(other, member.email, PASSWORD, address="203.0.113.9").status_code == 302


def test_the_code_form_counts_toward_the_same_limit(limited: Flask) -> None:
    member = staff_member(limited)
    client = limited.test_client()
    for _ in range(LIMIT):
        assert post_code(client, "123456").status_code == 401
    assert_too_many_from_here(post_login(client, member.email, PASSWORD))


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(limited: Flask) -> None:
    """Anyone can write the header: without HOTLINE_TRUSTED_PROXIES it changes nothing."""
    client = limited.test_client()
    for number in range(LIMIT):
        post_login(client, "someone@example.org", "guess", forwarded_for=f"192.0.2.{number}")
    assert_too_many_from_here(
        post_login(client, "someone@example.org", "guess", forwarded_for="192.0.2.200")
    )


def test_behind_a_trusted_proxy_the_client_is_the_address_it_forwards(
    make_app: Callable[..., Flask], isolated_database_url: str
) -> None:
    app = make_app(
        isolated_database_url,
        settings_overrides={"sign_in_per_client_per_minute": LIMIT, "trusted_proxies": 1},
    )
    client = app.test_client()
    proxy = "10.0.0.2"
    for _ in range(LIMIT):
        post_login(client, "someone@example.org", "guess", address=proxy, forwarded_for="192.0.2.1")
    assert_too_many_from_here(
        # What a client wrote before the proxy's entry is not trusted either.
        post_login(
            client, "someone@example.org", "guess", address="10.0.0.3",
            forwarded_for="203.0.113.50, 192.0.2.1",
        )
    )  # fmt: skip
    assert (
        post_login(
            client, "someone@example.org", "guess", address=proxy, forwarded_for="192.0.2.2"
        ).status_code
        == 401
    )


def test_with_redis_every_web_process_counts_together(
    make_app: Callable[..., Flask], isolated_database_url: str, redis_url: str
) -> None:
    overrides = {
        "sign_in_per_client_per_minute": LIMIT,
        "trusted_proxies": 1,
        "redis_url": redis_url,
    }
    first = make_app(isolated_database_url, settings_overrides=overrides)
    second = make_app(isolated_database_url, settings_overrides=overrides)
    client = f"192.0.2.{secrets.randbelow(250) + 1}, 10.{secrets.randbelow(250)}.0.1"
    for app in (first, second, first):
        response = post_login(app.test_client(), "someone@example.org", "g", forwarded_for=client)
        assert response.status_code == 401
    assert_too_many_from_here(
        post_login(second.test_client(), "someone@example.org", "g", forwarded_for=client)
    )


def test_a_locked_account_with_two_factor_signs_in_through_the_code_page(
    limited: Flask,
) -> None:
    app = limited
    member = staff_member(app)
    secret = switch_on_two_factor(app, member.id)
    attacker = app.test_client()
    for number in range(runtime_of(app).auth.max_failures):
        # From many addresses: the per-email lockout holds whoever asks.
        post_login(attacker, member.email, "wrong", address=f"203.0.113.{number}")
    refused = post_login(attacker, member.email, "wrong", address="203.0.113.99")
    assert refused.status_code == 401 and "too many failed sign-ins" in refused.get_data(
        as_text=True
    )

    person = app.test_client()
    response = post_login(person, member.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert person.get("/console/api/me").status_code == 401
    assert post_code(person, code_now(app, secret)).status_code == 302
    assert person.get("/console/api/me").status_code == 200


def test_a_locked_account_without_two_factor_stays_locked(limited: Flask) -> None:
    member = staff_member(limited)
    client = limited.test_client()
    for number in range(runtime_of(limited).auth.max_failures):
        post_login(client, member.email, "wrong", address=f"203.0.113.{number}")
    response = post_login(client, member.email, PASSWORD, address="198.51.100.20")
    assert response.status_code == 401
    assert "too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/console/api/me").status_code == 401


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("advocate\x00@example.org", PASSWORD),
        ("advocate@example.org\x00' OR 1=1 --", PASSWORD),
        ("advocate\x1b[2J@example.org", PASSWORD),
        ("advocate@example.org", PASSWORD + "\x00"),
        ("advocate@example.org", "\x7f" + PASSWORD),
    ],
)
def test_a_control_character_gets_the_generic_refusal_not_a_500(
    app: Flask, email: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = recorded(app)
    client = app.test_client()
    response = post_login(client, email, password)
    assert response.status_code == 401
    assert "wrong email or password" in response.get_data(as_text=True)
    assert recorded(app) == before
    assert "\x00" not in caplog.text and "OR 1=1" not in caplog.text
