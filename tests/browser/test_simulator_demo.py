"""The whole demo in a browser: ``hotline demo`` as a subprocess, a texter in the simulator page,
an advocate in the console, and the advocate's reply back on the simulated phone.

The demo runs with ``--instance`` in a temporary folder, so the repository's own demo database
is never touched.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import free_port, http_ready, wait_until

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REPLY_TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser


@dataclass
class Demo:
    base: str
    folder: Path
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def sign_in(self, email: str) -> str:
        match = re.search(rf"sign-in:\s+{re.escape(email)} / (\S+)", self.output())
        assert match, "the demo printed no sign-in for " + email
        return match.group(1)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """``hotline demo --port N`` in its own process, with an instance folder of its own."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_", "FLASK_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    port = free_port()
    popen = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "hotline"),
            "demo",
            "--port",
            str(port),
            "--instance",
            str(tmp_path / "instance"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Demo(f"http://127.0.0.1:{port}", tmp_path, popen)
    assert popen.stdout is not None
    reader = threading.Thread(target=lambda: running.lines.extend(popen.stdout or ()))
    reader.start()
    try:
        wait_until(
            lambda: "supervisor@demo.hotline /" in running.output() or popen.poll() is not None,
            30,
            "the demo's sign-ins",
        )
        wait_until(http_ready(running.base + "/healthz"), 15, "the demo to serve")
        yield running
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGINT)
            try:
                popen.wait(10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(5)
        reader.join(5)
        popen.stdout.close()


def watch(page: Any, errors: list[str]) -> None:
    """Record script errors, CSP violations and failed requests (but the favicon's 404)."""

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {response.status} for {response.url}")

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", on_console)
    page.on("response", on_response)


def text_and_wait(phone: Any, text: str, expected_replies: int, expect: Any) -> None:
    phone.locator(".compose-text").fill(text)
    phone.locator(".send").click()
    expect(phone.locator(".bubble.from-texter").last.locator(".bubble-body")).to_have_text(text)
    expect(phone.locator(".bubble.from-hotline")).to_have_count(
        expected_replies, timeout=REPLY_TIMEOUT_MS
    )


def test_a_texter_reaches_an_advocate_and_reads_the_reply(demo: Demo, chromium: Any) -> None:
    """``chromium`` is Debian's, launched once per session by tests/browser/conftest.py."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(8000)
    errors: list[str] = []  # script errors and CSP violations (reported as console errors)
    try:
        simulator = context.new_page()
        watch(simulator, errors)
        simulator.goto(demo.base + "/simulator")
        phone = simulator.locator(".phone").first
        expect(phone.locator(".phone-number")).to_have_text(re.compile(r"\+1 555 01\d \d{4}"))

        text_and_wait(phone, "hi", 1, expect)
        expect(phone.locator(".bubble.from-hotline").last).to_contain_text("in danger right now")
        expect(phone.locator(".bubble.from-hotline").last).to_contain_text("Delivered")
        phone.locator(".replay").click()  # the same MessageSid again: taken, not answered twice
        expect(phone.locator(".bubble.from-texter").last).to_contain_text("delivered 2×")
        expect(phone.locator(".bubble.from-texter")).to_have_count(1)
        text_and_wait(phone, "no", 2, expect)
        text_and_wait(phone, "yes", 3, expect)
        text_and_wait(phone, "I need help", 4, expect)
        text_and_wait(phone, "TX", 5, expect)
        expect(phone.locator(".bubble.from-hotline").last).to_contain_text("number 1 in line")

        console = context.new_page()
        watch(console, errors)
        console.goto(demo.base + "/console")
        console.fill('input[name="email"]', "advocate@demo.hotline")
        console.fill('input[name="password"]', demo.sign_in("advocate@demo.hotline"))
        console.click('button[type="submit"]')
        console.wait_for_url(re.compile(r"/console$"))
        availability = console.locator("#availability")
        expect(availability).to_be_enabled()
        availability.click()
        expect(availability).to_have_attribute("aria-checked", "true")
        expect(console.locator("#queue-list li")).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
        console.locator("#take-next").click()
        expect(console.locator("#conversation")).to_be_visible()
        expect(console.locator("#timeline")).to_contain_text("I need help")
        console.locator("#reply").fill("We are here for you")
        console.locator("#send").click()

        simulator.bring_to_front()
        expect(phone.locator(".bubble.from-hotline")).to_have_count(6, timeout=REPLY_TIMEOUT_MS)
        expect(phone.locator(".bubble.from-hotline").last.locator(".bubble-body")).to_have_text(
            "We are here for you"
        )
        if os.environ.get("HOTLINE_SCREENSHOTS") == "1":
            second = simulator.locator("#add-phone")
            second.click()
            expect(simulator.locator(".phone")).to_have_count(2)
            other = simulator.locator(".phone").nth(1)
            text_and_wait(other, "Hola", 1, expect)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            simulator.screenshot(path=str(SCREENSHOTS / "simulator.png"), full_page=True)
    finally:
        context.close()

    assert errors == []
    demo.popen.send_signal(signal.SIGINT)
    assert demo.popen.wait(10) == 0
    deadline = time.monotonic() + 5
    while "hotline demo stopped" not in demo.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "hotline demo stopped" in demo.output()
    assert "Traceback" not in demo.output()
    assert '"POST /twilio/sms' in demo.output()
    assert '"GET /simulator/api/' not in demo.output()  # the page's polls stay out of the log
    assert (demo.folder / "instance" / "hotline.sqlite3").exists()  # its own, not the repo's
