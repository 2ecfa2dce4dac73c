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
# Answers to the texter's own HELP, STOP or START. The short-code rules require them to name the
# program, so they do even in discreet mode, and they have no ``_discreet`` variant.
KEYWORD_REPLIES = frozenset({"help", "help_opted_out", "stop_confirmation", "start_confirmation"})
# The languages ``other_languages.toml`` has a line for: we answer texts in English and Spanish.
OTHER_LANGUAGES = ("zh", "vi", "tl", "ar", "fr", "ht", "pt", "ko", "ru")


@cache
def catalogue(language: str) -> dict[str, str]:
    path = Path(__file__).with_name(f"{language}.toml")
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    return {key: str(value).strip() for key, value in entries.items()}


def text(key: str, language: str = DEFAULT_LANGUAGE, *, discreet: bool = False) -> str:
    """The catalogue text ``key`` in ``language`` (English when the language is unknown).

    In discreet mode a ``<key>_discreet`` entry, where there is one, takes the key's place
    (never for :data:`KEYWORD_REPLIES`).
    Placeholders (``{org}``...) are left for :func:`render` to fill.
    """
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    entries = catalogue(language)
    if discreet and key not in KEYWORD_REPLIES and f"{key}_discreet" in entries:
        return entries[f"{key}_discreet"]
    return entries[key]


def render(key: str, language: str, *, discreet: bool, **values: object) -> str:
    """The text ``key`` with its placeholders filled from ``values``."""
    return text(key, language, discreet=discreet).format_map(values)


def lexicons(directory: str | None = None) -> tuple[Lexicon, ...]:
    """Every language's risk lexicon, English and Spanish first."""
    shipped = Path(__file__).parent
    return tuple(
        lexicon(language, directory)
        for language in RISK_LANGUAGES
        if language in LANGUAGES or (shipped / f"lexicon_{language}.toml").is_file()
    )


@cache
def other_languages() -> dict[str, str]:
    """The lines of ``other_languages.toml``: ``zh``, ``zh_no_voice``, ``vi``..."""
    with Path(__file__).with_name("other_languages.toml").open("rb") as handle:
        entries = tomllib.load(handle)
    return {key: str(value).strip() for key, value in entries.items()}


def other_language_emergency(language: str) -> str | None:
    """The 911 guidance in ``language``, one of :data:`OTHER_LANGUAGES` (else None)."""
    return other_languages()[f"{language}_emergency"] if language in OTHER_LANGUAGES else None


def other_language_line(language: str, voice: str) -> str | None:
    """One line in ``language`` saying we answer texts in English and Spanish, with the voice
    number ``voice`` to call for an interpreter (the line without it when ``voice`` is empty).

    None for English, Spanish and any language without a line.
    """
    if language not in OTHER_LANGUAGES:
        return None
    if not voice:
        return other_languages()[f"{language}_no_voice"]
    return other_languages()[language].format_map({"voice": voice})


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
        young=tuple(entries.get("young", ())),
        opt_out=tuple(entries.get("opt_out", ())),
        distress=tuple(entries.get("distress", ())),
        ignore=tuple(entries.get("ignore", ())),
        now=tuple(entries.get("now", ())),
        negation=tuple(entries.get("negation", ())),
        held=tuple(entries.get("held", ())),
    )
