"""Two-factor for one's own account: a pending secret that touches nothing until confirmed,
re-authentication to replace a factor, other sessions ended, codes never accepted twice,
recovery codes hashed and single-use, and an administrator's reset that forgets it all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Event, RecoveryCode, SignInAttempt, StaffSession, StaffUser
from hotline.domain import totp
from hotline.services import accounts, two_factor
from hotline.services.auth import Refused, SignedIn, do_sign_in, do_verify_totp, load_session
from hotline.services.second_factor import RECOVERY_CODES
from hotline.services.two_factor import REAUTH_NEEDED, TOO_MANY, WRONG_CODE, Enabled
from tests.fakes import FakeClock
from tests.two_factor_support import PASSWORD, make_staff


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def in_session(app: Flask, user_id: int, work: Callable[..., Any]) -> Any:
    """``work(session, user)`` in one committed transaction, as a staff view runs it."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        return work(session, user)


def start(app: Flask, user_id: int) -> str:
    runtime = runtime_of(app)
    return str(
        in_session(
            app,
            user_id,
            lambda s, u: two_factor.do_start_totp(s, runtime.vault, u, runtime.clock.now()),
        )
    )


def confirm(
    app: Flask, user_id: int, code: str, current: str = "", keep: str | None = None
) -> Enabled | Refused:
    runtime = runtime_of(app)
    result = in_session(
        app,
        user_id,
        lambda s, u: two_factor.do_confirm_totp(
            s, runtime.auth, runtime.vault, u, code, runtime.clock.now(),
            current=current, keep_session_id=keep,
        ),
    )  # fmt: skip
    assert isinstance(result, Enabled | Refused)
    return result


def password_step(app: Flask, user: StaffUser) -> SignedIn:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        signed = do_sign_in(session, runtime.auth, user.email, PASSWORD, runtime.clock.now())
    assert isinstance(signed, SignedIn)
    return signed


def second_step(app: Flask, token: str, code: str) -> SignedIn | Refused:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_verify_totp(
            session, runtime.auth, runtime.vault, token, code, runtime.clock.now()
        )


def signed_in_fully(app: Flask, user: StaffUser, secret: str) -> SignedIn:
    clock = runtime_of(app).clock
    signed = second_step(
        app, password_step(app, user).token, totp.code_at(secret, clock.now().timestamp())
    )
    assert isinstance(signed, SignedIn), signed
    return signed


def fresh(app: Flask, user_id: int) -> StaffUser:
    with runtime_of(app).sessions() as session:
        found = session.get(StaffUser, user_id)
        assert found is not None
        return found


def kinds(app: Flask, user_id: int) -> list[str]:
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(select(Event.kind).where(Event.actor_id == user_id).order_by(Event.id))
        )


def alive(app: Flask, token: str) -> bool:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return load_session(session, runtime.auth, token, runtime.clock.now()) is not None


def enrolled(app: Flask, clock: FakeClock, user: StaffUser) -> tuple[str, list[str]]:
    secret = start(app, user.id)
    enabled = confirm(app, user.id, totp.code_at(secret, clock.now().timestamp()))
    assert isinstance(enabled, Enabled)
    clock.advance(30)  # the confirmation's code is spent: later steps only
    return secret, enabled.recovery_codes


def test_starting_keeps_the_secret_pending_and_encrypted(app: Flask) -> None:
    user = make_staff(app, "supervisor")
    secret = start(app, user.id)
    stored = fresh(app, user.id)
    assert not stored.totp_enabled and stored.totp_secret_ciphertext is None
    assert stored.totp_pending_ciphertext is not None
    assert secret.encode() not in stored.totp_pending_ciphertext
    assert runtime_of(app).vault.decrypt(stored.totp_pending_ciphertext) == secret
    assert kinds(app, user.id)[-1] == "totp_setup_started"


def test_a_wrong_code_keeps_the_pending_key_and_a_right_one_turns_it_on(
    app: Flask, clock: FakeClock
) -> None:
    user = make_staff(app)
    secret = start(app, user.id)
    for wrong in ("000000", "abc", totp.code_at(secret, clock.now().timestamp() - 120)):
        assert confirm(app, user.id, wrong) == Refused(WRONG_CODE)
        after = fresh(app, user.id)
        assert not after.totp_enabled and after.totp_secret_ciphertext is None
        assert runtime_of(app).vault.decrypt(after.totp_pending_ciphertext or b"") == secret
    assert kinds(app, user.id)[-1] == "totp_confirm_failed"

    code = totp.code_at(secret, clock.now().timestamp())
    enabled = confirm(app, user.id, code)
    assert isinstance(enabled, Enabled) and not enabled.replaced
    on = fresh(app, user.id)
    assert on.totp_enabled and on.totp_pending_ciphertext is None
    assert runtime_of(app).vault.decrypt(on.totp_secret_ciphertext or b"") == secret
    assert on.totp_last_step == totp.step_of(clock.now().timestamp())
    assert kinds(app, user.id)[-2:] == ["recovery_codes_generated", "totp_enabled"]
    # Confirming again needs a new setup: nothing is pending now.
    assert confirm(app, user.id, code) == Refused("start two-factor setup first")


def test_turning_it_on_ends_every_other_session(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    here, elsewhere = password_step(app, user), password_step(app, user)
    secret = start(app, user.id)
    enabled = confirm(
        app, user.id, totp.code_at(secret, clock.now().timestamp()), keep=here.session_id
    )
    assert isinstance(enabled, Enabled) and enabled.sessions_ended == 1
    assert alive(app, here.token) and not alive(app, elsewhere.token)
    with runtime_of(app).sessions() as session:
        event = session.scalars(
            select(Event).where(Event.kind == "totp_enabled", Event.actor_id == user.id)
        ).one()
    assert event.detail == {"reauthenticated_with": None, "sessions_ended": 1}


def test_a_code_is_never_accepted_twice(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    secret = start(app, user.id)
    code = totp.code_at(secret, clock.now().timestamp())
    assert isinstance(confirm(app, user.id, code), Enabled)
    # The confirmation's code, replayed at sign-in in the same window: refused.
    waiting = password_step(app, user)
    assert second_step(app, waiting.token, code) == Refused("that code is not right")
    clock.advance(30)
    next_code = totp.code_at(secret, clock.now().timestamp())
    assert isinstance(second_step(app, waiting.token, next_code), SignedIn)
    # ...and that one, again, in another sign-in: refused; so is the previous step's code.
    again = password_step(app, user)
    assert second_step(app, again.token, next_code) == Refused("that code is not right")
    assert second_step(app, again.token, code) == Refused("that code is not right")
    assert fresh(app, user.id).totp_last_step == totp.step_of(clock.now().timestamp())


def test_replacing_needs_the_current_code_or_the_password(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    old_secret, _ = enrolled(app, clock, user)
    here, elsewhere = signed_in_fully(app, user, old_secret), password_step(app, user)
    clock.advance(30)
    new_secret = start(app, user.id)
    assert fresh(app, user.id).totp_enabled  # starting over never switches it off
    before = fresh(app, user.id).totp_secret_ciphertext
    new_code = totp.code_at(new_secret, clock.now().timestamp())
    for current in ("", "a wrong password here", "000000"):
        assert confirm(app, user.id, new_code, current) == Refused(REAUTH_NEEDED)
        assert fresh(app, user.id).totp_secret_ciphertext == before
        assert fresh(app, user.id).totp_pending_ciphertext is not None
    with runtime_of(app).sessions() as session:
        reauth_failures = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.kind == "totp_confirm_failed", Event.actor_id == user.id)
        )
    assert reauth_failures == 3

    replaced = confirm(app, user.id, new_code, PASSWORD, keep=here.session_id)
    assert isinstance(replaced, Enabled) and replaced.replaced
    assert alive(app, here.token) and not alive(app, elsewhere.token)
    stored = fresh(app, user.id)
    assert runtime_of(app).vault.decrypt(stored.totp_secret_ciphertext or b"") == new_secret
    clock.advance(30)
    waiting = password_step(app, user)
    assert second_step(
        app, waiting.token, totp.code_at(old_secret, clock.now().timestamp())
    ) == Refused("that code is not right")
    assert isinstance(
        second_step(app, waiting.token, totp.code_at(new_secret, clock.now().timestamp())), SignedIn
    )


def test_the_current_code_replaces_too_in_the_same_window(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    old_secret, _ = enrolled(app, clock, user)
    new_secret = start(app, user.id)
    replaced = confirm(
        app,
        user.id,
        totp.code_at(new_secret, clock.now().timestamp()),
        current=totp.code_at(old_secret, clock.now().timestamp()),
    )
    assert isinstance(replaced, Enabled) and replaced.replaced
    with runtime_of(app).sessions() as session:
        event = session.scalars(
            select(Event).where(Event.kind == "totp_replaced", Event.actor_id == user.id)
        ).one()
    assert event.detail["reauthenticated_with"] == "code"


def test_wrong_reauthentication_counts_towards_the_lockout(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    enrolled(app, clock, user)
    new_secret = start(app, user.id)
    new_code = totp.code_at(new_secret, clock.now().timestamp())
    limit = runtime_of(app).auth.max_failures
    for _ in range(limit):
        assert confirm(app, user.id, new_code, "not my password at all") == Refused(REAUTH_NEEDED)
    assert confirm(app, user.id, new_code, PASSWORD) == Refused(TOO_MANY)
    with runtime_of(app).sessions() as session:
        failed = session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.succeeded.is_(False))
        )
    assert failed == limit


def test_recovery_codes_are_hashed_at_rest_and_work_once(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    _, codes = enrolled(app, clock, user)
    assert len(codes) == len(set(codes)) == RECOVERY_CODES
    with runtime_of(app).sessions() as session:
        hashes = list(
            session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
        )
    assert len(hashes) == RECOVERY_CODES
    assert all(h.startswith("$argon2id$") for h in hashes)
    stored = json.dumps(hashes)
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored

    first = password_step(app, user)
    assert isinstance(second_step(app, first.token, codes[3].upper().replace("-", " ")), SignedIn)
    second = password_step(app, user)
    assert second_step(app, second.token, codes[3]) == Refused("that code is not right")
    assert second_step(app, second.token, "aaaaa-aaaaa") == Refused("that code is not right")
    assert isinstance(second_step(app, second.token, codes[4]), SignedIn)
    with runtime_of(app).sessions() as session:
        used = list(
            session.scalars(
                select(Event).where(Event.kind == "recovery_code_used", Event.actor_id == user.id)
            )
        )
        steps = [
            e.detail["step"]
            for e in session.scalars(
                select(Event).where(Event.kind == "sign_in", Event.actor_id == user.id)
            )
        ]
    assert [e.detail for e in used] == [{"remaining": 9}, {"remaining": 8}]
    assert steps.count("recovery_code") == 2
    for code in codes:
        assert code not in json.dumps([e.detail for e in used])


def test_a_new_set_of_recovery_codes_replaces_the_old(app: Flask, clock: FakeClock) -> None:
    user = make_staff(app)
    secret, old_codes = enrolled(app, clock, user)
    runtime = runtime_of(app)

    def renew(current: str) -> Any:
        return in_session(
            app,
            user.id,
            lambda s, u: two_factor.do_new_recovery_codes(
                s, runtime.auth, runtime.vault, u, current, clock.now()
            ),
        )

    assert renew("") == Refused(REAUTH_NEEDED)
    new_codes = renew(totp.code_at(secret, clock.now().timestamp()))
    assert isinstance(new_codes, list) and len(new_codes) == RECOVERY_CODES
    assert not set(new_codes) & set(old_codes)
    clock.advance(30)
    waiting = password_step(app, user)
    assert second_step(app, waiting.token, old_codes[0]) == Refused("that code is not right")
    assert isinstance(second_step(app, waiting.token, new_codes[0]), SignedIn)
    assert kinds(app, user.id).count("recovery_codes_generated") == 2


def test_an_admins_reset_forgets_the_secrets_the_last_step_and_recovery_codes(
    app: Flask, clock: FakeClock
) -> None:
    admin, user = make_staff(app, "admin"), make_staff(app, "supervisor")
    enrolled(app, clock, user)
    start(app, user.id)  # a replacement under way, too
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, admin.id)
        assert actor is not None
        accounts.do_reset_two_factor(session, actor, user.id, clock.now())
    after = fresh(app, user.id)
    assert not after.totp_enabled
    assert after.totp_secret_ciphertext is None and after.totp_pending_ciphertext is None
    assert after.totp_last_step is None
    with runtime.sessions() as session:
        left = session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
        )
        sessions = session.scalar(
            select(func.count())
            .select_from(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        )
    assert left == 0 and sessions == 0


def test_a_pending_setup_alone_can_be_reset(app: Flask) -> None:
    admin, user = make_staff(app, "admin"), make_staff(app, "supervisor")
    start(app, user.id)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, admin.id)
        assert actor is not None
        accounts.do_reset_two_factor(session, actor, user.id, runtime.clock.now())
    assert fresh(app, user.id).totp_pending_ciphertext is None
