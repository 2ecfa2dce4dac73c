"""Who needs me now (issue 18) in a real browser: my conversations first, with unread counts, the
last text's first words and the wait for my reply; the "New activity" mark clearing when I open
one; alerts (highlight, title count, sound, desktop notification with no texter's words, the
polite live region); a conversation taken from me explained and kept until I dismiss it, with a
wrap-up; after the safe word, nothing of the texter left on screen; the queue collapsed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, Holding, Note, StaffUser
from tests.browser.axe import violations
from tests.browser.conftest import Account, Console, Hotline, Texter
from tests.browser.pages import LIVE, conversation_of

pytestmark = pytest.mark.browser

# A fake Notification API and a count of the sounds played: what the page asked the browser.
WATCH = """
(() => {
  window.__notes = [];
  window.__asked = 0;
  window.__sounds = 0;
  class FakeNotification {
    static permission = "default";
    static async requestPermission() {
      window.__asked += 1;
      FakeNotification.permission = "granted";
      return "granted";
    }
    constructor(title, options) {
      window.__notes.push({ title, body: (options || {}).body || "" });
    }
  }
  window.Notification = FakeNotification;
  const Context = window.AudioContext;
  if (Context) {
    const create = Context.prototype.createOscillator;
    Context.prototype.createOscillator = function () {
      window.__sounds += 1;
      return create.call(this);
    };
  }
})();
"""


def named(hotline: Hotline, account: Account, name: str) -> None:
    with runtime_of(hotline.app).sessions.begin() as session:
        user = session.get(StaffUser, account.id)
        assert user is not None
        user.display_name = name


def at_console(open_console: Callable[[], Console], account: Account) -> Console:
    console = open_console()
    console.context.add_init_script(WATCH)
    console.sign_in(account)
    console.set_available()
    return console


def queued(hotline: Hotline, needs: str) -> Texter:
    texter = hotline.texter()
    texter.triage(needs=needs)
    return texter


def take_next(page: Page) -> None:
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()


def row(page: Page, label: str) -> Locator:
    return page.locator("#mine-list .mine-item").filter(has_text=label)


def test_my_conversations_first_with_unread_alerts_and_the_mark_clearing(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    first = queued(hotline, "I need a lawyer")
    second = queued(hotline, "somewhere to sleep")
    console = at_console(open_console, alice)
    page = console.page

    # Desktop notifications: asked for once, when the box is ticked.
    page.get_by_label("Desktop notifications").check()
    expect(page.locator("#status")).to_contain_text("Desktop notifications on")
    assert page.evaluate("window.__asked") == 1
    expect(page.get_by_label("Sound")).to_be_checked()  # on by default

    take_next(page)
    take_next(page)
    mine = page.locator("#mine-list .mine-item")
    expect(mine).to_have_count(2)
    # Mine come first, above the queue.
    mine_top = page.locator("#mine-list").bounding_box()
    queue_top = page.locator("#queue-list").bounding_box()
    assert mine_top is not None and queue_top is not None and mine_top["y"] < queue_top["y"]
    expect(row(page, "Texter 1")).to_contain_text("Waiting")
    expect(row(page, "Texter 1")).to_contain_text("I need a lawyer")
    expect(page.locator("#conv-title")).to_be_visible()

    sounds = page.evaluate("window.__sounds")
    first.says("are you still there? please answer", replies=0)
    one = row(page, "Texter 1")
    expect(one).to_contain_text("1 new", timeout=LIVE)
    expect(one).to_contain_text("New activity")
    expect(one).to_contain_text("are you still there? please answer")
    expect(one).to_have_class(re.compile(r"\balerting\b"))
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    expect(page.locator("#mine-announcer")).to_have_text("New text from texter 1")
    expect(page.locator("#mine-announcer")).to_have_attribute("aria-live", "polite")
    assert violations(page, ["#mine-list"]) == []
    notes = page.evaluate("window.__notes")
    assert {"title": "Hotline console", "body": "New text from texter 1"} in notes
    assert not any("still there" in n["body"] or first.phone[-4:] in n["body"] for n in notes)
    assert page.evaluate("window.__sounds") > sounds
    # The open conversation's own new texts are read as they are shown: no mark on it.
    second.says("thank you", replies=0)
    expect(page.locator("#timeline")).to_contain_text("thank you", timeout=LIVE)
    expect(row(page, "Texter 2")).not_to_contain_text("New activity")

    # Opening it clears the mark, the highlight and the title's count.
    one.locator(".mine-open").click()
    expect(page.locator("#timeline")).to_contain_text("are you still there? please answer")
    expect(row(page, "Texter 1")).not_to_contain_text("New activity", timeout=LIVE)
    expect(row(page, "Texter 1")).not_to_have_class(re.compile(r"\balerting\b"))
    expect(page).not_to_have_title(re.compile(r"^\(\d+\) "))
    with runtime_of(hotline.app).sessions() as session:
        read = session.scalar(
            select(Holding.read_through).where(
                Holding.conversation_id == conversation_of(hotline, first)
            )
        )
    assert read is not None

    # Emergency words in one of mine that is not open: highlighted in red, with the sound.
    page.locator("#mine-list .mine-open").filter(has_text="Texter 2").click()
    expect(page.locator("#timeline")).to_contain_text("thank you")
    sounds = page.evaluate("window.__sounds")
    first.says("he has a gun", replies=0)
    expect(row(page, "Texter 1")).to_contain_text("Emergency", timeout=LIVE)
    expect(row(page, "Texter 1")).to_have_class(re.compile(r"\balerting-emergency\b"))
    expect(page.locator("#mine-announcer")).to_contain_text("Emergency words from texter 1")
    assert page.evaluate("window.__sounds") > sounds

    # Closing one while another is held: the page says so, and where to find it.
    page.locator("#disposition").select_option("referred")
    page.get_by_role("button", name="Close conversation").click()
    page.get_by_role("button", name="Close anyway").click()  # "thank you" is unanswered
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator("#mine-hint")).to_have_text(
        "You hold 1 conversation: open it from “My conversations”."
    )
    console.assert_clean()


def test_taken_over_is_explained_kept_until_dismissed_with_a_wrap_up(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    boss = hotline.staff("sam", role="supervisor")
    named(hotline, boss, "Sam Rivera")
    texter = queued(hotline, "my boss took my passport")
    console = at_console(open_console, alice)
    page = console.page
    take_next(page)
    draft = "I can give you the number of a legal clinic"
    page.locator("#reply").fill(draft)
    conversation_id = conversation_of(hotline, texter)

    supervisor = open_console()
    supervisor.sign_in(boss)
    path = f"/supervisor/api/conversations/{conversation_id}/take-over"
    assert supervisor.fetch_status(path, "POST") == 200

    banner = page.locator("#lost-banner")
    expect(banner).to_contain_text("Taken over by Sam Rivera", timeout=LIVE + 3000)
    expect(page.locator("#timeline")).to_contain_text("my boss took my passport")  # kept
    expect(page.locator("#reply")).to_have_value(draft)  # the draft too
    expect(page.locator("#send")).to_be_disabled()
    lost = page.locator("#lost-list .lost-item")
    expect(lost).to_contain_text("Taken over by Sam Rivera")
    expect(page.locator("#mine-announcer")).to_contain_text("Taken over by Sam Rivera")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    assert violations(page, ["#lost-section", "#lost-banner", "header.topbar"]) == []

    lost.get_by_label("Disposition for texter 1").select_option("referred")
    lost.get_by_label("Note on how it went with texter 1").fill("Was about to refer her.")
    lost.get_by_label("Add my unsent reply to the note").check()
    lost.get_by_role("button", name="Record how it went").click()
    expect(lost).to_contain_text("How it went is recorded.")
    with runtime_of(hotline.app).sessions() as session:
        notes = session.scalars(select(Note).where(Note.author_id == alice.id)).all()
        assert len(notes) == 1 and notes[0].body_ciphertext is not None
        body = runtime_of(hotline.app).vault.decrypt(notes[0].body_ciphertext)
        kinds = session.scalars(select(Event.kind).where(Event.actor_id == alice.id)).all()
    assert body == f"Was about to refer her.\n\nUnsent reply: {draft}"
    assert "wrapped_up" in kinds

    banner.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator("#lost-section")).to_be_hidden()
    expect(page.locator("#reply")).to_have_value("")
    supervisor.assert_clean()
    console.assert_clean()


def test_stop_is_explained_and_a_disposition_can_still_be_recorded(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    texter = queued(hotline, "help with my visa")
    console = at_console(open_console, alice)
    page = console.page
    take_next(page)
    texter.says("STOP")
    expect(page.locator("#lost-banner")).to_contain_text("texted STOP", timeout=LIVE + 3000)
    expect(page.locator("#timeline")).to_contain_text("help with my visa")
    lost = page.locator("#lost-list .lost-item")
    lost.get_by_label("Disposition for texter 1").select_option("referred")
    lost.get_by_role("button", name="Record how it went").click()
    expect(lost).to_contain_text("How it went is recorded.")
    lost.get_by_role("button", name="Dismiss texter 1").click()
    expect(page.locator("#lost-section")).to_be_hidden()
    expect(page.locator("#conversation")).to_be_hidden()
    console.assert_clean()


def test_after_the_safe_word_nothing_of_the_texter_stays_on_screen(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    texter = queued(hotline, "he reads my phone at night")
    console = at_console(open_console, alice)
    page = console.page
    take_next(page)
    page.locator("#reply").fill("Is now a safe moment to talk?")
    texter.says(runtime_of(hotline.app).settings.safe_word)
    expect(page.locator("#conversation")).to_be_hidden(timeout=LIVE + 3000)
    expect(page.locator("#status")).to_contain_text("sent the safe word")
    lost = page.locator("#lost-list .lost-item")
    expect(lost).to_contain_text("everything about them was erased")
    expect(lost.locator("form")).to_have_count(0)  # no wrap-up after an erasure
    content = page.content()
    assert "he reads my phone" not in content and "safe moment" not in content
    expect(page.locator("#reply")).to_have_value("")
    lost.get_by_role("button", name="Dismiss texter 1").click()
    expect(page.locator("#lost-section")).to_be_hidden()
    console.assert_clean()


def test_the_queue_collapses_to_a_count_and_the_first_few(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    for n in range(5):
        queued(hotline, f"need number {n}")
    console = at_console(open_console, alice)
    page = console.page
    rows = page.locator("#queue-list > li")
    expect(rows).to_have_count(5)
    toggle = page.locator("#queue-collapse")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(rows.nth(2)).to_be_visible()
    expect(rows.nth(3)).to_be_hidden()
    expect(page.locator("#queue-more")).to_have_text("and 2 more waiting")
    page.reload()
    expect(page.locator("#queue-more")).to_have_text("and 2 more waiting")  # remembered
    page.locator("#queue-collapse").click()
    expect(rows.nth(4)).to_be_visible()
    console.assert_clean()
