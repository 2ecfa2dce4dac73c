"""Engines and sessions, tuned per backend.

Every engine is made here, and none lets a failing statement carry its values into a log line
or an exception's text: a sign-in email, a reason, a ciphertext stays out of the error log
(see :func:`make_engine`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    create_engine,
    event,
    exc,
    inspect,
    make_url,
    select,
    update,
)
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_state

from hotline.db.models import Conversation, Message, Texter


def make_engine(url: str, **overrides: Any) -> Engine:
    """An engine for ``url``. Connects lazily: nothing is opened here.

    PostgreSQL gets a short connect timeout, so a database outage turns into a fast 5xx rather
    than a hung webhook, and a check of every pooled connection it hands out (see
    :func:`_check_on_checkout`), so service resumes by itself when the database returns.
    SQLite gets WAL, foreign keys and ``BEGIN IMMEDIATE`` so that two writers queue up instead
    of failing halfway through a transaction.

    On every backend a failing statement's error shows its SQL but never its parameters
    (``hide_parameters``), and on PostgreSQL the server's ``DETAIL`` line, which repeats the
    offending value ("Key (email)=(...) already exists"), is cut from the error's text (see
    :func:`_keep_values_out_of_errors`). ``overrides`` cannot turn either off.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        options["pool_use_lifo"] = True  # the connection used last is the one known alive
        options["pool_size"] = 5
        options["max_overflow"] = 10
        options["pool_timeout"] = 5
        options["connect_args"] = {"connect_timeout": 3}
    options.update(overrides)
    options["hide_parameters"] = True
    engine = create_engine(parsed, **options)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _check_on_checkout(engine)
        _keep_values_out_of_errors(engine)
    return engine


def _keep_values_out_of_errors(engine: Engine) -> None:
    """Cut a PostgreSQL error's text down to its primary message.

    libpq writes the server's ``DETAIL`` (and ``CONTEXT``) into the message psycopg raises, and
    for a unique or check violation the detail quotes the value itself: "Key (email)=(...)
    already exists". ``hide_parameters`` does not reach it. The full diagnostics stay on the
    driver's exception (``orig.diag``) for code that needs a constraint's name; only the text
    that tracebacks and log lines print is shortened.
    """

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        keep_values_out_of_error(context.original_exception, context.sqlalchemy_exception)


def keep_values_out_of_error(original: BaseException, wrapped: BaseException | None) -> None:
    """Cut the driver's ``original`` error, and SQLAlchemy's ``wrapped`` one made of it, down
    to the server's primary message (see :func:`_keep_values_out_of_errors`). For code that
    runs statements on the driver's own cursor, where no ``handle_error`` event fires."""
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    if not primary or not original.args or original.args[0] == primary:
        return
    full = str(original.args[0])
    original.args = (primary,)
    if wrapped is not None and len(wrapped.args) == 1:
        # SQLAlchemy wrote the driver's text into its own message already.
        wrapped.args = (str(wrapped.args[0]).replace(full, primary),)


# A pooled connection idle for longer than this is pinged before use: a connection a network
# device dropped without a word looks healthy until a round trip tells.
PING_AFTER_IDLE_SECONDS = 30.0


def _check_on_checkout(engine: Engine) -> None:
    """Pre-ping without the round trip, for connections in steady use.

    SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` before every transaction: for the
    webhook, one more round trip per text. Instead, a connection taken from the pool is dropped
    (and the whole pool with it) when its socket has something to read: an idle PostgreSQL
    connection receives nothing unless the server is going away (the "terminating connection"
    notice on a shutdown, the end of the stream once it has gone). That costs one ``poll``
    system call. Only a connection idle for longer than ``PING_AFTER_IDLE_SECONDS`` is pinged.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["idle_since"] = (id(dbapi_connection), time.monotonic())

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if getattr(dbapi_connection, "broken", False) or _has_input(dbapi_connection):
            raise exc.InvalidatePoolError("the server closed the connection")
        identity, since = record.info.get("idle_since", (None, 0.0))
        if identity != id(dbapi_connection):
            return  # new since it was last checked in: just connected
        if time.monotonic() - since > PING_AFTER_IDLE_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as error:
                raise exc.DisconnectionError("the pooled connection did not answer") from error


def _has_input(dbapi_connection: Any) -> bool:
    """True when the server has sent something to a connection that is not waiting for
    anything, or closed it."""
    from select import POLLIN, POLLPRI, poll  # PostgreSQL servers: Linux and the like

    try:
        fd = dbapi_connection.fileno()
    except Exception:
        return True  # closed already
    poller = poll()
    poller.register(fd, POLLIN | POLLPRI)
    return bool(poller.poll(0))


# How a write transaction starts on SQLite: the driver is left in autocommit mode, so that
# this, not the driver's deferred BEGIN, is what runs (two writers queue instead of failing).
SQLITE_BEGIN = "BEGIN IMMEDIATE"


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
        connection.exec_driver_sql(SQLITE_BEGIN)


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


def lock_conversation(session: Session, conversation_id: int) -> Conversation | None:
    """A conversation read again under its texter's lock (:func:`lock_texter`), so that what
    a service then checks of it (its holder, its state, an erasure) cannot change before the
    transaction ends; None when there is no such conversation."""
    texter_id = session.scalar(
        select(Conversation.texter_id).where(Conversation.id == conversation_id)
    )
    if texter_id is None:
        return None
    lock_texter(session, texter_id)
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        session.refresh(conversation)
    return conversation


def lock_texter_of(
    session: Session, message_id: int, *, seen_at: datetime | None = None
) -> Texter | None:
    """:func:`lock_texter` for the texter who sent or gets message ``message_id``, found and
    locked in one statement; None when there is no such message.

    With ``seen_at`` the texter's ``last_seen_at`` is set in that same statement: an
    ``UPDATE ... RETURNING`` that leaves the key alone takes the same ``FOR NO KEY UPDATE``
    lock as :func:`lock_texter`.
    """
    if seen_at is None:
        return session.scalars(_LOCK_OWNER, {"message_id": message_id}).first()
    # Core, and the object made from the row: the ORM's UPDATE ... RETURNING of an entity cost
    # the worker more than the statement itself, for every text.
    touched = session.connection().execute(
        _TOUCH_OWNER, {"message_id": message_id, "seen_at": seen_at}
    )
    row = touched.mappings().first()
    return None if row is None else adopt(session, Texter, row)


_Entity = TypeVar("_Entity")


def adopt(session: Session, entity: type[_Entity], row: Mapping[Any, Any]) -> _Entity:
    """The session's object for a row read or written with Core (``row``: every column's
    value, by column name): made as if the ORM had loaded it, or, when the session holds it
    already, that one, read again.

    For the worker's statements, where the ORM's own loading of one row costs more than the
    statement. Raises KeyError when a column is missing: an object made without it would load
    it later, one more statement.
    """
    mapper = inspect(entity)
    values = {prop.key: row[prop.columns[0].name] for prop in mapper.column_attrs}
    held = session.identity_map.get(mapper.identity_key_from_primary_key(
        [values[mapper.get_property_by_column(column).key] for column in mapper.primary_key]
    ))  # fmt: skip
    if held is not None:
        # What the statement just wrote or locked, over what it held: its own changes first,
        # as the ORM's statement would have flushed them before it ran.
        session.flush()
        session.refresh(held)
        return cast(_Entity, held)
    # As the ORM's loading makes an object: no constructor, its values set as loaded.
    made = mapper.class_manager.new_instance()
    instance_state(made).dict.update(values)
    make_transient_to_detached(made)  # its values as the row's: nothing to write
    session.add(made)
    return cast(_Entity, made)


# Built once: the worker runs these for every text, and building costs more than running.
_OWNER = select(Message.texter_id).where(Message.id == bindparam("message_id")).scalar_subquery()
_LOCK_OWNER = select(Texter).where(Texter.id == _OWNER).with_for_update(key_share=True)
_TEXTERS = cast(Table, Texter.__table__)
_TOUCH_OWNER = (
    update(_TEXTERS)
    .where(_TEXTERS.c.id == _OWNER)
    .values(last_seen_at=bindparam("seen_at"))
    .returning(*_TEXTERS.columns)
)
