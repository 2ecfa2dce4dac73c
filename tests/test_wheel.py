"""The package as an operator installs it: a wheel built from the checkout, installed without
``-e`` into a fresh virtualenv, and run from a folder outside the checkout.

The wheel must hold every file the hotline reads at run time (templates, static files, texts,
the demo's directory, the migrations): the contents test compares it with the checkout, so a
new static file cannot be forgotten. The installed test migrates an empty PostgreSQL database
with ``hotline db upgrade``, serves ``/login`` and ``/healthz`` under gunicorn, and answers a
signed text with the catalogue's welcome through a celery worker: all of them the installed
package's, none of the checkout's. It runs in plain ``pytest`` (and so in CI, where a missing
PostgreSQL or Redis fails it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hotline import catalogue
from hotline.sms.signature import sign
from tests.conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_HASH_KEY,
    PostgresServer,
    new_phone,
    unavailable,
)
from tests.helpers import sms_form
from tests.support.fake_twilio import FakeTwilio
from tests.support.stack import free_port, http_ready, redis_server, wait_until

ROOT = Path(__file__).resolve().parents[1]
# What goes into the wheel; the copy it is built from holds nothing else, so no leftover of
# an earlier build (build/, *.egg-info) can slip in or hide a missing file.
SHIPPED = ("hotline", "workers", "migrations")
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE")


def checkout_files() -> set[str]:
    """Every file of the shipped folders, as a path inside the wheel."""
    return {
        path.relative_to(ROOT).as_posix()
        for folder in SHIPPED
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for folder in SHIPPED:
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        cwd=out, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("hotline-*.whl")
    return found


def test_the_wheel_holds_every_file_the_checkout_ships(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(checkout_files() - names)
    assert missing == [], f"not in the wheel (add them to package-data in pyproject): {missing}"
    # the folders the app reads at run time are really there, not only Python files
    for needed in (
        "hotline/templates/login.html",
        "hotline/static/console.js",
        "hotline/catalogue/en.toml",
        "hotline/catalogue/lexicon_es.toml",
        "hotline/devtools/demo_directory.toml",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial_schema.py",
    ):
        assert needed in names


def test_the_wheel_carries_its_licence_as_an_spdx_expression(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode()
        (licence,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        text = archive.read(licence).decode()
    assert "License-Expression: AGPL-3.0-or-later" in headers.splitlines()
    assert text.startswith("GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007")
    # every runtime dependency is bounded below its next major version
    requirements = [
        line.removeprefix("Requires-Dist: ")
        for line in headers.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    ]
    assert requirements and all("<" in requirement for requirement in requirements), requirements


@dataclass
class Installed:
    bin: Path
    outside: Path  # a working folder outside the checkout
    env: dict[str, str]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]], cwd=self.outside, env=self.env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def start(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        log = (self.outside / f"{name}.log").open("ab")
        try:
            return subprocess.Popen(
                [str(self.bin / argv[0]), *argv[1:]], cwd=self.outside, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()

    def log(self, name: str) -> str:
        path = self.outside / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed without -e into a new virtualenv, its dependencies held to
    constraints.txt."""
    venv = tmp_path_factory.mktemp("venv")
    # No pip of its own: this process's pip installs into it (--python), which saves a copy.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    pip = subprocess.run(
        # --no-compile: byte-compiling sixty packages is most of an install's time
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-compile", "-c", str(ROOT / "constraints.txt"), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    outside = tmp_path_factory.mktemp("elsewhere")
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(outside),
        "LANG": "C.UTF-8",
    }
    return Installed(venv / "bin", outside, env)


def test_the_installed_package_is_the_wheel_s_not_the_checkout_s(installed: Installed) -> None:
    where = installed.run(
        "python", "-c",
        # workers builds the app on import: find it without importing it
        "import hotline, migrations, importlib.util; "
        "print(hotline.__file__, migrations.__file__, importlib.util.find_spec('workers').origin)",
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    venv = installed.bin.parent
    for path in where.stdout.split():
        assert Path(path).is_relative_to(venv) and "site-packages" in path, path
    assert installed.run("hotline", "--version").stdout.startswith("hotline ")


@pytest.fixture
def empty_database(postgres: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database with nothing in it: the installed `hotline db upgrade` makes all."""
    name = f"hotline_wheel_{os.getpid()}_{secrets.token_hex(3)}"
    postgres.execute(f'CREATE DATABASE "{name}"')
    yield postgres.owner_url(name)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
def test_installed_it_migrates_serves_and_answers_a_text(
    empty_database: str, installed: Installed, tmp_path: Path
) -> None:
    redis_port, web_port = free_port(), free_port()
    try:
        redis = redis_server(redis_port, tmp_path)
    except FileNotFoundError:
        unavailable("redis-server")
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    base = f"http://127.0.0.1:{web_port}"
    env = {
        **installed.env,
        "HOTLINE_ENV": "production",
        "HOTLINE_DATABASE_URL": empty_database,
        "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HOTLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "HOTLINE_DATA_KEYS": TEST_DATA_KEY,
        "HOTLINE_HASH_KEY": TEST_HASH_KEY,
        "HOTLINE_PUBLIC_URL": base,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_FROM": "233733",
    }
    processes: list[subprocess.Popen[bytes]] = []
    redis.start()
    fake.start()
    try:
        env["TWILIO_API_BASE"] = fake.base_url
        installed.env = env
        upgraded = installed.run("hotline", "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert "database is at the newest schema (postgresql)" in upgraded.stdout

        processes.append(
            installed.start(
                "web",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{web_port}",
                "hotline:create_app()",
            )
        )
        processes.append(
            installed.start(
                "worker",
                "celery",
                "-A",
                "workers",
                "worker",
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"wheel-{os.getpid()}@%h",
            )
        )
        wait_until(http_ready(base + "/healthz"), 60, "gunicorn from the wheel")
        assert requests.get(base + "/healthz", timeout=5).json() == {
            "database": "ok",
            "broker": "ok",
        }
        login = requests.get(base + "/login", timeout=5)
        assert login.status_code == 200 and 'name="csrf_token"' in login.text
        assert requests.get(base + "/static/base.css", timeout=5).status_code == 200

        phone = new_phone()
        form = sms_form(phone, "hi")
        answer = requests.post(
            base + "/twilio/sms", data=form, timeout=10,
            headers={"X-Twilio-Signature": sign(TEST_AUTH_TOKEN, base + "/twilio/sms", form)},
        )  # fmt: skip
        assert answer.status_code == 200
        wait_until(
            lambda: any(m.to == phone for m in fake.messages), 60, "the welcome from the worker"
        )
        (welcome,) = [m.body for m in fake.messages if m.to == phone]
        assert welcome == catalogue.render("welcome", "en", discreet=True)
    except BaseException:
        print(installed.log("web"), installed.log("worker"), sep="\n")
        raise
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(5)
        redis.stop()
        fake.stop()
