"""The settings supervisors change at run time: every value is checked strictly, and kept in
its plain form."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hotline.domain import tuning

# -- timers, capacity, discreet mode -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("capacity", 0, "capacity must be a whole number from 1 to 50"),
        ("capacity", 51, "capacity must be a whole number from 1 to 50"),
        ("capacity", 2.5, "capacity must be a whole number from 1 to 50"),
        ("capacity", "3", "capacity must be a number"),
        ("capacity", True, "capacity must be a number"),
        ("capacity", None, "capacity must be a number"),
        ("triage_timeout_minutes", 0, "triage_timeout_minutes must be from 1 to 1440 minutes"),
        ("wait_update_minutes", 241, "wait_update_minutes must be from 1 to 240 minutes"),
        ("survey_timeout_minutes", -5, "survey_timeout_minutes must be from 1 to 1440 minutes"),
        ("check_in_after_minutes", math.inf, "check_in_after_minutes must be a number"),
        ("check_in_timeout_minutes", math.nan, "check_in_timeout_minutes must be a number"),
        ("discreet_mode", "yes", "discreet_mode must be true or false"),
        ("discreet_mode", 1, "discreet_mode must be true or false"),
    ],
)
def test_scalar_values_are_checked_strictly(key: str, value: Any, message: str) -> None:
    with pytest.raises(tuning.TuningError) as refused:
        tuning.check(key, value)
    assert str(refused.value) == message


def test_good_scalar_values_are_kept_as_numbers_and_flags() -> None:
    assert tuning.check("capacity", 5) == 5
    assert tuning.check("capacity", 5.0) == 5 and isinstance(tuning.check("capacity", 5.0), int)
    assert tuning.check("wait_update_minutes", 2.5) == 2.5
    assert tuning.check("discreet_mode", True) is True


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(tuning.UnknownSetting):
        tuning.check("secret_key", "x")
    with pytest.raises(tuning.UnknownSetting):
        tuning.check("database_url", "sqlite://")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "lexicon_en must be an object with urgent_at, high_at, emergency, weights"),
        ({"urgent_at": 60, "high_at": 30, "emergency": []}, "lexicon_en: missing weights"),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {}, "extra": 1},
            "lexicon_en: unknown fields: extra",
        ),
        (
            {"urgent_at": 30, "high_at": 30, "emergency": [], "weights": {}},
            "lexicon_en: high_at must be below urgent_at",
        ),
        (
            {"urgent_at": 0, "high_at": 30, "emergency": [], "weights": {}},
            "lexicon_en: urgent_at and high_at must be whole numbers from 1 to 1000",
        ),
        (
            {"urgent_at": 60, "high_at": 30.5, "emergency": [], "weights": {}},
            "lexicon_en: urgent_at and high_at must be whole numbers from 1 to 1000",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": "gun", "weights": {}},
            "lexicon_en: emergency must be a list of phrases",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["  "], "weights": {}},
            "lexicon_en emergency: a phrase is empty",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [7], "weights": {}},
            "lexicon_en emergency: every phrase must be text",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["?!"], "weights": {}},
            "lexicon_en emergency: \u201c?!\u201d has no letter, digit or emoji",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["gun\x00"], "weights": {}},
            "lexicon_en emergency: a phrase holds a control or unassigned character",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["x" * 61], "weights": {}},
            "lexicon_en emergency: \u201c" + "x" * 40 + "\u2026\u201d is over 60 characters",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["Gun", "gun"], "weights": {}},
            "lexicon_en: \u201cgun\u201d is listed twice",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {"locked": 0}},
            "lexicon_en weights: \u201clocked\u201d must weigh a whole number from 1 to 100",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {"locked": 101}},
            "lexicon_en weights: \u201clocked\u201d must weigh a whole number from 1 to 100",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {"locked": "30"}},
            "lexicon_en weights: \u201clocked\u201d must weigh a whole number from 1 to 100",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {"locked": True}},
            "lexicon_en weights: \u201clocked\u201d must weigh a whole number from 1 to 100",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [], "weights": {"Locked in": 5,
                                                                          "locked  in": 6}},
            "lexicon_en: \u201clocked in\u201d is listed twice",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": ["a"] * 501, "weights": {}},
            "lexicon_en: at most 500 emergency phrases",
        ),
        (
            {"urgent_at": 60, "high_at": 30, "emergency": [],
             "weights": {f"p{i}": 1 for i in range(1501)}},
            "lexicon_en: at most 1500 weighted phrases",
        ),
    ],
)  # fmt: skip
def test_a_lexicon_must_have_the_right_shape(value: Any, message: str) -> None:
    with pytest.raises(tuning.TuningError) as refused:
        tuning.check("lexicon_en", value)
    assert str(refused.value) == message


def test_a_good_lexicon_is_kept_with_phrases_trimmed() -> None:
    value = {"urgent_at": 50, "high_at": 20, "emergency": ["  he has a   gun "],
             "weights": {" locked in ": 40}}  # fmt: skip
    assert tuning.check("lexicon_en", value) == {
        "urgent_at": 50, "high_at": 20, "emergency": ["he has a gun"], "weights": {"locked in": 40},
    }  # fmt: skip


# -- opening hours and what waiting texters are told ----------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "kept"),
    [
        ("operating_hours", "", ""),
        ("operating_hours", None, ""),
        (
            "operating_hours",
            "Mon-Fri 9:00-17:00\nsat 10:00-14:00",
            "mon-fri 09:00-17:00; sat 10:00-14:00",
        ),
        ("operating_hours", "fri,sat 18:00-02:00", "fri-sat 18:00-02:00"),
        ("timezone", " America/Los_Angeles ", "America/Los_Angeles"),
        ("voice_number", "", ""),
        ("voice_number", "+1 (888) 373-7888", "+1 (888) 373-7888"),
        ("web_address", "http://Example.org/get-help", "Example.org/get-help"),
        ("unprompted_per_hour", 0, 0),
        ("ack_minutes", 2.5, 2.5),
        ("keep_place_minutes", 30, 30),
    ],
)
def test_waiting_settings_are_kept_in_their_plain_form(key: str, value: Any, kept: Any) -> None:
    assert tuning.check(key, value) == kept


ZONE_ERROR = "timezone is not a known time zone, e.g. America/New_York"
VOICE_ERROR = (
    "voice_number must be a phone number: digits, spaces, + - ( ) and dots, at most 20 characters"
)
WEB_ERROR = "web_address must be a web address like example.org/help, at most 40 characters"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("operating_hours", "mon 17:00-09:00; tue 08:00-10:00",
         "operating_hours: two openings overlap"),
        ("operating_hours", ["mon 09:00-17:00"], "operating_hours must be text"),
        ("operating_hours", "mon 09:00-17:00\x00",
         "operating_hours must be a short line of plain text"),
        ("timezone", "", ZONE_ERROR),
        ("timezone", "../../etc/passwd", ZONE_ERROR),
        ("voice_number", "12", VOICE_ERROR),
        ("web_address", "example", WEB_ERROR),
        ("unprompted_per_hour", 1.5, "unprompted_per_hour must be a whole number from 0 to 6"),
    ],
)  # fmt: skip
def test_waiting_settings_are_checked_strictly(key: str, value: Any, message: str) -> None:
    with pytest.raises(tuning.TuningError) as refused:
        tuning.check(key, value)
    assert str(refused.value) == message
