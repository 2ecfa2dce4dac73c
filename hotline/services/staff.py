"""Staff accounts: advocates, supervisors and admins."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import StaffRole, StaffUser
from hotline.services import events

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # the sign-in form reads no more than this
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}")
_hasher = PasswordHasher()


class StaffError(ValueError):
    """A staff account request that cannot be carried out; the message says why."""


def check_password(password: str) -> None:
    """The password policy: :class:`StaffError` says what is wrong."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_staff(session: Session, email: str, password: str, role: str) -> StaffRole:
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise StaffError("that is not an email address")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise StaffError("role must be advocate, supervisor or admin") from None
    check_password(password)
    taken = session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email.lower()))
    if taken is not None:
        raise StaffError("an account with that email exists already")
    return staff_role


def do_create_staff(
    session: Session,
    email: str,
    password: str,
    role: str,
    now: datetime,
    actor_id: int | None = None,
    audit: dict[str, Any] | None = None,
) -> StaffUser:
    """Create an account; raises :class:`StaffError` (and changes nothing) on bad input.

    ``audit`` adds detail to the ``staff_created`` event (never a password)."""
    staff_role = check_new_staff(session, email, password, role)
    user = StaffUser(
        email=email.lower(),
        password_hash=hash_password(password),
        role=staff_role,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    events.record(
        session,
        "staff_created",
        now,
        actor_id=actor_id,
        staff_id=user.id,
        role=staff_role.value,
        **(audit or {}),
    )
    return user


def verify_password(user: StaffUser | None, password: str) -> bool:
    """True when ``password`` is ``user``'s.

    With no user (the caller passes None for a missing or inactive account) the same Argon2
    verification runs against :func:`_nobodys_hash` and fails, so a refusal takes as long
    whether or not the email belongs to a staff account.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    stored = user.password_hash if user is not None else _nobodys_hash()
    try:
        return bool(_hasher.verify(stored, password)) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _nobodys_hash() -> str:
    """A hash of a random password nobody knows, made once per process with the hasher's own
    parameters (so verifying against it costs what verifying a real account's hash costs)."""
    return _hasher.hash(secrets.token_urlsafe(32))
