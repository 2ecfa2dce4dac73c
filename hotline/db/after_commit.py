"""Work that follows a commit, registered on the transaction that calls for it.

A service that stores a reply to send, or changes what a console shows, says so here, on the
session it works in: :func:`send`, :func:`changed`, :func:`queue_changed`. When that
transaction commits, everything it registered is run once, from one place: the runner its
session factory was given (:func:`install`; the runtime's is
:func:`hotline.background.jobs.follow_up`). It runs after the connection has gone back to the
pool, so it may open transactions of its own. A transaction that rolls back runs nothing: what
it registered goes with it. So no caller has to remember to hand work over, and nothing is
handed over for rows that were never written (as Warehouse's after-commit tasks and Zulip's
``send_event_on_commit`` do).

Savepoints are refused: what a rolled-back savepoint registered would otherwise outlive it, and
the hotline has no use for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

if TYPE_CHECKING:
    from hotline.db.models import Message

_REGISTERED = "hotline.after_commit"
_COMMITTED = "hotline.committed"


@dataclass(frozen=True)
class Claimed:
    """A reply claimed for sending in the transaction that stored it (see
    :func:`hotline.services.send.claim_with_store`): what its send needs, so that sending it
    takes no transaction of its own before Twilio is called."""

    message: Message
    to: str
    body: str


@dataclass
class Effects:
    """What one committed transaction calls for."""

    to_send: list[int] = field(default_factory=list)  # stored replies, in the order stored
    conversations: set[int] = field(default_factory=set)  # whose consoles refresh
    queue_changed: bool = False  # the queue, the lists that travel with it, the board
    at_once: bool = False  # send the replies here and now, not through the send task
    # Replies stored in the transaction, in order; their ids exist once it has flushed, and
    # become ``to_send`` when it commits.
    queued: list[Message] = field(default_factory=list)
    claimed: dict[int, Claimed] = field(default_factory=dict)  # by message id, once committed
    claiming: list[Claimed] = field(default_factory=list)  # in the transaction

    def __bool__(self) -> bool:
        return bool(self.to_send or self.queued or self.conversations or self.queue_changed)


Runner = Callable[[Effects], None]


def send(session: Session, message: Message) -> None:
    """Send the stored reply ``message`` once this transaction has committed. Its row need not
    be written yet: the commit writes it, and its id is read then."""
    registered(session).queued.append(message)


def claim(session: Session, claimed: Claimed) -> None:
    """``claimed.message`` (registered with :func:`send`) is claimed in this transaction: it
    is sent without a claim of its own once the transaction has committed."""
    registered(session).claiming.append(claimed)


def changed(session: Session, conversation_id: int) -> None:
    """Consoles showing this conversation refresh once this transaction has committed."""
    registered(session).conversations.add(conversation_id)


def queue_changed(session: Session) -> None:
    """The queue (and the advocates' lists and the board that travel with it) refreshes once
    this transaction has committed."""
    registered(session).queue_changed = True


def send_at_once(session: Session) -> None:
    """Send this transaction's replies from the process that committed it, not through the
    send task: a worker answering a texter, whose first reply is the one a surge delays."""
    registered(session).at_once = True


def registered(session: Session) -> Effects:
    """What the session's open transaction has registered so far."""
    if session.in_nested_transaction():
        raise RuntimeError("after-commit work cannot be registered inside a savepoint")
    effects = session.info.get(_REGISTERED)
    if effects is None:
        effects = session.info[_REGISTERED] = Effects()
    assert isinstance(effects, Effects)
    return effects


def install(factory: sessionmaker[Session], runner: Runner) -> None:
    """Run ``runner`` with what each committed transaction of ``factory``'s sessions
    registered, once the transaction has ended; drop what a rolled-back one registered."""

    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return
        effects = session.info[_COMMITTED] = session.info.pop(_REGISTERED, None)
        if effects is not None:  # every row is written now: the ids are known
            effects.to_send.extend(message.id for message in effects.queued)
            effects.claimed.update((c.message.id, c) for c in effects.claiming)

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        effects = session.info.pop(_COMMITTED, None)
        session.info.pop(_REGISTERED, None)  # rolled back: nothing happened, nothing follows
        if effects:
            runner(effects)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_transaction_end", ended)
