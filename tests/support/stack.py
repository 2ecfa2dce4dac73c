"""Starting the real production stack for a test or a benchmark: gunicorn, a celery worker and
beat, Redis.

Every process logs to its own file, so tests can read what it wrote (and check that no phone
number or text is in it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[2]  # the repository
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def production_env(
    *,
    database_url: str,
    redis_port: int,
    public_url: str,
    account_sid: str,
    auth_token: str,
    from_number: str,
    api_base: str | None = None,
    data_key: str | None = None,
    hash_key: str | None = None,
    **settings: str,
) -> dict[str, str]:
    """The environment a process of the stack runs with: this process's own, plus what the
    hotline requires in production (keys made fresh unless given, a fresh secret key), the
    local Redis and Twilio's details, and any other setting by its variable's name
    (``HOTLINE_SWEEP_GRACE_SECONDS="2"``)."""
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "HOTLINE_ENV": "production",
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HOTLINE_SECRET_KEY": secrets.token_hex(16),
        "HOTLINE_DATA_KEYS": data_key or Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": hash_key or Fernet.generate_key().decode(),
        "HOTLINE_PUBLIC_URL": public_url,
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_FROM": from_number,
        **settings,
    }
    if api_base is not None:
        env["TWILIO_API_BASE"] = api_base
    return env


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    name: str
    argv: list[str]
    env: Mapping[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=dict(self.env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self.popen = None


def redis_server(port: int, log_dir: Path) -> Process:
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    return Process(
        "redis",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(log_dir),
        ],
        os.environ,
        log_dir / "redis.log",
    )


def gunicorn(
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    app: str = "hotline:create_app()",
    workers: int = 2,
) -> Process:
    """gunicorn serving ``app`` (a WSGI app spec; benchmarks pass a bare one to compare) with
    ``workers`` processes of 4 threads each."""
    return Process(
        "web",
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            app,
        ],
        env,
        log_dir / "web.log",
    )


def celery_worker(env: Mapping[str, str], log_dir: Path, concurrency: int = 2) -> Process:
    return Process(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env,
        log_dir / "worker.log",
    )


def celery_beat(env: Mapping[str, str], log_dir: Path) -> Process:
    return Process(
        "beat",
        [
            str(BIN / "celery"),
            "-A",
            "workers",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(log_dir / "beat-schedule"),
        ],
        env,
        log_dir / "beat.log",
    )


def http_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with requests.get(url, timeout=1) as response:
                return response.status_code < 500
        except requests.RequestException:
            return False

    return ready


def stop_all(processes: list[Process], timeout: float) -> None:
    """Stop ``processes`` side by side: a slow one does not hold up the others."""
    stopping = [threading.Thread(target=p.stop, kwargs={"timeout": timeout}) for p in processes]
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join()


def answers_ping(broker: redis.Redis) -> bool:
    """Whether the Redis server behind ``broker`` is up."""
    try:
        return bool(broker.ping())
    except redis.RedisError:
        return False
