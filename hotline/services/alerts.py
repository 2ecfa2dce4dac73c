"""Alerts for supervisors: what the worker flagged for a person to see, until one acknowledges it.

The worker records each alert as an ``alert`` event (``detail["alert"]`` says which kind). The
event log is append-only, so acknowledging one is another event, ``alert_acknowledged``, naming
the alert's id; an alert is open while no such event names it.

Nothing here returns a phone number in clear. The one kind that carries a texter's words, an
emergency from a number that texted STOP (nothing can be sent to them, so only staff reading it
can help), returns them decrypted, and each supervisor's reading of them is recorded as a
``transcript_viewed`` event, as a conversation's transcript is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hotline.db import after_commit
from hotline.db.models import Conversation, Event, EventDetail, Message, StaffUser, Texter
from hotline.domain.phone import mask
from hotline.infra.vault import Vault, VaultError
from hotline.services import events
from hotline.services.answers import IsoTime, iso_time
from hotline.services.console import VIEW_AUDIT_EVERY
from hotline.services.errors import Conflict, NotFound

# What the board lists: alerts of the last week that nobody acknowledged, newest first.
ALERT_WINDOW = timedelta(days=7)
MAX_SHOWN = 100
# Acknowledgements are found from a little before the oldest alert shown: a web and a worker
# clock a few seconds apart must not make an acknowledged alert look open again.
CLOCK_MARGIN = timedelta(hours=1)

# pg_advisory_xact_lock key space of acknowledgements ("ALRT"), one lock per alert.
_LOCK_NAMESPACE = 0x414C5254

# Older rows say "urgent" for what is now "emergency": one kind to staff.
SAME_AS = {"urgent": "emergency"}
LABELS = {
    "emergency": "Emergency words from a texter",
    "held": "Kept open for a person to decide",
    "minor": "A texter who may be under 18",
    "opted_out_emergency": "Emergency words from a number that texted STOP",
    "advocate_gone": "An advocate's session ended while holding texters",
    "help_requested": "An advocate asks for a supervisor",
    "urgent_waiting": "An urgent texter has waited too long",
    "unanswered": "A texter's texts are going unanswered",
}
HELD_BECAUSE = {
    "urgent": "the texter may be in danger",
    "minor": "the texter may be a minor",
    "not_safe": "the texter said it is not safe to text",
}


class AlertEntry(TypedDict):
    """One open alert. The fields after ``conversation_id`` belong to some kinds only; the
    others have them None."""

    id: int
    kind: str
    label: str
    at: IsoTime
    conversation_id: int | None
    why: str | None  # held: why the conversation was kept open
    advocate: str | None  # advocate_gone: whose session ended; help_requested: who asks
    conversations: int | None  # advocate_gone: how many texters they held
    phone: str | None  # opted_out_emergency: the masked number
    words: str | None  # opted_out_emergency: the text, while it is kept
    history_conversation_id: int | None  # opted_out_emergency: the texter's latest conversation
    reason: str | None  # help_requested: what the advocate needs, while it is kept


class OpenAlerts(TypedDict):
    items: list[AlertEntry]
    count: int  # open alerts in all; at most MAX_SHOWN are in items


def kind_of(event: Event) -> str:
    """The alert's kind, with older spellings mapped to today's."""
    raw = str((event.detail or {}).get("alert", ""))
    return SAME_AS.get(raw, raw)


@dataclass(frozen=True)
class Alerts:
    vault: Vault

    def open_alerts(self, session: Session, user: StaffUser, now: datetime) -> OpenAlerts:
        """The unacknowledged alerts of the last week, newest first (at most ``MAX_SHOWN``),
        and how many there are in all.

        An opted-out texter's emergency comes with the masked number and the words of the
        text; reading those words is recorded for ``user`` (at most once every few minutes per
        text, as conversation views are).
        """
        since = now - ALERT_WINDOW
        alerts = [
            alert
            for alert in session.scalars(
                select(Event)
                .where(Event.kind == "alert", Event.created_at >= since)
                .order_by(Event.id.desc())
            ).unique()
            if kind_of(alert)  # an erased texter's alerts say nothing more: nothing to act on
        ]
        if not alerts:
            return {"items": [], "count": 0}
        oldest = min(alert.created_at for alert in alerts)
        acknowledged = {
            (detail or {}).get("alert_id")
            for detail in session.scalars(
                select(EventDetail.detail)
                .join(Event, Event.id == EventDetail.event_id)
                .where(
                    Event.kind == "alert_acknowledged",
                    Event.created_at >= oldest - CLOCK_MARGIN,
                )
            )
        }
        open_ = [alert for alert in alerts if alert.id not in acknowledged]
        shown = open_[:MAX_SHOWN]
        names = self._names(session, shown)
        return {
            "items": [self._item(session, user, alert, names, now) for alert in shown],
            "count": len(open_),
        }

    def _names(self, session: Session, alerts: list[Event]) -> dict[int, str]:
        """The names (:attr:`StaffUser.name`) of the advocates the alerts name, by id."""
        ids = {
            int(advocate)
            for alert in alerts
            if isinstance(advocate := (alert.detail or {}).get("advocate_id"), int)
        }
        if not ids:
            return {}
        staff = session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
        return {member.id: member.name for member in staff}

    def _item(
        self,
        session: Session,
        user: StaffUser,
        alert: Event,
        names: dict[int, str],
        now: datetime,
    ) -> AlertEntry:
        kind = kind_of(alert)
        detail = alert.detail or {}
        item: AlertEntry = {
            "id": alert.id,
            "kind": kind,
            "label": LABELS.get(kind, "Alert"),
            "at": iso_time(alert.created_at),
            "conversation_id": alert.conversation_id,
            "why": None,
            "advocate": None,
            "conversations": None,
            "phone": None,
            "words": None,
            "history_conversation_id": None,
            "reason": None,
        }
        if kind == "held":
            why = detail.get("why")
            item["why"] = HELD_BECAUSE.get(str(why), str(why)) if why else None
        elif kind == "advocate_gone":
            advocate = detail.get("advocate_id")
            item["advocate"] = names.get(advocate) if isinstance(advocate, int) else None
            count = detail.get("conversations")
            item["conversations"] = count if isinstance(count, int) else None
        elif kind == "urgent_waiting":
            waited = detail.get("waited_seconds")
            if isinstance(waited, int):
                item["why"] = f"waiting in the queue for {_minutes(waited)}"
        elif kind == "unanswered":
            advocate = detail.get("advocate_id")
            item["advocate"] = names.get(advocate) if isinstance(advocate, int) else None
            texts, waited = detail.get("texts"), detail.get("unanswered_seconds")
            if isinstance(texts, int) and isinstance(waited, int):
                first = "no reply yet; " if detail.get("no_reply_yet") else ""
                item["why"] = (
                    f"{first}{texts} {'text' if texts == 1 else 'texts'} unanswered "
                    f"for {_minutes(waited)}"
                )
        elif kind == "opted_out_emergency":
            self._opted_out(session, user, alert, now, item)
        elif kind == "help_requested":
            advocate = detail.get("advocate_id")
            item["advocate"] = names.get(advocate) if isinstance(advocate, int) else None
            item["reason"] = events.stated_reason(self.vault, alert)
        return item

    def _opted_out(
        self, session: Session, user: StaffUser, alert: Event, now: datetime, shown: AlertEntry
    ) -> None:
        """Put in ``shown`` the masked number, the words, and the texter's latest conversation;
        the read of the words is audited."""
        shown["phone"] = "(unknown)"
        if alert.texter_id is None:
            return
        texter = session.get(Texter, alert.texter_id)
        if texter is not None:
            shown["phone"] = self._masked(texter.phone_ciphertext)
        shown["history_conversation_id"] = session.scalar(
            select(Conversation.id)
            .where(Conversation.texter_id == alert.texter_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        message = session.get(Message, alert.message_id) if alert.message_id else None
        if message is None or message.body_ciphertext is None:
            shown["words"] = None  # erased or purged since: nothing was read
            return
        try:
            shown["words"] = self.vault.decrypt(message.body_ciphertext)
        except VaultError:
            shown["words"] = None
            return
        self._audit_read(session, user, alert, now)

    def _masked(self, ciphertext: bytes | None) -> str:
        if ciphertext is None:
            return "(erased)"
        try:
            return mask(self.vault.decrypt(ciphertext))
        except VaultError:
            return "(unreadable)"

    def _audit_read(self, session: Session, user: StaffUser, alert: Event, now: datetime) -> None:
        recent = session.scalar(
            select(Event.id)
            .where(
                Event.kind == "transcript_viewed",
                Event.actor_id == user.id,
                Event.message_id == alert.message_id,
                Event.created_at > now - VIEW_AUDIT_EVERY,
            )
            .limit(1)
        )
        if recent is None:
            events.record(
                session,
                "transcript_viewed",
                now,
                conversation_id=alert.conversation_id,
                texter_id=alert.texter_id,
                message_id=alert.message_id,
                actor_id=user.id,
                alert_id=alert.id,
            )


def _minutes(seconds: int) -> str:
    minutes = max(1, seconds // 60)
    return f"{minutes} {'minute' if minutes == 1 else 'minutes'}"


def _lock_alert(session: Session, alert_id: int) -> None:
    """Serialise acknowledgements of one alert across processes, until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock, not a row lock: ``SELECT ... FOR UPDATE``
    needs the UPDATE privilege, which the app's database role does not hold on the append-only
    ``events`` (see ``hotline.db.grants``). SQLite: every write transaction began with
    ``BEGIN IMMEDIATE`` and so already holds the database's one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = (_LOCK_NAMESPACE << 32) | alert_id
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": key})


def do_acknowledge(session: Session, user: StaffUser, alert_id: int, now: datetime) -> None:
    """Record that ``user`` has seen alert ``alert_id`` and dealt with it.

    Raises :class:`NotFound` when there is no such event or it is not an alert, and
    :class:`Conflict` when it was acknowledged already; nothing is recorded then. The
    alert is locked (see :func:`_lock_alert`) so two supervisors cannot both acknowledge it.
    """
    if not 0 < alert_id < 2**31:  # an id no row can have, nor the lock's key hold
        raise NotFound("no such alert")
    _lock_alert(session, alert_id)
    alert = session.get(Event, alert_id)
    if alert is None or alert.kind != "alert" or not kind_of(alert):
        raise NotFound("no such alert")
    before = session.execute(
        select(EventDetail.detail, Event.created_at, StaffUser)
        .join(EventDetail, EventDetail.event_id == Event.id)
        .outerjoin(StaffUser, StaffUser.id == Event.actor_id)
        .where(
            Event.kind == "alert_acknowledged",
            Event.created_at >= alert.created_at - CLOCK_MARGIN,
        )
    ).all()
    for detail, at, acknowledger in before:
        if (detail or {}).get("alert_id") == alert.id:
            raise Conflict(
                "this alert was already acknowledged by "
                f"{acknowledger.name if acknowledger else 'someone'} at "
                f"{at.strftime('%H:%M')} UTC"
            )
    events.record(
        session,
        "alert_acknowledged",
        now,
        conversation_id=alert.conversation_id,
        texter_id=alert.texter_id,
        actor_id=user.id,
        alert_id=alert.id,
        alert=kind_of(alert),
    )
    # Every supervisor's board lists the open alerts: the queue's counter makes them look again.
    after_commit.queue_changed(session)
    if alert.conversation_id is not None:
        after_commit.changed(session, alert.conversation_id)
