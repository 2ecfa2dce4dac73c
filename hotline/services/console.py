"""What staff see in the console: the queue, their conversations, one conversation with its
timeline, and the choices its forms offer (quick replies, referrals, dispositions, tags, who to
transfer to); and :class:`Console`, the collaborators and access rules the console's actions
(:mod:`hotline.services.handling`) and the supervisors' (:mod:`hotline.services.supervision`)
share.

Access is decided here, for every record: an advocate sees the queue's triage summaries and the
conversations they hold, nothing else; supervisors and admins see every conversation. A
conversation an advocate may not see is reported as not found, so ids reveal nothing. Every read
of a transcript is in the event log with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import Select, SQLColumnExpression, func, or_, select
from sqlalchemy.orm import Session

from hotline.db.models import (
    Availability,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Disposition,
    Event,
    QuickReply,
    Referral,
    StaffRole,
    StaffUser,
    Tag,
    Texter,
)
from hotline.domain.phone import mask
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.infra.vault import Vault
from hotline.services import directory, events, presence
from hotline.services.answers import IsoTime, iso_time, iso_time_or_none
from hotline.services.errors import Conflict, NotFound
from hotline.services.queue import WAITING, queue_order
from hotline.services.timeline import TimelineEntry, last_emergency, timeline
from hotline.services.triage import Triage

VIEW_AUDIT_EVERY = timedelta(minutes=10)
DEFAULT_PRESENCE_GRACE = timedelta(minutes=2)


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
    name: str  # what colleagues are shown (StaffUser.name): the display name, or the email's start
    active_count: int
    full: bool  # at capacity: shown, but a transfer to them would be refused


class Me(TypedDict):
    id: int
    email: str
    name: str
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
        entries = timeline(session, self.vault, conversation)
        return {
            **summary,
            "emergency_last_at": last_emergency(conversation, entries),
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
            "timeline": entries,
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
            select(StaffUser, _held_by(StaffUser.id).scalar_subquery())
            .where(
                StaffUser.availability == Availability.AVAILABLE,
                presence.connected_clause(now, self.presence_grace),
                StaffUser.id != except_id,
            )
            .order_by(StaffUser.email)
        )
        choices: list[AdvocateChoice] = [
            {
                "id": staff.id,
                "name": staff.name,
                "active_count": load,
                "full": load >= self.capacity,
            }
            for staff, load in rows
        ]
        return sorted(choices, key=lambda choice: choice["name"].casefold())

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
            "name": user.name,
            "role": user.role,
            "availability": user.availability,
            "capacity": self.capacity,
            "active_count": self.load(session, user.id),
            "totp_enabled": user.totp_enabled,
        }


def _held_by(staff_id: int | SQLColumnExpression[int]) -> Select[Any]:
    """How many conversations ``staff_id`` holds: of one staff member, or, as a subquery, of
    each row of a query of staff (``StaffUser.id``)."""
    return (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.advocate_id == staff_id, Conversation.state == State.WITH_ADVOCATE)
    )


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes >= 1:
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{span.total_seconds():g} seconds"
