"""The two-factor pages: GET only shows, every change is a CSRF-checked POST, the enrolment
works when supervisors must have two-factor, replacing needs re-authentication, other sessions
end, the sign-in code page takes a recovery code once, and the CSP holds on the setup page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, RecoveryCode, StaffUser
from hotline.services.two_factor import REAUTH_NEEDED, WRONG_CODE
from hotline.web.security import CONTENT_SECURITY_POLICY
from tests.fakes import FakeClock
from tests.two_factor_support import (
    PASSWORD,
    code_now,
    make_staff,
    page_csrf,
    password_sign_in,
    shown_key,
    shown_recovery_codes,
    submit_code,
    web_enrol,
)


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def stored(app: Flask, user_id: int) -> tuple[Any, ...]:
    """The account's two-factor columns, its recovery codes and its events."""
    with runtime_of(app).sessions() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        codes = session.execute(
            select(RecoveryCode.code_hash, RecoveryCode.used_at).where(
                RecoveryCode.user_id == user_id
            )
        ).all()
        kinds = session.scalars(select(Event.kind).where(Event.actor_id == user_id)).all()
        return (
            user.totp_enabled, user.totp_secret_ciphertext, user.totp_pending_ciphertext,
            user.totp_last_step, tuple(codes), tuple(kinds),
        )  # fmt: skip


def signed_in_with_two_factor(app: Flask, user: StaffUser, secret: str) -> tuple[FlaskClient, str]:
    client = password_sign_in(app, user)
    assert submit_code(client, code_now(secret, runtime_of(app).clock.now())) == 302
    return client, page_csrf(client)


def test_opening_the_page_changes_nothing(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    before = stored(app, user.id)
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "is <strong>off</strong>" in page.get_data(as_text=True)
    assert shown_key(page.get_data(as_text=True)) is None
    assert stored(app, user.id) == before

    secret, _ = web_enrol(app, client, page_csrf(client))
    clock.advance(30)
    enrolled = stored(app, user.id)
    for _ in range(3):
        page = client.get("/account/two-factor")
        assert page.status_code == 200 and "is <strong>on</strong>" in page.get_data(as_text=True)
        assert shown_key(page.get_data(as_text=True)) is None
    assert stored(app, user.id) == enrolled
    # The enabled factor still guards the next sign-in.
    other = password_sign_in(app, user)
    assert other.get("/console/api/me").status_code == 401
    assert submit_code(other, code_now(secret, clock.now())) == 302


def test_every_change_needs_the_csrf_token(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    csrf = page_csrf(client)
    before = stored(app, user.id)
    for path, form in [
        ("/account/two-factor/start", {}),
        ("/account/two-factor", {"code": "123456"}),
        ("/account/two-factor/recovery-codes", {"current": PASSWORD}),
    ]:
        for token in ({}, {"csrf_token": "not-the-token"}):
            response = client.post(path, data={**form, **token})
            assert response.status_code == 400, path
    assert stored(app, user.id) == before
    assert client.post("/account/two-factor/start", data={"csrf_token": csrf}).status_code == 303


def test_the_whole_enrolment(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    elsewhere = password_sign_in(app, user)
    csrf = page_csrf(client)
    assert client.post("/account/two-factor/start", data={"csrf_token": csrf}).status_code == 303
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = shown_key(page)
    assert secret and len(secret) == 32
    assert '<img class="qr" src="data:image/svg+xml;charset=utf-8,%3Csvg' in page
    assert "otpauth://totp/Hotline:" in page

    wrong = client.post("/account/two-factor", data={"csrf_token": csrf, "code": "000000"})
    assert wrong.status_code == 400
    assert WRONG_CODE in wrong.get_data(as_text=True)
    assert shown_key(wrong.get_data(as_text=True)) == secret  # the same key: try again
    assert shown_key(client.get("/account/two-factor").get_data(as_text=True)) == secret

    done = client.post(
        "/account/two-factor", data={"csrf_token": csrf, "code": code_now(secret, clock.now())}
    )
    assert done.status_code == 200
    codes = shown_recovery_codes(done.get_data(as_text=True))
    assert len(codes) == 10
    assert "shown only now" in done.get_data(as_text=True)
    assert client.get("/console/api/me").status_code == 200  # this session goes on
    assert elsewhere.get("/console/api/me").status_code == 401  # the other one ended
    for code in codes:  # never shown again
        assert code not in client.get("/account/two-factor").get_data(as_text=True)


def test_enrolment_works_when_supervisors_must_have_two_factor(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        isolated_database_url, clock=clock, settings_overrides={"require_2fa_for_supervisors": True}
    )
    supervisor = make_staff(app, "supervisor")
    client = password_sign_in(app, supervisor)
    # The console is not a supervisor's home: enrolment goes on to it after (hotline.web.landing).
    assert client.get("/console").headers["Location"].endswith("/account/two-factor?next=/console")
    assert client.get("/supervisor/api/staff-accounts").status_code == 403
    csrf = page_csrf(client)
    secret, codes = web_enrol(app, client, csrf)
    assert len(codes) == 10
    assert client.get("/console").status_code == 200
    assert client.get("/supervisor/api/staff-accounts").status_code == 200

    clock.advance(30)
    fresh = password_sign_in(app, supervisor)
    assert submit_code(fresh, code_now(secret, clock.now())) == 302
    assert fresh.get("/console").status_code == 200


def test_replacing_needs_the_current_code_or_the_password(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    first = password_sign_in(app, user)
    old_secret, _ = web_enrol(app, first, page_csrf(first))
    clock.advance(30)
    client, csrf = signed_in_with_two_factor(app, user, old_secret)
    clock.advance(30)
    elsewhere, _ = signed_in_with_two_factor(app, user, old_secret)
    clock.advance(30)

    client.post("/account/two-factor/start", data={"csrf_token": csrf})
    page = client.get("/account/two-factor").get_data(as_text=True)
    new_secret = shown_key(page)
    assert new_secret and 'name="current"' in page
    before = stored(app, user.id)[:2]
    for current in ({}, {"current": "not the password"}):
        refused = client.post(
            "/account/two-factor",
            data={"csrf_token": csrf, "code": code_now(new_secret, clock.now()), **current},
        )
        assert refused.status_code == 400
        assert REAUTH_NEEDED in refused.get_data(as_text=True)
        assert stored(app, user.id)[:2] == before  # still on, with the old secret
        assert shown_key(refused.get_data(as_text=True)) == new_secret
    assert elsewhere.get("/console/api/me").status_code == 200

    replaced = client.post(
        "/account/two-factor",
        data={"csrf_token": csrf, "code": code_now(new_secret, clock.now()), "current": PASSWORD},
    )
    assert replaced.status_code == 200
    assert "Two-factor replaced" in replaced.get_data(as_text=True)
    assert elsewhere.get("/console/api/me").status_code == 401
    assert client.get("/console/api/me").status_code == 200

    clock.advance(30)
    late = password_sign_in(app, user)
    assert submit_code(late, code_now(old_secret, clock.now())) == 401
    assert submit_code(late, code_now(new_secret, clock.now())) == 302


def test_a_code_works_once_at_sign_in(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    secret, _ = web_enrol(app, client, page_csrf(client))
    clock.advance(30)
    code = code_now(secret, clock.now())
    first = password_sign_in(app, user)
    assert submit_code(first, code) == 302
    second = password_sign_in(app, user)
    assert submit_code(second, code) == 401
    assert second.get("/console/api/me").status_code == 401


def test_a_recovery_code_signs_in_once(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    _, codes = web_enrol(app, client, page_csrf(client))
    waiting = password_sign_in(app, user)
    page = waiting.get("/login/code").get_data(as_text=True)
    assert "recovery code" in page
    assert submit_code(waiting, codes[0]) == 302
    assert waiting.get("/console/api/me").status_code == 200
    again = password_sign_in(app, user)
    assert submit_code(again, codes[0]) == 401
    assert again.get("/console/api/me").status_code == 401
    assert submit_code(again, codes[1]) == 302
    assert "You have 8 unused recovery codes" in again.get("/account/two-factor").get_data(
        as_text=True
    )


def test_new_recovery_codes_need_reauthentication_and_replace_the_old(
    app: Flask, clock: FakeClock
) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    csrf = page_csrf(client)
    _, old_codes = web_enrol(app, client, csrf)
    before = stored(app, user.id)[4]
    refused = client.post("/account/two-factor/recovery-codes", data={"csrf_token": csrf})
    assert refused.status_code == 400 and REAUTH_NEEDED in refused.get_data(as_text=True)
    assert stored(app, user.id)[4] == before
    renewed = client.post(
        "/account/two-factor/recovery-codes", data={"csrf_token": csrf, "current": PASSWORD}
    )
    assert renewed.status_code == 200
    new_codes = shown_recovery_codes(renewed.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    waiting = password_sign_in(app, user)
    assert submit_code(waiting, old_codes[0]) == 401
    assert submit_code(waiting, new_codes[0]) == 302


def test_the_setup_page_keeps_the_csp_and_runs_no_script(app: Flask) -> None:
    user = make_staff(app)
    client = password_sign_in(app, user)
    client.post("/account/two-factor/start", data={"csrf_token": page_csrf(client)})
    response = client.get("/account/two-factor")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "img-src 'self' data:" in CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<script" not in page and "<svg" not in page  # the QR code is an <img>, from data:
