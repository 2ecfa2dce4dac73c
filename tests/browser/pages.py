"""What the browser tests share beyond the fixtures: screenshots for the docs, how soon the pages
promise to show news, signing in to the supervisor's board, and finding a texter's conversation."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Conversation
from hotline.db.models import Texter as TexterRow
from tests.browser.conftest import PASSWORD, Account, Console, Hotline, Texter

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE = 2000  # ms: what the console promises for anything new to show without a reload


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("HOTLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def open_supervisor(console: Console, account: Account) -> Page:
    """Sign in through /supervisor itself (the login page sends them back there)."""
    page = console.page
    page.goto("/supervisor")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)supervisor$"))
    console.sign_in(account, password=PASSWORD)
    page.wait_for_url("**/supervisor")
    expect(page.locator("#who")).to_have_text(account.email)
    return page


def name_of(account: Account) -> str:
    """How staff see an account without a display name: its email's local part."""
    return account.email.partition("@")[0]


def conversation_of(hotline: Hotline, texter: Texter) -> int:
    """The id of the texter's newest conversation."""
    runtime = runtime_of(hotline.app)
    with runtime.sessions() as session:
        conversation_id = session.scalar(
            select(Conversation.id)
            .join(TexterRow, TexterRow.id == Conversation.texter_id)
            .where(TexterRow.phone_hash == runtime.triage.vault.phone_hash(texter.phone))
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    assert conversation_id is not None
    return int(conversation_id)
