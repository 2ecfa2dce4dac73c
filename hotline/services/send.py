"""Sending one stored outbound text, at most once.

The send runs in three steps, each its own transaction or none:

1. *Claim*: a conditional update moves the message from ``pending`` to ``submitting``. Only one
   worker can win it. Opt-out and erasure are checked here, under the texter's row lock. A
   worker answering a texter claims its replies in the transaction that stores them, under the
   same lock and by the same rules (:func:`claim_with_store`): one transaction fewer per reply.
2. *Call Twilio*, holding no transaction.
3. *Record* what Twilio said. Until this commits the message stays ``submitting``.

Replies to one texter leave in the order they were stored: a reply waits while an older one to
the same texter is still unsent.

A message found ``submitting`` for longer than the lease belongs to a worker that died or timed
out mid-call. Twilio may or may not have taken it, so it is *reconciled*: Twilio is asked
whether it has that text; only when it does not is the text sent again.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Engine,
    bindparam,
    case,
    false,
    func,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import after_commit
from hotline.db.after_commit import Claimed
from hotline.db.compiled import Compiled, compile_statement, driver_transaction
from hotline.db.models import Message, Texter
from hotline.db.session import lock_texter_of
from hotline.domain.delivery import DeliveryStatus, Direction, advances
from hotline.infra import metrics
from hotline.infra.clock import Clock
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.sms.sender import (
    OPTED_OUT_ERROR,
    Accepted,
    AmbiguousSendError,
    OutboundText,
    PermanentSendError,
    RetryableSendError,
    Sender,
)

log = logging.getLogger(__name__)

# How long a reply waits for an older reply to the same texter to leave first.
ORDER_WAIT_SECONDS = 0.5


class SendResult(StrEnum):
    SENT = "sent"  # Twilio has it (now, or already before this attempt)
    CANCELED = "canceled"  # not sent by decision: opted out, erased
    FAILED = "failed"  # Twilio refused it for good, or retries ran out
    RETRY = "retry"  # try again after ``retry_after`` seconds
    NOTHING = "nothing"  # no such message, or not ours to send


@dataclass(frozen=True)
class SendPolicy:
    max_retries: int = 8
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    # How long a claim is trusted before another worker may reconcile it.
    lease_seconds: float = 30.0

    def backoff(self, attempts: int) -> float:
        delay = min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)
        return float(delay * random.uniform(0.8, 1.2))  # jitter: a surge's retries do not align


@dataclass(frozen=True)
class SendOutcome:
    result: SendResult
    retry_after: float = 0.0
    conversation_id: int | None = None


@dataclass(frozen=True)
class _Claim:
    conversation_id: int | None
    to: str
    body: str
    since: datetime | None  # set when reconciling an earlier, unfinished attempt
    attempts: int


class Dispatcher:
    """Carries out :func:`send` for one process: sessions, carrier, keys, clock and policy."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: Sender,
        vault: Vault,
        clock: Clock,
        policy: SendPolicy,
        status_callback: Callable[[int], str | None],
    ) -> None:
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.sender = sender
        self.vault = vault
        self.clock = clock
        self.policy = policy
        self.status_callback = status_callback

    def send(self, message_id: int) -> SendOutcome:
        """Send message ``message_id`` unless it was sent, canceled or is being sent.

        Never raises for carrier trouble: the outcome says whether to retry and when.
        """
        outcome = self._send(message_id)
        metrics.SENDS.labels(result=outcome.result.value).inc()
        return outcome

    def send_claimed(self, claimed: Claimed) -> SendOutcome:
        """Send a reply claimed in the transaction that stored it (:func:`claim_with_store`),
        once that has committed: as :meth:`send` does after its claim."""
        message = claimed.message
        claim = _Claim(
            conversation_id=message.conversation_id,
            to=claimed.to,
            body=claimed.body,
            since=None,
            attempts=message.send_attempts,
        )
        outcome = self._deliver(message.id, claim)
        metrics.SENDS.labels(result=outcome.result.value).inc()
        return outcome

    def release_claimed(self, message_ids: list[int]) -> None:
        """Put replies claimed with their store back to pending, untried: one stored before
        them did not go, and they leave after it, through the send task's own claim."""
        if message_ids:
            now = self.clock.now()
            with self.sessions.begin() as session:
                session.connection().execute(
                    _UNCLAIM, [{"message_id": i, "now": now} for i in message_ids]
                )

    def _send(self, message_id: int) -> SendOutcome:
        claim = self._claim(message_id)
        if isinstance(claim, SendOutcome):
            return claim
        return self._deliver(message_id, claim)

    def _deliver(self, message_id: int, claim: _Claim) -> SendOutcome:
        """Call Twilio for a claimed reply and record what it said."""
        if claim.since is not None:
            found = self.sender.find_sent(claim.to, claim.body, claim.since)
            if found is not None:
                self._record_accepted(message_id, found)
                log.info("send reconciled: message %s was already with Twilio", message_id)
                return SendOutcome(SendResult.SENT, conversation_id=claim.conversation_id)
        text = OutboundText(claim.to, claim.body, self.status_callback(message_id))
        try:
            accepted = self.sender.send(text)
        except RetryableSendError as exc:
            outcome = self._release_for_retry(message_id, claim.attempts, str(exc), exc.retry_after)
            return replace(outcome, conversation_id=claim.conversation_id)
        except PermanentSendError as exc:
            outcome = self._record_refusal(message_id, exc)
            return replace(outcome, conversation_id=claim.conversation_id)
        except AmbiguousSendError as exc:
            # Stay "submitting": the next attempt asks Twilio before sending again.
            log.warning("send of message %s ambiguous: %s", message_id, exc)
            return SendOutcome(SendResult.RETRY, self.policy.lease_seconds)
        self._record_accepted(message_id, accepted)
        return SendOutcome(SendResult.SENT, conversation_id=claim.conversation_id)

    def _claim(self, message_id: int) -> _Claim | SendOutcome:
        now = self.clock.now()
        with self.sessions.begin() as session:
            texter = lock_texter_of(session, message_id)
            message = session.get(Message, message_id) if texter is not None else None
            if texter is None or message is None or message.direction is not Direction.OUTBOUND:
                return SendOutcome(SendResult.NOTHING)
            status = message.status
            if status is DeliveryStatus.PENDING:
                if message.next_attempt_at is not None and message.next_attempt_at > now:
                    wait = (message.next_attempt_at - now).total_seconds()
                    return SendOutcome(SendResult.RETRY, wait)
                since = None
            elif status is DeliveryStatus.SUBMITTING:
                assert message.submitted_at is not None
                lease_end = message.submitted_at + timedelta(seconds=self.policy.lease_seconds)
                if lease_end > now:
                    return SendOutcome(SendResult.RETRY, (lease_end - now).total_seconds())
                since = message.submitted_at - timedelta(seconds=5)
            else:
                return SendOutcome(SendResult.NOTHING)

            reason = _reason_not_to_send(texter, message)
            if reason is None and _older_reply_unsent(session, message):
                # Replies leave in the order they were written: a texter reading the second
                # question before the first is confused, and that costs trust.
                return SendOutcome(SendResult.RETRY, ORDER_WAIT_SECONDS)
            if reason is not None:
                message.status = DeliveryStatus.CANCELED
                message.status_updated_at = now
                # An erased texter's cancelled replies say no more than that they were.
                why: dict[str, Any] = (
                    {} if texter.erasure_requested_at is not None else {"reason": reason}
                )
                events.record(
                    session,
                    "send_canceled",
                    now,
                    conversation_id=message.conversation_id,
                    texter_id=texter.id,
                    message_id=message.id,
                    **why,
                )
                return SendOutcome(SendResult.CANCELED, conversation_id=message.conversation_id)
            attempts = message.send_attempts + 1
            claimed: int = session.execute(  # type: ignore[attr-defined]
                _CLAIM, {"message_id": message_id, "from_status": status, "now": now}
            ).rowcount
            if claimed != 1:
                return SendOutcome(SendResult.NOTHING)
            assert texter.phone_ciphertext is not None and message.body_ciphertext is not None
            return _Claim(
                conversation_id=message.conversation_id,
                to=self.vault.decrypt(texter.phone_ciphertext),
                body=self.vault.decrypt(message.body_ciphertext),
                since=since,
                attempts=attempts,
            )

    def _record_accepted(self, message_id: int, accepted: Accepted) -> None:
        """One UPDATE: a status callback may have got here first with a later status, and
        keeps it (PostgreSQL evaluates the CASE on the row as the callback left it).

        In a transaction of its own, on a pooled connection's driver cursor with the statement
        compiled once (:mod:`hotline.db.compiled`): every reply runs it, and SQLAlchemy's
        execution layers cost several times the one-row UPDATE. Raises SQLAlchemyError
        (``OperationalError`` when the database is unavailable), without values in its text.
        """
        try:
            reported = DeliveryStatus(accepted.status)
        except ValueError:
            reported = DeliveryStatus.QUEUED
        earlier = [status for status in DeliveryStatus if advances(status, reported)]
        values: dict[str, Any] = {f"earlier_{index}": s for index, s in enumerate(earlier)}
        values.update(message_id=message_id, sid=accepted.sid, reported=reported,
                      now=self.clock.now())  # fmt: skip
        with driver_transaction(self.engine) as (connection, cursor):
            # Compiled once connected: a dialect learns its server's version on its first connect.
            _record_accepted_statement(self.engine.dialect, len(earlier)).execute(cursor, values)
            connection.commit()

    def _release_for_retry(
        self, message_id: int, attempts: int, reason: str, retry_after: float | None
    ) -> SendOutcome:
        now = self.clock.now()
        with self.sessions.begin() as session:
            message = session.get(Message, message_id)
            assert message is not None
            if attempts > self.policy.max_retries:
                message.status = DeliveryStatus.FAILED
                message.status_updated_at = now
                message.next_attempt_at = None
                events.record(
                    session,
                    "send_gave_up",
                    now,
                    conversation_id=message.conversation_id,
                    texter_id=message.texter_id,
                    message_id=message.id,
                    attempts=attempts,
                )
                log.error(
                    "send of message %s gave up after %d attempts: %s", message_id, attempts, reason
                )
                return SendOutcome(SendResult.FAILED)
            delay = max(retry_after or 0.0, self.policy.backoff(attempts))
            message.status = DeliveryStatus.PENDING
            message.next_attempt_at = now + timedelta(seconds=delay)
            message.status_updated_at = now
        log.warning("send of message %s will retry in %.1fs: %s", message_id, delay, reason)
        return SendOutcome(SendResult.RETRY, delay)

    def _record_refusal(self, message_id: int, exc: PermanentSendError) -> SendOutcome:
        now = self.clock.now()
        with self.sessions.begin() as session:
            message = session.get(Message, message_id)
            assert message is not None
            message.status = DeliveryStatus.FAILED
            message.error_code = exc.code
            message.status_updated_at = now
            message.next_attempt_at = None
            events.record(
                session,
                "send_failed",
                now,
                conversation_id=message.conversation_id,
                texter_id=message.texter_id,
                message_id=message.id,
                error_code=exc.code,
            )
            if exc.code == OPTED_OUT_ERROR:
                mark_carrier_opt_out(session, message.texter_id, now)
        log.warning("send of message %s failed for good: %s", message_id, exc)
        return SendOutcome(SendResult.FAILED)


def claim_with_store(
    session: Session, vault: Vault, texter: Texter, now: datetime, *, older_unsent: bool
) -> int:
    """Claim, in the transaction that stores them, the replies to ``texter`` that the worker
    committing it sends at once (:func:`hotline.db.after_commit.send_at_once`). Each is written
    ``submitting`` as the claim would leave it, so that once committed it goes to Twilio with no
    transaction before the call (the claim's: a look-up, the order check, an update, a commit).
    How many were claimed.

    Only what the claim itself would allow, decided on what this transaction leaves: the
    caller holds the texter's row lock from before the replies were stored until the commit;
    no older reply to them is unsent (``older_unsent``, the caller's look-up); no erasure began;
    and, in order, each reply is one the claim would send (:func:`_reason_not_to_send`: after a
    STOP in this same transaction, only its confirmation). The first that is not stops it: it
    and those after go the usual way, through the claim, which cancels or orders them. A worker
    that dies after the commit leaves them ``submitting``: the sweep reconciles them with
    Twilio after the lease, as it does a claim whose worker died.
    """
    effects = after_commit.registered(session)
    if not effects.at_once or older_unsent or texter.erasure_requested_at is not None:
        return 0
    claimed = 0
    for message in effects.queued:
        if (
            message.texter_id != texter.id
            or message.status is not DeliveryStatus.PENDING
            or _reason_not_to_send(texter, message) is not None
        ):
            break
        assert texter.phone_ciphertext is not None and message.body_ciphertext is not None
        message.status = DeliveryStatus.SUBMITTING
        message.submitted_at = now
        message.send_attempts += 1
        message.status_updated_at = now
        to, body = vault.decrypt(texter.phone_ciphertext), vault.decrypt(message.body_ciphertext)
        after_commit.claim(session, Claimed(message, to, body))
        claimed += 1
    return claimed


def _older_reply_unsent(session: Session, message: Message) -> bool:
    older = session.scalar(
        _OLDER_UNSENT, {"texter_id": message.texter_id, "message_id": message.id}
    )
    return older is not None


# Built once: every send runs these. The claim is conditional: only one worker moves the
# message from the status it read. Recording Twilio's answer leaves a later status that a
# callback recorded first in place (PostgreSQL evaluates the CASE on the row as it left it).
_CLAIM = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.status == bindparam("from_status"))
    .values(
        status=DeliveryStatus.SUBMITTING,
        submitted_at=bindparam("now"),
        send_attempts=Message.send_attempts + 1,
        status_updated_at=bindparam("now"),
    )
    .execution_options(synchronize_session=False)
)
_UNCLAIM = (
    update(Message)
    .where(
        Message.id == bindparam("message_id"),
        Message.status == DeliveryStatus.SUBMITTING,
        Message.twilio_sid.is_(None),
    )
    .values(
        status=DeliveryStatus.PENDING,
        send_attempts=Message.send_attempts - 1,
        status_updated_at=bindparam("now"),
    )
    .execution_options(synchronize_session=False)
)


@functools.lru_cache(maxsize=64)
def _record_accepted_statement(dialect: Dialect, earlier: int) -> Compiled:
    """:meth:`Dispatcher._record_accepted`'s UPDATE, compiled once per dialect and number of
    statuses it moves the message from (``earlier_0`` ...): a list expanded at each run would
    need SQLAlchemy's execution layers."""
    names = [f"earlier_{index}" for index in range(earlier)]
    moves: ColumnElement[bool] = (
        Message.status.in_([bindparam(name, type_=Message.status.type) for name in names])
        if names
        else false()  # an empty IN would be expanded at each run: nothing to move from
    )
    statement = (
        update(Message)
        .where(Message.id == bindparam("message_id"))
        .values(
            twilio_sid=func.coalesce(Message.twilio_sid, bindparam("sid")),
            status=case(
                (moves, bindparam("reported", type_=Message.status.type)), else_=Message.status
            ),
            status_updated_at=case(
                (moves, bindparam("now", type_=Message.status_updated_at.type)),
                else_=Message.status_updated_at,
            ),
            next_attempt_at=null(),
        )
    )
    return compile_statement(statement, dialect, ["message_id", "sid", "reported", "now", *names])


_OLDER_UNSENT = (
    select(Message.id)
    .where(
        Message.texter_id == bindparam("texter_id"),
        Message.direction == Direction.OUTBOUND,
        Message.id < bindparam("message_id"),
        Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
    )
    .limit(1)
)


def _reason_not_to_send(texter: Texter, message: Message) -> str | None:
    if texter.phone_ciphertext is None or message.body_ciphertext is None:
        return "erased"
    if texter.opted_out_at is not None and not message.compliance_notice:
        return "opted_out"
    return None


def mark_carrier_opt_out(session: Session, texter_id: int, now: datetime) -> None:
    """Twilio says the number opted out (error 21610): never text it again until START."""
    texter = session.get(Texter, texter_id)
    if texter is not None and texter.opted_out_at is None:
        texter.opted_out_at = now
        events.record(session, "opt_out", now, texter_id=texter_id, source="carrier")
