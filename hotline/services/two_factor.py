"""Setting two-factor up, replacing it, and renewing recovery codes: a person's own account.

What this promises:

- Starting setup (:func:`do_start_totp`) only stores a *pending* secret, encrypted like the
  enabled one. The enabled factor, if there is one, keeps working untouched; nothing a GET or a
  half-finished setup does ever weakens the account.
- The pending secret becomes the enabled one only in :func:`do_confirm_totp`, with a valid code
  from it that was not used before. A wrong code keeps the pending secret, so the person can try
  again. Replacing a factor that is on also needs the current code or the password.
- When the factor changes, every other session of the person ends (a thief's session too), a
  fresh set of recovery codes replaces the old, and an event says so.
- Renewing recovery codes (:func:`do_new_recovery_codes`) also needs the current code or the
  password. Wrong passwords and codes given to re-authenticate count as failed sign-ins, towards
  the same lockout.

Each ``do_*`` returns a :class:`~hotline.services.auth.Refused` (not raised: the caller commits
the record of the attempt) when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import SignInAttempt, StaffUser
from hotline.domain import totp
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.auth import AuthPolicy, Refused, end_all_sessions, hash_email
from hotline.services.second_factor import new_recovery_codes
from hotline.services.staff import MAX_PASSWORD_LENGTH, verify_password

WRONG_CODE = "that code is not right, or was used already: enter the next code your app shows"
REAUTH_NEEDED = "enter your current two-factor code or your password to change two-factor"
TOO_MANY = "too many failed sign-ins: wait a few minutes, then try again"


@dataclass(frozen=True)
class Enabled:
    """Two-factor is on with a new secret; ``recovery_codes`` are shown now and never again."""

    recovery_codes: list[str]
    replaced: bool
    sessions_ended: int


def pending_secret(vault: Vault, user: StaffUser) -> str | None:
    """The secret being set up, to show on the setup page; None when no setup is under way."""
    if user.totp_pending_ciphertext is None:
        return None
    return vault.decrypt(user.totp_pending_ciphertext)


def do_start_totp(session: Session, vault: Vault, user: StaffUser, now: datetime) -> str:
    """Give the user a new pending secret (a fresh one replaces any earlier pending one); the
    enabled factor is not touched. Returns the secret."""
    secret = totp.new_secret()
    user.totp_pending_ciphertext = vault.encrypt(secret)
    events.record(session, "totp_setup_started", now, actor_id=user.id, replacing=user.totp_enabled)
    return secret


def do_confirm_totp(
    session: Session,
    policy: AuthPolicy,
    vault: Vault,
    user: StaffUser,
    code: str,
    now: datetime,
    *,
    current: str = "",
    keep_session_id: str | None = None,
) -> Enabled | Refused:
    """Switch the pending secret on once ``code`` (from it) proves the app has it.

    When two-factor is on already, ``current`` must be the current code or the password.
    Every session of the user but ``keep_session_id`` (the one asking) ends.
    """
    if user.totp_pending_ciphertext is None:
        return Refused("start two-factor setup first")
    pending = vault.decrypt(user.totp_pending_ciphertext)
    new_step = totp.matched_step(pending, code, now.timestamp(), after=user.totp_last_step)
    if new_step is None:
        events.record(session, "totp_confirm_failed", now, actor_id=user.id, reason="code")
        return Refused(WRONG_CODE)
    replaced = user.totp_enabled
    method = None
    steps = [new_step]
    if replaced:
        checked = _reauthenticate(session, policy, vault, user, current, now)
        if isinstance(checked, Refused):
            return checked
        method, old_step = checked
        steps += [old_step] if old_step is not None else []
    user.totp_secret_ciphertext = user.totp_pending_ciphertext
    user.totp_pending_ciphertext = None
    user.totp_enabled = True
    user.totp_last_step = max(steps)
    codes = new_recovery_codes(session, user, now)
    ended = end_all_sessions(session, user.id, now, keep=keep_session_id)
    events.record(
        session,
        "totp_replaced" if replaced else "totp_enabled",
        now,
        actor_id=user.id,
        reauthenticated_with=method,
        sessions_ended=ended,
    )
    return Enabled(recovery_codes=codes, replaced=replaced, sessions_ended=ended)


def do_new_recovery_codes(
    session: Session,
    policy: AuthPolicy,
    vault: Vault,
    user: StaffUser,
    current: str,
    now: datetime,
) -> list[str] | Refused:
    """A fresh set of recovery codes (the old set stops working), after re-authenticating with
    the current code or the password."""
    if not user.totp_enabled:
        return Refused("turn two-factor on first")
    checked = _reauthenticate(session, policy, vault, user, current, now)
    if isinstance(checked, Refused):
        return checked
    _, step = checked
    if step is not None:
        user.totp_last_step = step
    return new_recovery_codes(session, user, now)


def _reauthenticate(
    session: Session, policy: AuthPolicy, vault: Vault, user: StaffUser, current: str, now: datetime
) -> tuple[str, int | None] | Refused:
    """How the user proved it is them (``code`` and its step, or ``password``), or a refusal.

    A six-digit answer is a code from the enabled secret (never one used before); anything else
    is the password (at least 12 characters, so never six digits). A failure counts as a failed
    sign-in of the account.
    """
    email_hash = hash_email(user.email)
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
        return Refused(TOO_MANY)
    if totp.normalize(current) is not None and user.totp_secret_ciphertext is not None:
        secret = vault.decrypt(user.totp_secret_ciphertext)
        step = totp.matched_step(secret, current, now.timestamp(), after=user.totp_last_step)
        if step is not None:
            return "code", step
    elif current and verify_password(user, current[:MAX_PASSWORD_LENGTH]):
        return "password", None
    session.add(SignInAttempt(email_hash=email_hash, at=now, succeeded=False))
    events.record(session, "totp_confirm_failed", now, actor_id=user.id, reason="reauthenticate")
    return Refused(REAUTH_NEEDED)
