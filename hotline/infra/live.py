"""Live updates for the staff console: version counters that pages poll.

Every change a console shows (a text in, a delivery status, the queue) bumps a counter per
topic: ``queue``, ``conversation:<id>``. A page asks, about once a second, for the counters it
knows; an unchanged answer costs one Redis MGET and ties up no web worker between polls, so 50
advocates are 50 short requests a second, not 50 held connections. With Redis configured the
counters live there, shared by every web and worker process; on the embedded default they live
in this process, which is the only one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE = "queue"


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


class LiveFeed(Protocol):
    def bump(self, topics: Iterable[str]) -> None:
        """Mark these topics changed. Never raises: a missed bump only delays a page."""
        ...

    def versions(self, topics: list[str]) -> dict[str, int]: ...


class MemoryLiveFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}

    def bump(self, topics: Iterable[str]) -> None:
        with self._lock:
            for topic in topics:
                self._versions[topic] = self._versions.get(topic, 0) + 1

    def versions(self, topics: list[str]) -> dict[str, int]:
        with self._lock:
            return {topic: self._versions.get(topic, 0) for topic in topics}


class RedisLiveFeed:
    PREFIX = "hotline:live:"

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    def bump(self, topics: Iterable[str]) -> None:
        from redis.exceptions import RedisError

        keys = [self.PREFIX + topic for topic in topics]
        if not keys:
            return
        try:
            pipeline = self._redis.pipeline(transaction=False)
            for key in keys:
                pipeline.incr(key)
                pipeline.expire(key, 86400)
            pipeline.execute()
        except (RedisError, OSError) as exc:
            log.warning("live update not published (%s)", type(exc).__name__)

    def versions(self, topics: list[str]) -> dict[str, int]:
        values = self._redis.mget([self.PREFIX + topic for topic in topics]) if topics else []
        return {topic: int(value or 0) for topic, value in zip(topics, values, strict=True)}
