"""Risk scoring: per-language phrase weights summed once, and the reasons staff read."""

from __future__ import annotations

import pytest

from hotline.catalogue import lexicon
from hotline.domain.risk import Assessment, Lexicon, Priority, assess, higher, normalise

LEXICONS = [lexicon("en"), lexicon("es")]


def score(*texts: str) -> Assessment:
    return assess(texts, LEXICONS)


# --- the shipped lexicons -------------------------------------------------------------------------


def test_the_shipped_thresholds() -> None:
    for shipped in LEXICONS:
        assert (shipped.urgent_at, shipped.high_at) == (60, 30)


def test_weights_are_summed_to_a_priority() -> None:
    assessment = score("they have my passport and say I owe them")
    assert assessment == Assessment(
        score=40, priority=Priority.HIGH, reasons=("passport (+25)", "owe (+15)")
    )


def test_spanish_weights_reach_urgent() -> None:
    assessment = score("encerrada y no me pagan")
    assert assessment.score == 60
    assert assessment.priority is Priority.URGENT
    assert assessment.reasons == ("encerrada (+40)", "no me pagan (+20)")


def test_a_phrase_counts_once_however_often_it_is_said() -> None:
    assert score("owe owe owe", "I owe").score == 15
    assert score("owe owe owe", "I owe").reasons == ("owe (+15)",)


def test_below_the_high_threshold_is_normal() -> None:
    assessment = score("I am scared")
    assert assessment == Assessment(15, Priority.NORMAL, ("scared (+15)",))


def test_nothing_matched_is_normal_with_no_reasons() -> None:
    assert score("hello, can you help me?") == Assessment(0, Priority.NORMAL, ())
    assert assess([], LEXICONS) == Assessment(0, Priority.NORMAL, ())


def test_exactly_at_the_thresholds() -> None:
    assert score("locked").score == 30
    assert score("locked").priority is Priority.HIGH
    assert score("locked", "my family", "debt").score == 60
    assert score("locked", "my family", "debt").priority is Priority.URGENT


def test_the_longest_phrase_wins_where_two_overlap() -> None:
    # "locked in" (+40), not "locked" (+30) as well.
    assert score("I am locked in").reasons == ("locked in (+40)",)


def test_reasons_are_listed_heaviest_first() -> None:
    assert score("scared, they took my papers, forced").reasons == (
        "forced (+35)",
        "took my papers (+30)",
        "scared (+15)",
    )


# --- emergencies --------------------------------------------------------------------------------


def test_an_emergency_is_urgent_whatever_the_score() -> None:
    assessment = score("he's here")
    assert assessment == Assessment(0, Priority.URGENT, ("emergency: he's here",))


def test_emergencies_are_listed_first() -> None:
    assessment = score("he has a gun and took my passport")
    assert assessment.priority is Priority.URGENT
    assert assessment.reasons == ("emergency: gun", "passport (+25)")
    assert assessment.score == 25


def test_a_curly_apostrophe_is_an_apostrophe() -> None:
    assert score("he’s here").reasons == ("emergency: he's here",)
    assert score("I can’t leave").reasons == ("can't leave (+40)",)


def test_spanish_emergencies() -> None:
    # The longest phrase is taken, not the shorter one inside it as well.
    assert score("Me va a MATAR").reasons == ("emergency: me va a matar",)
    assert score("quieren matarme").reasons == ("emergency: matarme",)


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["skill", "gunther", "shotgun", "killers", "lowe", "debts"])
def test_only_whole_words_match(text: str) -> None:
    assert score(text) == Assessment(0, Priority.NORMAL, ())


def test_case_accents_and_spaces_are_ignored() -> None:
    assert score("PASSPORT").reasons == ("passport (+25)",)
    assert score("no   me\npagan").reasons == ("no me pagan (+20)",)
    assert score("ESTÁ AQUÍ").reasons == ("emergency: esta aqui",)
    assert score("Encerráda").reasons == ("encerrada (+40)",)


def test_mixed_languages_are_scored_with_every_lexicon() -> None:
    assessment = score("I can't leave, no me pagan")
    assert assessment.score == 60
    assert assessment.priority is Priority.URGENT
    assert assessment.reasons == ("can't leave (+40)", "no me pagan (+20)")


def test_every_text_counts() -> None:
    assert score("passport", "owe", "scared").score == 55


def test_normalise() -> None:
    assert normalise("  Él  ESTÁ\taquí’ ") == "el esta aqui'"
    assert normalise("") == ""


def test_a_custom_lexicon_and_thresholds() -> None:
    custom = Lexicon("en", emergency=(), weights={"boss": 5}, urgent_at=10, high_at=5)
    assert assess(["boss"], [custom]) == Assessment(5, Priority.HIGH, ("boss (+5)",))
    assert assess(["boss"], [Lexicon("en", (), {})]) == Assessment(0, Priority.NORMAL, ())
    assert Lexicon("en", (), {}).emergency_in("gun") == []


# --- priorities -------------------------------------------------------------------------------


def test_priority_ranks() -> None:
    assert [p.rank for p in (Priority.URGENT, Priority.HIGH, Priority.NORMAL)] == [0, 1, 2]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Priority.NORMAL, Priority.HIGH, Priority.HIGH),
        (Priority.HIGH, Priority.NORMAL, Priority.HIGH),
        (Priority.URGENT, Priority.HIGH, Priority.URGENT),
        (Priority.NORMAL, Priority.URGENT, Priority.URGENT),
        (Priority.NORMAL, Priority.NORMAL, Priority.NORMAL),
        (Priority.URGENT, Priority.URGENT, Priority.URGENT),
    ],
)
def test_higher(a: Priority, b: Priority, expected: Priority) -> None:
    assert higher(a, b) is expected
