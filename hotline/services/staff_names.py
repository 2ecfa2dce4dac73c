"""Staff display names (issue 18: names, not numbers): an administrator renames an account, a
staff member names themselves, and the command line names a new account.

A name is what staff see of each other everywhere (the board, alerts, the audit trail, metrics,
reviews) and its first word is what a texter may be told, so it is checked strictly: at most
:data:`MAX_NAME_CHARS` characters once spaces are tidied, at least one letter, no control or
invisible formatting characters (they could hide or reorder what a colleague reads). An empty
name clears it: the person is then shown by their email's local part again.

Each change is one ``staff_name_changed`` event with the name before and after (staff records,
never a texter's): who renamed whom, and when.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import StaffRole, StaffUser
from hotline.services import events
from hotline.services.accounts import AccountError, NoSuchAccount, NotAllowed

MAX_NAME_CHARS = 80


def check_display_name(value: Any) -> str | None:
    """The name to store, spaces tidied, or None to clear it; :class:`AccountError` (400) with
    the reason when it cannot be one."""
    if not isinstance(value, str):
        raise AccountError("name must be text")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        raise AccountError("name cannot contain control or invisible characters")
    name = " ".join(value.split())
    if not name:
        return None
    if len(name) > MAX_NAME_CHARS:
        raise AccountError(f"name is at most {MAX_NAME_CHARS} characters")
    if not any(c.isalpha() for c in name):
        raise AccountError("name needs at least one letter")
    return name


def do_rename(
    session: Session, actor: StaffUser, account_id: int, value: Any, now: datetime
) -> StaffUser:
    """An administrator sets an account's name (or clears it). Supervisors rename advocates
    and themselves; only an admin renames another supervisor or an admin. Raises
    :class:`AccountError` (400 bad name, 403 not allowed, 404 no such account)."""
    name = check_display_name(value)
    if actor.role not in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
        raise NotAllowed("only supervisors and admins rename staff")
    account = session.scalars(
        select(StaffUser).where(StaffUser.id == account_id).with_for_update()
    ).first()
    if account is None:
        raise NoSuchAccount("no such staff account")
    if (
        account.id != actor.id
        and account.role is not StaffRole.ADVOCATE
        and actor.role is not StaffRole.ADMIN
    ):
        raise NotAllowed("only an admin may rename a supervisor or an admin")
    _set(session, actor, account, name, now)
    return account


def do_name_myself(session: Session, user: StaffUser, value: Any, now: datetime) -> None:
    """A staff member sets (or clears) their own name; :class:`AccountError` on a bad name."""
    name = check_display_name(value)
    account = session.scalars(
        select(StaffUser).where(StaffUser.id == user.id).with_for_update()
    ).one()
    _set(session, user, account, name, now)


def _set(
    session: Session, actor: StaffUser, account: StaffUser, name: str | None, now: datetime
) -> None:
    before = account.display_name
    if before == name:
        return  # nothing changes, nothing to record
    account.display_name = name
    events.record(
        session,
        "staff_name_changed",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        name_before=before,
        name_after=name,
    )
    after_commit.queue_changed(session)  # the board and the consoles show names
