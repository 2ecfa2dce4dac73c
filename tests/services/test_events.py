"""The event log written without the unit of work (hotline.services.events), on SQLite and
PostgreSQL: what is recorded is seen by every later look-up of its transaction, written in the
order recorded, and goes with a transaction that rolls back, as when it was flushed as objects.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import exc, func, select, text
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.db.models import Event, EventDetail
from hotline.services import events
from hotline.services.erasure import empty_event_details
from tests.conftest import new_phone
from tests.helpers import conversations_of, events_of, post_signed, sms_form
from tests.texting import run, text_in


class Undone(Exception):
    """Raised inside a transaction to roll it back."""


def new_kind() -> str:
    """A kind no other test records: each test looks only at its own events."""
    return f"test-{secrets.token_hex(8)}"


def now(app: Flask) -> datetime:
    return runtime_of(app).clock.now()


def kinds_written(app: Flask, *kinds: str) -> list[str]:
    """Those of ``kinds`` in the log, in id order."""
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(select(Event.kind).where(Event.kind.in_(kinds)).order_by(Event.id))
        )


def count(session: Session, kind: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind)) or 0
    )


def test_every_later_look_up_in_the_transaction_sees_what_was_recorded(app: Flask) -> None:
    runtime = runtime_of(app)
    kind, other = new_kind(), new_kind()
    with runtime.sessions.begin() as session:
        events.record(session, kind, now(app), alert="emergency")
        assert count(session, kind) == 1  # an ORM select
        events.record(session, other, now(app), sealed_reason=b"sealed")
        raw = session.execute(
            text("SELECT count(*) FROM events WHERE kind = :kind"), {"kind": other}
        ).scalar()
        assert raw == 1  # a textual statement on the session
        details = session.execute(
            select(Event.kind, EventDetail.detail, EventDetail.reason_ciphertext)
            .join(EventDetail, EventDetail.event_id == Event.id)
            .where(Event.kind.in_((kind, other)))
            .order_by(Event.id)
        ).all()
        assert [tuple(row) for row in details] == [
            (kind, {"alert": "emergency"}, None),
            (other, None, b"sealed"),
        ]
        newest = session.scalars(select(Event).where(Event.kind == other)).one()
        assert newest.detail == {} and events.stated_reason(runtime.vault, newest) is None
    assert kinds_written(app, kind, other) == [kind, other]


def test_events_recorded_in_the_worker_transaction_are_there_for_its_erasure(app: Flask) -> None:
    """The safe word's wipe empties the values of the step's own events, recorded after it in
    the same transaction (hotline.services.triage): through the worker."""
    runtime = runtime_of(app)
    phone = new_phone()
    text_in(app, phone, "hi, he has a gun")
    conversation = conversations_of(app, phone)[-1]
    text_in(app, phone, runtime.settings.safe_word)
    with runtime.sessions() as session:
        values = session.scalars(
            select(EventDetail.detail).where(EventDetail.conversation_id == conversation.id)
        ).all()  # the texter's tombstone, which names no conversation, keeps its counts
    assert values and all(value is None for value in values)


def test_no_autoflush_holds_events_back_as_it_held_their_flush(app: Flask) -> None:
    runtime = runtime_of(app)
    kind = new_kind()
    with runtime.sessions.begin() as session:
        events.record(session, kind, now(app))
        with session.no_autoflush:
            assert count(session, kind) == 0
        assert count(session, kind) == 1
    assert kinds_written(app, kind) == [kind]


def test_an_orm_update_of_details_reaches_those_recorded_before_it(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    text_in(app, phone, "hi")
    conversation = conversations_of(app, phone)[-1]
    kind = new_kind()
    with runtime.sessions.begin() as session:
        events.record(
            session, kind, now(app), conversation_id=conversation.id,
            texter_id=conversation.texter_id, answer="my boss",
        )  # fmt: skip
        empty_event_details(session, conversation.id)
    with runtime.sessions() as session:
        detail = session.scalars(select(EventDetail).join(Event).where(Event.kind == kind)).one()
    assert detail.detail is None
    assert (detail.conversation_id, detail.texter_id) == (conversation.id, conversation.texter_id)


def test_events_are_written_in_the_order_recorded(app: Flask) -> None:
    kinds = [new_kind() for _ in range(6)]
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        events.record(session, kinds[0], now(app), step=0)
        events.record(session, kinds[1], now(app))
        count(session, kinds[0])  # written here
        events.record(session, kinds[2], now(app), step=2)
        at_once = events.record_at_once(session, kinds[3], now(app), step=3)
        events.record(session, kinds[4], now(app))
        events.record(session, kinds[5], now(app), step=5)
    with runtime.sessions() as session:
        written = session.execute(
            select(Event.id, Event.kind).where(Event.kind.in_(kinds)).order_by(Event.id)
        ).all()
    assert [kind for _, kind in written] == kinds
    assert written[3].id == at_once


def test_a_first_text_records_its_events_in_order(app: Flask) -> None:
    """Through ``jobs.process_inbound``: the kinds in id order are those the worker records,
    one after the other, as when the unit of work wrote them."""
    phone = new_phone()
    text_in(app, phone, "hello, I need help")
    assert [event.kind for event in events_of(app, phone)] == [
        "conversation_opened",
        "risk_assessed",
        "triage",
    ]


def test_a_rolled_back_transaction_writes_none_of_its_events(app: Flask) -> None:
    runtime = runtime_of(app)
    written, pending = new_kind(), new_kind()
    with pytest.raises(Undone), runtime.sessions.begin() as session:
        events.record(session, written, now(app), step=1)
        assert count(session, written) == 1  # written before this look-up
        events.record(session, pending, now(app), step=2)
        raise Undone
    assert kinds_written(app, written, pending) == []


def test_what_a_rolled_back_transaction_recorded_does_not_follow_the_next_one(
    app: Flask,
) -> None:
    runtime = runtime_of(app)
    dropped, by_rollback, by_close, kept = (new_kind() for _ in range(4))
    with runtime.sessions() as session:
        with pytest.raises(Undone), session.begin():
            events.record(session, dropped, now(app))
            raise Undone
        with session.begin():
            events.record(session, kept, now(app))
        session.scalar(select(1))  # a transaction begins
        events.record(session, by_rollback, now(app))
        session.rollback()
        session.commit()
        session.scalar(select(1))
        events.record(session, by_close, now(app))
        session.close()
        session.commit()
    assert kinds_written(app, dropped, by_rollback, by_close, kept) == [kept]


def test_an_event_recorded_before_any_statement_goes_with_a_close(app: Flask) -> None:
    runtime = runtime_of(app)
    kind = new_kind()
    with runtime.sessions() as session:
        events.record(session, kind, now(app))  # no transaction yet: it begins one
        session.close()
        session.commit()
    assert kinds_written(app, kind) == []


def test_a_savepoint_rolled_back_keeps_what_was_recorded_before_it(app: Flask) -> None:
    runtime = runtime_of(app)
    before, inside, released = new_kind(), new_kind(), new_kind()
    with runtime.sessions.begin() as session:
        events.record(session, before, now(app))
        with pytest.raises(Undone), session.begin_nested():
            events.record(session, inside, now(app))
            raise Undone
        with session.begin_nested():
            events.record(session, released, now(app))
    assert kinds_written(app, before, inside, released) == [before, released]


def test_an_event_that_cannot_be_written_stops_the_commit(app: Flask) -> None:
    """An id of no row: the statement that writes it fails, without the value in its text;
    a caller that carries on cannot commit, and nothing of it is written."""
    runtime = runtime_of(app)
    kind, before = new_kind(), new_kind()
    missing = 2**31 - 7
    with runtime.sessions() as session:
        session.begin()
        events.record(session, before, now(app))
        events.record(session, kind, now(app), conversation_id=missing)
        with pytest.raises(exc.IntegrityError) as failed:
            session.scalar(select(1))
        assert str(missing) not in str(failed.value)
        with pytest.raises(exc.PendingRollbackError):
            session.commit()
        session.rollback()
        with session.begin():
            assert count(session, before) == 0
    assert kinds_written(app, kind, before) == []


def test_a_detail_added_through_the_orm_still_takes_its_events_ids(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    text_in(app, phone, "hi")
    conversation = conversations_of(app, phone)[-1]
    with runtime.sessions.begin() as session:
        event = Event(
            kind=new_kind(),
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            created_at=now(app),
        )
        event.detail = {"step": 1}
        session.add(event)
        session.flush()
        assert event.erasable is not None
        assert event.erasable.conversation_id == conversation.id
        assert event.erasable.texter_id == conversation.texter_id


def test_two_texts_processed_together_see_each_others_events(app: Flask) -> None:
    """One ``process_pending`` for two stored texts: the second's handling looks up what the
    first recorded, in the same transaction; the log ends as when each is processed alone."""
    together, alone = new_phone(), new_phone()
    client = app.test_client()
    for body in ("hi", "yes"):
        assert post_signed(client, "/twilio/sms", sms_form(together, body)).status_code == 200
    run(app)
    for body in ("hi", "yes"):
        text_in(app, alone, body)
    assert [e.kind for e in events_of(app, together)] == [e.kind for e in events_of(app, alone)]
