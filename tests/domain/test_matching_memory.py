"""What reading a text leaves in the process: stems of dictionary words and of words of a few
letters, never a texter's own words (a name, a street, a made-up word), and not the last text
read, so nothing of a text outlives its reading, or its erasure, in a worker's or the web's
memory."""

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
    matching.forget_read_words()
    yield
    matching._stem_cache.clear()
    matching._stem_cache.update(kept)


def kept_words() -> set[str]:
    return {word for _, word in matching._stem_cache}


def words_of_the_step() -> set[str]:
    return {word for _, word in matching._stems_of_the_step}


def nothing_of_the_text_left() -> bool:
    return risk._last_scan is None and not matching._stems_of_the_step


@pytest.mark.usefixtures("empty_cache")
def test_only_dictionary_words_and_short_ones_are_kept_after_reading() -> None:
    found = matching.words("Zorblaxia took my passport on Quenwick Street", "en")
    assert [w.plain for w in found][:3] == ["zorblaxia", "took", "my"]
    assert {"took", "my", "passport", "on", "street"} <= kept_words()
    assert not kept_words() & {"zorblaxia", "quenwick"}
    # Until the step that reads the text is done, its other words are stemmed once.
    assert words_of_the_step() == {"zorblaxia", "quenwick"}
    assert matching.words("quenwick", "en")[0].stem == found[5].stem
    matching.forget_read_words()
    assert not words_of_the_step()
    # Stemmed again on the next reading, to the same stem.
    assert matching.words("quenwick", "en")[0].stem == found[5].stem


@pytest.mark.usefixtures("empty_cache")
def test_through_the_worker_a_texters_own_words_are_not_kept(app: Flask) -> None:
    text_in(app, "+15550001234", "my boss Vrendalo keeps me at Pellomar farm, help")
    assert {"boss", "farm", "help", "me"} <= kept_words()
    assert not kept_words() & {"vrendalo", "pellomar"}
    assert nothing_of_the_text_left()  # read more than once while handled, then dropped


@pytest.mark.usefixtures("empty_cache")
def test_a_text_tried_against_the_lexicons_is_not_kept() -> None:
    tried = trial("he took my passport, Vrendalo did", list(lexicons()))
    assert tried["score"] > 0
    assert "vrendalo" not in kept_words()
    assert nothing_of_the_text_left()
