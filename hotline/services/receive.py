"""Storing an inbound text exactly once. This is all the webhook does before it answers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Connection,
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
from sqlalchemy.orm import Session

from hotline.db.models import Message, OptedOutNumber, Texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.sms.inbound import InboundText


@dataclass(frozen=True)
class _Statements:
    add_texter: Any
    add_message: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    """The webhook's two inserts, built once per dialect: the webhook runs them for every text,
    and building a statement costs more than sending it. Values come as parameters."""
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"unsupported database: {dialect}")
    texters, messages = cast(Table, Texter.__table__), cast(Table, Message.__table__)
    # A number whose texter was erased or forgotten after a STOP starts opted out (the only
    # thing kept of them: hotline.services.erasure.forget_texter). The column names are taken
    # by the row's own values, hence the other names.
    hash_: BindParameter[str] = bindparam("hash_")
    at: BindParameter[datetime] = bindparam("at_")
    opted_out = select(OptedOutNumber.phone_hash).where(OptedOutNumber.phone_hash == hash_)
    return _Statements(
        add_texter=insert(texters)
        .values(
            phone_hash=hash_,
            created_at=at,
            last_seen_at=at,
            opted_out_at=case((exists(opted_out), at), else_=null()),
        )
        .on_conflict_do_nothing(index_elements=["phone_hash"])
        .returning(texters.c.id),
        add_message=insert(messages)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(messages.c.id),
    )


def find_or_add_texter(session: Session, vault: Vault, phone: str, now: datetime) -> int:
    """The id of the texter with this number, adding them if new. Safe under concurrency."""
    return _find_or_add_texter(session.connection(), vault, phone, now)


def _find_or_add_texter(connection: Connection, vault: Vault, phone: str, now: datetime) -> int:
    phone_hash = vault.phone_hash(phone)
    statements = _statements(connection.dialect.name)
    # Twice at most: an erasure or the purge can replace the hash between the two statements,
    # and the number is then a new texter.
    for _ in range(2):
        texter_id = connection.execute(
            statements.add_texter,
            {
                "hash_": phone_hash,
                "phone_ciphertext": vault.encrypt(phone),
                "language": "en",
                "at_": now,
            },
        ).scalar_one_or_none()
        if texter_id is not None:
            return int(texter_id)
        found = connection.execute(
            select(Texter.id, Texter.phone_ciphertext.is_not(None)).where(
                Texter.phone_hash == phone_hash
            )
        ).one_or_none()
        if found is None:
            continue
        texter_id, has_phone = found
        if not has_phone:  # the number was dropped a moment ago: we need it to answer them
            connection.execute(
                update(Texter)
                .where(Texter.id == texter_id)
                .values(phone_ciphertext=vault.encrypt(phone))
            )
        return int(texter_id)
    raise RuntimeError("a texter's row kept changing while their text was stored")


class _SidTaken(Exception):
    """Raised inside the transaction to roll it back: the SID was stored before."""


def store_inbound(engine: Engine, vault: Vault, text: InboundText, now: datetime) -> int | None:
    """Store one inbound text and commit; the id of the new message, or None when its SID is
    known already.

    A repeated delivery of one ``MessageSid`` (Twilio retries, or the same request twice at
    once) stores nothing new and returns None, not even a texter: the texter row and the
    message are written in one transaction of their own, rolled back together when the
    message's insert finds the SID taken. Neither a look-up of the SID first nor a savepoint:
    the webhook answers Twilio only after this commits, and each would be one more round trip
    to wait for. It runs on a connection of its own, without an ORM session: nothing here needs
    one, and the webhook runs this for every text. Raises SQLAlchemyError when the database is
    unavailable.
    """
    try:
        with engine.begin() as connection:
            texter_id = _find_or_add_texter(connection, vault, text.phone, now)
            message_id = connection.execute(
                _statements(connection.dialect.name).add_message,
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
            ).scalar_one_or_none()
            if message_id is None:  # stored before, or by a concurrent delivery just now
                raise _SidTaken
    except _SidTaken:
        return None
    return int(message_id)
