"""How many tasks wait for a worker, as the sweep asks before handing anything over again."""

from __future__ import annotations

import pytest
from celery import Celery

from hotline.infra.taskqueue import CeleryTaskQueue, HandOffError, InProcessQueue
from tests.support.stack import free_port


@pytest.mark.redis
def test_celery_counts_the_tasks_no_worker_has_taken(celery: Celery) -> None:
    tasks = CeleryTaskQueue(celery)
    assert tasks.waiting() == 0  # an empty queue is no error, though Redis has no such list

    for message_id in (1, 2, 3):
        tasks.process_inbound(message_id)
    tasks.send_message(4)

    assert tasks.waiting() == 4


def test_a_broker_that_does_not_answer_is_a_hand_off_error() -> None:
    app = Celery("no-broker")
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        broker_connection_timeout=1,
        broker_transport_options={"socket_connect_timeout": 1},
    )
    with pytest.raises(HandOffError, match="broker not answering"):
        CeleryTaskQueue(app).waiting()
    app.close()


def test_in_process_counts_only_what_is_due() -> None:
    tasks = InProcessQueue(start=False)
    tasks.process_inbound(1)
    tasks.send_message(2, delay=60.0)  # a retry later: not waiting for a worker yet
    assert tasks.waiting() == 1
