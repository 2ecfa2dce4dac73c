"""WCAG 2.2 AA on every staff page, in a real browser.

axe-core (from the npm registry, injected by :mod:`tests.browser.axe`) finds no serious or
critical violation on any page staff see: sign-in, the code step, the console (and its narrow
tabs), the supervisor's board, logs, metrics and audit trail, quality review, settings,
administration, the password and two-factor pages and a refusal. Under ``CI=true`` a missing
axe-core or Chromium fails these tests rather than skipping them. Each page also has one ``h1``
and a skip link that is the first thing the keyboard reaches; the focus ring is the dark one
with its white halo; single-key shortcuts can be switched off and stay off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from hotline.domain import totp
from tests.browser.axe import violations
from tests.browser.conftest import PASSWORD, Console, Hotline
from tests.browser.pages import open_supervisor
from tests.signing_in import switch_on_two_factor

SERIOUS = ("serious", "critical")


def serious(page: Page, where: str) -> list[dict[str, Any]]:
    found = [v for v in violations(page) if v["impact"] in SERIOUS]
    assert found == [], f"{where}: {found}"
    return found


def headed_and_skippable(page: Page, where: str) -> None:
    """One h1; the first Tab reaches a visible "Skip to main content" that lands in <main>."""
    expect(page.locator("h1"), where).to_have_count(1)
    # Start from the top of the page, as a fresh visit without an autofocused field does.
    page.evaluate(
        """() => {
            document.body.tabIndex = -1;
            document.body.focus();
            document.body.removeAttribute("tabindex");
        }"""
    )
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip, where).to_be_focused()
    expect(skip, where).to_be_in_viewport()
    page.keyboard.press("Enter")
    landed = page.evaluate("() => !!document.activeElement.closest('main')")
    assert landed, f"{where}: the skip link did not reach the main region"


def repeated_names(page: Page) -> list[str]:
    """Names that more than one visible button or link shares (WCAG 2.4.6, 2.4.9: a screen
    reader's list of controls must say which "Claim" is which)."""
    found = page.evaluate(
        """() => {
            const seen = new Map();
            for (const node of document.querySelectorAll("button, a[href], [role=button]")) {
                if (!node.checkVisibility()) continue;
                const label = node.getAttribute("aria-label");
                const name = (label || node.textContent || "").replace(/\\s+/g, " ").trim();
                const href = node.tagName === "A" ? node.getAttribute("href") : "";
                const key = name + "\\u0000" + href; // links with one name and one target are one
                seen.set(key, (seen.get(key) || 0) + 1);
            }
            return [...seen].filter(([, n]) => n > 1).map(([key]) => key.split("\\u0000")[0]);
        }"""
    )
    assert isinstance(found, list)
    return [str(name) for name in found]


def check(page: Page, where: str) -> None:
    serious(page, where)
    headed_and_skippable(page, where)
    assert repeated_names(page) == [], where


def test_no_serious_violation_on_any_staff_page(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    hotline.seed_tools()
    texter = hotline.texter()
    texter.triage(needs="I need help")
    hotline.texter().triage(needs="somewhere to sleep")

    # Signing in, and the code step.
    guarded = hotline.staff("guarded")
    secret = switch_on_two_factor(hotline.app, guarded.id)
    first = open_console()
    page = first.page
    page.goto("/login")
    check(page, "login")
    page.get_by_label("Email").fill(guarded.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code")
    check(page, "code")
    page.get_by_label(re.compile("Six-digit code")).fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/console")

    # The console: the queue, an open conversation with its tools, the narrow tabs.
    alice = hotline.staff("alice")
    console = open_console()
    page = console.page
    console.sign_in(alice)
    console.set_available()
    expect(page.locator("#queue-list > li")).to_have_count(2)
    check(page, "console, queue")
    claims = page.locator("#queue-list .claim")
    names = [claims.nth(i).get_attribute("aria-label") for i in range(claims.count())]
    assert len(set(names)) == len(names) == 2, names  # unique names for repeated buttons
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    page.locator("#referral-search").fill("shelter")
    expect(page.locator("#referrals .referral")).to_have_count(1)
    check(page, "console, conversation")
    page.get_by_role("button", name="Case record", exact=True).click()  # issue 20
    expect(page.get_by_role("dialog", name="Case record")).to_be_visible()
    serious(page, "console, case record")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Case record")).to_be_hidden()
    page.get_by_text("Account").click()
    check(page, "console, account menu")
    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.get_by_role("tablist", name="Console panes")).to_be_visible()
    serious(page, "console, tabs")
    page.get_by_role("tab", name="Details").click()
    serious(page, "console, details tab")
    page.get_by_role("tab", name="Queue").click()
    serious(page, "console, queue tab")
    page.goto("/account")
    check(page, "your name")
    page.goto("/account/password")
    check(page, "password")
    page.goto("/account/two-factor")
    check(page, "two-factor")
    page.goto("/supervisor")  # an advocate: refused, on a page of its own
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    check(page, "refusal")

    # The supervisor's pages.
    lead = hotline.staff("lead", role="admin")
    board = open_console()
    page = open_supervisor(board, lead)
    expect(page.locator("#waiting-total")).not_to_have_text("–")
    check(page, "supervisor board")
    for tab in ("Logs", "Metrics", "Audit trail"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        page.wait_for_load_state("networkidle")
        serious(page, f"supervisor {tab}")
    page.get_by_text("Account").click()
    serious(page, "supervisor account menu")
    for path, where in (
        ("/supervisor/reviews", "quality review"),
        ("/supervisor/reports", "reports"),
        ("/supervisor/settings", "settings"),
        ("/supervisor/admin", "administration"),
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        check(page, where)
    for opened in (first, console, board):
        opened.assert_clean()


def test_the_focus_ring_is_dark_with_a_white_halo(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    console = open_console()
    page = console.page
    page.goto("/login")
    page.get_by_label("Email").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_focused()
    ring = button.evaluate(
        """(node) => {
            const style = getComputedStyle(node);
            return [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow];
        }"""
    )
    assert ring[:3] == ["solid", "3px", "rgb(29, 35, 48)"], ring
    assert "rgb(255, 255, 255)" in ring[3], ring


def test_single_key_shortcuts_can_be_switched_off(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    hotline.texter().triage(needs="I need help")
    alice = hotline.staff("alice")
    console = open_console()
    page = console.page
    console.sign_in(alice)
    console.set_available()
    expect(page.locator("#queue-list > li")).to_have_count(1)

    page.get_by_text("Account").click()
    switch = page.get_by_label(re.compile("Single-key shortcuts"))
    expect(switch).to_be_checked()
    switch.uncheck()
    assert page.evaluate("() => localStorage.getItem('hotline.shortcuts')") == "off"
    expect(page.locator("#take-next")).not_to_have_attribute("aria-keyshortcuts", "n")
    expect(page.locator(".shortcuts .single-key")).to_be_hidden()

    page.locator("#queue-heading").click()  # the keyboard on the page, not in a field
    page.keyboard.press("n")
    page.wait_for_timeout(800)
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator("#queue-list > li")).to_have_count(1)

    # It stays off across a reload; on again, "n" takes the next texter.
    page.reload()
    page.wait_for_selector("#availability:not([disabled])")
    page.get_by_text("Account").click()
    expect(switch).not_to_be_checked()
    switch.check()
    assert page.evaluate("() => localStorage.getItem('hotline.shortcuts')") == "on"
    page.locator("#queue-heading").click()
    page.keyboard.press("n")
    expect(page.locator("#conversation")).to_be_visible()
    expect(page.locator("#queue-list > li")).to_have_count(0)
    console.assert_clean()
