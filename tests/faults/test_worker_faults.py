"""Faults under the production stack, really started: gunicorn, PostgreSQL, this module's own
redis-server, one celery worker, *two* celery beat schedulers, and the real twilio client
talking to the local fake of Twilio's API.

Every test breaks something for real (SIGKILL, HTTP errors, answers that come too late,
callbacks out of order, a broker that goes away) and then checks the hotline's promises:
every stored text is processed, and every reply reaches Twilio's API exactly once.

Two beats run for the whole module, so every test also runs with every periodic job doubled.

Timing: a reply whose send was cut off (worker killed, Twilio's answer too late) is
``submitting`` until its lease ends, ``TWILIO_TIMEOUT_SECONDS + 20`` s after the attempt; only
then may another attempt ask Twilio whether it has the text. The two tests about that wait
about 21 s each; that is most of this module's time.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis as redis_client
from sqlalchemy import func, select

from hotline.db.models import Conversation, ConversationStatus, Event, Message
from hotline.db.session import make_engine
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.vault import Vault
from hotline.settings import Settings
from tests.conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_HASH_KEY,
    PostgresServer,
    new_phone,
    unavailable,
)
from tests.support.fake_twilio import FakeTwilio
from tests.support.production_stack import SHORT_CODE, Stack, converse
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

TWILIO_TIMEOUT = 1.0
LEASE = TWILIO_TIMEOUT + 20  # Runtime.dispatcher: how long a cut-off send stays untouchable
QUEUE = "hotline"  # task_default_queue: the Redis list the tasks wait in


@dataclass
class Rig:
    """The stack, plus the handles to break it with."""

    stack: Stack
    env: dict[str, str]
    worker: Process
    beats: list[Process]
    broker: redis_client.Redis
    worker_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def fake(self) -> FakeTwilio:
        return self.stack.fake

    def start_worker(self, **overrides: str) -> None:
        """Start the (stopped) worker with the module's environment plus ``overrides``."""
        ready_before = self.worker.log().count("ready.")
        self.worker.env = {**self.env, **overrides}
        self.worker_overrides = dict(overrides)
        self.worker.start()
        wait_until(
            lambda: self.worker.log().count("ready.") > ready_before, 60, "the celery worker"
        )

    def use_worker(self, **overrides: str) -> None:
        """Make sure the running worker has exactly these overrides; restart it if not."""
        if self.worker.alive() and overrides == self.worker_overrides:
            return
        self.worker.stop(timeout=5)
        self.start_worker(**overrides)

    def broker_up(self) -> bool:
        return answers_ping(self.broker)

    def outbound(self, phone: str) -> list[Message]:
        return [m for m in self.stack.messages_of(phone) if m.direction is Direction.OUTBOUND]

    def inbound(self, phone: str) -> list[Message]:
        return [m for m in self.stack.messages_of(phone) if m.direction is Direction.INBOUND]

    def recorded(self, phone: str) -> bool:
        """There are replies to ``phone``, and each has the SID Twilio gave it."""
        replies = self.outbound(phone)
        return bool(replies) and all(m.twilio_sid for m in replies)

    def assert_each_reply_reached_twilio_once(self, phone: str) -> None:
        """Every stored reply is at the fake exactly once, under its recorded SID, and the
        fake holds nothing else for this number."""
        at_twilio = [m for m in self.fake.messages if m.to == phone]
        replies = self.outbound(phone)
        assert all(m.twilio_sid is not None for m in replies), [m.status for m in replies]
        assert sorted(m.sid for m in at_twilio) == sorted(str(m.twilio_sid) for m in replies)
        bodies = [m.body for m in at_twilio]
        assert len(bodies) == len(set(bodies)), "the same reply reached Twilio twice"


@contextlib.contextmanager
def callbacks_off(fake: FakeTwilio) -> Iterator[None]:
    """No status callbacks: the database learns a SID only from the worker's own record.

    With callbacks on, the fake's first callback would fill in a cut-off send's SID (found by
    the ``?m=`` id), hiding whether the worker itself reconciles.
    """
    fake.callbacks = False
    try:
        yield
    finally:
        fake.callbacks = True


@pytest.fixture(scope="module")
def own_database_url(postgres: PostgresServer) -> Iterator[str]:
    """A database of this module's own, not the session's shared one.

    Other tests leave texts stored and never processed in the shared database; this stack's
    sweep would answer them all, and those replies would take the faults injected here.
    """
    name = f"hotline_faults_{os.getpid()}_{secrets.token_hex(3)}"
    postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"')
    yield postgres.url(name)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def rig(own_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    postgres_url = own_database_url
    log_dir = tmp_path_factory.mktemp("faults")
    redis_port, web_port = free_port(), free_port()
    try:
        redis = redis_server(redis_port, log_dir)
    except FileNotFoundError:
        unavailable("redis-server")
    broker = redis_client.Redis(port=redis_port, socket_connect_timeout=0.5, socket_timeout=2)
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    public_url = f"http://127.0.0.1:{web_port}"
    env = production_env(
        database_url=postgres_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        from_number=SHORT_CODE,
        data_key=TEST_DATA_KEY,
        hash_key=TEST_HASH_KEY,
        TWILIO_TIMEOUT_SECONDS=str(TWILIO_TIMEOUT),
        HOTLINE_SEND_BACKOFF_SECONDS="0.1",
        HOTLINE_SWEEP_INTERVAL_SECONDS="1",
        HOTLINE_SWEEP_GRACE_SECONDS="2",
        HOTLINE_TIMER_TICK_SECONDS="1",
    )
    web = gunicorn(web_port, {}, log_dir)
    worker = celery_worker({}, log_dir)
    beats = [celery_beat({}, log_dir)]
    second = log_dir / "beat-2"
    second.mkdir()
    beats.append(celery_beat({}, second))
    engine = make_engine(postgres_url)
    processes = [web, worker, *beats]
    try:
        redis.start()
        wait_until(lambda: answers_ping(broker), 10, "redis-server")
        fake.start()
        env["TWILIO_API_BASE"] = fake.base_url
        settings = Settings.from_env(env)
        for process in (web, *beats):
            process.env = env
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
        rig = Rig(stack, env, worker, beats, broker)
        rig.start_worker()
        wait_until(http_ready(public_url + "/healthz"), 30, "gunicorn")
        yield rig
    finally:
        stop_all(processes, timeout=3)
        redis.stop()
        fake.stop()
        broker.close()
        engine.dispose()


# -- 1. a worker killed inside a send --------------------------------------------------------------


def test_worker_killed_mid_send_is_replaced_and_each_reply_reaches_twilio_once(rig: Rig) -> None:
    rig.use_worker()
    phones = [new_phone(), new_phone()]
    log_start = len(rig.worker.log())
    with callbacks_off(rig.fake):
        # Twilio takes each text but answers only after 30 s: the worker sits inside the call.
        rig.fake.timeout_next(count=len(phones), seconds=30)
        for phone in phones:
            assert rig.stack.text(phone, "hi").status_code == 200
        wait_until(
            lambda: all(rig.stack.replies_to(phone) for phone in phones), 15, "both at Twilio"
        )
        rig.worker.stop(signal.SIGKILL)  # the whole process group, pool processes included

        for phone in phones:
            [reply] = rig.outbound(phone)
            # Claimed, at Twilio, and never recorded: the kill landed inside the task.
            assert reply.status is DeliveryStatus.SUBMITTING
            assert reply.twilio_sid is None
        assert "ambiguous" not in rig.worker.log()[log_start:]

        rig.start_worker()
        # The killed tasks sit unacknowledged in Redis until its visibility timeout (600 s);
        # what brings the replies back is the sweep, once their lease has run out. The new
        # attempt asks Twilio first, finds each text, and records it instead of resending.
        wait_until(
            lambda: all(rig.recorded(phone) for phone in phones),
            LEASE + 20,
            "the cut-off replies to be reconciled",
        )
        time.sleep(2)  # two beats sweep every second: a double send would show by now

    for phone in phones:
        assert len(rig.stack.replies_to(phone)) == 1
        rig.assert_each_reply_reached_twilio_once(phone)
        [inbound] = rig.inbound(phone)
        assert inbound.processed_at is not None
    log = rig.worker.log()[log_start:]
    assert log.count("was already with Twilio") >= len(phones)


def pool_processes(worker: Process) -> list[int]:
    """The pids of the celery worker's pool processes (its main process's children)."""
    assert worker.popen is not None
    pid = worker.popen.pid
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def test_a_pool_process_killed_inside_a_task_has_it_given_back_at_once(rig: Rig) -> None:
    """One pool process killed (the kernel's OOM killer, say) while it waits for a texter's row:
    the worker replaces it and puts its task back in the queue (``acks_late`` with
    ``task_reject_on_worker_lost``), and the text is answered once. The sweep, which would
    hand the text over in the end, is held off for ten minutes here."""
    rig.use_worker(HOTLINE_SWEEP_GRACE_SECONDS="600")
    phone = new_phone()
    assert rig.stack.text(phone, "hi").status_code == 200
    rig.stack.wait_for_replies(phone, 1)
    wait_until(lambda: rig.recorded(phone), 10, "the first reply recorded")
    [first] = rig.inbound(phone)
    before = pool_processes(rig.worker)
    log_start = len(rig.worker.log())

    with rig.stack.engine.connect() as locker:
        # NO KEY UPDATE: blocks the worker's FOR UPDATE, not the webhook storing the text.
        locker.exec_driver_sql(
            "SELECT id FROM texters WHERE id = %(id)s FOR NO KEY UPDATE", {"id": first.texter_id}
        )
        assert rig.stack.text(phone, "no").status_code == 200
        wait_until(lambda: len(rig.stack.lock_waiters()) == 1, 10, "a pool process on the lock")
        waiting = waiting_pool_process(rig, before)
        os.kill(waiting, signal.SIGKILL)
        wait_until(
            lambda: "WorkerLostError" in rig.worker.log()[log_start:], 10, "the worker to notice"
        )
        wait_until(lambda: waiting not in pool_processes(rig.worker), 10, "a new pool process")
        locker.rollback()

    rig.stack.wait_for_replies(phone, 2, timeout=15)
    rig.stack.wait_until_settled(phone)
    time.sleep(2)  # a second answer to the same text would show by now
    assert all(m.processed_at is not None for m in rig.inbound(phone))
    rig.assert_each_reply_reached_twilio_once(phone)
    assert len(rig.stack.replies_to(phone)) == 2
    assert "sweep found" not in rig.worker.log()[log_start:]
    assert rig.worker.alive() and len(pool_processes(rig.worker)) == len(before)


def waiting_pool_process(rig: Rig, pool: list[int]) -> int:
    """Which of the pool processes ``pool`` is the one whose connection waits for a lock: the
    one with a socket on the waiting connection's client port."""
    [port] = rig.stack.lock_waiters()
    for pid in pool:
        if f":{port:04X} " in _tcp_sockets_of(pid):
            return pid
    raise AssertionError("no pool process holds the waiting connection")


def _tcp_sockets_of(pid: int) -> str:
    """The local addresses (``0100007F:D2A4 ``, from ``/proc/net/tcp``) of the TCP sockets
    ``pid`` has open, each followed by a space."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    lines = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as sockets:
            for line in sockets.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    lines.append(fields[1] + " ")
    return "".join(lines)


# -- 2. Twilio answering 500, 429, too late, then recovering --------------------------------------


def test_twilio_500_then_429_then_a_late_answer_sends_each_reply_once(rig: Rig) -> None:
    rig.use_worker()
    phone = new_phone()
    log_start = len(rig.worker.log())
    with callbacks_off(rig.fake):
        rig.fake.fail_next(500)
        rig.fake.fail_next(429)
        rig.fake.timeout_next(seconds=5)  # takes the text, answers after the client gave up
        assert rig.stack.text(phone, "hi").status_code == 200
        rig.stack.wait_for_replies(phone, 1, timeout=10)
        wait_until(
            lambda: rig.recorded(phone),
            LEASE + 20,
            "the timed-out reply to be reconciled",
        )
        # Recovered: the next reply goes straight through.
        replies = converse(rig.stack, phone, ["no"])
        assert replies[1].startswith("Is it safe for you to text right now?")
        time.sleep(1.5)

    assert len(rig.stack.replies_to(phone)) == 2
    rig.assert_each_reply_reached_twilio_once(phone)
    log = rig.worker.log()[log_start:]
    assert "Twilio answered HTTP 500" in log
    assert "Twilio answered HTTP 429" in log
    assert "ambiguous" in log
    assert "was already with Twilio" in log


# -- 3. status callbacks duplicated and out of order -----------------------------------------------


def test_duplicated_out_of_order_callbacks_leave_the_right_final_status(rig: Rig) -> None:
    rig.use_worker()
    phone = new_phone()
    with callbacks_off(rig.fake):
        converse(rig.stack, phone, ["hi", "no"])
    first, second = rig.outbound(phone)
    at_twilio = {m.sid: m for m in rig.fake.messages if m.to == phone}

    def callback(reply: Message, status: str, **extra: str) -> int:
        sid = str(reply.twilio_sid)
        url = str(at_twilio[sid].status_callback)
        assert url.startswith(rig.stack.public_url + "/twilio/status?m=")
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": TEST_ACCOUNT_SID,
            "From": SHORT_CODE,
            "To": phone,
            "ApiVersion": "2010-04-01",
            **extra,
        }
        return rig.stack.post(url.removeprefix(rig.stack.public_url), form).status_code

    failed = {"ErrorCode": "30003"}
    # One after the other, final status first, each twice.
    for status in ("delivered", "sent", "queued", "sending", "delivered", "sent"):
        assert callback(first, status) == callback(first, status) == 200
    # All at once, from many connections: the row lock decides, never the arrival order.
    burst: list[tuple[Message, str, dict[str, str]]] = [
        *((second, s, {}) for s in ("queued", "sent", "sending", "sent", "queued")),
        *((second, "undelivered", failed) for _ in range(4)),
        *((first, s, {}) for s in ("sent", "delivered", "queued")),
    ]
    barrier = threading.Barrier(len(burst))
    codes: list[int] = []

    def deliver(reply: Message, status: str, extra: dict[str, str]) -> None:
        barrier.wait()
        codes.append(callback(reply, status, **extra))

    threads = [threading.Thread(target=deliver, args=item) for item in burst]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * len(burst)
    for status in ("sent", "sending", "queued"):  # stragglers after the final status
        assert callback(second, status) == 200

    first, second = rig.outbound(phone)
    assert first.status is DeliveryStatus.DELIVERED
    assert first.error_code is None
    assert second.status is DeliveryStatus.UNDELIVERED
    assert second.error_code == 30003
    with rig.stack.engine.connect() as connection:
        failures = connection.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.kind == "delivery_failed", Event.message_id == second.id)
        )
    assert failures == 1  # recorded once, however many times Twilio said it


# -- 5. Redis stopped mid-surge --------------------------------------------------------------------


def test_redis_stopped_mid_surge_loses_and_doubles_nothing(rig: Rig) -> None:
    rig.use_worker()
    phones = [new_phone() for _ in range(24)]
    answered: dict[str, tuple[int, float]] = {}
    web = rig.stack.processes[0]
    web_log_start = len(web.log())

    def surge() -> None:
        for phone in phones:
            started = time.monotonic()
            status = rig.stack.text(phone, "hello, is anyone there").status_code
            answered[phone] = (status, time.monotonic() - started)
            time.sleep(0.05)

    sender = threading.Thread(target=surge)
    sender.start()
    try:
        wait_until(lambda: len(answered) >= 6, 20, "the surge to begin")
        rig.stack.redis.stop()
        # A hand-off fails at once while Redis is away (then none is tried for the broker pause);
        # the text is stored anyway.
        # Counted from the stop: a fast webhook can answer several texts while Redis stops.
        down_from = len(answered)
        wait_until(lambda: len(answered) >= down_from + 2, 30, "texts while the broker is down")
    finally:
        if not rig.stack.redis.alive():
            rig.stack.redis.start()
        sender.join(60)
    wait_until(rig.broker_up, 10, "redis-server back")

    assert [answered[p][0] for p in phones] == [200] * len(phones)
    assert max(seconds for _, seconds in answered.values()) < 5
    # Some texts really came while the broker was away: stored, their hand-off refused.
    assert "stored but not handed over" in web.log()[web_log_start:]
    wait_until(lambda: all(rig.stack.replies_to(phone) for phone in phones), 60, "replies")
    time.sleep(2)
    for phone in phones:
        [inbound] = rig.inbound(phone)
        assert inbound.processed_at is not None
        assert len(rig.stack.replies_to(phone)) == 1
        rig.assert_each_reply_reached_twilio_once(phone)


# -- 4. two beat schedulers at once ----------------------------------------------------------------


def queued_tasks(rig: Rig) -> list[dict[str, Any]]:
    """The headers of the task messages waiting in the queue's Redis list."""
    return [json.loads(raw)["headers"] for raw in rig.broker.lrange(QUEUE, 0, -1)]


def test_two_beats_double_no_effect(rig: Rig) -> None:
    assert all(beat.alive() for beat in rig.beats)
    phones = [new_phone() for _ in range(3)]
    rig.worker.stop()
    try:
        for phone in phones:
            assert rig.stack.text(phone, "hello").status_code == 200
        # Strand them: drop the web's hand-offs, so only the sweeps can find these texts.
        rig.broker.delete(QUEUE)
        # Meanwhile both schedulers keep queueing sweeps and timer ticks for the worker.
        wait_until(
            lambda: (
                len({h["origin"] for h in queued_tasks(rig) if h["task"] == "hotline.sweep"}) >= 2
            ),
            10,
            "sweeps queued by both schedulers",
        )
        for phone in phones:
            [inbound] = rig.inbound(phone)
            assert inbound.processed_at is None
            assert rig.stack.replies_to(phone) == []
    finally:
        # 3 s of silence during the questions closes a conversation: a timer to watch fire.
        rig.start_worker(HOTLINE_TRIAGE_TIMEOUT_MINUTES="0.05")

    for phone in phones:
        rig.stack.wait_for_replies(phone, 1, timeout=20)
    for phone in phones:
        replies = rig.stack.wait_for_replies(phone, 2, timeout=30)
        assert replies[1].startswith("We haven't heard back, so we've closed this chat")
    time.sleep(2)  # both beats tick every second: a doubled timer would fire by now

    for phone in phones:
        assert len(rig.stack.replies_to(phone)) == 2
        rig.assert_each_reply_reached_twilio_once(phone)
        texter_id = rig.stack.messages_of(phone)[0].texter_id
        with rig.stack.engine.connect() as connection:
            [(status, closes)] = connection.execute(
                select(
                    Conversation.status,
                    select(func.count())
                    .select_from(Event)
                    .where(
                        Event.conversation_id == Conversation.id,
                        Event.kind == "conversation_closed",
                    )
                    .scalar_subquery(),
                ).where(Conversation.texter_id == texter_id)
            ).all()
        assert status is ConversationStatus.CLOSED
        assert closes == 1
    # Both schedulers really ran the whole time, each sending the sweep and the timer ticks.
    for beat in rig.beats:
        assert "hotline.sweep" in beat.log()
        assert "hotline.fire_timers" in beat.log()
