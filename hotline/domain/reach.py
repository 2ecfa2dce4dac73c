"""Other ways to reach the hotline, as texts show them: the voice number and the web address.

Checked strictly, since they are filled into texts that must stay short and plain (GSM-7): a
wrong character would cut what fits in a text by half. Messages say what is wrong, never echo
the value (an operator's environment is no place to be quoted from).
"""

from __future__ import annotations

import re

MAX_VOICE_CHARS = 20
MAX_WEB_CHARS = 40

_VOICE = re.compile(r"^\+?[0-9][0-9 ().-]*[0-9]$")
_WEB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}(/[A-Za-z0-9._~/-]*)?$")


def check_voice_number(value: str) -> str:
    """The number with its spaces trimmed; ValueError when it is not a phone number."""
    number = " ".join(value.split())
    digits = sum(c.isdigit() for c in number)
    if number and (len(number) > MAX_VOICE_CHARS or not _VOICE.match(number) or digits < 3):
        raise ValueError(
            f"must be a phone number: digits, spaces, + - ( ) and dots, at most "
            f"{MAX_VOICE_CHARS} characters"
        )
    return number


def check_web_address(value: str) -> str:
    """The address without its scheme; ValueError when it is not a short web address."""
    address = value.strip()
    for scheme in ("https://", "http://"):
        if address.lower().startswith(scheme):
            address = address[len(scheme) :]
    if address and (len(address) > MAX_WEB_CHARS or not _WEB.match(address)):
        raise ValueError(
            f"must be a web address like example.org/help, at most {MAX_WEB_CHARS} characters"
        )
    return address
