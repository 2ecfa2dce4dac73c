"""Storing an inbound text: what it costs the webhook, in statements sent to the database.

The webhook answers Twilio only after this commits, so every round trip is latency Twilio waits
for and throughput the web process loses (see ``bench/webhook_throughput.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
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
    """The first word of every statement the engine's connections send from now on, and each
    COMMIT and ROLLBACK (which psycopg sends without a cursor). Recorded at the driver: the
    webhook's store runs on the pooled connection's own cursor, below SQLAlchemy's events."""
    sent: list[str] = []

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query.decode() if isinstance(query, bytes) else str(query)
            sent.append(text.split(None, 1)[0].upper())
            return super().execute(query, *args, **kwargs)

    def record(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.cursor_factory = Recording
        commit, rollback = type(dbapi_connection).commit, type(dbapi_connection).rollback

        def recorded_commit() -> None:
            sent.append("COMMIT")
            commit(dbapi_connection)

        def recorded_rollback() -> None:
            if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
                sent.append("ROLLBACK")  # psycopg sends nothing outside a transaction
            rollback(dbapi_connection)

        dbapi_connection.commit, dbapi_connection.rollback = recorded_commit, recorded_rollback

    def restore(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor_factory = psycopg.Cursor
        for name in ("commit", "rollback"):
            vars(dbapi_connection).pop(name, None)

    event.listen(engine, "checkout", record)
    event.listen(engine, "checkin", restore)
    yield sent
    event.remove(engine, "checkout", record)
    event.remove(engine, "checkin", restore)


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
