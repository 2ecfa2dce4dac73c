"""Every text the hotline sends: in both languages, short and cheap enough, and compliant."""

from __future__ import annotations

import re
import string

import pytest

from hotline.catalogue import DEFAULT_LANGUAGE, LANGUAGES, catalogue, render, text
from hotline.domain import answers
from hotline.domain.hours import MAX_DESCRIPTION
from hotline.domain.keywords import Keyword, fold, parse_keyword
from hotline.domain.reach import MAX_VOICE_CHARS, MAX_WEB_CHARS
from hotline.domain.segments import count_segments

ENTRIES = [(language, key) for language in LANGUAGES for key in catalogue(language)]
PLACEHOLDERS = {"org", "safe_word", "position", "wait", "hours", "opens", "reach", "voice", "web"}
# The longest values a text can be filled with (settings cap the name, the safe word, the
# opening hours' short form, the voice number and the web address).
LONGEST: dict[str, object] = {
    "org": "X" * 40,
    "safe_word": "ABCDEFGHIJKL",
    "position": 999,
    "wait": 999,
    "hours": "X" * MAX_DESCRIPTION + " ABCDE",  # and the zone's abbreviation
    "opens": "tomorrow 12:30pm",
    "voice": "9" * MAX_VOICE_CHARS,
    "web": "x" * MAX_WEB_CHARS,
}
DISCREET_KEYS = ["welcome", "help"]
OTHER_LANGUAGE = {"en": "ESPAÑOL", "es": "ENGLISH"}
STOP_WORD = {"en": "STOP", "es": "PARAR"}
# The words a text may tell the texter to reply with: all acted on by the hotline.
REPLY_WORDS = [
    "STOP",
    "START",
    "HELP",
    "YES",
    "NO",
    "SI",
    "SKIP",
    "SALTAR",
    "ESPAÑOL",
    "ENGLISH",
    "PARAR",
    "AYUDA",
]
# "Reply STOP to opt out, HELP for help." / "Reply YES or NO." / "Responda SI o NO." A sentence
# ends at a full stop before a capitalised word, so "EE. UU." does not end one.
_REPLY_CLAUSE = re.compile(
    r"\b(?:[Rr]eply|[Rr]esponda)\b.*?(?:[?!:;]|\.(?=$|\s+(?:[¿¡]|[A-Z][a-z]))|$)"
)
_OFFERED = re.compile(r"(?:^|\bor |\bo |, )\W*([A-ZÑ]{2,}|\{\w+\})(?![\w{])")


def filled(key: str, language: str, *, discreet: bool = False, **values: object) -> str:
    longest = {**LONGEST, **values}
    if "reach" not in values:  # both other ways to reach the hotline, at their longest
        parts = (
            render(f"reach_{part}", language, discreet=False, **longest)
            for part in ("voice", "web")
        )
        longest["reach"] = "".join(f" {part}" for part in parts)
    return render(key, language, discreet=discreet, **longest)


def acted_on(word: str) -> bool:
    """A word the hotline does something with when it is the whole text."""
    if word == "{safe_word}":
        return True
    folded = fold(word)
    return (
        parse_keyword(word) is not None
        or folded in answers.YES | answers.NO | answers.SKIP
        or folded in answers.LANGUAGE_WORDS
    )


def offered_words(body: str) -> list[str]:
    """Every word a text tells the texter to reply with."""
    words: list[str] = []
    for clause in _REPLY_CLAUSE.finditer(body):
        after_verb = re.sub(r"^\w+\s+", "", clause.group(0))
        words += _OFFERED.findall(after_verb)
    return words


def test_both_languages_are_catalogued() -> None:
    assert LANGUAGES == ("en", "es")
    assert DEFAULT_LANGUAGE == "en"


def test_the_same_keys_in_every_language() -> None:
    english = set(catalogue("en"))
    assert {"welcome", "help", "stop_confirmation", "start_confirmation", "emergency"} <= english
    for language in LANGUAGES:
        assert set(catalogue(language)) == english, language


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_no_text_is_empty(language: str, key: str) -> None:
    assert catalogue(language)[key].strip()
    assert catalogue(language)[key] == catalogue(language)[key].strip()


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_only_known_placeholders(language: str, key: str) -> None:
    used = {name for _, name, _, _ in string.Formatter().parse(text(key, language)) if name}
    assert used <= PLACEHOLDERS, (language, key, used - PLACEHOLDERS)


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_every_text_fits_in_two_gsm7_segments_with_its_longest_values(
    language: str, key: str
) -> None:
    # One character GSM-7 lacks (an accent, a curly quote) cuts a segment from 160 to 70.
    count = count_segments(filled(key, language))
    assert count.encoding == "GSM-7", (language, key)
    assert 1 <= count.segments <= 2, (language, key, count)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_welcome_says_how_to_stop_and_offers_the_other_language(language: str) -> None:
    for discreet in (False, True):
        body = filled("welcome", language, discreet=discreet)
        assert STOP_WORD[language] in offered_words(body)
        assert OTHER_LANGUAGE[language] in offered_words(body)


def test_the_english_welcome_says_what_it_costs() -> None:
    for discreet in (False, True):
        assert "Msg & data rates may apply" in filled("welcome", "en", discreet=discreet)
    assert "tarifas" in filled("welcome", "es")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compliance_texts_name_working_keywords(language: str) -> None:
    def offered(key: str) -> set[Keyword | None]:
        return {parse_keyword(word) for word in offered_words(filled(key, language))}

    assert Keyword.STOP in offered("help")
    assert Keyword.STOP in offered("start_confirmation")
    assert Keyword.START in offered("stop_confirmation")
    assert Keyword.HELP in offered("welcome")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", DISCREET_KEYS)
def test_discreet_variants_name_neither_the_org_nor_trafficking(key: str, language: str) -> None:
    assert f"{key}_discreet" in catalogue(language)
    body = filled(key, language, discreet=True, org="Freedom Network")
    assert body == filled(f"{key}_discreet", language, org="Freedom Network")
    assert "Freedom Network" not in body
    assert "traffick" not in body.lower()
    assert "{org}" not in text(key, language, discreet=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_plain_welcome_names_the_org(language: str) -> None:
    assert "Freedom Network" in filled("welcome", language, org="Freedom Network")


def test_discreet_variants_exist_in_both_languages_or_neither() -> None:
    for key in catalogue("en"):
        variant = f"{key}_discreet"
        assert (variant in catalogue("en")) == (variant in catalogue("es")), key


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_every_reply_word_a_text_offers_is_one_we_act_on(language: str, key: str) -> None:
    for word in offered_words(filled(key, language, safe_word="{safe_word}")):
        assert acted_on(word), (language, key, word)


@pytest.mark.parametrize("word", REPLY_WORDS)
def test_every_reply_word_we_use_is_acted_on(word: str) -> None:
    assert acted_on(word)


def test_offered_words_reads_reply_clauses() -> None:
    body = (
        "Hi. Reply STOP to opt out, HELP for help. Please reply with a US state (like TX), or SKIP."
    )
    assert offered_words(body) == ["STOP", "HELP", "SKIP"]
    assert offered_words("Responda SI o NO. Escriba {safe_word}.") == ["SI", "NO"]
    assert offered_words("Reply {safe_word} or anything.") == ["{safe_word}"]
    assert offered_words("Responda con un estado de EE. UU. (como TX), o SALTAR.") == ["SALTAR"]
    assert not acted_on("MAYBE")


def test_unknown_language_falls_back_to_english() -> None:
    assert text("help", "fr") == text("help", "en")
    assert text("help", "es") != text("help", "en")


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        text("no_such_text")
