"""Hand-offs pushed straight to Redis are the messages Celery would have sent, and a Celery
consumer reads them as such."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import redis
from celery import Celery
from kombu import Connection

from hotline.infra.task_wire import TaskWire, wire_for
from hotline.infra.taskqueue import PROCESS_INBOUND, SEND_MESSAGE, CeleryTaskQueue

VARYING = {"id", "root_id", "origin", "eta"}  # per message or per process
VARYING_PROPERTIES = {"correlation_id", "delivery_tag"}


def _queued(redis_url: str, queue: str) -> list[dict]:  # type: ignore[type-arg]
    client = redis.Redis.from_url(redis_url)
    try:
        return [json.loads(raw) for raw in reversed(client.lrange(queue, 0, -1))]  # oldest first
    finally:
        client.close()


def _wire(celery: Celery) -> TaskWire:
    wire = wire_for(celery, connect_timeout=0.25, pool_size=4)
    assert wire is not None
    return wire


@pytest.mark.redis
@pytest.mark.parametrize("delay", [0.0, 7.5])
def test_the_envelope_is_the_one_celery_writes(
    celery: Celery, redis_url: str, delay: float
) -> None:
    queue = celery.conf.task_default_queue
    options = {"countdown": delay} if delay else {}
    with celery.connection_for_write() as connection:
        celery.send_task(SEND_MESSAGE, args=[4242], connection=connection, **options)
    wire = _wire(celery)
    wire.push(SEND_MESSAGE, 4242, delay)
    wire.close()
    theirs, ours = _queued(redis_url, queue)

    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k not in ("headers", "properties")} == {
        k: v for k, v in theirs.items() if k not in ("headers", "properties")
    }
    assert ours["headers"].keys() == theirs["headers"].keys()
    for key, value in theirs["headers"].items():
        if key not in VARYING:
            assert ours["headers"][key] == value, key
    assert ours["properties"].keys() == theirs["properties"].keys()
    for key, value in theirs["properties"].items():
        if key not in VARYING_PROPERTIES:
            assert ours["properties"][key] == value, key
    assert ours["headers"]["root_id"] == ours["headers"]["id"]
    assert ours["properties"]["correlation_id"] == ours["headers"]["id"]
    assert ours["headers"]["id"] != theirs["headers"]["id"]
    if delay:
        due = datetime.fromisoformat(ours["headers"]["eta"])
        assert 6.0 < (due - datetime.now(UTC)).total_seconds() <= 7.5
    else:
        assert ours["headers"]["eta"] is None is theirs["headers"]["eta"]
    assert json.loads(base64.b64decode(ours["body"])) == [
        [4242],
        {},
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
    ]


@pytest.mark.redis
def test_a_kombu_consumer_reads_what_the_queue_pushed(celery: Celery) -> None:
    tasks = CeleryTaskQueue(celery)
    tasks.process_inbound(31)
    tasks.send_message(32)
    with Connection(celery.conf.broker_url) as connection:
        queue = connection.SimpleQueue(celery.conf.task_default_queue)
        got = []
        for _ in range(2):
            message = queue.get(timeout=2)
            got.append((message.headers["task"], message.decode()[0]))
            message.ack()
        queue.close()
    assert got == [(PROCESS_INBOUND, [31]), (SEND_MESSAGE, [32])]
    assert tasks.waiting() == 0


def test_a_broker_that_is_not_redis_is_left_to_celery() -> None:
    app = Celery("memory-broker")
    app.conf.update(broker_url="memory://")
    assert wire_for(app, connect_timeout=0.25, pool_size=4) is None
    tasks = CeleryTaskQueue(app)
    tasks.process_inbound(5)  # published by Celery to its in-memory broker: no error
    app.close()
