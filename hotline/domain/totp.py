"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """A random base32 secret, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def code_at(secret: str, unix_time: float) -> str:
    padded = secret + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded.upper())
    counter = int(unix_time // STEP)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, code: str, unix_time: float, window: int = 1) -> bool:
    """True when ``code`` is the code of this step or of ``window`` steps either side."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == DIGITS):
        return False
    return any(
        hmac.compare_digest(code_at(secret, unix_time + drift * STEP), code)
        for drift in range(-window, window + 1)
    )


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in, or from a QR code)."""
    label = quote(f"{issuer}:{account}")
    query = f"secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"
    return f"otpauth://totp/{label}?{query}"
