"""PostgreSQL stopped under the running production stack, then started again.

gunicorn (``HOTLINE_ENV=production``), a celery worker and beat, this module's own redis-server,
the local fake of Twilio's API, and a PostgreSQL server of this module's own
(:class:`~tests.support.postgres.PrivatePostgres`): the machine's shared server stays up for
everyone else's tests.

The promises checked: while the database is away the webhook answers 503 at once and never 200,
so nothing tells Twilio a text is safe that is not; ``/healthz`` says the database is down; work
a worker had in hand or in the queue is not lost; and once the database is back, with no process
restarted, new texts and Twilio's retries of the refused ones (the same ``MessageSid`` again)
are each stored once and answered exactly once.

The bound on a refused text is ``FAST`` (3 s). A stopped server refuses the connection at once,
so the answer takes milliseconds; 3 s is also the engine's ``connect_timeout``
(:func:`hotline.db.session.make_engine`), the longest one connection attempt may take when the
database's host does not answer at all. Slower would mean a request waited on more than one
attempt, or on the pool, while Twilio, which waits 15 s at most, holds the texter's message.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import redis as redis_client
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.migrate import upgrade
from hotline.db.models import Message, Texter
from hotline.db.session import make_engine
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.settings import Settings
from tests.conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_HASH_KEY,
    new_phone,
    unavailable,
)
from tests.helpers import sms_form
from tests.support.fake_twilio import FakeTwilio
from tests.support.postgres import SUPERUSER, PrivatePostgres
from tests.support.production_stack import SHORT_CODE, Stack
from tests.support.stack import (
    Process,
    answers_ping,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    http_ready,
    production_env,
    redis_server,
    stop_all,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

FAST = 3.0  # seconds: see the module's docstring
QUEUE = "hotline"  # task_default_queue: the Redis list the tasks wait in

REACHED = "Hi, thanks for texting."  # the answer to a first text (discreet by default)
SAFE = "Is it safe for you to text right now?"  # ... to "no", not in immediate danger
IN_A_FEW_WORDS = "Thank you. In a few words"  # ... to "yes", safe to text


@dataclass
class Outage:
    """The stack on a database this module can stop."""

    stack: Stack
    database: PrivatePostgres
    worker: Process
    broker: redis_client.Redis

    @property
    def web(self) -> Process:
        return self.stack.processes[0]

    def timed_post(self, form: dict[str, str]) -> tuple[int, float]:
        """POST a signed text; its HTTP status and how long the answer took."""
        started = time.monotonic()
        status = self.stack.post("/twilio/sms", form).status_code
        return status, time.monotonic() - started

    def healthz(self) -> tuple[int, dict[str, str], float]:
        started = time.monotonic()
        response = requests.get(self.stack.public_url + "/healthz", timeout=10)
        return response.status_code, response.json(), time.monotonic() - started

    def stored(self, sid: str) -> int:
        """How many messages carry this Twilio SID."""
        with self.stack.engine.connect() as connection:
            count = connection.scalar(
                select(func.count()).select_from(Message).where(Message.twilio_sid == sid)
            )
        return int(count or 0)

    def texter_id(self, phone: str) -> int:
        with Session(self.stack.engine) as session:
            texter_id = session.scalar(
                select(Texter.id).where(Texter.phone_hash == self.stack.vault.phone_hash(phone))
            )
        assert texter_id is not None
        return int(texter_id)

    def queued_inbound(self) -> set[int]:
        """The message ids of the ``process_inbound`` tasks waiting in the Redis queue."""
        waiting = (json.loads(raw)["headers"] for raw in self.broker.lrange(QUEUE, 0, -1))
        return {
            int(ast.literal_eval(h["argsrepr"])[0])
            for h in waiting
            if h["task"] == "hotline.process_inbound"
        }

    def inbound(self, phone: str) -> list[Message]:
        return [m for m in self.stack.messages_of(phone) if m.direction is Direction.INBOUND]

    def outbound(self, phone: str) -> list[Message]:
        return [m for m in self.stack.messages_of(phone) if m.direction is Direction.OUTBOUND]

    def settled(self, *phones: str) -> bool:
        """Every reply to these numbers is recorded under its SID and delivered: no send and
        no status callback is still on its way."""
        replies = [m for phone in phones for m in self.outbound(phone)]
        return all(m.twilio_sid and m.status is DeliveryStatus.DELIVERED for m in replies)

    def assert_answered_once(self, phone: str, expected: list[str]) -> None:
        """The replies at Twilio start with ``expected``, in order, each there once and
        recorded under its SID; every text from ``phone`` is processed."""
        replies = self.stack.replies_to(phone)
        assert len(replies) == len(expected), replies
        for reply, start in zip(replies, expected, strict=True):
            assert reply.startswith(start), (reply, start)
        outbound = self.outbound(phone)
        at_twilio = sorted(m.sid for m in self.stack.fake.messages if m.to == phone)
        assert sorted(str(m.twilio_sid) for m in outbound) == at_twilio
        assert all(m.processed_at is not None for m in self.inbound(phone))


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    log_dir = tmp_path_factory.mktemp("postgres")
    try:
        server = PrivatePostgres.create(log_dir)
    except (FileNotFoundError, LookupError) as exc:
        unavailable(f"a PostgreSQL server to start ({exc})")
    try:
        server.start()
        engine = make_engine(server.create_database("hotline"))
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def outage(database: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    log_dir = tmp_path_factory.mktemp("outage")
    redis_port, web_port = free_port(), free_port()
    try:
        redis = redis_server(redis_port, log_dir)
    except FileNotFoundError:
        unavailable("redis-server")
    broker = redis_client.Redis(port=redis_port, socket_connect_timeout=0.5, socket_timeout=2)
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    public_url = f"http://127.0.0.1:{web_port}"
    database_url = database.url("hotline")
    env = production_env(
        database_url=database_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number=SHORT_CODE,
        data_key=TEST_DATA_KEY,
        hash_key=TEST_HASH_KEY,
        TWILIO_TIMEOUT_SECONDS="3",
        HOTLINE_SEND_BACKOFF_SECONDS="0.1",
        HOTLINE_SWEEP_INTERVAL_SECONDS="1",
        HOTLINE_SWEEP_GRACE_SECONDS="2",
        HOTLINE_TIMER_TICK_SECONDS="1",
    )
    processes = [
        gunicorn(web_port, env, log_dir),
        celery_worker(env, log_dir),
        celery_beat(env, log_dir),
    ]
    engine = make_engine(database_url)
    try:
        redis.start()
        wait_until(lambda: answers_ping(broker), 10, "redis-server")
        fake.start()
        env["TWILIO_API_BASE"] = fake.base_url
        settings = Settings.from_env(env)
        for process in processes:
            process.start()
        stack = Stack(
            public_url,
            fake,
            engine,
            Vault(settings.data_keys, settings.hash_key),
            redis,
            processes,
            log_dir,
            settings,
        )
        web_ready = http_ready(public_url + "/healthz")
        wait_until(lambda: web_ready() or not processes[0].alive(), 30, "gunicorn")
        assert processes[0].alive(), "gunicorn did not start:\n" + processes[0].log()[-3000:]
        wait_until(lambda: "ready." in processes[1].log(), 60, "the celery worker")
        yield Outage(stack, database, processes[1], broker)
    finally:
        stop_all(processes, timeout=5)
        redis.stop()
        fake.stop()
        broker.close()
        engine.dispose()


def test_database_stopped_refuses_texts_fast_and_service_resumes_when_it_returns(
    outage: Outage,
) -> None:
    stack = outage.stack
    pids = [p.popen.pid for p in stack.processes if p.popen is not None]
    assert len(pids) == 3
    in_hand, queued = new_phone(), new_phone()  # texters whose next text is mid-flight or queued
    in_hand_too = new_phone()

    # 1. Service as usual.
    for phone in (in_hand, in_hand_too, queued):
        assert stack.text(phone, "hi").status_code == 200
    for phone in (in_hand, in_hand_too, queued):
        stack.wait_for_replies(phone, 1)
    # Nothing else in flight when the database stops: a send cut off between Twilio's answer
    # and its record waits out its lease (tests/faults/test_worker_faults.py covers that).
    wait_until(lambda: outage.settled(in_hand, in_hand_too, queued), 10, "the replies recorded")
    status, health, _ = outage.healthz()
    assert (status, health) == (200, {"database": "ok", "broker": "ok"})

    # 2. Work in flight when the database goes: both pool processes of the worker are inside
    # a task, waiting for a texter's row lock held here; a third task waits in Redis.
    locker = psycopg.connect(
        host="127.0.0.1", port=outage.database.port, user=SUPERUSER, dbname="hotline"
    )
    try:
        ids = [outage.texter_id(in_hand), outage.texter_id(in_hand_too)]
        # NO KEY UPDATE: blocks the worker's FOR UPDATE, not the webhook storing a text (the
        # foreign key check on the texter takes KEY SHARE, which FOR UPDATE would block).
        locker.execute("SELECT id FROM texters WHERE id = ANY(%s) FOR NO KEY UPDATE", [ids])
        for phone in (in_hand, in_hand_too):
            assert stack.text(phone, "no").status_code == 200
        wait_until(lambda: len(stack.lock_waiters()) == 2, 10, "both worker processes on the lock")
        assert stack.text(queued, "no").status_code == 200
        [waiting] = outage.inbound(queued)[1:]
        assert waiting.id in outage.queued_inbound()

        worker_log, web_log = len(outage.worker.log()), len(outage.web.log())
        # 3. The database stops: a fast shutdown rolls back and disconnects every client.
        stopping = time.monotonic()
        outage.database.stop("fast")
        went_down = time.monotonic()
    finally:
        locker.close()

    # Texts now: a new texter and a known one (whose earlier text is still unprocessed).
    refused = [
        sms_form(new_phone(), "hi"),
        sms_form(queued, "yes"),
        sms_form(new_phone(), "hi"),
        sms_form(in_hand, "yes"),
    ]
    refusals: list[float] = []
    for form in refused:
        status, seconds = outage.timed_post(form)
        assert status == 503, "a text that could not be stored was acknowledged"
        refusals.append(seconds)
    assert max(refusals) < FAST
    status, health, health_seconds = outage.healthz()
    assert (status, health) == (503, {"database": "down", "broker": "ok"})
    assert health_seconds < FAST

    def retried() -> set[str]:
        new = outage.worker.log()[worker_log:]
        return set(re.findall(r"hotline\.process_inbound\[([0-9a-f-]+)\] retry: ", new))

    # The two tasks cut off mid-flight and the one that was queued each fail and are retried.
    wait_until(lambda: len(retried()) >= 3, 15, "the worker to retry the cut-off tasks")
    # The periodic jobs fail too while it is away, and the worker carries on.
    failed_sweep = re.compile(r"hotline\.sweep\[[0-9a-f-]+\] raised unexpected: OperationalError")
    wait_until(
        lambda: failed_sweep.search(outage.worker.log()[worker_log:]) is not None,
        10,
        "a sweep to fail",
    )
    time.sleep(max(0.0, went_down + 3 - time.monotonic()))  # down for 3 s at least
    assert "inbound text not stored, database unavailable" in outage.web.log()[web_log:]

    # 4. The database returns. Nothing is restarted.
    outage.database.start()
    came_back = time.monotonic()
    for _ in range(4):  # more than one request, to reach both gunicorn workers
        status, health, _ = outage.healthz()
        assert (status, health) == (200, {"database": "ok", "broker": "ok"})
    # A 503 meant what it said: none of those texts was stored.
    assert [outage.stored(form["MessageSid"]) for form in refused] == [0] * len(refused)

    later = new_phone()
    assert stack.text(later, "hi").status_code == 200
    # Twilio retries each refused text with its MessageSid, here twice over.
    for form in refused:
        assert stack.post("/twilio/sms", form).status_code == 200
        assert stack.post("/twilio/sms", form).status_code == 200
    assert [outage.stored(form["MessageSid"]) for form in refused] == [1] * len(refused)

    for phone, count in [(in_hand, 3), (in_hand_too, 2), (queued, 3), (later, 1)]:
        stack.wait_for_replies(phone, count, timeout=30)
    for form in (refused[0], refused[2]):
        stack.wait_for_replies(form["From"], 1)
    recovered = time.monotonic() - came_back
    everyone = [in_hand, in_hand_too, queued, later, refused[0]["From"], refused[2]["From"]]
    wait_until(lambda: outage.settled(*everyone), 10, "the replies recorded")
    time.sleep(2)  # the sweep runs every second and the retries are still due: let a double show

    outage.assert_answered_once(in_hand, [REACHED, SAFE, IN_A_FEW_WORDS])
    outage.assert_answered_once(in_hand_too, [REACHED, SAFE])
    outage.assert_answered_once(queued, [REACHED, SAFE, IN_A_FEW_WORDS])
    for phone in (later, refused[0]["From"], refused[2]["From"]):
        outage.assert_answered_once(phone, [REACHED])

    # Resumed by itself: the same processes, no gunicorn worker replaced, the worker never
    # restarted.
    assert [p.popen.pid for p in stack.processes if p.popen is not None] == pids
    assert all(p.alive() for p in stack.processes)
    assert outage.web.log().count("Booting worker") == 2
    assert outage.worker.log().count("ready.") == 1
    logs = stack.logs()
    for phone in everyone:
        assert phone not in logs
    print(
        f"fast shutdown {(went_down - stopping) * 1000:.0f} ms; down {came_back - went_down:.1f} s;"
        f" refused texts answered 503 in at most {max(refusals) * 1000:.0f} ms,"
        f" /healthz in {health_seconds * 1000:.0f} ms; every text answered"
        f" {recovered:.1f} s after the database returned"
    )


def test_a_restart_nobody_noticed_costs_no_text(outage: Outage) -> None:
    # Stopped and started between two requests: every connection pooled in the web's processes
    # is dead, and nothing has failed on one yet to tell the pool so. Pre-ping must find out
    # before a text is stored on one, or the first texts after a quiet outage get 503.
    stack = outage.stack
    for _ in range(8):  # enough to leave connections pooled in both gunicorn workers
        status, _, _ = outage.healthz()
        assert status == 200
    warm = new_phone()
    assert stack.text(warm, "hi").status_code == 200
    stack.wait_for_replies(warm, 1)
    wait_until(lambda: outage.settled(warm), 10, "the reply recorded and its callbacks in")

    outage.database.stop("fast")
    outage.database.start()

    for _ in range(8):
        status, health, _ = outage.healthz()
        assert (status, health) == (200, {"database": "ok", "broker": "ok"})
    phones = [new_phone() for _ in range(4)]
    for phone in phones:
        assert stack.text(phone, "hi").status_code == 200
    for phone in phones:
        stack.wait_for_replies(phone, 1)
    wait_until(lambda: outage.settled(*phones), 10, "the replies recorded")
    time.sleep(1.5)  # the sweep runs every second: let a double show
    for phone in [warm, *phones]:
        outage.assert_answered_once(phone, [REACHED])
