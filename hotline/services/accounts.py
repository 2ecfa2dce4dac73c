"""Administering staff accounts: create, deactivate and reactivate, reset a password or two-factor,
change a role.

Who may do what:

- supervisors and admins administer accounts; advocates never do;
- only an admin creates an admin, promotes anyone to admin, or changes an admin's account;
- only an admin resets a supervisor's (or an admin's) password or two-factor, or changes a
  supervisor's role: a supervisor resets advocates only, so no supervisor can take over
  another's account, not even by demoting it first, resetting it, and promoting it back;
- nobody deactivates or demotes themselves, or resets their own password or two-factor here (a
  hijacked session must not be able to lock the owner out; people change their own password at
  ``/account/password``);
- the last active admin is never deactivated or demoted.

A password chosen here (at creation or reset) meets :func:`hotline.services.staff.check_password`.
An account created here, or whose password is reset here, must change its password at its next
sign-in (``must_change_password``): whoever set it knows it.

Every ``do_*`` first locks the rows it decides on (the actor, the account, every active admin)
and re-reads them, so two admins deactivating each other at the same moment cannot leave the
hotline without one. Each raises an :class:`AccountError` (and changes nothing) when refused, and
records one audit event when it acts; no event ever holds a password. An ``AccountError`` is a
refusal (:mod:`hotline.services.errors`): bad input (400) unless it is one of the kinds below,
:class:`NotAllowed` (403), :class:`NoSuchAccount` (404) or :class:`Conflict` (409).

Deactivating, resetting a password and resetting two-factor end the account's sessions at once.
A deactivated advocate's conversations go back to the queue, keeping their place.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.db.models import Availability, Conversation, StaffRole, StaffSession, StaffUser
from hotline.domain.triage import State
from hotline.services import errors, events
from hotline.services.answers import IsoTime, iso_time, iso_time_or_none
from hotline.services.auth import end_all_sessions
from hotline.services.claims import ClaimError, do_return_to_queue
from hotline.services.second_factor import clear_two_factor
from hotline.services.staff import StaffError, check_password, do_create_staff, hash_password
from hotline.services.triage import Triage

ADMINISTRATORS = (StaffRole.SUPERVISOR, StaffRole.ADMIN)
# Accounts whose password, two-factor and role only an admin resets or changes.
ADMIN_GUARDED = (StaffRole.SUPERVISOR, StaffRole.ADMIN)
# No 0/O, 1/l/I: a generated password is read off a screen and typed in by someone else.
_GENERATED_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_GENERATED_GROUPS = 4
_GENERATED_GROUP_LENGTH = 5  # 4 x 5 characters from 32: 100 bits


class AccountError(errors.Refusal):
    """A refused account change; the message is safe to show. Raised itself for bad input."""

    status = 400


# The shared kind first, so that its status is the one that counts.
class NotAllowed(errors.NotAllowed, AccountError):
    """Only someone else may make this change (403)."""


class NoSuchAccount(errors.NotFound, AccountError):
    """No account with that id (404)."""


class Conflict(errors.Conflict, AccountError):
    """The account's state, or the last active admin, stands in the way (409)."""


def generate_password(email: str | None = None) -> str:
    """A random password that meets the policy for ``email``'s account, e.g.
    ``kq7rt-x3mzp-9hw2c-tnb4e``.

    A draw can, rarely, hold the email's local part (``new`` in about one in 2,700 draws for
    new@…), which the policy refuses: such a draw is thrown away and another made, so that
    creating or resetting an account without a password never fails on its own password."""
    while True:
        password = "-".join(
            "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(_GENERATED_GROUP_LENGTH))
            for _ in range(_GENERATED_GROUPS)
        )
        try:
            check_password(password, email)
        except StaffError:
            continue
        return password


class Account(TypedDict):
    """A staff account as the administration page lists it."""

    id: int
    email: str
    name: str  # how staff are shown (StaffUser.name)
    display_name: str | None  # the name set, if any
    role: StaffRole
    active: bool
    two_factor: bool
    must_change_password: bool
    availability: Availability
    created_at: IsoTime
    last_sign_in_at: IsoTime | None


def accounts(session: Session) -> list[Account]:
    """Every staff account, by email, with when it last signed in and its live sessions."""
    last_sign_in = (
        select(StaffSession.user_id, func.max(StaffSession.created_at).label("at"))
        .group_by(StaffSession.user_id)
        .subquery()
    )
    rows = session.execute(
        select(StaffUser, last_sign_in.c.at)
        .outerjoin(last_sign_in, last_sign_in.c.user_id == StaffUser.id)
        .order_by(StaffUser.email)
    ).all()
    return [
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "display_name": user.display_name,
            "role": user.role,
            "active": user.active,
            "two_factor": user.totp_enabled,
            "must_change_password": user.must_change_password,
            "availability": user.availability,
            "created_at": iso_time(user.created_at),
            "last_sign_in_at": iso_time_or_none(at),
        }
        for user, at in rows
    ]


def _role(value: Any) -> StaffRole:
    if not isinstance(value, str):
        raise AccountError("role must be advocate, supervisor or admin")
    try:
        return StaffRole(value)
    except ValueError:
        raise AccountError("role must be advocate, supervisor or admin") from None


def _new_password(password: str | None, email: str) -> tuple[str, bool]:
    """The password to set and whether it was generated; :class:`AccountError` if too weak."""
    if password is None or password == "":
        return generate_password(email), True
    try:
        check_password(password, email)
    except StaffError as exc:
        raise AccountError(str(exc)) from None
    return password, False


def _check_administrator(actor: StaffUser) -> None:
    if not actor.active:
        raise NotAllowed("your account is no longer active")
    if actor.role not in ADMINISTRATORS:
        raise NotAllowed("only supervisors and admins administer staff accounts")


def _lock(session: Session, actor: StaffUser, account_id: int) -> tuple[StaffUser, list[int]]:
    """Lock and re-read the actor, the account and every active admin, in id order.

    Returns the account and the ids of the active admins. On SQLite the transaction already
    holds the database's write lock (``BEGIN IMMEDIATE``).
    """
    rows = session.scalars(
        select(StaffUser)
        .where(
            or_(
                StaffUser.id.in_({actor.id, account_id}),
                and_(StaffUser.role == StaffRole.ADMIN, StaffUser.active.is_(True)),
            )
        )
        .order_by(StaffUser.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    _check_administrator(actor)
    account = next((row for row in rows if row.id == account_id), None)
    if account is None:
        raise NoSuchAccount("no such staff account")
    if account.role is StaffRole.ADMIN and actor.role is not StaffRole.ADMIN:
        raise NotAllowed("only an admin may change an admin's account")
    admins = [row.id for row in rows if row.role is StaffRole.ADMIN and row.active]
    return account, admins


def _only_an_admin_resets(actor: StaffUser, account: StaffUser, what: str) -> None:
    if account.role in ADMIN_GUARDED and actor.role is not StaffRole.ADMIN:
        raise NotAllowed(f"only an admin may reset a supervisor's {what}")


def _not_the_last_admin(account: StaffUser, admins: list[int], what: str) -> None:
    if account.role is StaffRole.ADMIN and account.active and admins == [account.id]:
        raise Conflict(f"the last active admin cannot be {what}: make another admin first")


def do_create_account(
    session: Session,
    actor: StaffUser,
    email: Any,
    role: Any,
    password: Any,
    now: datetime,
) -> tuple[StaffUser, str | None]:
    """Create an account. Returns it and, when no password was given, the generated one (to be
    shown once, never stored in clear)."""
    session.refresh(actor, with_for_update=True)
    _check_administrator(actor)
    if not isinstance(email, str):
        raise AccountError("that is not an email address")
    if password is not None and not isinstance(password, str):
        raise AccountError("password must be text")
    staff_role = _role(role)
    if staff_role is StaffRole.ADMIN and actor.role is not StaffRole.ADMIN:
        raise NotAllowed("only an admin may create an admin")
    chosen, generated = _new_password(password, email)
    try:
        user = do_create_staff(
            session,
            email.strip(),
            chosen,
            staff_role.value,
            now,
            actor.id,
            audit={"email": email.strip().lower(), "password": "generated" if generated else "set"},
            must_change_password=True,
        )
    except StaffError as exc:
        error = Conflict if "exists already" in str(exc) else AccountError
        raise error(str(exc)) from None
    except IntegrityError:  # the same email created at the same moment
        raise Conflict("an account with that email exists already") from None
    return user, chosen if generated else None


def do_deactivate_account(
    session: Session, triage: Triage, actor: StaffUser, account_id: int, now: datetime
) -> list[int]:
    """Switch an account off: its sessions end at once and the conversations it held go back
    to the queue. Returns the ids of those conversations."""
    account, admins = _lock(session, actor, account_id)
    if not account.active:
        raise Conflict("that account is deactivated already")
    _not_the_last_admin(account, admins, "deactivated")
    if account.id == actor.id:
        raise Conflict("you cannot deactivate your own account")
    held = session.scalars(
        select(Conversation.id)
        .where(Conversation.advocate_id == account.id, Conversation.state == State.WITH_ADVOCATE)
        .order_by(Conversation.id)
    ).all()
    returned: list[int] = []
    for conversation_id in held:
        try:
            do_return_to_queue(session, triage, conversation_id, account.id, now)
        except ClaimError:
            continue  # closed or handed on between our look and the texter's lock
        returned.append(conversation_id)
    account.active = False
    account.availability = Availability.AWAY
    ended = end_all_sessions(session, account.id, now)
    events.record(
        session,
        "staff_deactivated",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        email=account.email,
        sessions_ended=ended,
        conversations_returned=len(returned),
    )
    return returned


def do_reactivate_account(
    session: Session, actor: StaffUser, account_id: int, now: datetime
) -> None:
    """Let a deactivated account sign in again (with the password it had)."""
    account, _ = _lock(session, actor, account_id)
    if account.active:
        raise Conflict("that account is active already")
    account.active = True
    events.record(
        session,
        "staff_reactivated",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        email=account.email,
    )


def do_reset_password(
    session: Session, actor: StaffUser, account_id: int, password: Any, now: datetime
) -> str | None:
    """Give an account a new password and end its sessions; its owner must change it at their
    next sign-in. Returns the password when it was generated (to be shown once), None when the
    actor chose it. Only an admin resets a supervisor's or an admin's password."""
    if password is not None and not isinstance(password, str):
        raise AccountError("password must be text")
    account, _ = _lock(session, actor, account_id)
    if account.id == actor.id:
        raise Conflict("you cannot reset your own password here: ask another administrator")
    _only_an_admin_resets(actor, account, "password")
    chosen, generated = _new_password(password, account.email)
    account.password_hash = hash_password(chosen)
    account.must_change_password = True
    ended = end_all_sessions(session, account.id, now)
    events.record(
        session,
        "staff_password_reset",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        email=account.email,
        password="generated" if generated else "set",
        sessions_ended=ended,
    )
    return chosen if generated else None


def do_change_role(
    session: Session, actor: StaffUser, account_id: int, role: Any, now: datetime
) -> None:
    """Make an account an advocate, a supervisor or an admin; effective on its next request."""
    new_role = _role(role)
    account, admins = _lock(session, actor, account_id)
    if new_role is StaffRole.ADMIN and actor.role is not StaffRole.ADMIN:
        raise NotAllowed("only an admin may make someone an admin")
    if account.role is new_role:
        raise Conflict(f"that account is already {_article(new_role)}")
    if new_role is not StaffRole.ADMIN:
        _not_the_last_admin(account, admins, "demoted")
    if account.id == actor.id:
        raise Conflict("you cannot change your own role")
    if account.role in ADMIN_GUARDED and actor.role is not StaffRole.ADMIN:
        raise NotAllowed("only an admin may change a supervisor's role")
    before = account.role
    account.role = new_role
    events.record(
        session,
        "staff_role_changed",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        email=account.email,
        role_before=before.value,
        role_after=new_role.value,
    )


def do_reset_two_factor(session: Session, actor: StaffUser, account_id: int, now: datetime) -> None:
    """Switch an account's two-factor off (a lost phone) and end its sessions; it sets two-factor
    up again at its next sign-in when the hotline requires it. Only an admin resets a
    supervisor's or an admin's two-factor."""
    account, _ = _lock(session, actor, account_id)
    if account.id == actor.id:
        raise Conflict("you cannot reset your own two-factor here: ask another administrator")
    _only_an_admin_resets(actor, account, "two-factor")
    if (
        not account.totp_enabled
        and account.totp_secret_ciphertext is None
        and account.totp_pending_ciphertext is None
    ):
        raise Conflict("that account has no two-factor sign-in to reset")
    was_enabled = account.totp_enabled
    # The enabled and pending secrets, the last accepted step and every recovery code.
    clear_two_factor(session, account)
    ended = end_all_sessions(session, account.id, now)
    events.record(
        session,
        "staff_two_factor_reset",
        now,
        actor_id=actor.id,
        staff_id=account.id,
        email=account.email,
        was_enabled=was_enabled,
        sessions_ended=ended,
    )


def _article(role: StaffRole) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"


__all__ = [
    "AccountError",
    "Conflict",
    "NoSuchAccount",
    "NotAllowed",
    "accounts",
    "do_change_role",
    "do_create_account",
    "do_deactivate_account",
    "do_reactivate_account",
    "do_reset_password",
    "do_reset_two_factor",
    "generate_password",
]
