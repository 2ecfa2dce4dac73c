"""Waiting in the queue, told honestly: the facts the machine's waiting rows read, the wording
of the texts a waiting texter gets, the budget of texts they did not ask for, and keeping the
place of a texter released from the queue who comes back soon.

The machine (:mod:`hotline.domain.triage`) decides; these functions only give it facts, as
``Event.details`` strings ("yes"/"no"), and choose between the catalogue's variants of a text:

- ``staffed``: open, with an advocate available. When "no", a silent waiting texter is never
  asked "still there?" nor released, and gets no wait update.
- ``budget``: room left for one more unprompted text this hour (``unprompted_per_hour``).
- ``news``: the place in line moved enough since the texter was last told (see
  :func:`hotline.domain.wait.worth_telling`).
- ``ack``: no "we got your message" sent in the last ``ack_minutes``.

The caller holds the texter's lock, as for everything in :mod:`hotline.services.triage`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue import render
from hotline.db.models import Conversation, ConversationStatus, Event, Texter
from hotline.domain import hours
from hotline.domain.triage import Action, On, Op, State
from hotline.domain.wait import Budget, Staffing, estimate_minutes, is_next, spend, within_budget
from hotline.domain.wait import worth_telling as _worth_telling
from hotline.services import events
from hotline.services.staffing import HoursPolicy, staffing

# Texts that tell the texter their place in line; each has variants chosen by :func:`wording`.
QUEUE_KEYS = ("queued", "wait_update", "queued_ack")
_WAITING = (State.QUEUED, State.QUEUE_CHECK_IN)
_TIMERS = (On.WAIT_TIMER, On.INACTIVE)
_TEXTS = (On.YES, On.NO, On.FREE_TEXT, On.BLANK, On.SKIP, On.LOCATION, On.SCORE)


def _yes(holds: bool) -> str:
    return "yes" if holds else "no"


def budget_of(conversation: Conversation) -> Budget:
    return Budget(conversation.unprompted_count or 0, conversation.unprompted_since)


def facts(
    session: Session,
    conversation: Conversation,
    on: On,
    policy: HoursPolicy,
    now: datetime,
    position: Callable[[], int],
) -> dict[str, str]:
    """What the machine's waiting rows need to know about ``on`` for this conversation."""
    if conversation.state not in _WAITING:
        return {}
    if on in _TIMERS:
        found = staffing(session, policy, now, with_handle_times=False)
        details = {
            "staffed": _yes(found.staffed),
            "budget": _yes(within_budget(budget_of(conversation), now, policy.unprompted_per_hour)),
        }
        if on is On.WAIT_TIMER and found.staffed:
            details["news"] = _yes(_worth_telling(conversation.told_position, position()))
        return details
    if conversation.state is State.QUEUED and on in _TEXTS:
        last = conversation.acknowledged_at
        due = last is None or now - last >= timedelta(minutes=policy.ack_minutes)
        return {"ack": _yes(due)}
    return {}


def count_unprompted(conversation: Conversation, actions: list[Action], now: datetime) -> None:
    """After a timer: every text it sent counts against the texter's hourly budget."""
    for action in actions:
        if action.op is Op.SEND:
            spent = spend(budget_of(conversation), now)
            conversation.unprompted_count, conversation.unprompted_since = spent.count, spent.since


def wording(
    session: Session,
    conversation: Conversation,
    key: str,
    position: int,
    policy: HoursPolicy,
    now: datetime,
    *,
    discreet: bool,
) -> tuple[str, dict[str, object]]:
    """The catalogue key and values of one of :data:`QUEUE_KEYS` as things stand now.

    Remembers what the texter was told (``told_position``, ``acknowledged_at``).
    """
    conversation.told_position = position
    values: dict[str, object] = {"position": position}
    if key == "queued_ack":
        conversation.acknowledged_at = now
        return key, values
    found = staffing(session, policy, now)
    if key == "queued" and not found.open:
        opens = hours.next_opening(policy.schedule, now, policy.zone)
        zone_name = now.astimezone(policy.zone).tzname() or ""
        told = hours.describe(policy.schedule, conversation.language)
        values["hours"] = f"{told} {zone_name}".strip()
        values["opens"] = (
            hours.when(opens, now, policy.zone, conversation.language) if opens else ""
        )
        values["reach"] = reach(policy, conversation.language, discreet=discreet)
        return "queued_closed", values
    if key == "queued" and not found.staffed:
        values["reach"] = reach(policy, conversation.language, discreet=discreet)
        return "queued_unstaffed", values
    return _estimated(key, position, found, values)


def _estimated(
    key: str, position: int, found: Staffing, values: dict[str, object]
) -> tuple[str, dict[str, object]]:
    if is_next(position, found):
        return f"{key}_next", values
    minutes = estimate_minutes(position, found)
    if minutes is None:
        return f"{key}_no_estimate", values
    values["wait"] = minutes
    return key, values


def reach(policy: HoursPolicy, language: str, *, discreet: bool) -> str:
    """ " You can also call us at ... More help: ..." for what is set, or "".

    In discreet mode the web address is left out: it would usually name the organisation.
    """
    parts = []
    if policy.voice_number:
        parts.append(render("reach_voice", language, discreet=discreet, voice=policy.voice_number))
    if policy.web_address and not discreet:
        parts.append(render("reach_web", language, discreet=discreet, web=policy.web_address))
    return "".join(f" {part}" for part in parts)


def reopen_kept_place(
    session: Session,
    texter: Texter,
    latest: Conversation | None,
    policy: HoursPolicy,
    now: datetime,
) -> Conversation | None:
    """The conversation a texter released from the queue gets back, if they came back soon.

    Only a conversation that ended for silence in the queue (``abandoned``) within the last
    ``keep_place_minutes``, and never across an erasure, which unlinks the number from what
    came before. It is reopened where it was released, asking "still there?", with its old
    ``queued_at``, so the text just received is the answer that puts it back in line.
    """
    if latest is None or latest.status is not ConversationStatus.CLOSED:
        return None
    if latest.close_reason != "abandoned" or latest.closed_at is None:
        return None
    if now - latest.closed_at > timedelta(minutes=policy.keep_place_minutes):
        return None
    erased = session.scalar(
        select(Event.id)
        .where(
            Event.kind == "texter_erased",
            Event.texter_id == texter.id,
            Event.created_at >= latest.closed_at,
        )
        .limit(1)
    )
    if erased is not None:
        return None
    latest.status = ConversationStatus.OPEN
    latest.state = State.QUEUE_CHECK_IN
    latest.closed_at = None
    latest.close_reason = None
    latest.reasks = 0
    latest.last_texter_at = now
    session.flush()
    events.record(
        session, "conversation_reopened", now, conversation_id=latest.id,
        texter_id=texter.id, reason="kept_place",
    )  # fmt: skip
    return latest
