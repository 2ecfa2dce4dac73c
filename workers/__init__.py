"""The Celery app: ``celery -A workers worker`` and ``celery -A workers beat``.

As in Flask's own Celery example, the worker builds the Flask app and every task runs inside
its app context. This module is imported only by the ``celery`` command.
"""

from __future__ import annotations

from typing import Any

from celery import signals

from hotline import create_app, runtime_of
from hotline.background.celery_app import own_connections, warm_up_before_the_pool

flask_app = create_app()
if "celery" not in flask_app.extensions:
    raise RuntimeError("HOTLINE_REDIS_URL is not set: a Celery worker needs Redis as its broker")
celery = flask_app.extensions["celery"]


def _warm_up(**_: Any) -> None:
    """In the worker's main process, before the pool forks (not in beat)."""
    warm_up_before_the_pool(runtime_of(flask_app))


def _own_connections(**_: Any) -> None:
    own_connections(runtime_of(flask_app))


# Celery's signals, connected only here: the celery command imports this module, nothing else.
signals.worker_init.connect(_warm_up)
signals.worker_process_init.connect(_own_connections)
