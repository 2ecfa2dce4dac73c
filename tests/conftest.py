"""Shared fixtures.

Databases: the migrations run once per test session, into a PostgreSQL template database and
a SQLite template file. Most tests share one copy of each, but never each other's rows: every
test texts from its own fresh numbers and looks only at what those produced. Tests about the
whole queue (positions, taking the next texter) get a copy of their own
(``isolated_database_url``), made from the template in a fraction of a second. Everything is
dropped at the end. (Rolling back a savepoint per test, as Warehouse does, cannot serve here:
many of these tests cross process boundaries to a real worker, or need truly concurrent
connections.)

Under ``CI=true`` a test whose service is missing fails instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import Engine, create_engine, text

from hotline import create_app
from hotline.db.migrate import upgrade
from hotline.db.session import make_engine
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings
from hotline.sms.sender import LocalSender
from tests.fakes import FakeClock

CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Every PostgreSQL test connects as a role that owns nothing, holding the grants production's
# app role holds (hotline.db.grants), to show they are enough. Tests that administer the
# database itself (tests/db/test_migrations.py: migrations down and up) need the owner and fail
# so; `HOTLINE_TEST_AS_APP_ROLE=true pytest -k postgresql tests/web tests/services` passes.
AS_APP_ROLE = os.environ.get("HOTLINE_TEST_AS_APP_ROLE", "").lower() == "true"
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

TEST_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_DATA_KEY = Fernet.generate_key().decode()
TEST_HASH_KEY = Fernet.generate_key().decode()
TEST_PUBLIC_URL = "http://hotline.test"


def unavailable(what: str) -> None:
    """Skip the test for a missing service, or fail it under CI, where nothing may be missing."""
    if CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


def new_phone() -> str:
    """A fresh US number in the 555-01xx fiction range's spirit: unique per call."""
    return "+1555" + "".join(secrets.choice("0123456789") for _ in range(7))


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class PostgresServer:
    admin_url: str
    template: str  # a migrated database to copy per test
    app_role: str | None = None  # HOTLINE_TEST_AS_APP_ROLE: tests connect as this role

    def url(self, name: str) -> str:
        """The URL tests use: the app's role when there is one, else the admin's."""
        base = self.owner_url(name)
        if self.app_role is None:
            return base
        scheme, rest = base.split("://", 1)
        return f"{scheme}://{self.app_role}@{rest.split('@', 1)[1]}"

    def owner_url(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def execute(self, statement: str) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server, with a migrated template database made for this test session."""
    server = PostgresServer(
        POSTGRES_ADMIN_URL, f"hotline_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
    )
    try:
        server.execute(f'CREATE DATABASE "{server.template}"')
    except Exception as exc:  # any failure here means "no PostgreSQL"
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} ({type(exc).__name__})")
    if AS_APP_ROLE:
        server.app_role = f"hotline_test_app_{os.getpid()}_{secrets.token_hex(3)}"
        server.execute(f'CREATE ROLE "{server.app_role}" LOGIN')
    engine = make_engine(server.owner_url(server.template))
    upgrade(engine, app_role=server.app_role)
    engine.dispose()
    yield server
    server.execute(f'DROP DATABASE IF EXISTS "{server.template}" WITH (FORCE)')
    if server.app_role is not None:
        server.execute(f'DROP ROLE IF EXISTS "{server.app_role}"')


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """One database shared by the whole session: tests keep to their own texters' rows."""
    name = f"hotline_test_{os.getpid()}_{secrets.token_hex(3)}"
    postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"')
    yield postgres.url(name)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on the shared PostgreSQL database, made as production makes one."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """``REDIS_URL`` once Redis answers there; the test is skipped (failed under CI) if not."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"Redis at {REDIS_URL}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def celery(redis_url: str) -> Iterator[Celery]:
    """A Celery app on the test Redis, with a queue of its own, emptied and forgotten after."""
    app = Celery("hotline-test")
    queue = f"hotline-test-{secrets.token_hex(4)}"
    app.conf.update(broker_url=redis_url, task_default_queue=queue, task_publish_retry=False)
    yield app
    client = redis.Redis.from_url(redis_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()
    app.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def sqlite_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "hotline.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def isolated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, on each backend: for tests about the whole queue."""
    if request.param == "sqlite":
        path = tmp_path / "isolated.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"hotline_iso_{os.getpid()}_{secrets.token_hex(4)}"
    postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"')
    yield postgres.url(name)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on each database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Test-mode settings on ``database_url``; the local sender unless Twilio is configured."""
    base = Settings(
        mode=Mode.TEST,
        database_url=database_url,
        secret_key="test-secret-key",
        data_keys=(TEST_DATA_KEY,),
        hash_key=TEST_HASH_KEY,
        public_url=TEST_PUBLIC_URL,
        twilio_auth_token=TEST_AUTH_TOKEN,
    )
    return base.with_overrides(**overrides)


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Build an app on a database URL, with a manual task queue and the local sender."""
    built: list[Flask] = []

    def factory(database_url: str, **overrides: Any) -> Flask:
        settings_overrides = overrides.pop("settings_overrides", {})
        settings = settings_for(database_url, **settings_overrides)
        config: dict[str, Any] = {
            "settings": settings,
            "tasks": overrides.pop("tasks", None) or InProcessQueue(start=False),
            "sender": overrides.pop("sender", None) or LocalSender(),
            "TESTING": True,
        }
        config.update(overrides)
        app = create_app(config)
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["hotline"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    return make_app(database_url)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def clocked_app(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> Flask:
    """An app on a database of the test's own (for tests about the whole queue, the settings or
    the staff), running on ``clock``, with the local sender on the same clock."""
    return make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
