"""Signing in against an adversary: refusals that cost the same whether or not the account
exists, a lockout that parallel guesses cannot race, that cannot shut out a person with a second
factor, and that is audited; input no form can hold is refused and leaves no trace."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from argon2 import extract_parameters
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import create_app, runtime_of
from hotline.db.models import SignInAttempt, StaffUser
from hotline.db.session import make_engine
from hotline.infra.taskqueue import InProcessQueue
from hotline.infra.vault import Vault
from hotline.services import auth
from hotline.services.auth import (
    GENERIC_REFUSAL,
    Refused,
    SignedIn,
    do_sign_in,
    do_verify_totp,
    hash_email,
)
from hotline.sms.sender import LocalSender
from tests.conftest import settings_for
from tests.fakes import FakeClock
from tests.signing_in import (
    PASSWORD,
    code_now,
    events_of_kind,
    recorded,
    spy_on_argon2,
    staff_member,
    switch_on_two_factor,
)

WRONG = "not the password at all"
TOO_MANY_FAILURES = "too many failed sign-ins: wait a few minutes, then try again"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def sign_in(app: Flask, email: str, password: str) -> SignedIn | Refused:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_sign_in(session, runtime.auth, email, password, runtime.clock.now())


def enter_code(app: Flask, token: str, code: str) -> SignedIn | Refused:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_verify_totp(
            session, runtime.auth, runtime.vault, token, code, runtime.clock.now()
        )


def lock(app: Flask, email: str) -> None:
    for _ in range(runtime_of(app).auth.max_failures):
        assert sign_in(app, email, WRONG) == Refused(GENERIC_REFUSAL)


# -- timing ----------------------------------------------------------------------------------


def test_a_missing_or_inactive_account_costs_the_same_argon2_check_as_a_wrong_password(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = staff_member(app)
    gone = staff_member(app, active=False)
    checked = spy_on_argon2(monkeypatch)

    assert sign_in(app, member.email, WRONG) == Refused(GENERIC_REFUSAL)
    assert checked == [member.password_hash]
    for email, password in (
        ("nobody-here@example.org", WRONG),
        ("someone-else@example.org", PASSWORD),
        (gone.email, PASSWORD),  # the right password of a deactivated account
    ):
        checked.clear()
        assert sign_in(app, email, password) == Refused(GENERIC_REFUSAL)
        assert len(checked) == 1, email  # one verification, like a wrong password
        dummy = checked[0]
        assert dummy not in (member.password_hash, gone.password_hash)
        assert extract_parameters(dummy) == extract_parameters(member.password_hash)
    # One hash nobody's password matches, made once for the process.
    checked.clear()
    sign_in(app, "nobody-here@example.org", WRONG)
    sign_in(app, "nobody-either@example.org", WRONG)
    assert checked == [dummy, dummy]


def test_a_locked_email_costs_one_argon2_check_too(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the locked email has an account, and whether it has two-factor, takes as long."""
    plain = staff_member(app)
    guarded = staff_member(app)
    switch_on_two_factor(app, guarded.id)
    for email in (plain.email, guarded.email, "nobody-here@example.org"):
        lock(app, email)
    checked = spy_on_argon2(monkeypatch)
    for email in (plain.email, guarded.email, "nobody-here@example.org"):
        checked.clear()
        assert sign_in(app, email, WRONG) == Refused(TOO_MANY_FAILURES)
        assert len(checked) == 1, email
    assert plain.password_hash not in checked  # nothing to learn: the lockout holds


# -- the lockout -----------------------------------------------------------------------------


def test_parallel_wrong_guesses_check_no_more_passwords_than_the_policy_allows(
    isolated_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of guesses at once, each its own request and transaction: the failures are
    counted before any password is checked, one at a time, so the burst gets the policy's five
    checks and no more."""
    engine = make_engine(isolated_database_url, pool_size=20, max_overflow=0, pool_timeout=30)
    app = create_app(
        {"settings": settings_for(isolated_database_url), "engine": engine,
         "tasks": InProcessQueue(start=False), "sender": LocalSender(), "TESTING": True}
    )  # fmt: skip
    try:
        member = staff_member(app)
        checked = spy_on_argon2(monkeypatch)
        guesses = 12
        start = threading.Barrier(guesses)
        answers: list[SignedIn | Refused] = []

        def guess(number: int) -> None:
            start.wait()
            answers.append(sign_in(app, member.email, f"guess number {number}"))

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        max_failures = runtime_of(app).auth.max_failures
        assert checked.count(member.password_hash) == max_failures
        messages = [answer.message for answer in answers if isinstance(answer, Refused)]
        assert Counter(messages) == {
            GENERIC_REFUSAL: max_failures,
            TOO_MANY_FAILURES: guesses - max_failures,
        }
        with runtime_of(app).sessions() as session:
            attempts = session.scalars(
                select(SignInAttempt).where(SignInAttempt.email_hash == hash_email(member.email))
            ).all()
        assert len(attempts) == guesses and not any(a.succeeded for a in attempts)
        assert sign_in(app, member.email, PASSWORD) == Refused(TOO_MANY_FAILURES)
    finally:
        engine.dispose()


def test_parallel_wrong_codes_check_no_more_codes_than_the_policy_allows(
    isolated_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(isolated_database_url, pool_size=20, max_overflow=0, pool_timeout=30)
    app = create_app(
        {"settings": settings_for(isolated_database_url), "engine": engine,
         "tasks": InProcessQueue(start=False), "sender": LocalSender(), "TESTING": True}
    )  # fmt: skip
    try:
        member = staff_member(app)
        switch_on_two_factor(app, member.id)
        password_only = sign_in(app, member.email, PASSWORD)
        assert isinstance(password_only, SignedIn) and password_only.awaiting_totp
        codes_checked: list[str] = []
        real_accept = auth.accept_sign_in_code

        def counting_accept(
            session: Session, vault: Vault, user: StaffUser, code: str, now: datetime
        ) -> str | None:
            codes_checked.append(code)
            return real_accept(session, vault, user, code, now)

        monkeypatch.setattr(auth, "accept_sign_in_code", counting_accept)
        guesses = 12
        start = threading.Barrier(guesses)
        answers: list[SignedIn | Refused] = []

        def guess(number: int) -> None:
            start.wait()
            answers.append(enter_code(app, password_only.token, "0000" + f"{number:02d}"))

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(codes_checked) <= runtime_of(app).auth.max_failures
        assert all(isinstance(answer, Refused) for answer in answers)
    finally:
        engine.dispose()


def test_a_locked_account_with_two_factor_still_signs_in_with_password_and_code(
    app: Flask,
) -> None:
    """Failing on purpose locks an email, but cannot shut out a person with a second factor."""
    member = staff_member(app)
    secret = switch_on_two_factor(app, member.id)
    lock(app, member.email)
    assert sign_in(app, member.email, WRONG) == Refused(TOO_MANY_FAILURES)

    password_only = sign_in(app, member.email, PASSWORD)
    assert isinstance(password_only, SignedIn) and password_only.awaiting_totp
    signed_in = enter_code(app, password_only.token, code_now(app, secret))
    assert isinstance(signed_in, SignedIn) and not signed_in.awaiting_totp

    # While locked, one wrong code ends the password-only session: a password buys one code.
    password_only = sign_in(app, member.email, PASSWORD)
    assert isinstance(password_only, SignedIn)
    wrong_code = str((int(code_now(app, secret)) + 1) % 10**6).zfill(6)
    assert enter_code(app, password_only.token, wrong_code) == Refused(
        "too many wrong codes: sign in again in a few minutes"
    )
    assert enter_code(app, password_only.token, code_now(app, secret)) == Refused("sign in again")


def test_without_two_factor_the_lockout_holds_against_the_right_password(
    app: Flask, clock: FakeClock
) -> None:
    member = staff_member(app)
    lock(app, member.email)
    assert sign_in(app, member.email, PASSWORD) == Refused(TOO_MANY_FAILURES)
    clock.advance(16 * 60)
    assert isinstance(sign_in(app, member.email, PASSWORD), SignedIn)


def test_a_lockout_is_audited_once_naming_the_account_never_the_email(app: Flask) -> None:
    member = staff_member(app)
    lock(app, member.email)
    sign_in(app, member.email, WRONG)
    sign_in(app, member.email, PASSWORD)
    lock(app, "nobody-here@example.org")
    locked = events_of_kind(app, "sign_in_locked")
    assert [(event.actor_id, event.detail) for event in locked] == [
        (member.id, {"step": "password", "failures": 5, "minutes": 15.0}),
        (None, {"step": "password", "failures": 5, "minutes": 15.0}),
    ]
    text = json.dumps([event.detail for event in locked])
    assert "example.org" not in text and hash_email(member.email) not in text


def test_wrong_codes_lock_the_email_and_are_audited(app: Flask) -> None:
    member = staff_member(app)
    switch_on_two_factor(app, member.id)
    for _ in range(runtime_of(app).auth.max_failures):
        password_only = sign_in(app, member.email, PASSWORD)
        assert isinstance(password_only, SignedIn)
        enter_code(app, password_only.token, "000000")
    assert [(e.actor_id, e.detail["step"]) for e in events_of_kind(app, "sign_in_locked")] == [
        (member.id, "totp")
    ]


# -- input no form can hold ------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\t", "\x7f", "\x85"])
@pytest.mark.parametrize("field", ["email", "password"])
def test_a_control_character_gets_the_generic_refusal_and_nothing_is_recorded(
    app: Flask, monkeypatch: pytest.MonkeyPatch, field: str, character: str
) -> None:
    member = staff_member(app)
    form: dict[str, Callable[[str], str]] = {
        "email": lambda c: member.email.replace("@", c + "@"),
        "password": lambda c: PASSWORD + c,
    }
    email = form["email"](character) if field == "email" else member.email
    password = form["password"](character) if field == "password" else PASSWORD
    before = recorded(app)
    checked = spy_on_argon2(monkeypatch)
    assert sign_in(app, email, password) == Refused(GENERIC_REFUSAL)
    assert recorded(app) == before
    assert checked == []
