"""The table of what risk reasons suggest for a case record (``case_suggestions.toml``), read
once: per lexicon language, and merged by normalised phrase for
:func:`hotline.domain.case_suggestions.suggest` (a reason does not say which lexicon found it)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from hotline.domain.risk import normalise

FILE = Path(__file__).with_name("case_suggestions.toml")


@cache
def by_language() -> dict[str, dict[str, tuple[str, ...]]]:
    """``{language: {phrase as the lexicon writes it: ("list:code", ...)}}``."""
    with FILE.open("rb") as handle:
        loaded = tomllib.load(handle)
    return {
        language: {phrase: tuple(entries) for phrase, entries in table.items()}
        for language, table in loaded.items()
    }


@cache
def table() -> dict[str, tuple[str, ...]]:
    """Every language's phrases, normalised, each with every entry any language gives it."""
    merged: dict[str, list[str]] = {}
    for phrases in by_language().values():
        for phrase, entries in phrases.items():
            found = merged.setdefault(normalise(phrase), [])
            found.extend(entry for entry in entries if entry not in found)
    return {phrase: tuple(entries) for phrase, entries in merged.items()}
