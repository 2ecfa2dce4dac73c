"""The migrations build exactly the schema the models describe, on both databases, and the
event log cannot be rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, column, delete, inspect, select, table, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from hotline.db.migrate import alembic_config
from hotline.db.models import Base, Event
from hotline.db.session import make_engine
from hotline.db.types import UTCDateTime


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
