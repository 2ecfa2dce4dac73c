"""Celery wired into the Flask app, as Flask's own Celery example does it."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from hotline.settings import Settings
from hotline.taskqueue import FIRE_TIMERS, PURGE, SWEEP


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
                "purge": {"task": PURGE, "schedule": 3600.0},
            },
        }
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
