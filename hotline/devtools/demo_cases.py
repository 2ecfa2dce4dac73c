"""The demo's past year (issue 20): about 150 fictional closed conversations with case records,
so that the reports (``hotline report --demo``, the supervisors' reports page) have something
to count on first start.

Entirely made up, from a fixed-seed random generator: no texts, no phone numbers (the
texters are stored as already forgotten, with a fictional hash and no number), and case
records drawn from the lists of :mod:`hotline.domain.case_lists` with plausible proportions.
Seeded once: the fictional hashes say it was done.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import (
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Conversation,
    ConversationStatus,
    Referral,
    StaffUser,
    Texter,
)
from hotline.domain.case_lists import UNKNOWN
from hotline.domain.triage import State

DEMO_CASES: Final = 150
# The fictional texters' hashes: a real one is 64 hex digits, never this.
MARK: Final = "demo-case-"
SEED: Final = 20

# (kind, weight, the types it draws from, the venues, the dispositions)
_SEX = (
    "escort_services", "illicit_massage", "outdoor_solicitation", "residential",
    "bars_strip_clubs", "pornography", "personal_sexual_servitude", "remote_sexual_acts",
)  # fmt: skip
_LABOR = (
    "domestic_work", "agriculture", "traveling_sales_crews", "restaurants", "peddling_begging",
    "construction", "hospitality", "landscaping", "health_beauty_services",
    "commercial_cleaning", "factories_manufacturing",
)  # fmt: skip
_SEX_VENUES = ("hotel_motel", "online", "street", "massage_spa", "private_residence", "truck_stop")
_LABOR_VENUES = (
    "farm",
    "restaurant",
    "construction_site",
    "private_residence",
    "factory",
    "vehicle",
)
KINDS: Final = (
    ("sex_trafficking", 36, _SEX, _SEX_VENUES),
    ("labor_trafficking", 20, _LABOR, _LABOR_VENUES),
    ("sex_and_labor_trafficking", 5, _SEX + _LABOR, _SEX_VENUES + _LABOR_VENUES),
    ("labor_exploitation", 10, (), _LABOR_VENUES),
    ("domestic_violence", 10, (), ("private_residence",)),
    ("other_exploitation", 4, (), ()),
    ("not_trafficking", 8, (), ()),
    ("unclear", 7, (), ()),
)
RECRUITMENT: Final = (
    "job_offer", "intimate_partner", "family", "false_promises", "online_contact",
    "friend_peer", "benefactor", "smuggling",
)  # fmt: skip
CONTROL: Final = (
    "debt", "threats_of_harm", "document_confiscation", "withholding_pay", "isolation",
    "emotional_abuse", "physical_violence", "threats_to_family", "monitoring", "confinement",
    "immigration_threats", "substances", "sexual_abuse", "excessive_hours", "basic_needs",
)  # fmt: skip
# Where the demo's texters are: mostly a few large states, now and then anywhere.
STATES: Final = (("TX", 24), ("CA", 22), ("FL", 14), ("NY", 12), ("GA", 7), ("OH", 5),
                 ("NV", 4), ("IL", 4), ("unknown", 8))  # fmt: skip
OTHER_STATES: Final = ("AZ", "NC", "WA", "MI", "NJ", "PA", "TN", "LA", "outside")


def seed_demo_cases(session: Session, now: datetime, count: int = DEMO_CASES) -> int:
    """Add ``count`` fictional closed conversations, opened from 8 to 365 days before ``now``
    (none in the last week: the quality review's draw stays with real ones), each with a case
    record; none if they were added before. How many were added."""
    if session.scalar(select(Texter.id).where(Texter.phone_hash.startswith(MARK)).limit(1)):
        return 0
    draw = random.Random(SEED)
    referrals = session.scalars(select(Referral.id).order_by(Referral.id)).all()
    advocate_id = session.scalar(
        select(StaffUser.id).where(StaffUser.role == "advocate").order_by(StaffUser.id).limit(1)
    )
    for number in range(count):
        opened = now - timedelta(days=draw.uniform(8, 365))
        texter = Texter(phone_hash=f"{MARK}{number:04d}", created_at=opened, last_seen_at=opened)
        session.add(texter)
        session.flush()
        claimed = opened + timedelta(minutes=draw.uniform(1, 12))
        closed = claimed + timedelta(minutes=draw.uniform(10, 75))
        conversation = Conversation(
            texter_id=texter.id,
            status=ConversationStatus.CLOSED,
            state=State.ENDED,
            language="es" if draw.random() < 0.18 else "en",
            advocate_id=advocate_id,
            opened_at=opened,
            queued_at=opened + timedelta(seconds=40),
            claimed_at=claimed,
            first_claimed_at=claimed,
            first_reply_at=claimed + timedelta(minutes=draw.uniform(0.5, 3)),
            last_activity_at=closed,
            closed_at=closed,
            close_reason="closed",
        )
        session.add(conversation)
        session.flush()
        _record(session, draw, conversation.id, closed, referrals)
    return count


def _record(
    session: Session,
    draw: random.Random,
    conversation_id: int,
    at: datetime,
    referrals: Sequence[int],
) -> None:
    kind, _, types, venues = draw.choices(KINDS, weights=[k[1] for k in KINDS])[0]
    minor = draw.random() < 0.2
    wanted = draw.choices(("yes", "no", UNKNOWN), weights=(20, 55, 25))[0]
    reported = (
        (draw.choice(("yes", "no")) if wanted == "yes" else None)
        if draw.random() < 0.9
        else UNKNOWN
    )
    session.add(
        CaseRecord(
            conversation_id=conversation_id,
            kind=kind if draw.random() < 0.95 else UNKNOWN,
            age_group="minor" if minor else draw.choices(("adult", UNKNOWN), weights=(80, 20))[0],
            state=_state(draw),
            police_wanted=wanted,
            police_report=reported,
            updated_at=at,
        )
    )
    codes: set[tuple[str, str]] = set()
    if types:
        codes |= {("type", code) for code in draw.sample(types, k=1 + (draw.random() < 0.15))}
    if venues:
        codes.add(("venue", draw.choice(venues)))
    if kind not in ("not_trafficking", "unclear"):
        codes |= {("recruitment", code) for code in _some(draw, RECRUITMENT, 1, 2)}
        codes |= {("control", code) for code in _some(draw, CONTROL, 1, 3)}
    for listed in ("type", "venue", "recruitment", "control"):
        if not any(code[0] == listed for code in codes) and draw.random() < 0.4:
            codes.add((listed, UNKNOWN))
    for listed, code in sorted(codes):
        session.add(CaseRecordCode(conversation_id=conversation_id, list=listed, code=code))
    if referrals and kind != "not_trafficking":
        for referral_id in draw.sample(list(referrals), k=min(len(referrals), draw.randint(0, 2))):
            session.add(
                CaseRecordReferral(conversation_id=conversation_id, referral_id=referral_id)
            )


def _state(draw: random.Random) -> str:
    if draw.random() < 0.12:
        return draw.choice(OTHER_STATES)
    return draw.choices([s for s, _ in STATES], weights=[w for _, w in STATES])[0]


def _some(draw: random.Random, choices: Sequence[str], least: int, most: int) -> list[str]:
    """From ``least`` to ``most`` different entries, the first ones likelier (a list's order is
    roughly how often each is reported)."""
    k = draw.randint(least, most)
    picked: list[str] = []
    weights = [len(choices) - i for i in range(len(choices))]
    while len(picked) < k:
        code = draw.choices(choices, weights=weights)[0]
        if code not in picked:
            picked.append(code)
    return picked
