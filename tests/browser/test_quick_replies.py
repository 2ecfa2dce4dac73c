"""Quick replies in the console, in Chromium: filled in for the texter, their language first, the
search box, "/" in an empty reply box (and not when shortcuts are off), and the warning when a
reply's language is not the texter's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from hotline import runtime_of
from hotline.db.models import QuickReply, StaffUser
from tests.browser.axe import violations
from tests.browser.conftest import REPLY_TIMEOUT, Console, Hotline
from tests.browser.pages import screenshot
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser

TEMPLATES = (
    ("es", "Presentación", "Hola, le escribe {advocate_name}, de la línea de ayuda."),
    ("en", "Introduction", "Hi, this is {advocate_name}, an advocate with the hotline."),
    ("en", "Services nearby", "I can look for services in {location}."),
    ("en", "<b>Bold</b> title", "Plain <i>text</i>, never markup."),
)


def seeded(hotline: Hotline, display_name: str) -> Callable[[Console], Page]:
    """Quick replies in the hotline, and an advocate called ``display_name`` who takes the next
    texter in a fresh console."""
    runtime = runtime_of(hotline.app)
    account = hotline.staff("ann")
    with runtime.sessions.begin() as session:
        for language, title, body in TEMPLATES:
            session.add(QuickReply(language=language, title=title, body=body, active=True))
        user = session.get(StaffUser, account.id)
        assert user is not None
        user.display_name = display_name

    def take(console: Console) -> Page:
        console.sign_in(account)
        console.set_available()
        page = console.page
        page.locator("#take-next").click()
        expect(page.locator("#conversation")).to_be_visible()
        return page

    return take


def test_quick_replies_are_filled_in_searched_and_picked_with_slash(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    take = seeded(hotline, "Ann Lee")
    texter = hotline.texter()
    for body in ("hola", "no", "si", "necesito ayuda", "TX"):
        texter.says(body)
    console = open_console()
    page = take(console)

    # The texter writes Spanish: the Spanish quick reply comes first, filled in.
    buttons = page.locator("#quick-replies .quick-reply")
    expect(buttons.first).to_have_text("Presentación")
    expect(buttons.first).to_have_attribute("title", "Hola, le escribe Ann, de la línea de ayuda.")
    services = page.get_by_role("button", name="Services nearby")
    expect(services).to_have_attribute("title", "I can look for services in TX.")
    # A title with markup in it is shown as the characters it is.
    expect(page.locator("#quick-replies")).to_contain_text("<b>Bold</b> title")
    expect(page.locator("#quick-replies b")).to_have_count(0)

    # The search box narrows the list; accents do not matter.
    search = page.get_by_role("searchbox", name="Quick replies", exact=True)
    search.fill("presentacion")
    expect(buttons).to_have_count(1)
    search.fill("nothing like this")
    expect(page.locator("#quick-replies-empty")).to_have_text("No quick reply matches.")
    search.fill("")
    expect(buttons).to_have_count(4)

    # "/" in the empty reply box opens the picker; Enter inserts the chosen one.
    reply = page.locator("#reply")
    reply.focus()
    page.keyboard.press("/")
    picker = page.locator("#quick-reply-picker")
    expect(picker).to_be_visible()
    expect(page.locator("#quick-reply-picker-search")).to_be_focused()
    page.keyboard.type("intro")
    options = page.locator("#quick-reply-picker-list [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    screenshot(page, "console-quick-reply-picker.png")
    assert violations(page, ["#quick-reply-picker"]) == []
    page.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    expect(reply).to_have_value("Hi, this is Ann, an advocate with the hotline.")
    expect(reply).to_be_focused()

    # English to a Spanish texter: a warning, which goes once the reply is in Spanish.
    warning = page.locator("#reply-language-warning")
    expect(warning).to_have_text(
        "This reply looks like English, but this texter writes Spanish.", timeout=5000
    )
    assert violations(page, ["#tools", "#reply-form"]) == []
    reply.fill("")
    page.keyboard.press("/")
    page.keyboard.press("Escape")  # back out of the picker: nothing inserted
    expect(picker).to_be_hidden()
    expect(reply).to_have_value("")
    expect(reply).to_be_focused()
    page.keyboard.press("/")
    page.keyboard.type("presentacion")
    page.keyboard.press("Enter")
    expect(reply).to_have_value("Hola, le escribe Ann, de la línea de ayuda.")
    expect(warning).to_be_hidden(timeout=5000)

    # Sent as shown.
    before = len(texter.replies())
    page.locator("#send").click()
    wait_until(lambda: len(texter.replies()) > before, REPLY_TIMEOUT, "the reply at the fake API")
    assert texter.replies()[-1].body == "Hola, le escribe Ann, de la línea de ayuda."

    # A "/" in a reply being written is just a slash.
    reply.fill("24")
    reply.press("End")
    page.keyboard.press("/")
    page.keyboard.type("7")
    expect(reply).to_have_value("24/7")
    expect(picker).to_be_hidden()
    console.assert_clean()


def test_slash_types_a_slash_when_shortcuts_are_off(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    take = seeded(hotline, "Ann Lee")
    hotline.texter().triage()
    console = open_console()
    page = take(console)
    expect(page.locator("#quick-replies .quick-reply").first).to_be_visible()
    page.evaluate("() => localStorage.setItem('hotline.shortcuts', 'off')")
    reply = page.locator("#reply")
    reply.focus()
    page.keyboard.press("/")
    expect(reply).to_have_value("/")
    expect(page.locator("#quick-reply-picker")).to_be_hidden()
    console.assert_clean()


def test_an_advocate_without_a_display_name_is_not_named_to_the_texter(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    take = seeded(hotline, "")
    hotline.texter().triage()
    console = open_console()
    page = take(console)
    page.get_by_role("button", name="Introduction").click()
    expect(page.locator("#reply")).to_have_value(
        "Hi, this is an advocate, an advocate with the hotline."
    )
    expect(page.locator("#reply-language-warning")).to_be_hidden()
    console.assert_clean()


def test_the_admin_page_refuses_a_quick_reply_with_an_unknown_variable(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    admin = hotline.staff("ada", "admin")
    console = open_console()
    console.sign_in(admin)
    page = console.page
    page.goto("/supervisor/admin#quick-replies")
    section = page.locator("#quick-replies")
    expect(section.get_by_text("{advocate_name} the advocate's first name")).to_be_visible()
    section.get_by_label("Title").fill("Intro")
    text = section.get_by_label("Text")
    text.fill("Hi, this is {advocat_name}.")
    section.get_by_role("button", name="Add quick reply").click()
    expect(page.locator("#status")).to_have_text(
        "body holds an unknown variable {advocat_name}: the variables are {advocate_name}, "
        "{location}, {safe_word}"
    )
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#quick-reply-empty")).to_be_visible()
    text.fill("Hi, this is {advocate_name}.")
    section.get_by_role("button", name="Add quick reply").click()
    expect(page.locator("#quick-reply-rows tr", has_text="Intro")).to_contain_text(
        "Hi, this is {advocate_name}."
    )
    console.assert_clean()


def test_a_reply_with_an_unknown_variable_is_refused_and_kept(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    take = seeded(hotline, "Ann Lee")
    texter = hotline.texter()
    texter.triage()
    console = open_console()
    page = take(console)
    before = len(texter.replies())
    reply = page.locator("#reply")
    reply.fill("Hi, this is {advocat_name}.")
    page.locator("#send").click()
    expect(page.locator("#status")).to_contain_text(
        "the reply holds an unknown variable {advocat_name}"
    )
    expect(reply).to_have_value("Hi, this is {advocat_name}.")  # kept, to correct
    reply.fill("Hi, this is {advocate_name}.")
    page.locator("#send").click()
    wait_until(lambda: len(texter.replies()) > before, REPLY_TIMEOUT, "the reply at the fake API")
    assert [m.body for m in texter.replies()[before:]] == ["Hi, this is Ann."]
    console.assert_clean()
