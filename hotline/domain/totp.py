"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), via ``pyotp``.

A thin, pure wrapper: it says *which* time step a code belongs to, so the caller can remember
the last accepted step and never accept a code twice (:func:`matched_step`'s ``after``).
"""

from __future__ import annotations

import hmac

import pyotp

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length), as apps expect."""
    return pyotp.random_base32()


def step_of(unix_time: float) -> int:
    """The time step (RFC 6238's T) at ``unix_time``."""
    return int(unix_time // STEP)


def code_at(secret: str, unix_time: float, digits: int = DIGITS) -> str:
    """The code an authenticator app shows at ``unix_time``."""
    return pyotp.TOTP(secret, digits=digits, interval=STEP).at(int(unix_time))


def normalize(code: str) -> str | None:
    """The code as digits only (spaces removed), or None when it cannot be a TOTP code."""
    digits = code.strip().replace(" ", "")
    if digits.isascii() and digits.isdigit() and len(digits) == DIGITS:
        return digits
    return None


def matched_step(
    secret: str, code: str, unix_time: float, *, after: int | None = None, window: int = 1
) -> int | None:
    """The time step whose code ``code`` is, looking ``window`` steps either side of now and
    only at steps strictly above ``after`` (the last accepted one); None when none matches."""
    digits = normalize(code)
    if digits is None:
        return None
    generator = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    now_step = step_of(unix_time)
    for step in range(now_step - window, now_step + window + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(generator.generate_otp(step), digits):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in, or from a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=account, issuer_name=issuer
    )


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to read off a screen and type in."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
