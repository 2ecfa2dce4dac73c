"""The retention purge and key rotation take their columns from the one declaration
(:mod:`hotline.db.content`): every column declared ``purged`` is emptied at the end of
retention, every encrypted one is re-encrypted, and what only ever grew (sign-in attempts,
ended sessions, used recovery codes, stated reasons) goes too. Both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.content import columns
from hotline.db.models import (
    Base,
    Conversation,
    ConversationTag,
    EventDetail,
    OptedOutNumber,
    RecoveryCode,
    SignInAttempt,
    StaffSession,
    StaffUser,
    Texter,
)
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.privacy import encrypted_columns, rotate_keys
from hotline.sms.sender import LocalSender
from tests.conftest import TEST_DATA_KEY, new_phone
from tests.erasure import (
    MARKERS,
    REASON,
    WORDS,
    case_record_rows,
    empty,
    fill_what_the_conversation_left_empty,
    first_conversation,
    scope_of,
    staff,
)
from tests.fakes import FakeClock
from tests.helpers import dump, texter_of
from tests.texting import text_in


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def still_holding(app: Flask, texter_id: int) -> list[str]:
    found = []
    with runtime_of(app).sessions() as session:
        for table, column, kept in columns(Base.metadata, where="purged"):
            scope = scope_of(table, texter_id)
            if scope is None:
                continue
            where = [scope, ~empty(column, kept)]
            if session.scalar(select(func.count()).select_from(table).where(*where)):
                found.append(f"{table.name}.{column.name}")
    return found


def old_staff_records(app: Flask, user: StaffUser, days_ago: float) -> None:
    runtime = runtime_of(app)
    at = runtime.clock.now() - timedelta(days=days_ago)
    with runtime.sessions.begin() as session:
        session.add(SignInAttempt(email_hash="e" * 64, at=at, succeeded=False))
        session.add(
            StaffSession(
                id=f"{days_ago:064.0f}",
                user_id=user.id,
                csrf_token="c" * 64,
                created_at=at,
                last_seen_at=at,
                ended_at=at,
            )
        )
        session.add(RecoveryCode(user_id=user.id, code_hash="h", created_at=at, used_at=at))


def test_the_purge_empties_every_declared_column_and_what_only_grew(
    app: Flask, clock: FakeClock
) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    supervisor = staff(app, "supervisor")
    kept_conversation = first_conversation(app, phone, supervisor)
    text_in(app, phone, "STOP")
    texter = texter_of(app, phone)
    assert texter is not None
    fill_what_the_conversation_left_empty(app, texter.id)
    assert still_holding(app, texter.id) != []
    case_record = case_record_rows(app, texter.id)
    assert all(case_record.values())  # a case record with every field
    old_staff_records(app, supervisor, days_ago=31)
    with runtime.sessions.begin() as session:  # an export's reason: no conversation's
        events.record(
            session,
            "export",
            runtime.clock.now(),
            actor_id=supervisor.id,
            sealed_reason=runtime.vault.encrypt(REASON),
            include_text=True,
        )
    clock.advance(91 * 86400)
    recent = new_phone()
    text_in(app, recent, f"a recent text about {WORDS}son")
    old_staff_records(app, supervisor, days_ago=29)

    report = jobs.purge(runtime)

    assert still_holding(app, texter.id) == []
    # The case record holds no content: kept whole, for the reports of the years to come.
    assert case_record_rows(app, texter.id) == case_record
    assert report.texts > 0 and report.answers == 1 and report.notes == 2  # note + feedback
    assert report.reasons == 1 and report.numbers == 1 and report.details > 0
    assert (report.sign_in_attempts, report.staff_sessions, report.recovery_codes) >= (1, 1, 1)
    with runtime.sessions() as session:
        old = session.get(Conversation, kept_conversation)
        assert old is not None
        # Figures stay for the metrics, anonymous now: the number and its hash are gone.
        assert old.disposition == "referred" and old.survey_score == 5
        assert session.scalar(select(func.count()).select_from(ConversationTag)) == 1
        row = session.get(Texter, texter.id)
        assert row is not None and row.phone_ciphertext is None
        assert row.phone_hash != runtime.vault.phone_hash(phone)
        assert session.scalars(select(OptedOutNumber.phone_hash)).all() == [
            runtime.vault.phone_hash(phone)
        ]
        # Only what is younger than HOTLINE_STAFF_RECORD_DAYS is left.
        assert session.scalar(select(func.count()).select_from(SignInAttempt)) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(StaffSession)
                .where(StaffSession.ended_at.is_not(None))
            )
            == 1
        )
        reasons = session.scalars(
            select(EventDetail.reason_ciphertext).where(EventDetail.reason_ciphertext.is_not(None))
        ).all()
    assert reasons == []
    raw = dump(app)
    for marker in MARKERS:
        assert marker not in raw, marker
    assert phone not in raw and REASON not in raw
    # The recent texter is untouched; a second purge finds nothing more.
    assert texter_of(app, recent) is not None
    assert jobs.purge(runtime).total == 0


def test_rotation_re_encrypts_every_declared_column(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    old = make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
    phone = new_phone()
    supervisor = staff(old, "supervisor")
    first_conversation(old, phone, supervisor)
    texter = texter_of(old, phone)
    assert texter is not None
    fill_what_the_conversation_left_empty(old, texter.id)
    with runtime_of(old).sessions.begin() as session:
        user = session.get(StaffUser, supervisor.id)
        assert user is not None
        user.totp_secret_ciphertext = runtime_of(old).vault.encrypt("JBSWY3DPEHPK3PXP")
        user.totp_pending_ciphertext = runtime_of(old).vault.encrypt("KRSXG5CTMVRXEZLU")
    new_key = Fernet.generate_key().decode()
    rotated = make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"data_keys": (new_key, TEST_DATA_KEY)},
    )
    runtime = runtime_of(rotated)
    assert rotate_keys(runtime.sessions, runtime.vault, batch_size=3).finished
    only_new = Vault((new_key,))
    with runtime.sessions() as session:
        for _key, column in encrypted_columns():
            values = session.scalars(select(column).where(column.is_not(None))).all()
            assert values, f"{column.table.name}.{column.name} was never filled"
            for value in values:
                only_new.decrypt(value)  # raises if any is still under the old key
