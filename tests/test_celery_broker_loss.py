"""The worker outlives a broker that drops while it holds a task (kombu's Redis transport)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
import redis

from hotline.background.celery_app import _survive_broker_loss_with_tasks_in_hand
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
def lost_channel(redis_url: str) -> Iterator[Any]:
    """A channel whose connection was closed under it, as a broker loss leaves it."""
    connection = kombu.Connection(redis_url)
    channel = connection.channel()
    connection.release()
    yield channel


def test_a_lost_connection_is_a_connection_error_not_an_attribute_error(
    lost_channel: Any,
) -> None:
    _survive_broker_loss_with_tasks_in_hand()

    with pytest.raises(redis.exceptions.ConnectionError):
        lost_channel._connparams()


def test_acknowledging_a_task_after_the_loss_is_logged_not_fatal(
    lost_channel: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _survive_broker_loss_with_tasks_in_hand()
    message = kombu.Message(body=b"{}", delivery_tag="tag-1", channel=lost_channel)
    errors = kombu.Connection(REDIS_URL).connection_errors

    with caplog.at_level(logging.CRITICAL):
        message.ack_log_error(logging.getLogger("test"), errors)  # Celery's own ack path

    assert "Couldn't ack" in caplog.text
