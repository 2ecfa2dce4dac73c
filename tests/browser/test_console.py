"""The advocate console, driven in Chromium against a real hotline and the fake Twilio API."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.domain.segments import count_segments
from tests.browser.conftest import QUICK_REPLY, REFERRAL_TEXT, REPLY_TIMEOUT, Console, Hotline
from tests.browser.pages import LIVE, name_of, screenshot
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    """The survey waits for the end of the reopen window after closing: a short window here,
    and timers looked at often, so the survey comes within the tests' waits."""
    return {"reopen_minutes": 0.02, "timer_tick_seconds": 2.0}


# Texts that tell the GSM-7 / UCS-2 rules apart, each on an edge.
SEGMENT_CASES = [
    "a" * 160,
    "a" * 161,
    "€" * 80,  # extension table: 2 septets each, 160 in all
    "€" * 81,
    "a" * 152 + "€" + "a" * 10,  # the escape pair does not fit the first part's last septet
    "Where are you? {safe} [now] ~ok^ | \\ \n line two",
    "ł" * 70,
    "ł" * 71,
    "😀" * 35,  # surrogate pairs: 70 UTF-16 units
    "ł" * 66 + "😀" + "ł" * 5,  # the pair does not fit the first part's last unit
    "¿Estás a salvo? Ñandú",
]


def segments_shown(page: Page) -> int:
    match = re.match(r"(\d+) segments?\b", page.locator("#segments").inner_text())
    assert match, page.locator("#segments").inner_text()
    return int(match.group(1))


def test_an_advocate_takes_a_texter_and_talks_it_through(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    hotline.seed_tools()
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    texter = hotline.texter()
    texter.triage(needs="I need help")

    # Bob is on shift too, so that Alice can hand over to him.
    bob_console = open_console()
    bob_console.sign_in(bob)
    bob_console.set_available()

    console = open_console()
    page = console.page
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)console$"))
    console.sign_in(alice, password="not the password")
    expect(page.get_by_role("alert")).to_have_text("wrong email or password")
    console.sign_in(alice)
    expect(page.locator("#who")).to_have_text(alice.email)
    expect(page.locator("#capacity")).to_have_text("0 of 3")
    expect(page.locator("#availability")).to_have_text("Away")
    console.set_available()

    rows = page.locator("#queue-list > li")
    expect(rows).to_have_count(1)
    first = rows.first
    for shown in ("Normal", "English", "I need help", "In danger: no", "Safe to text: yes", "TX"):
        expect(first).to_contain_text(shown)
    wait = first.locator(".wait")
    shown_wait = wait.inner_text()

    later = hotline.texter()
    later.triage(needs="somewhere to sleep tonight", location="skip")
    expect(rows).to_have_count(2, timeout=LIVE)  # arrives live, oldest stays first
    expect(wait).not_to_have_text(shown_wait, timeout=3000)  # and the wait time ticks
    expect(rows.nth(1)).to_contain_text("somewhere to sleep tonight")
    screenshot(page, "console-queue.png")

    page.get_by_role("button", name="Take next").click()
    conversation = page.locator("#conversation")
    expect(conversation).to_be_visible()
    expect(page.locator("#conv-phone")).to_have_text(re.compile(re.escape(texter.phone[-2:]) + "$"))
    assert texter.phone[1:-2] not in page.content()  # the number is never shown in full
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("I need help")
    expect(page.locator("#capacity")).to_have_text("1 of 3")
    expect(rows).to_have_count(1)
    expect(page.locator("#mine-list")).to_contain_text("I need help")

    started = time.monotonic()
    texter.says("are you still there? he comes back at 6", replies=0)
    expect(timeline).to_contain_text("are you still there? he comes back at 6", timeout=LIVE)
    assert time.monotonic() - started < 3  # two seconds from Twilio's request, with slack

    reply_box = page.locator("#reply")
    for text in SEGMENT_CASES:
        reply_box.fill(text)
        assert segments_shown(page) == count_segments(text.strip()).segments, text
    reply_box.fill("")
    expect(page.locator("#segments")).to_have_text("0 segments")

    reply = "We are here with you. Are you somewhere safe to text right now?"
    reply_box.press_sequentially(reply)
    expect(page.locator("#segments")).to_contain_text("1 segment")
    sent_before = len(hotline.fake.messages)
    reply_box.press("Control+Enter")
    hotline.fake.wait_for(sent_before + 1)
    wait_until(lambda: reply in [m.body for m in texter.replies()], 5, "the reply at the fake API")
    expect(reply_box).to_have_value("")
    sent = timeline.locator(".message.outbound").filter(has_text=reply)
    expect(sent).to_contain_text(name_of(alice))
    expect(sent.locator(".delivery")).to_have_text("delivered", timeout=5000)

    page.get_by_role("button", name=QUICK_REPLY[0]).click()
    expect(reply_box).to_have_value(QUICK_REPLY[1])
    page.get_by_label("Referrals").fill("shelter")
    referral = page.locator("#referrals li").filter(has_text="Casa Segura")
    expect(referral).to_have_count(1)
    referral.get_by_role("button", name="Insert").click()
    expect(reply_box).to_have_value(f"{QUICK_REPLY[1]} {REFERRAL_TEXT}")
    expect(page.locator("#segments")).to_contain_text("1 segment")
    screenshot(page, "console-conversation.png")
    reply_box.fill("")

    page.get_by_label("Private note").fill("Prefers texts after 6pm; abuser checks the phone.")
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator(".note")).to_contain_text("Prefers texts after 6pm")
    page.get_by_label("Tag").fill("Labor")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#conv-tags")).to_contain_text("labor")
    expect(timeline).to_contain_text("Tagged — labor")

    # Offered to Bob, with a handover note (a warm transfer): Alice keeps the texter until Bob,
    # who reads the note first, accepts; then Bob hands it back the same way.
    page.locator("#transfer-to").select_option(str(bob.id))
    page.get_by_label("Handover note").fill("Handing over: shift change")
    page.get_by_role("button", name="Transfer", exact=True).click()
    page.get_by_role("button", name="Yes, transfer").click()  # it asks first
    expect(page.locator("#status")).to_contain_text(f"Offered to {name_of(bob)}")
    expect(conversation).to_be_visible()
    expect(page.locator("#transfer-offers")).to_contain_text(
        f"Waiting for {name_of(bob)} to accept"
    )

    bob_page = bob_console.page
    offer = bob_page.locator("#transfer-offers .transfer-offer.received")
    expect(offer).to_contain_text("Handing over: shift change", timeout=8000)
    expect(offer).to_contain_text(f"{name_of(alice)} offers you a texter")
    # An offer is an alert too: announced (who offers, no texter words) and in the tab title.
    expect(bob_page.locator("#mine-announcer")).to_contain_text(
        f"{name_of(alice)} offers you a texter: accept or decline"
    )
    expect(bob_page).to_have_title(re.compile(r"^\(1\) "))
    offer.get_by_role("button", name="Accept").click()
    expect(bob_page.locator("#conversation")).to_be_visible()
    expect(bob_page.locator("#timeline")).to_contain_text("Handing over: shift change")
    expect(bob_page.locator("#timeline")).to_contain_text(f"Transferred — to {name_of(bob)}")
    expect(page.locator("#capacity")).to_have_text("0 of 3", timeout=8000)
    bob_page.locator("#transfer-to").select_option(str(alice.id))
    bob_page.get_by_role("button", name="Transfer", exact=True).click()
    bob_page.get_by_role("button", name="Yes, transfer").click()
    expect(bob_page.locator("#status")).to_contain_text(f"Offered to {name_of(alice)}")

    back = page.locator("#transfer-offers .transfer-offer.received")
    expect(back).to_have_count(1, timeout=8000)
    back.get_by_role("button", name="Accept").click()
    expect(conversation).to_be_visible()
    expect(page.locator("#mine-list .mine-open")).to_have_count(1, timeout=8000)
    expect(timeline).to_contain_text(f"Transferred — to {name_of(alice)}")

    # Closing needs a disposition: the button refuses without one.
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator("#status")).to_have_text("Choose a disposition before closing.")
    expect(page.locator("#disposition")).to_have_attribute("aria-invalid", "true")
    expect(conversation).to_be_visible()
    page.locator("#disposition").select_option("safety_planning")
    page.get_by_label("Summary").fill("Made a plan for the evening.")
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator("#status")).to_have_text("Conversation closed.")
    expect(conversation).to_be_hidden()
    expect(page.locator("#mine-list .mine-open")).to_have_count(0)
    wait_until(
        lambda: any("1 (not at all) to 5" in m.body for m in texter.replies()),
        REPLY_TIMEOUT,
        "the survey at the fake API",
    )
    console.assert_clean()
    bob_console.assert_clean()


XSS_TEXTS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "javascript:alert(1)",
    "{{7*7}} {{ config }}",
    "{% raw %}{% endraw %} ${7*7}",
]
XSS_NEEDS = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
    " {{7*7}} {% raw %} javascript:alert(1)"
)


def test_texters_words_are_shown_as_text_never_run(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("carla")
    texter = hotline.texter()
    texter.says('<b>hi</b><svg onload="window.__pwned=1">')
    texter.says("no")
    texter.says("yes")
    texter.says(XSS_NEEDS)
    texter.says("skip")

    console = open_console()
    page = console.page
    console.sign_in(advocate)
    console.set_available()
    row = page.locator("#queue-list > li")
    expect(row).to_have_count(1)
    assert XSS_NEEDS in row.inner_text()
    page.locator("body").press("n")  # the take-next shortcut
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text('<svg onload="window.__pwned=1">')
    for text in XSS_TEXTS:
        texter.says(text, replies=0)
    expect(timeline.locator(".message.inbound")).to_have_count(5 + len(XSS_TEXTS))
    page.get_by_label("Private note").fill("<img src=x onerror=alert(2)> note {{7*7}}")
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator(".note")).to_have_count(1)

    shown = timeline.inner_text()
    for text in [*XSS_TEXTS, XSS_NEEDS, "<b>hi</b>", "<img src=x onerror=alert(2)> note {{7*7}}"]:
        assert text in shown, text
    assert XSS_NEEDS in page.locator("#conv-answers").inner_text()
    # Only the texts themselves: the timeline's clock times may well contain "49".
    assert "49" not in " ".join(timeline.locator(".bubble").all_inner_texts())
    assert page.locator("#console img, #console script, #console svg, #console b").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    console.assert_clean()  # no dialog, no script error, no CSP violation


def test_an_advocate_sees_only_their_own_conversations(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    texter = hotline.texter()
    texter.triage(needs="they took my passport")

    alice_console = open_console()
    alice_page = alice_console.page
    alice_console.sign_in(alice)
    alice_console.set_available()
    alice_page.locator("#queue-list .claim").click()
    expect(alice_page.locator("#timeline")).to_contain_text("they took my passport")
    match = re.fullmatch(r"#c=(\d+)", alice_page.evaluate("() => location.hash"))
    assert match
    conversation_id = int(match.group(1))

    bob_console = open_console()
    bob_page = bob_console.page
    bob_console.sign_in(bob)
    bob_console.set_available()
    with bob_page.expect_response(
        lambda r: r.url.endswith(f"/console/api/conversations/{conversation_id}")
    ) as answer:
        bob_page.goto(f"/console#c={conversation_id}")
    assert answer.value.status == 404
    expect(bob_page.locator("#status")).to_contain_text("No such conversation")
    expect(bob_page.locator("#conversation")).to_be_hidden()
    assert "passport" not in bob_page.content()
    path = f"/console/api/conversations/{conversation_id}"
    assert bob_console.fetch_status(path) == 404
    assert bob_console.fetch_status(path + "/reply", "POST", {"body": "hijack"}) == 404
    assert bob_console.fetch_status(path + "/claim", "POST") == 409
    assert "hijack" not in [m.body for m in texter.replies()]

    stranger = open_console()
    stranger.page.goto("/console")
    expect(stranger.page).to_have_url(re.compile(r"/login\?next=(%2F|/)console$"))
    assert stranger.fetch_status("/console/api/me") == 401

    cookie = next(c for c in alice_console.context.cookies() if c["name"] == "hotline_session")
    alice_page.get_by_role("button", name="Sign out").click()
    # She holds the texter: asked first, she hands them back to the queue (the default).
    leaving = alice_page.get_by_role("dialog", name="Before you sign out")
    leaving.get_by_role("button", name="Hand over and sign out").click()
    expect(alice_page).to_have_url(re.compile(r"/login$"))
    alice_console.context.add_cookies(
        [{"name": cookie["name"], "value": cookie["value"], "url": hotline.url}]
    )
    assert alice_console.fetch_status("/console/api/me") == 401
    alice_page.goto("/console")
    expect(alice_page).to_have_url(re.compile(r"/login\?next=(%2F|/)console$"))
    for console in (alice_console, bob_console, stranger):
        console.assert_clean()


def test_an_urgent_texter_raises_the_alert_at_once(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("dana")
    console = open_console()
    page = console.page
    console.sign_in(advocate)
    banner = page.locator("#urgent-banner")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(banner).to_be_hidden()
    assert not page.title().startswith("(URGENT)")

    started = time.monotonic()
    hotline.post_sms(hotline.texter().phone, "he has a gun")
    expect(banner).to_be_visible(timeout=LIVE)
    assert time.monotonic() - started < 3
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("1 urgent texter is waiting")
    expect(page.locator("#queue-list > li").first).to_contain_text("Urgent")
    page.wait_for_function("() => document.title.startsWith('(URGENT)')", timeout=LIVE)
    console.assert_clean()
