"""The sign-in forms' CSRF token: a signed double-submit cookie.

The cookie holds a random value; the form holds that value signed with HOTLINE_SECRET_KEY. A
form passes only with the cookie it was made for, and a cookie planted by someone else (a
sibling subdomain can set cookies for this one) is useless without the key to sign it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def _signature(secret_key: str, cookie: str) -> str:
    message = b"hotline login form\x00" + cookie.encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_login_token(secret_key: str) -> tuple[str, str]:
    """A fresh (cookie value, form value) pair."""
    cookie = secrets.token_urlsafe(24)
    return cookie, _signature(secret_key, cookie)


def login_token_ok(secret_key: str, cookie: str, form: str) -> bool:
    """True when ``form`` is ``cookie`` signed with ``secret_key``."""
    return bool(cookie) and hmac.compare_digest(form, _signature(secret_key, cookie))
