"""Where staff land after signing in: supervisors and admins on the board, advocates on the
console; a ``next`` page wins only when it is a path on this site, and it survives the two-factor
code, a forced password change and two-factor enrolment. Every open-redirect trick is refused."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline import runtime_of
from hotline.db.models import StaffUser
from hotline.web.landing import safe_next
from tests.fakes import FakeClock
from tests.signing_in import recorded, switch_on_two_factor
from tests.two_factor_support import (
    PASSWORD,
    code_now,
    login_csrf,
    make_staff,
    page_csrf,
    shown_key,
)

ATTACKS = [
    "//evil.example/console",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/console\\..\\",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example/console",
    "/\t/evil.example",
    "/\n/evil.example",
    " /console",
    "/" + "a" * 2001,
    "",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_safe_next_refuses_anything_but_a_path_here(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize(
    "target", ["/console", "/supervisor", "/supervisor/admin?tab=staff", "/console#conversation-3"]
)
def test_safe_next_keeps_a_path_here(target: str) -> None:
    assert safe_next(target) == target


def sign_in(client: FlaskClient, user: StaffUser, next_page: str | None = None) -> str:
    """Post the password (with ``next`` as the login page would carry it); where it sends us."""
    form = {"email": user.email, "password": PASSWORD, "csrf_token": login_csrf(client)}
    if next_page is not None:
        form["next"] = next_page
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "home"),
    [("advocate", "/console"), ("supervisor", "/supervisor"), ("admin", "/supervisor")],
)
def test_each_role_lands_on_its_home(app: Flask, role: str, home: str) -> None:
    client = app.test_client()
    assert sign_in(client, make_staff(app, role)) == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("target", ATTACKS)
def test_an_unsafe_next_lands_home_instead(app: Flask, target: str) -> None:
    assert sign_in(app.test_client(), make_staff(app, "supervisor"), target) == "/supervisor"


def test_the_login_page_carries_only_a_safe_next(app: Flask) -> None:
    safe = app.test_client().get("/login?next=/supervisor/reviews").get_data(as_text=True)
    assert 'name="next" value="/supervisor/reviews"' in safe
    unsafe = app.test_client().get("/login?next=//evil.example").get_data(as_text=True)
    assert "evil" not in unsafe


def test_a_safe_next_wins_over_home(app: Flask) -> None:
    client = app.test_client()
    advocate = make_staff(app, "advocate")
    assert sign_in(client, advocate, "/account/two-factor") == "/account/two-factor"
    supervisor = make_staff(app, "supervisor")
    assert sign_in(app.test_client(), supervisor, "/console") == "/console"


def switch_on(app: Flask, user: StaffUser) -> str:
    return switch_on_two_factor(app, user.id)


def test_next_survives_the_two_factor_code(clocked_app: Flask, clock: FakeClock) -> None:
    app = clocked_app
    supervisor = make_staff(app, "supervisor")
    secret = switch_on(app, supervisor)
    client = app.test_client()
    to_code = sign_in(client, supervisor, "/supervisor/reviews")
    assert to_code == "/login/code?next=/supervisor/reviews"
    page = client.get(to_code).get_data(as_text=True)
    assert 'name="next" value="/supervisor/reviews"' in page
    csrf = login_csrf(client, to_code)

    wrong = client.post(
        "/login/code", data={"code": "000000", "csrf_token": csrf, "next": "/supervisor/reviews"}
    )
    assert wrong.status_code == 401
    assert 'name="next" value="/supervisor/reviews"' in wrong.get_data(as_text=True)

    clock.advance(seconds=31)  # a fresh step, in case the wrong code used this one
    csrf = login_csrf(client, to_code)  # each form the page shows has a token of its own
    done = client.post(
        "/login/code",
        data={
            "code": code_now(secret, clock.now()),
            "csrf_token": csrf,
            "next": "/supervisor/reviews",
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == "/supervisor/reviews"


def test_the_code_step_refuses_an_unsafe_next(clocked_app: Flask, clock: FakeClock) -> None:
    app = clocked_app
    advocate = make_staff(app, "advocate")
    secret = switch_on(app, advocate)
    client = app.test_client()
    assert sign_in(client, advocate, "//evil.example") == "/login/code"
    done = client.post(
        "/login/code",
        data={
            "code": code_now(secret, clock.now()),
            "csrf_token": login_csrf(client, "/login/code"),
            "next": "https://evil.example/",
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == "/console"


def must_change_password(app: Flask, user: StaffUser) -> None:
    with runtime_of(app).sessions.begin() as session:
        row = session.get(StaffUser, user.id)
        assert row is not None
        row.must_change_password = True


def test_next_survives_a_forced_password_change(app: Flask) -> None:
    supervisor = make_staff(app, "supervisor")
    must_change_password(app, supervisor)
    client = app.test_client()
    assert sign_in(client, supervisor, "/supervisor/settings") == "/supervisor/settings"
    asked = client.get("/supervisor/settings")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/account/password?next=/supervisor/settings"
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/supervisor/settings"' in page
    csrf = page_csrf(client, asked.headers["Location"])
    new = "a brand new passphrase for this"
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": new,
            "repeat_password": new,
            "next": "/supervisor/settings",
        },
    )
    assert changed.status_code == 302
    location = changed.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {
        "changed": ["1"],
        "next": ["/supervisor/settings"],
    }
    done = client.get(location).get_data(as_text=True)
    assert '<a href="/supervisor/settings">Go to the page you asked for</a>' in done
    assert client.get("/supervisor/settings").status_code == 200


def test_a_forced_change_from_home_links_home(app: Flask) -> None:
    supervisor = make_staff(app, "supervisor")
    must_change_password(app, supervisor)
    client = app.test_client()
    assert sign_in(client, supervisor) == "/supervisor"
    assert client.get("/supervisor").headers["Location"] == "/account/password"
    page = client.get("/account/password?next=//evil.example").get_data(as_text=True)
    assert "evil" not in page
    assert "Back to the supervisor&#39;s board" not in page  # required: no way round it
    assert 'name="next"' not in page


def test_next_survives_two_factor_enrolment(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        isolated_database_url, clock=clock, settings_overrides={"require_2fa_for_supervisors": True}
    )
    supervisor = make_staff(app, "supervisor")
    client = app.test_client()
    assert sign_in(client, supervisor, "/supervisor/reviews") == "/supervisor/reviews"
    asked = client.get("/supervisor/reviews")
    assert asked.headers["Location"] == "/account/two-factor?next=/supervisor/reviews"
    csrf = page_csrf(client, asked.headers["Location"])
    started = client.post(
        "/account/two-factor/start", data={"csrf_token": csrf, "next": "/supervisor/reviews"}
    )
    assert started.status_code == 303
    assert started.headers["Location"] == "/account/two-factor?next=/supervisor/reviews"
    setup = client.get(started.headers["Location"]).get_data(as_text=True)
    assert setup.count('name="next" value="/supervisor/reviews"') == 2  # confirm, start again
    secret = shown_key(setup)
    assert secret
    done = client.post(
        "/account/two-factor",
        data={
            "csrf_token": csrf,
            "code": code_now(secret, clock.now()),
            "next": "/supervisor/reviews",
        },
    )
    assert done.status_code == 200
    assert '<a href="/supervisor/reviews">Continue to the page you asked for</a>' in done.get_data(
        as_text=True
    )
    assert client.get("/supervisor/reviews").status_code == 200


def test_a_refused_sign_in_keeps_next_and_opens_no_session(app: Flask) -> None:
    supervisor = make_staff(app, "supervisor")
    client = app.test_client()
    before = recorded(app)
    refused = client.post(
        "/login",
        data={
            "email": supervisor.email,
            "password": "wrong password entirely",
            "csrf_token": login_csrf(client),
            "next": "/supervisor/reviews",
        },
    )
    assert refused.status_code == 401
    assert 'name="next" value="/supervisor/reviews"' in refused.get_data(as_text=True)
    attempts, _, sessions = recorded(app)
    assert sessions == before[2] and attempts == before[0] + 1  # no session opened
