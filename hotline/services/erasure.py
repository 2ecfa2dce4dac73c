"""Emptying texter content, derived from what each column declares it holds
(:mod:`hotline.db.content`), and forgetting a number.

Used by the safe word, ``DELETE`` and a supervisor's erasure (everything ``erased``, at once)
and by the retention purge (everything ``purged``, for conversations past retention). Each
statement only touches what still needs it, so running one twice changes nothing more.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, delete, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.db.content import columns, tables
from hotline.db.models import Base, Conversation, Event, EventDetail, OptedOutNumber, Texter
from hotline.services import events

ERASED = "erased"
PURGED = "purged"


def _scope(
    table: Table,
    conversations: Select[Any],
    texter_id: int | None,
    loose_before: datetime | None,
) -> Any:
    """The rows of ``table`` that belong to ``conversations``, to the texter, or to no
    conversation and are older than ``loose_before``; None for a table that links to none of
    these (the texter's own row is :func:`forget_texter`'s)."""
    if table is Conversation.__table__:
        return table.c.id.in_(conversations)
    if "conversation_id" not in table.c:
        return None
    scopes: list[ColumnElement[bool]] = [table.c.conversation_id.in_(conversations)]
    if texter_id is not None and "texter_id" in table.c:
        # An inbound text not yet processed belongs to no conversation, only to its texter.
        scopes.append(table.c.texter_id == texter_id)
    if loose_before is not None and "texter_id" in table.c:
        # A texter's STOP, START or HELP, a text while opted out, their events: no
        # conversation's. (Staff events name no texter: their values stay.)
        loose = and_(table.c.conversation_id.is_(None), table.c.texter_id.is_not(None))
        if "created_at" in table.c:
            scopes.append(and_(loose, table.c.created_at < loose_before))
        else:
            old = select(Event.id).where(Event.created_at < loose_before)
            scopes.append(and_(loose, table.c.event_id.in_(old)))
    return or_(*scopes)


def _entity(table: Table) -> type[Base]:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return cast(type[Base], mapper.class_)
    raise LookupError(table.name)


def empty_content(
    session: Session,
    path: str,
    conversations: Select[Any],
    texter_id: int | None = None,
    *,
    loose_before: datetime | None = None,
    synchronize: Any = False,
) -> dict[str, int]:
    """Empty every column declared ``path`` ("erased" or "purged") in the rows of
    ``conversations`` (and of ``texter_id``'s texts, and rows of no conversation older than
    ``loose_before``), and delete the rows of tables declared so as a whole. How many rows
    changed, by table. ``synchronize`` is passed on as the ORM's ``synchronize_session``:
    "fetch" when the caller holds some of these rows as objects."""
    by_table: dict[Table, dict[str, Any]] = {}
    for table, column, held in columns(Base.metadata, where=path):
        empty = null() if held.empty is None else held.empty
        by_table.setdefault(table, {})[column.name] = (column, empty, held.empty)
    changed: dict[str, int] = {}
    for table, emptied in by_table.items():
        scope = _scope(table, conversations, texter_id, loose_before)
        if scope is None:
            continue
        not_empty = [
            column.is_not(None) if kept is None else column != kept
            for column, _, kept in emptied.values()
        ]
        result = session.execute(
            update(_entity(table))
            .where(scope, or_(*not_empty))
            .values({name: empty for name, (_, empty, _) in emptied.items()})
            .execution_options(synchronize_session=synchronize)
        )
        changed[table.name] = cast(int, result.rowcount)  # type: ignore[attr-defined]
    for table in tables(Base.metadata, where=path):
        scope = _scope(table, conversations, texter_id, loose_before)
        if scope is not None:
            result = session.execute(
                delete(_entity(table))
                .where(scope)
                .execution_options(synchronize_session=synchronize)
            )
            changed[table.name] = cast(int, result.rowcount)  # type: ignore[attr-defined]
    return changed


def empty_event_details(session: Session, conversation_id: int) -> None:
    """Empty the values of every event of an erased conversation, those recorded after its
    erasure in the same step included (the texter's tombstone names no conversation)."""
    session.flush()
    session.execute(
        update(EventDetail)
        .where(
            EventDetail.conversation_id == conversation_id,
            or_(EventDetail.detail.is_not(None), EventDetail.reason_ciphertext.is_not(None)),
        )
        .values(detail=null(), reason_ciphertext=None)
        .execution_options(synchronize_session="fetch")
    )


def _remember_opt_out(session: Session, phone_hash: str) -> None:
    dialect = session.get_bind().dialect.name
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    session.execute(insert(OptedOutNumber).values(phone_hash=phone_hash).on_conflict_do_nothing())


def forget_texter(session: Session, texter: Texter, *, keep_number: bool = False) -> None:
    """Cut the texter row from their number: the keyed hash becomes a random value of the same
    shape, so the same number texting again is a new texter, and nothing found by the number
    leads here. A STOP still holds: an opted-out number's hash is kept apart, alone, in
    ``opted_out_numbers``. The number itself goes too, unless ``keep_number`` (a confirmation
    is still to be sent; :func:`hotline.services.privacy.finish_erasures` drops it after)."""
    if texter.opted_out_at is not None:
        _remember_opt_out(session, texter.phone_hash)
    else:
        session.execute(
            delete(OptedOutNumber).where(OptedOutNumber.phone_hash == texter.phone_hash)
        )
    texter.phone_hash = secrets.token_hex(32)
    texter.opted_out_at = None
    if not keep_number:
        texter.phone_ciphertext = None


def erase_texter_content(
    session: Session,
    texter_id: int,
    now: datetime,
    *,
    actor_id: int | None,
    by: str,
    sealed_reason: bytes | None = None,
    keep_number: bool = False,
) -> None:
    """Erase everything a texter wrote or was written and everything that describes them, in
    every conversation: texts (pending replies included, so the send path cancels them),
    notes, answers, flags, tags, risk reasons and the values of their events; then forget their
    number (:func:`forget_texter`).

    The caller holds the texter's lock. A ``texter_erased`` event is the tombstone: who asked
    (``by``: "safe_word", "texter_request" or "supervisor", and ``actor_id``), when, how many
    texts, and the supervisor's reason, sealed, until the retention period ends.
    """
    session.flush()
    conversations = select(Conversation.id).where(Conversation.texter_id == texter_id)
    emptied = empty_content(session, ERASED, conversations, texter_id, synchronize="fetch")
    texter = session.get(Texter, texter_id)
    assert texter is not None
    forget_texter(session, texter, keep_number=keep_number)
    texter.erasure_requested_at = now
    events.record(
        session,
        "texter_erased",
        now,
        texter_id=texter_id,
        actor_id=actor_id,
        sealed_reason=sealed_reason,
        by=by,
        texts=emptied.get("messages", 0),
        notes=emptied.get("notes", 0),
    )
