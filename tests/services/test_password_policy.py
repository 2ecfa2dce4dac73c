"""The password policy every chosen staff password meets: long enough, not a common password
(the list ships inside the package), not the email's local part."""

from __future__ import annotations

import pytest

from hotline.services.staff import StaffError, check_password, common_passwords

COMMON = "that password is one of the most common ones: choose another"


def test_the_common_password_list_ships_with_the_package() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwerty123456", "iloveyou"} <= common
    assert all(entry == entry.strip().lower() and not entry.startswith("#") for entry in common)


@pytest.mark.parametrize(
    ("password", "email", "error"),
    [
        ("short", None, "password must be at least 12 characters"),
        ("x" * 1025, None, "password must be at most 1024 characters"),
        ("qwerty123456", None, COMMON),
        ("QWERTY123456", None, COMMON),
        ("password1234", None, COMMON),  # a common one with digits after it
        ("!!!Sunshine!!!", None, COMMON),
        ("2024 iloveyou 2024", None, COMMON),
        ("maria.lopez is here", "Maria.Lopez@example.org", (
            "password must not contain the part of the email before the @")),
        ("xx MARIA.LOPEZ xx", "maria.lopez@example.org", (
            "password must not contain the part of the email before the @")),
    ],
)  # fmt: skip
def test_refused(password: str, email: str | None, error: str) -> None:
    with pytest.raises(StaffError) as raised:
        check_password(password, email)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("correct horse battery staple", None),
        ("password manager makes this", None),  # a common word inside a longer phrase is fine
        ("a long password", "al@example.org"),  # a two-letter local part is not checked
    ],
)
def test_accepted(password: str, email: str | None) -> None:
    check_password(password, email)


@pytest.mark.parametrize("password", ["correct horse\x00battery", "tab\tseparated-words-9"])
def test_a_password_with_a_control_character_is_refused(password: str) -> None:
    """Sign-in refuses control characters, so such a password could never be used."""
    with pytest.raises(StaffError, match="control characters"):
        check_password(password)
