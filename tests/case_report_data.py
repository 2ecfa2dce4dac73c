"""Case records for the report tests, written with the models (as the ``caserecord`` service
would write them): a fictional texter, a closed conversation opened at a given time, its
record."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.db.models import (
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Conversation,
    ConversationStatus,
    Referral,
    Texter,
)
from hotline.domain.triage import State


def add_case(
    session: Session,
    opened_at: datetime,
    *,
    kind: str | None = None,
    age_group: str | None = None,
    state: str | None = None,
    police_wanted: str | None = None,
    police_report: str | None = None,
    codes: Iterable[tuple[str, str]] = (),
    referrals: Iterable[int] = (),
    closed_after: timedelta = timedelta(minutes=30),
) -> Conversation:
    """A closed conversation opened at ``opened_at`` with its case record; its texter has no
    number (as after the purge)."""
    texter = Texter(phone_hash=secrets.token_hex(32), created_at=opened_at, last_seen_at=opened_at)
    session.add(texter)
    session.flush()
    conversation = Conversation(
        texter_id=texter.id,
        status=ConversationStatus.CLOSED,
        state=State.ENDED,
        opened_at=opened_at,
        last_activity_at=opened_at + closed_after,
        closed_at=opened_at + closed_after,
        close_reason="advocate",
    )
    session.add(conversation)
    session.flush()
    session.add(
        CaseRecord(
            conversation_id=conversation.id,
            kind=kind,
            age_group=age_group,
            state=state,
            police_wanted=police_wanted,
            police_report=police_report,
            updated_at=opened_at + closed_after,
        )
    )
    for listed, code in codes:
        session.add(CaseRecordCode(conversation_id=conversation.id, list=listed, code=code))
    for referral_id in referrals:
        session.add(CaseRecordReferral(conversation_id=conversation.id, referral_id=referral_id))
    session.flush()
    return conversation


def add_referral(session: Session, name: str) -> int:
    referral = Referral(
        name=name, services="shelter", area="statewide", phone="", hours="24/7", language="en"
    )
    session.add(referral)
    session.flush()
    return referral.id
