"""The hotline's tables.

Nothing here holds a phone number or a text in clear: ``*_ciphertext`` columns are Fernet
tokens made by :class:`hotline.infra.vault.Vault`, and ``phone_hash`` is its keyed hash.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    text,
)
from sqlalchemy.event import listens_for
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hotline.db.content import Holds, holds
from hotline.db.types import UTCDateTime
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.domain.risk import Priority
from hotline.domain.triage import State

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(enum_class: type[StrEnum], length: int) -> Enum:
    # Stored as plain strings: adding a state later is a code change, not a type migration.
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class StaffRole(StrEnum):
    ADVOCATE = "advocate"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Texter(Base):
    __tablename__ = "texters"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Replaced by a random value when the texter is erased, or away past the retention period:
    # the same number texting again is then a new texter (hotline.services.erasure).
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True, info=holds(Holds.TEXTER_LINK))
    # None once erased or purged: the texter can no longer be texted.
    phone_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_NUMBER)
    )
    language: Mapped[str] = mapped_column(String(8), default="en", info=holds(Holds.CODE))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the texter's data was erased; their number goes once nothing is left to send.
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    conversations: Mapped[list[Conversation]] = relationship(back_populates="texter")

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # At most one open conversation per texter, whatever the number of workers.
        Index(
            "uq_conversations_open_per_texter",
            "texter_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The queue: waiting texters by priority, then by how long they waited.
        Index(
            "ix_conversations_queue",
            "priority",
            "queued_at",
            postgresql_where=text("state IN ('queued', 'queue_check_in')"),
            sqlite_where=text("state IN ('queued', 'queue_check_in')"),
        ),
        Index(
            "ix_conversations_timer_due_at",
            "timer_due_at",
            postgresql_where=text("timer_due_at IS NOT NULL"),
            sqlite_where=text("timer_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    texter_id: Mapped[int] = mapped_column(ForeignKey("texters.id"), index=True)
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus, 16), default=ConversationStatus.OPEN
    )
    # The triage machine (hotline.domain.triage): its state, language and re-ask count.
    state: Mapped[State] = mapped_column(_enum(State, 40), default=State.NEW)
    language: Mapped[str] = mapped_column(String(8), default="en", info=holds(Holds.CODE))
    # What the texter writes in when the hotline cannot text in it ("vi", "zh"...: ISO 639-1,
    # hotline.domain.language): ``language`` stays the one we write to them in.
    texter_language: Mapped[str | None] = mapped_column(String(8), info=holds(Holds.CODE))
    reasks: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, 16),
        default=Priority.NORMAL,
        info=holds(Holds.TEXTER_FIGURE, Priority.NORMAL),
    )
    # The one running timer, and when it fires (hotline.services.timers.fire_timer).
    timer: Mapped[str | None] = mapped_column(String(24), info=holds(Holds.CODE))
    timer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    returning_texter: Mapped[bool] = mapped_column(
        Boolean, default=False, info=holds(Holds.TEXTER_FACT, False)
    )
    # Triage answers. Free text is encrypted like every text.
    in_danger: Mapped[bool | None] = mapped_column(Boolean, info=holds(Holds.TEXTER_FACT))
    safe_to_text: Mapped[bool | None] = mapped_column(Boolean, info=holds(Holds.TEXTER_FACT))
    needs_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    location_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    risk_score: Mapped[int] = mapped_column(Integer, default=0, info=holds(Holds.TEXTER_FIGURE, 0))
    # Lexicon phrases that matched, e.g. "locked in (+40)": why the priority is what it is.
    risk_reasons: Mapped[list[str] | None] = mapped_column(JSON, info=holds(Holds.TEXTER_FACT))
    # What the texter's texts said of risk so far, so a new text is read alone, not with all
    # before it (hotline.services.triage.Triage.reassess): the phrases found, which lexicons
    # found them, and up to which text. Deferred: only the worker reads it, one row at a time.
    risk_findings_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, info=holds(Holds.TEXTER_WORDS)
    )
    survey_score: Mapped[int | None] = mapped_column(Integer, info=holds(Holds.TEXTER_FIGURE))
    close_reason: Mapped[str | None] = mapped_column(String(24), info=holds(Holds.CODE))
    disposition: Mapped[str | None] = mapped_column(String(48), info=holds(Holds.TEXTER_FIGURE))
    summary_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    # Indexed: metrics and logs over a date range (migration 0008).
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_texter_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the advocate holding it now took it (a claim, transfer or reassignment), and when
    # anyone first did: metrics count from the first (hotline.services.claims.hold).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The first advocate reply: kept here so "time to first reply" needs no scan of messages.
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Emergency words: when first and last reported in this conversation (the first puts it at
    # the head of the queue), and when the texter was last sent the emergency guidance (it is
    # sent again only after a few minutes, however many emergency texts come).
    emergency_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), info=holds(Holds.TEXTER_FACT)
    )
    guidance_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), info=holds(Holds.TEXTER_FACT)
    )
    # The texter says or shows they are under 18: a person decides, never a timer.
    minor: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=text("false"),
        info=holds(Holds.TEXTER_FACT, False),
    )
    # While queued: the last "we got your message", the last place in line the texter was told,
    # and the unprompted texts sent in the hour that began at ``unprompted_since``.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    told_position: Mapped[int | None] = mapped_column(Integer)
    unprompted_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    unprompted_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    texter: Mapped[Texter] = relationship(back_populates="conversations")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # The sweep's questions: inbound texts not yet processed, outbound not yet with Twilio.
        Index(
            "ix_messages_unprocessed",
            "created_at",
            postgresql_where=text("direction = 'inbound' AND processed_at IS NULL"),
            sqlite_where=text("direction = 'inbound' AND processed_at IS NULL"),
        ),
        Index(
            "ix_messages_unsent",
            "created_at",
            postgresql_where=text("status IN ('pending', 'submitting')"),
            sqlite_where=text("status IN ('pending', 'submitting')"),
        ),
        Index("ix_messages_texter_id_id", "texter_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    texter_id: Mapped[int] = mapped_column(ForeignKey("texters.id"))
    # Set by the worker that processes an inbound text; outbound texts have it from the start.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, 8))
    # None once erased or purged.
    body_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    twilio_sid: Mapped[str | None] = mapped_column(
        String(34), unique=True, info=holds(Holds.TEXTER_LINK)
    )
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, 16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    num_media: Mapped[int] = mapped_column(Integer, default=0, info=holds(Holds.TEXTER_FACT, 0))
    media_types: Mapped[list[str] | None] = mapped_column(JSON, info=holds(Holds.TEXTER_FACT))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # A STOP/START/HELP confirmation: the one kind of text that goes out to an opted-out number.
    compliance_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    conversation: Mapped[Conversation | None] = relationship(back_populates="messages")


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, info=holds(Holds.STAFF_RECORD))
    # How staff see each other ("Maria Lopez"); its first word is the name a texter is told.
    display_name: Mapped[str | None] = mapped_column(String(80), info=holds(Holds.STAFF_RECORD))
    password_hash: Mapped[str] = mapped_column(String(255), info=holds(Holds.CREDENTIAL))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    availability: Mapped[Availability] = mapped_column(
        _enum(Availability, 16), default=Availability.AWAY
    )
    # The last poll from their console (hotline.services.presence), written at most every few
    # seconds: whether they are really there, whatever ``availability`` says.
    console_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP two-factor: the shared secret, encrypted like every secret at rest.
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.STAFF_SECRET)
    )
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # A new secret being set up: it replaces the enabled one only once a code from it is
    # confirmed, so opening the setup page never weakens the account.
    totp_pending_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.STAFF_SECRET)
    )
    # The last time step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set when an account is created or its password reset by someone else: the temporary
    # password is known to them, so the first sign-in must replace it.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def name(self) -> str:
        """How staff are shown to staff: the display name, or before one is set, the local part
        of the email. Never an id."""
        return (self.display_name or "").strip() or self.email.partition("@")[0]

    @property
    def first_name(self) -> str | None:
        """The name a texter may be told: the display name's first word, or None while no
        display name is set (an email is never told to a texter)."""
        words = (self.display_name or "").split()
        return words[0] if words else None


class ConversationHandler(Base):
    """A staff member who held a conversation at some time, and when first: everyone who
    handled it is credited in the metrics. Written only by :func:`hotline.services.claims.hold`."""

    __tablename__ = "conversation_handlers"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id"), primary_key=True, index=True
    )
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here,
    so a database dump cannot be replayed as a sign-in."""

    __tablename__ = "staff_sessions"

    # sha256 of the token, hex
    id: Mapped[str] = mapped_column(String(64), primary_key=True, info=holds(Holds.CREDENTIAL))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), info=holds(Holds.CREDENTIAL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Signed in with the password, but the second factor is still owed.
    awaiting_totp: Mapped[bool] = mapped_column(Boolean, default=False)


class RecoveryCode(Base):
    """A one-time two-factor recovery code: shown once, stored only as a hash, used at most once."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255), info=holds(Holds.CREDENTIAL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInAttempt(Base):
    """For throttling: who tried (a hash of the lowercased email), when, and whether it worked."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_email_hash_at", "email_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), info=holds(Holds.CREDENTIAL))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


class Note(Base):
    """A private note on a conversation: never sent to the texter. Encrypted at rest."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationTag(Base):
    """A tag on a conversation. The row as a whole describes the conversation: erased with it."""

    __tablename__ = "conversation_tags"
    __table_args__ = ({"info": holds(Holds.TEXTER_FIGURE)},)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, info=holds(Holds.STAFF_RECORD))
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuickReply(Base):
    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8), index=True, info=holds(Holds.CODE))
    title: Mapped[str] = mapped_column(String(80), info=holds(Holds.STAFF_RECORD))
    body: Mapped[str] = mapped_column(String(640), info=holds(Holds.STAFF_RECORD))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


_DIRECTORY = holds(Holds.STAFF_RECORD)


class Referral(Base):
    """An organisation advocates refer texters to. Public directory data, not texter data."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), info=_DIRECTORY)
    services: Mapped[str] = mapped_column(String(400), info=_DIRECTORY)
    area: Mapped[str] = mapped_column(String(120), info=_DIRECTORY)
    phone: Mapped[str] = mapped_column(String(40), info=_DIRECTORY)
    hours: Mapped[str] = mapped_column(String(120), info=_DIRECTORY)
    language: Mapped[str] = mapped_column(String(40), info=_DIRECTORY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Disposition(Base):
    """How a conversation ended, from the advocate's side (required to close)."""

    __tablename__ = "dispositions"

    code: Mapped[str] = mapped_column(String(48), primary_key=True, info=_DIRECTORY)
    label: Mapped[str] = mapped_column(String(120), info=_DIRECTORY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Tag(Base):
    """A tag advocates may put on a conversation; supervisors keep the list."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(40), primary_key=True, info=_DIRECTORY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SettingOverride(Base):
    """A setting a supervisor changed at run time, over its value from the environment.

    ``value`` is JSON checked by :mod:`hotline.services.tuning` before it is written; every
    change is also an event. Read afresh by each job and request, so no restart is needed.
    """

    __tablename__ = "setting_overrides"

    key: Mapped[str] = mapped_column(String(64), primary_key=True, info=holds(Holds.CODE))
    value: Mapped[Any] = mapped_column(JSON, info=_DIRECTORY)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class QualityReview(Base):
    """One closed conversation drawn for the week's quality review, and its review.

    ``feedback_ciphertext`` is the reviewer's feedback to the advocate, encrypted like notes.
    """

    __tablename__ = "quality_reviews"
    __table_args__ = (Index("ix_quality_reviews_week_start", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The advocate's scores: figures about staff work, not the texter's.
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=holds(Holds.STAFF_RECORD))
    feedback_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the advocate read it


class Event(Base):
    """One line of the append-only event log: the database refuses updates and deletes.

    A line says only what happened, when, who did it and to which conversation. Its values
    (answers, alert kinds, counts) are in :class:`EventDetail`, and a staff member's stated
    reason is encrypted there: both can be erased with the texter or at the end of retention,
    which this table, by design, never can.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48), index=True, info=holds(Holds.CODE))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    texter_id: Mapped[int | None] = mapped_column(ForeignKey("texters.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    erasable: Mapped[EventDetail | None] = relationship(
        back_populates="event", lazy="joined", uselist=False
    )

    @property
    def detail(self) -> dict[str, Any]:
        """The event's values; empty once erased or purged (or when it never had any)."""
        if self.erasable is None or self.erasable.detail is None:
            return {}
        return self.erasable.detail

    @detail.setter
    def detail(self, value: dict[str, Any]) -> None:
        if self.erasable is None:
            self.erasable = EventDetail()
        self.erasable.detail = value


class EventDetail(Base):
    """The erasable part of an event: its values, and a staff member's stated reason.

    ``conversation_id`` and ``texter_id`` repeat the event's, so erasure and the purge find a
    texter's rows here as they find them in every other table.
    """

    __tablename__ = "event_details"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    texter_id: Mapped[int | None] = mapped_column(ForeignKey("texters.id"), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=holds(Holds.TEXTER_FACT))
    # Free text a staff member had to give (why a number was revealed, a texter erased, message
    # text exported): it can retell what a texter said.
    reason_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=holds(Holds.TEXTER_WORDS)
    )

    event: Mapped[Event] = relationship(back_populates="erasable")


@listens_for(EventDetail, "before_insert")
def _same_texter_as_its_event(_mapper: Any, _connection: Any, detail: EventDetail) -> None:
    detail.conversation_id = detail.event.conversation_id
    detail.texter_id = detail.event.texter_id


class OptedOutNumber(Base):
    """The keyed hash of a number that texted STOP and was then erased or forgotten.

    All that remains of such a texter, so that their STOP still holds: no time, no link to any
    row. A new texter with this hash starts opted out (hotline.services.receive).
    """

    __tablename__ = "opted_out_numbers"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True, info=holds(Holds.OPT_OUT))


class Holding(Base):
    """An advocate's hold on a conversation, from the first time the console saw it theirs
    until they dismiss its ending (:mod:`hotline.services.attention`): what they have read,
    how they came to hold it, and how it left them and by whose hand.

    One row per advocate and conversation: holding it again (transferred back) reopens it.
    """

    __tablename__ = "holdings"
    __table_args__ = (
        Index("uq_holdings_advocate_conversation", "advocate_id", "conversation_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "claimed", "transferred", "reassigned", "taken_over": how it came to them.
    came_how: Mapped[str] = mapped_column(String(24), info=holds(Holds.CODE))
    # The newest texter text they have seen (a message id), and when they last looked.
    read_through: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How it left them: "closed", "transferred", "returned", "stop", "safe_word", "erased",
    # "taken_over", "reassigned", "ended"; and who did it (None: the texter or the hotline).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_how: Mapped[str | None] = mapped_column(String(24), info=holds(Holds.CODE))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    wrapped_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseOption(Base):
    """An entry of one of the case record's lists (:mod:`hotline.domain.case_lists`): its code
    is stable (earlier records and the reports keep it), its label may be reworded, and an entry
    no longer wanted is retired, never deleted. Kept by admins; no texter's data."""

    __tablename__ = "case_options"

    list: Mapped[str] = mapped_column(String(24), primary_key=True, info=holds(Holds.CODE))
    code: Mapped[str] = mapped_column(String(48), primary_key=True, info=_DIRECTORY)
    label: Mapped[str] = mapped_column(String(120), info=_DIRECTORY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CaseRecord(Base):
    """What an advocate recorded of a conversation's situation, for the hotline's reports
    (issue 20): codes only, never free text or anything that identifies anyone.

    Erased with the conversation (safe word, DELETE, a supervisor); kept by the retention
    purge, which is what makes year-on-year reports possible. The lists it holds several
    entries of are in :class:`CaseRecordCode` and :class:`CaseRecordReferral`.
    """

    __tablename__ = "case_records"
    __table_args__ = ({"info": holds(Holds.TEXTER_FIGURE)},)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(48), info=holds(Holds.CODE))
    age_group: Mapped[str | None] = mapped_column(String(8), info=holds(Holds.CODE))
    state: Mapped[str | None] = mapped_column(String(8), info=holds(Holds.CODE))
    # Whether the texter wanted contact with law enforcement; and whether a report was made,
    # which may be "yes" only when they wanted it (consent).
    police_wanted: Mapped[str | None] = mapped_column(String(8), info=holds(Holds.CODE))
    police_report: Mapped[str | None] = mapped_column(String(8), info=holds(Holds.CODE))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class CaseRecordCode(Base):
    """One entry of a list a case record may hold several of (type, venue, recruitment, means
    of control): erased with the conversation, kept by the purge, as :class:`CaseRecord`."""

    __tablename__ = "case_record_codes"
    __table_args__ = ({"info": holds(Holds.TEXTER_FIGURE)},)

    # To the conversation, not its record: erasure deletes these tables in any order.
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    list: Mapped[str] = mapped_column(String(24), primary_key=True, info=holds(Holds.CODE))
    code: Mapped[str] = mapped_column(String(48), primary_key=True, info=holds(Holds.CODE))


class CaseRecordReferral(Base):
    """A referral made, from the directory: erased with the conversation, kept by the purge."""

    __tablename__ = "case_record_referrals"
    __table_args__ = ({"info": holds(Holds.TEXTER_FIGURE)},)

    # To the conversation, not its record: erasure deletes these tables in any order.
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
