"""The production stack, really started for a test: redis-server, the fake Twilio API, gunicorn, a
celery worker and beat, on a database the test names; and a :class:`Stack` to text it through
``/twilio/sms`` and read what came out at the fake API and in the database.

The processes themselves are made in :mod:`tests.support.stack`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hotline.db.models import Message, Texter
from hotline.db.session import make_engine
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.settings import Settings
from hotline.sms.signature import sign
from tests.conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_HASH_KEY,
    unavailable,
)
from tests.helpers import sms_form
from tests.support.fake_twilio import FakeTwilio
from tests.support.stack import (
    Process,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    http_ready,
    production_env,
    redis_server,
    wait_until,
)

SHORT_CODE = "+15005550006"


@dataclass
class Stack:
    public_url: str
    fake: FakeTwilio
    engine: Engine
    vault: Vault
    redis: Process
    processes: list[Process]
    log_dir: Path
    settings: Settings

    def text(self, phone: str, body: str, **extra: str) -> requests.Response:
        form = sms_form(phone, body, **extra)
        return self.post("/twilio/sms", form)

    def post(self, path: str, form: dict[str, str]) -> requests.Response:
        signature = sign(TEST_AUTH_TOKEN, self.public_url + path, form)
        return requests.post(
            self.public_url + path,
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=10,
        )

    def replies_to(self, phone: str) -> list[str]:
        return [m.body for m in self.fake.messages if m.to == phone]

    def wait_for_replies(self, phone: str, count: int, timeout: float = 15.0) -> list[str]:
        wait_until(lambda: len(self.replies_to(phone)) >= count, timeout, f"{count} replies")
        return self.replies_to(phone)

    def wait_until_settled(self, phone: str, timeout: float = 15.0) -> None:
        """Until every text of ``phone`` is processed and every reply stored for them has
        reached the fake API (or was canceled): a turn can bring more than one reply."""

        def settled() -> bool:
            messages = self.messages_of(phone)
            inbound = [m for m in messages if m.direction is Direction.INBOUND]
            outbound = [m for m in messages if m.direction is Direction.OUTBOUND]
            in_hand = (DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING)
            return (
                all(m.processed_at is not None for m in inbound)
                and not any(m.status in in_hand for m in outbound)
                and len(self.replies_to(phone)) >= sum(m.twilio_sid is not None for m in outbound)
            )

        wait_until(settled, timeout, "every text processed and every reply sent")

    def messages_of(self, phone: str) -> list[Message]:
        with self.engine.connect() as connection:
            texter_id = connection.scalar(
                select(Texter.id).where(Texter.phone_hash == self.vault.phone_hash(phone))
            )
            if texter_id is None:
                return []
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(Message).where(Message.texter_id == texter_id).order_by(Message.id)
                )
            )

    def lock_waiters(self) -> list[int]:
        """The client ports of the connections to the hotline's database (PostgreSQL) that
        wait for a row lock."""
        with self.engine.connect() as connection:
            ports = connection.exec_driver_sql(
                "SELECT client_port FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalars()
            return [int(port) for port in ports]

    def logs(self) -> str:
        return "\n".join(p.log() for p in [*self.processes, self.redis])


@contextmanager
def start_stack(database_url: str, log_dir: Path, **settings: str) -> Iterator[Stack]:
    """Redis, the fake Twilio API, gunicorn, a celery worker and beat on ``database_url``, with
    short timers; ``settings`` adds or overrides environment variables
    (``HOTLINE_PRESENCE_GRACE_MINUTES="0.05"``). Everything is stopped on leaving."""
    redis_port, web_port = free_port(), free_port()
    try:
        redis = redis_server(redis_port, log_dir)
    except FileNotFoundError:
        unavailable("redis-server")
    redis.start()
    import redis as redis_client

    client = redis_client.Redis(port=redis_port, socket_connect_timeout=0.5)

    def redis_up() -> bool:
        try:
            return bool(client.ping())
        except redis_client.RedisError:
            return False

    wait_until(redis_up, 10, "redis-server")
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    fake.start()
    public_url = f"http://127.0.0.1:{web_port}"
    env = production_env(
        database_url=database_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number=SHORT_CODE,
        api_base=fake.base_url,
        data_key=TEST_DATA_KEY,
        hash_key=TEST_HASH_KEY,
        **{
            "TWILIO_TIMEOUT_SECONDS": "3",
            "HOTLINE_SWEEP_INTERVAL_SECONDS": "1",
            "HOTLINE_SWEEP_GRACE_SECONDS": "2",
            # Real timers, made short enough to watch: 15 s of silence during triage closes.
            "HOTLINE_TRIAGE_TIMEOUT_MINUTES": "0.25",
            "HOTLINE_TIMER_TICK_SECONDS": "1",
            # Nobody is ever on shift here: a queued texter would be asked "still there?"
            # after 6 s of silence and released 3 s later, were anyone on shift.
            "HOTLINE_WAIT_UPDATE_MINUTES": "0.05",
            "HOTLINE_CHECK_IN_AFTER_MINUTES": "0.1",
            "HOTLINE_CHECK_IN_TIMEOUT_MINUTES": "0.05",
            # After an advocate closes, the survey waits 3 s (the reopen window).
            "HOTLINE_REOPEN_MINUTES": "0.05",
            **settings,  # a caller's own values win
        },
    )
    checked = Settings.from_env(env)  # the same production checks the processes make
    processes = [
        gunicorn(web_port, env, log_dir),
        celery_worker(env, log_dir),
        celery_beat(env, log_dir),
    ]
    engine = make_engine(database_url)
    stack = Stack(
        public_url,
        fake,
        engine,
        Vault(checked.data_keys, checked.hash_key),
        redis,
        processes,
        log_dir,
        checked,
    )
    try:
        for process in processes:
            process.start()
        wait_until(http_ready(public_url + "/healthz"), 30, "gunicorn")
        wait_until(lambda: "ready." in processes[1].log(), 60, "the celery worker")
        yield stack
    finally:
        for process in processes:
            process.stop()
        redis.stop()
        fake.stop()
        client.close()
        engine.dispose()


def converse(stack: Stack, phone: str, turns: list[str]) -> list[str]:
    """Text each turn once the hotline has answered the one before; return every reply."""
    for turn in turns:
        before = len(stack.replies_to(phone))
        assert stack.text(phone, turn).status_code == 200
        stack.wait_for_replies(phone, before + 1)
        stack.wait_until_settled(phone)
    return stack.replies_to(phone)
