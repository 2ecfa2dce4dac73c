"""Support for the sign-in tests: a spy on Argon2, two-factor switched on directly, and what a
refused attempt must leave as it was."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Event, SignInAttempt, StaffSession, StaffUser
from hotline.domain import totp
from hotline.services.staff import do_create_staff
from tests.conftest import new_phone

PASSWORD = "a long enough password"


def spy_on_argon2(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every hash any Argon2 verification is run against from now on, in order."""
    checked: list[str] = []
    original = PasswordHasher.verify

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        checked.append(hash if isinstance(hash, str) else hash.decode())
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return checked


def staff_member(app: Flask, role: str = "advocate", *, active: bool = True) -> StaffUser:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        email = f"{role}-{new_phone()[2:]}@example.org"
        user = do_create_staff(session, email, PASSWORD, role, runtime.clock.now())
        user.active = active
        return user


def switch_on_two_factor(app: Flask, user_id: int) -> str:
    """Two-factor on for the user, as if enrolled; returns the secret."""
    runtime = runtime_of(app)
    secret = totp.new_secret()
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        user.totp_secret_ciphertext = runtime.vault.encrypt(secret)
        user.totp_enabled = True
    return secret


def code_now(app: Flask, secret: str) -> str:
    return totp.code_at(secret, runtime_of(app).clock.now().timestamp())


def recorded(app: Flask) -> tuple[int, int, int]:
    """How many sign-in attempts, events and staff sessions are stored."""
    with runtime_of(app).sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (SignInAttempt, Event, StaffSession)
        )


def events_of_kind(app: Flask, kind: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))
