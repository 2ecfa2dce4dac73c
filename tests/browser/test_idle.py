"""The idle prompt in a real browser: a console left alone asks "still there?" before the
session ends; the button keeps the session; ignored, the session ends on the server and the
page goes to sign-in (issue 15, item 9).

The idle limit is made short for the test: 15 seconds, the prompt 9 seconds before the end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import StaffSession
from tests.browser.axe import violations
from tests.browser.conftest import Console, Hotline

pytestmark = pytest.mark.browser

IDLE_SECONDS = 15.0
WARNING_SECONDS = 9.0


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    return {
        "session_idle_minutes": IDLE_SECONDS / 60,
        "session_idle_warning_minutes": WARNING_SECONDS / 60,
    }


def sessions_of(hotline: Hotline, staff_id: int) -> list[StaffSession]:
    with runtime_of(hotline.app).sessions() as session:
        return list(session.scalars(select(StaffSession).where(StaffSession.user_id == staff_id)))


def test_the_still_there_prompt_keeps_or_ends_the_session(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ines")
    console = open_console()
    page = console.page
    console.sign_in(advocate)
    loaded = time.monotonic()

    # Left alone (the page polls every second all the same): asked before the end.
    prompt = page.get_by_role("alertdialog", name="Are you still there?")
    expect(prompt).to_be_visible(timeout=(IDLE_SECONDS - WARNING_SECONDS + 4) * 1000)
    assert time.monotonic() - loaded >= IDLE_SECONDS - WARNING_SECONDS - 1.5
    expect(prompt).to_contain_text("you will be signed out in")
    button = prompt.get_by_role("button", name="I'm still here")
    expect(button).to_be_focused()
    assert violations(page, ["#idle-heading", ".idle-dialog"]) == []

    # The button counts as an action: the prompt goes, and the session outlives its first limit.
    button.click()
    expect(prompt).to_be_hidden()
    kept = time.monotonic()
    page.wait_for_timeout(max(0.0, loaded + IDLE_SECONDS + 1 - time.monotonic()) * 1000)
    expect(page).to_have_url(re.compile(r"/console$"))
    [live] = sessions_of(hotline, advocate.id)
    assert live.ended_at is None

    # Ignored: asked again, then the session ends on the server and the page goes to sign-in.
    expect(prompt).to_be_visible(timeout=(IDLE_SECONDS - WARNING_SECONDS + 4) * 1000)
    expect(page).to_have_url(
        re.compile(r"/login\?next=(%2F|/)console$"), timeout=(IDLE_SECONDS + 6) * 1000
    )
    assert time.monotonic() - kept >= IDLE_SECONDS - 1
    [ended] = sessions_of(hotline, advocate.id)
    assert ended.ended_at is not None
    assert console.fetch_status("/console/api/me") == 401
    console.assert_clean()
