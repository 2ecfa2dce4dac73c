"""Variables in quick replies: ``{advocate_name}``, ``{location}``, ``{safe_word}``.

A quick reply is written once by a supervisor and filled in for each conversation, so an
introduction can say the advocate's first name and a referral the texter's city. Anything in
braces is a variable: a name this module does not know is refused (a supervisor's typo must
not reach a texter as "{advocat_name}"). A lone brace is plain text.

Filling is a plain substitution, never ``str.format``: a template cannot reach attributes or
format specifications (``{advocate_name.__class__}`` is just an unknown variable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# What each variable becomes, in the words a supervisor reads in the admin page.
VARIABLES: dict[str, str] = {
    "advocate_name": "the advocate's first name (a neutral wording until they set a display name)",
    "location": "where the texter said they are, if triage learned it (else a neutral wording)",
    "safe_word": "the word that ends and deletes a chat",
}

_PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")


class UnknownVariable(ValueError):
    """A template names a variable that does not exist; the message says which and what exists."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        known = ", ".join(f"{{{name}}}" for name in VARIABLES)
        shown = ", ".join(f"{{{name}}}" for name in names)
        super().__init__(f"unknown variable {shown}: the variables are {known}")


def variables_in(template: str) -> list[str]:
    """The variable names ``template`` uses, in order of first use, known or not."""
    return list(dict.fromkeys(match.group(1) for match in _PLACEHOLDER.finditer(template)))


def check(template: str) -> None:
    """Raise :class:`UnknownVariable` when ``template`` names a variable that does not exist."""
    unknown = [name for name in variables_in(template) if name not in VARIABLES]
    if unknown:
        raise UnknownVariable(unknown)


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every variable replaced by its value in ``values``.

    Raises :class:`UnknownVariable` for a variable that does not exist (checked before anything
    is filled, so a value that itself holds braces is never read as a variable).
    """
    check(template)
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


__all__ = ["VARIABLES", "UnknownVariable", "check", "fill", "variables_in"]
