"""Earlier conversations and the case search in the console, in Chromium: a returning texter's
earlier conversation opens with its summary, disposition and notes (as text, never markup);
an advocate finds their own cases, and only theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import violations
from tests.browser.conftest import Account, Console, Hotline, Texter
from tests.browser.pages import conversation_of, screenshot

pytestmark = pytest.mark.browser

NOTE = "Employer holds her passport. <img src=x onerror=alert(1)>"
SUMMARY = "Referred to legal aid for her documents."


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    return {"survey_enabled": False}  # a returning "hi" starts a new conversation at once


def api(page: Page, path: str, body: dict[str, Any]) -> int:
    status = page.evaluate(
        """async ([path, body]) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const response = await fetch(path, {method: "POST", body: JSON.stringify(body),
                headers: {"Content-Type": "application/json", "X-CSRF-Token": token}});
            return response.status;
        }""",
        [path, body],
    )
    assert isinstance(status, int)
    return status


def at_console(open_console: Callable[[], Console], account: Account) -> Console:
    console = open_console()
    console.sign_in(account)
    console.set_available()
    return console


def handle_and_close(hotline: Hotline, console: Console, texter: Texter) -> int:
    page = console.page
    page.locator("#take-next").click()
    expect(page.locator("#conversation")).to_be_visible()
    conversation_id = conversation_of(hotline, texter)
    path = f"/console/api/conversations/{conversation_id}"
    assert api(page, f"{path}/notes", {"body": NOTE}) == 200
    assert (
        api(
            page,
            f"{path}/close",
            {"disposition": "referred", "summary": SUMMARY, "confirmed": True},
        )
        == 200
    )
    return conversation_id


def test_a_returning_texters_earlier_conversation_opens_in_the_console(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    ann, ben = hotline.staff("ann"), hotline.staff("ben")
    texter = hotline.texter()
    texter.triage()
    ann_console = at_console(open_console, ann)
    handle_and_close(hotline, ann_console, texter)

    texter.triage()  # the same number, back again
    ben_console = at_console(open_console, ben)
    page = ben_console.page
    page.locator("#take-next").click()
    expect(page.locator("#conv-returning")).to_be_visible()
    earlier = page.locator("#earlier > li")
    expect(earlier).to_have_count(1)
    toggle = earlier.first.get_by_role("button", name="Show details")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    details = earlier.first.locator(".past-details")
    expect(details).to_contain_text(SUMMARY)
    expect(details).to_contain_text("Referred")  # the disposition's label
    expect(details).to_contain_text(NOTE)  # the note's words, as text
    expect(details.locator("img")).to_have_count(0)
    expect(details).to_contain_text(ann.email.partition("@")[0])  # who wrote it
    hide = earlier.first.get_by_role("button", name="Hide details")
    expect(hide).to_have_attribute("aria-expanded", "true")
    screenshot(page, "console-earlier-conversation.png")
    assert violations(page, ["#tools"]) == []
    hide.click()
    expect(details).to_be_hidden()
    ben_console.assert_clean()
    ann_console.assert_clean()


def test_an_advocate_searches_their_own_recent_cases(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    ann, ben = hotline.staff("ann"), hotline.staff("ben")
    texter = hotline.texter()
    texter.triage()
    ann_console = at_console(open_console, ann)
    closed_id = handle_and_close(hotline, ann_console, texter)
    page = ann_console.page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    search = page.get_by_label("Search your cases of the last 30 days")
    search.fill("PASSPORT")
    page.get_by_role("button", name="Search", exact=True).click()
    cases = page.locator("#cases > li")
    expect(cases).to_have_count(1)
    expect(cases.first).to_contain_text(SUMMARY)
    cases.first.get_by_role("button", name="Show details").click()
    expect(cases.first.locator(".past-details")).to_contain_text(NOTE)
    assert not any("passport" in url.lower() for url in requests)  # never in a URL

    search.fill("shelter")
    search.press("Enter")
    expect(page.locator("#cases-empty")).to_be_visible()
    expect(cases).to_have_count(0)

    # A case still held opens in the middle pane.
    other = hotline.texter()
    other.triage(needs="somewhere to sleep")
    page.locator("#take-next").click()
    # The conversation opens with the reply box focused: wait for it, or Enter goes there.
    expect(page.locator("#reply")).to_be_focused()
    held_id = conversation_of(hotline, other)
    search.fill("")
    search.press("Enter")
    expect(cases).to_have_count(2)
    cases.first.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{hotline.url}/console#c={held_id}")
    assert closed_id != held_id
    screenshot(page, "console-case-search.png")
    assert violations(page, [".my-cases"]) == []

    # Ben handled none of it: his search finds nothing of Ann's.
    ben_console = at_console(open_console, ben)
    ben_page = ben_console.page
    ben_page.get_by_label("Search your cases of the last 30 days").fill("passport")
    ben_page.get_by_role("button", name="Search", exact=True).click()
    expect(ben_page.locator("#cases-empty")).to_be_visible()
    refused = ben_page.evaluate(
        "async (path) => (await fetch(path)).status", f"/console/api/past-conversations/{closed_id}"
    )
    assert refused == 404
    ann_console.assert_clean()
    ben_console.assert_clean()
