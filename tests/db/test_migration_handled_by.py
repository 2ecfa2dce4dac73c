"""Migration 0017 back-fills when each conversation was first taken and who held it, from the
record as it stands, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import JSON, Engine, column, select, table, text

from hotline.db.migrate import alembic_config
from hotline.db.session import make_engine
from hotline.db.types import UTCDateTime

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def fresh(isolated_database_url: str) -> Iterator[Engine]:
    engine = make_engine(isolated_database_url)
    yield engine
    engine.dispose()


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_0017_back_fills_the_first_claim_and_every_handler(fresh: Engine) -> None:
    config = alembic_config(fresh)
    command.downgrade(config, "0015")
    with fresh.begin() as connection:
        for staff_id, email in ((1, "ana@example.org"), (2, "ben@example.org"),
                                (3, "cy@example.org")):  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO staff_users (id, email, password_hash, role, active, created_at,"
                    " availability, totp_enabled, must_change_password) VALUES (:id, :email,"
                    " 'x', 'advocate', true, :at, 'away', false, false)"
                ),
                {"id": staff_id, "email": email, "at": T0},
            )
        conversations = table(
            "conversations", column("id"), column("texter_id"), column("status"),
            column("state"), column("language"), column("reasks"), column("priority"),
            column("returning_texter"), column("risk_score"), column("minor"),
            column("unprompted_count"), column("advocate_id"),
            column("opened_at", UTCDateTime()), column("last_activity_at", UTCDateTime()),
            column("claimed_at", UTCDateTime()),
        )  # fmt: skip
        texters = table(
            "texters", column("id"), column("phone_hash"), column("language"),
            column("created_at", UTCDateTime()), column("last_seen_at", UTCDateTime()),
        )  # fmt: skip
        rows = [
            # 1: claimed by Ana, transferred to Ben, who closed it (claimed_at: the transfer).
            (1, 2, at(120)),
            # 2: claimed before events said so: only claimed_at and the holder.
            (2, 3, at(300)),
            # 3: never claimed.
            (3, None, None),
            # 4: reassigned to Cy, whose name the erased event no longer holds.
            (4, 3, at(400)),
        ]
        for conversation_id, advocate_id, claimed_at in rows:
            connection.execute(
                texters.insert().values(
                    id=conversation_id, phone_hash=f"{conversation_id:064x}", language="en",
                    created_at=T0, last_seen_at=T0,
                )
            )  # fmt: skip
            connection.execute(
                conversations.insert().values(
                    id=conversation_id, texter_id=conversation_id, status="closed",
                    state="ended", language="en", reasks=0, priority="normal",
                    returning_texter=False, risk_score=0, minor=False, unprompted_count=0,
                    advocate_id=advocate_id, opened_at=T0, last_activity_at=T0,
                    claimed_at=claimed_at,
                )
            )  # fmt: skip
        events = table(
            "events", column("id"), column("kind"), column("conversation_id"),
            column("actor_id"), column("created_at", UTCDateTime()),
        )  # fmt: skip
        details = table(
            "event_details", column("event_id"), column("conversation_id"),
            column("detail", JSON()),
        )  # fmt: skip
        for event_id, kind, conversation_id, actor_id, when, detail in (
            (1, "claimed", 1, 1, at(60), None),
            (2, "transferred", 1, 1, at(120), {"to": "ben@example.org"}),
            (3, "claimed", 4, 1, at(200), None),
            (4, "reassigned", 4, 2, at(400), None),  # its detail erased
            (5, "transferred", 4, 1, at(300), {"to": "queue"}),
            (6, "claimed", 4, 2, at(350), None),
        ):
            connection.execute(
                events.insert().values(
                    id=event_id, kind=kind, conversation_id=conversation_id,
                    actor_id=actor_id, created_at=when,
                )
            )  # fmt: skip
            if detail is not None:
                connection.execute(
                    details.insert().values(
                        event_id=event_id, conversation_id=conversation_id, detail=detail
                    )
                )

    command.upgrade(config, "head")

    first = table("conversations", column("id"), column("first_claimed_at", UTCDateTime()))
    handlers = table(
        "conversation_handlers",
        column("conversation_id"),
        column("staff_id"),
        column("first_at", UTCDateTime()),
    )
    with fresh.connect() as connection:
        firsts = dict(connection.execute(select(first.c.id, first.c.first_claimed_at)).all())
        held = sorted(connection.execute(select(handlers)).all())
    assert firsts == {1: at(60), 2: at(300), 3: None, 4: at(200)}
    assert held == [
        (1, 1, at(60)),
        (1, 2, at(120)),
        (2, 3, at(300)),
        (4, 1, at(200)),
        (4, 2, at(350)),
        (4, 3, at(400)),  # the holder, from its claimed_at: the erased event named nobody
    ]
