"""Handing work to the workers: Celery over Redis in production, a thread in the demo.

Tasks carry ids only, never a number or a text. Every task is idempotent, so a hand-off that
happens twice (a redelivery, the sweep) is harmless, and one that fails is only late: the
sweep finds the stored work and hands it over again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hotline.infra import metrics

log = logging.getLogger(__name__)

PROCESS_INBOUND = "hotline.process_inbound"
SEND_MESSAGE = "hotline.send_message"
SWEEP = "hotline.sweep"
FIRE_TIMERS = "hotline.fire_timers"
PURGE = "hotline.purge"
DRAW_REVIEWS = "hotline.draw_reviews"
RELEASE_ABSENT = "hotline.release_absent"


class HandOffError(RuntimeError):
    """The broker did not take the task. The work stays stored; the sweep will hand it over."""


class TaskQueue(Protocol):
    def process_inbound(self, message_id: int) -> None: ...

    def send_message(self, message_id: int, delay: float = 0.0) -> None: ...

    def waiting(self) -> int:
        """How many handed-over tasks no worker has taken yet. Raises HandOffError when the
        broker cannot be asked."""
        ...


class BrokerPaused(HandOffError):
    """A hand-off skipped, not tried: the broker failed moments ago (see :class:`BrokerPause`)."""


class BrokerPause:
    """After one failed hand-off, skip hand-offs for ``seconds`` and leave the work to the sweep.

    Without it every text of a surge during a broker outage would wait on its own failing
    connection attempt, tying up a web thread each. The work is stored either way; the sweep
    hands it over once the broker answers. Shared by the threads of one process: a race between
    two of them costs at most one extra attempt, so no lock.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._until: float | None = None

    @property
    def paused(self) -> bool:
        until = self._until
        return until is not None and self._clock() < until

    def failed(self) -> None:
        self._until = self._clock() + self.seconds

    def recovered(self) -> None:
        self._until = None


# How long one hand-off may spend reaching a broker that does not answer at all. A broker that
# is up answers in milliseconds; one that refuses the connection fails at once.
PUBLISH_CONNECT_TIMEOUT = 0.25
PUBLISH_POOL_SIZE = 16


class CeleryTaskQueue:
    """Publishes by task name, so the web process never imports the worker's code.

    A hand-off makes one connection attempt, never retried (``max_retries`` 0: kombu would
    otherwise retry for the whole connection timeout) and, once it fails, none at all while
    ``pause`` lasts: each raises :class:`HandOffError` at once and the sweep takes over.
    """

    def __init__(self, celery: Any, pause: BrokerPause | None = None) -> None:
        self._celery = celery
        self.pause = pause or BrokerPause(30.0)
        self._connections: Any = None
        self._wire: Any = None

    def process_inbound(self, message_id: int) -> None:
        self._publish(PROCESS_INBOUND, message_id, 0.0)

    def send_message(self, message_id: int, delay: float = 0.0) -> None:
        self._publish(SEND_MESSAGE, message_id, delay)

    def waiting(self) -> int:
        """Asks the broker whatever the pause says: the sweep's question is how it stands now,
        and an answer ends the pause."""
        from kombu.exceptions import KombuError, OperationalError
        from redis.exceptions import RedisError

        queue = self._celery.conf.task_default_queue
        try:
            with self._celery.connection_for_write() as connection:
                # Not passive: on Redis a passive declare of an empty queue raises.
                declared = connection.default_channel.queue_declare(queue)
        except (OperationalError, KombuError, RedisError, OSError) as exc:
            raise HandOffError(f"broker not answering ({type(exc).__name__})") from exc
        self.pause.recovered()
        return int(declared.message_count)

    def _pool(self) -> Any:
        if self._connections is None:
            connection = self._celery.connection_for_write(
                transport_options={
                    "max_retries": 0,
                    "socket_connect_timeout": PUBLISH_CONNECT_TIMEOUT,
                }
            )
            self._connections = connection.Pool(limit=PUBLISH_POOL_SIZE)
        return self._connections

    def _publish(self, name: str, message_id: int, delay: float) -> None:
        from kombu.exceptions import KombuError, OperationalError
        from redis.exceptions import RedisError

        if self.pause.paused:
            metrics.HAND_OFFS_FAILED.labels(reason="paused").inc()
            raise BrokerPaused(f"broker paused after a failure; {name} left to the sweep")
        try:
            wire = self._task_wire()
            if wire is not None:
                wire.push(name, message_id, delay)
            else:
                options: dict[str, Any] = {"retry": False}
                if delay > 0:
                    options["countdown"] = delay
                with self._pool().acquire(block=True, timeout=1.0) as connection:
                    self._celery.send_task(
                        name, args=[message_id], connection=connection, **options
                    )
        except (OperationalError, KombuError, RedisError, OSError) as exc:
            self.pause.failed()
            metrics.HAND_OFFS_FAILED.labels(reason="error").inc()
            raise HandOffError(f"broker refused {name} ({_kind(exc)})") from exc

    def _task_wire(self) -> Any:
        """The kept Redis client hand-offs go through (see :mod:`hotline.infra.task_wire`);
        None for a broker that is not Redis, which Celery then publishes to."""
        if self._wire is None:
            from hotline.infra.task_wire import wire_for

            self._wire = wire_for(self._celery, PUBLISH_CONNECT_TIMEOUT, PUBLISH_POOL_SIZE) or False
        return self._wire or None


def _kind(exc: BaseException) -> str:
    """What failed, in kombu's words: a broker that cannot be reached is an
    ``OperationalError`` whichever client found out (operators' alerts read this name)."""
    from redis.exceptions import ConnectionError, TimeoutError

    if isinstance(exc, ConnectionError | TimeoutError | OSError):
        return "OperationalError"
    return type(exc).__name__


Job = Callable[[int], float | None]  # returns a delay to run again after, or None when done


class InProcessQueue:
    """Runs tasks on one background thread of this process: the embedded default.

    One thread means texts are handled one at a time, in the order they were handed over.
    ``start=False`` keeps the thread off; tests then call :meth:`run_due` to run what is due.
    """

    def __init__(self, *, start: bool = True) -> None:
        self._jobs: dict[str, Job] = {}
        self._periodic: list[tuple[str, float]] = []
        self._heap: list[tuple[float, int, str, int]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._autostart = start

    def bind(self, jobs: Mapping[str, Job], periodic: Mapping[str, float] | None = None) -> None:
        """Give the queue its job functions and the periodic ones (name to interval)."""
        self._jobs = dict(jobs)
        self._periodic = list((periodic or {}).items())
        now = time.monotonic()
        with self._wake:
            for name, interval in self._periodic:
                heapq.heappush(self._heap, (now + interval, next(self._counter), name, -1))
        if self._autostart:
            self.start()

    def process_inbound(self, message_id: int) -> None:
        self._push(PROCESS_INBOUND, message_id, 0.0)

    def send_message(self, message_id: int, delay: float = 0.0) -> None:
        self._push(SEND_MESSAGE, message_id, delay)

    def _push(self, name: str, arg: int, delay: float) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._counter), name, arg))
            self._wake.notify()

    def waiting(self) -> int:
        now = time.monotonic()
        with self._wake:
            return sum(1 for due, _, _, arg in self._heap if arg >= 0 and due <= now)

    def pending(self) -> list[tuple[str, int]]:
        with self._wake:
            return [(name, arg) for _, _, name, arg in sorted(self._heap) if arg >= 0]

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="hotline-tasks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_due(self, *, include_delayed: bool = False, periodic: bool = False) -> int:
        """Run, on this thread, every task that is due (or all, with ``include_delayed``).

        Periodic jobs run only when ``periodic`` is true. Returns how many tasks ran.
        """
        ran = 0
        while True:
            with self._wake:
                item = self._pop_due(include_delayed, periodic)
            if item is None:
                return ran
            self._run(item)
            ran += 1

    def _pop_due(self, include_delayed: bool, periodic: bool) -> tuple[str, int] | None:
        now = time.monotonic()
        eligible = [
            item
            for item in self._heap
            if (periodic or item[3] >= 0) and (include_delayed or item[0] <= now)
        ]
        if not eligible:
            return None
        first = min(eligible)
        self._heap.remove(first)
        heapq.heapify(self._heap)
        return first[2], first[3]

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                _, _, name, arg = heapq.heappop(self._heap)
            self._run((name, arg))

    def _run(self, item: tuple[str, int]) -> None:
        name, arg = item
        job = self._jobs[name]
        if arg < 0:
            interval = dict(self._periodic)[name]
            try:
                job(arg)
            finally:
                with self._wake:
                    heapq.heappush(
                        self._heap, (time.monotonic() + interval, next(self._counter), name, -1)
                    )
            return
        try:
            delay = job(arg)
        except Exception:
            # The task's work stays stored and the sweep hands it over again; the thread must
            # live on for every other texter.
            log.exception("in-process task %s failed for id %s; the sweep will retry it", name, arg)
            return
        if delay is not None:
            self._push(name, arg, delay)
