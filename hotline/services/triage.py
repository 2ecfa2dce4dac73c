"""Carrying out the triage machine's decisions on a stored conversation.

:func:`advance` feeds one event to :func:`hotline.domain.triage.step` and carries out the
actions it returns: texts are stored as pending replies (sent after commit), answers recorded,
the queue, priority and timers set. Every caller holds the texter's row lock
(:func:`hotline.db.session.lock_texter`) for the whole transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hotline.catalogue import KEYWORD_REPLIES, lexicons, render
from hotline.db import after_commit
from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Message,
    Texter,
)
from hotline.domain import answers
from hotline.domain.delivery import Direction
from hotline.domain.keywords import OptOutRequests
from hotline.domain.risk import (
    Findings,
    Lexicon,
    Priority,
    conclude,
    dangers,
    fingerprint,
    fold,
    higher,
    read,
)
from hotline.domain.triage import Action, On, Op, Snapshot, State, step
from hotline.domain.triage import Event as TriageEvent
from hotline.infra.vault import Vault
from hotline.services import events, waiting
from hotline.services.erasure import empty_event_details, erase_texter_content
from hotline.services.outbox import queue_text
from hotline.services.queue import WAITING, queue_position
from hotline.services.staffing import HoursPolicy
from hotline.settings import Settings


@dataclass(frozen=True)
class TriagePolicy:
    """What the machine needs from settings: texts, safe word, timers, lexicons."""

    org_name: str
    org_name_es: str
    discreet: bool
    safe_word: str
    survey: bool
    timer_minutes: dict[str, float]
    quiet_limit_seconds: float
    lexicons: tuple[Lexicon, ...]
    hours: HoursPolicy  # opening hours and what waiting texters are told (services.waiting)
    guidance_every: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Settings) -> TriagePolicy:
        return cls(
            org_name=settings.org_name,
            org_name_es=settings.org_name_es,
            discreet=settings.discreet_mode,
            safe_word=settings.safe_word,
            survey=settings.survey_enabled,
            timer_minutes={
                "triage": settings.triage_timeout_minutes,
                "wait_update": settings.wait_update_minutes,
                "check_in": settings.check_in_timeout_minutes,
                "survey": settings.survey_timeout_minutes,
                "survey_due": settings.reopen_minutes,
            },
            quiet_limit_seconds=settings.check_in_after_minutes * 60,
            lexicons=lexicons(settings.lexicon_dir),
            hours=HoursPolicy.from_settings(settings),
            guidance_every=timedelta(minutes=settings.emergency_guidance_minutes),
        )

    @cached_property
    def read_with(self) -> str:
        """The lexicons' fingerprint (:func:`hotline.domain.risk.fingerprint`), made once."""
        return fingerprint(self.lexicons)

    @cached_property
    def opt_out(self) -> OptOutRequests:
        """Every lexicon's requests not to be texted, read once."""
        return OptOutRequests.of(p for lexicon in self.lexicons for p in lexicon.opt_out)


# The texts of a conversation after a given one, to read (Triage._findings); built once.
_TEXTS_SINCE = (
    select(Message.id, Message.body_ciphertext)
    .where(
        Message.conversation_id == bindparam("conversation_id"),
        Message.direction == Direction.INBOUND,
        Message.body_ciphertext.is_not(None),
        Message.id > bindparam("after"),
    )
    .order_by(Message.id)
)


@dataclass(frozen=True)
class Triage:
    """The machine's collaborators for one process."""

    vault: Vault
    policy: TriagePolicy

    def snapshot(self, conversation: Conversation) -> Snapshot:
        return Snapshot(
            state=conversation.state,
            language=conversation.language,
            reasks=conversation.reasks,
            urgent=conversation.priority is Priority.URGENT,
            minor=conversation.minor,
            do_not_text=conversation.safe_to_text is False,
        )

    def facts(self, conversation: Conversation, event: TriageEvent, now: datetime) -> TriageEvent:
        """``event`` with what the pure machine cannot see for itself: whether the emergency
        guidance may be sent again yet; at the end of the reopen window, whether the survey may
        go (switched on, and a person answered the texter: never to one nobody answered)."""
        if event.on is On.INACTIVE and conversation.state is State.JUST_CLOSED:
            wanted = self.policy.survey and conversation.first_reply_at is not None
            return replace(event, details={**event.details, "survey": "yes" if wanted else "no"})
        if event.on is not On.EMERGENCY:
            return event
        last = conversation.guidance_at
        due = last is None or now - last >= self.policy.guidance_every
        return replace(event, details={**event.details, "guidance_due": "yes" if due else "no"})

    def advance(
        self,
        session: Session,
        conversation: Conversation,
        event: TriageEvent,
        now: datetime,
        *,
        message: Message | None = None,
        text: str = "",
    ) -> list[Action]:
        """Feed ``event`` to the machine and carry out what it decides. Returns the actions.

        What follows the commit is registered on the transaction (:mod:`~hotline.db.after_commit`):
        each reply to send, the conversation's consoles, and the queue when it changed.
        """
        before = self.snapshot(conversation)
        event = self.facts(conversation, event, now)
        found = waiting.facts(
            session, conversation, event.on, self.policy.hours, now,
            lambda: queue_position(session, conversation),
        )  # fmt: skip
        if found:
            event = replace(event, details={**found, **event.details})
        after, actions = step(before, event, quiet_limit=self.policy.quiet_limit_seconds)
        after_commit.changed(session, conversation.id)
        if not actions and after == before:
            return []
        if (before.state in WAITING) != (after.state in WAITING) or any(
            a.op in (Op.MARK_URGENT, Op.MARK_EMERGENCY, Op.ENQUEUE) for a in actions
        ):
            after_commit.queue_changed(session)
        conversation.state = after.state
        conversation.reasks = after.reasks
        if after.language != conversation.language:
            conversation.language = after.language
        conversation.last_activity_at = now
        for action in actions:
            self._carry_out(session, conversation, action, event, now, message, text)
        events.record(
            session,
            "triage",
            now,
            conversation_id=conversation.id,
            texter_id=conversation.texter_id,
            message_id=message.id if message else None,
            on=event.on.value,
            from_state=before.state.value,
            to_state=after.state.value,
            actions=[str(a) for a in actions],
        )
        if any(action.op is Op.WIPE for action in actions):
            # What this step recorded after the wipe (the close, the step itself) goes too.
            empty_event_details(session, conversation.id)
        return actions

    def _carry_out(
        self,
        session: Session,
        conversation: Conversation,
        action: Action,
        event: TriageEvent,
        now: datetime,
        message: Message | None,
        text: str,
    ) -> None:
        op = action.op
        if op is Op.SEND:
            if action.arg == "emergency":
                conversation.guidance_at = now
            body = self.render(session, conversation, action.arg, now)
            queue_text(session, self.vault, conversation.texter_id, conversation, body, now)
        elif op is Op.SET_LANGUAGE:
            texter = session.get(Texter, conversation.texter_id)
            if texter is not None and event.language:
                texter.language = event.language
        elif op is Op.RECORD:
            self._record(conversation, action.arg, event, text)
            events.record(
                session, "answer", now, conversation_id=conversation.id,
                texter_id=conversation.texter_id, question=action.arg, answer=event.on.value,
            )  # fmt: skip
        elif op is Op.MARK_URGENT:
            conversation.priority = Priority.URGENT
        elif op is Op.MARK_EMERGENCY:
            if conversation.emergency_at is None:
                conversation.emergency_at = now
        elif op is Op.ENQUEUE:
            if conversation.queued_at is None:
                conversation.queued_at = now
        elif op is Op.TIMER:
            self._set_timer(conversation, action.arg, now)
        elif op is Op.CLOSE:
            self.close(session, conversation, action.arg, now)
        elif op is Op.WIPE:
            # The number stays until the confirmation queued next has been sent.
            erase_texter_content(
                session,
                conversation.texter_id,
                now,
                actor_id=None,
                by="safe_word",
                keep_number=True,
            )
        # RESTART is the caller's (process._handle): the text starts a new conversation.
        elif op is Op.ALERT:
            detail: dict[str, Any] = {"alert": action.arg}
            if action.arg == "held":
                detail["why"] = held_because(conversation)
            events.record(
                session, "alert", now, conversation_id=conversation.id,
                texter_id=conversation.texter_id, message_id=message.id if message else None,
                **detail,
            )  # fmt: skip
        # COUNT_REASK is already in the snapshot.

    def _record(
        self, conversation: Conversation, question: str, event: TriageEvent, text: str
    ) -> None:
        answered = event.on
        if question == "danger":
            conversation.in_danger = answered in (On.YES, On.EMERGENCY, On.DISTRESS) or None
            if answered is On.NO:
                conversation.in_danger = False
        elif question == "safety":
            conversation.safe_to_text = {On.YES: True, On.NO: False}.get(answered)
        elif (
            question == "needs"
            and answered in (On.FREE_TEXT, On.EMERGENCY, On.DISTRESS)
            and text.strip()
        ):
            conversation.needs_ciphertext = self.vault.encrypt(text.strip())
        elif question == "location":
            place = answers.location(text) if answered is On.LOCATION else None
            if place is not None:
                conversation.location_ciphertext = self.vault.encrypt(place)
        elif question == "survey":
            conversation.survey_score = answers.survey_score(text)

    def _set_timer(self, conversation: Conversation, name: str, now: datetime) -> None:
        if not name or (name == "survey" and not self.policy.survey):
            conversation.timer, conversation.timer_due_at = None, None
            return
        minutes = self.policy.timer_minutes[name]
        conversation.timer = name
        conversation.timer_due_at = now + timedelta(minutes=minutes)

    def close(
        self, session: Session, conversation: Conversation, reason: str, now: datetime
    ) -> None:
        if conversation.status is ConversationStatus.CLOSED:
            return
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = now
        conversation.close_reason = reason
        events.record(
            session, "conversation_closed", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, reason=reason,
        )  # fmt: skip

    def render(self, session: Session, conversation: Conversation, key: str, now: datetime) -> str:
        """A catalogue text for this conversation, with its place in line where it needs one."""
        values: dict[str, object] = {}
        if key in waiting.QUEUE_KEYS:
            position = queue_position(session, conversation)
            key, values = waiting.wording(
                session, conversation, key, position,
                self.policy.hours, now, discreet=self.policy.discreet,
            )  # fmt: skip
            if key in ("queued", "queued_next") and conversation.emergency_at and position == 1:
                key = "queued_emergency"  # after the guidance, on shift: they are next
        return self.render_plain(key, conversation.language, **values)

    def render_plain(self, key: str, language: str, **values: object) -> str:
        """The text ``key`` in ``language``, with the program's name in that language.

        A reply to HELP, STOP or START (:data:`KEYWORD_REPLIES`) names the program and how else
        to reach it, even in discreet mode: the texter asked, and the short-code rules say so.
        """
        if key in KEYWORD_REPLIES:
            values.setdefault("reach", waiting.reach(self.policy.hours, language, discreet=False))
        return render(
            key,
            language,
            discreet=self.policy.discreet,
            org=self.policy.org_name_es if language == "es" else self.policy.org_name,
            safe_word=self.policy.safe_word,
            **values,
        )

    def reassess(
        self,
        session: Session,
        conversation: Conversation,
        now: datetime,
        *,
        message: Message | None = None,
        text: str = "",
        opened: bool = False,
    ) -> None:
        """Score everything the texter wrote in this conversation; priority only ever rises.

        Each text is read once (see :meth:`_findings`). ``message`` is the text just received,
        and ``text`` its words, which the caller has read already; ``opened``: it opened the
        conversation, so it is its only text and nothing is read back.
        """
        findings = self._findings(session, conversation, message, text, opened=opened)
        assessment = conclude(findings, self.policy.lexicons)
        reasons = list(assessment.reasons)
        priority = higher(conversation.priority, assessment.priority)
        if assessment.minor and not conversation.minor:
            conversation.minor = True
            events.record(
                session, "alert", now, conversation_id=conversation.id,
                texter_id=conversation.texter_id, alert="minor",
            )  # fmt: skip
        if conversation.minor:
            priority = Priority.URGENT  # a child: urgent, and only a person closes it
        if reasons == (conversation.risk_reasons or []) and priority is conversation.priority:
            return
        conversation.risk_score = assessment.score
        conversation.risk_reasons = reasons
        conversation.priority = priority
        events.record(
            session, "risk_assessed", now, conversation_id=conversation.id,
            texter_id=conversation.texter_id, score=assessment.score,
            priority=priority.value, reasons=len(reasons),
        )  # fmt: skip
        # Only how many: the phrases echo the texter's own words, and the event log is
        # append-only, so they live on the conversation, where erasure and the purge reach.

    def _findings(
        self,
        session: Session,
        conversation: Conversation,
        message: Message | None = None,
        text: str = "",
        *,
        opened: bool = False,
    ) -> Findings:
        """What the texter's texts in this conversation say of risk, each text read once.

        The findings so far are kept on the conversation, encrypted, with the lexicons they
        were read with and the last text read; only the texts since are read and folded in
        (:func:`hotline.domain.risk.fold`), and the result kept again. Every text is read
        again when nothing is kept (a conversation from before migration 0014, or one erased
        or purged: then with the texts left, as before) or what is kept was read with other
        lexicons (a supervisor changed one). Texts join a conversation in the order of their
        ids (one texter's texts are processed in order, under the texter's lock, which the
        caller holds), so "since" is "with a greater id".
        """
        lexicons, read_with = self.policy.lexicons, self.policy.read_with
        kept = None if opened else self._kept_findings(conversation, read_with)
        findings, through = kept or (Findings(), 0)
        texts: dict[int, str] = {}
        if not opened:
            # Not flushed first: the text just received is in hand, so the conversation's
            # changes and these findings are written in one UPDATE, not two.
            with session.no_autoflush:
                rows = session.execute(
                    _TEXTS_SINCE, {"conversation_id": conversation.id, "after": through}
                ).all()
            known = message.id if message is not None else None
            texts = {i: self.vault.decrypt(b) for i, b in rows if b is not None and i != known}
        if message is not None and message.id > through:
            texts[message.id] = text
        if not texts:
            return findings
        for i in sorted(texts):
            findings = fold(findings, read(texts[i], lexicons))
        kept_now = {"read_with": read_with, "through": max(texts), **findings.record()}
        conversation.risk_findings_ciphertext = self.vault.encrypt(json.dumps(kept_now))
        return findings

    def _kept_findings(
        self, conversation: Conversation, read_with: str
    ) -> tuple[Findings, int] | None:
        """The findings kept on ``conversation`` and the id of the last text they read; None
        when none are kept, or they were read with other lexicons than ``read_with``."""
        sealed = conversation.risk_findings_ciphertext
        if sealed is None:
            return None
        try:
            kept = json.loads(self.vault.decrypt(sealed))
            if kept["read_with"] != read_with or type(kept["through"]) is not int:
                return None
            return Findings.from_record(kept), kept["through"]
        except (ValueError, KeyError, TypeError):
            return None  # kept by another version of this code: read the texts again

    def in_danger(self, text: str) -> bool:
        """Emergency words in ``text``, in any language we read."""
        return bool(dangers(text, self.policy.lexicons))

    def asks_not_to_be_texted(self, text: str) -> bool:
        return self.policy.opt_out.asked_in(text)

    def classify(self, text: str, conversation: Conversation) -> TriageEvent:
        return answers.classify(
            text, conversation.state, list(self.policy.lexicons), self.policy.safe_word
        )


def held_because(conversation: Conversation) -> list[str]:
    """Why a conversation is kept for a person rather than closed: for the alert and the
    advocate ("urgent", "minor", "not_safe": do not text them first)."""
    why = []
    if conversation.priority is Priority.URGENT:
        why.append("urgent")
    if conversation.minor:
        why.append("minor")
    if conversation.safe_to_text is False:
        why.append("not_safe")
    return why
