"""Settings supervisors change at run time: stored, audited, and put in force in every process.

What the settings are and the checks a value must pass are :mod:`hotline.domain.tuning`'s. The
environment (:class:`hotline.settings.Settings`) gives every default. A supervisor's change
is a row of ``setting_overrides`` (key, JSON value, who, when), checked strictly before it
is written, and an event in the audit trail with the old and the new value. Resetting a setting
deletes its row, so the environment's value is back.

Each process keeps a :class:`Tuner`. Every job and every staff request reads the overrides'
version (the ``_version`` row, by primary key, in the job's own transaction); only when it moved
are the overrides read and the triage policy rebuilt. So the web process and every Celery worker
act on a change from their next job on, without a restart. Anything that writes the table other
than :func:`do_set` and :func:`do_reset` must call :func:`bump_version`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import Column, Dialect, bindparam, select
from sqlalchemy.orm import Session

from hotline.catalogue import lexicon
from hotline.db.compiled import Compiled, compile_statement, session_cursor
from hotline.db.models import Event, SettingOverride, StaffUser
from hotline.domain.tuning import (
    KNOBS,
    Kind,
    TuningError,
    UnknownSetting,
    check,
    knob,
    lexicon_value,
    tuned_lexicon,
)
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.answers import IsoTime, JsonObject, JsonValue, iso_time, iso_time_or_none
from hotline.services.errors import InvalidInput, NotFound
from hotline.services.triage import Triage, TriagePolicy
from hotline.settings import Settings

log = logging.getLogger(__name__)

HISTORY_KINDS = (
    "setting_changed",
    "setting_reset",
    "disposition_added",
    "disposition_changed",
    "tag_added",
    "tag_changed",
    "case_option_added",
    "case_option_changed",
)


# Not a setting: a counter every change moves, so a process re-reads the overrides only then.
VERSION_KEY = "_version"
_UNREAD = object()


class TuningRefused(InvalidInput, TuningError):
    """A :class:`~hotline.domain.tuning.TuningError` refused to the person who asked (400)."""


class SettingNotFound(NotFound, UnknownSetting):
    """An :class:`~hotline.domain.tuning.UnknownSetting` refused to the person who asked (404)."""


@contextmanager
def refusing() -> Iterator[None]:
    """Refuse the request when the block finds a value or key no setting takes: a domain
    :class:`TuningError` leaves as :class:`TuningRefused`, :class:`UnknownSetting` as
    :class:`SettingNotFound`, with the same message."""
    try:
        yield
    except UnknownSetting as problem:
        raise SettingNotFound(str(problem)) from None
    except TuningError as problem:
        raise TuningRefused(str(problem)) from None


# -- effective values ------------------------------------------------------------------------


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
    """The overrides' version: one row by primary key, the whole cost of a job's check. Read in
    ``session``'s transaction (started here if it was not), on its connection's driver cursor:
    every job and staff request runs this, and the ORM's execution costs many times the
    statement. Raises SQLAlchemyError as a session would."""
    with session_cursor(session) as (dialect, cursor):
        version = _version_statement(dialect)
        row = version.statement.run(cursor, {"key_": VERSION_KEY})
    if row is None:
        return None
    return row[0] if version.convert is None else version.convert(row[0])


@dataclass(frozen=True)
class _Version:
    statement: Compiled
    convert: Callable[[Any], Any] | None  # the JSON column's decoding, where the driver's is not


@functools.lru_cache(maxsize=16)
def _version_statement(dialect: Dialect) -> _Version:
    """The version's SELECT, compiled once per dialect (:mod:`hotline.db.compiled`)."""
    value = cast(Column[Any], SettingOverride.__table__.c.value)
    statement = select(value).where(SettingOverride.key == bindparam("key_"))
    convert = value.type.dialect_impl(dialect).result_processor(dialect, None)
    return _Version(compile_statement(statement, dialect, ["key_"]), convert)


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
    lexicons = []
    for found in policy.lexicons:
        value = kept.get(f"lexicon_{found.language}")
        lexicons.append(found if value is None else tuned_lexicon(found, value))
    policy = replace(policy, lexicons=tuple(lexicons))
    return Tuned(effective, Triage(vault, policy), kept)


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
    Raises :class:`TuningRefused` or :class:`SettingNotFound` before anything is written.
    """
    with refusing():
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
    """Back to the environment's value for ``key``; False when it was not overridden.
    Raises :class:`SettingNotFound` for a key that is no setting."""
    with refusing():
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
