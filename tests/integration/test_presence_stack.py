"""On the production stack (gunicorn, PostgreSQL, Redis, a real celery worker and beat, the fake
Twilio API): an advocate whose session ends without signing out does not keep their texter.

The presence grace is 3 seconds here (``HOTLINE_PRESENCE_GRACE_MINUTES=0.05``) and the beat
looks every second, so what takes minutes on a real shift takes seconds.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, Event, StaffSession, Texter
from hotline.domain.triage import State
from tests.conftest import PostgresServer, new_phone
from tests.support.production_stack import Stack, converse, start_stack
from tests.support.stack import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

PASSWORD = "a long password for the stack"


@pytest.fixture(scope="module")
def stack(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack on a database of its own: its beat sets away whoever is absent in it."""
    name = f"hotline_presence_{os.getpid()}_{secrets.token_hex(3)}"
    postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"')
    try:
        with start_stack(
            postgres.url(name),
            tmp_path_factory.mktemp("presence-stack"),
            HOTLINE_PRESENCE_GRACE_MINUTES="0.05",
            HOTLINE_WAIT_UPDATE_MINUTES="0.1",
        ) as started:
            yield started
    finally:
        postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def csrf_of(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def signed_in(stack: Stack, email: str) -> tuple[requests.Session, str]:
    """A browser-like session signed in through gunicorn, and its CSRF token."""
    http = requests.Session()
    login = http.get(stack.public_url + "/login", timeout=10).text
    response = http.post(
        stack.public_url + "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": csrf_of(login, r'name="csrf_token" value="([^"]+)"'),
        },
        timeout=10,
    )
    assert response.status_code == 200 and response.url.endswith("/console")
    return http, csrf_of(response.text, r'<meta name="csrf-token" content="([^"]+)">')


def conversation_of(stack: Stack, phone: str) -> Conversation:
    with Session(stack.engine) as session:
        found = session.scalars(
            select(Conversation)
            .join(Texter, Texter.id == Conversation.texter_id)
            .where(Texter.phone_hash == stack.vault.phone_hash(phone))
            .order_by(Conversation.id.desc())
        ).first()
        assert found is not None
        return found


def gone_alerts(stack: Stack, advocate_id: int) -> list[Event]:
    with Session(stack.engine) as session:
        alerts = session.scalars(select(Event).where(Event.kind == "alert")).all()
    return [
        e
        for e in alerts
        if e.detail.get("alert") == "advocate_gone" and e.detail.get("advocate_id") == advocate_id
    ]


def test_a_texter_goes_back_to_the_queue_when_their_advocates_session_ends(
    stack: Stack,
) -> None:
    from hotline import create_app, runtime_of
    from hotline.services.staff import do_create_staff

    phone = new_phone()
    converse(stack, phone, ["hi", "yes"])  # in danger: queued at once
    waiting = conversation_of(stack, phone)
    assert waiting.state is State.QUEUED and waiting.queued_at is not None
    app = create_app({"settings": stack.settings})
    runtime = runtime_of(app)
    try:
        with runtime.sessions.begin() as session:
            advocate = do_create_staff(
                session, f"adv-{phone[-6:]}@example.org", PASSWORD, "advocate",
                runtime.clock.now(),
            )  # fmt: skip
    finally:
        runtime.engine.dispose()
        app.extensions["celery"].close()

    http, csrf = signed_in(stack, advocate.email)
    headers = {"X-CSRF-Token": csrf}
    url = stack.public_url + "/console/api"
    assert (
        http.post(
            url + "/availability", json={"availability": "available"}, headers=headers
        ).status_code
        == 200
    )
    taken = http.post(url + "/queue/take-next", json={}, headers=headers, timeout=10)
    assert taken.status_code == 200 and taken.json()["conversation_id"] == waiting.id

    # Polling like an open console, for longer than the grace: nothing is taken from them.
    for _ in range(6):
        assert http.get(url + "/poll", timeout=10).status_code == 200
        time.sleep(1)
    held = conversation_of(stack, phone)
    assert held.state is State.WITH_ADVOCATE and held.advocate_id == advocate.id
    assert gone_alerts(stack, advocate.id) == []
    told = len(stack.replies_to(phone))

    # The session reaches its maximum age: the console's next poll is refused, then silence.
    with Session(stack.engine) as session, session.begin():
        session.execute(
            update(StaffSession)
            .where(StaffSession.user_id == advocate.id)
            .values(
                created_at=datetime.now(UTC) - timedelta(hours=stack.settings.session_max_hours + 1)
            )
        )
    assert http.get(url + "/poll", timeout=10).status_code == 401

    def back_in_line() -> bool:
        now = conversation_of(stack, phone)
        return now.state is State.QUEUED and now.advocate_id is None

    wait_until(back_in_line, 30, "the texter back in the queue")
    back = conversation_of(stack, phone)
    assert back.queued_at == waiting.queued_at  # their place, kept
    [alert] = gone_alerts(stack, advocate.id)
    assert alert.actor_id is None and alert.detail["conversations"] == 1
    replies = stack.wait_for_replies(phone, told + 1)
    # Their place, in whichever wording fits who is on shift now.
    assert any(
        place in replies[told]
        for place in ("You are number 1 in line", "first in line", "You're next in line")
    )
    # And their wait timer runs again.
    again = conversation_of(stack, phone)
    assert again.timer == "wait_update" and again.timer_due_at is not None
    assert phone not in stack.logs() and phone[2:] not in stack.logs()
