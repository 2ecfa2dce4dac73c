"""Production refuses an unsafe setup: no database or broker named, the demo's SQLite, a weak
secret key, and (SQLite allowed for a one-process install) a second web process."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from hotline import create_app
from hotline.infra.one_process import lock_path
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings, SettingsError
from tests.support.stack import free_port, wait_until

SECRET_KEY = "session-signing-secret-9f8e7d6c5b4a"
AUTH_TOKEN = "auth-token-0a1b2c3d4e5f6a7b8c9d"
DATA_KEY = Fernet.generate_key().decode()
HASH_KEY = Fernet.generate_key().decode()
SECRETS = [SECRET_KEY, AUTH_TOKEN, DATA_KEY, HASH_KEY]
PRODUCTION = {
    "HOTLINE_ENV": "production",
    "HOTLINE_DATABASE_URL": "postgresql+psycopg://hotline@db/hotline",
    "HOTLINE_REDIS_URL": "redis://redis:6379/0",
    "HOTLINE_SECRET_KEY": SECRET_KEY,
    "HOTLINE_DATA_KEYS": DATA_KEY,
    "HOTLINE_HASH_KEY": HASH_KEY,
    "TWILIO_ACCOUNT_SID": "AC" + "1234567890abcdef" * 2,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM": "233733",
}


def refusal(environ: dict[str, str], instance: Path) -> str:
    """The one-line refusal, checked to quote no secret anywhere in its traceback."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env(environ, instance_path=instance)
    everything = "".join(traceback.format_exception(excinfo.value))
    assert not any(secret in everything for secret in SECRETS)
    return str(excinfo.value)


def production_without(*names: str, **changes: str) -> dict[str, str]:
    environ = {k: v for k, v in PRODUCTION.items() if k not in names}
    environ.update(changes)
    return environ


SQLITE_PROBLEM = (
    "HOTLINE_DATABASE_URL names SQLite, which production refuses (use PostgreSQL, "
    "or HOTLINE_ALLOW_SQLITE=true for a one-process install)"
)


def test_production_without_a_database_or_broker_names_both_in_one_line(tmp_path: Path) -> None:
    message = refusal(production_without("HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL"), tmp_path)
    assert message == (
        "hotline cannot start: HOTLINE_DATABASE_URL is required "
        "(postgresql+psycopg://USER:PASSWORD@HOST/DB); HOTLINE_REDIS_URL is required "
        "(redis://HOST:6379/0) (HOTLINE_ENV=production)"
    )
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []  # no demo database, no invented secret


@pytest.mark.parametrize("name", ["HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL"])
def test_production_requires_each_store(tmp_path: Path, name: str) -> None:
    assert f"{name} is required" in refusal(production_without(name), tmp_path)


@pytest.mark.parametrize("value", ["   ", ""])
def test_a_blank_database_url_is_missing_not_the_demo_s(tmp_path: Path, value: str) -> None:
    message = refusal(production_without(HOTLINE_DATABASE_URL=value), tmp_path)
    assert "HOTLINE_DATABASE_URL is required" in message


def test_production_refuses_sqlite_unless_allowed(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    message = refusal(production_without(HOTLINE_DATABASE_URL=sqlite), tmp_path)
    assert SQLITE_PROBLEM in message
    message = refusal(
        production_without(HOTLINE_DATABASE_URL=sqlite, HOTLINE_ALLOW_SQLITE="false"), tmp_path
    )
    assert SQLITE_PROBLEM in message


def test_allowed_sqlite_is_a_one_process_install_without_a_broker(tmp_path: Path) -> None:
    environ = production_without(
        "HOTLINE_REDIS_URL",
        HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.sqlite3'}",
        HOTLINE_ALLOW_SQLITE="true",
    )
    settings = Settings.from_env(environ, instance_path=tmp_path)
    assert settings.allow_sqlite and settings.on_sqlite and settings.embedded


def test_allowed_sqlite_takes_no_broker(tmp_path: Path) -> None:
    message = refusal(
        production_without(
            HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.sqlite3'}",
            HOTLINE_ALLOW_SQLITE="true",
        ),
        tmp_path,
    )
    assert (
        "HOTLINE_ALLOW_SQLITE is for a one-process install, without a broker: leave "
        "HOTLINE_REDIS_URL unset (or use PostgreSQL)"
    ) in message


def test_allowing_sqlite_does_not_excuse_postgresql_from_a_broker(tmp_path: Path) -> None:
    message = refusal(
        production_without("HOTLINE_REDIS_URL", HOTLINE_ALLOW_SQLITE="true"), tmp_path
    )
    assert "HOTLINE_REDIS_URL is required" in message


def test_a_database_url_that_is_no_url_is_named_without_its_value(tmp_path: Path) -> None:
    message = refusal(production_without(HOTLINE_DATABASE_URL="not a url:secretpw"), tmp_path)
    assert "HOTLINE_DATABASE_URL is not a database URL" in message
    assert "secretpw" not in message


@pytest.mark.parametrize("mode", ["production", "test", "demo"])
def test_a_secret_key_under_32_bytes_is_refused(tmp_path: Path, mode: str) -> None:
    short = "k" * 31
    message = refusal(production_without(HOTLINE_ENV=mode, HOTLINE_SECRET_KEY=short), tmp_path)
    assert "HOTLINE_SECRET_KEY must be at least 32 bytes" in message
    assert short not in message


def test_a_secret_key_of_32_bytes_is_taken_and_counted_in_bytes(tmp_path: Path) -> None:
    for key in ("k" * 32, "é" * 16):  # 16 characters, 32 bytes
        settings = Settings.from_env(
            production_without(HOTLINE_SECRET_KEY=key), instance_path=tmp_path
        )
        assert settings.secret_key == key


def test_the_refusals_quote_no_secret(tmp_path: Path) -> None:
    message = refusal(production_without("HOTLINE_REDIS_URL"), tmp_path)
    assert not any(secret in message for secret in SECRETS)


def one_process_environment(tmp_path: Path) -> dict[str, str]:
    environ = production_without(
        "HOTLINE_REDIS_URL",
        HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.sqlite3'}",
        HOTLINE_ALLOW_SQLITE="true",
    )
    return environ


def test_a_second_web_process_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    settings = Settings.from_env(one_process_environment(tmp_path), instance_path=tmp_path)
    path = lock_path(settings.database_url)
    assert path == tmp_path / "hotline.sqlite3.web-lock"
    other = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # as the first web process does
    try:
        with pytest.raises(SettingsError, match="HOTLINE_ALLOW_SQLITE allows one web process"):
            create_app({"settings": settings})
        # The command line runs beside the web all the same (users create, purge).
        command_app = create_app(
            {"settings": settings, "command_line": True, "tasks": InProcessQueue(start=False)}
        )
        command_app.extensions["hotline"].engine.dispose()
    finally:
        os.close(other)


@pytest.fixture
def one_process_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(one_process_environment(tmp_path))
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "hotline"), "db", "upgrade"], env=env, cwd=tmp_path, check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    return env


@pytest.fixture
def gunicorn(one_process_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    bin_dir = Path(sys.executable).parent
    port = free_port()
    yield [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "hotline:create_app()"]


def test_gunicorn_with_two_workers_on_allowed_sqlite_refuses_to_start(
    one_process_env: dict[str, str], gunicorn: list[str], tmp_path: Path
) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [*gunicorn, "--workers", "2"], env=one_process_env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "HOTLINE_ALLOW_SQLITE allows one web process" in result.stderr
    assert time.monotonic() - started < 60


def test_gunicorn_with_one_worker_on_allowed_sqlite_serves(
    one_process_env: dict[str, str], gunicorn: list[str], tmp_path: Path
) -> None:
    server = subprocess.Popen(
        [*gunicorn, "--workers", "1"], env=one_process_env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = gunicorn[2]
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"http://{base}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, 30, "gunicorn to serve")
        answer = requests.get(f"http://{base}/healthz", timeout=5).json()
        assert answer == {"database": "ok", "broker": "in-process"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)


def test_the_mode_is_production_by_default_and_refuses_an_empty_environment(
    tmp_path: Path,
) -> None:
    message = refusal({}, tmp_path)
    assert "HOTLINE_DATABASE_URL is required" in message
    assert "HOTLINE_REDIS_URL is required" in message
    assert Mode.PRODUCTION.value in message
    assert PRODUCTION["HOTLINE_ENV"] == "production"
