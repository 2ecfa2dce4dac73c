"""A staff member changing their own password (``/account/password``).

The current password proves it is the owner and not someone holding a forgotten session; the new
one meets :func:`hotline.services.staff.check_password` and differs from the current one. A
change clears ``must_change_password`` (set when someone else created the account or reset its
password), stamps ``password_changed_at``, ends every other session of the user (a thief's
included) and records a ``password_changed`` event, never the password.

A wrong current password changes nothing but counts as a failed sign-in of the account
(``sign_in_attempts``), so guessing it here is throttled like guessing it at ``/login``; while the
account is throttled, the current password is not even checked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import SignInAttempt, StaffUser
from hotline.services import events
from hotline.services.auth import AuthPolicy, Refused, end_all_sessions, hash_email
from hotline.services.staff import (
    MAX_PASSWORD_LENGTH,
    StaffError,
    check_password,
    hash_password,
    verify_password,
)

WRONG_CURRENT = "your current password is not right: nothing was changed"
THROTTLED = "too many failed attempts: wait a few minutes, then try again"


def do_change_password(
    session: Session,
    policy: AuthPolicy,
    user: StaffUser,
    current_session_id: str,
    current: str,
    new: str,
    repeated: str,
    now: datetime,
) -> Refused | None:
    """Change ``user``'s password, or say why not (and change nothing but the record of a wrong
    current password). Returned, not raised, so the caller commits that record."""
    if len(current) > MAX_PASSWORD_LENGTH or len(new) > MAX_PASSWORD_LENGTH:
        return Refused(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if new != repeated:
        return Refused("the two new passwords are not the same")
    email_hash = hash_email(user.email)
    if _recent_failures(session, policy, email_hash, now) >= policy.max_failures:
        return Refused(THROTTLED)
    if not verify_password(user, current):
        session.add(SignInAttempt(email_hash=email_hash, at=now, succeeded=False))
        events.record(
            session, "password_change_failed", now, actor_id=user.id, step="current_password"
        )
        return Refused(WRONG_CURRENT)
    if new == current:
        return Refused("the new password must differ from the current one")
    try:
        check_password(new, user.email)
    except StaffError as error:
        return Refused(str(error))
    was_required = user.must_change_password
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    ended = end_all_sessions(session, user.id, now, keep=current_session_id)
    events.record(
        session,
        "password_changed",
        now,
        actor_id=user.id,
        staff_id=user.id,
        was_required=was_required,
        sessions_ended=ended,
    )
    return None


def _recent_failures(session: Session, policy: AuthPolicy, email_hash: str, now: datetime) -> int:
    failures = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.email_hash == email_hash,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > now - policy.lockout,
        )
    )
    return int(failures or 0)
