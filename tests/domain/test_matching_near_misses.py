"""Misspellings found through the index of each phrase list's first words: the phrases a word
may be a misspelling of are exactly those a comparison with every phrase finds, in the
lexicon's order; and what the triage reads once per text (opt-out phrases, a call for help)
answers as reading it afresh does."""

from __future__ import annotations

import random

import pytest

from hotline.catalogue import lexicon, lexicons
from hotline.domain.keywords import OptOutRequests, asks_not_to_be_texted
from hotline.domain.language import detect
from hotline.domain.matching import (
    _MIN_FUZZY,
    Phrase,
    PhraseSet,
    Word,
    _same_word,
    words,
)
from hotline.domain.risk import dangers, distressed

SHIPPED = list(lexicons())


def every_phrase_compared(phrases: PhraseSet, word: Word) -> list[Phrase]:
    """The candidates for ``word`` by the rule itself: the phrases it is, then every phrase
    whose first word it may be a misspelling of, compared one by one."""
    exact = [p for p in phrases.phrases if p.items[0].stem == word.stem]
    if word.plain != word.stem:
        exact += [p for p in phrases.phrases if p.items[0].stem == word.plain and p.items[0].exact]
    loose = [
        p
        for p in phrases.phrases
        if (p.items[0].prefix or len(p.items[0].stem) >= _MIN_FUZZY)
        and p.items[0].stem not in (word.stem, word.plain)
        and _same_word(p.items[0], word)
    ]
    return exact + loose


def misspellings(word: str, rng: random.Random) -> list[str]:
    """One of each edit: a letter dropped, added, changed, two swapped; and two edits."""
    i = rng.randrange(len(word))
    j = rng.randrange(len(word) - 1) if len(word) > 1 else 0
    letter = rng.choice("aeiourstnlx")
    swapped = word[:j] + word[j + 1 : j + 2] + word[j] + word[j + 2 :]
    return [
        word,
        word[:i] + word[i + 1 :],
        word[:i] + letter + word[i:],
        word[:i] + letter + word[i + 1 :],
        swapped,
        swapped[:i] + swapped[i + 1 :],
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_index_finds_what_comparing_every_phrase_finds(language: str) -> None:
    shipped = lexicon(language)
    rng = random.Random(21)
    for name in ("_emergency", "_weighted", "_distress", "_minor", "_held", "_now"):
        phrases: PhraseSet = getattr(shipped, name)
        for phrase in rng.sample(phrases.phrases, min(60, len(phrases.phrases))):
            for written in misspellings(phrase.items[0].plain, rng):
                for word in words(written, language)[:1]:
                    assert list(phrases._candidates(word)) == every_phrase_compared(
                        phrases, word
                    ), (
                        name,
                        written,
                    )


TOY = PhraseSet.of(
    ["threatened", "took ... passport", "passport", "amenaz*", "traffickers", "beating me"],
    "en",
)
AS_WRITTEN = PhraseSet.of(["is stabbing me", "shooting", "choked"], "en", stemmed=False)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("he thretened me", "threatened"),  # a letter dropped
        ("he threatenned me", "threatened"),  # added
        ("he threatebed me", "threatened"),  # changed
        ("he thraetened me", "threatened"),  # two swapped
        ("he tokk my pasport", "passport"),  # "tokk" is no "took": four letters
        ("me amenazaron", "amenaz*"),
        ("the trafickers", "traffickers"),
    ],
)
def test_a_misspelt_first_word_is_found(text: str, phrase: str) -> None:
    assert [found.phrase for found in TOY.find(text)] == [phrase]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("he is stabing me", ["is stabbing me"]),  # seven letters or more: a misspelling counts
        ("shootin", ["shooting"]),
        ("choke", []),  # six: only as written
        ("shootings", []),  # a real word of its own
    ],
)
def test_a_phrase_as_written_matches_misspellings_of_longer_words_only(
    text: str, found: list[str]
) -> None:
    assert [f.phrase for f in AS_WRITTEN.find(text)] == found


def test_a_real_word_is_no_misspelling() -> None:
    assert TOY.find("stuck in traffic") == []
    assert [f.phrase for f in TOY.find("traffickers everywhere")] == ["traffickers"]
    threats = PhraseSet.of(["threaten", "threatened", "threatens"], "en", stemmed=False)
    assert [f.phrase for f in threats.find("threatens")] == ["threatens"]


def test_found_in_the_lexicons_order_the_word_itself_first() -> None:
    both = [(f.phrase, f.words) for f in TOY.find("they took my pasport")]
    assert both == [("took ... passport", "took my pasport"), ("passport", "pasport")]
    threats = PhraseSet.of(["threatens", "threaten", "threatened"], "en", stemmed=False)
    found = [f.phrase for f in threats.find("threaten threatene")]
    assert found == ["threaten", "threaten", "threatens", "threatened"]  # stem "threaten"


def test_what_a_word_is_looked_up_by_is_not_part_of_it() -> None:
    word = words("passport", "en")[0]
    assert "pasport" in word.near and "passport" in word.near
    assert word == Word(word.written, word.plain, word.stem, word.sentence, word.position)
    assert "near" not in repr(word)


OPT_OUT = [p for shipped in SHIPPED for p in shipped.opt_out]


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "he won't stop texting me",
        "ok. don't text me again",
        "don't text me until tonight",
        "deja de escribirme",
        "",
        "stop",
    ],
)
def test_opt_out_phrases_read_once_answer_as_read_each_time(text: str) -> None:
    requests = OptOutRequests.of(OPT_OUT)
    assert requests.asked_in(text) == asks_not_to_be_texted(text, OPT_OUT)
    assert requests.asked_in(text) == asks_not_to_be_texted(text, OPT_OUT)  # nothing kept


@pytest.mark.parametrize(
    "text",
    ["help me please", "tengo miedo", "🆘", "what are your hours", "ayuda", "😢", "   "],
)
def test_a_call_for_help_is_what_each_lexicon_finds(text: str) -> None:
    language = detect(text).language
    expected = any(
        shipped.may_find(text, language) and shipped.distress_in(text) for shipped in SHIPPED
    )
    dangers("he has a gun", SHIPPED)  # another text read last
    assert distressed(text, SHIPPED) is expected
    dangers(text, SHIPPED)  # this very text read last
    assert distressed(text, SHIPPED) is expected
