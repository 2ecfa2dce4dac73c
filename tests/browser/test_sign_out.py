"""Signing out of the console while holding texters: the dialog asks who answers them first."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Availability, Conversation, StaffUser
from hotline.domain.triage import State
from tests.browser.conftest import REPLY_TIMEOUT, Console, Hotline
from tests.browser.pages import screenshot
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser


def held_by(hotline: Hotline, staff_id: int) -> list[int]:
    with runtime_of(hotline.app).sessions() as session:
        return list(
            session.scalars(
                select(Conversation.id)
                .where(
                    Conversation.advocate_id == staff_id,
                    Conversation.state == State.WITH_ADVOCATE,
                )
                .order_by(Conversation.id)
            )
        )


def availability(hotline: Hotline, staff_id: int) -> Availability:
    with runtime_of(hotline.app).sessions() as session:
        user = session.get(StaffUser, staff_id)
        assert user is not None
        return user.availability


def test_signing_out_asks_who_answers_the_texters_first(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    first, second = hotline.texter(), hotline.texter()
    first.triage(needs="I need a safe place")
    second.triage(needs="I need a place to stay")  # both normal: in line by time

    bob_console = open_console()
    bob_console.sign_in(bob)
    bob_console.set_available()

    console = open_console()
    page = console.page
    console.sign_in(alice)
    console.set_available()
    for _ in range(2):
        page.get_by_role("button", name="Take next").click()
        expect(page.locator("#conversation")).to_be_visible()
    expect(page.locator("#capacity")).to_have_text("2 of 3")
    taken = held_by(hotline, alice.id)
    assert len(taken) == 2

    # Asked first; staying is possible and changes nothing.
    dialog = page.get_by_role("dialog", name="Before you sign out")
    page.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You hold 2 conversations.")
    expect(
        dialog.get_by_role("radio", name=re.compile("Hand them back to the queue"))
    ).to_be_checked()
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/console"))
    assert held_by(hotline, alice.id) == taken

    # A transfer needs someone to take over: refused in the page until one is chosen.
    page.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("radio", name=re.compile("Transfer them all")).check()
    colleague = dialog.get_by_label("Colleague to transfer them to")
    expect(colleague).to_be_enabled()
    expect(colleague.locator(f'option[value="{bob.id}"]')).to_have_count(1)
    expect(colleague.locator(f'option[value="{alice.id}"]')).to_have_count(0)
    dialog.get_by_role("button", name="Hand over and sign out").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Choose who takes them over, or hand them back to the queue."
    )
    expect(colleague).to_have_attribute("aria-invalid", "true")
    assert held_by(hotline, alice.id) == taken
    screenshot(page, "console-sign-out.png")

    colleague.select_option(str(bob.id))
    dialog.get_by_role("button", name="Hand over and sign out").click()
    page.wait_for_url("**/login")
    assert held_by(hotline, bob.id) == taken
    assert held_by(hotline, alice.id) == []
    assert availability(hotline, alice.id) is Availability.AWAY
    bob_page = bob_console.page
    expect(bob_page.locator("#mine-list .mine-open")).to_have_count(2, timeout=8000)

    # Bob signs out too and hands them back: each texter keeps their place and is told it.
    before = [len(t.replies()) for t in (first, second)]
    bob_page.get_by_role("button", name="Sign out").click()
    bob_dialog = bob_page.get_by_role("dialog", name="Before you sign out")
    expect(bob_dialog).to_contain_text("You hold 2 conversations.")
    expect(bob_dialog.get_by_role("radio", name=re.compile("Transfer them all"))).to_be_disabled()
    bob_dialog.get_by_role("button", name="Hand over and sign out").click()
    bob_page.wait_for_url("**/login")
    assert held_by(hotline, bob.id) == []
    assert availability(hotline, bob.id) is Availability.AWAY
    for texter, count, place in zip((first, second), before, (1, 2), strict=True):
        wait_until(lambda t=texter, c=count: len(t.replies()) > c, REPLY_TIMEOUT, "their place")
        told = texter.replies()[-1].body
        # First in line with a colleague free: "You're next"; otherwise the number.
        assert f"You are number {place} in line" in told or (
            place == 1 and "You're next in line" in told
        )
    console.assert_clean()
    bob_console.assert_clean()
