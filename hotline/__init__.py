"""hotline: the backend of an SMS victim-assistance hotline."""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from hotline.background import jobs
from hotline.devtools.simulated import SimulatedCarrier
from hotline.infra.clock import SystemClock
from hotline.infra.logs import configure_logging
from hotline.infra.one_process import claim_the_only_web_process
from hotline.infra.taskqueue import BrokerPause, CeleryTaskQueue, InProcessQueue, TaskQueue
from hotline.runtime import Runtime, build_runtime
from hotline.settings import Mode, Settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app.

    ``test_config`` may carry ``settings`` (a :class:`Settings`) or ``mode`` (a :class:`Mode`),
    and the collaborators
    ``sender``, ``clock``, ``tasks`` and ``engine`` to use instead of those the settings name,
    and ``command_line`` (True for the ``hotline`` commands, which may run beside the web);
    every other key goes into ``app.config``.
    """
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(test_config or {})
    mode: Mode | None = overrides.pop("mode", None)
    settings: Settings = overrides.pop("settings", None) or Settings.from_env(
        mode=mode, instance_path=Path(app.instance_path)
    )
    if settings.mode is Mode.DEMO:
        # The demo is the embedded default whatever the environment says: no broker, no Twilio.
        settings = settings.with_overrides(redis_url=None, twilio_account_sid=None)
    command_line = overrides.pop("command_line", False)
    if settings.mode is Mode.PRODUCTION and settings.allow_sqlite and not command_line:
        # SQLite in production (HOTLINE_ALLOW_SQLITE): one web process, or none.
        claim_the_only_web_process(settings.database_url)
    sender = overrides.pop("sender", None)
    clock = overrides.pop("clock", None)
    engine = overrides.pop("engine", None)
    tasks: TaskQueue | None = overrides.pop("tasks", None)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        # A Twilio request is a few kilobytes; anything far larger is not Twilio.
        # Room for a body at the kept limit (10,000 characters) even when every character is
        # percent-encoded UTF-8 (up to 12 bytes): a long text is cut and kept, never refused.
        MAX_CONTENT_LENGTH=192 * 1024,
        MAX_FORM_PARTS=200,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.mode.value == "production",
    )
    app.config.update(overrides)
    configure_logging(json_lines=settings.log_format == "json")

    if settings.redis_url is not None:
        from hotline.background.celery_app import celery_init_app

        celery = celery_init_app(app, settings)
        tasks = tasks or CeleryTaskQueue(celery, BrokerPause(settings.broker_pause_seconds))
    if tasks is None:
        in_process = InProcessQueue(start=True)
        atexit.register(in_process.stop)
        tasks = in_process
    clock = clock or SystemClock()
    if (
        sender is None
        and settings.mode in (Mode.DEMO, Mode.DEVELOPMENT)
        and not settings.uses_twilio
    ):
        # The simulator's carrier: keeps texts for the simulator and reports their delivery.
        sender = SimulatedCarrier(settings.twilio_auth_token or "", clock.now)
    runtime = build_runtime(settings, tasks=tasks, sender=sender, clock=clock, engine=engine)
    jobs.attach(runtime)
    app.extensions["hotline"] = runtime

    from hotline import web

    web.init_app(app)
    if settings.mode in (Mode.DEMO, Mode.DEVELOPMENT):
        # The texting simulator exists only where no real texter can be: elsewhere, 404.
        from hotline.devtools import simulator

        app.register_blueprint(simulator.bp)
    from hotline import cli

    cli.init_app(app)
    return app


def runtime_of(app: Flask) -> Runtime:
    runtime = app.extensions["hotline"]
    assert isinstance(runtime, Runtime)
    return runtime
