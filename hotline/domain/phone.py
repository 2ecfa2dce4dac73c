"""Phone numbers as Twilio gives them (E.164), and how staff may see them."""

from __future__ import annotations

import re

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class InvalidPhoneNumber(ValueError):
    """Not an E.164 number. The message never repeats the input."""


def normalise(raw: str) -> str:
    """Return the E.164 form of a number Twilio sent (``+15551234567``).

    Spaces, dashes, dots and brackets are dropped; anything else that is not E.164 raises
    :class:`InvalidPhoneNumber`.
    """
    compact = re.sub(r"[\s\-.()]", "", raw)
    if not _E164.fullmatch(compact):
        raise InvalidPhoneNumber("not an E.164 phone number")
    return compact


def mask(e164: str) -> str:
    """Show at most the last two digits: enough to tell two texters apart on a call."""
    digits = e164.lstrip("+")
    return "•" * max(len(digits) - 2, 0) + digits[-2:]
