"""Celery wired into the Flask app, as Flask's own Celery example does it."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from celery import Celery, Task
from flask import Flask
from sqlalchemy.orm import configure_mappers

from hotline.domain import cities, matching
from hotline.infra.taskqueue import DRAW_REVIEWS, FIRE_TIMERS, PURGE, RELEASE_ABSENT, SWEEP
from hotline.runtime import Runtime
from hotline.settings import Settings

log = logging.getLogger(__name__)


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """Build the Celery app for ``app``; every task runs inside ``app``'s context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(
        {
            "broker_url": settings.redis_url,
            "include": ["workers.tasks"],
            "task_ignore_result": True,
            "task_default_queue": "hotline",
            # Work is acknowledged after it is done; a worker that dies mid-task gives it back.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_serializer": "json",
            "accept_content": ["json"],
            # The web answers Twilio in milliseconds: a broker that is down must fail fast, not
            # be retried inside the request. The sweep makes up for it.
            "task_publish_retry": False,
            "broker_connection_timeout": 2,
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {
                "visibility_timeout": 600,
                "socket_connect_timeout": 2,
                "socket_timeout": 5,
            },
            "worker_hijack_root_logger": False,
            "beat_schedule": {
                "sweep": {"task": SWEEP, "schedule": float(settings.sweep_interval_seconds)},
                "timers": {"task": FIRE_TIMERS, "schedule": settings.timer_tick_seconds},
                # Advocates whose console went quiet: their texters back to the queue.
                "presence": {"task": RELEASE_ABSENT, "schedule": settings.timer_tick_seconds},
                "purge": {"task": PURGE, "schedule": 3600.0},
                # Idempotent: the first run after a week ends draws it, the rest add nothing.
                "reviews": {"task": DRAW_REVIEWS, "schedule": 3600.0},
            },
        }
    )
    celery.set_default()
    app.extensions["celery"] = celery
    _survive_broker_loss_with_tasks_in_hand()
    return celery


def warm_up_before_the_pool(runtime: Runtime) -> None:
    """Build, in the worker's main process before it forks its pool, what every pool process
    would otherwise build on its first tasks: the triage (its lexicons are most of a first
    task's half second), the dispatcher (twilio's client imports its API's modules), the word
    lists and the gazetteer (a second and a half), the ORM's mappers. Then move what was built
    out of the garbage collector's sight (``gc.freeze``, CPython's advice for forking servers):
    the children neither scan those objects again nor copy the pages they sit on by touching
    them.

    Opens no connection: a database or Redis connection made here would be shared by every
    child (see :func:`own_connections`). What needs the database (the settings overrides, the
    dialect's first connect) stays with each child's first task.
    """
    runtime.tuner  # noqa: B018  (builds it: the triage as the environment sets it)
    runtime.dispatcher  # noqa: B018
    matching.load_word_lists()  # a second per process, on its first near miss
    cities.load()  # half a second, on its first place named
    configure_mappers()
    gc.collect()
    gc.freeze()
    log.info("pool processes start warm: triage built in the main process (pid %d)", os.getpid())


def own_connections(runtime: Runtime) -> None:
    """In a pool process just forked: forget any pooled database connection the main process
    made, without closing it (it is the main process's), so this one opens its own."""
    runtime.engine.dispose(close=False)


# The one kombu release whose private ``Channel._connparams`` the patch below was written for
# and tested against. No setting of kombu or Celery does the same (broker timeouts do not
# stop the lost connection's details being read), so a new kombu means: re-run
# tests/faults/test_worker_faults.py without the patch, and drop it or move this version.
PATCHED_KOMBU = "5.7.0"


def _survive_broker_loss_with_tasks_in_hand() -> None:
    """Keep the worker alive when Redis goes away while it holds unacknowledged tasks.

    kombu 5.7's Redis transport reaches for a lost connection's details when it gives those
    tasks back on closing the connection, or acknowledges one that finished after the loss:
    ``AttributeError`` on ``conninfo.hostname`` or ``connection.client``, which Celery treats
    as unrecoverable, and the worker exits (seen in ``tests/faults/test_worker_faults.py``).
    Here the lost connection raises a connection error instead, which kombu and Celery already
    handle: they log it and reconnect. Nothing is lost: with ``acks_late`` Redis still holds
    an unacknowledged task and hands it out again after the visibility timeout, a restarted
    Redis has the sweep find the stored work, and every task is idempotent.
    """
    import kombu
    import redis.exceptions
    from kombu.transport import redis as transport

    if kombu.__version__ != PATCHED_KOMBU:
        # A private method of another kombu may do something else: patch nothing. The
        # constraints file pins kombu, and tests/test_kombu_patch.py fails on any other.
        log.warning(
            "kombu %s is not the %s this patch was written for: a worker may exit when Redis "
            "drops while it holds tasks (its supervisor restarts it; nothing is lost)",
            kombu.__version__,
            PATCHED_KOMBU,
        )
        return
    original = transport.Channel._connparams
    if getattr(original, "hotline_guarded", False):
        return

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker connection is closed")
        return original(self, asynchronous=asynchronous)  # type: ignore[no-untyped-call]

    _connparams.hotline_guarded = True  # type: ignore[attr-defined]
    _connparams.__wrapped__ = original  # type: ignore[attr-defined]
    transport.Channel._connparams = _connparams  # type: ignore[method-assign]
