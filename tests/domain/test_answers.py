"""Reading a texter's reply: what kind of answer it is to the question the state asked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.catalogue import lexicon
from hotline.domain import answers
from hotline.domain.answers import classify, language_choice, location, survey_score
from hotline.domain.triage import QUESTIONS, Event, On, State

LEXICONS = [lexicon("en"), lexicon("es")]
SAFE_WORD = "CLEAR"
# Every state a texter's words are classified in.
TEXT_STATES = [*QUESTIONS, State.QUEUED, State.QUEUE_CHECK_IN, State.WITH_ADVOCATE, State.SURVEY]
# States where a yes or no is read as such (not as a need or a place).
YES_NO_STATES = [State.AWAIT_DANGER, State.AWAIT_SAFETY, State.QUEUED, State.QUEUE_CHECK_IN]


def kind(text: str, state: State = State.AWAIT_DANGER) -> On:
    return classify(text, state, LEXICONS, SAFE_WORD).on


# --- the safe word and emergencies count everywhere -------------------------------------------


@pytest.mark.parametrize("state", TEXT_STATES)
@pytest.mark.parametrize("text", ["CLEAR", "clear", "Clear.", " clear! ", "¡Clear!", "C L E A R"])
def test_the_safe_word_in_any_case_or_punctuation(text: str, state: State) -> None:
    assert kind(text, state) is On.SAFE_WORD


def test_the_safe_word_wins_over_an_emergency_word() -> None:
    assert classify("911", State.AWAIT_DANGER, LEXICONS, "911") == Event(On.SAFE_WORD)
    assert classify("Gun", State.AWAIT_NEEDS, LEXICONS, "GUN") == Event(On.SAFE_WORD)


def test_the_safe_word_wins_over_an_answer() -> None:
    assert classify("yes", State.AWAIT_DANGER, LEXICONS, "YES").on is On.SAFE_WORD
    assert classify("español", State.AWAIT_DANGER, LEXICONS, "ESPANOL").on is On.SAFE_WORD


def test_the_safe_word_only_as_the_whole_text() -> None:
    assert kind("all clear now", State.AWAIT_SAFETY) is On.FREE_TEXT
    assert kind("clear", State.AWAIT_SAFETY) is On.SAFE_WORD


def test_an_empty_safe_word_matches_nothing() -> None:
    assert classify("", State.AWAIT_DANGER, LEXICONS, "").on is On.BLANK
    assert classify("yes", State.AWAIT_DANGER, LEXICONS, "").on is On.YES


@pytest.mark.parametrize("state", TEXT_STATES)
@pytest.mark.parametrize(
    "text",
    [
        "he's here",
        "he’s here",  # a curly apostrophe, as phones type it
        "HE'S HERE",
        "she is here now",
        "he has a gun",
        "I want to die",
        "call 911",
        "yes he is coming back",
        "está aquí",
        "esta aqui",
        "Me va a matar",
        "tiene una pistola",
        "ya viene",
    ],
)
def test_emergency_words_anywhere_in_any_state(text: str, state: State) -> None:
    assert kind(text, state) is On.EMERGENCY


def test_an_emergency_wins_over_an_answer() -> None:
    assert kind("yes he has a gun", State.AWAIT_DANGER) is On.EMERGENCY
    assert kind("no, but he's here", State.AWAIT_SAFETY) is On.EMERGENCY
    assert kind("TX, he has a knife", State.AWAIT_LOCATION) is On.EMERGENCY
    assert kind("5 911", State.SURVEY) is On.EMERGENCY


@pytest.mark.parametrize("text", ["skill", "gunther", "shotgun", "killer", "9110", "aquiles"])
def test_emergency_words_match_whole_words_only(text: str) -> None:
    assert kind(text, State.AWAIT_SAFETY) is On.FREE_TEXT


# --- yes and no ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", YES_NO_STATES)
@pytest.mark.parametrize(
    "text", ["YES", "yes", "Yes.", "y", "Yeah", "yep", "ok", "SI", "si", "sí", "Sí!", "S", "claro"]
)
def test_yes_in_both_languages(text: str, state: State) -> None:
    assert kind(text, state) is On.YES


@pytest.mark.parametrize("state", YES_NO_STATES)
@pytest.mark.parametrize("text", ["NO", "no", "No.", "n", "nope", "nah", "¡No!"])
def test_no_in_both_languages(text: str, state: State) -> None:
    assert kind(text, state) is On.NO


@pytest.mark.parametrize("text", ["not really", "maybe", "sin", "yess", "ok so what now"])
def test_anything_else_is_free_text(text: str) -> None:
    assert kind(text, State.AWAIT_DANGER) is On.FREE_TEXT


@pytest.mark.parametrize("state", YES_NO_STATES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes please help", On.YES),
        ("Yes, he is drunk", On.YES),
        ("si estoy en peligro", On.YES),
        ("no im ok", On.NO),
        ("No. Not right now", On.NO),
        ("no, please help my friend", On.NO),
        ("no se", None),
        ("No sé", None),
        ("no idea", None),
        ("no estoy segura", None),
    ],
)
def test_a_reply_that_opens_with_yes_or_no(text: str, expected: On | None, state: State) -> None:
    assert answers.yes_or_no(text) is expected
    if expected is not None:
        assert kind(text, state) is expected
    else:
        assert kind(text, state) in (On.FREE_TEXT, On.DISTRESS)


@pytest.mark.parametrize("state", [*YES_NO_STATES, State.AWAIT_LOCATION])
@pytest.mark.parametrize(
    "text",
    [
        "help me please", "please", "pls", "I'm scared", "im so scared", "help!!", "help me",
        "I don't know what to do", "ayudame", "ayúdenme por favor", "tengo miedo",
        "porfa", "😭", "😢 please",
    ],
)  # fmt: skip
def test_a_call_for_help_is_never_not_understood(text: str, state: State) -> None:
    assert kind(text, state) is On.DISTRESS


@pytest.mark.parametrize("text", ["socorro", "auxilio", "🆘", "SOS"])
def test_a_bare_cry_for_help_moves_them_on_without_the_911_text(text: str) -> None:
    # Alone, it says they want help, not what is happening: a person asks (priority high).
    assert kind(text, State.AWAIT_SAFETY) is On.DISTRESS
    assert kind(f"{text} he is here", State.AWAIT_SAFETY) is On.EMERGENCY


# --- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ESPAÑOL", "es"),
        ("español", "es"),
        ("Espanol", "es"),
        ("Spanish", "es"),
        ("spanish.", "es"),
        ("English", "en"),
        ("ENGLISH", "en"),
        ("inglés", "en"),
    ],
)
@pytest.mark.parametrize("state", TEXT_STATES)
def test_a_language_request_in_any_state(text: str, language: str, state: State) -> None:
    assert classify(text, state, LEXICONS, SAFE_WORD) == Event(On.LANGUAGE, language=language)
    assert language_choice(text) == language


@pytest.mark.parametrize("text", ["I speak spanish", "english please", "francais", ""])
def test_a_language_only_as_the_whole_text(text: str) -> None:
    assert language_choice(text) is None


# --- the needs question takes any words -----------------------------------------------------


@pytest.mark.parametrize("text", ["yes", "no", "TX", "skip", "5", "my boss took my passport", "?!"])
def test_any_non_blank_text_answers_the_needs_question(text: str) -> None:
    # "?!" folds to nothing: it is blank, not an answer.
    expected = On.BLANK if text == "?!" else On.FREE_TEXT
    assert kind(text, State.AWAIT_NEEDS) is expected


# --- location ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("TX", "TX"),
        ("tx", "TX"),
        ("texas", "TX"),
        ("Texas.", "TX"),
        ("New York", "NY"),
        ("new york", "NY"),
        ("District of Columbia", "DC"),
        ("10001", "NY"),  # a ZIP is kept as its state, not as the ZIP
        (" 10001 ", "NY"),
        ("10001-1234", "NY"),
        ("Puerto Rico", "PR"),
        ("Chicago", "IL"),
        ("houston tx 77063", "TX"),
        ("estoy en Nueva York", "NY"),
        ("Pensylvania", "PA"),
        ("Portland, Maine", "ME"),
        ("IN", "IN"),
    ],
)
def test_a_state_zip_or_city_is_a_location_kept_as_a_state(text: str, place: str) -> None:
    assert location(text) == place
    assert kind(text, State.AWAIT_LOCATION) is On.LOCATION


@pytest.mark.parametrize("text", ["skip", "SKIP", "Skip.", "saltar", "SALTAR", "pass", "idk"])
def test_skip_in_both_languages(text: str) -> None:
    assert kind(text, State.AWAIT_LOCATION) is On.SKIP


@pytest.mark.parametrize(
    "text",
    [
        "xyz", "123", "1234", "123456", "10001-12", "00000", "Ontario", "near the bus station",
        "I'm in danger", "in", "me", "hi", "ok", "la", "Springfield, Ontario", "Texas 10001",
    ],
)  # fmt: skip
def test_anything_else_does_not_answer_the_location_question(text: str) -> None:
    assert location(text) is None
    assert kind(text, State.AWAIT_LOCATION) is On.FREE_TEXT


def test_yes_and_no_do_not_answer_the_location_question() -> None:
    assert kind("yes", State.AWAIT_LOCATION) is On.FREE_TEXT
    assert kind("no", State.AWAIT_LOCATION) is On.FREE_TEXT


# --- the survey -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"), [("5", 5), ("1", 1), ("3.", 3), (" 4 ", 4), ("4/5", 4), ("2!", 2)]
)
def test_a_score_from_1_to_5(text: str, score: int) -> None:
    assert kind(text, State.SURVEY) is On.SCORE
    assert survey_score(text) == score


@pytest.mark.parametrize(
    ("text", "score"),
    [("5 thank you", 5), ("5 stars", 5), ("it was a 4!", 4), ("Thanks!! 5", 5), ("3 gracias", 3)],
)
def test_a_number_anywhere_in_the_reply_is_the_score(text: str, score: int) -> None:
    assert kind(text, State.SURVEY) is On.SCORE
    assert survey_score(text) == score


@pytest.mark.parametrize(
    "text", ["thanks!", "Thank you so much", "gracias por todo", "ok bye", "ty", "Muchas gracias"]
)
def test_thanks_without_a_score_is_a_goodbye(text: str) -> None:
    assert kind(text, State.SURVEY) is On.THANKS


@pytest.mark.parametrize(
    "text", ["thanks, but I need help again", "can I talk to someone?", "necesito ayuda otra vez"]
)
def test_thanks_with_a_new_request_is_not_a_goodbye(text: str) -> None:
    # Both start a new conversation (see the survey's rows).
    assert kind(text, State.SURVEY) in (On.FREE_TEXT, On.DISTRESS)


def test_thanks_is_a_goodbye_only_in_the_survey() -> None:
    assert kind("thanks", State.AWAIT_NEEDS) is On.FREE_TEXT
    assert kind("thanks", State.AWAIT_DANGER) is On.FREE_TEXT


@pytest.mark.parametrize("text", ["6", "0", "great", "10", "4/10", "-1", "10/10", "90210"])
def test_anything_else_is_not_a_score(text: str) -> None:
    assert kind(text, State.SURVEY) is not On.SCORE
    assert survey_score(text) is None


def test_a_number_is_a_score_only_in_the_survey() -> None:
    assert kind("5", State.AWAIT_DANGER) is On.FREE_TEXT


# --- blank ------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", TEXT_STATES)
@pytest.mark.parametrize("text", ["", " ", "\n\t", "...", "🙂"])
def test_nothing_but_spaces_or_a_picture_is_blank(text: str, state: State) -> None:
    assert kind(text, state) is On.BLANK


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), state=st.sampled_from(TEXT_STATES))
def test_every_text_is_classified_as_a_text_event(text: str, state: State) -> None:
    event = classify(text, state, LEXICONS, SAFE_WORD)
    assert event.on in {
        On.THANKS,
        On.YES,
        On.NO,
        On.LANGUAGE,
        On.EMERGENCY,
        On.SAFE_WORD,
        On.SKIP,
        On.LOCATION,
        On.SCORE,
        On.FREE_TEXT,
        On.DISTRESS,
        On.BLANK,
    }
    assert (event.language is not None) == (event.on is On.LANGUAGE)
