"""Celery tasks: thin wrappers that take ids and call the jobs in :mod:`hotline.background.jobs`."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from hotline.background import jobs
from hotline.infra.taskqueue import (
    DRAW_REVIEWS,
    FIRE_TIMERS,
    PROCESS_INBOUND,
    PURGE,
    RELEASE_ABSENT,
    SEND_MESSAGE,
    SWEEP,
)
from hotline.runtime import Runtime


def _runtime() -> Runtime:
    runtime = current_app.extensions["hotline"]
    assert isinstance(runtime, Runtime)
    return runtime


# A database that is briefly away is retried with backoff; if it stays away the text stays
# stored and unprocessed, and the sweep hands it over again once the database is back.
_DATABASE_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


@shared_task(name=PROCESS_INBOUND, acks_late=True, **_DATABASE_RETRY)
def process_inbound(message_id: int) -> None:
    jobs.process_inbound(_runtime(), message_id)


@shared_task(name=SEND_MESSAGE, bind=True, acks_late=True, **_DATABASE_RETRY)
def send_message(self: Any, message_id: int) -> None:
    delay = jobs.send_message(_runtime(), message_id)
    if delay is not None:
        # Our own policy counts the attempts (in the database), so Celery's limit is off here.
        raise self.retry(countdown=delay, max_retries=None)


@shared_task(name=SWEEP, acks_late=True)
def sweep() -> None:
    jobs.sweep(_runtime())


@shared_task(name=FIRE_TIMERS, acks_late=True)
def fire_timers() -> None:
    jobs.fire_timers(_runtime())


@shared_task(name=RELEASE_ABSENT, acks_late=True)
def release_absent() -> None:
    jobs.release_absent(_runtime())


@shared_task(name=PURGE, acks_late=True)
def purge() -> None:
    jobs.purge(_runtime())


@shared_task(name=DRAW_REVIEWS, acks_late=True)
def draw_reviews() -> None:
    jobs.draw_reviews(_runtime())
