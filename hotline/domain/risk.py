"""Risk scoring: transparent, per-language keyword and phrase weights.

Every matched phrase is a reason an advocate and a supervisor can read; the score is their sum
(each phrase counted once), and the thresholds map it to a priority. Emergency words make a
conversation urgent whatever the score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        """0 is the most urgent: sort by this, then by how long they waited."""
        return {"urgent": 0, "high": 1, "normal": 2}[self.value]


def normalise(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces."""
    straight = text.replace("\u2019", "'").replace("\u2018", "'")  # curly apostrophes
    decomposed = unicodedata.normalize("NFKD", straight)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({normalise(p) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alternatives)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])")


@dataclass(frozen=True)
class Lexicon:
    language: str
    emergency: tuple[str, ...]
    weights: Mapping[str, int]
    urgent_at: int = 60
    high_at: int = 30
    # Phrases that say the texter is under 18 (ages are read by :func:`mentions_minor` too).
    minor: tuple[str, ...] = ()
    # Requests not to be texted ("stop texting me"): opt-outs like STOP (see
    # :func:`hotline.domain.keywords.asks_not_to_be_texted`).
    opt_out: tuple[str, ...] = ()
    _emergency_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _weights_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _minor_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_emergency_re", _pattern(self.emergency))
        object.__setattr__(self, "_weights_re", _pattern(self.weights))
        object.__setattr__(self, "_minor_re", _pattern(self.minor))

    def minor_in(self, text: str) -> bool:
        return self._minor_re is not None and self._minor_re.search(normalise(text)) is not None

    def emergency_in(self, text: str) -> list[str]:
        if self._emergency_re is None:
            return []
        return sorted({m.group(0) for m in self._emergency_re.finditer(normalise(text))})

    def weighted_in(self, text: str) -> dict[str, int]:
        if self._weights_re is None:
            return {}
        by_phrase = {normalise(p): w for p, w in self.weights.items()}
        found: dict[str, int] = {}
        for match in self._weights_re.finditer(normalise(text)):
            phrase = " ".join(match.group(0).split())
            found[phrase] = by_phrase[phrase]
        return found


@dataclass(frozen=True)
class Assessment:
    score: int
    priority: Priority
    reasons: tuple[str, ...]  # "phrase (+weight)", or "emergency: phrase"


def assess(texts: Iterable[str], lexicons: Iterable[Lexicon]) -> Assessment:
    """Score everything a texter wrote with every lexicon (texters mix languages)."""
    lexicons = list(lexicons)
    emergencies: set[str] = set()
    weighted: dict[str, int] = {}
    for text in texts:
        for lexicon in lexicons:
            emergencies.update(lexicon.emergency_in(text))
            weighted.update(lexicon.weighted_in(text))
    score = sum(weighted.values())
    urgent_at = min((lexicon.urgent_at for lexicon in lexicons), default=60)
    high_at = min((lexicon.high_at for lexicon in lexicons), default=30)
    if emergencies or score >= urgent_at:
        priority = Priority.URGENT
    elif score >= high_at:
        priority = Priority.HIGH
    else:
        priority = Priority.NORMAL
    reasons = tuple(
        [f"emergency: {phrase}" for phrase in sorted(emergencies)]
        + [
            f"{phrase} (+{weight})"
            for phrase, weight in sorted(weighted.items(), key=lambda kv: -kv[1])
        ]
    )
    return Assessment(score=score, priority=priority, reasons=reasons)


def higher(a: Priority, b: Priority) -> Priority:
    return a if a.rank <= b.rank else b


# "I'm 16", "i am 15 years old", "tengo 14 años", "16 yrs old", "age 15": an age under 18 said
# of oneself. Ages alone ("16") are too common in addresses and times to count.
_AGE = re.compile(
    r"(?<![\w])(?:"
    r"(?:i'?m|i am|im|age|aged|edad|tengo|cumpli)\s+(?P<a>1[0-7])(?![\w:.,]\d)"
    r"(?!\s*(?:min|mins|minutes|hours?|hrs?|miles?|blocks?|am|pm|dollars|bucks|minutos|horas))"
    r"|(?P<b>1[0-7]|[5-9])\s*(?:years?|yrs?|yo|y/o|anos|ano)(?:\s+old)?(?![\w])"
    r")"
)


def mentions_minor(text: str, lexicons: Iterable[Lexicon]) -> bool:
    """Whether ``text`` says the texter (or the person they text about) is under 18."""
    plain = normalise(text)
    return _AGE.search(plain) is not None or any(lex.minor_in(text) for lex in lexicons)
