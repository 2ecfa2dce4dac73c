"""Storing an inbound text exactly once. This is all the webhook does before it answers.

The webhook runs this for every text, so its statements are compiled once per dialect by
SQLAlchemy (with the columns' own conversions of values: enums, JSON, timestamps) and then run
on the pooled connection's driver cursor (:mod:`hotline.db.compiled`): SQLAlchemy's execution
and result layers cost the webhook a third of a millisecond a text, as much as the two inserts
and the commit themselves. The pool stays: a connection is still checked as it is taken
(:func:`hotline.db.session.make_engine`), and a driver error still leaves as SQLAlchemy's
(``OperationalError`` when the database is unavailable), with no values in its text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Dialect,
    Engine,
    Table,
    bindparam,
    case,
    exists,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session

from hotline.db.compiled import Compiled as _Compiled
from hotline.db.compiled import compile_statement as _compile
from hotline.db.compiled import driver_transaction, session_cursor
from hotline.db.models import Message, OptedOutNumber, Texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.sms.inbound import InboundText


@dataclass(frozen=True)
class _Statements:
    add_texter: _Compiled
    find_texter: _Compiled
    restore_phone: _Compiled
    add_message: _Compiled


_MESSAGE_KEYS = [
    "texter_id",
    "direction",
    "body_ciphertext",
    "twilio_sid",
    "status",
    "num_media",
    "media_types",
    "compliance_notice",
    "send_attempts",
    "created_at",
    "status_updated_at",
]


@functools.lru_cache(maxsize=16)
def _statements(dialect: Dialect) -> _Statements:
    """The webhook's statements, compiled once per dialect: the webhook runs them for every
    text, and building a statement costs more than sending it. Values come as parameters."""
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect.name)
    if insert is None:
        raise RuntimeError(f"unsupported database: {dialect.name}")
    texters, messages = cast(Table, Texter.__table__), cast(Table, Message.__table__)
    # A number whose texter was erased or forgotten after a STOP starts opted out (the only
    # thing kept of them: hotline.services.erasure.forget_texter). The column names are taken
    # by the row's own values, hence the other names.
    hash_: BindParameter[str] = bindparam("hash_")
    at: BindParameter[datetime] = bindparam("at_")
    opted_out = select(OptedOutNumber.phone_hash).where(OptedOutNumber.phone_hash == hash_)
    add_texter = (
        insert(texters)
        .values(
            phone_hash=hash_,
            created_at=at,
            last_seen_at=at,
            opted_out_at=case((exists(opted_out), at), else_=null()),
        )
        .on_conflict_do_nothing(index_elements=["phone_hash"])
        .returning(texters.c.id)
    )
    find_texter = select(Texter.id, Texter.phone_ciphertext.is_not(None)).where(
        Texter.phone_hash == hash_
    )
    restore_phone = (
        update(texters)
        .where(texters.c.id == bindparam("texter_id_"))
        .values(phone_ciphertext=bindparam("ciphertext_"))
    )
    add_message = (
        insert(messages)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(messages.c.id)
    )
    return _Statements(
        add_texter=_compile(add_texter, dialect, ["hash_", "phone_ciphertext", "language", "at_"]),
        find_texter=_compile(find_texter, dialect, ["hash_"]),
        restore_phone=_compile(restore_phone, dialect, ["texter_id_", "ciphertext_"]),
        add_message=_compile(add_message, dialect, _MESSAGE_KEYS),
    )


def find_or_add_texter(session: Session, vault: Vault, phone: str, now: datetime) -> int:
    """The id of the texter with this number, adding them if new. Safe under concurrency."""
    with session_cursor(session) as (dialect, cursor):
        return _find_or_add_texter(cursor, _statements(dialect), vault, phone, now)


def _find_or_add_texter(
    cursor: DBAPICursor, statements: _Statements, vault: Vault, phone: str, now: datetime
) -> int:
    phone_hash = vault.phone_hash(phone)
    # Twice at most: an erasure or the purge can replace the hash between the two statements,
    # and the number is then a new texter.
    for _ in range(2):
        added = statements.add_texter.run(
            cursor,
            {
                "hash_": phone_hash,
                "phone_ciphertext": vault.encrypt(phone),
                "language": "en",
                "at_": now,
            },
        )
        if added is not None:
            return int(added[0])
        found = statements.find_texter.run(cursor, {"hash_": phone_hash})
        if found is None:
            continue
        texter_id, has_phone = found
        if not has_phone:  # the number was dropped a moment ago: we need it to answer them
            statements.restore_phone.run(
                cursor, {"texter_id_": texter_id, "ciphertext_": vault.encrypt(phone)}
            )
        return int(texter_id)
    raise RuntimeError("a texter's row kept changing while their text was stored")


def store_inbound(engine: Engine, vault: Vault, text: InboundText, now: datetime) -> int | None:
    """Store one inbound text and commit; the id of the new message, or None when its SID is
    known already.

    A repeated delivery of one ``MessageSid`` (Twilio retries, or the same request twice at
    once) stores nothing new and returns None, not even a texter: the texter row and the
    message are written in one transaction of their own, rolled back together when the
    message's insert finds the SID taken. Neither a look-up of the SID first nor a savepoint:
    the webhook answers Twilio only after this commits, and each would be one more round trip
    to wait for. It runs on a pooled connection's driver cursor, without an ORM session or
    SQLAlchemy's execution layers (see the module's docstring): nothing here needs them, and
    the webhook runs this for every text. Raises SQLAlchemyError when the database is
    unavailable.
    """
    statements = _statements(engine.dialect)
    with driver_transaction(engine) as (connection, cursor):
        texter_id = _find_or_add_texter(cursor, statements, vault, text.phone, now)
        stored = statements.add_message.run(
            cursor,
            {
                "texter_id": texter_id,
                "direction": Direction.INBOUND,
                "body_ciphertext": vault.encrypt(text.body),
                "twilio_sid": text.message_sid,
                "status": DeliveryStatus.RECEIVED,
                "num_media": text.num_media,
                "media_types": list(text.media_types) or None,
                "compliance_notice": False,
                "send_attempts": 0,
                "created_at": now,
                "status_updated_at": now,
            },
        )
        if stored is None:  # stored before, or by a concurrent delivery just now
            connection.rollback()
            return None
        connection.commit()
        return int(stored[0])
