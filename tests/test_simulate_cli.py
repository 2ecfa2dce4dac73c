"""``hotline simulate``: text a running demo from the command line, through the simulator."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from werkzeug.serving import make_server

from hotline.cli import cli
from hotline.domain.delivery import Direction
from tests.conftest import new_phone
from tests.demo_server import Served, serve_demo
from tests.helpers import bodies, messages_of
from tests.support.stack import free_port


@pytest.fixture
def demo(sqlite_template: Path, tmp_path: Path) -> Iterator[Served]:
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    with serve_demo(f"sqlite:///{path}") as served:
        yield served


def run(*args: str) -> Result:
    # FlaskGroup sets FLASK_RUN_FROM_CLI; naming it here makes the runner put it back after.
    return CliRunner().invoke(cli, ["simulate", *args], env={"FLASK_RUN_FROM_CLI": None})


def test_simulate_prints_the_welcome_and_stores_a_signed_text(demo: Served) -> None:
    phone = new_phone()

    result = run("hi", "--from", phone, "--url", demo.base, "--wait", "5")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "> hi"
    assert lines[1].startswith("< Hi, thanks for texting.")
    inbound = [m for m in messages_of(demo.app, phone) if m.direction is Direction.INBOUND]
    assert bodies(demo.app, inbound) == ["hi"]

    again = run("no", "--from", phone, "--url", demo.base, "--wait", "5")

    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[1].startswith("< Is it safe for you to text")
    assert len(again.output.splitlines()) == 2  # only the new reply, not the welcome again


def test_a_closed_port_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run("hi", "--from", new_phone(), "--url", url, "--wait", "1")

    assert result.exit_code == 1
    assert f"Error: could not reach the hotline at {url}" in result.output


def test_an_app_without_the_simulator_is_a_clear_error(
    make_app: Callable[..., Flask], sqlite_url: str
) -> None:
    app = make_app(sqlite_url)  # TEST mode: no simulator
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = run("hi", "--from", new_phone(), "--url", url, "--wait", "1")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

    assert result.exit_code == 1
    assert "is it running with `hotline demo`?" in result.output


def test_a_real_number_is_refused(demo: Served) -> None:
    result = run("hi", "--from", "+14155550100", "--url", demo.base, "--wait", "1")

    assert result.exit_code == 1
    assert "fictional +1 555 numbers" in result.output
