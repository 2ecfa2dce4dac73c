"""Settings changed at run time: a refused value changes nothing, in force from the next job,
reset, audited; and the lists advocates choose from (dispositions, tags). The checks a value
must pass are tested in tests/domain/test_tuning.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.db.models import (
    Disposition,
    SettingOverride,
    StaffUser,
    Tag,
)
from hotline.domain.risk import Priority
from hotline.domain.tuning import TuningError, UnknownSetting
from hotline.services import tuning, vocabulary
from hotline.services.console import Console
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.handling import Handling
from tests.console_client import queued_texter, staff
from tests.fakes import FakeClock
from tests.helpers import bodies, conversations_of, messages_of
from tests.settings_support import change, english_lexicon, events, reset, stored

DEFAULT_WELCOME = "Hi, thanks for texting."  # discreet mode is the default
NAMED_WELCOME = "Anti-Trafficking Hotline: hi, thanks for texting."


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    """A database of this test's own: overrides apply to every texter, so none may be shared."""
    return clocked_app


def first_reply(app: Flask, body: str = "hi") -> str:
    phone = queued_texter(app, body)
    return bodies(app, messages_of(app, phone))[1]


# -- refusing ------------------------------------------------------------------------------------


def test_a_refused_value_changes_nothing(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    for key, value in (("capacity", 0), ("discreet_mode", "on"), ("lexicon_en", {"weights": 1})):
        with pytest.raises(TuningError):
            change(app, supervisor, key, value)
    with pytest.raises(UnknownSetting):
        change(app, supervisor, "secret_key", "x")
    assert stored(app) == {}
    assert events(app, "setting_changed", "setting_reset") == []
    assert first_reply(app).startswith(DEFAULT_WELCOME)


# -- in force from the next job ------------------------------------------------------------------


def test_discreet_mode_counts_from_the_next_text_and_reset_brings_the_default_back(
    app: Flask,
) -> None:
    supervisor = staff(app, "supervisor")
    assert first_reply(app).startswith(DEFAULT_WELCOME)

    assert change(app, supervisor, "discreet_mode", False) is True
    assert first_reply(app).startswith(NAMED_WELCOME)
    assert change(app, supervisor, "discreet_mode", False) is False  # already so: no event

    assert reset(app, supervisor, "discreet_mode") is True
    assert first_reply(app).startswith(DEFAULT_WELCOME)
    assert reset(app, supervisor, "discreet_mode") is False
    assert stored(app) == {}
    with runtime_of(app).sessions() as session:
        assert tuning.read_version(session) == 2  # one set, one reset: each told every process

    changed, was_reset = events(app, "setting_changed", "setting_reset")
    assert (changed.kind, changed.actor_id) == ("setting_changed", supervisor.id)
    assert changed.detail == {"key": "discreet_mode", "old": True, "new": False,
                              "was_default": True}  # fmt: skip
    assert (was_reset.kind, was_reset.actor_id) == ("setting_reset", supervisor.id)
    assert was_reset.detail == {"key": "discreet_mode", "old": False, "new": True}
    # Settings are nobody's conversation: no texter is named in their events.
    assert changed.texter_id is None and changed.conversation_id is None


def test_a_timer_change_sets_the_next_timer(app: Flask, clock: FakeClock) -> None:
    supervisor = staff(app, "supervisor")
    change(app, supervisor, "triage_timeout_minutes", 3)
    phone = queued_texter(app, "hi")
    [conversation] = conversations_of(app, phone)
    assert conversation.timer == "triage"
    assert conversation.timer_due_at == clock.now() + timedelta(minutes=3)


def test_a_lexicon_weight_change_raises_the_next_texters_priority(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    calm = queued_texter(app, "hi", "no", "yes", "I owe them", "TX")
    assert conversations_of(app, calm)[0].priority is Priority.NORMAL  # owe weighs 15

    weights = {**english_lexicon()["weights"], "owe": 70}
    change(app, supervisor, "lexicon_en", english_lexicon(weights=weights))
    urgent = queued_texter(app, "hi", "no", "yes", "I owe them", "TX")
    conversation = conversations_of(app, urgent)[0]
    assert conversation.priority is Priority.URGENT
    assert conversation.risk_reasons == ["owe (+70)"]

    [event] = events(app, "setting_changed")
    assert event.detail == {"key": "lexicon_en", "was_default": True,
                            "weights_changed": {"owe": [15, 70]}}  # fmt: skip


def test_capacity_is_the_consoles_for_the_next_request(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        assert runtime.tuned(session).settings.capacity == 3
    change(app, supervisor, "capacity", 1)
    with runtime.sessions() as session:
        tuned = runtime.tuned(session)
    assert tuned.settings.capacity == 1
    assert runtime.settings.capacity == 3  # the environment's value stays the default


def test_the_tuner_rebuilds_only_when_the_overrides_change(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        first = runtime.tuned(session)
        assert runtime.tuned(session) is first
    change(app, supervisor, "wait_update_minutes", 5)
    with runtime.sessions() as session:
        second = runtime.tuned(session)
        assert runtime.tuned(session) is second
    assert second is not first and second.triage.policy.timer_minutes["wait_update"] == 5
    assert runtime.triage is second.triage


def test_a_stored_value_that_fails_the_checks_is_ignored(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        assert runtime.tuned(session).settings.capacity == 3
    with runtime.sessions.begin() as session:  # as another version of the code might write
        session.add(SettingOverride(key="capacity", value=5000, updated_at=runtime.clock.now()))
        session.add(SettingOverride(key="retired_knob", value=1, updated_at=runtime.clock.now()))
        tuning.bump_version(session, runtime.clock.now())
    with caplog.at_level(logging.WARNING), runtime.sessions() as session:
        tuned = runtime.tuned(session)
    assert tuned.settings.capacity == 3
    assert "'capacity' ignored" in caplog.text and "5000" not in caplog.text


# -- dispositions and tags ------------------------------------------------------------------------


def disposition_rows(session: Session) -> dict[str, tuple[str, bool]]:
    return {d.code: (d.label, d.active) for d in session.scalars(select(Disposition))}


def test_dispositions_are_added_relabelled_retired_and_restored(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    now = runtime.clock.now()
    console = Console(runtime.triage, 3)
    with runtime.sessions.begin() as session:
        code = vocabulary.do_add_disposition(
            session, supervisor, {"code": "legal_aid", "label": "Legal aid"}, now
        )
        assert code == "legal_aid"
        assert {"code": "legal_aid", "label": "Legal aid"} in console.dispositions(session)
        vocabulary.do_change_disposition(session, supervisor, code, {"label": "Legal  help"}, now)
        vocabulary.do_change_disposition(session, supervisor, code, {"active": False}, now)
        assert code not in [d["code"] for d in console.dispositions(session)]
        assert disposition_rows(session)[code] == ("Legal help", False)
        vocabulary.do_change_disposition(session, supervisor, code, {"active": True}, now)
        assert disposition_rows(session)[code] == ("Legal help", True)
    added, *changed = events(app, "disposition_added", "disposition_changed")
    assert added.detail == {"code": "legal_aid", "label": "Legal aid"}
    assert [e.detail for e in changed] == [
        {"code": "legal_aid", "label": {"old": "Legal aid", "new": "Legal help"}},
        {"code": "legal_aid", "active": {"old": True, "new": False}},
        {"code": "legal_aid", "active": {"old": False, "new": True}},
    ]
    assert all(e.actor_id == supervisor.id for e in [added, *changed])


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        ({"code": "Legal Aid", "label": "x"}, InvalidInput, "code is 1 to 48 lower-case"),
        ({"code": "1st", "label": "x"}, InvalidInput, "code is 1 to 48 lower-case"),
        ({"code": "ok", "label": "  "}, InvalidInput, "label must not be empty"),
        ({"code": "ok", "label": "x" * 121}, InvalidInput, "label is at most 120 characters"),
        ({"code": "ok", "label": "a\nb\x07"}, InvalidInput, "label holds a character"),
        ({"code": "ok", "label": "x", "active": False}, InvalidInput, "unknown fields: active"),
        ({"code": "referred", "label": "x"}, Conflict, "a disposition with code referred"),
    ],
)
def test_a_bad_disposition_is_refused_and_nothing_changes(
    app: Flask, payload: dict[str, Any], error: type[Exception], message: str
) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        before = disposition_rows(session)
    with pytest.raises(error, match=message), runtime.sessions.begin() as session:
        vocabulary.do_add_disposition(session, supervisor, payload, runtime.clock.now())
    with runtime.sessions() as session:
        assert disposition_rows(session) == before
    assert events(app, "disposition_added") == []


def test_the_last_active_disposition_cannot_be_retired(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        codes = sorted(disposition_rows(session))
        for code in codes[1:]:
            vocabulary.do_change_disposition(session, supervisor, code, {"active": False}, now)
    refused = pytest.raises(Conflict, match="last active disposition")
    with refused, runtime.sessions.begin() as session:
        vocabulary.do_change_disposition(session, supervisor, codes[0], {"active": False}, now)
    with runtime.sessions() as session:
        assert disposition_rows(session)[codes[0]][1] is True


def test_advocates_may_tag_only_with_active_tags_from_the_list(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    now = runtime.clock.now()
    phone = queued_texter(app)
    conversation_id = conversations_of(app, phone)[0].id
    console = Console(runtime.triage, 3)
    with runtime.sessions.begin() as session:
        assert "labor" in console.tags(session)  # the starting list (migration 0007)
        vocabulary.do_add_tag(session, supervisor, {"name": "  Wage   Theft "}, now)
        vocabulary.do_change_tag(session, supervisor, "labor", {"active": False}, now)
        assert "wage theft" in console.tags(session) and "labor" not in console.tags(session)
    for refused in ("labor", "made up"):
        not_listed = pytest.raises(Conflict, match="is not on the tag list")
        with not_listed, runtime.sessions.begin() as session:
            user = session.get(StaffUser, supervisor.id)
            assert user is not None
            Handling(console).tag(session, user, conversation_id, refused, now)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, supervisor.id)
        assert user is not None
        Handling(console).tag(session, user, conversation_id, "Wage Theft", now)
    tagged = events(app, "tagged")
    assert [(e.detail["tag"], e.actor_id) for e in tagged] == [("wage theft", supervisor.id)]
    with runtime.sessions() as session:
        listed = {t["name"]: t for t in vocabulary.tags(session)}
    assert listed["wage theft"] == {"name": "wage theft", "active": True, "uses": 1}
    assert listed["labor"]["active"] is False
    assert [e.detail for e in events(app, "tag_added", "tag_changed")] == [
        {"tag": "wage theft"},
        {"tag": "labor", "active": {"old": True, "new": False}},
    ]


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        ({"name": "a/b"}, InvalidInput, "a tag is 1 to 40 letters"),
        ({"name": ""}, InvalidInput, "a tag is 1 to 40 letters"),
        ({"name": "x" * 41}, InvalidInput, "a tag is 1 to 40 letters"),
        ({"name": 5}, InvalidInput, "name must be text"),
        ({"name": "Labor"}, Conflict, "is on the list already"),
    ],
)
def test_a_bad_tag_is_refused_and_nothing_changes(
    app: Flask, payload: dict[str, Any], error: type[Exception], message: str
) -> None:
    supervisor = staff(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Tag))
    with pytest.raises(error, match=message), runtime.sessions.begin() as session:
        vocabulary.do_add_tag(session, supervisor, payload, runtime.clock.now())
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tag)) == before
    assert events(app, "tag_added") == []


# -- opening hours and what waiting texters are told ----------------------------------------------


def test_the_unprompted_budget_counts_from_the_next_timer(app: Flask, clock: FakeClock) -> None:
    supervisor = staff(app, "supervisor")
    change(app, supervisor, "unprompted_per_hour", 0)
    tuned = runtime_of(app).tuned
    with runtime_of(app).sessions() as session:
        policy = tuned(session).triage.policy.hours
    assert policy.unprompted_per_hour == 0
    change(app, supervisor, "operating_hours", "daily 00:00-24:00")
    with runtime_of(app).sessions() as session:
        assert not tuned(session).triage.policy.hours.schedule.always_open
