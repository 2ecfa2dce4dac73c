"""A texter with everything a texter can leave behind, and the checks that it is gone: shared
by the tests of erasure and of the retention purge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.db.content import Held, columns, tables
from hotline.db.models import (
    Base,
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Conversation,
    Event,
    QualityReview,
    Referral,
    StaffUser,
)
from hotline.db.types import UTCDateTime
from hotline.services.case_record import do_save
from hotline.services.console import Console
from hotline.services.handling import Handling
from hotline.services.staff import do_create_staff
from hotline.services.supervision import Supervision
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form
from tests.texting import advocate, claim, conversation, run, text_in, tick

WORDS = "tamarind"  # in what the texter writes
STAFF_WORDS = "quillwort"  # in what staff write about them
REASON = "she said he waits at 14 Quillwort Lane"  # a supervisor's stated reason
MARKERS = (WORDS, STAFF_WORDS, "Quillwort Lane")


def staff(app: Flask, role: str) -> StaffUser:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"{role}-{new_phone()[2:]}@example.org", "a long password!", role,
            runtime.clock.now(),
        )  # fmt: skip


def as_user(session: Session, user: StaffUser) -> StaffUser:
    found = session.get(StaffUser, user.id)
    assert found is not None
    return found


def full_case_record(referral_id: int) -> dict[str, Any]:
    """A case record with every field: a kind, codes in every list of several, a referral,
    the age group, the state and both police answers."""
    return {
        "kind": "sex_trafficking", "type": ["escort_services", "illicit_massage"],
        "venue": ["hotel_motel"], "recruitment": ["intimate_partner"],
        "control": ["document_confiscation", "debt"], "age_group": "adult", "state": "TX",
        "police_wanted": "yes", "police_report": "no", "referrals": [referral_id],
    }  # fmt: skip


def case_record_rows(app: Flask, texter_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the case-record tables for the texter's conversations, by table."""
    conversations = select(Conversation.id).where(Conversation.texter_id == texter_id)
    with runtime_of(app).sessions() as session:
        return {
            "case_records": [
                (r.conversation_id, r.kind, r.age_group, r.state, r.police_wanted,
                 r.police_report, r.updated_at, r.updated_by_id)
                for r in session.scalars(
                    select(CaseRecord).where(CaseRecord.conversation_id.in_(conversations))
                )
            ],
            "case_record_codes": sorted(
                session.execute(
                    select(CaseRecordCode.conversation_id, CaseRecordCode.list,
                           CaseRecordCode.code)
                    .where(CaseRecordCode.conversation_id.in_(conversations))
                ).all()
            ),
            "case_record_referrals": sorted(
                session.execute(
                    select(CaseRecordReferral.conversation_id, CaseRecordReferral.referral_id)
                    .where(CaseRecordReferral.conversation_id.in_(conversations))
                ).all()
            ),
        }  # fmt: skip


def first_conversation(app: Flask, phone: str, supervisor: StaffUser) -> int:
    """Answered every question, held by an advocate, replied to, noted, tagged, given a full
    case record, closed with a summary and a disposition, surveyed, revealed with a reason and
    reviewed."""
    runtime = runtime_of(app)
    for body in ("hi", "no", "yes", f"my boss {WORDS} took my passport", "Houston TX"):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    console = Console(runtime.triage, 3)
    conversation_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        now = runtime.clock.now()
        handling = Handling(console)
        handling.add_note(session, user, conversation_id, f"note: {STAFF_WORDS}", now)
        handling.tag(session, user, conversation_id, console.tags(session)[0], now)
        referral = Referral(
            name="Erasure Shelter", services="shelter", area="Houston", phone="555-0199",
            hours="24/7", language="English",
        )  # fmt: skip
        session.add(referral)
        session.flush()
        do_save(session, runtime.vault, user, conversation_id, full_case_record(referral.id), now)
        handling.reply(session, user, conversation_id, f"about {WORDS}", now)
        handling.close(session, user, conversation_id, "referred", f"summary: {STAFF_WORDS}", now)
        number = Supervision(console).reveal_number(
            session, as_user(session, supervisor), conversation_id, REASON, now
        )
        assert number == phone
        session.add(
            QualityReview(
                conversation_id=conversation_id,
                advocate_id=advocate_id,
                week_start=date(2026, 11, 30),
                sampled_at=now,
                reviewer_id=supervisor.id,
                reviewed_at=now,
                scores={"warmth": 3},
                feedback_ciphertext=runtime.vault.encrypt(f"feedback: {STAFF_WORDS}"),
            )
        )
    run(app)
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    tick(app, clock, runtime.settings.reopen_minutes + 0.5)  # the survey, after the reopen window
    text_in(app, phone, "5")  # its answer
    return conversation_id


def second_conversation(app: Flask, phone: str) -> None:
    """A returning texter: emergency words, under 18, a photo."""
    form = sms_form(phone, "hi again", NumMedia="1", MediaContentType0="image/jpeg")
    assert post_signed(app.test_client(), "/twilio/sms", form).status_code == 200
    run(app)
    text_in(app, phone, f"I am 16 and he has a gun, {WORDS}")
    assert conversation(app, phone).returning_texter is True


def empty(column: Any, kept: Held) -> Any:
    return column.is_(None) if kept.empty is None else column == kept.empty


def scope_of(table: Table, texter_id: int) -> Any:
    conversations = select(Conversation.id).where(Conversation.texter_id == texter_id)
    if table.name == "conversations":
        return table.c.id.in_(conversations)
    if "conversation_id" not in table.c:
        return None
    clauses = [table.c.conversation_id.in_(conversations)]
    if "texter_id" in table.c:
        clauses.append(table.c.texter_id == texter_id)
    return or_(*clauses)


def filler(column: Any, app: Flask) -> Any:
    kind = column.type
    if isinstance(kind, SqlEnum):
        return "urgent"
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 4
    if isinstance(kind, DateTime | UTCDateTime):
        return datetime(2026, 12, 6, tzinfo=UTC)
    if isinstance(kind, LargeBinary):
        return runtime_of(app).vault.encrypt(f"filled: {WORDS}")
    if isinstance(kind, JSON):
        return [f"filled {WORDS}"]
    assert isinstance(kind, String)
    return f"SMfilled{WORDS}"[: kind.length]


def declared_erased() -> list[tuple[Table, Any, Held]]:
    return [(t, c, h) for t, c, h in columns(Base.metadata, where="erased") if t.name != "texters"]


def fill_what_the_conversation_left_empty(app: Flask, texter_id: int) -> list[str]:
    """Every declared column must hold something before the erasure: the conversation filled
    most; one row of each column it could not reach is filled by hand. Their names."""
    filled = []
    with runtime_of(app).sessions.begin() as session:
        for table, column, kept in declared_erased():
            scope = scope_of(table, texter_id)
            assert scope is not None, table.name
            holding = select(func.count()).select_from(table).where(scope, ~empty(column, kept))
            if session.scalar(holding):
                continue
            [key] = table.primary_key.columns
            one = session.scalar(select(key).where(scope).order_by(key).limit(1))
            assert one is not None, f"no {table.name} row of the texter to fill"
            session.execute(
                update(table).where(key == one).values({column.name: filler(column, app)})
            )
            filled.append(f"{table.name}.{column.name}")
    return filled


def left_behind(app: Flask, texter_id: int) -> list[str]:
    """``table.column`` of every declared column still holding something for the texter, apart
    from the tombstone of the erasure itself."""
    tombstones = select(Event.id).where(Event.kind == "texter_erased")
    found = []
    with runtime_of(app).sessions() as session:
        for table, column, kept in declared_erased():
            scope = scope_of(table, texter_id)
            where = [scope, ~empty(column, kept)]
            if table.name == "event_details":
                where.append(table.c.event_id.not_in(tombstones))
            count = session.scalar(select(func.count()).select_from(table).where(*where))
            if count:
                found.append(f"{table.name}.{column.name}")
        # Tables deleted as a whole: tags and the case record.
        for table in tables(Base.metadata, where="erased"):
            if session.scalar(
                select(func.count()).select_from(table).where(scope_of(table, texter_id))
            ):
                found.append(table.name)
    return found
