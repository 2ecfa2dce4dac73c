"""Warm transfers: an advocate offers a texter to a named colleague, who reads the handover note
and accepts (or declines); until then the sender still holds the texter.

An offer is a ``transfer_offered`` event (the receiver's id in its detail, the handover note as
a private note) and the conversation's ``transfer`` timer. Its end is another event:
``transfer_accepted`` (the conversation moves, through :func:`claims.do_hand_over`),
``transfer_declined``, ``transfer_withdrawn`` (by the sender) or ``transfer_lapsed`` (the timer
job, after ``transfer_accept_minutes``); declined and lapsed offers are shown to the sender.
Anything else that moves the conversation (closing, back to the queue, STOP, a supervisor's
reassignment, a sign-out hand-over, which stay immediate) ends the offer too: the timer is
replaced, or the sender no longer holds it, and accepting is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, Event, Note, StaffUser
from hotline.db.session import lock_texter
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services import events
from hotline.services.answers import IsoTime, iso_time
from hotline.services.claims import do_hand_over
from hotline.services.console import Console
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.handling import Handling

TIMER = "transfer"
ENDINGS = ("transfer_accepted", "transfer_declined", "transfer_withdrawn", "transfer_lapsed")
NOTICE_FOR = timedelta(minutes=10)  # how long a declined or lapsed offer shows to its sender


class TransferOffer(TypedDict):
    """An offer waiting for an answer, as the receiver (or the sender) sees it."""

    conversation_id: int
    from_advocate: str
    to_advocate: str
    note: str | None  # the handover note, shown before anything else
    priority: Priority
    expires_at: IsoTime


class TransferNotice(TypedDict):
    """An offer of the caller's that came back: the texter is still theirs."""

    id: int  # the event's: the page shows each notice once
    conversation_id: int
    to_advocate: str
    outcome: str  # "declined" or "lapsed"
    at: IsoTime


class TransferOffers(TypedDict):
    received: list[TransferOffer]  # offered to the caller
    sent: list[TransferOffer]  # the caller's offers still waiting
    returned: list[TransferNotice]  # the caller's offers declined or lapsed lately


@dataclass(frozen=True)
class Transfers:
    console: Console
    accept_within: timedelta

    def offer(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        to_advocate_id: int,
        note: str,
        now: datetime,
    ) -> None:
        """Offer a conversation ``user`` holds to a colleague who is reachable and has room;
        the note is kept as a private note. :class:`Conflict` when one is pending already."""
        conversation = self._held_by(session, user, conversation_id)
        waiting = pending_offer(session, conversation) if conversation.timer == TIMER else None
        if waiting is not None and waiting.actor_id == user.id:
            raise Conflict("this conversation is already offered: withdraw that offer first")
        target = session.get(StaffUser, to_advocate_id)
        if target is None or not target.active or target.id == user.id:
            raise Conflict("choose another active advocate")
        self.console.check_reachable(session, target, now)
        note = note.strip()
        if len(note) > 4000:
            raise InvalidInput("a note is at most 4000 characters")
        note_id = None
        if note:
            Handling(self.console).add_note(session, user, conversation.id, note, now)
            session.flush()
            note_id = session.scalar(
                select(Event.id)
                .where(Event.kind == "note_added", Event.conversation_id == conversation.id)
                .order_by(Event.id.desc())
                .limit(1)
            )
        conversation.timer = TIMER
        conversation.timer_due_at = now + self.accept_within
        events.record(
            session, "transfer_offered", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, actor_id=user.id,
            to_advocate_id=target.id, note_event_id=note_id,
        )  # fmt: skip
        after_commit.changed(session, conversation.id)
        after_commit.queue_changed(session)  # the receiver's console watches the queue counter

    def accept(
        self, session: Session, user: StaffUser, conversation_id: int, now: datetime
    ) -> None:
        """Take a conversation offered to ``user``; :class:`Conflict` when the offer is over or
        they have no room (the sender still holds it then)."""
        conversation, offer = self._offered_to(session, user, conversation_id)
        if self.console.load(session, user.id) >= self.console.capacity:
            raise Conflict(
                f"you already have {self.console.capacity} active conversations: close one first"
            )
        sender = offer.actor_id
        assert sender is not None
        conversation.timer, conversation.timer_due_at = None, None
        do_hand_over(session, conversation.id, sender, user.id, now)
        end_offer(session, conversation, offer, "transfer_accepted", user.id, now)
        events.record(
            session, "transferred", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, actor_id=sender, to=user.name, to_staff=user.id,
            warm=True,
        )  # fmt: skip

    def decline(
        self, session: Session, user: StaffUser, conversation_id: int, now: datetime
    ) -> None:
        conversation, offer = self._offered_to(session, user, conversation_id)
        conversation.timer, conversation.timer_due_at = None, None
        end_offer(session, conversation, offer, "transfer_declined", user.id, now)

    def withdraw(
        self, session: Session, user: StaffUser, conversation_id: int, now: datetime
    ) -> None:
        conversation = self._held_by(session, user, conversation_id)
        offer = pending_offer(session, conversation) if conversation.timer == TIMER else None
        if offer is None:
            raise Conflict("this conversation is not offered to anyone")
        conversation.timer, conversation.timer_due_at = None, None
        end_offer(session, conversation, offer, "transfer_withdrawn", user.id, now)

    def offers(self, session: Session, user: StaffUser, now: datetime) -> TransferOffers:
        """Offers to ``user`` and from them, and their offers that came back lately."""
        received: list[TransferOffer] = []
        sent: list[TransferOffer] = []
        pending = session.scalars(
            select(Conversation).where(
                # An offer always has its deadline: this lets the partial index of running
                # timers answer, instead of a scan of every conversation ever held.
                Conversation.timer_due_at.is_not(None),
                Conversation.timer == TIMER,
                Conversation.state == State.WITH_ADVOCATE,
            )
        ).all()
        names: dict[int, str] = {}

        def name(staff_id: int | None) -> str:
            if staff_id is None:
                return "someone"
            if staff_id not in names:
                found = session.get(StaffUser, staff_id)
                names[staff_id] = found.name if found is not None else "someone"
            return names[staff_id]

        for conversation in pending:
            offer = pending_offer(session, conversation)
            if offer is None or offer.actor_id != conversation.advocate_id:
                continue
            to_id = (offer.detail or {}).get("to_advocate_id")
            if user.id not in (to_id, offer.actor_id):
                continue
            shown: TransferOffer = {
                "conversation_id": conversation.id,
                "from_advocate": name(offer.actor_id),
                "to_advocate": name(to_id if isinstance(to_id, int) else None),
                "note": self._note(session, offer),
                "priority": conversation.priority,
                "expires_at": iso_time(conversation.timer_due_at or now),
            }
            (received if to_id == user.id else sent).append(shown)
        returned: list[TransferNotice] = []
        for ending in session.scalars(
            select(Event)
            .where(
                Event.kind.in_(("transfer_declined", "transfer_lapsed")),
                Event.created_at > now - NOTICE_FOR,
            )
            .order_by(Event.id)
        ):
            detail = ending.detail or {}
            if detail.get("from_advocate_id") != user.id or ending.conversation_id is None:
                continue
            to_id = detail.get("to_advocate_id")
            returned.append(
                {
                    "id": ending.id,
                    "conversation_id": ending.conversation_id,
                    "to_advocate": name(to_id if isinstance(to_id, int) else None),
                    "outcome": "declined" if ending.kind == "transfer_declined" else "lapsed",
                    "at": iso_time(ending.created_at),
                }
            )
        return {"received": received, "sent": sent, "returned": returned}

    # -- helpers ---------------------------------------------------------------------------------

    def _held_by(self, session: Session, user: StaffUser, conversation_id: int) -> Conversation:
        conversation = self.console.visible(session, user, conversation_id)
        lock_texter(session, conversation.texter_id)
        session.refresh(conversation)
        if conversation.advocate_id != user.id or conversation.state is not State.WITH_ADVOCATE:
            raise Conflict("take this conversation before acting on it")
        return conversation

    def _offered_to(
        self, session: Session, user: StaffUser, conversation_id: int
    ) -> tuple[Conversation, Event]:
        """The conversation and its pending offer to ``user``; :class:`NotFound` when there is
        no offer to them (ids reveal nothing), :class:`Conflict` when it is over."""
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("no such offer")
        lock_texter(session, conversation.texter_id)
        session.refresh(conversation)
        offer = pending_offer(session, conversation)
        if offer is None or (offer.detail or {}).get("to_advocate_id") != user.id:
            raise NotFound("no such offer")
        if (
            conversation.timer != TIMER
            or conversation.state is not State.WITH_ADVOCATE
            or conversation.advocate_id != offer.actor_id
        ):
            raise Conflict("this offer is over: the conversation was moved or closed")
        return conversation, offer

    def _note(self, session: Session, offer: Event) -> str | None:
        note_event_id = (offer.detail or {}).get("note_event_id")
        if not isinstance(note_event_id, int):
            return None
        noted = session.get(Event, note_event_id)
        note_id = (noted.detail or {}).get("note_id") if noted is not None else None
        note = session.get(Note, note_id) if isinstance(note_id, int) else None
        if note is None or note.body_ciphertext is None:
            return None
        return self.console.vault.decrypt(note.body_ciphertext)


def do_lapse(session: Session, conversation: Conversation, now: datetime) -> None:
    """The timer job: an offer nobody answered in time comes back to its sender, who still
    holds the texter. The caller holds the texter's lock and has cleared the timer."""
    offer = pending_offer(session, conversation)
    if (
        offer is not None
        and conversation.state is State.WITH_ADVOCATE
        and conversation.advocate_id == offer.actor_id  # not moved since by someone else
    ):
        end_offer(session, conversation, offer, "transfer_lapsed", None, now)


def pending_offer(session: Session, conversation: Conversation) -> Event | None:
    """The conversation's latest offer, if no ending names it."""
    offer = session.scalar(
        select(Event)
        .where(Event.kind == "transfer_offered", Event.conversation_id == conversation.id)
        .order_by(Event.id.desc())
        .limit(1)
    )
    if offer is None:
        return None
    ended = session.scalar(
        select(Event.id)
        .where(
            Event.kind.in_(ENDINGS),
            Event.conversation_id == conversation.id,
            Event.id > offer.id,
        )
        .limit(1)
    )
    return offer if ended is None else None


def end_offer(
    session: Session,
    conversation: Conversation,
    offer: Event,
    kind: str,
    actor_id: int | None,
    now: datetime,
) -> None:
    events.record(
        session, kind, now, conversation_id=conversation.id,
        texter_id=conversation.texter_id, actor_id=actor_id, offer_id=offer.id,
        from_advocate_id=offer.actor_id,
        to_advocate_id=(offer.detail or {}).get("to_advocate_id"),
    )  # fmt: skip
    after_commit.changed(session, conversation.id)
    after_commit.queue_changed(session)
