"""Settings supervisors change at run time: timers, discreet mode, capacity, risk lexicons.

The environment (:class:`hotline.settings.Settings`) gives every default. A supervisor's change
is a row of ``setting_overrides`` (key, JSON value, who, when), checked strictly here before it
is written, and an event in the audit trail with the old and the new value. Resetting a setting
deletes its row, so the environment's value is back.

Each process keeps a :class:`Tuner`. Every job and every staff request reads the overrides'
version (the ``_version`` row, by primary key, in the job's own transaction); only when it moved
are the overrides read and the triage policy rebuilt. So the web process and every Celery worker
act on a change from their next job on, without a restart. Anything that writes the table other
than :func:`do_set` and :func:`do_reset` must call :func:`bump_version`.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue import LANGUAGES, lexicon
from hotline.db.models import Event, SettingOverride, StaffUser
from hotline.domain import hours, reach
from hotline.domain.risk import Lexicon, normalise
from hotline.services import events
from hotline.services.answers import IsoTime, JsonObject, JsonValue, iso_time, iso_time_or_none
from hotline.services.errors import InvalidInput, NotFound
from hotline.services.triage import Triage, TriagePolicy
from hotline.settings import Settings
from hotline.vault import Vault

log = logging.getLogger(__name__)

MAX_EMERGENCY_PHRASES = 500
MAX_WEIGHTED_PHRASES = 1500
MAX_PHRASE_CHARS = 60
MAX_WEIGHT = 100
MAX_THRESHOLD = 1000
HISTORY_KINDS = (
    "setting_changed",
    "setting_reset",
    "disposition_added",
    "disposition_changed",
    "tag_added",
    "tag_changed",
)


# Not a setting: a counter every change moves, so a process re-reads the overrides only then.
VERSION_KEY = "_version"
_UNREAD = object()


class Kind(StrEnum):
    MINUTES = "minutes"
    COUNT = "count"
    FLAG = "flag"
    LEXICON = "lexicon"
    TEXT = "text"  # a line of text, checked by the knob's own ``parse``


@dataclass(frozen=True)
class Knob:
    """One setting a supervisor may change. Scalar keys are :class:`Settings` attributes."""

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
        *(
            Knob(
                f"lexicon_{language}",
                f"Risk lexicon ({name})",
                "Emergency phrases make a texter urgent at once; weighted phrases add up to a "
                "score that sets the priority.",
                Kind.LEXICON,
                language=language,
            )
            for language, name in (("en", "English"), ("es", "Spanish"))
            if language in LANGUAGES
        ),
    )
}


class TuningError(InvalidInput):
    """A value a setting cannot take; the message says which and why (answered 400)."""


class UnknownSetting(NotFound):
    """No setting has this key (404); the message names the key as asked, cut short."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no setting named {key[:64]}")


# -- checking values -------------------------------------------------------------------------


def knob(key: str) -> Knob:
    found = KNOBS.get(key)
    if found is None:
        raise UnknownSetting(key)
    return found


def check(key: str, value: Any) -> Any:
    """``value`` as stored for ``key``, or :class:`TuningError`. Nothing is changed here."""
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


# -- effective values ------------------------------------------------------------------------


def lexicon_value(found: Lexicon) -> dict[str, Any]:
    """A lexicon in the JSON shape the API and ``setting_overrides`` use."""
    return {
        "urgent_at": found.urgent_at,
        "high_at": found.high_at,
        "emergency": list(found.emergency),
        "weights": dict(found.weights),
    }


def defaults(settings: Settings) -> dict[str, Any]:
    """Every setting's value from the environment (the shipped lexicons, or HOTLINE_LEXICON_DIR)."""
    values: dict[str, Any] = {}
    for spec in KNOBS.values():
        if spec.kind is Kind.LEXICON:
            values[spec.key] = lexicon_value(lexicon(spec.language, settings.lexicon_dir))
        elif spec.kind is Kind.TEXT:
            values[spec.key] = getattr(settings, spec.key) or ""  # None: always open
        else:
            values[spec.key] = getattr(settings, spec.key)
    return values


def read_overrides(session: Session) -> dict[str, Any]:
    """The stored overrides, raw (the version row left out)."""
    return {
        key: value
        for key, value in session.execute(
            select(SettingOverride.key, SettingOverride.value).where(
                SettingOverride.key != VERSION_KEY
            )
        )
    }


def read_version(session: Session) -> Any:
    """The overrides' version: one row by primary key, the whole cost of a job's check."""
    return session.scalar(_VERSION)


_VERSION = select(SettingOverride.value).where(SettingOverride.key == VERSION_KEY)  # built once


def bump_version(session: Session, now: datetime, actor_id: int | None = None) -> None:
    """Tell every process to re-read the overrides. Every change calls it in its transaction;
    so must anything else that writes ``setting_overrides``. Locks the version row, so two
    changes at once are counted one after the other."""
    row = session.get(SettingOverride, VERSION_KEY, with_for_update=True)
    if row is None:
        session.add(SettingOverride(key=VERSION_KEY, value=1, updated_at=now, updated_by=actor_id))
    else:
        number = row.value if isinstance(row.value, int) else 0
        row.value, row.updated_at, row.updated_by = number + 1, now, actor_id


def usable(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that pass today's checks. A row written by another version of the code, or
    by hand, that does not is left out (its key is logged, never its value)."""
    kept: dict[str, Any] = {}
    for key, value in overrides.items():
        try:
            kept[key] = check(key, value)
        except (TuningError, UnknownSetting):
            log.warning("setting override %r ignored: not a valid value today", key)
    return kept


@dataclass(frozen=True)
class Tuned:
    """The settings in force: the environment's, with the usable overrides on top."""

    settings: Settings
    triage: Triage
    overrides: Mapping[str, Any]


def build(settings: Settings, vault: Vault, overrides: Mapping[str, Any]) -> Tuned:
    kept = usable(overrides)
    scalars = {k: v for k, v in kept.items() if KNOBS[k].kind is not Kind.LEXICON}
    effective = settings.with_overrides(**scalars)
    policy = TriagePolicy.from_settings(effective)
    lexicons = tuple(
        _lexicon(found.language, kept.get(f"lexicon_{found.language}"), found)
        for found in policy.lexicons
    )
    policy = replace(policy, lexicons=lexicons)
    return Tuned(effective, Triage(vault, policy), kept)


def _lexicon(language: str, value: dict[str, Any] | None, default: Lexicon) -> Lexicon:
    if value is None:
        return default
    return Lexicon(
        language=language,
        emergency=tuple(value["emergency"]),
        weights=dict(value["weights"]),
        urgent_at=value["urgent_at"],
        high_at=value["high_at"],
        # Not edited at run time: the shipped lists stay in force.
        minor=default.minor,
        young=default.young,
        opt_out=default.opt_out,
        distress=default.distress,
        ignore=default.ignore,
        now=default.now,
        negation=default.negation,
        held=default.held,
    )


def draft_lexicon(in_force: Lexicon, value: dict[str, Any]) -> Lexicon:
    """``value``, as :func:`check_lexicon` returns it, as the lexicon of ``in_force``'s language:
    what saving it would put in force (the minor and opt-out phrases are kept)."""
    return _lexicon(in_force.language, value, in_force)


class Tuner:
    """One process's view of the settings in force.

    Each refresh reads the overrides' version only; the overrides themselves are read, and the
    triage policy rebuilt, only when the version moved. Safe across threads: a refresh swaps
    one tuple; two threads may both rebuild, harmlessly.
    """

    def __init__(self, settings: Settings, vault: Vault) -> None:
        self._settings = settings
        self._vault = vault
        self._seen: tuple[Any, Tuned] = (_UNREAD, build(settings, vault, {}))

    @property
    def latest(self) -> Tuned:
        """What the last refresh found, without asking the database."""
        return self._seen[1]

    def refresh(self, session: Session) -> Tuned:
        """The settings in force now, read in ``session``: one small SELECT when unchanged."""
        version = read_version(session)
        seen, tuned = self._seen
        if seen is not _UNREAD and version == seen:
            return tuned
        # Read after the version: a change committed in between is read now and read again
        # at the next refresh, never missed.
        tuned = build(self._settings, self._vault, read_overrides(session))
        self._seen = (version, tuned)
        return tuned


# -- changing, resetting, reading for the settings page --------------------------------------


def do_set(
    session: Session, user: StaffUser, key: str, value: Any, now: datetime, settings: Settings
) -> bool:
    """Override ``key`` with ``value`` (checked first). Audited with the old and new value.

    Returns False, and records nothing, when the value is already the one in force by override.
    Raises :class:`TuningError` or :class:`UnknownSetting` before anything is written.
    """
    value = check(key, value)
    row = session.get(SettingOverride, key, with_for_update=True)
    if row is not None and row.value == value:
        return False
    old = in_force(key, row, settings)
    if row is None:
        session.add(SettingOverride(key=key, value=value, updated_at=now, updated_by=user.id))
    else:
        row.value, row.updated_at, row.updated_by = value, now, user.id
    bump_version(session, now, user.id)
    events.record(session, "setting_changed", now, actor_id=user.id, key=key,
                  was_default=row is None, **_change(key, old, value))  # fmt: skip
    return True


def do_reset(
    session: Session, user: StaffUser, key: str, now: datetime, settings: Settings
) -> bool:
    """Back to the environment's value for ``key``; False when it was not overridden."""
    knob(key)
    row = session.get(SettingOverride, key, with_for_update=True)
    if row is None:
        return False
    old = in_force(key, row, settings)
    session.delete(row)
    session.flush()
    bump_version(session, now, user.id)
    default = defaults(settings)[key]
    events.record(session, "setting_reset", now, actor_id=user.id, key=key,
                  **_change(key, old, default))  # fmt: skip
    return True


def in_force(key: str, row: SettingOverride | None, settings: Settings) -> Any:
    """The value of ``key`` in force with ``row`` stored (the default if it is unusable)."""
    if row is not None:
        kept = usable({key: row.value})
        if key in kept:
            return kept[key]
    return defaults(settings)[key]


def _change(key: str, old: Any, new: Any) -> dict[str, Any]:
    """The event's account of a change: old and new value; for a lexicon, what differs."""
    if KNOBS[key].kind is not Kind.LEXICON:
        return {"old": old, "new": new}
    before = old
    old_weights, new_weights = before["weights"], new["weights"]
    diff: dict[str, Any] = {
        "emergency_added": [p for p in new["emergency"] if p not in before["emergency"]],
        "emergency_removed": [p for p in before["emergency"] if p not in new["emergency"]],
        "weights_added": {p: w for p, w in new_weights.items() if p not in old_weights},
        "weights_removed": [p for p in old_weights if p not in new_weights],
        "weights_changed": {
            p: [old_weights[p], w]
            for p, w in new_weights.items()
            if p in old_weights and old_weights[p] != w
        },
    }
    for name in ("urgent_at", "high_at"):
        if before[name] != new[name]:
            diff[name] = [before[name], new[name]]
    return {name: part for name, part in diff.items() if part}


class SettingEntry(TypedDict):
    """A setting as the settings page shows it."""

    key: str
    label: str
    help: str
    kind: Kind
    min: float | None  # minutes and counts only
    max: float | None
    value: JsonValue  # in force
    default: JsonValue  # the environment's
    overridden: bool
    updated_at: IsoTime | None
    updated_by: str | None
    example: NotRequired[str]  # text settings only: the field's placeholder


class SettingChange(TypedDict):
    at: IsoTime
    kind: str
    actor: str | None
    detail: JsonObject


def describe(session: Session, settings: Settings) -> list[SettingEntry]:
    """Every setting for the settings page: value in force, default, and who changed it when."""
    stored = {
        row.key: row
        for row in session.scalars(
            select(SettingOverride).where(SettingOverride.key != VERSION_KEY)
        )
    }
    emails = {
        row.id: row.email
        for row in session.execute(
            select(StaffUser.id, StaffUser.email).where(
                StaffUser.id.in_([r.updated_by for r in stored.values() if r.updated_by])
            )
        )
    }
    kept = usable({key: row.value for key, row in stored.items()})
    every_default = defaults(settings)
    items = []
    for spec in KNOBS.values():
        default = every_default[spec.key]
        row = stored.get(spec.key) if spec.key in kept else None
        item: SettingEntry = {
            "key": spec.key,
            "label": spec.label,
            "help": spec.help,
            "kind": spec.kind,
            "min": spec.low if spec.kind in (Kind.MINUTES, Kind.COUNT) else None,
            "max": spec.high if spec.kind in (Kind.MINUTES, Kind.COUNT) else None,
            "value": kept.get(spec.key, default),
            "default": default,
            "overridden": row is not None,
            "updated_at": iso_time_or_none(row.updated_at if row else None),
            "updated_by": emails.get(row.updated_by) if row and row.updated_by else None,
        }
        if spec.kind is Kind.TEXT:
            item["example"] = spec.example
        items.append(item)
    return items


def history(session: Session, limit: int = 50) -> list[SettingChange]:
    """The latest changes to settings, dispositions and tags, newest first."""
    rows = session.execute(
        select(Event, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == Event.actor_id)
        .where(Event.kind.in_(HISTORY_KINDS))
        .order_by(Event.id.desc())
        .limit(limit)
    ).all()
    return [
        {"at": iso_time(e.created_at), "kind": e.kind, "actor": email, "detail": e.detail}
        for e, email in rows
    ]
