"""The collaborators one process works with, built once from settings.

The web app keeps its runtime in ``app.extensions["hotline"]``; the Celery worker reaches the
same through the Flask app it is wired into. Building one opens no connection, and runs
nothing: :func:`hotline.background.jobs.attach` makes its commits start their follow-up work,
and the in-process queue run its jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.session import make_engine, make_session_factory
from hotline.infra.clock import Clock, SystemClock
from hotline.infra.live import LiveFeed, MemoryLiveFeed, RedisLiveFeed
from hotline.infra.taskqueue import TaskQueue
from hotline.infra.vault import Vault
from hotline.services.auth import AuthPolicy
from hotline.services.send import Dispatcher, SendPolicy
from hotline.services.triage import Triage
from hotline.services.tuning import Tuned, Tuner
from hotline.settings import Settings
from hotline.sms.sender import LocalSender, Sender, TwilioSender


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    sender: Sender
    clock: Clock
    tasks: TaskQueue

    def status_callback_url(self, message_id: int) -> str | None:
        """Where Twilio reports delivery of one message; None without a public URL."""
        if not self.settings.public_url:
            return None
        return f"{self.settings.public_url}/twilio/status?m={message_id}"

    @cached_property
    def dispatcher(self) -> Dispatcher:
        s = self.settings
        policy = SendPolicy(
            max_retries=s.send_max_retries,
            backoff_base=s.send_backoff_base_seconds,
            backoff_max=s.send_backoff_max_seconds,
            lease_seconds=s.twilio_timeout_seconds + 20,
        )
        return Dispatcher(
            self.sessions, self.sender, self.vault, self.clock, policy, self.status_callback_url
        )

    @cached_property
    def tuner(self) -> Tuner:
        return Tuner(self.settings, self.vault)

    def tuned(self, session: Session) -> Tuned:
        """The settings in force now, supervisors' overrides included (one small SELECT)."""
        return self.tuner.refresh(session)

    @property
    def triage(self) -> Triage:
        """The triage as last tuned; jobs and staff requests call :meth:`tuned` to refresh it."""
        return self.tuner.latest.triage

    @cached_property
    def live(self) -> LiveFeed:
        return MemoryLiveFeed() if self.redis is None else RedisLiveFeed(self.redis)

    @cached_property
    def auth(self) -> AuthPolicy:
        return AuthPolicy.from_settings(self.settings)

    @cached_property
    def redis(self) -> Any:
        """A Redis client for health checks and live updates; None on the embedded default."""
        if self.settings.redis_url is None:
            return None
        import redis

        return redis.Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=1, socket_timeout=2
        )


def make_sender(settings: Settings, clock: Clock) -> Sender:
    if settings.uses_twilio:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        return TwilioSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base=settings.twilio_api_base,
            timeout=settings.twilio_timeout_seconds,
        )
    return LocalSender(clock.now)


def build_runtime(
    settings: Settings,
    *,
    tasks: TaskQueue,
    sender: Sender | None = None,
    clock: Clock | None = None,
    engine: Engine | None = None,
) -> Runtime:
    engine = engine or make_engine(settings.database_url)
    clock = clock or SystemClock()
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        vault=Vault(settings.data_keys, settings.hash_key),
        sender=sender or make_sender(settings, clock),
        clock=clock,
        tasks=tasks,
    )
    return runtime
