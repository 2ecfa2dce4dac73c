"""Risk scoring: phrase weights summed once per word of the text, the reasons staff read, and the
misses found by trying the shipped lexicons with realistic texts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from hotline.catalogue import lexicon, lexicons
from hotline.domain.risk import (
    Assessment,
    Findings,
    Lexicon,
    Priority,
    Reason,
    assess,
    conclude,
    fingerprint,
    fold,
    higher,
    mentions_minor,
    normalise,
    read,
    says_young_age,
)

LEXICONS = [lexicon("en"), lexicon("es")]
TOY = Lexicon(
    "en",
    emergency=("gun", "he is here"),
    weights={"passport": 25, "owe": 15, "locked": 30, "locked in": 40, "took ... papers": 30},
    ignore=("passport office",),
)


def score(*texts: str) -> Assessment:
    return assess(texts, LEXICONS)


def toy(*texts: str) -> Assessment:
    return assess(texts, [TOY])


# --- how a score is made (a small lexicon, so the arithmetic is visible) -------------------------


def test_weights_are_summed_to_a_priority() -> None:
    assessment = toy("they have my passport and say I owe them")
    assert (assessment.score, assessment.priority) == (40, Priority.HIGH)
    assert assessment.reasons == ("passport (+25)", "owe (+15)")
    assert assessment.found == (Reason("passport", 25, "passport"), Reason("owe", 15, "owe"))


def test_a_phrase_counts_once_however_often_it_is_said() -> None:
    assert toy("owe owe owe", "I owe").score == 15
    assert toy("owe owe owe", "I owe").reasons == ("owe (+15)",)


def test_each_word_earns_points_once_the_heaviest_phrase_taking_it() -> None:
    assert toy("I am locked in").reasons == ("locked in (+40)",)
    assert toy("locked in, locked in").score == 40


def test_nothing_matched_is_normal_with_no_reasons() -> None:
    assert toy("hello, can you help me?") == Assessment(0, Priority.NORMAL, ())
    assert assess([], [TOY]) == Assessment(0, Priority.NORMAL, ())


def test_exactly_at_the_thresholds() -> None:
    assert toy("locked").priority is Priority.HIGH  # 30
    assert toy("locked", "passport", "I owe").score == 70
    assert toy("locked", "passport", "I owe").priority is Priority.URGENT


def test_an_emergency_is_urgent_whatever_the_score() -> None:
    assessment = toy("he's here!")
    assert (assessment.score, assessment.priority) == (0, Priority.URGENT)
    assert assessment.reasons == ("emergency: he is here",)
    assert assessment.found == (Reason("he is here", None, "hes here"),)
    assert assessment.emergency


def test_emergencies_are_listed_first() -> None:
    assert toy("he has a gun and took my passport").reasons == ("emergency: gun", "passport (+25)")


def test_a_gap_phrase_and_its_words() -> None:
    assessment = toy("they took all of my papers")
    assert assessment.found == (Reason("took ... papers", 30, "took all of my papers"),)
    assert toy("they took. my papers").score == 0  # not across sentences
    assert toy("took one two three four five papers").score == 0  # more than four words between


def test_a_figure_of_speech_earns_nothing() -> None:
    assert toy("where is the passport office").score == 0
    assert toy("where is the passport office? he took my passport").score == 25


def test_a_minor_is_urgent_whatever_the_score() -> None:
    assessment = toy("i'm 15")
    assert assessment.minor
    assert assessment.priority is Priority.URGENT


def test_a_custom_lexicon_and_thresholds() -> None:
    custom = Lexicon("en", emergency=(), weights={"boss": 5}, urgent_at=10, high_at=5)
    assert assess(["bosses"], [custom]) == Assessment(
        5, Priority.HIGH, ("boss (+5)",), (Reason("boss", 5, "bosses"),)
    )
    assert assess(["boss"], [Lexicon("en", (), {})]) == Assessment(0, Priority.NORMAL, ())
    assert Lexicon("en", (), {}).emergency_found("gun") == []


def test_normalise() -> None:
    assert normalise("  Él  ESTÁ\taquí’ ") == "el esta aqui'"
    assert normalise("") == ""


# --- the shipped lexicons: the misses texters found, and what must not alarm ---------------------


def test_the_shipped_thresholds() -> None:
    for shipped in LEXICONS:
        assert (shipped.urgent_at, shipped.high_at) == (60, 30)


@pytest.mark.parametrize(
    "text",
    [
        "my boyfriend hits me",
        "he is hitting me",
        "he hit me last night",
        "my husband beat me up again",
        "they said they will hurt my family",
        "my pimp forced me",
        "I'm 16 and a man I met online wants me to meet him and do things for money",
        "they locked me in the basement",
        "i cant leave the house, he took my passport",
        "mi esposo me golpeó anoche",
        "me golpea todos los dias",
        "me quitaron el pasaporte y no me pagan",
        "no me dejan salir de la casa",
    ],
)
def test_violence_force_and_captivity_are_urgent(text: str) -> None:
    assert score(text).priority is Priority.URGENT, score(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "he watches my phone",
        "they keep my pay",
        "help me",
        "my boss has my papers and says i owe him for the trip",
        "he checks my phone every night",
        "mi jefe tiene mis papeles",
        "me vigila todo el tiempo",
    ],
)
def test_control_and_calls_for_help_are_at_least_high(text: str) -> None:
    assert score(text).priority in (Priority.HIGH, Priority.URGENT), score(text).reasons


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("help", "only a call for help (+30)"),
        ("HELP!!", "only a call for help (+30)"),
        ("ayuda", "only a call for help (+30)"),  # "ayuda" alone weighs 10: the call counts
        ("🆘", "🆘 (+30)"),
    ],
)
def test_a_bare_call_for_help_is_high_not_an_emergency(text: str, reason: str) -> None:
    assessment = score(text)
    assert assessment.priority is Priority.HIGH and not assessment.emergency
    assert assessment.reasons == (reason,)


def test_a_call_for_help_adds_nothing_once_something_is_said() -> None:
    """The keyword HELP, then what is happening: the score is what was said (55, high), not
    30 more for the keyword, which would make every texter who starts with HELP urgent."""
    assessment = score("HELP", "My boss took my passport and I owe him money")
    assert assessment.priority is Priority.HIGH
    assert assessment.reasons == ("took ... passport (+40)", "owe (+15)")


def test_asking_for_help_with_something_is_ordinary() -> None:
    assert score("I need help").priority is Priority.NORMAL


@pytest.mark.parametrize(
    "text",
    [
        "I am locked in and can't leave, they took my passport",
        "I am locked in, no puedo salir",
    ],
)
def test_held_without_a_threat_is_urgent_not_an_emergency(text: str) -> None:
    assessment = score(text)
    assert assessment.priority is Priority.URGENT and not assessment.emergency, assessment.reasons


def test_held_with_a_threat_is_an_emergency() -> None:
    assert score("im locked in the back room, they said if i yell they will hurt me").emergency


@pytest.mark.parametrize(
    "text",
    [
        "🆘 hes here",
        "hes outside my door",
        "he has a knife 🔪",
        "tengo miedo, el esta afuera",
        "he's choking me",
        "i want to die",
        "ESTÁ AQUÍ",
        "me va a matar",
    ],
)
def test_danger_now_is_an_emergency(text: str) -> None:
    assert score(text).emergency, score(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "is this free?",
        "what are your hours",
        "do you help men too",
        "hola",
        "this traffic is killing me",
        "I shot you an email yesterday",
        "thank you so much",
        "wrong number sorry",
        "i'm doing a school project on human trafficking",
        "skill",
        "shotgun",
        "killers",
        "debts",
        "¿es gratis?",
        "gracias",
    ],
)
def test_ordinary_texts_do_not_alarm(text: str) -> None:
    assessment = score(text)
    assert not assessment.emergency, assessment.reasons
    assert assessment.priority is Priority.NORMAL, assessment.reasons


def test_mixed_languages_are_scored_with_every_lexicon() -> None:
    reasons = score("I can't leave, no me pagan").reasons
    assert any("leave" in r for r in reasons)
    assert any("no me paga" in r for r in reasons)


# --- minors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm 16",
        "im only 15",
        "Im sixteen and scared",
        "tengo 16 años",
        "tengo quince",
        "tngo 15",
        "15 f, a man keeps messaging me",
        "my pimp forced me, I'm under 18",
        "soy menor",
        "soy menor de edad",
        "I'm in 10th grade and he keeps asking for pics",
        "estoy en la secundaria y un señor me pide fotos",
        "I'm in high school and my bf sells me",
        "i live in a group home and a man pays me for sex",
    ],
)
def test_a_texter_who_says_they_are_a_minor(text: str) -> None:
    assert mentions_minor(text, LEXICONS)
    assert score(text).minor
    assert score(text).priority is Priority.URGENT


@pytest.mark.parametrize(
    "text",
    [
        "my daughter is 14 and a grown man keeps messaging her",
        "she is 15 and her boyfriend sells her",
        "a 15 year old girl is locked in the house next door",
        "he's 13 yrs old and they make him work for no pay",
        "15yo, older guy gives her money for pics",
        "una niña de 15 años y el patron no la deja salir",
        "mi hija de 13 tiene miedo de un hombre",
        "my son (15) is selling himself for those men",
    ],
)
def test_a_child_written_about_with_risk_is_a_minor(text: str) -> None:
    assert score(text).minor, score(text).reasons
    assert score(text).priority is Priority.URGENT


@pytest.mark.parametrize(
    "text",
    [
        "my kid is 15 and needs a summer job, any programs?",
        "my 12 year old asked what trafficking is",
        "mi hijo tiene 15 años y busca trabajo de verano",
        "I'm in 10th grade, do you have pamphlets for my health class?",
    ],
)
def test_a_child_written_about_without_risk_is_not_flagged(text: str) -> None:
    # School words too: "I'm in 10th grade, do you have pamphlets?" is no child at risk.
    assert mentions_minor(text, LEXICONS)
    assert not score(text).minor


@pytest.mark.parametrize(
    "text",
    [
        "I'm 16 weeks pregnant",
        "im 16 min away",
        "I work 16 hours a day",
        "i worked there 16 years",
        "I'm 17th in line?",
        "I am 25",
        "im 18",
        "call me at 16:30",
        "$15 an hour",
        "my apartment is 14B",
    ],
)
def test_numbers_that_are_not_young_ages(text: str) -> None:
    assert not says_young_age(text)
    assert not mentions_minor(text, LEXICONS)


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


# --- one text at a time: read, fold, conclude --------------------------------------------------

SHIPPED = lexicons()
# Conversations as texters write them, text by text.
CONVERSATIONS = [
    ["HELP", "yes", "no", "My boss took my passport", "I owe him 3000", "ok"],
    ["help", "ok", "hello?"],  # only ever a call for help: it keeps counting
    ["they took my papers", "HELP", "ayuda"],  # said first, then the call: it adds nothing
    ["hola", "tengo miedo", "mi jefe no me paga", "y me quito el pasaporte", "HELP"],
    ["my daughter is 14", "a grown man keeps messaging her", "he says he will hurt her"],
    ["my kid is 15", "any summer jobs?", "thanks"],  # a child, and no risk: not a minor
    ["im 16", "hi"],
    ["he is here", "he is outside the door", "right now"],
    ["I am locked in", "they said they will kill anyone who talks"],
    ["", "🆘", "I'm scared", "este tráfico me está matando", "he just pushed me down the stairs"],
    ["他拿走了我的护照", "help me", "I can't leave"],
]


def one_at_a_time(texts: list[str], lexicons: Sequence[Lexicon]) -> list[Assessment]:
    """The assessment after each text, each text read once and folded into those before."""
    findings = Findings()
    assessments = []
    for text in texts:
        findings = fold(findings, read(text, lexicons))
        assessments.append(conclude(findings, lexicons))
    return assessments


def weighed(assessment: Assessment) -> tuple[object, ...]:
    """What a conversation keeps of an assessment: all but the texter's words."""
    return (
        assessment.score,
        assessment.priority,
        assessment.reasons,
        assessment.minor,
        assessment.emergency,
    )


@pytest.mark.parametrize("texts", CONVERSATIONS)
def test_read_one_at_a_time_is_assessing_everything_so_far(texts: list[str]) -> None:
    for n, assessment in enumerate(one_at_a_time(texts, SHIPPED), start=1):
        assert assessment == assess(texts[:n], SHIPPED), texts[:n]


@pytest.mark.parametrize("texts", CONVERSATIONS)
def test_findings_kept_as_a_record_weigh_the_same(texts: list[str]) -> None:
    """Kept between texts as JSON, without the texter's words: the same score, priority,
    reasons and minor flag after every text."""
    kept = Findings()
    for n, text in enumerate(texts, start=1):
        record = json.loads(json.dumps(fold(kept, read(text, SHIPPED)).record()))
        kept = Findings.from_record(record)
        assert weighed(conclude(kept, SHIPPED)) == weighed(assess(texts[:n], SHIPPED))
        assert all(reason.words == "" for reason in conclude(kept, SHIPPED).found)


def test_a_call_for_help_stops_counting_once_something_is_said_in_a_later_text() -> None:
    before, after = one_at_a_time(["HELP", "my boss took my passport"], SHIPPED)
    assert before.reasons == ("only a call for help (+30)",)
    assert after.reasons == ("took ... passport (+40)",)
    # Kept between the texts, the call for help is still there to be dropped.
    kept = Findings.from_record(read("HELP", SHIPPED).record())
    later = conclude(fold(kept, read("my boss took my passport", SHIPPED)), SHIPPED)
    assert later.reasons == ("took ... passport (+40)",)


def test_a_child_written_about_becomes_a_minor_when_risk_comes_in_a_later_text() -> None:
    child, risk = one_at_a_time(["my daughter is 14", "a grown man messages her for pics"], SHIPPED)
    assert not child.minor
    assert risk.minor and risk.priority is Priority.URGENT, risk.reasons


def test_the_first_text_to_say_a_phrase_gives_its_words() -> None:
    findings = fold(read("they took my papers", [TOY]), read("he took all of our papers", [TOY]))
    assert conclude(findings, [TOY]).found == (Reason("took ... papers", 30, "took my papers"),)


@pytest.mark.parametrize(
    "record",
    [
        None,
        [],
        {},
        {"emergencies": [], "weighted": [], "minor": False},
        {"emergencies": [1], "weighted": [], "minor": False, "someone_young": False},
        {"emergencies": [], "weighted": [["owe"]], "minor": False, "someone_young": False},
        {"emergencies": [], "weighted": [["owe", "15"]], "minor": False, "someone_young": False},
        {"emergencies": [], "weighted": [[15, 15]], "minor": False, "someone_young": False},
        {"emergencies": [], "weighted": [], "minor": "no", "someone_young": False},
    ],
)
def test_a_record_of_another_shape_is_refused(record: object) -> None:
    with pytest.raises(ValueError, match="not a record of findings"):
        Findings.from_record(record)


def test_the_fingerprint_changes_with_anything_that_changes_a_reading() -> None:
    assert fingerprint(SHIPPED) == fingerprint(lexicons())  # read again, the same
    assert fingerprint([TOY]) == fingerprint([replace(TOY)])
    changed = [
        replace(TOY, weights={**TOY.weights, "owe": 16}),
        replace(TOY, weights={**TOY.weights, "debt": 15}),
        replace(TOY, emergency=("gun",)),
        replace(TOY, urgent_at=61),
        replace(TOY, high_at=29),
        replace(TOY, ignore=()),
        replace(TOY, now=("right now",)),
        replace(TOY, language="es"),
    ]
    prints = {fingerprint([TOY]), *(fingerprint([lexicon]) for lexicon in changed)}
    assert len(prints) == len(changed) + 1
    assert fingerprint([TOY, lexicon("es")]) != fingerprint([lexicon("es"), TOY])
