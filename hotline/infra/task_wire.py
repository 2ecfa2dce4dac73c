"""Putting a Celery task message in Redis straight from the web, on a kept client.

What ``celery.send_task`` does for a hand-off to the Redis broker comes down to one ``LPUSH``
of a JSON envelope onto the queue's list; the worker reads it as any task it was sent. Going
through Celery and kombu cost the webhook about 0.4 ms of CPU a text, most of it spent
building a producer, a channel's bindings and a new redis-py client for every publish (kombu's
Redis transport makes one per ``_put``): eight times the ``LPUSH`` itself. Here a hand-off
builds the envelope (two fresh ids, the arguments) and pushes it through one redis-py client
and its blocking pool of connections, kept for the process: about 0.15 ms.

The envelope is Celery's task message protocol 2 in kombu's Redis framing, as Celery 5.7 and
kombu 5.7 write it: ``tests/test_task_wire.py`` compares the two field by field and reads
ours back with a kombu consumer, and the production-stack tests run real workers on it.
Only what the hotline sends goes this way: a task by name, one id, at most a countdown.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Celery's embedded options for a task with no callbacks, chain or chord.
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_EMBED_JSON = json.dumps(_EMBED)
_SLOTS = ("body", "id", "eta", "argsrepr", "delivery_tag")


class TaskWire:
    """Pushes task messages to one queue of one Redis broker.

    One connection attempt per hand-off, never retried, bounded by ``connect_timeout``; a
    pool of at most ``pool_size`` connections, a hand-off waiting at most ``pool_timeout``
    for one. Every failure is a :class:`redis.RedisError` or :class:`OSError` for the caller
    to turn into a hand-off error. Thread-safe: the web's threads share one.
    """

    def __init__(
        self,
        broker_url: str,
        queue: str,
        *,
        reply_to: str,
        connect_timeout: float,
        socket_timeout: float,
        pool_size: int,
        pool_timeout: float,
    ) -> None:
        self.queue = queue
        no_retry = Retry(NoBackoff(), 0)
        pool = redis.BlockingConnectionPool.from_url(
            broker_url,
            max_connections=pool_size,
            timeout=pool_timeout,
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            retry=no_retry,
        )
        self._client = redis.Redis(connection_pool=pool, retry=no_retry)
        self._origin = f"gen{os.getpid()}@{socket.gethostname()}"  # as Celery names a sender
        self._reply_to = reply_to
        self._templates: dict[str, str] = {}  # by task name: see _template

    def push(self, task: str, message_id: int, delay: float = 0.0) -> None:
        """Hand ``task(message_id)`` to the workers, to run after ``delay`` seconds."""
        self._client.lpush(self.queue, self.envelope(task, message_id, delay))

    def envelope(self, task: str, message_id: int, delay: float = 0.0) -> bytes:
        """The bytes Celery would put in the queue's list for ``task(message_id)``."""
        # Both ids from one read of the system's randomness: uuid4 reads it once per id.
        random = os.urandom(32)
        task_id = str(uuid.UUID(bytes=random[:16], version=4))
        delivery_tag = str(uuid.UUID(bytes=random[16:], version=4))
        eta = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat() if delay > 0 else None
        body = f"[[{int(message_id)}], {{}}, {_EMBED_JSON}]".encode()  # json.dumps's own text
        template = self._templates.get(task) or self._template(task)
        return template.format(
            body=json.dumps(base64.b64encode(body).decode()),
            id=json.dumps(task_id),
            eta=json.dumps(eta),
            argsrepr=json.dumps(f"[{int(message_id)}]"),
            delivery_tag=json.dumps(delivery_tag),
        ).encode()

    def _template(self, task: str) -> str:
        """The envelope of ``task`` as JSON text with a slot for each value that changes from
        one message to the next: built with ``json.dumps`` once, filled in for every hand-off
        (dumping the whole envelope was a fifth of a hand-off's CPU)."""
        slot = {name: f"\x00{name}\x00" for name in _SLOTS}
        text = json.dumps(
            {
                "body": slot["body"],
                "content-encoding": "utf-8",
                "content-type": "application/json",
                "headers": {
                    "lang": "py",
                    "task": task,
                    "id": slot["id"],
                    "shadow": None,
                    "eta": slot["eta"],
                    "expires": None,
                    "group": None,
                    "group_index": None,
                    "retries": 0,
                    "timelimit": [None, None],
                    "root_id": slot["id"],
                    "parent_id": None,
                    "argsrepr": slot["argsrepr"],
                    "kwargsrepr": "{}",
                    "origin": self._origin,
                    "ignore_result": None,
                    "replaced_task_nesting": 0,
                    "stamped_headers": None,
                    "stamps": {},
                },
                "properties": {
                    "correlation_id": slot["id"],
                    "reply_to": self._reply_to,
                    "delivery_mode": 2,
                    "delivery_info": {"exchange": "", "routing_key": self.queue},
                    "priority": 0,
                    "body_encoding": "base64",
                    "delivery_tag": slot["delivery_tag"],
                },
            }
        )
        template = text.replace("{", "{{").replace("}", "}}")
        for name in _SLOTS:  # each slot, quotes and all, becomes a field for str.format
            template = template.replace(json.dumps(slot[name]), "{" + name + "}")
        self._templates[task] = template
        return template

    def close(self) -> None:
        self._client.close()
        self._client.connection_pool.disconnect()


def wire_for(celery: Any, connect_timeout: float, pool_size: int) -> TaskWire | None:
    """A :class:`TaskWire` for ``celery``'s broker and default queue, or None when its broker
    is not Redis (then Celery publishes, as it would anyway)."""
    url = str(celery.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    options = celery.conf.broker_transport_options or {}
    return TaskWire(
        url,
        celery.conf.task_default_queue,
        reply_to=str(celery.thread_oid),
        connect_timeout=connect_timeout,
        socket_timeout=float(options.get("socket_timeout") or 5.0),
        pool_size=pool_size,
        pool_timeout=1.0,
    )
