"""The attention service's holdings under two polls at once: each opens the advocate's holding
of a conversation they hold; neither fails, and there is one holding."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Holding, StaffUser
from hotline.services import attention
from hotline.services.console import Console
from tests.console_client import queued_texter, staff
from tests.texting import claim, conversation


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def test_two_polls_at_once_open_one_holding(app: Flask) -> None:
    runtime = runtime_of(app)
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no two polls can race there")
    advocate = staff(app)
    phone = queued_texter(app)
    claim(app, phone, advocate.id)
    console = Console(runtime.triage, runtime.settings.capacity, timedelta(minutes=2))
    now = runtime.clock.now()
    first = runtime.sessions()
    first.begin()
    user = first.get(StaffUser, advocate.id)
    assert user is not None
    (item,) = attention.attend(first, console, user, now).mine  # inserted, not committed
    assert item["id"] == conversation(app, phone).id
    answers: list[attention.Attended] = []
    errors: list[BaseException] = []

    def second_poll() -> None:
        try:
            with runtime.sessions.begin() as session:
                other = session.get(StaffUser, advocate.id)
                assert other is not None
                answers.append(attention.attend(session, console, other, now))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    thread = threading.Thread(target=second_poll)
    thread.start()
    thread.join(1)
    assert thread.is_alive()  # waiting on the first poll's row at the unique index
    first.commit()
    first.close()
    thread.join(10)
    assert errors == []
    assert [[i["id"] for i in a.mine] for a in answers] == [[item["id"]]]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Holding)) == 1
