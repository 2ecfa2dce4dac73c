"""Statements compiled once and run on a pooled connection's driver cursor.

For the few statements the webhook and the worker run for every text: SQLAlchemy compiles each
once per dialect (with the columns' own conversions of values: enums, JSON, timestamps), and
it then runs without SQLAlchemy's execution and result layers, which cost more than sending a
one-row statement. A driver error still leaves as SQLAlchemy's (:func:`database_error`), with
no values in its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, Engine
from sqlalchemy import exc as db_errors
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from hotline.db.session import SQLITE_BEGIN, keep_values_out_of_error


@dataclass(frozen=True)
class Compiled:
    """One statement as the driver takes it: its SQL, and how to turn values into its
    parameters (the columns' conversions applied, in order for a positional paramstyle)."""

    sql: str | bytes
    positions: tuple[str, ...] | None  # None: the driver takes named parameters
    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]

    def run(self, cursor: DBAPICursor, values: dict[str, Any]) -> Any:
        """Execute with ``values``; the first row, or None."""
        self.execute(cursor, values)
        return cursor.fetchone()

    def execute(self, cursor: DBAPICursor, values: dict[str, Any]) -> None:
        """Execute with ``values``, for a statement that returns no rows."""
        for name, convert in self.conversions:
            values[name] = convert(values[name])
        if self.positions is None:
            cursor.execute(self.sql, values)
        else:
            cursor.execute(self.sql, tuple(values[name] for name in self.positions))


def compile_statement(statement: ClauseElement, dialect: Dialect, keys: list[str]) -> Compiled:
    """``statement`` compiled for ``dialect``, taking the parameters named in ``keys``."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))
    conversions = []
    for name, bind in compiled.binds.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            conversions.append((name, convert))
    positions = tuple(compiled.positiontup or ()) if compiled.positional else None
    sql: str | bytes = compiled.string
    if dialect.driver == "psycopg":
        sql = compiled.string.encode()  # psycopg would encode it again on every execute
    return Compiled(sql, positions, tuple(conversions))


def database_error(error: Exception, dialect: Dialect) -> db_errors.StatementError:
    """The driver's ``error`` as SQLAlchemy would have raised it (``OperationalError`` for a
    database that is not there), without values in its text (:mod:`hotline.db.session`)."""
    wrapped = db_errors.DBAPIError.instance(
        None,
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=dialect,
        ismulti=False,
    )
    keep_values_out_of_error(error, wrapped)
    return wrapped


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[tuple[PoolProxiedConnection, DBAPICursor]]:
    """A pooled connection and its driver cursor, in a transaction of its own that the block
    commits (or rolls back) itself: for statements compiled here.

    The pool's check of the connection runs as it is taken, SQLite gets its ``BEGIN IMMEDIATE``
    from the constant the engine's own transactions use, a driver error leaves as SQLAlchemy's
    (:func:`database_error`) and invalidates a connection that was lost, and at the end the
    connection goes back to the pool, which rolls back whatever the block left open.
    """
    dialect = engine.dialect
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise database_error(error, dialect) from error
    cursor = None
    try:
        cursor = connection.cursor()
        if dialect.name == "sqlite":
            cursor.execute(SQLITE_BEGIN)  # the driver leaves transactions to us there
        yield connection, cursor
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, connection.dbapi_connection, cursor):
            connection.invalidate(error)
        raise database_error(error, dialect) from error
    finally:
        if cursor is not None:
            cursor.close()
        connection.close()


@contextmanager
def session_cursor(session: Session) -> Iterator[tuple[Dialect, DBAPICursor]]:
    """The driver cursor of ``session``'s connection, in its transaction (begun here if it was
    not), with its dialect: for statements compiled here. A driver error leaves as
    SQLAlchemy's (:func:`database_error`); the transaction is the session's to end."""
    connection = session.connection()
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    try:
        yield dialect, cursor
    except dialect.loaded_dbapi.Error as error:
        raise database_error(error, dialect) from error
    finally:
        cursor.close()
