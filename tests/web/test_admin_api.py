"""The administration page and its staff-accounts API: refused to advocates, CSRF on every
change, each refusal a clear 4xx that changes nothing, and changes that take effect at once."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, StaffSession, StaffUser
from tests.console_client import login_csrf, post, sign_in, staff
from tests.helpers import rigged_draws

ACCOUNTS = "/supervisor/api/staff-accounts"
CHANGES = [
    (ACCOUNTS, {"email": "x@example.org", "role": "advocate"}),
    (f"{ACCOUNTS}/{{id}}/deactivate", {}),
    (f"{ACCOUNTS}/{{id}}/reactivate", {}),
    (f"{ACCOUNTS}/{{id}}/reset-password", {}),
    (f"{ACCOUNTS}/{{id}}/role", {"role": "supervisor"}),
    (f"{ACCOUNTS}/{{id}}/reset-two-factor", {}),
]


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def everything(app: Flask) -> tuple[Any, ...]:
    """Every account, session and event: what a refused request must leave as it was."""
    with runtime_of(app).sessions() as session:
        users = session.execute(
            select(
                StaffUser.id, StaffUser.email, StaffUser.role, StaffUser.active,
                StaffUser.password_hash, StaffUser.totp_enabled,
            ).order_by(StaffUser.id)
        ).all()  # fmt: skip
        sessions = session.execute(
            select(StaffSession.id, StaffSession.ended_at).order_by(StaffSession.id)
        ).all()
        kinds = session.scalars(select(Event.kind).order_by(Event.id)).all()
    return tuple(users), tuple(sessions), tuple(kinds)


def password_sign_in(app: Flask, email: str, password: str) -> FlaskClient | None:
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": login_csrf(client)}
    )
    return client if response.status_code == 302 else None


def test_advocates_are_refused_the_page_and_every_endpoint(app: Flask) -> None:
    advocate = staff(app)
    client, csrf = sign_in(app, advocate)
    target = staff(app).id
    before = everything(app)
    assert client.get("/supervisor/admin").status_code == 403
    assert client.get(ACCOUNTS).status_code == 403
    for path, payload in CHANGES:
        response = post(client, csrf, path.format(id=target), payload)
        assert response.status_code == 403, path
        assert response.get_json() == {"error": "you may not see this"}
    assert everything(app) == before


def test_without_a_session_the_api_says_sign_in_and_the_page_redirects(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/supervisor/admin")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(ACCOUNTS).status_code == 401
    for path, payload in CHANGES:
        assert client.post(path.format(id=1), json=payload).status_code == 401, path


def test_every_change_needs_the_csrf_token(app: Flask) -> None:
    client, _ = sign_in(app, staff(app, "admin"))
    target = staff(app).id
    before = everything(app)
    for path, payload in CHANGES:
        for headers in ({}, {"X-CSRF-Token": "not-the-token"}):
            response = client.post(path.format(id=target), json=payload, headers=headers)
            assert response.status_code == 400, path
            assert "CSRF" in response.get_json()["error"]
    assert everything(app) == before


def test_the_page_for_a_supervisor_and_for_an_admin(app: Flask) -> None:
    client, _ = sign_in(app, staff(app, "supervisor"))
    page = client.get("/supervisor/admin")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for section in ("Staff", "Quick replies", "Referrals"):
        assert f">{section}</button>" in html
    assert '<option value="admin">' not in html  # a supervisor cannot create an admin
    assert "<script>" not in html and "admin.js" in html
    assert '<a href="/supervisor/admin">Administration</a>' in client.get("/supervisor").get_data(
        as_text=True
    )
    admin_client, _ = sign_in(app, staff(app, "admin"))
    assert '<option value="admin">' in admin_client.get("/supervisor/admin").get_data(as_text=True)


def test_create_with_a_generated_password_shown_once_then_sign_in(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    created = post(client, csrf, ACCOUNTS, {"email": " New@Example.org ", "role": "advocate"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    answer = created.get_json()
    assert answer["email"] == "new@example.org" and len(answer["password"]) >= 12
    assert password_sign_in(app, "new@example.org", answer["password"]) is not None

    listed = client.get(ACCOUNTS).get_json()
    assert listed["me"] == supervisor.id
    mine = next(a for a in listed["items"] if a["id"] == answer["id"])
    assert {k: mine[k] for k in ("email", "role", "active", "two_factor")} == {
        "email": "new@example.org", "role": "advocate", "active": True, "two_factor": False,
    }  # fmt: skip
    assert mine["last_sign_in_at"] is not None
    assert answer["password"] not in client.get(ACCOUNTS).get_data(as_text=True)

    chosen = post(client, csrf, ACCOUNTS,
                  {"email": "chosen@example.org", "role": "supervisor",
                   "password": "a temporary password"})  # fmt: skip
    assert chosen.status_code == 200 and chosen.get_json()["password"] is None
    assert password_sign_in(app, "chosen@example.org", "a temporary password") is not None


def test_a_generated_password_that_held_the_email_is_drawn_again_not_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draw holding the email's local part (about one in 2,700 for new@…) once made creating
    such an account fail with a 400 its administrator could do nothing about."""
    client, csrf = sign_in(app, staff(app, "supervisor"))
    rigged_draws(monkeypatch, "anewa-bbbbb-ccccc-ddddd")
    created = post(client, csrf, ACCOUNTS, {"email": "new@example.org", "role": "advocate"})
    assert created.status_code == 200, created.get_json()
    password = created.get_json()["password"]
    assert "new" not in password
    assert password_sign_in(app, "new@example.org", password) is not None

    rigged_draws(monkeypatch, "bbbbb-newcc-ccccc-ddddd")
    reset = post(client, csrf, f"{ACCOUNTS}/{created.get_json()['id']}/reset-password", {})
    assert reset.status_code == 200, reset.get_json()
    assert "new" not in reset.get_json()["password"]


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"email": "taken@example.org", "role": "advocate"}, 409,
         "an account with that email exists already"),
        ({"email": "TAKEN@example.ORG", "role": "advocate"}, 409,
         "an account with that email exists already"),
        ({"email": "nope", "role": "advocate"}, 400, "that is not an email address"),
        ({"email": "a@example.org", "role": "root"}, 400,
         "role must be advocate, supervisor or admin"),
        ({"email": "a@example.org", "role": "advocate", "password": "short"}, 400,
         "password must be at least 12 characters"),
        ({"email": "a@example.org", "role": "advocate", "is_admin": True}, 400,
         "unknown fields: is_admin"),
        ({"email": "a@example.org", "role": "admin"}, 403, "only an admin may create an admin"),
    ],
)  # fmt: skip
def test_refused_creations_say_why_and_change_nothing(
    app: Flask, payload: dict[str, Any], status: int, error: str
) -> None:
    client, csrf = sign_in(app, staff(app, "supervisor"))
    post(client, csrf, ACCOUNTS, {"email": "taken@example.org", "role": "advocate"})
    before = everything(app)
    response = post(client, csrf, ACCOUNTS, payload)
    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert everything(app) == before
    not_json = client.post(ACCOUNTS, data="email=a", headers={"X-CSRF-Token": csrf})
    assert (not_json.status_code, not_json.get_json()) == (400, {"error": "send a JSON object"})
    assert everything(app) == before


def test_a_deactivated_users_session_stops_working_at_once(app: Flask) -> None:
    advocate = staff(app)
    advocate_client, advocate_csrf = sign_in(app, advocate)
    assert advocate_client.get("/console/api/me").status_code == 200
    client, csrf = sign_in(app, staff(app, "supervisor"))

    assert post(client, csrf, f"{ACCOUNTS}/{advocate.id}/deactivate", {}).status_code == 200

    assert advocate_client.get("/console/api/me").status_code == 401
    assert post(advocate_client, advocate_csrf, "/console/api/availability",
                {"availability": "available"}).status_code == 401  # fmt: skip
    page = advocate_client.get("/console")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert password_sign_in(app, advocate.email, "correct horse battery") is None
    row = next(a for a in client.get(ACCOUNTS).get_json()["items"] if a["id"] == advocate.id)
    assert row["active"] is False

    assert post(client, csrf, f"{ACCOUNTS}/{advocate.id}/reactivate", {}).status_code == 200
    assert advocate_client.get("/console/api/me").status_code == 401  # that session stays ended
    assert password_sign_in(app, advocate.email, "correct horse battery") is not None


def test_a_password_reset_ends_sessions_and_gives_a_new_password(app: Flask) -> None:
    advocate = staff(app)
    advocate_client, _ = sign_in(app, advocate)
    client, csrf = sign_in(app, staff(app, "supervisor"))
    reset = post(client, csrf, f"{ACCOUNTS}/{advocate.id}/reset-password", {})
    new_password = reset.get_json()["password"]
    assert reset.status_code == 200 and isinstance(new_password, str)
    assert advocate_client.get("/console/api/me").status_code == 401
    assert password_sign_in(app, advocate.email, "correct horse battery") is None
    assert password_sign_in(app, advocate.email, new_password) is not None
    with runtime_of(app).sessions() as session:
        [event] = session.scalars(select(Event).where(Event.kind == "staff_password_reset")).all()
    assert new_password not in str(event.detail)


def test_a_promotion_applies_to_the_live_session(app: Flask) -> None:
    advocate = staff(app)
    advocate_client, _ = sign_in(app, advocate)
    assert advocate_client.get("/supervisor/api/board").status_code == 403
    client, csrf = sign_in(app, staff(app, "supervisor"))
    changed = post(client, csrf, f"{ACCOUNTS}/{advocate.id}/role", {"role": "supervisor"})
    assert changed.status_code == 200
    assert advocate_client.get("/supervisor/api/board").status_code == 200


def test_refused_changes_say_why_and_change_nothing(app: Flask) -> None:
    supervisor, admin, advocate = staff(app, "supervisor"), staff(app, "admin"), staff(app)
    client, csrf = sign_in(app, supervisor)
    admin_client, admin_csrf = sign_in(app, admin)
    cases: list[tuple[FlaskClient, str, str, dict[str, Any], int, str]] = [
        (client, csrf, f"{ACCOUNTS}/{admin.id}/deactivate", {}, 403,
         "only an admin may change an admin's account"),
        (client, csrf, f"{ACCOUNTS}/{admin.id}/reset-password", {}, 403,
         "only an admin may change an admin's account"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/role", {"role": "admin"}, 403,
         "only an admin may make someone an admin"),
        (client, csrf, f"{ACCOUNTS}/{supervisor.id}/deactivate", {}, 409,
         "you cannot deactivate your own account"),
        (client, csrf, f"{ACCOUNTS}/{supervisor.id}/role", {"role": "advocate"}, 409,
         "you cannot change your own role"),
        (admin_client, admin_csrf, f"{ACCOUNTS}/{admin.id}/deactivate", {}, 409,
         "the last active admin cannot be deactivated: make another admin first"),
        (admin_client, admin_csrf, f"{ACCOUNTS}/{admin.id}/role", {"role": "supervisor"}, 409,
         "the last active admin cannot be demoted: make another admin first"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/reactivate", {}, 409,
         "that account is active already"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/reset-two-factor", {}, 409,
         "that account has no two-factor sign-in to reset"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/role", {"role": 3}, 400,
         "role must be advocate, supervisor or admin"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/reset-password", {"password": "short"}, 400,
         "password must be at least 12 characters"),
        (client, csrf, f"{ACCOUNTS}/{advocate.id}/reset-password", {"pasword": "x" * 20}, 400,
         "unknown fields: pasword"),
        (client, csrf, f"{ACCOUNTS}/99999/deactivate", {}, 404, "no such staff account"),
    ]  # fmt: skip
    before = everything(app)
    for who, token, path, payload, status, error in cases:
        response = post(who, token, path, payload)
        assert (response.status_code, response.get_json()) == (status, {"error": error}), path
    assert everything(app) == before


def test_an_admin_resets_two_factor(app: Flask) -> None:
    admin, supervisor = staff(app, "admin"), staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        lead = session.get(StaffUser, supervisor.id)
        assert lead is not None
        lead.totp_secret_ciphertext = runtime.vault.encrypt("JBSWY3DPEHPK3PXP")
        lead.totp_enabled = True
    client, csrf = sign_in(app, admin)
    listed = {a["id"]: a for a in client.get(ACCOUNTS).get_json()["items"]}
    assert listed[supervisor.id]["two_factor"] is True
    assert post(client, csrf, f"{ACCOUNTS}/{supervisor.id}/reset-two-factor", {}).status_code == 200
    listed = {a["id"]: a for a in client.get(ACCOUNTS).get_json()["items"]}
    assert listed[supervisor.id]["two_factor"] is False
    # The password alone signs them in now: no code asked.
    signed = app.test_client()
    form = {"email": supervisor.email, "password": "correct horse battery"}
    response = signed.post("/login", data={**form, "csrf_token": login_csrf(signed)})
    assert response.status_code == 302 and "/login/code" not in response.headers["Location"]
