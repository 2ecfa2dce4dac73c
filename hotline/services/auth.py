"""Staff sign-in: passwords (Argon2), throttling, server-side sessions, TOTP two-factor.

A session is a row in ``staff_sessions``; the browser holds a random token whose SHA-256 is the
row's id. Signing out, an idle or too-old session, and deactivating the account all end it for
good: the server forgets it, whatever the browser still holds.

Idle means no action by a person: ``last_seen_at`` moves only for a request that is an activity
(see :func:`load_session`), never for a page's background poll, so an unattended console does
not keep its session alive.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.db.models import SignInAttempt, StaffRole, StaffSession, StaffUser
from hotline.domain import totp
from hotline.services import events
from hotline.services.staff import verify_password
from hotline.settings import Settings
from hotline.vault import Vault

GENERIC_REFUSAL = "wrong email or password"


class AuthError(ValueError):
    """Sign-in refused. The message is safe to show: it never says which part was wrong."""


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    session_id: str
    user: StaffUser
    awaiting_totp: bool


@dataclass(frozen=True)
class AuthPolicy:
    idle: timedelta
    max_age: timedelta
    max_failures: int
    lockout: timedelta
    require_2fa_for_supervisors: bool
    idle_warning: timedelta = timedelta(minutes=2)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            max_age=timedelta(hours=settings.session_max_hours),
            max_failures=settings.sign_in_max_failures,
            lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
            require_2fa_for_supervisors=settings.require_2fa_for_supervisors,
            idle_warning=timedelta(minutes=settings.session_idle_warning_minutes),
        )

    def idle_left(self, record: StaffSession, now: datetime) -> timedelta:
        """How long ``record`` has before it ends for idleness, unless its person acts."""
        return max(self.idle - (now - record.last_seen_at), timedelta(0))

    def warn_before(self) -> timedelta:
        """When the pages ask "still there?": ``idle_warning`` before the end, at most half
        the idle time (a prompt that shows at once would be no warning)."""
        return min(self.idle_warning, self.idle / 2)

    def needs_2fa_setup(self, user: StaffUser) -> bool:
        """A supervisor or admin who must have two-factor on and has not set it up yet."""
        return (
            self.require_2fa_for_supervisors
            and user.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN)
            and not user.totp_enabled
        )


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Refused:
    """A refused attempt. Returned, not raised, so the caller commits the attempt's record."""

    message: str


def do_sign_in(
    session: Session, policy: AuthPolicy, email: str, password: str, now: datetime
) -> SignedIn | Refused:
    """Check a password and open a session, or say why not.

    Every attempt is recorded (commit the transaction whatever the result). After
    ``max_failures`` failures within the lockout window the account's email is refused, right
    password or not, until the window has passed. A user with two-factor on gets a session that
    can do nothing until :func:`do_verify_totp`.
    """
    email_hash = _email_hash(email)
    failures = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.email_hash == email_hash,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > now - policy.lockout,
        )
    )
    user = session.scalars(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).first()
    if int(failures or 0) >= policy.max_failures:
        _attempt(session, email_hash, user, now, succeeded=False, reason="throttled")
        return Refused("too many failed sign-ins: wait a few minutes, then try again")
    if user is None or not user.active or not verify_password(user, password):
        _attempt(session, email_hash, user, now, succeeded=False, reason="password")
        return Refused(GENERIC_REFUSAL)
    _attempt(session, email_hash, user, now, succeeded=True, reason="password")
    return _open_session(session, user, now, awaiting_totp=user.totp_enabled)


def _attempt(
    session: Session,
    email_hash: str,
    user: StaffUser | None,
    now: datetime,
    *,
    succeeded: bool,
    reason: str,
) -> None:
    session.add(SignInAttempt(email_hash=email_hash, at=now, succeeded=succeeded))
    events.record(
        session,
        "sign_in" if succeeded else "sign_in_failed",
        now,
        actor_id=user.id if user else None,
        step=reason,
    )


def _open_session(
    session: Session, user: StaffUser, now: datetime, *, awaiting_totp: bool
) -> SignedIn:
    token = secrets.token_urlsafe(32)
    record = StaffSession(
        id=token_id(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        awaiting_totp=awaiting_totp,
    )
    session.add(record)
    session.flush()
    return SignedIn(token=token, session_id=record.id, user=user, awaiting_totp=awaiting_totp)


def do_verify_totp(
    session: Session, policy: AuthPolicy, vault: Vault, token: str, code: str, now: datetime
) -> SignedIn | Refused:
    """Complete a two-factor sign-in. The password-only session is ended and a new one opened
    (a new session id once fully signed in). Commit whatever the result."""
    current = load_session(session, policy, token, now, allow_awaiting_totp=True)
    if current is None or not current.awaiting_totp:
        return Refused("sign in again")
    user = session.get(StaffUser, current.user_id)
    assert user is not None and user.totp_secret_ciphertext is not None
    email_hash = _email_hash(user.email)
    if not totp.verify(vault.decrypt(user.totp_secret_ciphertext), code, now.timestamp()):
        _attempt(session, email_hash, user, now, succeeded=False, reason="totp")
        failures = session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(
                SignInAttempt.email_hash == email_hash,
                SignInAttempt.succeeded.is_(False),
                SignInAttempt.at > now - policy.lockout,
            )
        )
        if int(failures or 0) >= policy.max_failures:
            current.ended_at = now
            return Refused("too many wrong codes: sign in again in a few minutes")
        return Refused("that code is not right")
    _attempt(session, email_hash, user, now, succeeded=True, reason="totp")
    current.ended_at = now
    return _open_session(session, user, now, awaiting_totp=False)


def load_session(
    session: Session,
    policy: AuthPolicy,
    token: str,
    now: datetime,
    *,
    allow_awaiting_totp: bool = False,
    activity: bool = True,
) -> StaffSession | None:
    """The live session for ``token``; None when there is none.

    A session ends when idle longer than the policy allows, when older than the maximum, or
    when its user is deactivated. Its last-seen time (the idle clock) is refreshed only when
    the request is ``activity``, a person's action; a background poll passes False.
    """
    if not token:
        return None
    record = session.get(StaffSession, token_id(token))
    if record is None or record.ended_at is not None:
        return None
    user = session.get(StaffUser, record.user_id)
    if (
        user is None
        or not user.active
        or now - record.last_seen_at > policy.idle
        or now - record.created_at > policy.max_age
    ):
        record.ended_at = now
        return None
    if record.awaiting_totp and not allow_awaiting_totp:
        return None
    if activity:
        record.last_seen_at = now
    return record


def do_sign_out(session: Session, token: str, now: datetime, **detail: Any) -> None:
    """End the session for ``token``; ``detail`` goes into the ``sign_out`` event."""
    record = session.get(StaffSession, token_id(token)) if token else None
    if record is not None and record.ended_at is None:
        record.ended_at = now
        events.record(session, "sign_out", now, actor_id=record.user_id, **detail)


def end_all_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every session of a user (deactivation, password reset). Returns how many."""
    ended: int = session.execute(  # type: ignore[attr-defined]
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    ).rowcount
    return ended


def do_deactivate(session: Session, user_id: int, actor_id: int | None, now: datetime) -> None:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise AuthError("no such account")
    user.active = False
    ended = end_all_sessions(session, user_id, now)
    events.record(
        session, "staff_deactivated", now, actor_id=actor_id, staff_id=user_id, sessions_ended=ended
    )


def do_start_totp(session: Session, vault: Vault, user: StaffUser, now: datetime) -> str:
    """Give the user a new TOTP secret (not yet switched on). Returns the secret."""
    secret = totp.new_secret()
    user.totp_secret_ciphertext = vault.encrypt(secret)
    user.totp_enabled = False
    events.record(session, "totp_setup_started", now, actor_id=user.id)
    return secret


def do_confirm_totp(
    session: Session, vault: Vault, user: StaffUser, code: str, now: datetime
) -> None:
    """Switch two-factor on once the user proves their app has the secret."""
    if user.totp_secret_ciphertext is None:
        raise AuthError("start two-factor setup first")
    if not totp.verify(vault.decrypt(user.totp_secret_ciphertext), code, now.timestamp()):
        raise AuthError("that code is not right")
    user.totp_enabled = True
    events.record(session, "totp_enabled", now, actor_id=user.id)
