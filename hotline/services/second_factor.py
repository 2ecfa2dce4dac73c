"""Checking a person's second factor: a TOTP code, never accepted twice, or a one-time recovery
code.

- A TOTP code is accepted only for a time step above the last one accepted for that person
  (``staff_users.totp_last_step``), at sign-in and when setting two-factor up: a code seen over
  a shoulder or replayed from a log is dead once used.
- Recovery codes are made in sets of :data:`RECOVERY_CODES`, shown once, and stored only as
  Argon2 hashes; each works once. A new set replaces (deletes) the old one.

Nothing here commits, records a sign-in attempt, or ends a session: the callers
(:mod:`hotline.services.auth`, :mod:`hotline.services.two_factor`) do.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.db.models import RecoveryCode, StaffUser
from hotline.domain import totp
from hotline.infra.vault import Vault
from hotline.services import events

RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 10  # about 49 bits each, from the alphabet below
# No 0/o, 1/l/i: a recovery code is read off paper and typed in.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Argon2id at OWASP's minimum (19 MiB, 2 passes): the codes are random, not chosen by a person,
# so the hash only has to make a stolen table useless, and ten of them are checked at a sign-in.
_recovery_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

TOTP = "totp"
RECOVERY_CODE = "recovery_code"


def accept_totp(user: StaffUser, secret: str, code: str, now: datetime) -> bool:
    """True when ``code`` is ``secret``'s code for a step above the user's last accepted one;
    that step is then remembered as the last accepted one."""
    step = totp.matched_step(secret, code, now.timestamp(), after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def accept_sign_in_code(
    session: Session, vault: Vault, user: StaffUser, code: str, now: datetime
) -> str | None:
    """Which second factor ``code`` is (:data:`TOTP` or :data:`RECOVERY_CODE`) once accepted and
    spent; None when it is neither. Needs two-factor on."""
    if user.totp_secret_ciphertext is None or not user.totp_enabled:
        return None
    if totp.normalize(code) is not None:
        secret = vault.decrypt(user.totp_secret_ciphertext)
        return TOTP if accept_totp(user, secret, code, now) else None
    return RECOVERY_CODE if use_recovery_code(session, user, code, now) else None


def normalize_recovery_code(code: str) -> str | None:
    """The code without spaces or dashes, lowercased; None when it cannot be a recovery code."""
    plain = code.strip().lower().replace("-", "").replace(" ", "")
    if len(plain) == RECOVERY_CODE_LENGTH and all(c in RECOVERY_ALPHABET for c in plain):
        return plain
    return None


def _shown(plain: str) -> str:
    half = RECOVERY_CODE_LENGTH // 2
    return f"{plain[:half]}-{plain[half:]}"


def new_recovery_codes(session: Session, user: StaffUser, now: datetime) -> list[str]:
    """A fresh set of recovery codes for ``user``, replacing any earlier set (used or not).

    Returns the codes as they are shown (``abcde-fghjk``): the only time they exist in clear.
    Records ``recovery_codes_generated``.
    """
    replaced = _delete_recovery_codes(session, user)
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODES)
    ]
    for plain in codes:
        session.add(
            RecoveryCode(user_id=user.id, code_hash=_recovery_hasher.hash(plain), created_at=now)
        )
    session.flush()
    events.record(
        session,
        "recovery_codes_generated",
        now,
        actor_id=user.id,
        count=len(codes),
        replaced=replaced,
    )
    return [_shown(plain) for plain in codes]


def use_recovery_code(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    """True when ``code`` is one of the user's unused recovery codes; it is then used up (and
    ``recovery_code_used`` recorded, with how many are left)."""
    plain = normalize_recovery_code(code)
    if plain is None:
        return False
    unused = list(
        session.scalars(
            select(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
            .order_by(RecoveryCode.id)
            .with_for_update()
        )
    )
    for row in unused:
        try:
            _recovery_hasher.verify(row.code_hash, plain)
        except (VerificationError, InvalidHashError):
            continue
        row.used_at = now
        events.record(
            session, "recovery_code_used", now, actor_id=user.id, remaining=len(unused) - 1
        )
        return True
    return False


def recovery_codes_left(session: Session, user: StaffUser) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _delete_recovery_codes(session: Session, user: StaffUser) -> int:
    deleted: int = session.execute(  # type: ignore[attr-defined]
        delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
    ).rowcount
    return deleted


def clear_two_factor(session: Session, user: StaffUser) -> None:
    """Forget everything of the user's two-factor: the enabled and the pending secret, the last
    accepted step, every recovery code. (An administrator's reset: a lost phone.)"""
    user.totp_enabled = False
    user.totp_secret_ciphertext = None
    user.totp_pending_ciphertext = None
    user.totp_last_step = None
    _delete_recovery_codes(session, user)
