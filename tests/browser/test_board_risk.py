"""The board's risk signs and names in Chromium (issue 18): an urgent texter waiting past the
threshold and a texter whose texts go unanswered show on the live board and raise one alert
each, by the timer job running on its own; advocates are shown by name, on the board, in alerts
and in the audit trail; an administrator renames an account and a staff member names
themselves. The board is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Availability, Event, Message, StaffUser
from hotline.domain.delivery import Direction
from hotline.services.claims import do_claim
from hotline.services.console import Console as ConsoleRules
from hotline.services.supervision import Supervision
from tests.browser.axe import violations
from tests.browser.conftest import REPLY_TIMEOUT, Account, Console, Hotline
from tests.browser.pages import conversation_of, open_supervisor, screenshot
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser

LIVE_BOARD = 8000  # ms: the board looks again at least every 5 s, the timer job every 0.5 s


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    # Seconds instead of minutes: an urgent wait alerts after 1.2 s, an unanswered text after 3 s.
    return {
        "timer_tick_seconds": 0.5,
        "urgent_wait_alert_minutes": 0.02,
        "unanswered_alert_minutes": 0.05,
        "presence_grace_minutes": 30.0,  # the advocates here have no console open
    }


def on_shift(hotline: Hotline, account: Account, name: str) -> None:
    """Named, available, and (as far as presence goes) with a console open."""
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        user = session.get_one(StaffUser, account.id)
        user.display_name = name
        user.availability = Availability.AVAILABLE
        user.console_seen_at = runtime.clock.now()


def alerts(hotline: Hotline, kind: str) -> int:
    with runtime_of(hotline.app).sessions() as session:
        found = session.scalars(select(Event).where(Event.kind == "alert")).unique()
        return sum(1 for e in found if (e.detail or {}).get("alert") == kind)


def test_the_board_shows_who_waits_and_who_goes_unanswered_and_alerts_once(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", "supervisor")
    ana, ben = hotline.staff("ana"), hotline.staff("ben")
    on_shift(hotline, ana, "Ana Ortiz")
    on_shift(hotline, ben, "Ben Li")
    texter = hotline.texter()
    texter.says("he has a gun")
    conversation_id = conversation_of(hotline, texter)

    console = open_console()
    page = open_supervisor(console, supervisor)

    # -- an urgent texter waiting past the threshold ------------------------------------------
    waiting = page.locator(f'#waiting-list > li[data-id="{conversation_id}"]')
    expect(waiting.locator(".chip.overdue")).to_have_text("Overdue", timeout=LIVE_BOARD)
    waited = page.locator('#alert-list > li[data-kind="urgent_waiting"]')
    expect(waited).to_have_count(1, timeout=LIVE_BOARD)
    expect(waited).to_contain_text("An urgent texter has waited too long")
    expect(waited).to_contain_text(re.compile(r"Why: waiting in the queue for \d+ minute"))

    # -- Ana takes them; they text twice more; nobody answers ----------------------------------
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        do_claim(session, runtime.triage, conversation_id, ana.id, runtime.clock.now())
    for body in ("are you there?", "please answer"):
        hotline.post_sms(texter.phone, body)

    def inbound_processed() -> int:
        with runtime.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        Message.conversation_id == conversation_id,
                        Message.direction == Direction.INBOUND,
                    )
                )
                or 0
            )

    wait_until(lambda: inbound_processed() == 3, REPLY_TIMEOUT, "the two texts processed")

    card = page.locator("#advocate-list > li").filter(has_text="Ana Ortiz")
    expect(card.locator(".email")).to_have_text("Ana Ortiz", timeout=LIVE_BOARD)
    row = card.locator(f'.active-row[data-id="{conversation_id}"]')
    expect(row.locator(".chip.no-reply")).to_have_text("No reply yet")
    expect(row.locator(".tick.unanswered")).to_contain_text("3 texts unanswered")
    expect(row.locator(".chip.overdue")).to_have_text("Overdue", timeout=LIVE_BOARD)
    unanswered = page.locator('#alert-list > li[data-kind="unanswered"]')
    expect(unanswered).to_have_count(1, timeout=LIVE_BOARD)
    expect(unanswered).to_contain_text("A texter's texts are going unanswered")
    expect(unanswered).to_contain_text("Advocate: Ana Ortiz")
    expect(unanswered).to_contain_text("no reply yet; 3 texts unanswered")
    # The texter's words and number are nowhere on the board.
    content = page.content()
    assert "are you there?" not in content and texter.phone[2:] not in content
    screenshot(page, "board-risk.png")
    found = violations(page, None)
    assert found == [], found

    # The job ticks on: still one alert of each kind for these episodes.
    page.wait_for_timeout(1500)
    assert (alerts(hotline, "urgent_waiting"), alerts(hotline, "unanswered")) == (1, 1)

    # -- the audit trail names who moved the texter, not their ids ------------------------------
    boss_rules = ConsoleRules(runtime.triage, 3, timedelta(minutes=30))
    with runtime.sessions.begin() as session:
        boss = session.get_one(StaffUser, supervisor.id)
        Supervision(boss_rules).reassign(
            session, boss, conversation_id, ben.id, runtime.clock.now()
        )
    page.get_by_role("tab", name="Audit trail").click()
    audit = page.locator("#audit-filters")
    audit.get_by_label("Conversation #").fill(str(conversation_id))
    audit.get_by_role("button", name="Search").click()
    moved = page.locator('#audit-rows > tr[data-kind="reassigned"]')
    expect(moved).to_contain_text("from_staff: Ana Ortiz")
    expect(moved).to_contain_text("to_staff: Ben Li")
    expect(moved).to_contain_text("sam-")  # the supervisor, by the name they have (none set)
    console.assert_clean()


def test_an_administrator_renames_and_a_staff_member_names_themselves(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    admin = hotline.staff("ada", role="admin")
    advocate = hotline.staff("dana")
    console = open_console()
    console.sign_in(admin)
    page: Page = console.page
    page.goto("/supervisor/admin")
    row = page.locator("#account-rows tr[data-id]", has_text=advocate.email)
    row.get_by_role("button", name=f"Rename {advocate.email}").click()
    box = page.get_by_role("group", name=f"Rename {advocate.email}")
    box.get_by_label("Display name").fill("Dana\u202eRuiz")
    box.get_by_role("button", name="Save name").click()
    expect(box.locator("[aria-invalid=true]")).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("control or invisible characters")
    box.get_by_label("Display name").fill("Dana Ruiz")
    box.get_by_role("button", name="Save name").click()
    expect(page.locator("#status")).to_have_text(f"{advocate.email} is now shown as Dana Ruiz.")
    expect(row.locator(".staff-name")).to_have_text("Dana Ruiz")

    theirs = open_console()
    theirs.sign_in(advocate)
    own = theirs.page
    own.goto("/account")
    expect(own.get_by_label(re.compile("^Display name"))).to_have_value("Dana Ruiz")
    own.get_by_label(re.compile("^Display name")).fill("Dani R")
    own.get_by_role("button", name="Save").click()
    expect(own.locator("#name-saved")).to_have_text("Saved. You are shown as Dani R.")
    found = violations(own, None)
    assert found == [], found
    console.assert_clean()
    theirs.assert_clean()
