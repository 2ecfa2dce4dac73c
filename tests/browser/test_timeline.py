"""One timeline, written once: the console, the supervisor's viewer (watched from the board,
opened from the logs) and the quality review render a conversation through the same module,
hotline/static/timeline.js, so the same conversation reads the same, label for label, on each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Conversation
from hotline.domain.review import week_of
from tests.browser.conftest import REPLY_TIMEOUT, Console, Hotline
from tests.browser.pages import LIVE, conversation_of, open_supervisor
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    """The survey waits for the end of the reopen window after closing: a short window here,
    and timers looked at often, so the survey comes within the tests' waits."""
    return {"reopen_minutes": 0.02, "timer_tick_seconds": 2.0}


NEEDS = "I need somewhere safe <b>tonight</b>"
REPLY = "We can find you a shelter tonight. Are you somewhere safe right now?"
NOTE = "Asked for a shelter near the bus station."


def status_labels(page: Page) -> dict[str, str]:
    """The STATUS_LABELS of the timeline module this page loaded (the same module instance)."""
    labels = page.evaluate(
        'async () => ({ ...(await import("/static/timeline.js")).STATUS_LABELS })'
    )
    assert isinstance(labels, dict)
    return {str(status): str(label) for status, label in labels.items()}


def loaded_the_module(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => performance.getEntriesByType("resource")
                .some((entry) => new URL(entry.name).pathname === "/static/timeline.js")"""
        )
    )


def same_timeline(shown: Locator, expected: str) -> None:
    """The list holds exactly the markup of another page's timeline (waiting out a refetch)."""
    expect(shown).to_have_js_property("innerHTML", expected)


def test_the_console_supervisor_and_review_render_one_timeline_alike(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, lead = hotline.staff("alice"), hotline.staff("lead", "supervisor")
    texter = hotline.texter()
    texter.triage(needs=NEEDS)

    # Alice takes the texter, replies (delivered) and writes a note.
    advocate = open_console()
    advocate.sign_in(alice)
    advocate.set_available()
    page = advocate.page
    page.get_by_role("button", name="Take next").click()
    console_timeline = page.locator("#timeline")
    expect(console_timeline).to_contain_text(NEEDS)  # as text, never as markup
    page.locator("#reply").fill(REPLY)
    page.locator("#reply").press("Control+Enter")
    reply = console_timeline.locator(".message.outbound").filter(has_text=REPLY)
    labels = status_labels(page)
    assert labels["delivered"] == "delivered"
    expect(reply.locator(".delivery")).to_have_text(labels["delivered"], timeout=5000)
    expect(reply).to_have_attribute("data-status", "delivered")
    page.get_by_label("Private note").fill(NOTE)
    page.get_by_role("button", name="Add note").click()
    expect(console_timeline.locator(".note")).to_contain_text(NOTE)
    # What the copies used to disagree on, settled one way for every page: only what the
    # hotline sent has a delivery status, and every event says which it is.
    expect(console_timeline.locator(".message.inbound .delivery")).to_have_count(0)
    expect(console_timeline.locator('[data-event="claimed"]')).to_have_count(1)
    advocate_view = console_timeline.inner_html()
    conversation_id = conversation_of(hotline, texter)

    # The supervisor watches it from the board: the same items, in the same words and markup.
    supervisor = open_console()
    spage = open_supervisor(supervisor, lead)
    spage.locator(f'[data-action="watch-{conversation_id}"]').click()
    watched = spage.locator("#viewer-timeline")
    expect(watched).to_contain_text(NOTE, timeout=LIVE)
    watched_reply = watched.locator(".message.outbound").filter(has_text=REPLY)
    expect(watched_reply.locator(".delivery")).to_have_text(labels["delivered"])
    assert status_labels(spage) == labels
    same_timeline(watched, advocate_view)

    # Alice closes it; the texter answers the survey, which ends it; a week on it is sampled for
    # review.
    page.locator("#disposition").select_option("referred")
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator("#status")).to_have_text("Conversation closed.")
    wait_until(
        lambda: any("1 (not at all) to 5" in m.body for m in texter.replies()),
        REPLY_TIMEOUT,
        "the survey",
    )
    texter.says("5")
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.closed_at is not None
        conversation.opened_at -= timedelta(days=8)
        conversation.closed_at -= timedelta(days=8)
        closed_at = conversation.closed_at
    assert jobs.draw_reviews(runtime, week_of(closed_at.date())).sampled == [conversation_id]

    # Closed, it reads the same in the supervisor's viewer (from the logs), in the console and
    # on the review page.
    for shown in ("Closed by the advocate — referred", "Conversation ended"):
        expect(watched).to_contain_text(shown, timeout=LIVE)
    spage.get_by_role("tab", name="Logs").click()
    spage.locator(f'#log-rows tr[data-id="{conversation_id}"]').click()
    expect(watched).to_contain_text("Triage answer — survey: scored")
    # Nothing more will happen to it once every text the hotline sent is delivered.
    expect(watched.locator('.message.outbound:not([data-status="delivered"])')).to_have_count(0)
    closed_view = watched.inner_html()
    assert REPLY in closed_view and NOTE in closed_view

    spage.goto(f"/console#c={conversation_id}")
    in_console = spage.locator("#timeline")
    expect(in_console).to_contain_text(REPLY)
    same_timeline(in_console, closed_view)
    assert loaded_the_module(spage)

    spage.goto("/supervisor/reviews")
    spage.get_by_role("button", name=f"Open conversation {conversation_id} for review").click()
    reviewed = spage.locator("#viewer-timeline")
    expect(reviewed).to_contain_text(REPLY)
    same_timeline(reviewed, closed_view)
    reviewed_reply = reviewed.locator(".message.outbound").filter(has_text=REPLY)
    expect(reviewed_reply.locator(".delivery")).to_have_text(labels["delivered"])
    assert loaded_the_module(spage)
    assert status_labels(spage) == labels

    assert page.evaluate("() => window.__pwned") is None
    advocate.assert_clean()
    supervisor.assert_clean()
