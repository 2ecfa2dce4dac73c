"""What reading a text leaves in the process: stems of dictionary words, never a texter's own
words (a name, a street, a made-up word), and not the last text read, so nothing of a text
outlives its reading, or its erasure, in a worker's or the web's memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hotline.catalogue import lexicons
from hotline.domain import matching, risk
from hotline.services.lexicon_trial import trial
from tests.texting import text_in


@pytest.fixture
def empty_cache() -> Iterator[None]:
    matching.load_word_lists()
    kept = dict(matching._stem_cache)
    matching._stem_cache.clear()
    yield
    matching._stem_cache.clear()
    matching._stem_cache.update(kept)


def kept_words() -> set[str]:
    return {word for _, word in matching._stem_cache}


@pytest.mark.usefixtures("empty_cache")
def test_only_dictionary_words_are_kept_after_reading() -> None:
    found = matching.words("Zorblaxia took my passport on Quenwick Street", "en")
    assert [w.plain for w in found][:3] == ["zorblaxia", "took", "my"]
    assert {"took", "passport", "street"} <= kept_words()
    assert not kept_words() & {"zorblaxia", "quenwick"}
    # Stemmed again on the next reading, to the same stem.
    again = matching.words("quenwick", "en")
    assert again[0].stem == found[5].stem


@pytest.mark.usefixtures("empty_cache")
def test_through_the_worker_a_texters_own_words_are_not_kept(app: Flask) -> None:
    text_in(app, "+15550001234", "my boss Vrendalo keeps me at Pellomar farm, help")
    assert {"boss", "farm", "help"} <= kept_words()
    assert not kept_words() & {"vrendalo", "pellomar"}
    assert risk._last_scan is None  # read more than once while handled, then dropped


def test_a_text_tried_against_the_lexicons_is_not_kept() -> None:
    shipped = list(lexicons())
    tried = trial("he took my passport, Vrendalo did", shipped)
    assert tried["priority"] != "normal" or tried["score"] > 0
    assert risk._last_scan is None
