"""The celery worker's main process builds what every pool process needs before it forks."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.event import listen, remove

from hotline import runtime_of
from hotline.background.celery_app import own_connections, warm_up_before_the_pool
from hotline.domain import cities, matching
from tests.conftest import new_phone
from tests.support.production_stack import start_stack


def test_the_warm_up_builds_the_triage_and_opens_no_connection(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    runtime = runtime_of(make_app(database_url))
    connected: list[object] = []

    def connect(*args: object) -> None:
        connected.append(args)

    listen(runtime.engine, "connect", connect)
    try:
        assert "tuner" not in vars(runtime)
        warm_up_before_the_pool(runtime)
        assert "tuner" in vars(runtime) and "dispatcher" in vars(runtime)
        # Loaded once per process: a pool process inherits them.
        assert matching._known_words.cache_info().currsize == 1
        assert cities._gazetteer.cache_info().currsize == 1
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        remove(runtime.engine, "connect", connect)
    assert connected == []  # nothing a forked child would share
    assert "redis" not in vars(runtime)


def test_a_pool_process_opens_its_own_database_connections(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    runtime = runtime_of(make_app(database_url))
    with runtime.sessions() as session:
        session.connection()  # as if the main process had connected
    inherited = runtime.engine.pool

    try:
        own_connections(runtime)
        assert runtime.engine.pool is not inherited and runtime.engine.pool.checkedin() == 0
        assert inherited.checkedin() == 1  # left open, for the main process that made it
    finally:
        inherited.dispose()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
def test_a_real_worker_warms_up_in_its_main_process_and_answers_texts(
    postgres_url: str, tmp_path: Path
) -> None:
    with start_stack(postgres_url, tmp_path) as stack:
        phone = new_phone()
        assert stack.text(phone, "hello, I need help").status_code == 200
        [reply] = stack.wait_for_replies(phone, 1)
        assert "Are you in danger right now?" in reply
        worker = stack.processes[1]
        assert worker.popen is not None
        warmed = re.findall(r"pool processes start warm: .* \(pid (\d+)\)", worker.log())
        assert warmed == [str(worker.popen.pid)]  # once, in the main process, before the fork
