"""The migrations build exactly the schema the models describe, on both databases, and the
event log cannot be rewritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Engine, column, delete, inspect, select, table, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from hotline.db.migrate import alembic_config
from hotline.db.models import Base, Event
from hotline.db.session import make_engine
from hotline.db.types import UTCDateTime
from hotline.infra.vault import Vault
from tests.conftest import TEST_DATA_KEY


@pytest.fixture
def fresh(isolated_database_url: str) -> Iterator[Engine]:
    engine = make_engine(isolated_database_url)
    yield engine
    engine.dispose()


def test_models_and_migrations_agree(fresh: Engine) -> None:
    with fresh.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_nothing_and_upgrade_again(fresh: Engine) -> None:
    config = alembic_config(fresh)
    command.downgrade(config, "base")
    assert set(inspect(fresh).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"texters", "conversations", "messages", "staff_users", "events"} <= set(
        inspect(fresh).get_table_names()
    )


def test_the_event_log_refuses_updates_and_deletes(fresh: Engine) -> None:
    with Session(fresh) as session, session.begin():
        session.add(Event(kind="test", detail={}, created_at=datetime.now(UTC)))
    for statement in (update(Event).values(kind="rewritten"), delete(Event)):
        with Session(fresh) as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
            session.commit()
    with fresh.connect() as connection:
        assert connection.execute(text("SELECT kind FROM events")).scalars().all() == ["test"]


def test_0010_takes_the_last_poll_from_each_live_session(fresh: Engine) -> None:
    """Advocates at work during the upgrade must not look gone to the first presence check."""
    config = alembic_config(fresh)
    command.downgrade(config, "0009")
    seen = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    with fresh.begin() as connection:
        for user_id, email in ((1, "at-work@example.org"), (2, "gone@example.org")):
            connection.execute(
                text(
                    "INSERT INTO staff_users (id, email, password_hash, role, active, created_at,"
                    " availability, totp_enabled) VALUES (:id, :email, 'x', 'advocate', true,"
                    " :at, 'available', false)"
                ),
                {"id": user_id, "email": email, "at": seen},
            )
        for session_id, user_id, last_seen, ended in (
            ("a" * 64, 1, seen, None),
            ("b" * 64, 1, seen - timedelta(hours=1), None),
            ("c" * 64, 2, seen, seen),  # signed out: not a sign of life
        ):
            connection.execute(
                text(
                    "INSERT INTO staff_sessions (id, user_id, csrf_token, created_at,"
                    " last_seen_at, ended_at, awaiting_totp) VALUES (:id, :user_id, 'x', :at,"
                    " :last_seen, :ended, false)"
                ),
                {"id": session_id, "user_id": user_id, "at": seen - timedelta(hours=2),
                 "last_seen": last_seen, "ended": ended},
            )  # fmt: skip
    command.upgrade(config, "0010")
    # Read at revision 0010 itself: the model may have columns added by later revisions.
    users = table("staff_users", column("id"), column("console_seen_at", UTCDateTime()))
    with fresh.connect() as connection:
        rows = {
            row[0]: row[1]
            for row in connection.execute(select(users.c.id, users.c.console_seen_at))
        }
    assert rows == {1: seen, 2: None}
    command.upgrade(config, "head")


# -- 0013: the events' values leave the append-only log ------------------------------------------

LEGACY_REASON = "she says he is at 12 Sorrel Court"


def legacy_log(engine: Engine) -> None:
    """At 0012: an erased, opted-out texter whose events carry answers and a supervisor's free
    text, and a staff event."""
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    statements = [
        "INSERT INTO staff_users (id, email, password_hash, role, active, created_at,"
        " availability, totp_enabled, must_change_password) VALUES (1, 'lead@example.org', 'x',"
        " 'supervisor', true, :at, 'away', false, false)",
        "INSERT INTO texters (id, phone_hash, phone_ciphertext, language, opted_out_at,"
        " created_at, last_seen_at, erasure_requested_at) VALUES (1, :hash, NULL, 'en', :at,"
        " :at, :at, :at)",
        "INSERT INTO conversations (id, texter_id, status, state, language, reasks, priority,"
        " returning_texter, in_danger, safe_to_text, risk_score, risk_reasons, opened_at,"
        " last_activity_at, minor, unprompted_count) VALUES (1, 1, 'closed', 'ended', 'en', 0,"
        " 'urgent', true, true, false, 40, '[\"locked in (+40)\"]', :at, :at, true, 0)",
        "INSERT INTO conversation_tags (conversation_id, tag, author_id, created_at)"
        " VALUES (1, 'labor', 1, :at)",
    ]
    events_ = [
        (1, "answer", 1, 1, None, {"question": "danger", "answer": "yes"}),
        (2, "number_revealed", 1, 1, 1, {"reason": LEGACY_REASON}),
        (3, "texter_erased", None, 1, 1, {"reason": LEGACY_REASON, "texts": 3}),
        (4, "staff_created", None, None, 1, {"staff_id": 1, "role": "supervisor"}),
        (5, "conversation_opened", 1, 1, None, {}),
    ]
    events_table = table(
        "events",
        column("id"),
        column("kind"),
        column("conversation_id"),
        column("texter_id"),
        column("actor_id"),
        column("detail", JSON()),
        column("created_at", UTCDateTime()),
    )
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"at": at, "hash": "f" * 64})
        for id_, kind, conversation_id, texter_id, actor_id, detail in events_:
            connection.execute(
                events_table.insert().values(
                    id=id_, kind=kind, conversation_id=conversation_id, texter_id=texter_id,
                    actor_id=actor_id, detail=detail, created_at=at,
                )
            )  # fmt: skip


def test_0013_moves_the_values_out_of_the_log_and_erases_the_erased(fresh: Engine) -> None:
    vault = Vault((TEST_DATA_KEY,))
    command.downgrade(alembic_config(fresh), "0012")
    legacy_log(fresh)
    command.upgrade(alembic_config(fresh, vault), "0013")

    assert "detail" not in {c["name"] for c in inspect(fresh).get_columns("events")}
    with fresh.connect() as connection:
        details = {
            row.event_id: row
            for row in connection.execute(
                text("SELECT event_id, detail, reason_ciphertext FROM event_details")
            )
        }
        texter = connection.execute(text("SELECT * FROM texters")).one()
        kept = connection.execute(text("SELECT phone_hash FROM opted_out_numbers")).scalars()
        conversation = connection.execute(text("SELECT * FROM conversations")).one()
        tags = connection.execute(text("SELECT count(*) FROM conversation_tags")).scalar()
        raw = repr(connection.execute(text("SELECT * FROM event_details")).all())

    # The erased texter's answer and the reveal are gone; the tombstone keeps who and why,
    # sealed; the staff event keeps its values; an event without values has no row.
    assert set(details) == {3, 4}
    tombstone = details[3]
    assert json.loads(tombstone.detail) if isinstance(tombstone.detail, str) else True
    assert vault.decrypt(tombstone.reason_ciphertext) == LEGACY_REASON
    assert LEGACY_REASON not in raw
    staff_detail = details[4].detail
    assert (json.loads(staff_detail) if isinstance(staff_detail, str) else staff_detail) == {
        "staff_id": 1,
        "role": "supervisor",
    }
    assert texter.phone_hash != "f" * 64 and texter.opted_out_at is None
    assert list(kept) == ["f" * 64]
    assert conversation.in_danger is None and conversation.safe_to_text is None
    assert conversation.risk_reasons is None and conversation.priority == "normal"
    assert not conversation.minor and not conversation.returning_texter and tags == 0
    # Still append-only.
    with Session(fresh) as session, pytest.raises(DatabaseError, match="append-only"):
        session.execute(update(Event).values(kind="rewritten"))
        session.commit()
    command.upgrade(alembic_config(fresh, vault), "head")


def test_0013_needs_the_data_keys_to_seal_old_reasons(fresh: Engine) -> None:
    command.downgrade(alembic_config(fresh), "0012")
    legacy_log(fresh)
    with pytest.raises(RuntimeError, match="hotline db upgrade"):
        command.upgrade(alembic_config(fresh), "0013")
    with fresh.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0012"
    assert "detail" in {c["name"] for c in inspect(fresh).get_columns("events")}


def test_0013_downgrades_with_the_values_back_in_the_log(fresh: Engine) -> None:
    with Session(fresh) as session, session.begin():
        session.add(Event(kind="test", detail={"n": 1}, created_at=datetime.now(UTC)))
    command.downgrade(alembic_config(fresh), "0012")
    with fresh.connect() as connection:
        detail = connection.scalar(text("SELECT detail FROM events"))
    assert (json.loads(detail) if isinstance(detail, str) else detail) == {"n": 1}
    command.upgrade(alembic_config(fresh), "head")
