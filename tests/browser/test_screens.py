"""The console and the supervisor's board on a tablet, a small laptop, a desktop and at 200% zoom.

200% zoom on a 1440 x 900 screen lays the page out in 720 x 450 CSS pixels: that is the viewport
these tests give it. Wherever it is, the reply box is in view without scrolling the page; below
900 px the three panes are tabs (Queue / Conversation / Details) that the keyboard can work; the
supervisor's top bar is one line at 1440 px, with its administration links spaced apart.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Console, Hotline
from tests.browser.pages import open_supervisor, screenshot

SIZES = {
    "tablet portrait": (768, 1024),
    "tablet landscape": (1024, 768),
    "small laptop": (1024, 640),
    "desktop": (1440, 900),
    "200% zoom": (720, 450),
}
TABS_BELOW = 900


def in_view(page: Page, selector: str) -> None:
    """The element is wholly inside the viewport, and the page itself does not scroll."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None, selector
    assert box["y"] >= 0 and box["x"] >= 0, (selector, box)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (selector, box, size)
    assert box["x"] + box["width"] <= size["width"] + 0.5, (selector, box, size)
    scroll = page.evaluate("() => [document.scrollingElement.scrollHeight, window.innerHeight]")
    assert scroll[0] <= scroll[1], f"the page scrolls: {scroll}"


def test_the_reply_box_is_always_in_view(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    texter = hotline.texter()
    texter.triage(needs="I need help with somewhere safe to stay, and with my papers " * 3)
    for n in range(6):  # a timeline taller than any screen here
        texter.says(f"one more thing, number {n}\nand another line\nand a third", replies=0)

    console = open_console()
    page = console.page
    console.sign_in(alice)
    console.set_available()
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("number 5")

    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        tabs = page.get_by_role("tablist", name="Console panes")
        if width <= TABS_BELOW:
            expect(tabs).to_be_visible()
            page.get_by_role("tab", name="Conversation").click()
            expect(page.get_by_role("tab", name="Conversation")).to_have_attribute(
                "aria-selected", "true"
            )
            expect(page.locator(".queue-pane")).to_be_hidden()
        else:
            expect(tabs).to_be_hidden()
            expect(page.locator(".queue-pane")).to_be_visible()
            expect(page.locator(".tools-pane")).to_be_visible()
        expect(page.locator("#reply")).to_be_visible()
        page.locator("#reply").fill(f"at {name}")  # typing grows nothing out of view
        in_view(page, "#reply")
        in_view(page, "#send")
        screenshot(page, f"console-{width}x{height}.png")
        # The case record (issue 20) fits too: its first field and its Save button in view.
        page.get_by_role("button", name="Case record", exact=True).click()
        expect(page.get_by_role("dialog", name="Case record")).to_be_visible()
        in_view(page, "#case-record-kind")
        in_view(page, "#case-record-save")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog", name="Case record")).to_be_hidden()

    # Typing at 200% zoom: the box and its send button stay in view, and sending works.
    page.locator("#reply").fill("We are here. Take your time.")
    in_view(page, "#send")
    page.locator("#send").click()
    expect(page.locator("#timeline")).to_contain_text("We are here. Take your time.")
    console.assert_clean()


def test_narrow_tabs_follow_aria_and_the_keyboard(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    hotline.texter().triage(needs="I need help")
    console = open_console()
    page = console.page
    page.set_viewport_size({"width": 768, "height": 1024})
    console.sign_in(alice)
    console.set_available()

    queue_tab = page.get_by_role("tab", name="Queue")
    expect(queue_tab).to_have_attribute("aria-selected", "true")
    # No conversation open: nothing to give details about.
    expect(page.get_by_role("tab", name="Details")).to_be_hidden()
    panel = page.get_by_role("tabpanel", name="Queue")
    expect(panel).to_be_visible()
    expect(page.locator("#queue-list > li")).to_have_count(1)

    # Claiming opens the conversation's tab by itself.
    page.locator("#queue-list .claim").first.click()
    conversation_tab = page.get_by_role("tab", name="Conversation")
    expect(conversation_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Conversation")).to_be_visible()
    in_view(page, "#reply")

    # Arrow keys move along the tabs (and wrap), Home and End go to the ends.
    conversation_tab.focus()
    page.keyboard.press("ArrowRight")
    details = page.get_by_role("tab", name="Details")
    expect(details).to_be_focused()
    expect(details).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Details")).to_be_visible()
    expect(page.locator("#disposition")).to_be_visible()
    expect(page.locator("#reply")).to_be_hidden()
    page.keyboard.press("ArrowRight")
    expect(queue_tab).to_be_focused()
    page.keyboard.press("End")
    expect(details).to_be_focused()
    page.keyboard.press("Home")
    expect(queue_tab).to_be_focused()
    expect(page.locator("#queue-list")).to_be_attached()
    expect(page.locator("#mine-list")).to_be_visible()
    # Only the chosen tab is in the tab order (a roving tabindex).
    assert page.locator('[role="tab"][tabindex="0"]').count() == 1

    # Opening one of my conversations from the Queue tab shows it.
    page.locator("#mine-list .mine-open").first.click()
    expect(conversation_tab).to_have_attribute("aria-selected", "true")

    # Wider again: the tabs go, the three panes are back side by side.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("tablist", name="Console panes")).to_be_hidden()
    for pane in (".queue-pane", ".conversation-pane", ".tools-pane"):
        expect(page.locator(pane)).to_be_visible()
    assert page.locator('.pane[role="tabpanel"]').count() == 0
    console.assert_clean()


def top_bar_lines(page: Page) -> tuple[float, float]:
    """The top bar's height and the height of its tallest item: equal when it is one line."""
    measured = page.evaluate(
        """() => {
            const bar = document.querySelector(".topbar");
            const style = getComputedStyle(bar);
            const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
            const inner = bar.clientHeight - padding;
            const tallest = Math.max(...[...bar.children]
                .filter((child) => child.offsetParent !== null)
                .map((child) => child.getBoundingClientRect().height));
            return [inner, tallest];
        }"""
    )
    return float(measured[0]), float(measured[1])


def test_the_supervisor_bar_is_one_line_and_its_links_spaced(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    lead = hotline.staff("a-supervisor-with-a-rather-long-name", role="admin")
    console = open_console()
    page = open_supervisor(console, lead)
    page.set_viewport_size({"width": 1440, "height": 900})
    inner, tallest = top_bar_lines(page)
    assert inner <= tallest + 1, f"the bar wraps: {inner} px high for {tallest} px items"
    gaps = page.evaluate(
        """() => {
            const links = [...document.querySelectorAll(".admin-links a")];
            return links.slice(1).map((link, i) =>
                link.getBoundingClientRect().left - links[i].getBoundingClientRect().right);
        }"""
    )
    assert gaps and min(gaps) >= 12, gaps
    screenshot(page, "supervisor-1440.png")

    # Who is signed in, their password and two-factor are in the account menu.
    menu = page.locator("#account-menu")
    expect(menu.locator("#who")).to_be_hidden()
    menu.get_by_text("Account").click()
    expect(menu.locator("#who")).to_have_text(lead.email)
    expect(menu.locator("#role")).to_have_text("admin")
    expect(menu.get_by_role("link", name="Change password")).to_be_visible()
    # A menu: Escape closes it and gives the keyboard back to its button, as does a click away.
    menu.get_by_role("link", name="Change password").focus()
    page.keyboard.press("Escape")
    expect(menu.locator("#who")).to_be_hidden()
    expect(menu.locator("summary")).to_be_focused()
    menu.get_by_text("Account").click()
    page.locator("#status").click()
    expect(menu.locator("#who")).to_be_hidden()
    menu.get_by_text("Account").click()
    menu.get_by_role("link", name="Two-factor sign-in").click()
    page.wait_for_url("**/account/two-factor")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    screenshot(page, "two-factor-from-menu.png")
    console.assert_clean()


def test_supervisors_land_on_the_board_and_the_console_links_to_it(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    lead = hotline.staff("lead", role="supervisor")
    console = open_console()
    page = console.page
    page.goto("/login")
    console.sign_in(lead, password=PASSWORD)
    page.wait_for_url("**/supervisor")
    page.get_by_role("link", name="Open the console").click()
    page.wait_for_url("**/console")
    page.get_by_role("link", name="Supervisor board").click()
    page.wait_for_url("**/supervisor")

    advocate = open_console()
    advocate.sign_in(hotline.staff("alice"))
    expect(advocate.page.get_by_role("link", name="Supervisor board")).to_have_count(0)
    console.assert_clean()
    advocate.assert_clean()
