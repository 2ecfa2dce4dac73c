"""The console in a real browser: a hotline served over HTTP on 127.0.0.1, the real twilio client
talking to the local fake Twilio API (status callbacks included), and Debian's Chromium driven
by Playwright. No browser is ever downloaded: without /usr/bin/chromium these tests skip (and
fail under ``CI=true``).
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    expect,
    sync_playwright,
)
from werkzeug.serving import WSGIRequestHandler, make_server

from hotline import create_app, runtime_of
from hotline.db.migrate import upgrade
from hotline.db.models import QuickReply, Referral
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.staff import do_create_staff
from hotline.settings import Mode, Settings
from hotline.sms.signature import sign
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_DATA_KEY, new_phone, unavailable
from tests.helpers import sms_form
from tests.support.fake_twilio import FakeMessage, FakeTwilio
from tests.support.stack import free_port, wait_until

# The suite runs on two processes (pytest-xdist), so two browsers and two servers share the
# machine: a step may take longer than playwright's default 5 s. Waiting longer changes no
# verdict (an assertion still fails if it never holds), and an assertion of a promised time
# ("a new text within 2 s") passes its own timeout.
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
VIEWPORT = {"width": 1440, "height": 900}
REPLY_TIMEOUT = 10.0  # seconds for the hotline's answer to reach the fake Twilio API
SHORTCODE = "+15005550006"
QUICK_REPLY = ("Safety planning", "We can make a safety plan together, step by step.")
REFERRAL = {
    "name": "Casa Segura",
    "services": "emergency shelter and legal advice",
    "area": "Texas",
    "phone": "+1 555 0100",
    "hours": "24/7",
    "language": "English, Spanish",
}
REFERRAL_TEXT = "Casa Segura: emergency shelter and legal advice. +1 555 0100 (24/7)"


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # the console polls every second: a line per request is only noise


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str = PASSWORD


@dataclass
class Texter:
    """Someone texting the hotline from their own fresh number, through signed webhooks."""

    hotline: Hotline
    phone: str = field(default_factory=new_phone)

    def replies(self) -> list[FakeMessage]:
        """What the hotline sent this texter, as the fake Twilio API took it."""
        return [m for m in self.hotline.fake.messages if m.to == self.phone]

    def says(self, body: str, replies: int = 1) -> list[FakeMessage]:
        """Text ``body``; wait until ``replies`` more texts reached the fake API, return them."""
        before = len(self.replies())
        self.hotline.post_sms(self.phone, body)
        if replies:
            wait_until(
                lambda: len(self.replies()) >= before + replies,
                REPLY_TIMEOUT,
                f"{replies} reply(ies) to {body!r}",
            )
        return self.replies()[before:]

    def triage(self, needs: str = "I need help", location: str = "TX") -> None:
        """Answer every triage question (not in danger, safe to text) and so join the queue."""
        for body in ("hi", "no", "yes", needs, location):
            self.says(body)


@dataclass
class Hotline:
    url: str
    fake: FakeTwilio
    app: Flask
    http: requests.Session

    def post_sms(self, phone: str, body: str) -> None:
        form = sms_form(phone, body)
        signature = sign(TEST_AUTH_TOKEN, self.url + "/twilio/sms", form)
        with self.http.post(
            self.url + "/twilio/sms",
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=5,
        ) as response:
            assert response.status_code == 200, response.text

    def texter(self) -> Texter:
        return Texter(self)

    def staff(self, name: str, role: str = "advocate") -> Account:
        runtime = runtime_of(self.app)
        email = f"{name}-{new_phone()[-6:]}@example.org"
        with runtime.sessions.begin() as session:
            user = do_create_staff(session, email, PASSWORD, role, runtime.clock.now())
            return Account(user.id, user.email)

    def seed_tools(self) -> None:
        """A quick reply in English and Spanish, and two referrals."""
        with runtime_of(self.app).sessions.begin() as session:
            session.add(QuickReply(language="en", title=QUICK_REPLY[0], body=QUICK_REPLY[1]))
            session.add(
                QuickReply(language="es", title="Plan de seguridad", body="Podemos hacer un plan.")
            )
            session.add(Referral(**REFERRAL))
            session.add(
                Referral(
                    name="Workers' Rights Line",
                    services="wage theft and labor rights",
                    area="Nationwide",
                    phone="+1 555 0199",
                    hours="Mon-Fri 9-5",
                    language="English",
                )
            )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, once per test session. Never a downloaded browser."""
    if not CHROMIUM.exists():
        unavailable("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    """Settings a test module wants changed (override this fixture), e.g. a short idle time."""
    return {}


@pytest.fixture
def hotline(
    tmp_path: Path, sqlite_template: Path, hotline_settings: dict[str, Any]
) -> Iterator[Hotline]:
    """A hotline of this test's own: its own database, task thread, fake Twilio and port."""
    database = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, database)
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    fake.start()
    port = free_port()
    settings = Settings(
        mode=Mode.DEVELOPMENT,
        database_url=f"sqlite:///{database}",
        secret_key="browser-secret",
        data_keys=(TEST_DATA_KEY,),
        public_url=f"http://127.0.0.1:{port}",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from=SHORTCODE,
        twilio_api_base=fake.base_url,
        twilio_timeout_seconds=3,
    ).with_overrides(**hotline_settings)
    queue = InProcessQueue(start=True)
    app = create_app({"settings": settings, "tasks": queue})
    upgrade(runtime_of(app).engine)  # already current: the template is migrated
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    http = requests.Session()
    try:
        yield Hotline(settings.public_url or "", fake, app, http)
    finally:
        http.close()
        server.shutdown()
        server.server_close()
        thread.join(5)
        queue.stop()
        fake.stop()
        runtime_of(app).engine.dispose()


@dataclass
class Console:
    """One browser (its own cookies) on the console, with what went wrong in it recorded."""

    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def sign_in(self, account: Account, password: str | None = None) -> None:
        page = self.page
        if "/login" not in page.url:
            page.goto("/login")
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill(password or account.password)
        page.get_by_role("button", name="Sign in").click()
        if password is None:
            # Supervisors and admins land on their board (hotline.web.landing): this is the
            # console's sign-in, so go on to it.
            page.wait_for_url(re.compile(r"/(console|supervisor)(#.*)?$"))
            if urlsplit(page.url).path == "/supervisor":
                page.goto("/console")
            page.wait_for_selector("#availability:not([disabled])")

    def set_available(self) -> None:
        switch = self.page.locator("#availability")
        expect(switch).to_be_enabled()
        if switch.get_attribute("aria-checked") != "true":
            switch.click()
        expect(switch).to_have_attribute("aria-checked", "true")
        expect(switch).to_have_text("Available")

    def fetch_status(
        self, path: str, method: str = "GET", body: dict[str, Any] | None = None
    ) -> int:
        """What the API answers this browser, with its cookie and the page's CSRF token."""
        status = self.page.evaluate(
            """async ([path, method, body]) => {
                const meta = document.querySelector('meta[name="csrf-token"]');
                const init = {method, headers: {}};
                if (method !== "GET") {
                    init.headers["Content-Type"] = "application/json";
                    init.headers["X-CSRF-Token"] = meta ? meta.content : "";
                    init.body = JSON.stringify(body || {});
                }
                return (await fetch(path, init)).status;
            }""",
            [path, method, body],
        )
        assert isinstance(status, int)
        return status

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.page_errors == [], f"script errors: {self.page_errors}"
        assert self.csp_violations == [], f"CSP violations: {self.csp_violations}"


@pytest.fixture
def open_console(chromium: Browser, hotline: Hotline) -> Iterator[Callable[[], Console]]:
    """Open a fresh browser context (no cookies) on the hotline; all closed after the test."""
    opened: list[Console] = []

    def factory() -> Console:
        context = chromium.new_context(base_url=hotline.url, viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(8000)
        page = context.new_page()
        console = Console(context, page)

        def on_dialog(dialog: Dialog) -> None:
            console.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                console.csp_violations.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: console.page_errors.append(str(error)))
        page.on("console", on_console)
        opened.append(console)
        return console

    yield factory
    for console in opened:
        console.context.close()
