"""Engines and sessions, tuned per backend."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.models import Message, Texter


def make_engine(url: str, **overrides: Any) -> Engine:
    """An engine for ``url``. Connects lazily: nothing is opened here.

    PostgreSQL gets a short connect timeout, so a database outage turns into a fast 5xx rather
    than a hung webhook, and pre-ping, so service resumes by itself when the database returns.
    SQLite gets WAL, foreign keys and ``BEGIN IMMEDIATE`` so that two writers queue up instead
    of failing halfway through a transaction.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True
        options["pool_size"] = 5
        options["max_overflow"] = 10
        options["pool_timeout"] = 5
        options["connect_args"] = {"connect_timeout": 3}
    options.update(overrides)
    engine = create_engine(parsed, **options)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below is what runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def lock_texter(session: Session, texter_id: int) -> Texter | None:
    """Load a texter holding the row lock that serialises all work on their texts.

    On PostgreSQL this is ``SELECT ... FOR NO KEY UPDATE``: it excludes every other worker and
    claim on the texter, but not the webhook storing the texter's next text, whose foreign-key
    check takes only a KEY SHARE lock (plain ``FOR UPDATE`` would hold that webhook, and Twilio,
    waiting until the worker commits). On SQLite every write transaction already holds the
    database's single write lock (``BEGIN IMMEDIATE``). The lock lasts until the session's
    transaction ends.
    """
    return session.scalars(
        select(Texter).where(Texter.id == texter_id).with_for_update(key_share=True)
    ).first()


def lock_texter_of(
    session: Session, message_id: int, *, seen_at: datetime | None = None
) -> Texter | None:
    """:func:`lock_texter` for the texter who sent or gets message ``message_id``, found and
    locked in one statement; None when there is no such message.

    With ``seen_at`` the texter's ``last_seen_at`` is set in that same statement: an
    ``UPDATE ... RETURNING`` that leaves the key alone takes the same ``FOR NO KEY UPDATE``
    lock as :func:`lock_texter`.
    """
    owner = select(Message.texter_id).where(Message.id == message_id).scalar_subquery()
    if seen_at is None:
        return session.scalars(
            select(Texter).where(Texter.id == owner).with_for_update(key_share=True)
        ).first()
    return session.scalars(
        update(Texter)
        .where(Texter.id == owner)
        .values(last_seen_at=seen_at)
        .returning(Texter)
        .execution_options(synchronize_session=False)
    ).first()
