"""The texter lock on PostgreSQL: workers and claims exclude each other, the webhook never waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline.db.models import Message
from hotline.db.session import lock_texter
from hotline.infra.vault import Vault
from hotline.services.receive import find_or_add_texter, store_inbound
from hotline.sms.inbound import InboundText
from tests.conftest import TEST_DATA_KEY, TEST_HASH_KEY, new_phone, new_sid

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg(postgres_engine: Engine) -> Engine:
    return postgres_engine


@pytest.fixture
def impatient_pg(postgres_url: str) -> Iterator[Engine]:
    """Connections that fail after 1 s instead of waiting for a lock."""
    engine = create_engine(postgres_url, connect_args={"options": "-c lock_timeout=1s"})
    yield engine
    engine.dispose()


@pytest.fixture
def vault() -> Vault:
    return Vault((TEST_DATA_KEY,), TEST_HASH_KEY)


def _impatient(session: Session) -> None:
    """Fail after 1 s instead of waiting for a lock: a wait is what these tests look for."""
    session.execute(text("SET LOCAL lock_timeout = '1s'"))


def test_a_text_is_stored_while_a_worker_holds_its_texter(
    pg: Engine, impatient_pg: Engine, vault: Vault
) -> None:
    phone = new_phone()
    with Session(pg) as setup, setup.begin():
        texter_id = find_or_add_texter(setup, vault, phone, NOW)

    with Session(pg) as worker, worker.begin():
        assert lock_texter(worker, texter_id) is not None
        stored = store_inbound(impatient_pg, vault, InboundText(new_sid(), phone, "hi", ()), NOW)
        assert stored is not None

    with Session(pg) as check:
        message = check.get(Message, stored)
        assert message is not None and message.texter_id == texter_id


def test_a_second_worker_still_waits_for_the_first(pg: Engine, vault: Vault) -> None:
    with Session(pg) as setup, setup.begin():
        texter_id = find_or_add_texter(setup, vault, new_phone(), NOW)

    with Session(pg) as first, first.begin():
        assert lock_texter(first, texter_id) is not None
        with Session(pg) as second, second.begin(), pytest.raises(OperationalError) as refused:
            _impatient(second)
            lock_texter(second, texter_id)
    assert "lock timeout" in str(refused.value)
