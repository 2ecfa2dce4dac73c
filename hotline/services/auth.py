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
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from hotline.db.models import SignInAttempt, StaffRole, StaffSession, StaffUser
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.second_factor import accept_sign_in_code
from hotline.services.staff import verify_password
from hotline.settings import Settings

GENERIC_REFUSAL = "wrong email or password"
TOO_MANY_FAILURES = "too many failed sign-ins: wait a few minutes, then try again"


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


def hash_email(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Refused:
    """A refused attempt. Returned, not raised, so the caller commits the attempt's record."""

    message: str


def do_sign_in(
    session: Session, policy: AuthPolicy, email: str, password: str, now: datetime
) -> SignedIn | Refused:
    """Check a password and open a session, or say why not.

    Every attempt is recorded (commit the transaction whatever the result), and recorded before
    the password is checked, under a lock per email (:func:`_begin_attempt`): however many
    guesses arrive at once, at most ``max_failures`` passwords are checked within the lockout
    window. After that the email is refused, right password or not, until the window has
    passed, except that a user with two-factor on who gives the right password still gets to
    the code (so nobody can shut out a person who has a second factor by failing on purpose).
    A user with two-factor on gets a session that can do nothing until :func:`do_verify_totp`.

    A missing or inactive account costs the same Argon2 verification as a wrong password (see
    :func:`verify_password`). An email or password holding a control character gets the
    generic refusal and nothing is recorded: no form field can hold one.
    """
    if _has_control_character(email) or _has_control_character(password):
        return Refused(GENERIC_REFUSAL)
    email_hash = hash_email(email)
    attempt, earlier_failures = _begin_attempt(session, policy, email_hash, now)
    user = session.scalars(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).first()
    account = user if user is not None and user.active else None
    locked = earlier_failures >= policy.max_failures
    if locked and not (account is not None and account.totp_enabled):
        verify_password(None, password)  # as long as any other refusal
        _audit_attempt(session, user, now, succeeded=False, reason="throttled")
        return Refused(TOO_MANY_FAILURES)
    if not verify_password(account, password):
        _audit_attempt(
            session, user, now, succeeded=False, reason="throttled" if locked else "password"
        )
        if locked:
            return Refused(TOO_MANY_FAILURES)
        _audit_lockout(session, policy, user, earlier_failures, now, step="password")
        return Refused(GENERIC_REFUSAL)
    assert account is not None
    attempt.succeeded = True
    _audit_attempt(session, account, now, succeeded=True, reason="password")
    return _open_session(session, account, now, awaiting_totp=account.totp_enabled)


# pg_advisory_xact_lock(int, int) key space of sign-in attempts ("SIGN"), one lock per email
# hash. (Two-int keys never collide with the one-bigint keys used elsewhere.)
_LOCK_NAMESPACE = 0x5349474E


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in value)


def _begin_attempt(
    session: Session, policy: AuthPolicy, email_hash: str, now: datetime
) -> tuple[SignInAttempt, int]:
    """Record a failed attempt for ``email_hash`` (the caller marks it succeeded when it is),
    and count the failures before it within the lockout window.

    Attempts on one email are serialised until this transaction ends, so no two count the same
    failures: on PostgreSQL by a transaction-scoped advisory lock on the email's hash; on
    SQLite every write transaction began with ``BEGIN IMMEDIATE`` and holds the database's one
    write lock, taken before the count is read.
    """
    _lock_attempts(session, email_hash)
    attempt = SignInAttempt(email_hash=email_hash, at=now, succeeded=False)
    session.add(attempt)
    session.flush()
    failures = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.email_hash == email_hash,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > now - policy.lockout,
            SignInAttempt.id != attempt.id,
        )
    )
    return attempt, int(failures or 0)


def _lock_attempts(session: Session, email_hash: str) -> None:
    """Hold the lock on sign-in attempts for ``email_hash`` until this transaction ends (see
    :func:`_begin_attempt`; taking it again in the same transaction is harmless)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int(email_hash[:8], 16) - (1 << 31)  # the hash's first 32 bits, as a signed int
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": _LOCK_NAMESPACE, "key": key},
        )


def _audit_attempt(
    session: Session, user: StaffUser | None, now: datetime, *, succeeded: bool, reason: str
) -> None:
    events.record(
        session,
        "sign_in" if succeeded else "sign_in_failed",
        now,
        actor_id=user.id if user else None,
        step=reason,
    )


def _audit_lockout(
    session: Session,
    policy: AuthPolicy,
    user: StaffUser | None,
    earlier_failures: int,
    now: datetime,
    *,
    step: str,
) -> None:
    """A ``sign_in_locked`` event when this failure is the one that locks the email. The event
    names the account when there is one, never the email (nor its hash: a guess would find it)."""
    if earlier_failures + 1 == policy.max_failures:
        events.record(
            session,
            "sign_in_locked",
            now,
            actor_id=user.id if user else None,
            step=step,
            failures=policy.max_failures,
            minutes=round(policy.lockout.total_seconds() / 60, 2),
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
    email_hash = hash_email(user.email)
    # Codes are counted like passwords, before they are checked, one at a time per email; a
    # code sent alongside may have ended this session while this one waited for the lock.
    _lock_attempts(session, email_hash)
    session.refresh(current, ["ended_at"])
    if current.ended_at is not None:
        return Refused("sign in again")
    # Another request may have spent a code or a recovery code while this one waited.
    session.refresh(user, ["totp_last_step"])
    attempt, earlier_failures = _begin_attempt(session, policy, email_hash, now)
    # A TOTP code never accepted before, or an unused recovery code (spent here).
    second_factor = accept_sign_in_code(session, vault, user, code, now)
    if second_factor is None:
        _audit_attempt(session, user, now, succeeded=False, reason="totp")
        _audit_lockout(session, policy, user, earlier_failures, now, step="totp")
        if earlier_failures + 1 >= policy.max_failures:
            current.ended_at = now
            return Refused("too many wrong codes: sign in again in a few minutes")
        return Refused("that code is not right")
    attempt.succeeded = True
    _audit_attempt(session, user, now, succeeded=True, reason=second_factor)
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


def end_all_sessions(
    session: Session, user_id: int, now: datetime, *, keep: str | None = None
) -> int:
    """End every session of a user (deactivation, password reset) but ``keep`` (the id of the
    session asking, when a person changes their own sign-in). Returns how many ended."""
    query = update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    ended: int = session.execute(query.values(ended_at=now)).rowcount  # type: ignore[attr-defined]
    return ended
