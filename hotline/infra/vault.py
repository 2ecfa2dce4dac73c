"""Encryption at rest and the keyed phone hash.

Texters' phone numbers and every text are stored only as Fernet ciphertext (AES-128-CBC with
HMAC-SHA256, authenticated), under a list of keys, newest first: new data is encrypted with the
newest key and any key in the list decrypts. A returning texter is recognised by an HMAC of the
normalised number, never by the number itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class VaultError(RuntimeError):
    """Ciphertext that no configured key opens. Never carries the ciphertext or plaintext."""


class Vault:
    def __init__(self, data_keys: tuple[str, ...], hash_key: str | None = None) -> None:
        if not data_keys:
            raise ValueError("at least one data key is needed")
        self._fernets = [Fernet(key.encode("ascii")) for key in data_keys]
        self._multi = MultiFernet(self._fernets)
        self._newest = self._fernets[0]
        self._hash_key = _phone_hash_key(hash_key or data_keys[-1], derived=not hash_key)

    def encrypt(self, plaintext: str) -> bytes:
        return self._newest.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._multi.decrypt(ciphertext).decode("utf-8")
        except InvalidToken:
            raise VaultError("no configured data key opens this value") from None

    def is_current(self, ciphertext: bytes) -> bool:
        """True when the newest key alone opens the value (nothing to rotate)."""
        try:
            self._newest.decrypt(ciphertext)
        except InvalidToken:
            return False
        return True

    def rotate(self, ciphertext: bytes) -> bytes:
        try:
            return self._multi.rotate(ciphertext)
        except InvalidToken:
            raise VaultError("no configured data key opens this value") from None

    def phone_hash(self, e164: str) -> str:
        """Keyed hash of a normalised (E.164) number, stable across data-key rotation."""
        return hmac.new(self._hash_key, e164.encode("ascii"), hashlib.sha256).hexdigest()


def _phone_hash_key(key: str, *, derived: bool) -> bytes:
    raw = base64.urlsafe_b64decode(key.encode("ascii"))
    if not derived:
        return raw
    # Without HOTLINE_HASH_KEY, derive a separate key from the oldest data key, so the hash key
    # is never the same bytes as an encryption key.
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hotline phone hash v1"
    ).derive(raw)
