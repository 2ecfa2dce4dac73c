"""Every text the hotline sends, one TOML file per language. No text lives in code."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    path = Path(__file__).with_name(f"{language}.toml")
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    return {key: str(value).strip() for key, value in entries.items()}


def text(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The catalogue text ``key`` in ``language`` (English when the language is unknown)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return catalogue(language)[key]
