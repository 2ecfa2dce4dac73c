"""TOTP codes: RFC 6238's own test vectors, the step a code belongs to, and replay bounds."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from hotline.domain import totp

# RFC 6238 appendix B, the SHA-1 rows: the 20-byte ASCII key "12345678901234567890", 8 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_rfc_6238_sha1_vectors(unix_time: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, unix_time, digits=8) == code


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_six_digit_codes_are_the_rfc_codes_last_six_digits(unix_time: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, unix_time) == code[-6:]
    assert totp.matched_step(RFC_SECRET, code[-6:], unix_time) == unix_time // 30


def test_a_code_matches_its_own_step_and_one_either_side() -> None:
    now = 1_800_000_000
    step = now // 30
    for drift in (-1, 0, 1):
        code = totp.code_at(RFC_SECRET, now + drift * 30)
        assert totp.matched_step(RFC_SECRET, code, now) == step + drift
    assert totp.matched_step(RFC_SECRET, totp.code_at(RFC_SECRET, now - 60), now) is None
    assert totp.matched_step(RFC_SECRET, totp.code_at(RFC_SECRET, now + 60), now) is None


def test_steps_at_or_below_the_last_accepted_are_refused() -> None:
    now = 1_800_000_000
    step = now // 30
    code = totp.code_at(RFC_SECRET, now)
    assert totp.matched_step(RFC_SECRET, code, now, after=step - 1) == step
    assert totp.matched_step(RFC_SECRET, code, now, after=step) is None
    assert totp.matched_step(RFC_SECRET, code, now, after=step + 1) is None
    later = totp.code_at(RFC_SECRET, now + 30)
    assert totp.matched_step(RFC_SECRET, later, now, after=step) == step + 1


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "１２３４５６", "12 34 5"])
def test_what_cannot_be_a_code_matches_nothing(bad: str) -> None:
    assert totp.normalize(bad) is None
    assert totp.matched_step(RFC_SECRET, bad, 1_800_000_000) is None


def test_spaces_in_a_code_are_ignored() -> None:
    code = totp.code_at(RFC_SECRET, 1_800_000_000)
    assert totp.matched_step(RFC_SECRET, f" {code[:3]} {code[3:]} ", 1_800_000_000) is not None


def test_new_secrets_are_160_bit_base32_and_differ() -> None:
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(base64.b32decode(secret)) == 20


def test_the_provisioning_uri_names_the_issuer_account_and_secret() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ana@example.org", "Hotline")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Hotline:ana%40example.org"
    assert parse_qs(parts.query)["secret"] == ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"]
    assert parse_qs(parts.query)["issuer"] == ["Hotline"]


def test_the_key_is_shown_in_groups_of_four() -> None:
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
