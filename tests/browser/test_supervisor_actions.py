"""A supervisor's two exceptional actions in the console: reveal a texter's full number, erase a
texter. Both need a stated reason, both are in the event log, advocates never see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Conversation, Event, Message
from tests.browser.conftest import Console, Hotline
from tests.helpers import stated_reason

pytestmark = pytest.mark.browser

REVEAL_REASON = "Police welfare check requested by the texter"
ERASE_REASON = "Texter asked by phone for all their data to be deleted"
NEEDS = "my employer keeps my passport"


def events(hotline: Hotline, kind: str) -> list[Event]:
    with runtime_of(hotline.app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind)))


def test_a_supervisor_reveals_the_number_then_erases_the_texter(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    texter = hotline.texter()
    texter.says("hi")
    texter.says("no")
    texter.says("yes")
    texter.says(NEEDS)
    with runtime_of(hotline.app).sessions() as session:
        conversation_id, texter_id = session.execute(
            select(Conversation.id, Conversation.texter_id)
        ).one()

    console = open_console()
    page = console.page
    console.sign_in(supervisor)
    page.goto(f"/console#c={conversation_id}")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(NEEDS)
    expect(page.locator("#conv-phone")).to_have_text(re.compile(re.escape(texter.phone[-2:]) + "$"))
    tools = page.locator("#supervisor-tools")
    expect(tools).to_be_visible()
    expect(tools.get_by_role("heading", name="Supervisor")).to_be_visible()
    revealed = page.locator("#conv-revealed")
    expect(revealed).to_be_hidden()

    # No reason: the API refuses, and says why in the status line.
    reveal = page.get_by_role("button", name="Reveal number")
    with page.expect_response(lambda r: r.url.endswith("/reveal-number")) as refused:
        reveal.click()
    assert refused.value.status == 409
    status = page.locator("#status")
    expect(status).to_have_text("state why the full number is needed (at least 10 characters)")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.get_by_label("Reason to reveal the full number")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(revealed).to_be_hidden()
    assert events(hotline, "number_revealed") == []

    page.get_by_label("Reason to reveal the full number").fill(REVEAL_REASON)
    reveal.click()
    expect(page.locator("#conv-full-number")).to_have_text(texter.phone)
    expect(revealed).to_contain_text("recorded in the event log")
    expect(status).to_contain_text("Number revealed")
    assert texter.phone not in page.url
    assert texter.phone not in page.evaluate("() => JSON.stringify(localStorage)")
    [revealed_event] = events(hotline, "number_revealed")
    assert revealed_event.actor_id == supervisor.id
    assert revealed_event.conversation_id == conversation_id
    assert stated_reason(hotline.app, revealed_event) == REVEAL_REASON

    # For that view only: a reload shows the masked number again.
    page.reload()
    expect(timeline).to_contain_text(NEEDS)
    expect(revealed).to_be_hidden()
    assert texter.phone not in page.content()

    # Erasing asks in the page first; cancelling erases nothing.
    page.get_by_label("Reason to erase this texter").fill(ERASE_REASON)
    confirm = page.locator("#erase-confirm")
    page.get_by_role("button", name="Erase this texter").click()
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert events(hotline, "texter_erased") == []
    expect(timeline).to_contain_text(NEEDS)

    page.get_by_role("button", name="Erase this texter").click()
    confirm.get_by_role("button", name="Yes, erase everything").click()
    expect(status).to_contain_text("Texter erased")
    expect(timeline).not_to_contain_text(NEEDS)
    inbound = timeline.locator(".message.inbound")
    expect(inbound).to_have_count(4)
    for index in range(4):
        expect(inbound.nth(index).locator(".bubble")).to_have_text("(erased)")
    expect(page.locator("#conv-phone")).to_have_text("(erased)")
    expect(page.locator("#conv-answers")).not_to_contain_text(NEEDS)
    expect(revealed).to_be_hidden()
    expect(reveal).to_be_disabled()  # nothing left to reveal
    expect(confirm).to_be_hidden()

    with runtime_of(hotline.app).sessions() as session:
        bodies = session.scalars(
            select(Message.body_ciphertext).where(Message.texter_id == texter_id)
        ).all()
    assert bodies and all(body is None for body in bodies)
    [erased] = events(hotline, "texter_erased")
    assert erased.actor_id == supervisor.id
    assert erased.texter_id == texter_id
    assert stated_reason(hotline.app, erased) == ERASE_REASON
    assert erased.detail["by"] == "supervisor"
    console.assert_clean()


def test_an_advocate_never_sees_the_supervisor_actions(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ana")
    texter = hotline.texter()
    texter.triage(needs=NEEDS)

    console = open_console()
    page = console.page
    console.sign_in(advocate)
    console.set_available()
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#timeline")).to_contain_text(NEEDS)
    expect(page.locator("#tools")).to_be_visible()
    expect(page.locator("#supervisor-tools")).to_be_hidden()
    expect(page.get_by_role("heading", name="Supervisor")).to_have_count(0)
    expect(page.get_by_role("button", name="Reveal number")).to_have_count(0)
    expect(page.get_by_role("button", name="Erase this texter")).to_have_count(0)

    match = re.fullmatch(r"#c=(\d+)", page.evaluate("() => location.hash"))
    assert match
    path = f"/console/api/conversations/{match.group(1)}"
    assert console.fetch_status(path + "/reveal-number", "POST", {"reason": REVEAL_REASON}) == 403
    assert console.fetch_status(path + "/erase-texter", "POST", {"reason": ERASE_REASON}) == 403
    assert events(hotline, "number_revealed") == []
    assert events(hotline, "texter_erased") == []
    assert texter.phone not in page.content()
    console.assert_clean()
