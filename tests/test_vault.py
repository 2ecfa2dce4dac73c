"""Encryption at rest and the keyed phone hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import traceback

import pytest
from cryptography.fernet import Fernet, InvalidToken

from hotline.infra.vault import Vault, VaultError

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
NEWER = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()
HASH_KEY = Fernet.generate_key().decode()
PLAINTEXT = "he took my passport, I am at the motel on 5th"
PHONE = "+15551234567"


def test_round_trip() -> None:
    vault = Vault((NEW,))
    for text in (PLAINTEXT, "", "¿Dónde estás? 😀", "a" * 5000):
        assert vault.decrypt(vault.encrypt(text)) == text


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    vault = Vault((NEW,))
    token = vault.encrypt(PLAINTEXT)
    assert isinstance(token, bytes)
    assert PLAINTEXT.encode() not in token
    assert b"passport" not in token
    assert b"passport" not in base64.urlsafe_b64decode(token)


def test_the_same_text_encrypts_differently_each_time() -> None:
    vault = Vault((NEW,))
    assert vault.encrypt(PLAINTEXT) != vault.encrypt(PLAINTEXT)


def test_new_data_is_encrypted_with_the_newest_key() -> None:
    token = Vault((NEW, OLD)).encrypt(PLAINTEXT)
    assert Fernet(NEW.encode()).decrypt(token).decode() == PLAINTEXT
    with pytest.raises(InvalidToken):
        Fernet(OLD.encode()).decrypt(token)


def test_adding_a_new_key_first_still_decrypts_old_data() -> None:
    old_token = Vault((OLD,)).encrypt(PLAINTEXT)
    rotated = Vault((NEW, OLD))
    assert rotated.decrypt(old_token) == PLAINTEXT
    assert Vault((NEWER, NEW, OLD)).decrypt(old_token) == PLAINTEXT


def test_rotate_output_opens_with_only_the_new_key() -> None:
    old_token = Vault((OLD,)).encrypt(PLAINTEXT)
    rotated_token = Vault((NEW, OLD)).rotate(old_token)
    assert rotated_token != old_token
    assert Vault((NEW,)).decrypt(rotated_token) == PLAINTEXT
    with pytest.raises(VaultError):
        Vault((OLD,)).decrypt(rotated_token)


def test_is_current() -> None:
    old_token = Vault((OLD,)).encrypt(PLAINTEXT)
    vault = Vault((NEW, OLD))
    assert not vault.is_current(old_token)
    assert vault.is_current(vault.encrypt(PLAINTEXT))
    assert vault.is_current(vault.rotate(old_token))
    assert not vault.is_current(b"not a token")


def test_an_unknown_key_raises_vault_error_without_the_plaintext() -> None:
    token = Vault((OTHER,)).encrypt(PLAINTEXT)
    vault = Vault((NEW, OLD))
    for attempt in (vault.decrypt, vault.rotate):
        with pytest.raises(VaultError) as excinfo:
            attempt(token)
        assert str(excinfo.value) == "no configured data key opens this value"
        everything = "".join(traceback.format_exception(excinfo.value))
        assert PLAINTEXT not in everything
        assert token.decode() not in everything
        assert excinfo.value.__cause__ is None
        assert excinfo.value.__suppress_context__


@pytest.mark.parametrize("token", [b"", b"garbage", b"gAAAAA" + b"A" * 100])
def test_garbage_raises_vault_error(token: bytes) -> None:
    with pytest.raises(VaultError):
        Vault((NEW,)).decrypt(token)


def test_a_tampered_token_raises_vault_error() -> None:
    vault = Vault((NEW,))
    raw = bytearray(base64.urlsafe_b64decode(vault.encrypt(PLAINTEXT)))
    raw[-40] ^= 1
    with pytest.raises(VaultError):
        vault.decrypt(base64.urlsafe_b64encode(bytes(raw)))


def test_at_least_one_key_is_needed() -> None:
    with pytest.raises(ValueError, match="at least one data key"):
        Vault(())


# --- phone hash --------------------------------------------------------------------------------


def test_phone_hash_is_stable_across_rotation_with_an_explicit_hash_key() -> None:
    before = Vault((OLD,), hash_key=HASH_KEY).phone_hash(PHONE)
    assert Vault((NEW, OLD), hash_key=HASH_KEY).phone_hash(PHONE) == before
    # With its own key, the hash survives even retiring the old data key.
    assert Vault((NEW,), hash_key=HASH_KEY).phone_hash(PHONE) == before


def test_explicit_hash_key_is_an_hmac_sha256_under_that_key() -> None:
    expected = hmac.new(base64.urlsafe_b64decode(HASH_KEY), PHONE.encode(), hashlib.sha256)
    assert Vault((NEW,), hash_key=HASH_KEY).phone_hash(PHONE) == expected.hexdigest()


def test_derived_phone_hash_is_stable_when_a_new_key_is_added_first() -> None:
    before = Vault((OLD,)).phone_hash(PHONE)
    assert Vault((NEW, OLD)).phone_hash(PHONE) == before
    assert Vault((NEWER, NEW, OLD)).phone_hash(PHONE) == before


def test_derived_phone_hash_follows_the_oldest_key() -> None:
    assert Vault((NEW, OLD)).phone_hash(PHONE) != Vault((OLD, NEW)).phone_hash(PHONE)


def test_derived_hash_key_is_not_the_encryption_key() -> None:
    raw = hmac.new(base64.urlsafe_b64decode(OLD), PHONE.encode(), hashlib.sha256).hexdigest()
    assert Vault((OLD,)).phone_hash(PHONE) != raw


def test_an_empty_hash_key_means_derived_not_the_raw_data_key() -> None:
    assert Vault((OLD,), hash_key="").phone_hash(PHONE) == Vault((OLD,)).phone_hash(PHONE)


def test_explicit_and_derived_hashes_differ() -> None:
    assert Vault((OLD,), hash_key=HASH_KEY).phone_hash(PHONE) != Vault((OLD,)).phone_hash(PHONE)


def test_different_numbers_hash_differently() -> None:
    vault = Vault((NEW,))
    hashes = {vault.phone_hash(f"+1555123{n:04d}") for n in range(200)}
    assert len(hashes) == 200


def test_the_hash_is_not_the_number() -> None:
    digest = Vault((NEW,)).phone_hash(PHONE)
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")
    assert PHONE not in digest
    assert PHONE[1:] not in digest
    assert digest != hashlib.sha256(PHONE.encode()).hexdigest()  # keyed, not a plain digest


def test_different_keys_hash_the_same_number_differently() -> None:
    assert Vault((NEW,)).phone_hash(PHONE) != Vault((OTHER,)).phone_hash(PHONE)
