"""Quick replies' words that ship with the hotline: the neutral wordings of unknown variables,
and the introduction every new hotline starts with (``quick_reply_words.toml``)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from hotline.catalogue import DEFAULT_LANGUAGE, LANGUAGES


@cache
def _entries() -> dict[str, Any]:
    with Path(__file__).with_name("quick_reply_words.toml").open("rb") as handle:
        return tomllib.load(handle)


def neutral_words(language: str) -> dict[str, str]:
    """``{"advocate_name": ..., "location": ...}``: the neutral wordings in ``language``
    (English for a language we do not text in)."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return {key: str(value) for key, value in _entries()["neutral"][chosen].items()}


def introductions() -> dict[str, tuple[str, str]]:
    """The introduction quick reply in each language: ``{language: (title, body)}``."""
    return {
        language: (str(entry["title"]), str(entry["body"]))
        for language, entry in _entries()["introduction"].items()
    }
