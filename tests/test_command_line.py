"""``hotline`` as an operator meets it: help and version with no environment at all, only the
hotline's own commands and options, admin commands against a running demo (``--instance``),
and a demo that never writes to a database it did not create."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from hotline.cli import cli
from tests.support.stack import free_port, http_ready, wait_until

HOTLINE = str(Path(sys.executable).parent / "hotline")


def bare_environment() -> dict[str, str]:
    """Nothing of the hotline's, Flask's or Twilio's: what a fresh shell on a server has."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def hotline(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOTLINE, *args], cwd=cwd, env=env or bare_environment(), input=stdin,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_needs_no_environment_and_shows_only_hotline_s_commands(
    tmp_path: Path, flag: str
) -> None:
    result = hotline(flag, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for command in ("db", "demo", "purge", "review", "rotate-keys", "simulate", "users"):
        assert re.search(rf"^  {command}\s", result.stdout, re.MULTILINE), command
    for flask_option in ("--env-file", "--app", "--debug"):
        assert flask_option not in result.stdout
    for flask_command in ("routes", "shell", "run"):
        assert not re.search(rf"^  {flask_command}\s", result.stdout, re.MULTILINE)
    assert list(tmp_path.iterdir()) == []  # no instance folder, no secret written


def test_version_is_the_package_s(tmp_path: Path) -> None:
    result = hotline("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"hotline {version('hotline')}\n"
    assert "Flask" not in result.stdout and "Werkzeug" not in result.stdout


@pytest.mark.parametrize("group", ["db", "users", "review"])
def test_each_group_s_help_needs_no_environment(tmp_path: Path, group: str) -> None:
    result = hotline(group, "--help", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_an_admin_command_without_a_setup_says_what_is_missing_before_asking(
    tmp_path: Path,
) -> None:
    result = hotline("users", "create", "a@example.org", "--role", "admin", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: hotline cannot start: HOTLINE_DATABASE_URL is required")
    assert "Traceback" not in result.stderr and "Password" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_instance_without_a_demo_in_it_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    result = CliRunner().invoke(
        cli, ["--instance", str(empty), "users", "create", "a@example.org", "--role", "admin"],
        input="a long enough password\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"no demo database in {empty}: start `hotline demo` there first" in result.output
    assert not empty.exists()


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """``hotline demo`` in its own process and folder, with HOTLINE_DATABASE_URL pointing at a
    database the demo did not create."""
    env = {
        **bare_environment(),
        "PYTHONUNBUFFERED": "1",
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'someone-else.sqlite3'}",
    }
    port = free_port()
    instance = tmp_path / "instance"
    popen = subprocess.Popen(
        [HOTLINE, "demo", "--port", str(port), "--instance", str(instance)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert popen.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(popen.stdout or ()))
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: any("accounts:" in line for line in lines) or popen.poll() is not None,
            60,
            "the demo to start",
        )
        wait_until(http_ready(base + "/healthz"), 30, "the demo to serve")
        yield base, instance, lines
    finally:
        popen.send_signal(signal.SIGINT)
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)
        reader.join(5)
        popen.stdout.close()


def test_users_create_reaches_the_running_demo_and_the_new_account_signs_in(
    running_demo: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    base, instance, lines = running_demo
    output = "".join(lines)
    assert "the demo ignores HOTLINE_DATABASE_URL" in output
    assert f"hotline --instance {instance} users create EMAIL --role advocate" in output
    assert not (tmp_path / "someone-else.sqlite3").exists()

    # The README's way: the same folder, from anywhere, the environment's database ignored.
    env = {**bare_environment(), "HOTLINE_DATABASE_URL": "sqlite:////nonexistent/other.db"}
    result = hotline(
        "--instance", str(instance), "users", "create", "new.advocate@example.org",
        "--role", "advocate", cwd=tmp_path, env=env, stdin="a long enough password\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "created advocate account" in result.stdout

    with requests.Session() as browser:
        page = browser.get(base + "/login", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        answer = browser.post(
            base + "/login",
            data={
                "email": "new.advocate@example.org",
                "password": "a long enough password",
                "csrf_token": token.group(1),
            },
            allow_redirects=False,
            timeout=5,
        )
    assert answer.status_code == 302  # signed in (and asked to choose their own password)
    assert not (tmp_path / "someone-else.sqlite3").exists()


def test_demo_flag_is_the_demo_s_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.devtools import demo

    monkeypatch.setattr(demo, "default_instance", lambda: tmp_path / "default")
    result = CliRunner().invoke(cli, ["--demo", "purge"])
    assert result.exit_code == 1
    assert f"no demo database in {tmp_path / 'default'}" in result.output
