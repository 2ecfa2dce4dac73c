"""Alerts in Chromium: the supervisor board's alerts panel (live, the masked number and the
words as text, acknowledging), and the console's emergency banner and flags. Both pages are
checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Conversation, Event, Message
from hotline.db.models import Texter as TexterRow
from hotline.domain.delivery import Direction
from hotline.domain.phone import mask
from hotline.infra.live import conversation_topic
from hotline.services import events
from tests.browser.axe import violations
from tests.browser.conftest import REPLY_TIMEOUT, Console, Hotline, Texter
from tests.browser.pages import conversation_of, open_supervisor
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser

WORDS = "<b>he is back</b> <script>window.__pwned=1</script> he has a gun"
LIVE_BOARD = 8000  # ms: the board looks again at least every 5 s


def texter_id(hotline: Hotline, texter: Texter) -> int:
    runtime = runtime_of(hotline.app)
    with runtime.sessions() as session:
        found = session.scalar(
            select(TexterRow.id).where(
                TexterRow.phone_hash == runtime.triage.vault.phone_hash(texter.phone)
            )
        )
    assert found is not None
    return int(found)


def record_alert(hotline: Hotline, kind: str, **ids_and_detail: object) -> int:
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        return events.record_at_once(
            session, "alert", runtime.clock.now(), alert=kind, **ids_and_detail
        )


def opted_out_emergency(hotline: Hotline) -> tuple[Texter, int]:
    """A texter who texted STOP, then emergency words that went nowhere; the alert's id."""
    texter = hotline.texter()
    texter.says("hi")
    texter.says("STOP")
    ident = texter_id(hotline, texter)
    hotline.post_sms(texter.phone, WORDS)
    runtime = runtime_of(hotline.app)

    def stored() -> int | None:
        with runtime.sessions() as session:
            return session.scalar(
                select(Message.id)
                .where(Message.texter_id == ident, Message.direction == Direction.INBOUND)
                .order_by(Message.id.desc())
                .limit(1)
                .where(Message.processed_at.is_not(None))
            )

    wait_until(lambda: stored() is not None, REPLY_TIMEOUT, "the last text processed")

    def raised() -> int | None:  # the worker raises the alert itself
        with runtime.sessions() as session:
            return session.scalar(
                select(Event.id).where(
                    Event.kind == "alert",
                    Event.texter_id == ident,
                    Event.message_id == stored(),
                )
            )

    wait_until(lambda: raised() is not None, REPLY_TIMEOUT, "the worker's alert")
    alert_id = raised()
    assert alert_id is not None
    return texter, alert_id


def assert_accessible(page: Page, *include: str) -> None:
    found = violations(page, list(include) or None)
    assert found == [], found


def test_the_board_lists_alerts_live_and_a_supervisor_acknowledges_them(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    queued = hotline.texter()
    queued.triage()
    queued_id = conversation_of(hotline, queued)
    opted_out, opted_out_alert = opted_out_emergency(hotline)
    history_id = conversation_of(hotline, opted_out)
    held = record_alert(hotline, "held", conversation_id=queued_id, why="not_safe")
    with runtime_of(hotline.app).sessions.begin() as session:
        session.get_one(Conversation, queued_id).minor = True

    supervisor = hotline.staff("sam", "supervisor")
    console = open_console()
    page = open_supervisor(console, supervisor)
    items = page.locator("#alert-list > li")
    expect(items).to_have_count(2)
    expect(page.locator("#alerts-open")).to_have_text("2")
    page.wait_for_function("() => document.title.startsWith('(2 ALERTS')")

    # The opted-out texter's words, as text: no <b>, no <script>, nothing run.
    item = page.locator(f'#alert-list > li[data-id="{opted_out_alert}"]')
    expect(item).to_contain_text("Emergency words from a number that texted STOP")
    expect(item).to_contain_text(mask(opted_out.phone))
    expect(item.locator(".alert-words")).to_have_text(WORDS)
    assert page.locator("#alert-list b, #alert-list script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    for form in (opted_out.phone, opted_out.phone[2:], opted_out.phone[-7:]):
        assert form not in page.content()

    # Held: why in words, and a button to the conversation's timeline.
    held_item = page.locator(f'#alert-list > li[data-id="{held}"]')
    expect(held_item).to_contain_text("the texter said it is not safe to text")
    expect(page.locator(f'#waiting-list > li[data-id="{queued_id}"] .flag-minor')).to_have_text(
        "Minor"
    )

    # A new emergency shows without a reload.
    emergency = record_alert(
        hotline, "emergency", conversation_id=queued_id, texter_id=texter_id(hotline, queued)
    )
    expect(items).to_have_count(3, timeout=LIVE_BOARD)
    expect(items.first).to_have_attribute("data-id", str(emergency))
    expect(items.first).to_contain_text("Emergency words from a texter")
    expect(page.locator("#alerts-open")).to_have_text("3")
    assert_accessible(page)

    # The texter's history opens their latest conversation in the viewer.
    item.get_by_role("button", name=re.compile("Texter's history")).click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer-id")).to_have_text(f"#{history_id}")
    items.first.get_by_role("button", name=f"View conversation #{queued_id}").click()
    expect(page.locator("#viewer-id")).to_have_text(f"#{queued_id}")

    # Acknowledged: gone from the list, the count down, and in the event log.
    items.first.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.locator(f'#alert-list > li[data-id="{emergency}"]')).to_have_count(0)
    expect(items).to_have_count(2)
    expect(page.locator("#alerts-open")).to_have_text("2")
    expect(page.locator("#status")).to_contain_text("Alert acknowledged")
    with runtime_of(hotline.app).sessions() as session:
        acks = session.scalars(select(Event).where(Event.kind == "alert_acknowledged")).all()
        reads = session.scalars(select(Event).where(Event.kind == "transcript_viewed")).all()
    assert [(a.detail["alert_id"], a.actor_id) for a in acks] == [(emergency, supervisor.id)]
    # The words were read once (within ten minutes, one line is enough); the two conversations
    # opened in the viewer are recorded as their own reads.
    assert [(r.actor_id, r.detail) for r in reads if r.message_id is not None] == [
        (supervisor.id, {"alert_id": opted_out_alert})
    ]
    assert {r.conversation_id for r in reads if r.message_id is None} == {history_id, queued_id}

    for ident in (opted_out_alert, held):
        page.locator(f'#alert-list > li[data-id="{ident}"]').get_by_role(
            "button", name=re.compile("^Acknowledge")
        ).click()
        expect(page.locator(f'#alert-list > li[data-id="{ident}"]')).to_have_count(0)
    expect(page.locator("#alerts-empty")).to_be_visible()
    expect(page.locator("#alerts-open")).to_have_text("0")
    page.wait_for_function("() => !document.title.includes('ALERT')")
    console.assert_clean()


def test_the_console_shows_the_emergency_banner_and_flags(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ana")
    flagged = hotline.texter()
    flagged.triage(needs="I am 15 and he took my phone")
    conversation_id = conversation_of(hotline, flagged)
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        row = session.get_one(Conversation, conversation_id)
        row.minor = True
        row.safe_to_text = False
        row.texter_language = "vi"  # as the worker marks a texter writing Vietnamese
    runtime.live.bump(["queue"])

    console = open_console()
    page = console.page
    console.sign_in(advocate)
    console.set_available()
    row = page.locator(f'#queue-list > li[data-id="{conversation_id}"]')
    expect(row.locator(".flag-minor")).to_have_text("Minor")
    expect(row.locator(".flag-wait")).to_have_text("Do not text first")
    expect(row.locator(".flag-language")).to_have_text("Writes Vietnamese: interpreter")
    expect(row.locator(".flag-emergency")).to_have_count(0)
    row.get_by_role("button", name=re.compile("^Claim")).click()
    expect(page.locator("#timeline")).to_contain_text("I am 15")
    banner = page.locator("#conv-emergency")
    expect(banner).to_be_hidden()
    expect(page.locator("#conv-flags")).to_contain_text("Minor")
    expect(page.locator("#conv-flags")).to_contain_text("Do not text first")
    expect(page.locator("#conv-flags")).to_contain_text("Writes Vietnamese")
    expect(page.locator("#conv-wait-first")).to_be_visible()

    # Emergency words come while the advocate holds the conversation: the banner shows at once.
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        row_now = session.get_one(Conversation, conversation_id)
        row_now.emergency_at = now
        events.record(
            session, "alert", now, conversation_id=conversation_id,
            texter_id=row_now.texter_id, alert="emergency",
        )  # fmt: skip
    runtime.live.bump([conversation_topic(conversation_id)])
    expect(banner).to_be_visible(timeout=3000)
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_have_text(
        re.compile(
            r"^Emergency words at \d{1,2}:\d{2}( [AP]M)? — the texter may be in danger now\.$"
        )
    )
    expect(page.locator("#conv-flags .flag-emergency")).to_have_text("Emergency")
    expect(page.locator("#mine-list .flag-emergency")).to_have_count(1, timeout=8000)
    assert_accessible(page)
    console.assert_clean()
