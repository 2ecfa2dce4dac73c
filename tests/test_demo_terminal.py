"""What ``hotline demo`` says in its terminal: the real command, run as a person runs it.

It says "running" only once the port is taken (and a busy port is one line and exit status 1),
lists the pages and where the passwords are kept first, and does not log the pages'
once-a-second polls.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hotline.devtools.demo import QuietPolls, QuietRequests
from tests.support.stack import free_port


def hotline_command() -> list[str]:
    found = shutil.which("hotline", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-c", "from hotline.cli import main; main()"]


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    return {**env, "PYTHONUNBUFFERED": "1"}


class Demo:
    """A running ``hotline demo``: its first lines, and its stderr read as it comes."""

    def __init__(self, port: int, instance: Path) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [*hotline_command(), "demo", "--port", str(port), "--instance", str(instance)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=demo_env(),
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.process.stdout, self.stdout),
                (self.process.stderr, self.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for(self, lines: list[str], fragment: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if fragment in line:
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no line with {fragment!r}: {self.stdout} / {self.stderr[-20:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        for reader in self._readers:
            reader.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(free_port(), tmp_path / "instance")
    yield running
    running.stop()


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_the_demo_says_running_once_listening_and_lists_its_pages_first(
    demo: Demo, tmp_path: Path
) -> None:
    running = demo.wait_for(demo.stdout, "hotline demo running on")
    assert accepts(demo.port), "it said running before it listened"  # checked at once
    base = f"http://127.0.0.1:{demo.port}"
    assert running == f"hotline demo running on {base}  (Ctrl-C to stop)"
    demo.wait_for(demo.stdout, "database:")
    first = demo.stdout
    assert first[0] == running
    assert first[1:4] == [
        f"  simulator:  {base}/simulator",
        f"  console:    {base}/console",
        f"  supervisor: {base}/supervisor",
    ]
    instance = tmp_path / "instance"
    assert f"  passwords:  kept in {instance}{os.sep}demo-*.password" in first
    for role, email in (
        ("advocate", "advocate@demo.hotline"),
        ("supervisor", "supervisor@demo.hotline"),
    ):
        password = (instance / f"demo-{role}.password").read_text().strip()
        assert f"  sign-in:    {email} / {password}" in first


def test_polls_are_not_logged_and_other_requests_are(demo: Demo) -> None:
    demo.wait_for(demo.stdout, "database:")
    base = f"http://127.0.0.1:{demo.port}"
    for _ in range(5):  # the simulator's poll, as its page asks once a second
        assert requests.get(f"{base}/simulator/api/phones", timeout=5).status_code == 200
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    assert (
        requests.get(f"{base}/simulator/api/phones/999999/messages", timeout=5).status_code == 404
    )

    demo.wait_for(demo.stderr, "GET /healthz")
    demo.wait_for(demo.stderr, "/simulator/api/phones/999999/messages")  # a failed poll shows
    assert not [line for line in demo.stderr if "GET /simulator/api/phones " in line]


def test_a_busy_port_is_one_line_and_exit_status_1(demo: Demo, tmp_path: Path) -> None:
    demo.wait_for(demo.stdout, "hotline demo running on")
    second = subprocess.run(
        [
            *hotline_command(),
            "demo",
            "--port",
            str(demo.port),
            "--instance",
            str(tmp_path / "other"),
        ],
        capture_output=True,
        text=True,
        env=demo_env(),
        timeout=60,
    )
    assert second.returncode == 1
    assert second.stdout == ""
    assert second.stderr.splitlines() == [
        f"Error: port {demo.port} is already in use on 127.0.0.1: stop what is using it, "
        "or choose another with --port"
    ]
    assert not (tmp_path / "other").exists()  # nothing was set up before the port was taken


# --- the request log's filters, on a plain server ------------------------------------------------


@Request.application
def answer(request: Request) -> Response:
    return Response("no", status=404) if request.path.endswith("/missing") else Response("ok")


def logged_paths(handler: type, paths: list[str]) -> list[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, answer, request_handler=handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    keep = Keep()
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.addHandler(keep)
    previous = werkzeug.level
    werkzeug.setLevel(logging.INFO)
    try:
        for path in paths:
            requests.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    finally:
        werkzeug.removeHandler(keep)
        werkzeug.setLevel(previous)
        server.shutdown()
        server.server_close()
        thread.join(5)
    return [path for path in paths if any(f"GET {path} " in line for line in records)]


PATHS = [
    "/console/api/poll?conversations=1,2",
    "/simulator/api/phones",
    "/simulator/api/phones/3/messages",
    "/console/api/queue",
    "/console/api/poll/missing",
    "/healthz",
]


def test_by_default_only_the_polls_that_succeed_are_left_out() -> None:
    assert logged_paths(QuietPolls, PATHS) == [
        "/console/api/queue",
        "/console/api/poll/missing",
        "/healthz",
    ]


def test_quiet_leaves_out_every_request_that_succeeds() -> None:
    assert logged_paths(QuietRequests, PATHS) == ["/console/api/poll/missing"]
