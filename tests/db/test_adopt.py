"""Rows the worker writes with Core, made into the session's objects without reading them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, ConversationStatus, Texter
from hotline.db.session import adopt, lock_texter_of
from hotline.domain.triage import State
from hotline.infra.vault import Vault
from hotline.services import process
from hotline.services.receive import store_inbound
from hotline.sms.inbound import InboundText
from tests.conftest import TEST_DATA_KEY, TEST_HASH_KEY, new_phone, new_sid

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
VAULT = Vault((TEST_DATA_KEY,), TEST_HASH_KEY)


def _stored(engine: Engine) -> int:
    text = InboundText(message_sid=new_sid(), phone=new_phone(), body="hello", media_types=())
    message_id = store_inbound(engine, VAULT, text, NOW)
    assert message_id is not None
    return message_id


class _Statements:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.sent = engine, 0

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.sent += 1


def _read_every_column(instance: object) -> None:
    for attribute in inspect(type(instance)).column_attrs:
        getattr(instance, attribute.key)


def test_the_locked_texter_comes_with_every_column_and_nothing_to_write(engine: Engine) -> None:
    message_id = _stored(engine)
    with Session(engine) as session, session.begin():
        texter = lock_texter_of(session, message_id, seen_at=LATER)
        assert texter is not None
        with _Statements(engine) as statements:
            _read_every_column(texter)
        assert statements.sent == 0  # nothing left to load
        assert texter.last_seen_at == LATER and texter.created_at == NOW
        assert texter in session and texter not in session.dirty and texter not in session.new
        assert session.get(Texter, texter.id) is texter
        texter_id = texter.id
    with Session(engine) as session:
        stored = session.get(Texter, texter_id)
        assert stored is not None and stored.last_seen_at == LATER


def test_a_texter_the_session_holds_already_is_that_one_read_again(engine: Engine) -> None:
    message_id = _stored(engine)
    with Session(engine) as session, session.begin():
        first = lock_texter_of(session, message_id)
        assert first is not None and first.last_seen_at == NOW
        again = lock_texter_of(session, message_id, seen_at=LATER)
        assert again is first
        assert first.last_seen_at == LATER


def test_no_such_message_no_texter(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert lock_texter_of(session, 10**9, seen_at=LATER) is None


def test_a_row_without_every_column_is_refused_and_adds_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(KeyError):
            adopt(session, Texter, {"id": 10**9, "phone_hash": "x"})
        assert not session.new and len(session.identity_map) == 0


def test_a_new_conversation_is_the_sessions_own_with_its_defaults(engine: Engine) -> None:
    message_id = _stored(engine)
    with Session(engine) as session, session.begin():
        texter = lock_texter_of(session, message_id, seen_at=LATER)
        assert texter is not None
        values: dict[str, object] = {
            "texter_id": texter.id, "status": ConversationStatus.OPEN, "state": State.NEW,
            "language": "es", "reasks": 0, "returning_texter": False, "opened_at": LATER,
            "last_activity_at": LATER, "last_texter_at": LATER,
        }  # fmt: skip
        conversation = process._open(session, values)
        with _Statements(engine) as statements:
            _read_every_column(conversation)
        assert statements.sent == 0
        assert conversation.language == "es" and conversation.risk_score == 0
        assert conversation.minor is False and conversation.unprompted_count == 0
        assert session.get(Conversation, conversation.id) is conversation
        conversation.state = State.AWAIT_DANGER  # changed after: written at the commit
        conversation_id = conversation.id
    with Session(engine) as session:
        stored = session.get(Conversation, conversation_id)
        assert stored is not None
        assert stored.state is State.AWAIT_DANGER
        assert (stored.language, stored.opened_at) == ("es", LATER)
        assert stored.risk_findings_ciphertext is None and stored.priority is not None
