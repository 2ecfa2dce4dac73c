"""Live counters: in-process, and in Redis shared by every process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis

from hotline.infra.live import MemoryLiveFeed, RedisLiveFeed, conversation_topic
from tests.conftest import REDIS_URL


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    yield client
    client.close()


def test_memory_feed_counts_bumps_per_topic() -> None:
    feed = MemoryLiveFeed()
    feed.bump(["queue", conversation_topic(1)])
    feed.bump(["queue"])
    assert feed.versions(["queue", conversation_topic(1), conversation_topic(2)]) == {
        "queue": 2,
        "conversation:1": 1,
        "conversation:2": 0,
    }


@pytest.mark.redis
def test_redis_feed_is_shared_between_processes(redis_client: redis.Redis) -> None:
    topic = f"test:{secrets.token_hex(6)}"
    writer, reader = RedisLiveFeed(redis_client), RedisLiveFeed(redis.Redis.from_url(REDIS_URL))
    try:
        assert reader.versions([topic]) == {topic: 0}
        writer.bump([topic])
        writer.bump([topic])
        assert reader.versions([topic]) == {topic: 2}
        assert 0 < redis_client.ttl(RedisLiveFeed.PREFIX + topic) <= 86400
    finally:
        redis_client.delete(RedisLiveFeed.PREFIX + topic)
        reader._redis.close()


def test_redis_feed_survives_redis_being_down() -> None:
    feed = RedisLiveFeed(redis.Redis(port=1, socket_connect_timeout=0.2))
    feed.bump(["queue"])  # logs and carries on: a missed bump only delays a page
