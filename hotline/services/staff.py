"""Staff accounts: advocates, supervisors and admins, and the password policy every chosen
password meets (:func:`check_password`)."""

from __future__ import annotations

import functools
import re
import secrets
import string
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import StaffRole, StaffUser
from hotline.services import events

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # the sign-in form reads no more than this
MAX_EMAIL_LENGTH = 254
# A shorter local part ("al@...") is in too many good passwords to refuse them all for it.
MIN_LOCAL_PART_CHECKED = 3
_COMMON_PASSWORDS = Path(__file__).parent.parent / "catalogue" / "common_passwords.txt"
# Stripped from both ends before the common-password check, so "password1234" or "!!dragon!!"
# counts as the common password it is built on.
_DECORATION = string.digits + string.punctuation + string.whitespace
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}")
_hasher = PasswordHasher()


class StaffError(ValueError):
    """A staff account request that cannot be carried out; the message says why."""


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lowercase (``hotline/catalogue/common_passwords.txt``
    says where the list comes from)."""
    with _COMMON_PASSWORDS.open(encoding="utf-8") as handle:
        return frozenset(
            line.strip() for line in handle if line.strip() and not line.startswith("#")
        )


def check_password(password: str, email: str | None = None) -> None:
    """The password policy: :class:`StaffError` says what is wrong.

    At least :data:`MIN_PASSWORD_LENGTH` characters; not one of the most common passwords, even
    with digits or symbols around it; and, when ``email`` is given, not containing its local
    part (the part before the @), whatever the case.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if any(unicodedata.category(character) == "Cc" for character in password):
        # Sign-in refuses them (hotline.services.auth): such a password could never be used.
        raise StaffError("password must not contain control characters (tab, newline and such)")
    folded = password.casefold()
    common = common_passwords()
    if folded in common or folded.strip(_DECORATION) in common:
        raise StaffError("that password is one of the most common ones: choose another")
    local_part = (email or "").strip().casefold().partition("@")[0]
    if len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in folded:
        raise StaffError("password must not contain the part of the email before the @")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_staff(session: Session, email: str, password: str, role: str) -> StaffRole:
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise StaffError("that is not an email address")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise StaffError("role must be advocate, supervisor or admin") from None
    check_password(password, email)
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
    *,
    must_change_password: bool = False,
) -> StaffUser:
    """Create an account; raises :class:`StaffError` (and changes nothing) on bad input.

    ``audit`` adds detail to the ``staff_created`` event (never a password). An account made by
    someone else for its owner (the admin page, the command line) passes
    ``must_change_password``: its owner chooses their own password at their first sign-in."""
    staff_role = check_new_staff(session, email, password, role)
    user = StaffUser(
        email=email.lower(),
        password_hash=hash_password(password),
        role=staff_role,
        active=True,
        created_at=now,
        must_change_password=must_change_password,
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
