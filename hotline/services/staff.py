"""Staff accounts: advocates, supervisors and admins."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import StaffRole, StaffUser
from hotline.services import events

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}")
_hasher = PasswordHasher()


class StaffError(ValueError):
    """A staff account request that cannot be carried out; the message says why."""


def check_new_staff(session: Session, email: str, password: str, role: str) -> StaffRole:
    if not _EMAIL.fullmatch(email):
        raise StaffError("that is not an email address")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise StaffError("role must be advocate, supervisor or admin") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
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
) -> StaffUser:
    """Create an account; raises :class:`StaffError` (and changes nothing) on bad input."""
    staff_role = check_new_staff(session, email, password, role)
    user = StaffUser(
        email=email.lower(),
        password_hash=_hasher.hash(password),
        role=staff_role,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    events.record(
        session, "staff_created", now, actor_id=actor_id, staff_id=user.id, role=staff_role.value
    )
    return user


def verify_password(user: StaffUser, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
