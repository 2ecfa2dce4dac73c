"""Asking not to be texted, in a sentence: an opt-out like STOP (issue 13, item 4). The phrases
live in the catalogue's lexicons; this table holds both what must opt out and what must not."""

from __future__ import annotations

import pytest

from hotline.catalogue import lexicon
from hotline.domain.keywords import asks_not_to_be_texted, parse_keyword

PHRASES = [*lexicon("en").opt_out, *lexicon("es").opt_out]

OPT_OUTS = [
    "please stop texting me",
    "Please, STOP texting me",
    "stop texting me",
    "don't text me again",
    "Dont text me again!!",
    "do not text me",
    "no more texts",
    "no more texts please",
    "ok. stop messaging me",
    "thanks but please stop texting me",
    "unsubscribe me",
    "remove my number",
    "deja de escribirme",
    "Dejen de escribirme por favor",
    "no me escriba mas",
    "No me escriba más",
    "no me escribas",
    "ya no me escriban",
    "por favor no me manden mensajes",
    "no mas mensajes",
]

NOT_OPT_OUTS = [
    "stop it, he hears",
    "don't stop",
    "stop",  # the keyword itself: handled as STOP before this, not as a sentence
    "my ex won't stop texting me",
    "he said dont text me",
    "he keeps texting me and I want it to stop",
    "don't text me until tonight",
    "don't text me first, I will text you",
    "no me escribas hasta mañana",
    "can you stop him",
    "I need to stop him from texting my sister",
    "please help",
    "I don't know who to text",
    "no",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_a_request_not_to_be_texted_is_an_opt_out(text: str) -> None:
    assert asks_not_to_be_texted(text, PHRASES)


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_a_sentence_that_merely_holds_stop_is_not(text: str) -> None:
    assert not asks_not_to_be_texted(text, PHRASES)


@pytest.mark.parametrize("text", ["stop it, he hears", "don't stop", "please stop texting me"])
def test_sentences_are_not_compliance_keywords(text: str) -> None:
    """They stay what they were: only the phrase list makes a sentence an opt-out."""
    assert parse_keyword(text) is None


def test_no_phrases_no_opt_out() -> None:
    assert not asks_not_to_be_texted("please stop texting me", [])


def test_both_languages_ship_phrases() -> None:
    assert lexicon("en").opt_out and lexicon("es").opt_out
