"""Work that follows a commit (hotline.db.after_commit), through the runtime's real sessions.

A rolled-back transaction sends nothing and bumps nothing; a committed one does both, once.
Driven through the services a view or a job calls, with the in-process queue held still so
that what was handed over can be counted; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db import after_commit
from hotline.db.models import Message, StaffUser
from hotline.domain.delivery import Direction
from hotline.infra.live import QUEUE, conversation_topic
from hotline.infra.taskqueue import SEND_MESSAGE, InProcessQueue
from hotline.runtime import Runtime
from hotline.services.console import Console
from hotline.services.handling import Handling
from tests.conftest import new_phone
from tests.helpers import messages_of, post_signed, sms_form
from tests.texting import advocate, claim, conversation, run, sent_to, text_in


class Undone(Exception):
    """Raised inside a transaction to roll it back."""


def held_texter(app: Flask) -> tuple[str, int, int]:
    """A texter an advocate holds: their number, the conversation's id, the advocate's id."""
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help", "TX"):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    return phone, conversation(app, phone).id, advocate_id


def sends_handed_over(runtime: Runtime) -> list[int]:
    assert isinstance(runtime.tasks, InProcessQueue)
    return [arg for name, arg in runtime.tasks.pending() if name == SEND_MESSAGE]


def outbound_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == Direction.OUTBOUND)
            )
            or 0
        )


def advocate_reply(runtime: Runtime, session_user: tuple[int, int], body: str) -> int:
    """An advocate's reply, in a transaction of its own, as the console's view makes it."""
    advocate_id, conversation_id = session_user
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        return Handling(Console(runtime.triage, 3)).reply(
            session, user, conversation_id, body, runtime.clock.now()
        )


def test_a_committed_reply_is_handed_over_once_and_its_console_told_once(app: Flask) -> None:
    runtime = runtime_of(app)
    _, conversation_id, advocate_id = held_texter(app)
    topic = conversation_topic(conversation_id)
    before = runtime.live.versions([topic, QUEUE])

    message_id = advocate_reply(runtime, (advocate_id, conversation_id), "we are here")

    assert sends_handed_over(runtime) == [message_id]
    after = runtime.live.versions([topic, QUEUE])
    assert after[topic] == before[topic] + 1
    assert after[QUEUE] == before[QUEUE]  # a reply does not move the queue


def test_a_rolled_back_reply_sends_nothing_and_bumps_nothing(app: Flask) -> None:
    runtime = runtime_of(app)
    phone, conversation_id, advocate_id = held_texter(app)
    topics = [conversation_topic(conversation_id), QUEUE]
    before, stored = runtime.live.versions(topics), outbound_count(runtime)
    already_sent = sent_to(app, phone)

    with pytest.raises(Undone), runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        handling = Handling(Console(runtime.triage, 3))
        handling.reply(session, user, conversation_id, "never stored", runtime.clock.now())
        handling.transfer(session, user, conversation_id, None, "", runtime.clock.now())
        assert after_commit.registered(session)  # registered, and about to be rolled back
        raise Undone

    assert sends_handed_over(runtime) == []
    assert runtime.live.versions(topics) == before
    assert outbound_count(runtime) == stored
    run(app)
    assert sent_to(app, phone) == already_sent


def test_what_a_rolled_back_transaction_registered_does_not_follow_the_next_commit(
    app: Flask,
) -> None:
    runtime = runtime_of(app)
    _, conversation_id, advocate_id = held_texter(app)
    topic = conversation_topic(conversation_id)
    handling = Handling(Console(runtime.triage, 3))
    with runtime.sessions() as session:
        with pytest.raises(Undone), session.begin():
            user = session.get(StaffUser, advocate_id)
            assert user is not None
            handling.add_note(session, user, conversation_id, "rolled back", runtime.clock.now())
            after_commit.queue_changed(session)
            raise Undone
        before = runtime.live.versions([topic, QUEUE])
        with session.begin():
            user = session.get(StaffUser, advocate_id)
            assert user is not None
            message_id = handling.reply(session, user, conversation_id, "kept", runtime.clock.now())
        with session.begin():
            pass  # a later transaction of the same session: nothing left over to run again

    assert sends_handed_over(runtime) == [message_id]
    after = runtime.live.versions([topic, QUEUE])
    assert after[topic] == before[topic] + 1
    assert after[QUEUE] == before[QUEUE]


def test_a_worker_sends_the_replies_of_its_commit_itself_once(app: Flask) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "hi"))
    [inbound] = messages_of(app, phone)
    queue_before = runtime.live.versions([QUEUE])

    jobs.process_inbound(runtime, inbound.id)

    assert len(sent_to(app, phone)) == 1  # the welcome, sent from the job itself
    assert sends_handed_over(runtime) == []
    topic = conversation_topic(conversation(app, phone).id)
    assert runtime.live.versions([topic])[topic] >= 1
    assert runtime.live.versions([QUEUE]) == queue_before
    jobs.process_inbound(runtime, inbound.id)  # a redelivered task: nothing to do, nothing sent
    assert len(sent_to(app, phone)) == 1


def test_nothing_can_be_registered_inside_a_savepoint(app: Flask) -> None:
    runtime = runtime_of(app)
    with (
        runtime.sessions.begin() as session,
        session.begin_nested(),
        pytest.raises(RuntimeError, match="savepoint"),
    ):
        after_commit.queue_changed(session)


def test_follow_up_work_that_fails_leaves_the_commit_standing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_of(app)
    phone, conversation_id, advocate_id = held_texter(app)

    def broken(_: object) -> None:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(runtime.live, "bump", broken)
    with caplog.at_level(logging.WARNING, logger="hotline.background.jobs"):
        message_id = advocate_reply(runtime, (advocate_id, conversation_id), "still stored")

    assert [m.id for m in messages_of(app, phone)].count(message_id) == 1
    assert sends_handed_over(runtime) == [message_id]
    assert "after-commit work failed (ConnectionError)" in caplog.text
    assert phone not in caplog.text and "still stored" not in caplog.text
