"""Writing the append-only event log, and reading a stated reason back.

Events are written without the ORM's unit of work: a worker records several for each text, and
flushing them as objects (state, identity map, dependency sort, the detail's listener) cost
more than the statements. :func:`record` keeps each as plain values on the session, and they
are written, in the order recorded, with two Core statements on the session's connection:

- before any statement the session executes (``session.execute``, ``scalars``, ``get``,
  ``refresh``, a lazy load), so a look-up sees them as autoflush made it see them before
  (and, as autoflush, not inside ``session.no_autoflush``);
- before every flush, and at commit (and before a savepoint begins, or is released);
- never, when the transaction rolls back or the session closes: they go with it.

What runs on ``session.connection()`` directly, or on the driver's cursor, bypasses the session
and so does not write them first: none of that reads the event log. Every caller passes ids of
rows already in the database, or None: an event can be written before the session's own
pending objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, event, exc, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from hotline.db.models import Event, EventDetail
from hotline.infra.vault import Vault, VaultError

# session.info keys: the events recorded and not yet written, in order (see _Pending); and the
# mark of a transaction in which writing them failed, which must not commit.
_PENDING = "hotline.events.pending"
_FAILED = "hotline.events.failed"

# One recorded event: the events row's values, then its detail's, or None when it has none.
_Pending = tuple[dict[str, Any], "dict[str, Any] | None"]

_EVENTS = cast(Table, Event.__table__)
_DETAILS = cast(Table, EventDetail.__table__)
# Built once: the worker writes events for every text. The ids come back in the rows' order,
# which is the order recorded (insertmanyvalues sorts them so on every backend).
_ADD_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_ADD_DETAILS = insert(_DETAILS)


def record(
    session: Session,
    kind: str,
    at: datetime,
    *,
    conversation_id: int | None = None,
    texter_id: int | None = None,
    message_id: int | None = None,
    actor_id: int | None = None,
    sealed_reason: bytes | None = None,
    **detail: Any,
) -> None:
    """Append one event to ``session``'s transaction; it is written before the session's next
    statement, flush or commit (see the module's docstring), and dropped if it rolls back.

    The line itself keeps only ``kind``, the time, the ids and the actor; ``detail`` (ids, codes
    and figures, never a phone number or a text) and ``sealed_reason`` (a staff member's stated
    reason, encrypted by the caller with :meth:`Vault.encrypt`) go to its erasable
    :class:`EventDetail`. The ids must be of rows already written, or None. Use
    :func:`record_at_once` for the event's id.
    """
    entry = _entry(
        kind, at, conversation_id, texter_id, message_id, actor_id, sealed_reason, detail
    )
    if not session.in_transaction():
        # No transaction to drop it with on a rollback or a close (they end none): it begins one
        # and is written now.
        _write(session, [entry])
        return
    pending = session.info.get(_PENDING)
    if pending is None:
        session.info[_PENDING] = [entry]
    else:
        pending.append(entry)


def record_at_once(session: Session, kind: str, at: datetime, **values: Any) -> int:
    """:func:`record` (the same arguments), written now with those recorded before it; its id."""
    session.connection()  # in a transaction, so that record keeps it with the others
    record(session, kind, at, **values)
    return _write(session, session.info.pop(_PENDING))[-1]


def write_recorded(session: Session) -> None:
    """Write the events recorded in ``session``'s transaction and not yet written. The
    session's hooks call this; a caller needs it only before reading the event log on
    ``session.connection()`` directly."""
    pending = session.info.pop(_PENDING, None)
    if pending:
        _write(session, pending)


def _entry(
    kind: str,
    at: datetime,
    conversation_id: int | None,
    texter_id: int | None,
    message_id: int | None,
    actor_id: int | None,
    sealed_reason: bytes | None,
    detail: dict[str, Any],
) -> _Pending:
    row = {
        "kind": kind,
        "conversation_id": conversation_id,
        "texter_id": texter_id,
        "message_id": message_id,
        "actor_id": actor_id,
        "created_at": at,
    }
    if not detail and sealed_reason is None:
        return row, None
    # The detail repeats the event's conversation and texter, as the model's listener sets
    # them for a detail added through the ORM.
    return row, {
        "conversation_id": conversation_id,
        "texter_id": texter_id,
        "detail": detail or None,
        "reason_ciphertext": sealed_reason,
    }


def _write(
    session: Session, pending: list[_Pending], connection: Connection | None = None
) -> list[int]:
    """Write ``pending`` on ``connection`` (the session's by default); their ids, in order."""
    if connection is None:
        connection = session.connection()
    try:
        ids = list(connection.execute(_ADD_EVENTS, [row for row, _ in pending]).scalars())
        details = [
            {"event_id": event_id, **erasable}
            for event_id, (_, erasable) in zip(ids, pending, strict=True)
            if erasable is not None
        ]
        if details:
            connection.execute(_ADD_DETAILS, details)
    except BaseException:
        # The flush this stands in for would leave the transaction unable to commit; so must
        # this, even on SQLite, where a failed statement does not end the transaction.
        session.info[_FAILED] = True
        raise
    return ids


def stated_reason(vault: Vault, event: Event) -> str | None:
    """The reason a staff member gave for ``event``, while it is kept; None when there was none
    or it was erased (or cannot be read with today's keys)."""
    if event.erasable is None or event.erasable.reason_ciphertext is None:
        return None
    try:
        return vault.decrypt(event.erasable.reason_ciphertext)
    except VaultError:
        return None


# The session's hooks, on every Session: a session that can record an event has them, whoever
# made it (the runtime's factory, a test's, a script's).


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    # Not inside ``no_autoflush``: where a caller saves a flush, events wait for the next
    # statement too, as they did when flushed as objects.
    session = state.session
    if _PENDING in session.info and session.autoflush:
        write_recorded(session)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if _PENDING in session.info:
        write_recorded(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if _PENDING in session.info:
        write_recorded(session)
    if session.info.get(_FAILED):
        # What a failed flush leaves the session raising, and handlers already know.
        raise exc.PendingRollbackError("events of this transaction could not be written")


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begins(session: Session, transaction: SessionTransaction) -> None:
    # What was recorded before a savepoint belongs to the transaction around it: written there,
    # before the SAVEPOINT, so that rolling the savepoint back keeps it.
    if transaction.nested and _PENDING in session.info:
        parent = transaction.parent
        assert parent is not None
        _write(session, session.info.pop(_PENDING), parent.connection(None))


@event.listens_for(Session, "after_transaction_end")
def _transaction_ends(session: Session, transaction: SessionTransaction) -> None:
    # A flush's own inner transaction ends too: only a real one (or a savepoint) takes what was
    # recorded in it along. Committed, nothing is left; rolled back or closed, it goes unwritten.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_FAILED, None)
    elif transaction.nested:
        session.info.pop(_PENDING, None)
