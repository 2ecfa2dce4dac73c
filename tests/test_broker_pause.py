"""A broker that fails costs one fast attempt, then nothing for the pause: the sweep takes over."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
from celery import Celery

from hotline.infra import metrics
from hotline.infra.taskqueue import BrokerPause, BrokerPaused, CeleryTaskQueue, HandOffError
from tests.support.stack import free_port


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def dead_celery() -> Celery:
    """A Celery app whose broker is a port nothing listens on, with the settings production
    uses (hotline.background.celery_app): kombu would retry these for 2 s per hand-off."""
    app = Celery("dead-broker")
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        task_publish_retry=False,
        broker_connection_timeout=2,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
    )
    return app


def failed(reason: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value("hotline_hand_offs_failed_total", {"reason": reason})
        or 0.0
    )


def test_the_pause_starts_at_a_failure_and_lasts_its_seconds() -> None:
    ticks = Ticks()
    pause = BrokerPause(30.0, clock=ticks)
    assert not pause.paused

    pause.failed()
    assert pause.paused
    ticks.now += 29.9
    assert pause.paused
    ticks.now += 0.2
    assert not pause.paused


def test_an_answer_from_the_broker_ends_the_pause_at_once() -> None:
    pause = BrokerPause(30.0, clock=Ticks())
    pause.failed()
    pause.recovered()
    assert not pause.paused


def test_one_failed_hand_off_is_fast_and_the_next_ones_are_not_tried() -> None:
    celery = dead_celery()
    ticks = Ticks()
    tasks = CeleryTaskQueue(celery, BrokerPause(30.0, clock=ticks))
    errors, paused = failed("error"), failed("paused")

    started = time.perf_counter()
    with pytest.raises(HandOffError, match=r"broker refused hotline\.process_inbound") as first:
        tasks.process_inbound(1)
    first_took = time.perf_counter() - started
    assert not isinstance(first.value, BrokerPaused)

    started = time.perf_counter()
    for message_id in range(2, 22):
        with pytest.raises(BrokerPaused, match="left to the sweep"):
            tasks.process_inbound(message_id)
    with pytest.raises(BrokerPaused):
        tasks.send_message(99, delay=5.0)
    paused_took = time.perf_counter() - started

    # One connection attempt, refused at once: not kombu's 2 s of retries.
    assert first_took < 0.5, first_took
    assert paused_took < 0.05, paused_took  # 21 hand-offs, none of them tried
    assert failed("error") == errors + 1
    assert failed("paused") == paused + 21

    # After the pause the broker is tried again (and, still down, fails and pauses again).
    ticks.now += 30.1
    with pytest.raises(HandOffError) as again:
        tasks.process_inbound(23)
    assert not isinstance(again.value, BrokerPaused)
    assert tasks.pause.paused
    celery.close()


def test_the_error_names_neither_a_number_nor_a_text() -> None:
    tasks = CeleryTaskQueue(dead_celery(), BrokerPause(30.0))
    with pytest.raises(HandOffError) as caught:
        tasks.process_inbound(12345)
    assert str(caught.value) == "broker refused hotline.process_inbound (OperationalError)"


@pytest.mark.redis
def test_hand_offs_reach_a_broker_that_answers(celery: Celery) -> None:
    tasks = CeleryTaskQueue(celery, BrokerPause(30.0))
    for message_id in range(1, 31):  # more than the pool holds: connections go back to it
        tasks.process_inbound(message_id)
    tasks.send_message(31, delay=0.0)
    assert tasks.waiting() == 31
    assert not tasks.pause.paused


@pytest.mark.redis
def test_the_sweep_asking_the_broker_ends_the_pause(celery: Celery) -> None:
    ticks = Ticks()
    tasks = CeleryTaskQueue(celery, BrokerPause(30.0, clock=ticks))
    tasks.pause.failed()  # as if Redis had been away a moment ago
    with pytest.raises(BrokerPaused):
        tasks.process_inbound(1)

    assert tasks.waiting() == 0  # the sweep's question: the broker answers

    tasks.process_inbound(1)
    assert tasks.waiting() == 1


@pytest.fixture
def unanswering_port() -> Iterator[int]:
    """A port whose listener never accepts and whose backlog is full: a connection attempt
    hangs until its timeout, as with a broker host that has gone silent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    waiting = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # the handshake is left to the kernel
            client.connect(("127.0.0.1", port))
        waiting.append(client)
    time.sleep(0.1)
    yield port
    for client in waiting:
        client.close()
    listener.close()


def test_a_broker_host_that_does_not_answer_costs_one_text_under_a_second(
    unanswering_port: int,
) -> None:
    celery = Celery("silent-broker")
    celery.conf.update(
        broker_url=f"redis://127.0.0.1:{unanswering_port}/0",
        task_publish_retry=False,
        broker_connection_timeout=2,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
    )
    tasks = CeleryTaskQueue(celery, BrokerPause(30.0))

    started = time.perf_counter()
    with pytest.raises(HandOffError):
        tasks.process_inbound(1)
    took = time.perf_counter() - started
    started = time.perf_counter()
    with pytest.raises(BrokerPaused):
        tasks.process_inbound(2)
    then = time.perf_counter() - started

    print(f"\nsilent broker host: first hand-off {took * 1000:.0f} ms, next {then * 1000:.2f} ms")
    assert took < 1.0, took  # production's settings alone: 2 s and more
    assert then < 0.01, then
    celery.close()
