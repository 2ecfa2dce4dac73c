"""Storing an inbound text: what it costs the webhook, in statements sent to the database.

The webhook answers Twilio only after this commits, so every round trip is latency Twilio waits
for and throughput the web process loses (see ``bench/webhook_throughput.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from hotline.db.models import Message, Texter
from hotline.infra.vault import Vault
from hotline.services.receive import store_inbound
from hotline.sms.inbound import InboundText
from tests.conftest import TEST_DATA_KEY, TEST_HASH_KEY, new_phone, new_sid

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
VAULT = Vault((TEST_DATA_KEY,), TEST_HASH_KEY)


def text_from(phone: str, sid: str) -> InboundText:
    return InboundText(message_sid=sid, phone=phone, body="hello", media_types=())


@pytest.fixture
def engine(postgres_engine: Engine) -> Engine:
    """PostgreSQL, as in production (SQLite adds its own BEGIN IMMEDIATE)."""
    return postgres_engine


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The first word of every statement the engine sends from now on, and each COMMIT and
    ROLLBACK (which psycopg sends without a cursor)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    def commit(_conn: Any) -> None:
        sent.append("COMMIT")

    def rollback(_conn: Any) -> None:
        sent.append("ROLLBACK")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    yield sent
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "commit", commit)
    event.remove(engine, "rollback", rollback)


def store(engine: Engine, text: InboundText) -> int | None:
    return store_inbound(engine, VAULT, text, NOW)


def test_a_new_texters_text_takes_two_inserts_and_a_commit(
    engine: Engine, statements: list[str]
) -> None:
    message_id = store(engine, text_from(new_phone(), new_sid()))

    assert message_id is not None
    assert statements == ["INSERT", "INSERT", "COMMIT"]  # no look-up first, no savepoint
    with Session(engine) as session:
        stored = session.get(Message, message_id)
        assert stored is not None and stored.processed_at is None


def test_a_repeated_sid_is_found_by_the_insert_and_leaves_nothing_behind(
    engine: Engine, statements: list[str]
) -> None:
    sid = new_sid()
    assert store(engine, text_from(new_phone(), sid)) is not None
    other = new_phone()
    statements.clear()

    assert store(engine, text_from(other, sid)) is None

    assert statements == ["INSERT", "INSERT", "ROLLBACK"]
    with Session(engine) as session:
        stored = select(func.count()).select_from(Message).where(Message.twilio_sid == sid)
        assert session.scalar(stored) == 1
        texter = select(Texter.id).where(Texter.phone_hash == VAULT.phone_hash(other))
        assert session.scalar(texter) is None
