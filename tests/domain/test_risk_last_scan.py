"""Asking twice about one text is answered once: the same findings as a fresh reading, and a
different text or other lexicons are read afresh."""

from __future__ import annotations

import pytest

from hotline.catalogue import lexicon, lexicons
from hotline.domain import risk
from hotline.domain.risk import _scan_afresh, dangers, read

SHIPPED = list(lexicons())
TEXTS = [
    "he took my passport and he is outside now, help",
    "hola, tengo miedo",
    "I'm 15 and my boyfriend hits me",
    "just a question about your hours",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_second_question_gets_the_first_answer(text: str) -> None:
    fresh = _scan_afresh(text, SHIPPED)
    first = read(text, SHIPPED)
    assert risk._last_scan is not None and risk._last_scan[0] == text
    again = dangers(text, SHIPPED)
    assert again == list(fresh.emergencies.values())
    assert dict(first.emergencies) == fresh.emergencies
    assert (first.minor, first.someone_young) == (fresh.minor, fresh.someone_young)


def test_another_text_or_other_lexicons_are_read_afresh() -> None:
    danger = "he has a gun and he is here now"
    assert dangers(danger, SHIPPED)
    assert dangers("what are your hours", SHIPPED) == []
    assert dangers(danger, SHIPPED)
    english_again = [lexicon("en")]  # equal content, other objects: not the last scan's
    assert dangers(danger, english_again) == list(
        _scan_afresh(danger, english_again).emergencies.values()
    )
    assert risk._last_scan is not None and risk._last_scan[1][0] is english_again[0]


def test_what_read_returns_does_not_change_the_kept_scan() -> None:
    text = TEXTS[0]
    found = read(text, SHIPPED)
    assert found.emergencies
    kept = dict(risk._last_scan[2].emergencies) if risk._last_scan else {}
    found.emergencies.clear()  # type: ignore[attr-defined]
    assert dangers(text, SHIPPED) == list(kept.values())
