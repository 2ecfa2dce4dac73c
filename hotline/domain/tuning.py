"""The settings a supervisor may change at run time, and the checks a new value must pass.

Each setting is a :class:`Knob` in :data:`KNOBS`: timers, capacity, discreet mode, the opening
hours and what waiting texters are told, and the English and Spanish risk lexicons. A value is
:func:`check`-ed strictly before anything stores it, and checked again whenever a stored one is
read (a row written by another version of the code may no longer pass). Pure: storing,
auditing and putting values in force is :mod:`hotline.services.tuning`'s.

Messages name the setting and say what is wrong; a phrase is quoted cut short, as the
supervisor who typed it sees it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from hotline.domain import hours, reach
from hotline.domain.risk import Lexicon, normalise

MAX_EMERGENCY_PHRASES = 500
MAX_WEIGHTED_PHRASES = 1500
MAX_PHRASE_CHARS = 60
MAX_WEIGHT = 100
MAX_THRESHOLD = 1000

# The lexicons supervisors tune: those of the languages the hotline texts in
# (hotline.catalogue.LANGUAGES); the others are read for risk but not tuned.
TUNED_LEXICONS = (("en", "English"), ("es", "Spanish"))


class Kind(StrEnum):
    MINUTES = "minutes"
    COUNT = "count"
    FLAG = "flag"
    LEXICON = "lexicon"
    TEXT = "text"  # a line of text, checked by the knob's own ``parse``


@dataclass(frozen=True)
class Knob:
    """One setting a supervisor may change. Scalar keys are attributes of
    :class:`hotline.settings.Settings`, which gives their defaults."""

    key: str
    label: str
    help: str
    kind: Kind
    low: float = 0
    high: float = 0
    language: str = ""  # lexicons only
    parse: Callable[[str], str] | None = None  # text only: the stored form, or ValueError
    example: str = ""  # text only: shown as the field's placeholder


def _schedule(value: str) -> str:
    try:
        return hours.canonical(hours.parse(value))
    except hours.ScheduleError as problem:
        raise ValueError(f": {problem}") from None


def _time_zone(value: str) -> str:
    name = value.strip()
    try:
        hours.zone(name)
    except hours.ScheduleError as problem:
        raise ValueError(str(problem)) from None
    return name


KNOBS: dict[str, Knob] = {
    knob.key: knob
    for knob in (
        Knob(
            "capacity",
            "Conversations one advocate may hold at once",
            "Taking a texter, a transfer and a reassignment are refused beyond this.",
            Kind.COUNT,
            1,
            50,
        ),
        Knob(
            "discreet_mode",
            "Discreet mode",
            "Texts the hotline sends first never name the organisation or mention trafficking "
            "(on by default). Answers to the texter's HELP, STOP and START still name it.",
            Kind.FLAG,
        ),
        Knob(
            "triage_timeout_minutes",
            "Triage: end the conversation after this much silence",
            "While the texter is answering the first questions.",
            Kind.MINUTES,
            1,
            1440,
        ),
        Knob(
            "wait_update_minutes",
            "Queue: send a wait update every",
            "A waiting texter is told their place in line this often.",
            Kind.MINUTES,
            1,
            240,
        ),
        Knob(
            "check_in_after_minutes",
            "Queue: ask \u201cstill there?\u201d after this much silence",
            "Counted from the texter's last text while they wait.",
            Kind.MINUTES,
            1,
            1440,
        ),
        Knob(
            "check_in_timeout_minutes",
            "Queue: release the texter when \u201cstill there?\u201d gets no answer within",
            "They leave the queue and may text again at any time.",
            Kind.MINUTES,
            1,
            1440,
        ),
        Knob(
            "survey_timeout_minutes",
            "Survey: end the conversation when unanswered after",
            "The satisfaction question sent after an advocate closes.",
            Kind.MINUTES,
            1,
            1440,
        ),
        Knob(
            "reopen_minutes",
            "Closing: the advocate may reopen a conversation they closed for",
            "The satisfaction survey waits until this has passed.",
            Kind.MINUTES,
            1,
            60,
        ),
        Knob(
            "transfer_accept_minutes",
            "Transfers: an offer to a colleague comes back when not accepted within",
            "Until they accept, the advocate who offered it still holds the texter.",
            Kind.MINUTES,
            1,
            30,
        ),
        Knob(
            "operating_hours",
            "Opening hours (empty: always open)",
            "When advocates answer, in the hotline's time zone: days, then times, entries "
            "separated by ; (e.g. mon-fri 09:00-17:00; sat 10:00-14:00). Outside these hours a "
            "texter is told when you open, what to do in an emergency, and keeps their place.",
            Kind.TEXT,
            parse=_schedule,
            example="mon-fri 09:00-17:00; sat 10:00-14:00",
        ),
        Knob(
            "timezone",
            "Time zone of the opening hours",
            "A time zone name, e.g. America/New_York or America/Chicago.",
            Kind.TEXT,
            parse=_time_zone,
            example="America/New_York",
        ),
        Knob(
            "voice_number",
            "Voice line shown to texters (empty: none)",
            "Told to texters who wait while nobody can answer, and in the answer to HELP.",
            Kind.TEXT,
            parse=reach.check_voice_number,
            example="1-888-373-7888",
        ),
        Knob(
            "web_address",
            "Web address shown to texters (empty: none)",
            "Told to texters who wait while nobody can answer (not in discreet mode), and in "
            "the answer to HELP.",
            Kind.TEXT,
            parse=reach.check_web_address,
            example="example.org/help",
        ),
        Knob(
            "unprompted_per_hour",
            "Queue: at most this many texts a waiting texter did not ask for, per hour",
            "Wait updates, \u201cstill there?\u201d and the release wait when the hour\u2019s "
            "texts are spent. A hidden phone should not keep buzzing.",
            Kind.COUNT,
            0,
            6,
        ),
        Knob(
            "ack_minutes",
            "Queue: acknowledge a waiting texter\u2019s texts at most once every",
            "\u201cWe got your message. You are number 2 in line.\u201d",
            Kind.MINUTES,
            1,
            120,
        ),
        Knob(
            "keep_place_minutes",
            "Queue: a released texter who texts again within this keeps their place",
            "They are put back in line where they were instead of starting over.",
            Kind.MINUTES,
            1,
            1440,
        ),
        Knob(
            "urgent_wait_alert_minutes",
            "Alert: an urgent texter has waited in the queue for",
            "Supervisors get one alert per wait, on the board and its alert list.",
            Kind.MINUTES,
            1,
            120,
        ),
        Knob(
            "unanswered_alert_minutes",
            "Alert: a texter\u2019s text has gone unanswered by their advocate for",
            "Counted from the first text the advocate has not answered (or from when they took "
            "the texter). One alert until the advocate replies.",
            Kind.MINUTES,
            1,
            120,
        ),
        *(
            Knob(
                f"lexicon_{language}",
                f"Risk lexicon ({name})",
                "Emergency phrases make a texter urgent at once; weighted phrases add up to a "
                "score that sets the priority.",
                Kind.LEXICON,
                language=language,
            )
            for language, name in TUNED_LEXICONS
        ),
    )
}


class TuningError(ValueError):
    """A value a setting cannot take; the message says which and why."""


class UnknownSetting(LookupError):
    """No setting has this key; the message names the key as asked, cut short."""


# -- checking values -------------------------------------------------------------------------


def knob(key: str) -> Knob:
    """The setting named ``key``, or :class:`UnknownSetting`."""
    found = KNOBS.get(key)
    if found is None:
        raise UnknownSetting(f"no setting named {key[:64]}")
    return found


def check(key: str, value: Any) -> Any:
    """``value`` as stored for ``key``, or :class:`TuningError` (:class:`UnknownSetting` for a
    key that is no setting)."""
    spec = knob(key)
    if spec.kind is Kind.FLAG:
        if not isinstance(value, bool):
            raise TuningError(f"{key} must be true or false")
        return value
    if spec.kind is Kind.LEXICON:
        return check_lexicon(value, key)
    if spec.kind is Kind.TEXT:
        return _check_text(spec, value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TuningError(f"{key} must be a number")
    if spec.kind is Kind.COUNT:
        if value != int(value) or not spec.low <= value <= spec.high:
            raise TuningError(f"{key} must be a whole number from {spec.low:g} to {spec.high:g}")
        return int(value)
    if not spec.low <= value <= spec.high:
        raise TuningError(f"{key} must be from {spec.low:g} to {spec.high:g} minutes")
    return int(value) if value == int(value) else float(value)


def _check_text(spec: Knob, value: Any) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TuningError(f"{spec.key} must be text")
    if len(value) > 500 or any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in value.replace("\n", "")
    ):
        raise TuningError(f"{spec.key} must be a short line of plain text")
    assert spec.parse is not None
    try:
        return spec.parse(value)
    except ValueError as problem:
        reason = str(problem)
        raise TuningError(
            f"{spec.key}{reason}" if reason.startswith(":") else f"{spec.key} {reason}"
        ) from None


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        return None
    return int(value)


def _phrase(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise TuningError(f"{where}: every phrase must be text")
    phrase = " ".join(raw.split())
    shown = phrase[:40] + ("\u2026" if len(phrase) > 40 else "")
    if not phrase:
        raise TuningError(f"{where}: a phrase is empty")
    if len(phrase) > MAX_PHRASE_CHARS:
        raise TuningError(f"{where}: \u201c{shown}\u201d is over {MAX_PHRASE_CHARS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in phrase):
        raise TuningError(f"{where}: a phrase holds a control or unassigned character")
    if not any(c.isalnum() or unicodedata.category(c) == "So" for c in phrase):
        raise TuningError(f"{where}: \u201c{shown}\u201d has no letter, digit or emoji")
    return phrase


def check_lexicon(value: Any, key: str = "lexicon") -> dict[str, Any]:
    """A lexicon's shape: ``urgent_at``, ``high_at``, ``emergency`` (phrases) and ``weights``
    (phrase to a whole number from 1 to 100), all required, nothing else; phrases unique once
    normalised. Returns it with phrases trimmed; raises :class:`TuningError`."""
    fields = ("urgent_at", "high_at", "emergency", "weights")
    if not isinstance(value, dict):
        raise TuningError(f"{key} must be an object with {', '.join(fields)}")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise TuningError(f"{key}: unknown fields: {', '.join(unknown)}")
    missing = [name for name in fields if name not in value]
    if missing:
        raise TuningError(f"{key}: missing {', '.join(missing)}")
    urgent_at = _whole(value["urgent_at"], 1, MAX_THRESHOLD)
    high_at = _whole(value["high_at"], 1, MAX_THRESHOLD)
    if urgent_at is None or high_at is None:
        raise TuningError(f"{key}: urgent_at and high_at must be whole numbers from 1 to 1000")
    if high_at >= urgent_at:
        raise TuningError(f"{key}: high_at must be below urgent_at")
    emergency = value["emergency"]
    if not isinstance(emergency, list):
        raise TuningError(f"{key}: emergency must be a list of phrases")
    if len(emergency) > MAX_EMERGENCY_PHRASES:
        raise TuningError(f"{key}: at most {MAX_EMERGENCY_PHRASES} emergency phrases")
    weights = value["weights"]
    if not isinstance(weights, dict):
        raise TuningError(f"{key}: weights must map each phrase to its weight")
    if len(weights) > MAX_WEIGHTED_PHRASES:
        raise TuningError(f"{key}: at most {MAX_WEIGHTED_PHRASES} weighted phrases")
    checked_emergency = _unique([_phrase(p, f"{key} emergency") for p in emergency], key)
    checked_weights: dict[str, int] = {}
    for raw, raw_weight in weights.items():
        phrase = _phrase(raw, f"{key} weights")
        weight = _whole(raw_weight, 1, MAX_WEIGHT)
        if weight is None:
            raise TuningError(
                f"{key} weights: \u201c{phrase[:40]}\u201d must weigh a whole number "
                f"from 1 to {MAX_WEIGHT}"
            )
        checked_weights[phrase] = weight
    _unique(list(checked_weights), key)
    return {
        "urgent_at": urgent_at,
        "high_at": high_at,
        "emergency": checked_emergency,
        "weights": checked_weights,
    }


def _unique(phrases: list[str], key: str) -> list[str]:
    seen: set[str] = set()
    for phrase in phrases:
        folded = normalise(phrase)
        if folded in seen:
            raise TuningError(f"{key}: \u201c{phrase[:40]}\u201d is listed twice")
        seen.add(folded)
    return phrases


# -- lexicons as values ----------------------------------------------------------------------


def lexicon_value(found: Lexicon) -> dict[str, Any]:
    """A lexicon in the JSON shape the API and ``setting_overrides`` use."""
    return {
        "urgent_at": found.urgent_at,
        "high_at": found.high_at,
        "emergency": list(found.emergency),
        "weights": dict(found.weights),
    }


def tuned_lexicon(base: Lexicon, value: dict[str, Any]) -> Lexicon:
    """``base`` with the thresholds and phrases of ``value`` (as :func:`check_lexicon` returns
    it): what storing ``value`` for ``base``'s language puts in force. The lists not edited at
    run time (minor, opt-out, distress... phrases) stay ``base``'s."""
    return replace(
        base,
        emergency=tuple(value["emergency"]),
        weights=dict(value["weights"]),
        urgent_at=value["urgent_at"],
        high_at=value["high_at"],
    )
