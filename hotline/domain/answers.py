"""Reading a texter's reply: what kind of answer it is to the question the state asked."""

from __future__ import annotations

import re

from hotline.domain.keywords import fold
from hotline.domain.places import state_of
from hotline.domain.risk import Lexicon, dangers, distressed, normalise
from hotline.domain.triage import Event, On, State

YES = frozenset({"YES", "Y", "YEAH", "YEP", "YA", "SI", "S", "CLARO", "OK", "OKAY"})
NO = frozenset({"NO", "N", "NOPE", "NAH", "NEGATIVE"})
SKIP = frozenset({"SKIP", "SALTAR", "OMITIR", "PASAR", "NOSE", "IDK", "PASS"})
LANGUAGE_WORDS = {
    "ESPANOL": "es",
    "SPANISH": "es",
    "ENGLISH": "en",
    "INGLES": "en",
}
# A survey score is the first number in the reply, standing on its own ("5", "5 thank you",
# "it was a 4!", "4/5"), when it is 1 to 5. "10/10" or a ZIP code is no score.
_NUMBER = re.compile(r"(?<![\d.,:/-])(\d+)(?!\d)(?![.,:]\d)(?!\s*/\s*(?:[0-46-9]|5\d))")
# Thanks, OK or goodbye in reply to the survey, with no new request in it.
_THANKS = frozenset(
    {
        "thanks", "thank", "thx", "thnx", "ty", "tysm", "thankyou", "appreciate", "appreciated",
        "ok", "okay", "k", "kk", "bye", "goodbye", "cool", "great", "awesome", "good", "nice",
        "gracias", "muchas", "mil", "adios", "bien", "vale", "chao", "chau", "bendiciones",
    }
)  # fmt: skip
_REQUEST = frozenset(
    {
        "help", "need", "needs", "again", "talk", "someone", "question", "please", "can",
        "ayuda", "ayudar", "ayudame", "necesito", "otra", "vez", "hablar", "alguien", "pregunta",
    }
)  # fmt: skip


def language_choice(text: str) -> str | None:
    """``es`` or ``en`` when the whole text asks for a language (ESPAÑOL, English...)."""
    return LANGUAGE_WORDS.get(fold(text))


def location(text: str) -> str | None:
    """The two-letter code of the US state (or DC, PR) a reply names: by code, English or
    Spanish name, ZIP code or city (``places.state_of``); None when it names none."""
    return state_of(text)


def classify(text: str, state: State, lexicons: list[Lexicon], safe_word: str) -> Event:
    """The event a text from the texter is, in ``state``.

    The safe word and emergency words count in every state; a language request in every
    question; the rest is read as an answer to what ``state`` asked.
    """
    folded = fold(text)
    if folded and folded == fold(safe_word):
        return Event(On.SAFE_WORD)
    if dangers(text, lexicons):
        return Event(On.EMERGENCY)
    if not folded:  # nothing but spaces, symbols or a picture; a crying face is a call for help
        distress = distressed(text, lexicons)
        return Event(On.DISTRESS if distress else On.BLANK)
    choice = LANGUAGE_WORDS.get(folded)  # language_choice, on the text folded once
    if choice is not None:
        return Event(On.LANGUAGE, language=choice)
    if state is State.AWAIT_NEEDS:
        return Event(On.FREE_TEXT)
    if state is State.AWAIT_LOCATION:
        if folded in SKIP:
            return Event(On.SKIP)
        if location(text) is not None:
            return Event(On.LOCATION)
        if distressed(text, lexicons):
            return Event(On.DISTRESS)
        return Event(On.FREE_TEXT)
    if state is State.SURVEY:
        if survey_score(text) is not None:
            return Event(On.SCORE)
        if _is_thanks(text):
            return Event(On.THANKS)
    if state is State.JUST_CLOSED and _is_thanks(text):
        return Event(On.THANKS)  # "thanks, bye" after closing: not a new request
    answer = _yes_or_no(text, folded)
    if answer is not None:
        return Event(answer)
    if distressed(text, lexicons):
        return Event(On.DISTRESS)
    return Event(On.FREE_TEXT)


# After "no", words that make it "I don't know" rather than an answer ("no sé", "no idea").
_UNSURE = frozenset(
    {"se", "sabe", "sabemos", "idea", "lo", "estoy", "sure", "know", "clue", "entiendo", "puedo"}
)  # fmt: skip


def yes_or_no(text: str) -> On | None:
    """YES or NO when the reply is one, or opens with one and goes on ("yes please", "no im ok",
    "si estoy en peligro"); None otherwise, and for "no sé" or "no idea", which answer nothing.
    """
    return _yes_or_no(text, fold(text))


def _yes_or_no(text: str, folded: str) -> On | None:
    """:func:`yes_or_no`, with ``text`` already folded (:func:`fold`)."""
    if folded in YES:
        return On.YES
    if folded in NO:
        return On.NO
    words = re.findall(r"[a-z]+", normalise(text))
    if len(words) < 2:
        return None
    first = words[0].upper()
    if first in YES and first not in ("OK", "OKAY", "S", "YA"):  # "ok so..." is no yes
        return On.YES
    if first in NO and first != "N" and words[1] not in _UNSURE:
        return On.NO
    return None


def survey_score(text: str) -> int | None:
    """The score in a reply to the survey: its first number, if that is 1 to 5."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 1 <= number <= 5 else None


def _is_thanks(text: str) -> bool:
    """Thanks, OK or goodbye, and nothing that asks for more ("thanks, I need help again")."""
    if "?" in text:
        return False
    words = re.findall(r"[a-z]+", normalise(text))
    return (
        bool(words) and any(w in _THANKS for w in words) and not any(w in _REQUEST for w in words)
    )
