"""Processing a texter's stored texts, one at a time and in order.

The worker calls :func:`process_pending` with the id of any stored inbound text. It takes the
texter's row lock, then handles every text of that texter not yet processed, oldest first. So
whichever task gets the lock first does the work in order, and a task for a text already handled
finds nothing to do: running it twice, or in the wrong order, changes nothing.

Compliance keywords are the texter's, not a conversation's: STOP, START and HELP are handled
here before the triage machine sees anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, delete, insert, or_, select
from sqlalchemy.orm import Session, undefer
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from hotline.catalogue import LANGUAGES, other_language_emergency, other_language_line
from hotline.db import after_commit
from hotline.db.models import Conversation, ConversationStatus, Message, OptedOutNumber, Texter
from hotline.db.session import adopt, lock_texter_of
from hotline.domain import answers, risk
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.keywords import Keyword, fold, parse_keyword
from hotline.domain.language import Detected, detect
from hotline.domain.triage import QUESTIONS, On, Op, State
from hotline.domain.triage import Event as TriageEvent
from hotline.services import events, waiting
from hotline.services.outbox import queue_text
from hotline.services.privacy import erase_texter
from hotline.services.send import claim_with_store
from hotline.services.triage import Triage

# HELP keywords that, in answer to a question, are also a call for help (INFO asks about us).
CRIES_FOR_HELP = frozenset({"HELP", "AYUDA"})
# States where the bot still speaks and follows the language the texter answers in.
FOLLOWS_LANGUAGE = (*QUESTIONS, State.QUEUED, State.QUEUE_CHECK_IN)


def process_pending(session: Session, triage: Triage, message_id: int, now: datetime) -> list[int]:
    """Handle all unprocessed inbound texts of the texter who sent ``message_id``; their ids.

    Expects to run inside a transaction the caller commits; holds the texter's row lock from
    here to that commit. The replies go once it has (:mod:`hotline.db.after_commit`).
    """
    texter = lock_texter_of(session, message_id, seen_at=now)
    if texter is None:
        return []
    found = session.scalars(_PENDING, {"texter_id": texter.id}).all()
    pending = [message for message in found if message.direction is Direction.INBOUND]
    try:
        for message in pending:
            session.flush()  # what the texts before changed, for the look-ups below to see
            message.processed_at = now  # written with the text's other changes, in one UPDATE
            _handle(session, triage, texter, message, now)
    finally:
        risk.forget_last_scan()  # the texts were read: none stays in the process
    if pending:
        older_unsent = len(found) > len(pending)  # an earlier reply to them has not gone yet
        claim_with_store(session, triage.vault, texter, now, older_unsent=older_unsent)
    return [message.id for message in pending]


def current_conversation(session: Session, texter_id: int) -> Conversation | None:
    """The texter's open conversation, or the closed one still waiting for a survey answer."""
    latest = _latest_conversation(session, texter_id)
    return latest if latest is not None and _is_current(latest) else None


def _latest_conversation(session: Session, texter_id: int) -> Conversation | None:
    """The texter's current conversation if there is one (see :func:`current_conversation`),
    else their latest closed one: one look-up answers both "which conversation" and "have
    they texted us before"."""
    return session.scalars(_LATEST, {"texter_id": texter_id}).first()


# Built once: the worker runs these for every text. The texter's unprocessed texts, and with
# them their replies not yet sent: one look-up answers whether this transaction's replies may
# be claimed with it (:func:`claim_with_store`).
_PENDING = (
    select(Message)
    .where(
        Message.texter_id == bindparam("texter_id"),
        or_(
            (Message.direction == Direction.INBOUND) & Message.processed_at.is_(None),
            (Message.direction == Direction.OUTBOUND)
            & Message.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)),
        ),
    )
    .order_by(Message.id)
)
# Closed, but still listening: the reopen window and the survey (see AFTER_CLOSING).
AFTER_CLOSING = (State.JUST_CLOSED, State.SURVEY)
_CURRENT = (Conversation.status == ConversationStatus.OPEN) | (
    Conversation.state.in_(AFTER_CLOSING)
)
_LATEST = (
    select(Conversation)
    .options(undefer(Conversation.risk_findings_ciphertext))  # read by Triage.reassess
    .where(Conversation.texter_id == bindparam("texter_id"))
    .order_by(case((_CURRENT, 0), else_=1), Conversation.status.desc(), Conversation.id.desc())
    .limit(1)
)


def _is_current(conversation: Conversation) -> bool:
    return conversation.status is ConversationStatus.OPEN or conversation.state in AFTER_CLOSING


def _handle(
    session: Session,
    triage: Triage,
    texter: Texter,
    message: Message,
    now: datetime,
) -> None:
    if message.body_ciphertext is None:
        return  # erased before its turn came (the texter asked to be erased): nothing to do
    body = triage.vault.decrypt(message.body_ciphertext)
    keyword = parse_keyword(body)
    with session.no_autoflush:  # only processed_at is unflushed, and it does not matter here
        latest = _latest_conversation(session, texter.id)
    conversation = latest if latest is not None and _is_current(latest) else None
    if conversation is not None:
        message.conversation_id = conversation.id
        after_commit.changed(session, conversation.id)

    # "Please stop texting me" is an opt-out as much as STOP is: any reasonable means counts.
    asked = keyword is None and triage.asks_not_to_be_texted(body)
    if keyword is Keyword.STOP or asked:
        if texter.opted_out_at is None:
            texter.opted_out_at = now
            events.record(
                session, "opt_out", now, texter_id=texter.id, message_id=message.id,
                conversation_id=conversation.id if conversation is not None else None,
                by="request" if asked else "keyword",
            )  # fmt: skip
            if conversation is not None:
                triage.advance(session, conversation, TriageEvent(On.STOP), now, message=message)
            _compliance(session, triage, texter, conversation, "stop_confirmation", now)
        _alert_if_in_danger(session, triage, texter, message, body, now)
        return
    if keyword is Keyword.DELETE:
        # Said before the erasure forgets it: only an opted-out number's hash is kept.
        confirmation = "deleted_opted_out" if texter.opted_out_at is not None else "deleted"
        erase_texter(
            session,
            triage,
            texter.id,
            now,
            actor_id=None,
            by="texter_request",
            keep_number=True,
        )
        _compliance(session, triage, texter, None, confirmation, now)
        return
    if keyword is Keyword.HELP and fold(body) == "AYUDA":
        texter.language = "es"  # before the opted-out answer too: AYUDA is answered in Spanish
    if texter.opted_out_at is not None:
        if keyword is Keyword.START:
            texter.opted_out_at = None
            # A number that opted out before an erasure started this texter opted out: that
            # record goes now, as the opt-out itself does.
            session.execute(
                delete(OptedOutNumber).where(OptedOutNumber.phone_hash == texter.phone_hash)
            )
            events.record(session, "opt_in", now, texter_id=texter.id, message_id=message.id)
            _compliance(session, triage, texter, None, "start_confirmation", now)
        elif keyword is Keyword.HELP:  # not "Reply STOP": they have; how to come back instead
            _compliance(session, triage, texter, None, "help_opted_out", now)
        else:
            # They asked us to stop: the text is kept for staff, and nothing is said back.
            events.record(
                session, "inbound_while_opted_out", now, texter_id=texter.id, message_id=message.id
            )
            _alert_if_in_danger(session, triage, texter, message, body, now)
        return
    if conversation is not None and conversation.state not in AFTER_CLOSING:
        conversation.last_texter_at = now
        if keyword is Keyword.HELP:
            if fold(body) == "AYUDA":
                conversation.language = "es"
            _compliance(session, triage, texter, conversation, "help", now)
            if conversation.state is State.QUEUE_CHECK_IN or (
                conversation.state in QUESTIONS and fold(body) in CRIES_FOR_HELP
            ):
                # HELP (not INFO) in answer to a question is a call for help too: a yes to
                # danger, or on to a person. To "still there?" any reply keeps their place.
                triage.advance(
                    session,
                    conversation,
                    TriageEvent(On.DISTRESS),
                    now,
                    message=message,
                    text=body,
                )
            return
        if conversation.state in FOLLOWS_LANGUAGE:
            _follow_language(session, triage, texter, conversation, body, now)
        triage.reassess(session, conversation, now, message=message, text=body)
        triage.advance(
            session,
            conversation,
            triage.classify(body, conversation),
            now,
            message=message,
            text=body,
        )
        return
    if conversation is not None:  # just closed, or a survey is waiting for its answer
        actions = triage.advance(
            session,
            conversation,
            triage.classify(body, conversation),
            now,
            message=message,
            text=body,
        )
        if not any(action.op is Op.RESTART for action in actions):
            return
    kept = waiting.reopen_kept_place(session, texter, latest, triage.policy.hours, now)
    if kept is not None:  # released from the queue a moment ago: their place, not a new welcome
        message.conversation_id = kept.id
        after_commit.changed(session, kept.id)
        if keyword is Keyword.HELP:
            _compliance(session, triage, texter, kept, "help", now)
        triage.reassess(session, kept, now, message=message, text=body)
        event = triage.classify(body, kept)
        triage.advance(session, kept, event, now, message=message, text=body)
        return
    _start_conversation(session, triage, texter, message, body, now, latest is not None)


def _start_conversation(
    session: Session,
    triage: Triage,
    texter: Texter,
    message: Message,
    body: str,
    now: datetime,
    returning: bool,
) -> None:
    chosen = answers.language_choice(body)
    detected = detect(body)
    if chosen is not None:
        texter.language = chosen
    elif detected.language in LANGUAGES:
        # "hola", "tengo miedo": Spanish, no keyword needed. A guess will do here: the welcome
        # in either language offers the other.
        texter.language = detected.language
    conversation = _open(
        session,
        {
            "texter_id": texter.id,
            "status": ConversationStatus.OPEN,
            "state": State.NEW,
            "language": texter.language,
            "reasks": 0,
            "returning_texter": returning,
            "opened_at": now,
            "last_activity_at": now,
            "last_texter_at": now,
        },
    )
    message.conversation_id = conversation.id  # written with processed_at, at the commit
    after_commit.changed(session, conversation.id)
    events.record(
        session,
        "conversation_opened",
        now,
        conversation_id=conversation.id,
        texter_id=texter.id,
        returning_texter=conversation.returning_texter,
    )
    if chosen is None and _other_language(detected) is not None:
        _tell_other_language(
            session, triage, texter, conversation, detected, now,
            in_danger=triage.in_danger(body),
        )  # fmt: skip
    triage.reassess(session, conversation, now, message=message, text=body, opened=True)
    first = triage.classify(body, conversation)
    if first.on is On.EMERGENCY:
        # Danger in the very first text: the guidance first and alone, no question before it.
        triage.advance(session, conversation, first, now, message=message, text=body)
        return
    triage.advance(
        session, conversation, TriageEvent(On.FIRST_TEXT), now, message=message, text=body
    )
    if first.on is On.SAFE_WORD:
        triage.advance(session, conversation, first, now, message=message, text=body)


def _open(session: Session, values: dict[str, object]) -> Conversation:
    """A new conversation, inserted at once and returned as the session's own: its id is
    needed now (its events, its replies, its consoles). One Core ``INSERT ... RETURNING`` of the
    id, and the object made as if loaded, every column known: the ORM's own insert of one row
    with RETURNING cost twice as much (0.45-0.6 ms against 0.21-0.26 ms, in-process). What the
    rest of the transaction changes on it is written at the commit."""
    conversation_id = session.connection().execute(_OPEN, values).scalar_one()
    return adopt(session, Conversation, {**_NEW_CONVERSATION, **values, "id": conversation_id})


def _column_defaults(table: Table) -> dict[str, object]:
    """Each column's value in a row inserted without it: its default, else NULL. Only a fixed
    default can be known without reading the row back."""
    defaults: dict[str, object] = {}
    for column in table.columns:
        default = column.default
        if default is not None and not isinstance(default, ScalarElementColumnDefault):
            raise RuntimeError(f"{table.name}.{column.key}: a default computed at insert")
        defaults[column.name] = default.arg if default is not None else None
    return defaults


_CONVERSATIONS = cast(Table, Conversation.__table__)
_OPEN = insert(_CONVERSATIONS).returning(_CONVERSATIONS.c.id)
_NEW_CONVERSATION = {
    key: value for key, value in _column_defaults(_CONVERSATIONS).items() if key != "id"
}


def _other_language(detected: Detected) -> str | None:
    """A language we cannot text in, when we are sure enough of it to say so in it."""
    if detected.language is None or detected.language in LANGUAGES or not detected.confident:
        return None
    return detected.language


def _tell_other_language(
    session: Session,
    triage: Triage,
    texter: Texter,
    conversation: Conversation,
    detected: Detected,
    now: datetime,
    *,
    in_danger: bool,
) -> None:
    """Mark the conversation with the language the texter writes in, and tell them once, in it,
    that we text in English and Spanish and where a person can answer in theirs; first, if
    they wrote of danger, to call 911."""
    language = _other_language(detected)
    if language is None or conversation.texter_language is not None:
        return
    conversation.texter_language = language
    events.record(
        session, "language_detected", now, conversation_id=conversation.id,
        texter_id=texter.id, language=language,
    )  # fmt: skip
    lines = [
        other_language_emergency(language) if in_danger else None,
        other_language_line(language, triage.policy.hours.voice_number),
    ]
    for line in lines:
        if line is not None:
            queue_text(session, triage.vault, texter.id, conversation, line, now)


def _follow_language(
    session: Session,
    triage: Triage,
    texter: Texter,
    conversation: Conversation,
    body: str,
    now: datetime,
) -> None:
    """An answer written clearly in our other language switches the conversation to it (the
    next question is in Spanish for a texter who answers in Spanish); one in a language we
    cannot text in marks the conversation, and the texter is told once."""
    if answers.language_choice(body) is not None:
        return  # ESPAÑOL, ENGLISH: the machine's own LANGUAGE event
    detected = detect(body)
    if not detected.confident or detected.language is None:
        return
    if detected.language in LANGUAGES:
        if detected.language != conversation.language:
            conversation.language = detected.language
            texter.language = detected.language
            events.record(
                session, "language_detected", now, conversation_id=conversation.id,
                texter_id=texter.id, language=detected.language,
            )  # fmt: skip
        return
    _tell_other_language(
        session, triage, texter, conversation, detected, now,
        in_danger=triage.in_danger(body),
    )  # fmt: skip


def _alert_if_in_danger(
    session: Session,
    triage: Triage,
    texter: Texter,
    message: Message,
    body: str,
    now: datetime,
) -> None:
    """Emergency words from a number that opted out: STOP stays final and nothing is sent, but
    a person is told, so that a person can decide (the board lists the alert)."""
    if not triage.in_danger(body):
        return
    events.record(
        session, "alert", now, texter_id=texter.id, message_id=message.id,
        conversation_id=message.conversation_id, alert="opted_out_emergency",
    )  # fmt: skip
    after_commit.queue_changed(session)  # the board's alerts live beside the queue


def _compliance(
    session: Session,
    triage: Triage,
    texter: Texter,
    conversation: Conversation | None,
    key: str,
    now: datetime,
) -> None:
    language = conversation.language if conversation else texter.language
    body = triage.render_plain(key, language)
    queue_text(session, triage.vault, texter.id, conversation, body, now, compliance=True)
