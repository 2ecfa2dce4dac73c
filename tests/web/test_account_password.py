"""``/account/password``: a staff member changes their own password (the current one first, a
new one that meets the policy, twice); the change ends their other sessions and is audited
without the password. An account created or reset by someone else must change its password
before anything else: pages redirect to the change page, APIs answer 403."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Event, SignInAttempt, StaffSession, StaffUser
from hotline.services.passwords import THROTTLED, WRONG_CURRENT
from tests.staff_helpers import (
    PASSWORD,
    account,
    events_of,
    live_sessions,
    make_staff,
    page_csrf,
    password_client,
)

PAGE = "/account/password"
ACCOUNTS = "/supervisor/api/staff-accounts"
NEW = "a brand new passphrase"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def change(
    client: FlaskClient, csrf: str | None, current: str, new: str, repeated: str | None = None
) -> Any:
    form = {"current_password": current, "new_password": new, "repeat_password": repeated or new}
    if csrf is not None:
        form["csrf_token"] = csrf
    return client.post(PAGE, data=form)


def api(client: FlaskClient, csrf: str, path: str, payload: dict[str, Any]) -> Any:
    return client.post(path, json=payload, headers={"X-CSRF-Token": csrf})


def snapshot(app: Flask) -> tuple[Any, ...]:
    """Every account's password state, every session, every event kind."""
    with runtime_of(app).sessions() as session:
        users = session.execute(
            select(
                StaffUser.id, StaffUser.password_hash, StaffUser.must_change_password,
                StaffUser.password_changed_at,
            ).order_by(StaffUser.id)
        ).all()  # fmt: skip
        sessions = session.execute(
            select(StaffSession.id, StaffSession.ended_at).order_by(StaffSession.id)
        ).all()
        kinds = session.scalars(select(Event.kind).order_by(Event.id)).all()
    return tuple(users), tuple(sessions), tuple(kinds)


def can_sign_in(app: Flask, email: str, password: str) -> bool:
    try:
        password_client(app, email, password)
    except AssertionError:
        return False
    return True


def failed_attempts(app: Flask) -> int:
    with runtime_of(app).sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.succeeded.is_(False))
        )
    return int(count or 0)


# -- changing one's own password ----------------------------------------------------------------


def test_a_change_ends_the_other_sessions_and_is_audited_without_the_password(app: Flask) -> None:
    user = make_staff(app)
    here = password_client(app, user.email)
    elsewhere = password_client(app, user.email)
    assert elsewhere.get("/console/api/me").status_code == 200
    csrf = page_csrf(here)
    page = here.get(PAGE).get_data(as_text=True)
    assert 'name="current_password"' in page and "set by someone else" not in page

    response = change(here, csrf, PASSWORD, NEW)

    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/account/password?changed=1"
    )
    assert "Your password is changed" in here.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert here.get("/console/api/me").status_code == 200  # this session goes on
    assert elsewhere.get("/console/api/me").status_code == 401  # every other one has ended
    assert live_sessions(app, user.id) == 1
    assert not can_sign_in(app, user.email, PASSWORD)
    assert can_sign_in(app, user.email, NEW)
    changed = account(app, user.id)
    assert changed.password_changed_at == runtime_of(app).clock.now()
    assert not changed.must_change_password
    [event] = events_of(app, "password_changed")
    assert event.actor_id == user.id
    assert event.detail == {"staff_id": user.id, "was_required": False, "sessions_ended": 1}
    everything_logged = json.dumps([e.detail for e in events_of(app, "password_changed")])
    assert NEW not in everything_logged and PASSWORD not in everything_logged


@pytest.mark.parametrize(
    ("current", "new", "repeated", "error"),
    [
        (PASSWORD, "too short", None, "password must be at least 12 characters"),
        (PASSWORD, "qwerty123456", None,
         "that password is one of the most common ones: choose another"),
        (PASSWORD, "Password1234!", None,
         "that password is one of the most common ones: choose another"),
        (PASSWORD, NEW, "a brand new passphrasE", "the two new passwords are not the same"),
        (PASSWORD, PASSWORD, None, "the new password must differ from the current one"),
        (PASSWORD, "{local} is my name", None,
         "password must not contain the part of the email before the @"),
        (PASSWORD, "x" * 1025, None, "password must be at most 1024 characters"),
    ],
)  # fmt: skip
def test_a_new_password_against_the_policy_is_refused_and_nothing_changes(
    app: Flask, current: str, new: str, repeated: str | None, error: str
) -> None:
    user = make_staff(app)
    local = user.email.split("@")[0].upper()
    new = new.format(local=local)
    client = password_client(app, user.email)
    other = password_client(app, user.email)
    csrf = page_csrf(client)
    before = snapshot(app)

    response = change(client, csrf, current, new, repeated)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="password-error">{error}</p>' in page
    assert snapshot(app) == before
    assert other.get("/console/api/me").status_code == 200
    assert can_sign_in(app, user.email, PASSWORD)


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(
    app: Flask,
) -> None:
    user = make_staff(app)
    client = password_client(app, user.email)
    csrf = page_csrf(client)
    before = snapshot(app)
    failures = failed_attempts(app)

    response = change(client, csrf, "not my password at all", NEW)

    assert response.status_code == 400
    assert WRONG_CURRENT in response.get_data(as_text=True)
    users, sessions, kinds = snapshot(app)
    assert (users, sessions) == before[:2]  # no password changed, no session ended
    assert kinds == (*before[2], "password_change_failed")
    assert failed_attempts(app) == failures + 1
    [event] = events_of(app, "password_change_failed")
    assert event.actor_id == user.id and event.detail == {"step": "current_password"}
    assert can_sign_in(app, user.email, PASSWORD) and not can_sign_in(app, user.email, NEW)


def test_guessing_the_current_password_here_is_throttled_like_signing_in(app: Flask) -> None:
    user = make_staff(app)
    client = password_client(app, user.email)
    csrf = page_csrf(client)
    for _ in range(runtime_of(app).auth.max_failures):
        assert change(client, csrf, "a wrong guess here", NEW).status_code == 400
    before = snapshot(app)
    throttled = change(client, csrf, PASSWORD, NEW)  # even the right one, for now
    assert throttled.status_code == 400 and THROTTLED in throttled.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_change_needs_the_csrf_token(app: Flask) -> None:
    user = make_staff(app)
    client = password_client(app, user.email)
    page_csrf(client)
    before = snapshot(app)
    for token in (None, "not-the-token"):
        response = change(client, token, PASSWORD, NEW)
        assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_without_a_session_the_page_asks_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    page = client.get(PAGE)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    before = snapshot(app)
    assert change(client, None, PASSWORD, NEW).status_code == 302
    assert snapshot(app) == before


def test_every_staff_page_links_to_the_change_page(app: Flask) -> None:
    client = password_client(app, make_staff(app, "admin").email)
    for path in ("/console", "/supervisor", "/supervisor/admin", "/supervisor/settings"):
        html = client.get(path).get_data(as_text=True)
        assert f'id="password-link" href="{PAGE}"' in html, path


# -- the forced change ----------------------------------------------------------------------------


def forced_away(app: Flask, client: FlaskClient, csrf: str, role: str) -> None:
    """Every page but the change page and the sign-in pages redirects to it; every API is 403."""
    pages = ["/console"] + (["/supervisor", "/supervisor/admin"] if role != "advocate" else [])
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        # with ?next= the page asked for, unless it is home (tests/web/test_landing.py)
        assert response.headers["Location"].partition("?")[0].endswith(PAGE), path
    for path in ("/console/api/me", "/console/api/queue"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (
            403, {"error": "change your password first"},
        ), path  # fmt: skip
    refused = api(client, csrf, "/console/api/availability", {"availability": "available"})
    assert (refused.status_code, refused.get_json()) == (
        403, {"error": "change your password first"},
    )  # fmt: skip
    page = client.get(PAGE)
    assert page.status_code == 200 and "set by someone else" in page.get_data(as_text=True)
    two_factor = client.get("/account/two-factor")  # two-factor setup stays reachable
    assert not two_factor.headers.get("Location", "").endswith(PAGE)


def test_an_account_created_by_a_supervisor_must_change_its_password_first(app: Flask) -> None:
    lead = password_client(app, make_staff(app, "supervisor").email)
    created = api(lead, page_csrf(lead, "/supervisor/admin"), ACCOUNTS,
                  {"email": "fresh@example.org", "role": "advocate",
                   "password": "a temporary password"})  # fmt: skip
    assert created.status_code == 200
    user_id = created.get_json()["id"]
    assert account(app, user_id).must_change_password
    listed = {a["id"]: a for a in lead.get(ACCOUNTS).get_json()["items"]}
    assert listed[user_id]["must_change_password"] is True

    client = password_client(app, "fresh@example.org", "a temporary password")
    csrf = page_csrf(client)
    forced_away(app, client, csrf, "advocate")

    assert change(client, csrf, "a temporary password", NEW).status_code == 302
    assert client.get("/console").status_code == 200
    assert client.get("/console/api/me").status_code == 200
    assert (
        api(client, csrf, "/console/api/availability", {"availability": "available"}).status_code
        == 200
    )
    assert not account(app, user_id).must_change_password
    [event] = events_of(app, "password_changed")
    assert event.detail == {"staff_id": user_id, "was_required": True, "sessions_ended": 0}
    listed = {a["id"]: a for a in lead.get(ACCOUNTS).get_json()["items"]}
    assert listed[user_id]["must_change_password"] is False


def test_a_password_reset_by_an_admin_must_be_changed_first(app: Flask) -> None:
    supervisor = make_staff(app, "supervisor")
    admin = password_client(app, make_staff(app, "admin").email)
    reset = api(admin, page_csrf(admin, "/supervisor/admin"),
                f"{ACCOUNTS}/{supervisor.id}/reset-password", {})  # fmt: skip
    assert reset.status_code == 200
    temporary = reset.get_json()["password"]

    client = password_client(app, supervisor.email, temporary)
    csrf = page_csrf(client)
    forced_away(app, client, csrf, "supervisor")
    # Signing out stays possible while the change is owed.
    other = password_client(app, supervisor.email, temporary)
    signed_out = other.post("/logout", data={"csrf_token": page_csrf(other)})
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]

    assert change(client, csrf, temporary, NEW).status_code == 302
    for path in ("/console", "/supervisor", "/supervisor/admin"):
        assert client.get(path).status_code == 200, path
    assert client.get("/supervisor/api/board").status_code == 200


# -- resets of supervisors' accounts are the admins' --------------------------------------------


def test_a_supervisor_resets_advocates_only(app: Flask) -> None:
    advocate, other_lead = make_staff(app), make_staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        target = session.get(StaffUser, other_lead.id)
        assert target is not None
        target.totp_secret_ciphertext = runtime.vault.encrypt("JBSWY3DPEHPK3PXP")
        target.totp_enabled = True
    lead = password_client(app, make_staff(app, "supervisor").email)
    csrf = page_csrf(lead, "/supervisor/admin")
    before = snapshot(app)
    for path, payload, error in (
        ("reset-password", {}, "only an admin may reset a supervisor's password"),
        ("reset-password", {"password": "a temporary password"},
         "only an admin may reset a supervisor's password"),
        ("reset-two-factor", {}, "only an admin may reset a supervisor's two-factor"),
        ("role", {"role": "advocate"}, "only an admin may change a supervisor's role"),
    ):  # fmt: skip
        response = api(lead, csrf, f"{ACCOUNTS}/{other_lead.id}/{path}", payload)
        assert (response.status_code, response.get_json()) == (403, {"error": error}), path
    assert snapshot(app) == before
    unchanged = account(app, other_lead.id)
    assert unchanged.totp_enabled and unchanged.role.value == "supervisor"
    assert can_sign_in(app, other_lead.email, PASSWORD)

    assert api(lead, csrf, f"{ACCOUNTS}/{advocate.id}/reset-password", {}).status_code == 200
    admin = password_client(app, make_staff(app, "admin").email)
    admin_csrf = page_csrf(admin, "/supervisor/admin")
    for path in ("reset-password", "reset-two-factor"):
        assert api(admin, admin_csrf, f"{ACCOUNTS}/{other_lead.id}/{path}", {}).status_code == 200
    resets = [(e.kind, e.detail["staff_id"]) for e in events_of(app, "staff_password_reset")]
    assert resets == [("staff_password_reset", advocate.id),
                      ("staff_password_reset", other_lead.id)]  # fmt: skip
    assert [e.detail["staff_id"] for e in events_of(app, "staff_two_factor_reset")] == [
        other_lead.id
    ]
