"""The queue's order is defined once (``hotline.domain.queue.sort_key``); the SQL that the
console, claims and the place-in-line texts use must agree with it on any queue, on both
databases (issue 13, item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, ConversationStatus, Texter
from hotline.db.session import make_engine
from hotline.domain.queue import sort_key
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services.queue import WAITING, queue_order, queue_position

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

waiting_texters = st.lists(
    st.tuples(
        st.sampled_from(list(Priority)),
        st.booleans(),  # emergency words
        st.integers(min_value=0, max_value=200),  # risk score
        st.integers(min_value=0, max_value=30),  # minutes after T0 they were queued: ties too
        st.sampled_from(WAITING),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def engine(isolated_database_url: str) -> Iterator[Engine]:
    engine = make_engine(isolated_database_url)
    yield engine
    engine.dispose()


def fill(session: Session, queue: list[tuple[Priority, bool, int, int, State]]) -> None:
    session.execute(delete(Conversation))
    session.execute(delete(Texter))
    for index, (priority, emergency, score, minutes, state) in enumerate(queue):
        texter = Texter(phone_hash=f"h{index}", language="en", created_at=T0, last_seen_at=T0)
        session.add(texter)
        session.flush()
        queued_at = T0 + timedelta(minutes=minutes)
        session.add(
            Conversation(
                texter_id=texter.id,
                status=ConversationStatus.OPEN,
                state=state,
                language="en",
                priority=Priority.URGENT if emergency else priority,
                risk_score=score,
                emergency_at=queued_at if emergency else None,
                opened_at=T0,
                last_activity_at=T0,
                queued_at=queued_at,
            )
        )
    # Closed and claimed conversations are in no line.
    texter = Texter(phone_hash="gone", language="en", created_at=T0, last_seen_at=T0)
    session.add(texter)
    session.flush()
    session.add(
        Conversation(
            texter_id=texter.id,
            status=ConversationStatus.OPEN,
            state=State.WITH_ADVOCATE,
            language="en",
            priority=Priority.URGENT,
            emergency_at=T0,
            opened_at=T0,
            last_activity_at=T0,
            queued_at=T0 - timedelta(days=1),
        )
    )
    session.flush()


def test_the_sql_order_and_places_in_line_follow_the_one_definition(engine: Engine) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(queue=waiting_texters)
    def check(queue: list[tuple[Priority, bool, int, int, State]]) -> None:
        with Session(engine) as session, session.begin():
            fill(session, queue)
            waiting = list(
                session.scalars(select(Conversation).where(Conversation.state.in_(WAITING)))
            )
            by_sql = list(
                session.scalars(
                    select(Conversation.id)
                    .where(Conversation.state.in_(WAITING))
                    .order_by(*queue_order())  # type: ignore[arg-type]
                )
            )
            by_domain = [
                c.id
                for c in sorted(
                    waiting,
                    key=lambda c: sort_key(
                        c.priority,
                        c.queued_at or T0,
                        emergency=c.emergency_at is not None,
                        risk_score=c.risk_score,
                        id=c.id,
                    ),
                )
            ]
            assert by_sql == by_domain
            places = {c.id: queue_position(session, c) for c in waiting}
            assert [places[i] for i in by_domain] == list(range(1, len(by_domain) + 1))
            session.rollback()

    check()
