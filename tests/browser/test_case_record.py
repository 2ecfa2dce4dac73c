"""The case record in the console, in Chromium (issue 20): a texter's words about their passport
and a debt come in through the signed webhook and the worker; the advocate opens the case
record, finds the means of control suggested with the risk reasons that suggested them (saved
only when they press Save), confirms them, adds a kind and a type and saves; a reload shows
what was saved, and a supervisor may read and change it until the texter is erased. The form
keeps "Unknown" exclusive and a police report behind consent; a 400 keeps what was entered;
closing never needs a case record: the close confirmation offers it, and the Reopen bar after
closing. axe-core checks the panel, wide and at 768x1024."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import CaseOption, CaseRecord, CaseRecordCode, Conversation
from hotline.domain.triage import State
from tests.browser.axe import violations
from tests.browser.conftest import Console, Hotline
from tests.browser.pages import conversation_of, name_of, screenshot

pytestmark = pytest.mark.browser

WORDS = "he took my passport and says I owe him 5000, he is my boss at the farm"


def saved_record(hotline: Hotline, conversation_id: int) -> dict[str, Any] | None:
    """What the database holds for the conversation's case record (None: no record)."""
    with runtime_of(hotline.app).sessions() as session:
        record = session.get(CaseRecord, conversation_id)
        if record is None:
            return None
        codes = session.execute(
            select(CaseRecordCode.list, CaseRecordCode.code).where(
                CaseRecordCode.conversation_id == conversation_id
            )
        ).all()
        return {
            "kind": record.kind,
            "police_wanted": record.police_wanted,
            "police_report": record.police_report,
            "codes": sorted((str(row.list), str(row.code)) for row in codes),
        }


def retire(hotline: Hotline, list_name: str, code: str) -> None:
    """An admin retires an entry (as the settings page would) while the form is open."""
    with runtime_of(hotline.app).sessions.begin() as session:
        option = session.get(CaseOption, (list_name, code))
        assert option is not None
        option.active = False


def state_of(hotline: Hotline, conversation_id: int) -> State:
    with runtime_of(hotline.app).sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.state


def serious(page: Page) -> list[dict[str, Any]]:
    return [v for v in violations(page) if v["impact"] in ("serious", "critical")]


def test_suggested_means_of_control_are_confirmed_saved_and_shown_again(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    hotline.seed_tools()
    alice = hotline.staff("alice")
    texter = hotline.texter()
    texter.triage(needs=WORDS)
    console = open_console()
    console.sign_in(alice)
    console.set_available()
    page = console.page
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    conversation_id = conversation_of(hotline, texter)
    expect(page.locator("#case-record-summary")).to_contain_text("Not recorded")
    expect(page.locator("#case-record-summary")).to_contain_text("suggested")

    opener = page.get_by_role("button", name="Case record", exact=True)
    opener.click()
    dialog = page.get_by_role("dialog", name="Case record")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Kind of situation")).to_be_focused()

    # Suggested from the risk reasons, marked with them, ticked: but nothing saved yet.
    control = dialog.locator("#case-record-control")
    documents = control.get_by_label("Took or holds documents")
    debt = control.get_by_label("Debt bondage or owed money")
    for box, words in ((documents, "passport"), (debt, "owe")):
        expect(box).to_be_checked()
        expect(box).to_have_accessible_description(re.compile(f"^Suggested: from .*{words}"))
    expect(control.locator(".case-record-option.suggested")).to_have_count(2)
    expect(control.get_by_label("Isolation")).not_to_be_checked()
    expect(dialog.locator("#case-record-suggested-note")).to_contain_text("Nothing is saved")
    assert saved_record(hotline, conversation_id) is None
    assert serious(page) == []
    assert violations(page, ["#case-record-dialog"]) == []  # the panel: not even a minor one
    control.evaluate("(group) => group.scrollIntoView({ block: 'start' })")
    screenshot(page, "console-case-record.png")

    # "Unknown" is exclusive in a list of several.
    venue = dialog.locator("#case-record-venue")
    venue.get_by_label("Unknown").check()
    venue.get_by_label("Farm or ranch").check()
    expect(venue.get_by_label("Unknown")).not_to_be_checked()
    venue.get_by_label("Street").check()
    venue.get_by_label("Unknown").check()
    expect(venue.get_by_label("Farm or ranch")).not_to_be_checked()
    expect(venue.get_by_label("Street")).not_to_be_checked()
    venue.get_by_label("Farm or ranch").check()

    # A report made only with consent: the field waits for "wanted contact: yes".
    wanted = dialog.get_by_label("The texter wanted contact with law enforcement")
    report = dialog.get_by_label("A report was made")
    expect(report).to_be_disabled()
    wanted.select_option("yes")
    expect(report).to_be_enabled()
    report.select_option("yes")
    wanted.select_option("no")
    expect(report).to_be_disabled()
    expect(report).to_have_value("")

    dialog.get_by_label("Kind of situation").select_option("labor_trafficking")
    types = dialog.locator("#case-record-type")
    types.get_by_label("Agriculture and animal husbandry").check()

    # An admin retires an entry while the form is open: choosing it is refused, clearly, and
    # what was entered stays; nothing is saved.
    retire(hotline, "type", "construction")
    types.get_by_label("Construction").check()
    dialog.get_by_role("button", name="Save case record").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("Type: 'Construction' is retired")
    expect(types.get_by_label("Construction")).to_have_attribute("aria-invalid", "true")
    expect(types.get_by_label("Agriculture and animal husbandry")).to_be_checked()
    expect(documents).to_be_checked()
    expect(dialog.get_by_label("Kind of situation")).to_have_value("labor_trafficking")
    assert saved_record(hotline, conversation_id) is None

    types.get_by_label("Construction").uncheck()
    expect(alert).to_be_empty()
    dialog.get_by_role("button", name="Save case record").click()
    expect(dialog.locator("#case-record-saved")).to_contain_text("Saved.")
    expect(dialog.locator("#case-record-saved")).to_contain_text(f"by {name_of(alice)}")
    assert saved_record(hotline, conversation_id) == {
        "kind": "labor_trafficking",
        "police_wanted": "no",
        "police_report": None,
        "codes": [
            ("control", "debt"),
            ("control", "document_confiscation"),
            ("type", "agriculture"),
            ("venue", "farm"),
        ],
    }
    # Recorded now: no longer suggested.
    expect(control.locator(".case-record-option.suggested")).to_have_count(0)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(page.locator("#case-record-summary")).to_contain_text("Recorded")

    # After a reload, what was saved is what the form shows (opened from the keyboard).
    page.reload()
    expect(page.locator("#conversation")).to_be_visible()
    page.get_by_role("button", name="Case record", exact=True).focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Kind of situation")).to_be_focused()
    expect(dialog.get_by_label("Kind of situation")).to_have_value("labor_trafficking")
    expect(control.get_by_label("Took or holds documents")).to_be_checked()
    expect(control.get_by_label("Debt bondage or owed money")).to_be_checked()
    expect(types.get_by_label("Agriculture and animal husbandry")).to_be_checked()
    expect(venue.get_by_label("Farm or ranch")).to_be_checked()
    expect(dialog.get_by_label("The texter wanted contact with law enforcement")).to_have_value(
        "no"
    )
    expect(dialog.get_by_label("A report was made")).to_be_disabled()
    expect(dialog.locator("#case-record-saved")).to_contain_text(f"Last saved by {name_of(alice)}")
    page.get_by_role("button", name="Close case record").click()
    expect(dialog).to_be_hidden()

    # A supervisor, from the console, reads and may change the record of Alice's conversation.
    board = open_console()
    board.sign_in(hotline.staff("lead", "supervisor"))
    spage = board.page
    spage.goto(f"/console#c={conversation_id}")
    expect(spage.locator("#conv-viewing")).to_be_visible()
    expect(spage.locator("#case-record-summary")).to_contain_text("Recorded")
    spage.get_by_role("button", name="Case record", exact=True).click()
    sdialog = spage.get_by_role("dialog", name="Case record")
    expect(sdialog.get_by_label("Kind of situation")).to_have_value("labor_trafficking")
    expect(sdialog.locator("#case-record-saved")).to_contain_text(f"Last saved by {name_of(alice)}")
    expect(sdialog.get_by_role("button", name="Save case record")).to_be_enabled()
    spage.keyboard.press("Escape")

    # Erased means erased: the record goes with everything else, and no other can be kept.
    spage.get_by_label("Reason to erase this texter").fill("The texter asked for erasure")
    spage.get_by_role("button", name="Erase this texter…").click()
    spage.get_by_role("button", name="Yes, erase everything").click()
    expect(spage.locator("#status")).to_contain_text("Texter erased.")
    expect(spage.get_by_role("button", name="Case record", exact=True)).to_be_disabled()
    expect(spage.locator("#case-record-summary")).to_be_empty()
    assert saved_record(hotline, conversation_id) is None
    for opened in (console, board):
        opened.assert_clean()


def test_closing_needs_no_case_record_and_it_can_be_filled_in_after_closing(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    bob = hotline.staff("bob")
    texter = hotline.texter()
    texter.triage(needs=WORDS)
    console = open_console()
    page = console.page
    page.set_viewport_size({"width": 768, "height": 1024})  # the tablet layout: tabs
    console.sign_in(bob)
    console.set_available()
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#conversation")).to_be_visible()
    conversation_id = conversation_of(hotline, texter)

    # The Close tool says it is optional and opens it; the panel fits the tablet's screen.
    page.get_by_role("tab", name="Details").click()
    expect(page.locator("#tools")).to_contain_text("never required to close")
    page.get_by_role("button", name="Fill in the case record…").click()
    dialog = page.get_by_role("dialog", name="Case record")
    expect(dialog).to_be_visible()
    save = dialog.get_by_role("button", name="Save case record")
    expect(save).to_be_in_viewport()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 768, box
    assert serious(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Closing without a case record: the confirmation offers it, and does not require it.
    page.locator("#disposition").select_option("referred")
    page.get_by_role("button", name="Close conversation").click()
    confirm = page.get_by_role("dialog", name="Close this conversation?")
    expect(confirm).to_contain_text("never required to close")
    offer = confirm.get_by_role("button", name="Case record (optional)…")
    offer.click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#case-record-control .case-record-option.suggested")).to_have_count(2)
    page.keyboard.press("Escape")  # the case record closes; the confirmation stays
    expect(dialog).to_be_hidden()
    expect(confirm).to_be_visible()
    expect(offer).to_be_focused()
    confirm.get_by_role("button", name="Close anyway").click()
    expect(page.locator("#status")).to_have_text("Conversation closed.")
    assert state_of(hotline, conversation_id) is State.JUST_CLOSED
    assert saved_record(hotline, conversation_id) is None

    # Filled in after closing, from the Reopen bar: whoever handled it still may.
    after = page.get_by_role("button", name="Case record of the conversation you just closed")
    after.click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Kind of situation").select_option("unclear")
    dialog.locator("#case-record-control").get_by_label("Debt bondage or owed money").uncheck()
    dialog.get_by_label("Age group").select_option("adult")
    save.click()
    expect(dialog.locator("#case-record-saved")).to_contain_text(
        f"Saved. Last saved by {name_of(bob)}"
    )
    record = saved_record(hotline, conversation_id)
    assert record is not None
    assert record["kind"] == "unclear"
    assert record["codes"] == [("control", "document_confiscation")]
    # Saved once, what is still suggested is marked but no longer ticked: the advocate decided.
    debt = dialog.locator("#case-record-control").get_by_label("Debt bondage or owed money")
    expect(debt).not_to_be_checked()
    expect(debt).to_have_accessible_description(re.compile("^Suggested"))
    dialog.get_by_role("button", name="Accept all suggestions").click()
    expect(debt).to_be_checked()
    dialog.get_by_role("button", name="Close case record").click()  # without saving
    expect(after).to_be_focused()
    expect(page.locator("#status")).to_have_text("The case record was not saved.")
    assert saved_record(hotline, conversation_id) == record
    assert state_of(hotline, conversation_id) is State.JUST_CLOSED
    console.assert_clean()
