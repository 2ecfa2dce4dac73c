"""Carrier compliance keywords: STOP, START and HELP, in English and Spanish.

A keyword counts only when it is the whole text. Case, surrounding spaces and punctuation are
ignored, and so are the tricks a frightened person's phone plays: letters spaced out
(``s t o p``), full-width forms, and Cyrillic or Greek letters that look like Latin ones
(``ЅТОР``). A keyword inside a sentence ("please don't stop") is not one.

When in doubt this errs towards STOP: texting someone who asked us to stop breaks the law and
may endanger them; a texter who stopped by mistake can text START.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hotline.domain.matching import plain as normalise


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    DELETE = "delete"  # erase everything about me


OPT_OUT_WORDS = frozenset(
    {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE",
        # Spanish
        "PARA", "PARAR", "ALTO", "DETENER", "CANCELAR", "BAJA", "TERMINAR", "SALIR",
    }
)  # fmt: skip
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN", "COMENZAR", "INICIAR", "ALTA"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
DELETE_WORDS = frozenset({"DELETE", "BORRAR", "ELIMINAR"})

# Letters from other scripts that render like the Latin capitals of our keywords.
_CONFUSABLES = str.maketrans(
    {
        "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K",
        "М": "M", "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y",
        "а": "A", "с": "C", "е": "E", "һ": "H", "і": "I", "ј": "J", "о": "O", "р": "P",
        "ѕ": "S", "х": "X", "у": "Y",
        # small capitals in Cyrillic lower case: "ѕтор" reads as "sтop"
        "в": "B", "к": "K", "м": "M", "н": "H", "т": "T",
        "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "O",
    }
)  # fmt: skip
_IGNORED_CATEGORIES = ("P", "Z", "S", "C")  # punctuation, spaces, symbols, controls


def fold(text: str) -> str:
    """The text reduced to the bare capital letters and digits a keyword is compared on."""
    compatible = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
    decomposed = unicodedata.normalize("NFKD", compatible)
    kept = (
        ch
        for ch in decomposed
        if not unicodedata.category(ch).startswith(_IGNORED_CATEGORIES)
        and not unicodedata.combining(ch)
    )
    return "".join(kept).upper()


def _is_sentence(text: str) -> bool:
    """More than one word that is longer than one letter: a sentence, not a keyword.

    ``s t o p`` (single letters spaced out) is still a keyword; ``don't stop`` is not.
    """
    words = [w for w in unicodedata.normalize("NFKC", text).split() if any(c.isalnum() for c in w)]
    return sum(1 for w in words if sum(c.isalnum() for c in w) > 1) > 1


def parse_keyword(text: str) -> Keyword | None:
    """The compliance keyword ``text`` is, or None when it is anything else."""
    if len(text) > 40:
        return None
    words = [w for w in (fold(part) for part in text.split()) if w]
    if len(words) > 1 and all(w in OPT_OUT_WORDS for w in words):
        return Keyword.STOP  # "stop stop", "STOP. CANCEL"
    folded = fold(text)
    if _is_sentence(text) and folded != "STOPALL":  # "STOP ALL" is Twilio's STOPALL
        return None
    if folded in OPT_OUT_WORDS:
        return Keyword.STOP
    if folded in OPT_IN_WORDS:
        return Keyword.START
    if folded in HELP_WORDS:
        return Keyword.HELP
    if folded in DELETE_WORDS:
        return Keyword.DELETE
    return None


# Said before the request, they do not change it: "please stop texting me", "ok, no more texts".
_COURTESY = frozenset(
    {"please", "pls", "plz", "plis", "just", "ok", "okay", "so", "and", "but", "hey", "thanks",
     "thank", "you", "sorry", "por", "favor", "porfa", "porfavor", "ya", "oye", "y", "pero",
     "gracias", "perdon"}
)  # fmt: skip
_CLAUSES = re.compile(r"[.!?,;:\n]+")
# "Don't text me until tonight", "no me escribas hasta mañana": not now, rather than never. The
# texter still wants us, and the advocate sees the words.
_FOR_NOW = frozenset(
    {"first", "until", "till", "til", "unless", "when", "after", "later", "tonight", "today",
     "tomorrow", "now", "hasta", "cuando", "primero", "luego", "despues", "manana", "ahora", "hoy"}
)  # fmt: skip


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalise(text).replace("'", ""))


def asks_not_to_be_texted(text: str, phrases: Iterable[str]) -> bool:
    """Whether ``text`` asks us to stop texting: a clause that opens with one of ``phrases``
    ("please stop texting me", "ok. don't text me again", "deja de escribirme").

    Only the opening of a clause counts, after courtesy words: "he won't stop texting me" tells
    of someone else, and "stop it, he hears" or "don't stop" ask nothing of us.
    """
    return OptOutRequests.of(phrases).asked_in(text)


@dataclass(frozen=True)
class OptOutRequests:
    """Phrases that ask us to stop texting, read once for every text they are looked for in
    (the worker asks it of each text: :func:`asks_not_to_be_texted`)."""

    phrases: tuple[list[str], ...]

    @classmethod
    def of(cls, phrases: Iterable[str]) -> OptOutRequests:
        return cls(tuple(words for words in (_words(p) for p in phrases) if words))

    def asked_in(self, text: str) -> bool:
        """:func:`asks_not_to_be_texted` with these phrases."""
        if _FOR_NOW.intersection(_words(text)):
            return False
        for clause in _CLAUSES.split(text):
            words = _words(clause)
            while words and words[0] in _COURTESY:
                words = words[1:]
            if any(words[: len(phrase)] == phrase for phrase in self.phrases):
                return True
        return False
