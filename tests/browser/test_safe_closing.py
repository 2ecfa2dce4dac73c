"""Safe closing, careful moves and "Ask a supervisor" in Chromium (issue 18, items 5 to 7): the
confirmation dialog that lists why closing deserves a second look, the Reopen bar, the
confirmation before a return to the queue, a full advocate shown disabled in the transfer list,
and a request for help answered from the board as a note. The console is checked with axe-core
with each dialog open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from hotline import runtime_of
from hotline.db.models import Conversation
from hotline.domain.triage import State
from tests.browser.axe import violations
from tests.browser.conftest import Console, Hotline
from tests.browser.pages import LIVE, conversation_of, name_of, open_supervisor

pytestmark = pytest.mark.browser


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    """Capacity 1: one held texter makes an advocate full."""
    return {"capacity": 1}


def state_of(hotline: Hotline, conversation_id: int) -> State:
    with runtime_of(hotline.app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.state


def test_closing_asks_first_lists_why_and_can_be_undone(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice = hotline.staff("alice")
    texter = hotline.texter()
    texter.triage(needs="I need somewhere safe")
    console = open_console()
    console.sign_in(alice)
    console.set_available()
    page = console.page
    page.get_by_role("button", name="Take next").click()
    conversation = page.locator("#conversation")
    expect(conversation).to_be_visible()
    conversation_id = conversation_of(hotline, texter)

    # Nobody answered them yet: closing asks, with the reason, and "Keep it open" keeps it.
    page.locator("#disposition").select_option("referred")
    page.get_by_role("button", name="Close conversation").click()
    dialog = page.get_by_role("dialog", name="Close this conversation?")
    expect(dialog).to_be_visible()
    expect(dialog.locator("li")).to_have_text(["No reply was ever sent to the texter."])
    expect(page.get_by_role("button", name="Keep it open")).to_be_focused()
    assert violations(page) == []
    page.get_by_role("button", name="Keep it open").click()
    expect(dialog).to_have_count(0)
    expect(conversation).to_be_visible()
    assert state_of(hotline, conversation_id) is State.WITH_ADVOCATE

    # "Close anyway" closes it; the Reopen bar gives it back.
    page.get_by_role("button", name="Close conversation").click()
    page.get_by_role("button", name="Close anyway").click()
    expect(page.locator("#status")).to_have_text("Conversation closed.")
    expect(conversation).to_be_hidden()
    offer = page.locator("#reopen-offer")
    expect(offer).to_contain_text("You can reopen it until")
    assert state_of(hotline, conversation_id) is State.JUST_CLOSED
    offer.get_by_role("button", name="Reopen").click()
    expect(conversation).to_be_visible()
    expect(page.locator("#mine-list .mine-open")).to_have_count(1, timeout=LIVE)
    expect(offer).to_have_count(0)
    assert state_of(hotline, conversation_id) is State.WITH_ADVOCATE
    console.assert_clean()


def test_back_to_the_queue_asks_first_and_a_full_advocate_is_shown_but_not_offered(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    first, second = hotline.texter(), hotline.texter()
    first.triage(needs="first texter")
    second.triage(needs="second texter")
    consoles = []
    for account in (bob, alice):  # Bob first: Alice's list is loaded as she opens hers
        console = open_console()
        console.sign_in(account)
        console.set_available()
        console.page.get_by_role("button", name="Take next").click()
        expect(console.page.locator("#conversation")).to_be_visible()
        consoles.append(console)
    page = consoles[1].page

    # Bob holds one texter, at capacity 1: listed as full, and not to be chosen.
    bob_option = page.locator("#transfer-to option", has_text=name_of(bob))
    expect(bob_option).to_have_text(f"{name_of(bob)} (full)")
    expect(bob_option).to_be_disabled()

    page.locator("#transfer-to").select_option("queue")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_role("dialog", name="Return to the queue?")).to_be_visible()
    assert violations(page) == []
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#conversation")).to_be_visible()
    page.get_by_role("button", name="Transfer", exact=True).click()
    page.get_by_role("button", name="Yes, return to the queue").click()
    expect(page.locator("#status")).to_have_text("Returned to the queue.")
    for console in consoles:
        console.assert_clean()


def test_ask_a_supervisor_and_the_answer_comes_as_a_note(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, lead = hotline.staff("alice"), hotline.staff("lead", "supervisor")
    texter = hotline.texter()
    texter.triage(needs="my employer keeps my passport")
    console = open_console()
    console.sign_in(alice)
    console.set_available()
    page = console.page
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    conversation_id = conversation_of(hotline, texter)

    page.get_by_role("button", name="Ask a supervisor…").click()
    ask = page.get_by_role("dialog", name="Ask a supervisor")
    expect(ask).to_be_visible()
    ask.get_by_role("button", name="Send to supervisors").click()
    expect(ask.locator(".error")).to_have_text("Say in a few words what you need help with.")
    assert violations(page) == []
    reason = "Unsure <b>which</b> legal referral fits"
    ask.get_by_label("What do you need help with?").fill(reason)
    ask.get_by_role("button", name="Send to supervisors").click()
    expect(ask).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("Supervisors were alerted")

    board = open_console()
    spage = open_supervisor(board, lead)
    row = spage.locator(".alert-item.kind-help_requested")
    expect(row).to_have_count(1, timeout=8000)
    expect(row).to_contain_text("An advocate asks for a supervisor")
    expect(row).to_contain_text(name_of(alice))
    expect(row.locator(".help-reason")).to_contain_text(reason)  # as text, never as markup
    expect(row.locator(".help-reason b")).to_have_count(0)
    row.get_by_role("button", name="Send answer").click()
    expect(spage.locator("#status")).to_have_text("Write an answer first.")
    row.get_by_label("Your answer (added as a note in the conversation)").fill(
        "Casa Segura's legal clinic: ask about the passport first."
    )
    row.get_by_role("button", name="Send answer").click()
    expect(spage.locator(".alert-item.kind-help_requested")).to_have_count(0)

    note = page.locator("#timeline .note")
    expect(note).to_contain_text("Casa Segura's legal clinic", timeout=8000)
    assert state_of(hotline, conversation_id) is State.WITH_ADVOCATE
    console.assert_clean()
    board.assert_clean()


def test_a_declined_offer_comes_back_with_a_notice_and_a_waiting_one_can_be_withdrawn(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    texter = hotline.texter()
    texter.triage(needs="I need a lawyer")
    consoles = []
    for account in (bob, alice):
        console = open_console()
        console.sign_in(account)
        console.set_available()
        consoles.append(console)
    bob_page, page = consoles[0].page, consoles[1].page
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    conversation_id = conversation_of(hotline, texter)

    def offer() -> None:
        page.locator("#transfer-to").select_option(str(bob.id))
        page.get_by_label("Handover note").fill("<i>Spanish</i> speaker")
        page.get_by_role("button", name="Transfer", exact=True).click()
        page.get_by_role("button", name="Yes, transfer").click()
        expect(page.locator("#status")).to_contain_text(f"Offered to {name_of(bob)}")

    offer()
    received = bob_page.locator("#transfer-offers .transfer-offer.received")
    expect(received.locator(".transfer-note")).to_contain_text("<i>Spanish</i> speaker")
    assert violations(bob_page) == []
    received.get_by_role("button", name="Decline").click()
    expect(page.locator("#status")).to_contain_text(
        f"{name_of(bob)} declined: the texter (conversation #{conversation_id}) is still with you.",
        timeout=8000,
    )
    expect(page.locator("#conversation")).to_be_visible()

    offer()
    expect(received).to_have_count(1, timeout=8000)
    page.locator("#transfer-offers").get_by_role("button", name="Withdraw").click()
    expect(page.locator("#status")).to_have_text("Offer withdrawn.")
    expect(received).to_have_count(0, timeout=8000)
    assert state_of(hotline, conversation_id) is State.WITH_ADVOCATE
    for console in consoles:
        console.assert_clean()
