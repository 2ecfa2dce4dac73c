"""The migrations build exactly the schema the models describe, on both databases, and the
event log cannot be rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, inspect, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from hotline.db.migrate import alembic_config
from hotline.db.models import Base, Event
from hotline.db.session import make_engine


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
