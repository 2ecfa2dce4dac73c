"""Pooled PostgreSQL connections are checked on checkout without a round trip (see
``hotline.db.session._check_on_checkout``): a connection the server closed is replaced before
anything runs on it, and only a long-idle one is pinged."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from hotline.db import session as db_session

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_engine: Engine) -> Engine:
    return postgres_engine


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ping the pool's check sends."""
    sent: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.pg_backend_pid())) or 0)


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, pings: list[int]) -> None:
    first = backend_pid(engine)
    for _ in range(5):
        assert backend_pid(engine) == first  # the same pooled connection, used again
    assert pings == []


def test_a_long_idle_connection_is_pinged_first(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend_pid(engine)
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
    time.sleep(0.01)

    assert backend_pid(engine) == first  # it answered, so it is kept
    assert pings == [1]


def test_a_connection_the_server_closed_is_replaced_before_use(
    engine: Engine, postgres_url: str, pings: list[int]
) -> None:
    first = backend_pid(engine)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    time.sleep(0.2)  # the server's notice and the end of the stream reach the socket

    second = backend_pid(engine)  # no error: the pool threw the dead one away first

    assert second != first
    assert pings == []  # found without a round trip
