"""What staff see and do in the console: the queue, a conversation, replies, notes, tags,
transfers, closing.

Access is decided here, for every record: an advocate sees the queue's triage summaries and the
conversations they hold, nothing else; supervisors and admins see every conversation. A
conversation an advocate may not see is reported as not found, so ids reveal nothing. Every
action, and every read of a transcript, is in the event log with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict

from sqlalchemy import Select, SQLColumnExpression, and_, func, or_, select
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import (
    Availability,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Disposition,
    Event,
    Message,
    Note,
    QuickReply,
    Referral,
    StaffRole,
    StaffUser,
    Tag,
    Texter,
)
from hotline.db.session import lock_texter
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.phone import mask
from hotline.domain.risk import Priority
from hotline.domain.segments import count_segments
from hotline.domain.triage import State
from hotline.infra.vault import Vault
from hotline.services import directory, events, presence
from hotline.services.answers import IsoTime, JsonObject, iso_time, iso_time_or_none
from hotline.services.claims import do_claim, do_close, do_return_to_queue, do_take_next
from hotline.services.errors import Conflict, NotFound, Refusal
from hotline.services.outbox import queue_text
from hotline.services.queue import WAITING, queue_order
from hotline.services.triage import Triage

MAX_REPLY_CHARS = 1600
MAX_NOTE_CHARS = 4000
VIEW_AUDIT_EVERY = timedelta(minutes=10)
# Alert kinds meaning "emergency words" ("urgent" in older rows).
EMERGENCY_ALERTS = ("emergency", "urgent")
DEFAULT_PRESENCE_GRACE = timedelta(minutes=2)
# Events a timeline shows, in the words staff read.
TIMELINE_EVENTS = {
    "conversation_opened": "Conversation opened",
    "answer": "Triage answer",
    "risk_assessed": "Risk assessed",
    "alert": "Alert",
    "alert_acknowledged": "Alert acknowledged by a supervisor",
    "claimed": "Taken by an advocate",
    "returned_to_queue": "Returned to the queue",
    "transferred": "Transferred",
    "closed_by_advocate": "Closed by the advocate",
    "conversation_closed": "Conversation ended",
    "opt_out": "Texter opted out (STOP)",
    "opt_in": "Texter opted in again (START)",
    "texter_erased": "Texter erased (safe word, DELETE or a supervisor)",
    "send_failed": "A reply could not be sent",
    "delivery_failed": "A reply was not delivered",
    "tagged": "Tagged",
    "reassigned": "Reassigned by a supervisor",
    "taken_over": "Taken over by a supervisor",
}


# -- what the console reads (the JSON its script reads, field for field) -------------------------


class ConversationSummary(TypedDict):
    """A conversation in the queue or in an advocate's list: triage's summary, no transcript."""

    id: int
    priority: Priority
    reasons: list[str]
    language: str
    # A language we cannot text in (hotline.domain.language): an interpreter is needed.
    writes_in: str | None
    waiting_seconds: int
    returning: bool
    in_danger: bool | None
    safe_to_text: bool | None
    # Flags the queue and the conversation show: emergency words were sent, the texter may be
    # under 18, and (not safe to text) the advocate waits for the texter.
    emergency_at: IsoTime | None
    minor: bool
    do_not_text_first: bool
    needs: str | None
    location: str | None
    state: State


class MessageEntry(TypedDict):
    type: Literal["message"]
    id: int
    at: IsoTime
    direction: Direction
    body: str | None  # None once erased or purged
    status: DeliveryStatus
    error_code: int | None
    media: list[str]
    author: str | None  # the advocate's email; None for the texter and automatic texts
    automatic: bool


class NoteEntry(TypedDict):
    type: Literal["note"]
    id: int
    at: IsoTime
    body: str | None
    author: str | None


class EventEntry(TypedDict):
    type: Literal["event"]
    id: int
    at: IsoTime
    kind: str
    label: str
    detail: JsonObject
    author: str | None


TimelineEntry = MessageEntry | NoteEntry | EventEntry


class EarlierConversation(TypedDict):
    id: int
    opened_at: IsoTime
    closed_at: IsoTime | None
    disposition: str | None
    priority: Priority


class ConversationView(ConversationSummary):
    """Everything an advocate sees of one texter."""

    emergency_last_at: IsoTime | None
    phone: str  # masked, or "(erased)"
    opted_out: bool
    holder_id: int | None
    mine: bool
    status: ConversationStatus
    disposition: str | None
    survey_score: int | None
    tags: list[str]
    timeline: list[TimelineEntry]
    earlier: list[EarlierConversation]


class QuickReplyChoice(TypedDict):
    id: int
    title: str
    body: str


class ReferralChoice(directory.ReferralDetails):
    text: str  # the entry as one line to paste into a reply


class DispositionChoice(TypedDict):
    code: str
    label: str


class AdvocateChoice(TypedDict):
    id: int
    email: str
    active_count: int


class Me(TypedDict):
    id: int
    email: str
    role: StaffRole
    availability: Availability
    capacity: int
    active_count: int
    totp_enabled: bool


@dataclass(frozen=True)
class Console:
    """The console's collaborators: keys, the triage machine, the capacity limit, and how long
    a console may go without polling before its advocate counts as gone."""

    triage: Triage
    capacity: int
    presence_grace: timedelta = DEFAULT_PRESENCE_GRACE

    @property
    def vault(self) -> Vault:
        return self.triage.vault

    # -- reading ---------------------------------------------------------------------------

    def queue(self, session: Session, now: datetime) -> list[ConversationSummary]:
        """Waiting texters, most urgent and longest waiting first: triage summaries only."""
        rows = session.scalars(
            select(Conversation)
            .where(Conversation.state.in_(WAITING), Conversation.advocate_id.is_(None))
            .order_by(*queue_order())  # type: ignore[arg-type]
            .limit(500)
        ).all()
        return [self._summary(row, now) for row in rows]

    def _summary(self, conversation: Conversation, now: datetime) -> ConversationSummary:
        waited_since = conversation.queued_at or conversation.opened_at
        return {
            "id": conversation.id,
            "priority": conversation.priority,
            "reasons": conversation.risk_reasons or [],
            "language": conversation.language,
            "writes_in": conversation.texter_language,
            "waiting_seconds": max(0, int((now - waited_since).total_seconds())),
            "returning": conversation.returning_texter,
            "in_danger": conversation.in_danger,
            "safe_to_text": conversation.safe_to_text,
            "emergency_at": iso_time_or_none(conversation.emergency_at),
            "minor": bool(conversation.minor),
            "do_not_text_first": conversation.safe_to_text is False,
            "needs": self._open(conversation.needs_ciphertext),
            "location": self._open(conversation.location_ciphertext),
            "state": conversation.state,
        }

    def _open(self, ciphertext: bytes | None) -> str | None:
        return self.vault.decrypt(ciphertext) if ciphertext is not None else None

    def mine(self, session: Session, user: StaffUser, now: datetime) -> list[ConversationSummary]:
        rows = session.scalars(
            select(Conversation)
            .where(Conversation.advocate_id == user.id, Conversation.state == State.WITH_ADVOCATE)
            .order_by(Conversation.claimed_at)
        ).all()
        return [self._summary(row, now) for row in rows]

    def visible(self, session: Session, user: StaffUser, conversation_id: int) -> Conversation:
        """The conversation, if ``user`` may see it; :class:`NotFound` otherwise."""
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("no such conversation")
        if user.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
            return conversation
        if conversation.advocate_id == user.id and conversation.state is State.WITH_ADVOCATE:
            return conversation
        raise NotFound("no such conversation")

    def visible_ids(self, session: Session, user: StaffUser, ids: list[int]) -> list[int]:
        """Those of ``ids`` that ``user`` may see (the rule of :meth:`visible`), in order; the
        others are left out, as if they did not exist."""
        if not ids:
            return []
        query = select(Conversation.id).where(Conversation.id.in_(ids))
        if user.role not in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
            query = query.where(
                Conversation.advocate_id == user.id, Conversation.state == State.WITH_ADVOCATE
            )
        found = set(session.scalars(query))
        return [i for i in ids if i in found]

    def conversation(
        self, session: Session, user: StaffUser, conversation_id: int, now: datetime
    ) -> ConversationView:
        """Everything an advocate needs on one texter. Recorded as a transcript view."""
        conversation = self.visible(session, user, conversation_id)
        self._audit_view(session, user, conversation, now)
        texter = session.get(Texter, conversation.texter_id)
        assert texter is not None
        phone = self._open(texter.phone_ciphertext)
        summary = self._summary(conversation, now)
        timeline = self._timeline(session, conversation)
        return {
            **summary,
            "emergency_last_at": _last_emergency(conversation, timeline),
            "phone": mask(phone) if phone else "(erased)",
            "opted_out": texter.opted_out,
            "holder_id": conversation.advocate_id,
            "mine": conversation.advocate_id == user.id,
            "status": conversation.status,
            "disposition": conversation.disposition,
            "survey_score": conversation.survey_score,
            "tags": sorted(
                session.scalars(
                    select(ConversationTag.tag).where(
                        ConversationTag.conversation_id == conversation.id
                    )
                )
            ),
            "timeline": timeline,
            "earlier": [
                {
                    "id": c.id,
                    "opened_at": iso_time(c.opened_at),
                    "closed_at": iso_time_or_none(c.closed_at),
                    "disposition": c.disposition,
                    "priority": c.priority,
                }
                for c in session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.texter_id == conversation.texter_id,
                        Conversation.id != conversation.id,
                    )
                    .order_by(Conversation.id.desc())
                    .limit(20)
                )
            ],
        }

    def _audit_view(
        self, session: Session, user: StaffUser, conversation: Conversation, now: datetime
    ) -> None:
        recent = session.scalar(
            select(Event.id)
            .where(
                Event.kind == "transcript_viewed",
                Event.actor_id == user.id,
                Event.conversation_id == conversation.id,
                Event.created_at > now - VIEW_AUDIT_EVERY,
            )
            .limit(1)
        )
        if recent is None:
            events.record(
                session,
                "transcript_viewed",
                now,
                conversation_id=conversation.id,
                texter_id=conversation.texter_id,
                actor_id=user.id,
            )

    def _timeline(self, session: Session, conversation: Conversation) -> list[TimelineEntry]:
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        ).all()
        notes = session.scalars(
            select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)
        ).all()
        logged = session.scalars(
            select(Event)
            .where(
                or_(
                    Event.conversation_id == conversation.id,
                    # A texter's erasure is recorded once, for the texter, not per conversation.
                    and_(
                        Event.kind == "texter_erased",
                        Event.conversation_id.is_(None),
                        Event.texter_id == conversation.texter_id,
                        Event.created_at >= conversation.opened_at,
                    ),
                ),
                Event.kind.in_(TIMELINE_EVENTS),
            )
            .order_by(Event.id)
        ).all()
        authors = _emails(
            session,
            {m.author_id for m in messages} | {n.author_id for n in notes}
            | {e.actor_id for e in logged},
        )  # fmt: skip
        items: list[TimelineEntry] = []
        for message in messages:
            items.append(
                {
                    "type": "message",
                    "id": message.id,
                    "at": iso_time(message.created_at),
                    "direction": message.direction,
                    "body": self._open(message.body_ciphertext),
                    "status": message.status,
                    "error_code": message.error_code,
                    "media": message.media_types or [],
                    "author": authors.get(message.author_id) if message.author_id else None,
                    "automatic": message.direction is Direction.OUTBOUND
                    and message.author_id is None,
                }
            )
        for note in notes:
            items.append(
                {
                    "type": "note",
                    "id": note.id,
                    "at": iso_time(note.created_at),
                    "body": self._open(note.body_ciphertext),
                    "author": authors.get(note.author_id),
                }
            )
        for event in logged:
            items.append(
                {
                    "type": "event",
                    "id": event.id,
                    "at": iso_time(event.created_at),
                    "kind": event.kind,
                    "label": TIMELINE_EVENTS[event.kind],
                    "detail": event.detail,
                    "author": authors.get(event.actor_id) if event.actor_id else None,
                }
            )

        def rank(item: TimelineEntry) -> int:
            # Steps of one transaction share a time: the texter's text, then what it caused,
            # then the replies, then notes.
            if item["type"] == "message":
                return 0 if item["direction"] == "inbound" else 2
            return {"event": 1, "note": 3}[item["type"]]

        items.sort(key=lambda item: (item["at"], rank(item), item["id"]))
        return items

    def quick_replies(self, session: Session, language: str) -> list[QuickReplyChoice]:
        rows = session.scalars(
            select(QuickReply)
            .where(QuickReply.active.is_(True), QuickReply.language == language)
            .order_by(QuickReply.title)
        )
        return [{"id": r.id, "title": r.title, "body": r.body} for r in rows]

    def referrals(self, session: Session, query: str, language: str | None) -> list[ReferralChoice]:
        statement = select(Referral).where(Referral.active.is_(True))
        # autoescape: a "%" or "_" typed by staff matches itself, not any text.
        for word in query.split()[:5]:
            statement = statement.where(
                or_(
                    *(
                        func.lower(column).contains(word.lower(), autoescape=True)
                        for column in (Referral.name, Referral.services, Referral.area)
                    )
                )
            )
        if language:
            statement = statement.where(
                func.lower(Referral.language).contains(language.lower(), autoescape=True)
            )
        rows = session.scalars(statement.order_by(Referral.name).limit(20))
        return [
            {
                "id": r.id, "name": r.name, "services": r.services, "area": r.area,
                "phone": r.phone, "hours": r.hours, "language": r.language,
                "text": f"{r.name}: {r.services}. {r.phone} ({r.hours})",
            }
            for r in rows
        ]  # fmt: skip

    def dispositions(self, session: Session) -> list[DispositionChoice]:
        rows = session.scalars(
            select(Disposition).where(Disposition.active.is_(True)).order_by(Disposition.label)
        )
        return [{"code": d.code, "label": d.label} for d in rows]

    def tags(self, session: Session) -> list[str]:
        """The tags an advocate may put on a conversation: the active ones on the list."""
        return list(
            session.scalars(select(Tag.name).where(Tag.active.is_(True)).order_by(Tag.name))
        )

    def advocates(self, session: Session, except_id: int, now: datetime) -> list[AdvocateChoice]:
        """Who a conversation can be transferred to: active, available and connected (their
        console polled within the grace period), with their load. One query."""
        rows = session.execute(
            select(StaffUser.id, StaffUser.email, _held_by(StaffUser.id).scalar_subquery())
            .where(
                StaffUser.availability == Availability.AVAILABLE,
                presence.connected_clause(now, self.presence_grace),
                StaffUser.id != except_id,
            )
            .order_by(StaffUser.email)
        )
        return [{"id": i, "email": email, "active_count": load} for i, email, load in rows]

    def load(self, session: Session, user_id: int) -> int:
        """How many conversations ``user_id`` holds now."""
        return int(session.scalar(_held_by(user_id)) or 0)

    def check_reachable(
        self, session: Session, target: StaffUser, now: datetime, more: int = 1
    ) -> None:
        """Refuse (:class:`Conflict`) to hand ``more`` conversations to ``target`` unless they
        are active, available, connected and have room: a texter is never given to someone
        who is not there to answer."""
        if not target.active:
            raise Conflict("that advocate's account is deactivated")
        if target.availability is not Availability.AVAILABLE:
            raise Conflict("that advocate is away")
        if not presence.connected(target, now, self.presence_grace):
            raise Conflict(
                "that advocate is not connected (no sign of their console for "
                f"{_minutes(self.presence_grace)}): choose someone who is"
            )
        room = self.capacity - self.load(session, target.id)
        if room < more:
            raise Conflict(
                "that advocate has no room for another conversation"
                if more == 1 or room <= 0
                else f"that advocate has room for only {room} more conversations"
            )

    def me(self, session: Session, user: StaffUser) -> Me:
        return {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "availability": user.availability,
            "capacity": self.capacity,
            "active_count": self.load(session, user.id),
            "totp_enabled": user.totp_enabled,
        }

    # -- acting ------------------------------------------------------------------------------

    def set_availability(
        self, session: Session, user: StaffUser, availability: str, now: datetime
    ) -> None:
        try:
            user.availability = Availability(availability)
        except ValueError:
            raise Conflict("availability must be available or away") from None
        events.record(session, "availability", now, actor_id=user.id, availability=availability)
        after_commit.queue_changed(session)  # the supervisors' board shows who is available

    def _check_can_take(self, session: Session, user: StaffUser) -> None:
        if user.availability is not Availability.AVAILABLE:
            raise Conflict("you are set to away: set yourself available to take texters")
        if self.load(session, user.id) >= self.capacity:
            raise Conflict(
                f"you already have {self.capacity} active conversations: close one first"
            )

    def take_next(self, session: Session, user: StaffUser, now: datetime) -> int:
        """Take the next texter in line; their conversation's id."""
        self._check_can_take(session, user)
        taken = do_take_next(session, self.triage, user.id, now)
        if taken is None:
            raise Conflict("nobody is waiting")
        return taken

    def claim(self, session: Session, user: StaffUser, conversation_id: int, now: datetime) -> None:
        self._check_can_take(session, user)
        do_claim(session, self.triage, conversation_id, user.id, now)

    def _held(self, session: Session, user: StaffUser, conversation_id: int) -> Conversation:
        conversation = self.visible(session, user, conversation_id)
        if conversation.advocate_id != user.id or conversation.state is not State.WITH_ADVOCATE:
            raise Conflict("take this conversation before acting on it")
        return conversation

    def reply(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> int:
        """Store the advocate's reply, to be sent once the transaction has committed; its id."""
        body = body.strip()
        if not body:
            raise Conflict("write a reply first")
        if len(body) > MAX_REPLY_CHARS:
            raise Conflict(f"a reply is at most {MAX_REPLY_CHARS} characters")
        if "\x00" in body:
            raise Conflict("the reply contains a character that cannot be sent")
        conversation = self._held(session, user, conversation_id)
        texter = lock_texter(session, conversation.texter_id)
        assert texter is not None
        if texter.opted_out:
            raise Conflict("this texter texted STOP: nothing can be sent until they text START")
        if texter.phone_ciphertext is None:
            raise Conflict("this texter's number was erased: nothing can be sent")
        message = queue_text(
            session, self.vault, texter.id, conversation, body, now, author_id=user.id
        )
        conversation.last_activity_at = now
        if conversation.first_reply_at is None:
            conversation.first_reply_at = now
        events.record(
            session,
            "advocate_reply",
            now,
            conversation_id=conversation.id,
            texter_id=texter.id,
            message_id=message.id,
            actor_id=user.id,
            segments=count_segments(body).segments,
        )
        after_commit.changed(session, conversation.id)
        return message.id

    def add_note(
        self, session: Session, user: StaffUser, conversation_id: int, body: str, now: datetime
    ) -> None:
        body = body.strip()
        if not body:
            raise Conflict("write a note first")
        if len(body) > MAX_NOTE_CHARS:
            raise Conflict(f"a note is at most {MAX_NOTE_CHARS} characters")
        conversation = self.visible(session, user, conversation_id)
        self._add_note(session, conversation, user, body, now)
        after_commit.changed(session, conversation.id)

    def _add_note(
        self,
        session: Session,
        conversation: Conversation,
        user: StaffUser,
        body: str,
        now: datetime,
    ) -> None:
        note = Note(
            conversation_id=conversation.id,
            author_id=user.id,
            body_ciphertext=self.vault.encrypt(body),
            created_at=now,
        )
        session.add(note)
        session.flush()
        events.record(
            session,
            "note_added",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            note_id=note.id,
        )

    def tag(
        self, session: Session, user: StaffUser, conversation_id: int, tag: str, now: datetime
    ) -> None:
        tag = " ".join(tag.strip().lower().split())
        if not tag or len(tag) > 40 or not all(c.isalnum() or c in " -_" for c in tag):
            raise Conflict("a tag is 1 to 40 letters, digits, spaces, - or _")
        listed = session.get(Tag, tag)
        if listed is None or not listed.active:
            # Only the supervisors' list: free tags would split one meaning over many spellings.
            raise Conflict(
                f"\u201c{tag}\u201d is not on the tag list: choose one of the suggested tags "
                "(supervisors keep the list on the settings page)"
            )
        conversation = self.visible(session, user, conversation_id)
        exists = session.get(ConversationTag, (conversation.id, tag))
        if exists is None:
            session.add(
                ConversationTag(
                    conversation_id=conversation.id, tag=tag, author_id=user.id, created_at=now
                )
            )
            events.record(
                session,
                "tagged",
                now,
                conversation_id=conversation.id,
                texter_id=conversation.texter_id,
                actor_id=user.id,
                tag=tag,
            )
        after_commit.changed(session, conversation.id)

    def transfer(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        to_advocate_id: int | None,
        note: str,
        now: datetime,
    ) -> None:
        """To a named advocate (available, with room), or back to the queue (None)."""
        conversation = self._held(session, user, conversation_id)
        note = note.strip()
        if len(note) > MAX_NOTE_CHARS:
            raise Conflict(f"a note is at most {MAX_NOTE_CHARS} characters")
        if to_advocate_id is None:
            if note:
                self._add_note(session, conversation, user, note, now)
            do_return_to_queue(session, self.triage, conversation.id, user.id, now)
            events.record(
                session,
                "transferred",
                now,
                conversation_id=conversation.id,
                texter_id=conversation.texter_id,
                actor_id=user.id,
                to="queue",
            )
            return
        target = session.get(StaffUser, to_advocate_id)
        if target is None or not target.active or target.id == user.id:
            raise Conflict("choose another active advocate")
        self.check_reachable(session, target, now)
        lock_texter(session, conversation.texter_id)
        if note:
            self._add_note(session, conversation, user, note, now)
        conversation.advocate_id = target.id
        conversation.claimed_at = now
        events.record(
            session,
            "transferred",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            actor_id=user.id,
            to=target.email,
        )
        after_commit.changed(session, conversation.id)
        # Both advocates' "my conversations" lists travel with the queue: tell their consoles.
        after_commit.queue_changed(session)

    def close(
        self,
        session: Session,
        user: StaffUser,
        conversation_id: int,
        disposition: str,
        summary: str,
        now: datetime,
    ) -> None:
        known = session.get(Disposition, disposition)
        if known is None or not known.active:
            raise Conflict("choose a disposition to close")
        summary = summary.strip()
        if len(summary) > MAX_NOTE_CHARS:
            raise Conflict(f"a summary is at most {MAX_NOTE_CHARS} characters")
        conversation = self._held(session, user, conversation_id)
        do_close(session, self.triage, conversation.id, user.id, disposition, now)
        conversation.disposition = disposition
        if summary:
            conversation.summary_ciphertext = self.vault.encrypt(summary)


def _emails(session: Session, staff_ids: set[int | None]) -> dict[int, str]:
    """The email of each staff member ``staff_ids`` names (None is nobody), in one query."""
    wanted = sorted(i for i in staff_ids if i is not None)
    if not wanted:
        return {}
    found = session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(wanted)))
    return {staff_id: email for staff_id, email in found}


def _held_by(staff_id: int | SQLColumnExpression[int]) -> Select[Any]:
    """How many conversations ``staff_id`` holds: of one staff member, or, as a subquery, of
    each row of a query of staff (``StaffUser.id``)."""
    return (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.advocate_id == staff_id, Conversation.state == State.WITH_ADVOCATE)
    )


def _last_emergency(conversation: Conversation, timeline: list[TimelineEntry]) -> IsoTime | None:
    """When emergency words last came in this conversation (None if they never did): the
    latest emergency alert since ``emergency_at``, which records only the first."""
    if conversation.emergency_at is None:
        return None
    first = iso_time(conversation.emergency_at)
    later: list[IsoTime] = [
        item["at"]
        for item in timeline
        if item["type"] == "event"
        and item["kind"] == "alert"
        and (item["detail"] or {}).get("alert") in EMERGENCY_ALERTS
        and item["at"] >= first
    ]
    return max([first, *later])


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes >= 1:
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{span.total_seconds():g} seconds"


REASON_MIN_CHARS = 10
REASON_MAX_CHARS = 500


def _supervisor_with_reason(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    reason: str,
    why: str,
) -> tuple[Conversation, str]:
    """The conversation, for a supervisor who stated a reason; advocates see nothing."""
    if user.role not in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
        raise NotFound("no such conversation")
    reason = stated_reason(reason, why)
    return console.visible(session, user, conversation_id), reason


def stated_reason(reason: str, why: str, refusal: type[Refusal] = Conflict) -> str:
    """A supervisor's reason for an exceptional read (a full number, exported message text):
    trimmed, at most ``REASON_MAX_CHARS`` kept. Raises ``refusal`` when it is shorter than
    ``REASON_MIN_CHARS``, with a message that says ``why`` a reason is asked for."""
    reason = reason.strip()
    if len(reason) < REASON_MIN_CHARS:
        raise refusal(f"state why {why} (at least {REASON_MIN_CHARS} characters)")
    return reason[:REASON_MAX_CHARS]


def do_reveal_number(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    reason: str,
    now: datetime,
) -> str:
    """The texter's full number, for a supervisor with a stated reason; audited."""
    conversation, reason = _supervisor_with_reason(
        session, console, user, conversation_id, reason, "the full number is needed"
    )
    texter = session.get(Texter, conversation.texter_id)
    assert texter is not None
    if texter.phone_ciphertext is None:
        raise Conflict("this texter's number was erased")
    events.record(
        session,
        "number_revealed",
        now,
        conversation_id=conversation.id,
        texter_id=texter.id,
        actor_id=user.id,
        sealed_reason=console.vault.encrypt(reason),
    )
    return str(console.vault.decrypt(texter.phone_ciphertext))


def do_erase_texter(
    session: Session,
    console: Console,
    user: StaffUser,
    conversation_id: int,
    reason: str,
    now: datetime,
) -> None:
    """A supervisor's "erase this texter": everything, everywhere, now; audited."""
    from hotline.services.privacy import erase_texter

    conversation, reason = _supervisor_with_reason(
        session, console, user, conversation_id, reason, "this texter is erased"
    )
    erase_texter(
        session,
        console.triage,
        conversation.texter_id,
        now,
        actor_id=user.id,
        by="supervisor",
        sealed_reason=console.vault.encrypt(reason),
    )
