"""Erased means erased (issue 16), through the real paths: a texter who answered every
question, was tagged, revealed, reviewed and noted, then erased by the safe word, by ``DELETE``
or by a supervisor, leaves nothing that links their number to what was said or to having
texted before. Every column declared ``erased`` is filled first (by the conversation, or by
hand where a conversation cannot reach it) and shown empty after, on SQLite and PostgreSQL;
on PostgreSQL ``pg_dump`` holds none of the markers."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import (
    select,
)
from sqlalchemy.engine import make_url

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import (
    Conversation,
    Event,
    EventDetail,
    OptedOutNumber,
    StaffUser,
    Texter,
)
from hotline.services.console import Console
from hotline.services.supervision import Supervision
from tests.conftest import new_phone
from tests.erasure import (
    MARKERS,
    REASON,
    WORDS,
    as_user,
    case_record_rows,
    fill_what_the_conversation_left_empty,
    first_conversation,
    left_behind,
    second_conversation,
    staff,
)
from tests.helpers import dump, texter_of
from tests.texting import advocate, claim, conversation, run, sent_to, text_in

CASE_TABLES = ("case_records", "case_record_codes", "case_record_referrals")


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def pg_dump(app: Flask) -> str:
    url = make_url(runtime_of(app).engine.url).set(drivername="postgresql")
    return subprocess.run(
        ["pg_dump", "--data-only", url.render_as_string(hide_password=False)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def erase(app: Flask, phone: str, path: str, supervisor: StaffUser) -> None:
    runtime = runtime_of(app)
    if path == "safe_word":
        text_in(app, phone, runtime.settings.safe_word)
    elif path == "delete":
        text_in(app, phone, "DELETE")
    else:
        console = Console(runtime.triage, 3)
        conversation_id = conversation(app, phone).id
        with runtime.sessions.begin() as session:
            Supervision(console).erase_texter(
                session,
                as_user(session, supervisor),
                conversation_id,
                REASON,
                runtime.clock.now(),
            )
        run(app)
    jobs.sweep(runtime)  # the confirmation is sent; then the number goes
    run(app)


@pytest.mark.parametrize("path", ["safe_word", "delete", "supervisor"])
def test_an_erased_texter_leaves_nothing_that_links_or_describes(app: Flask, path: str) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    supervisor = staff(app, "supervisor")
    first_conversation(app, phone, supervisor)
    second_conversation(app, phone)
    texter = texter_of(app, phone)
    assert texter is not None
    fill_what_the_conversation_left_empty(app, texter.id)
    # Filled, so the test can fail: tags and a case record with every field.
    assert {"conversation_tags", *CASE_TABLES} <= set(left_behind(app, texter.id))
    assert all(case_record_rows(app, texter.id).values())

    sent_before = len(sent_to(app, phone))
    erase(app, phone, path, supervisor)

    confirmation = {"safe_word": "safe_word_done", "delete": "deleted"}.get(path)
    if confirmation is None:  # a supervisor's erasure says nothing to the texter
        assert len(sent_to(app, phone)) == sent_before
    else:
        assert sent_to(app, phone)[sent_before:] == [
            runtime.triage.render_plain(confirmation, "en")
        ]
    assert left_behind(app, texter.id) == []
    assert case_record_rows(app, texter.id) == {table: [] for table in CASE_TABLES}
    phone_hash = runtime.vault.phone_hash(phone)
    with runtime.sessions() as session:
        row = session.get(Texter, texter.id)
        assert row is not None
        assert row.phone_ciphertext is None and row.phone_hash != phone_hash
        assert row.opted_out_at is None and row.erasure_requested_at is not None
        assert session.scalars(select(OptedOutNumber)).all() == []
        assert session.scalar(select(Texter.id).where(Texter.phone_hash == phone_hash)) is None
        [tombstone] = session.scalars(
            select(Event).where(Event.kind == "texter_erased", Event.texter_id == texter.id)
        ).all()
        # The event log itself keeps only kinds, times, ids and actors: no value at all.
        assert "detail" not in Event.__table__.c
    assert tombstone.detail["by"] == {"delete": "texter_request"}.get(path, path)
    if path == "supervisor":
        assert tombstone.actor_id == supervisor.id
    raw = dump(app)
    for marker in (*MARKERS, phone, phone[2:], phone[-7:], phone_hash):
        assert marker not in raw, marker
    if runtime.engine.dialect.name == "postgresql":
        dumped = pg_dump(app)
        assert "COPY public.conversations" in dumped  # the dump really holds the data
        for marker in (*MARKERS, phone, phone[2:], phone[-7:], phone_hash):
            assert marker not in dumped, marker

    # The same number texting again is a new texter, not a returning one, with nothing earlier.
    text_in(app, phone, "hello")
    assert sent_to(app, phone)[-1] == runtime.triage.render_plain("welcome", "en")
    again = texter_of(app, phone)
    assert again is not None and again.id != texter.id
    assert conversation(app, phone).returning_texter is False
    new_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        view = Console(runtime.triage, 3).conversation(
            session, as_user(session, supervisor), new_id, runtime.clock.now()
        )
    assert view["earlier"] == []


def test_the_confirmation_says_what_was_deleted(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "DELETE")
    said = sent_to(app, phone)[-1]
    assert said == runtime_of(app).triage.render_plain("deleted", "en")
    for deleted in ("messages", "answers", "number", "texted us before"):
        assert deleted in said


def test_after_stop_and_delete_only_the_opt_out_hash_remains_and_holds(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    for body in ("hi", "yes", f"my boss {WORDS}", "STOP"):
        text_in(app, phone, body)
    texter = texter_of(app, phone)
    assert texter is not None
    text_in(app, phone, "DELETE")
    assert sent_to(app, phone)[-1] == runtime.triage.render_plain("deleted_opted_out", "en")
    jobs.sweep(runtime)
    phone_hash = runtime.vault.phone_hash(phone)
    with runtime.sessions() as session:
        assert session.scalars(select(OptedOutNumber.phone_hash)).all() == [phone_hash]
        row = session.get(Texter, texter.id)
        assert row is not None and row.phone_hash != phone_hash and row.opted_out_at is None
    assert left_behind(app, texter.id) == []
    assert WORDS not in dump(app)

    # Still opted out: a text gets no answer, and nothing about it links to the old row.
    before = len(sent_to(app, phone))
    text_in(app, phone, "are you there")
    assert len(sent_to(app, phone)) == before
    again = texter_of(app, phone)
    assert again is not None and again.id != texter.id and again.opted_out
    # START lifts it, and the record goes with it.
    text_in(app, phone, "START")
    assert sent_to(app, phone)[-1] == runtime.triage.render_plain("start_confirmation", "en")
    with runtime.sessions() as session:
        assert session.scalars(select(OptedOutNumber)).all() == []


def test_the_safe_word_erases_in_every_state_of_a_conversation(app: Flask) -> None:
    """The safe word at each step of triage, in the queue and with an advocate: each time the
    conversation ends and nothing describing it is left."""
    runtime = runtime_of(app)
    steps = ["hi", "yes", "yes", f"my boss {WORDS}", "Houston TX"]
    for taken in range(len(steps) + 1):
        phone = new_phone()
        for body in steps[:taken]:
            text_in(app, phone, body)
        if taken == len(steps):
            claim(app, phone, advocate(app))
        texter = texter_of(app, phone)
        text_in(app, phone, runtime.settings.safe_word)
        if texter is None:  # the safe word as the very first text: nothing to erase but it
            continue
        jobs.sweep(runtime)
        assert left_behind(app, texter.id) == [], taken
        with runtime.sessions() as session:
            states = session.scalars(
                select(Conversation.status).where(Conversation.texter_id == texter.id)
            ).all()
        assert [s.value for s in states] == ["closed"], taken
    assert WORDS not in dump(app)


def test_an_erased_texters_alerts_leave_the_board(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    supervisor = staff(app, "supervisor")
    text_in(app, phone, "he has a gun, help")
    from hotline.services.alerts import Alerts

    def board() -> list[Any]:
        with runtime.sessions.begin() as session:
            shown = Alerts(runtime.vault).open_alerts(
                session, as_user(session, supervisor), runtime.clock.now()
            )
        return list(shown["items"])

    assert [item["kind"] for item in board()] == ["emergency"]
    text_in(app, phone, "DELETE")
    assert board() == []
    with runtime.sessions() as session:
        details = session.scalars(
            select(EventDetail).join(Event).where(Event.kind == "alert")
        ).all()
    assert [d.detail for d in details] == [None]
