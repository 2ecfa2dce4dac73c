"""Phone normalisation (E.164) and the masked form staff may see."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.phone import InvalidPhoneNumber, mask, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15551234567", "+15551234567"),
        ("+1 555 123 4567", "+15551234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("+1.555.123.4567", "+15551234567"),
        ("+1-555-123-4567", "+15551234567"),
        ("  +15551234567\n", "+15551234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
        ("+1234567", "+1234567"),  # seven digits: the shortest E.164 accepted
        ("+123456789012345", "+123456789012345"),  # fifteen digits: the longest E.164 allows
    ],
)
def test_normalise_accepts_e164_with_separators(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


BAD_NUMBERS = [
    "",
    "   ",
    "+",
    "garbage",
    "+1555CALLNOW",
    "+1555123456a",
    "+123456",  # six digits: too short
    "+1234567890123456",  # sixteen digits: too long
    "+0123456789",  # a country code never starts with 0
    "+05551234567",
    "0015551234567",  # international prefix instead of +
    "15551234567",  # no +
    "5551234567",
    "++15551234567",
    "+1 555 123 4567 ext 2",
    "+1/555/123/4567",
    "+１５５５１２３４５６７",  # full-width digits
    "+١٥٥٥١٢٣٤٥٦٧",  # Arabic-Indic digits
    "+15551234567;DROP TABLE texters",
]


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_normalise_rejects_what_is_not_e164(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalise(raw)
    assert str(excinfo.value) == "not an E.164 phone number"


@pytest.mark.parametrize("raw", ["+1555123456a", "+1234567890123456", "+05551234567 x"])
def test_rejection_message_never_repeats_the_input(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalise(raw)
    message = str(excinfo.value)
    assert raw not in message
    assert not re.search(r"\d{4}", message)
    assert all(raw not in str(arg) for arg in excinfo.value.args)


def test_invalid_phone_number_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        normalise("nope")


@given(st.text(max_size=40))
def test_normalise_returns_e164_or_raises_invalid_phone_number(raw: str) -> None:
    try:
        result = normalise(raw)
    except InvalidPhoneNumber as error:
        assert str(error) == "not an E.164 phone number"
    else:
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", result)


def test_mask_shows_only_the_last_two_digits() -> None:
    masked = mask("+15551234567")
    assert masked == "•" * 9 + "67"
    assert "555" not in masked
    assert "+" not in masked


@pytest.mark.parametrize("number", ["+15551234567", "+442079460958", "+1234567", "+12"])
def test_mask_never_shows_more_than_two_digits(number: str) -> None:
    masked = mask(number)
    assert sum(ch.isdigit() for ch in masked) <= 2
    assert masked.endswith(number[-2:])


def test_mask_keeps_the_length_so_numbers_of_different_length_differ() -> None:
    assert len(mask("+15551234567")) == 11
    assert len(mask("+442079460958")) == 12
