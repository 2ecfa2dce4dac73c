"""Every text the hotline sends, one TOML file per language. No text lives in code."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from hotline.domain.risk import Lexicon

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# Languages triage reads for risk: the two we text in, and the most common others in the US
# (hotline.domain.language detects them). Only English and Spanish are tuned from the console.
RISK_LANGUAGES = ("en", "es", "zh", "vi", "tl", "ar", "fr", "ht", "pt", "ko", "ru")


@cache
def catalogue(language: str) -> dict[str, str]:
    path = Path(__file__).with_name(f"{language}.toml")
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    return {key: str(value).strip() for key, value in entries.items()}


def text(key: str, language: str = DEFAULT_LANGUAGE, *, discreet: bool = False) -> str:
    """The catalogue text ``key`` in ``language`` (English when the language is unknown).

    In discreet mode a ``<key>_discreet`` entry, where there is one, takes the key's place.
    Placeholders (``{org}``...) are left for :func:`render` to fill.
    """
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    entries = catalogue(language)
    if discreet and f"{key}_discreet" in entries:
        return entries[f"{key}_discreet"]
    return entries[key]


def render(key: str, language: str, *, discreet: bool, **values: object) -> str:
    """The text ``key`` with its placeholders filled from ``values``."""
    return text(key, language, discreet=discreet).format_map(values)


def lexicons(directory: str | None = None) -> tuple[Lexicon, ...]:
    """Every language's risk lexicon, English and Spanish first."""
    return tuple(lexicon(language, directory) for language in RISK_LANGUAGES)


@cache
def lexicon(language: str, directory: str | None = None) -> Lexicon:
    """The risk lexicon for ``language``: from ``directory`` if given, else the shipped one."""
    folder = Path(directory) if directory else Path(__file__).parent
    path = folder / f"lexicon_{language}.toml"
    if directory and language not in LANGUAGES and not path.is_file():
        path = Path(__file__).parent / f"lexicon_{language}.toml"  # the shipped one
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    return Lexicon(
        language=language,
        emergency=tuple(entries.get("emergency", ())),
        weights={str(k): int(v) for k, v in entries.get("weights", {}).items()},
        urgent_at=int(entries.get("urgent_at", 60)),
        high_at=int(entries.get("high_at", 30)),
        minor=tuple(entries.get("minor", ())),
        opt_out=tuple(entries.get("opt_out", ())),
        distress=tuple(entries.get("distress", ())),
        ignore=tuple(entries.get("ignore", ())),
        now=tuple(entries.get("now", ())),
        negation=tuple(entries.get("negation", ())),
    )
