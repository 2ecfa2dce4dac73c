"""Every text the hotline sends: in both languages, short and cheap enough, and compliant."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from hotline.catalogue import (
    DEFAULT_LANGUAGE,
    KEYWORD_REPLIES,
    LANGUAGES,
    OTHER_LANGUAGES,
    catalogue,
    listing,
    other_language_emergency,
    other_language_line,
    other_languages,
    text,
)
from hotline.catalogue.listing import LONGEST, filled
from hotline.domain import answers
from hotline.domain.keywords import Keyword, fold, parse_keyword
from hotline.domain.segments import count_segments
from hotline.domain.tuning import TUNED_LEXICONS
from hotline.settings import Mode, Settings

COPY_LISTING = Path(__file__).parent.parent / "docs" / "copy.md"

ENTRIES = [(language, key) for language in LANGUAGES for key in catalogue(language)]
PLACEHOLDERS = {"org", "safe_word", "position", "wait", "hours", "opens", "reach", "voice", "web"}
DISCREET_KEYS = ["welcome"]
OTHER_LANGUAGE = {"en": "ESPAÑOL", "es": "ENGLISH"}
STOP_WORD = {"en": "STOP", "es": "PARAR"}
RATES = {"en": "Msg & data rates may apply", "es": "Pueden aplicarse tarifas de mensajes y datos"}
DELETE_TIP = {
    "en": "You can also delete this thread from your phone.",
    "es": "También puede borrar estos mensajes de su teléfono.",
}
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


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_no_text_we_send_first_names_the_org_in_discreet_mode(language: str, key: str) -> None:
    # Only the answers to the texter's own HELP, STOP and START name it: the rules require it.
    body = text(key, language, discreet=True)
    if key in KEYWORD_REPLIES:
        assert "{org}" in body and f"{key}_discreet" not in catalogue(language)
        return
    assert "{org}" not in body, (language, key)
    assert not re.search(r"traffick|trata\b", body, re.IGNORECASE), (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_names_the_program_and_a_way_to_reach_a_person(language: str) -> None:
    for discreet in (False, True):
        body = filled("help", language, discreet=discreet, org="Freedom Network")
        assert body.startswith("Freedom Network: ")
        assert str(LONGEST["voice"]) in body and str(LONGEST["web"]) in body
        assert "911" in body and RATES[language] in body
        assert STOP_WORD[language] in offered_words(body)
    bare = filled("help", language, org="Freedom Network", reach="")
    assert ".." not in bare and "  " not in bare


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_after_stop_says_how_to_come_back_not_how_to_stop(language: str) -> None:
    body = filled("help_opted_out", language, discreet=True, org="Freedom Network")
    assert body.startswith("Freedom Network: ")
    assert str(LONGEST["voice"]) in body and "911" in body
    words = {parse_keyword(word) for word in offered_words(body)}
    assert Keyword.START in words and Keyword.STOP not in words


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ["stop_confirmation", "start_confirmation"])
def test_stop_and_start_confirmations_name_the_program(language: str, key: str) -> None:
    body = filled(key, language, discreet=True, org="Freedom Network")
    assert body.startswith("Freedom Network: ")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_start_confirmation_says_what_it_costs(language: str) -> None:
    assert RATES[language] in filled("start_confirmation", language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ["safe_word_done", "deleted", "deleted_opted_out"])
def test_after_erasing_the_texter_hears_they_can_delete_the_thread(language: str, key: str) -> None:
    assert filled(key, language).endswith(DELETE_TIP[language])


@pytest.mark.parametrize(("language", "key"), ENTRIES)
def test_no_text_blames_or_overpromises(language: str, key: str) -> None:
    # Staff read the chat and keep a record: "confidential" would promise more than is true.
    body = text(key, language).lower()
    for word in ("confidential", "confidencial", "sorry", "perdone", "didn't get", "entendimos"):
        assert word not in body, (language, key, word)


@pytest.mark.parametrize("key", [k for k in catalogue("en") if k.endswith("reask")])
def test_reasks_are_warm_and_short(key: str) -> None:
    assert text(key, "en").startswith("We're here for you.")
    assert text(key, "es").startswith("Estamos para ayudarle.")
    assert count_segments(filled(key, "en")).segments == 1


def test_the_default_names_read_right_at_the_start_of_a_text(tmp_path: Path) -> None:
    settings = Settings.from_env({}, mode=Mode.TEST, instance_path=tmp_path)
    for name in (settings.org_name, settings.org_name_es):
        assert name[0].isupper() and not name.lower().startswith(("the ", "la ", "el "))
        assert count_segments(name).encoding == "GSM-7"
    assert settings.discreet_mode


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


def test_the_listing_of_every_text_is_up_to_date() -> None:
    assert COPY_LISTING.read_text(encoding="utf-8") == listing.markdown(), (
        "docs/copy.md is stale: python -m hotline.catalogue.listing > docs/copy.md"
    )


def test_the_listing_holds_every_text_within_two_segments() -> None:
    rows = listing.rows()
    assert {(row.language, row.key) for row in rows} >= set(ENTRIES)
    for row in rows:
        assert 1 <= row.count.segments <= 2, (row.language, row.key, row.count)
        if row.language in LANGUAGES:
            assert row.count.encoding == "GSM-7", (row.language, row.key)


def test_every_other_language_has_a_line_with_and_without_a_voice_number() -> None:
    ends = ("", "_no_voice", "_emergency")
    expected = {f"{language}{end}" for language in OTHER_LANGUAGES for end in ends}
    assert set(other_languages()) == expected
    assert set(OTHER_LANGUAGES) == {"zh", "vi", "tl", "ar", "fr", "ht", "pt", "ko", "ru"}
    for language in OTHER_LANGUAGES:
        assert "{voice}" in other_languages()[language], language
        assert "{" not in other_languages()[f"{language}_no_voice"], language
        emergency = other_language_emergency(language)
        assert emergency is not None and "911" in emergency and "{" not in emergency
        assert count_segments(emergency).segments <= 2, language


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_an_other_language_line_fits_in_two_segments_with_a_long_voice_number(
    language: str,
) -> None:
    for voice in ("9" * 16, str(LONGEST["voice"])):
        line = other_language_line(language, voice)
        assert line is not None and voice in line
        assert count_segments(line).segments <= 2, (language, count_segments(line))
    bare = other_language_line(language, "")
    assert bare == other_languages()[f"{language}_no_voice"]
    assert count_segments(bare).segments <= 2


@pytest.mark.parametrize("language", ["en", "es", "de", "", "zh_no_voice"])
def test_no_other_language_line_for_english_spanish_or_unknown_codes(language: str) -> None:
    assert other_language_line(language, "1-888-373-7888") is None


def test_supervisors_tune_the_lexicons_of_the_languages_texters_are_answered_in() -> None:
    """The settings page offers a lexicon for each of :data:`LANGUAGES` and no other."""
    assert tuple(language for language, _ in TUNED_LEXICONS) == LANGUAGES
