"""The supervisor's pages, driven in Chromium against a real hotline and the fake Twilio API: the
live board, watching and stepping into a conversation, logs and export, metrics, the audit trail,
and advocates refused all of it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import (
    Availability,
    Conversation,
    ConversationStatus,
    Event,
    StaffUser,
)
from hotline.db.models import Texter as TexterRow
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from tests.browser.axe import violations
from tests.browser.conftest import REPLY_TIMEOUT, Account, Console, Hotline
from tests.browser.pages import (
    LIVE,
    SCREENSHOTS,
    conversation_of,
    name_of,
    open_supervisor,
    screenshot,
)
from tests.conftest import new_phone
from tests.console_client import SUPERVISOR_ENDPOINTS as ENDPOINTS
from tests.helpers import stated_reason
from tests.support.stack import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def hotline_settings() -> dict[str, Any]:
    """The survey waits for the end of the reopen window after closing: a short window here,
    and timers looked at often, so the survey comes within the tests' waits."""
    return {"reopen_minutes": 0.02, "timer_tick_seconds": 2.0}


URGENT_TEXT = "he has a gun"
NOTE = "Supervisor here: ask whether she can reach the shelter tonight."
NEEDS = 'I need somewhere to stay <img src=x onerror="window.__pwned=1"> {{7*7}}'


def set_availability(hotline: Hotline, account: Account, availability: Availability) -> None:
    """On shift or away, without opening a browser for them (what their console switch does)."""
    with runtime_of(hotline.app).sessions.begin() as session:
        user = session.get(StaffUser, account.id)
        assert user is not None
        user.availability = availability
        # Reassigning needs them connected too: as if their console had just polled.
        user.console_seen_at = runtime_of(hotline.app).clock.now()


# A week of earlier conversations for the metrics (and a second page of logs): days back, count.
HISTORY = {6: 8, 5: 11, 4: 9, 3: 12, 2: 6, 1: 9}
DISPOSITIONS = ("referred", "safety_planning", "information", "emergency_services")
SCORES = (5, 4, 5, 3, None, 4, 2)


def seed_history(hotline: Hotline, advocates: list[Account]) -> dict[str, Any]:
    """Closed conversations over the last six days, straight into the database; what the
    metrics should then count."""
    runtime = runtime_of(hotline.app)
    vault = runtime.triage.vault
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    expected: dict[str, Any] = {"abandoned": 0, "priorities": Counter(), "scores": Counter()}
    n = 0
    with runtime.sessions.begin() as session:
        for days_back, count in HISTORY.items():
            for i in range(count):
                n += 1
                opened = (now - timedelta(days=days_back)).replace(
                    hour=(3 + 5 * i + days_back) % 24
                )
                phone = new_phone()
                texter = TexterRow(
                    phone_hash=vault.phone_hash(phone),
                    phone_ciphertext=vault.encrypt(phone),
                    created_at=opened,
                    last_seen_at=opened,
                )
                session.add(texter)
                session.flush()
                priority = (
                    Priority.URGENT
                    if n % 7 == 0
                    else Priority.HIGH
                    if n % 3 == 0
                    else Priority.NORMAL
                )
                abandoned = n % 10 == 0
                queued = opened + timedelta(minutes=2)
                claimed = None if abandoned else queued + timedelta(seconds=30 + 17 * i)
                score = None if abandoned else SCORES[n % len(SCORES)]
                session.add(
                    Conversation(
                        texter_id=texter.id,
                        status=ConversationStatus.CLOSED,
                        state=State.ENDED,
                        priority=priority,
                        advocate_id=None if abandoned else advocates[n % len(advocates)].id,
                        in_danger=False,
                        safe_to_text=True,
                        opened_at=opened,
                        last_activity_at=opened + timedelta(minutes=30),
                        queued_at=queued,
                        claimed_at=claimed,
                        first_reply_at=claimed and claimed + timedelta(seconds=20 + 7 * i),
                        closed_at=opened + timedelta(minutes=25 + 4 * i),
                        close_reason="abandoned" if abandoned else "closed",
                        disposition=None if abandoned else DISPOSITIONS[n % len(DISPOSITIONS)],
                        survey_score=score,
                    )
                )
                expected["abandoned"] += abandoned
                expected["priorities"][priority.value] += 1
                if score is not None:
                    expected["scores"][score] += 1
    return expected


def bar_values(page: Page, chart: str, bars: str = "rect.bar") -> list[float]:
    values = page.locator(f"{chart} svg {bars}").evaluate_all(
        "bars => bars.map(bar => Number(bar.dataset.value))"
    )
    assert isinstance(values, list)
    return [float(v) for v in values]


def export_events(hotline: Hotline) -> list[Event]:
    with runtime_of(hotline.app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == "export").order_by(Event.id)))


def test_the_live_board_watch_note_reassign_and_take_over(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    alice, bob = hotline.staff("alice"), hotline.staff("bob")
    hotline.staff("carol")  # on the roster, away
    held = hotline.texter()
    held.triage(needs="my boss took my passport")
    hotline.post_sms(hotline.texter().phone, URGENT_TEXT)

    # Alice takes the waiting texter with normal priority (the urgent one stays waiting).
    alice_console = open_console()
    alice_page = alice_console.page
    alice_console.sign_in(alice)
    alice_console.set_available()
    alice_page.locator("#queue-list > li").filter(has_text="my boss took my passport").get_by_role(
        "button", name="Claim"
    ).click()
    alice_timeline = alice_page.locator("#timeline")
    expect(alice_timeline).to_contain_text("my boss took my passport")
    held_id = conversation_of(hotline, held)

    console = open_console()
    page = open_supervisor(console, supervisor)
    board = page.locator("#board")
    expect(board).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile("Live board"))).to_have_attribute(
        "aria-selected", "true"
    )
    urgent_tile = page.locator("#tile-urgent")
    expect(page.locator("#urgent-waiting")).to_have_text("1")
    expect(urgent_tile).to_have_class(re.compile(r"\balarm\b"))  # loud while someone waits
    expect(page.locator("#waiting-total")).to_have_text("1")
    expect(page.locator("#waiting-split")).to_have_text("1 urgent · 0 high · 0 normal")
    expect(page.locator("#tab-urgent")).to_have_text("1 urgent")
    waiting = page.locator("#waiting-list > li")
    expect(waiting).to_have_count(1)
    expect(waiting.first).to_contain_text("Urgent")
    expect(waiting.first.locator(".tick")).to_contain_text("Waiting")
    expect(page.locator("#longest-wait")).not_to_have_text("none")
    expect(page.locator("#today-opened")).to_have_text("2")

    alice_card = page.locator("#advocate-list > li").filter(has_text=name_of(alice))
    expect(alice_card).to_contain_text("Available")
    expect(alice_card).to_contain_text("1 active")
    row = alice_card.locator(f'.active-row[data-id="{held_id}"]')
    expect(row).to_contain_text("High")  # took ... passport (+40)
    expect(row.locator(".tick.since")).to_contain_text("for ")
    expect(row.locator(".tick.quiet")).to_contain_text("quiet ")
    expect(page.locator("#advocate-list > li").filter(has_text=name_of(bob))).to_contain_text(
        "Away"
    )
    # Who is really there: Alice's console polls; Bob never opened his.
    expect(alice_card.locator(".chip.connected")).to_have_text("Connected")
    bob_card = page.locator("#advocate-list > li").filter(has_text=name_of(bob))
    expect(bob_card.locator(".chip.offline")).to_have_text("Not connected")
    expect(page.locator("#available-count")).to_have_text("1 of 3")

    # A new texter arrives: the board shows them without a reload.
    hotline.post_sms(hotline.texter().phone, URGENT_TEXT)
    expect(page.locator("#urgent-waiting")).to_have_text("2", timeout=LIVE)
    expect(waiting).to_have_count(2)
    expect(page.locator("#today-opened")).to_have_text("3")

    # Watch, silently: the timeline, live, and no way to write to the texter.
    set_availability(hotline, bob, Availability.AVAILABLE)  # so that he can be chosen below
    row.get_by_role("button", name=re.compile("^Watch")).click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-id")).to_have_text(f"#{held_id}")
    timeline = page.locator("#viewer-timeline")
    expect(timeline).to_contain_text("my boss took my passport")
    expect(timeline).to_contain_text("Taken by an advocate")
    expect(page.locator("#viewer-facts")).to_contain_text(name_of(alice))
    assert held.phone[1:-2] not in page.content()  # only the masked number
    expect(viewer.locator("#reply, [name=reply]")).to_have_count(0)
    expect(page.get_by_role("textbox", name=re.compile("reply", re.I))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Send\b"))).to_have_count(0)
    sent_before = len(hotline.fake.messages)
    held.says("he is back, I have to be quick", replies=0)
    expect(timeline).to_contain_text("he is back, I have to be quick", timeout=LIVE)

    # A note to the advocate: in both timelines, never at the texter's phone.
    page.get_by_label("Note to the advocate").fill(NOTE)
    page.get_by_role("button", name="Add note for the advocate").click()
    expect(page.locator("#status")).to_contain_text("the texter never does")
    expect(timeline.locator(".note")).to_contain_text(NOTE)
    expect(timeline.locator(".note")).to_contain_text("Note from a supervisor")
    expect(alice_timeline.locator(".note")).to_contain_text(NOTE, timeout=LIVE)
    expect(alice_timeline.locator(".note")).to_contain_text(name_of(supervisor))
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "supervisor-board.png")
    assert len(hotline.fake.messages) == sent_before
    assert all(NOTE not in m.body for m in hotline.fake.messages)

    # Reassign to Bob, who is available now; then take over from him.
    wait_until(
        lambda: page.locator(f'#reassign-to option[value="{bob.id}"]').count() == 1,
        8,
        "Bob in the reassign list",
    )
    page.locator("#reassign-to").select_option(str(bob.id))
    set_availability(hotline, bob, Availability.AWAY)  # he steps away meanwhile: refused
    page.get_by_role("button", name="Reassign", exact=True).click()
    expect(page.locator("#status")).to_have_text("that advocate is away")
    expect(page.locator("#status")).to_have_class(re.compile(r"\berror\b"))
    set_availability(hotline, bob, Availability.AVAILABLE)
    page.get_by_role("button", name="Reassign", exact=True).click()
    expect(page.locator("#status")).to_contain_text(f"reassigned to {name_of(bob)}")
    bob_card = page.locator("#advocate-list > li").filter(has_text=name_of(bob))
    expect(bob_card.locator(f'.active-row[data-id="{held_id}"]')).to_have_count(1)
    expect(alice_card).to_contain_text("no conversations")
    expect(page.locator("#viewer-facts")).to_contain_text(name_of(bob))
    expect(alice_page.locator("#mine-list .mine-open")).to_have_count(0, timeout=8000)

    page.locator("#step-in").get_by_role("button", name="Take over…").click()
    confirm = page.locator("#take-over-confirm")
    expect(confirm).to_contain_text(f"from {name_of(bob)}")
    confirm.get_by_role("button", name="Yes, take over").click()
    link = page.get_by_role("link", name="Open it in the console to reply")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/console#c={held_id}")
    expect(page.locator("#viewer-facts")).to_contain_text(f"{name_of(supervisor)} (you)")
    with runtime_of(hotline.app).sessions() as session:
        kinds = session.scalars(
            select(Event.kind).where(Event.conversation_id == held_id, Event.actor_id.is_not(None))
        ).all()
    assert {"transcript_viewed", "supervisor_note", "reassigned", "taken_over"} <= set(kinds)

    # The supervisor now replies from the console, and the texter gets it.
    link.click()
    page.wait_for_url(f"**/console#c={held_id}")
    expect(page.locator("#timeline")).to_contain_text(NOTE)
    reply = page.locator("#reply")
    expect(reply).to_be_enabled()
    reply.fill("A supervisor here. You are not alone: can you text safely for a minute?")
    page.get_by_role("button", name=re.compile(r"^Send")).click()
    wait_until(
        lambda: any(m.body.startswith("A supervisor here.") for m in held.replies()),
        REPLY_TIMEOUT,
        "the supervisor's reply at the fake API",
    )
    alice_console.assert_clean()
    console.assert_clean()


def test_logs_export_metrics_and_the_audit_trail(
    hotline: Hotline, open_console: Callable[[], Console], tmp_path: Path
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    advocate = hotline.staff("alice")
    handled = hotline.texter()
    handled.triage(needs=NEEDS)
    urgent = hotline.texter()
    urgent.says(URGENT_TEXT)

    # The advocate's part through the console API, from their own browser: take, reply, close.
    alice = open_console()
    alice.sign_in(advocate)
    assert (
        alice.fetch_status("/console/api/availability", "POST", {"availability": "available"})
        == 200
    )
    handled_id = conversation_of(hotline, handled)
    urgent_id = conversation_of(hotline, urgent)
    path = f"/console/api/conversations/{handled_id}"
    assert alice.fetch_status(path + "/claim", "POST") == 200
    assert alice.fetch_status(path + "/reply", "POST", {"body": "We can find you a bed."}) == 200
    wait_until(
        lambda: any(m.body == "We can find you a bed." for m in handled.replies()),
        REPLY_TIMEOUT,
        "the advocate's reply",
    )
    closed = alice.fetch_status(path + "/close", "POST", {"disposition": "referred"})
    assert closed == 200
    wait_until(
        lambda: any("1 (not at all) to 5" in m.body for m in handled.replies()),
        REPLY_TIMEOUT,
        "the survey",
    )
    handled.says("5")
    urgent.says("STOP")

    console = open_console()
    page = open_supervisor(console, supervisor)

    # -- logs: newest first, filtered, a timeline opened --------------------------------------
    page.get_by_role("tab", name="Logs").click()
    expect(page).to_have_url(re.compile(r"#logs$"))
    rows = page.locator("#log-rows > tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-id", str(urgent_id))
    filters = page.locator("#log-filters")
    filters.get_by_label("Priority").select_option("urgent")
    filters.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Urgent")
    filters.get_by_label("Priority").select_option("")
    filters.get_by_label("Survey score").select_option("5")
    filters.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", str(handled_id))
    expect(rows.first).to_contain_text(name_of(advocate))
    expect(rows.first).to_contain_text("Referred to services")  # the label, not the code
    rows.first.click()
    timeline = page.locator("#viewer-timeline")
    for shown in (
        "I need somewhere to stay",
        "Triage answer — in danger",
        "Taken by an advocate",
        "We can find you a bed.",
        "Closed by the advocate — referred",
        "Triage answer — survey: scored",
        "Conversation ended",
    ):
        expect(timeline).to_contain_text(shown)
    expect(page.locator("#viewer-facts")).to_contain_text(NEEDS)  # as text, never as markup
    assert page.locator("#supervisor img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    bed = timeline.locator(".message.outbound").filter(has_text="We can find you a bed.")
    expect(bed.locator(".delivery")).to_have_text("delivered")
    expect(page.locator("#viewer-facts")).to_contain_text("5 of 5")
    expect(page.locator("#step-in")).to_be_hidden()  # closed: nothing to step into
    expect(page.locator("#viewer-state")).to_have_text("closed")
    page.locator("#log-clear").click()
    expect(rows).to_have_count(2)
    rows.first.click()
    expect(page.locator("#viewer-optout")).to_be_visible()  # the urgent texter texted STOP
    expect(page.locator("#viewer-timeline")).to_contain_text(URGENT_TEXT)
    expect(page.locator("#viewer-timeline")).to_contain_text("Risk assessed — urgent")
    expect(page.locator("#viewer-reasons")).to_contain_text("Risk: ")

    # -- export: never a number; text only when asked for, and that is audited --------------
    expect(page.locator("#export-warning")).not_to_have_class(re.compile(r"\bloud\b"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    plain = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".csv")
    exported = list(csv.DictReader(io.StringIO(plain)))
    assert sorted(int(r["id"]) for r in exported) == sorted([handled_id, urgent_id])
    assert "transcript" not in exported[0]
    assert "I need somewhere to stay" not in plain
    page.get_by_label("Include message text").check()
    expect(page.locator("#export-warning")).to_have_class(re.compile(r"\bloud\b"))
    expect(page.locator("#export-warning")).to_contain_text("recorded in the audit trail")
    # Message text needs a stated reason: refused without one, and the field says so.
    reason = page.get_by_label("Reason to export message text")
    with page.expect_response(lambda r: "/supervisor/api/export" in r.url) as refused:
        page.get_by_role("button", name="Export CSV").click()
    assert refused.value.status == 400
    expect(page.locator("#status")).to_have_text(
        "state why message text is exported (at least 10 characters)"
    )
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("Court order 2026-114 for these conversations")
    expect(reason).not_to_have_attribute("aria-invalid", "true")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    full = Path(download.value.path()).read_text(encoding="utf-8")
    transcripts = {int(r["id"]): r["transcript"] for r in csv.DictReader(io.StringIO(full))}
    assert "texter: I need somewhere to stay" in transcripts[handled_id]
    assert "hotline: We can find you a bed." in transcripts[handled_id]
    assert URGENT_TEXT in transcripts[urgent_id]
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    as_json = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert {row["id"] for row in as_json} == {handled_id, urgent_id}
    for text in (plain, full, json.dumps(as_json)):
        for texter in (handled, urgent):
            assert texter.phone not in text and texter.phone[2:] not in text
    assert [(e.detail["format"], e.detail["include_text"]) for e in export_events(hotline)] == [
        ("csv", False),
        ("csv", True),
        ("json", True),
    ]
    assert all(e.actor_id == supervisor.id for e in export_events(hotline))
    assert [stated_reason(hotline.app, e) for e in export_events(hotline)] == [
        None,
        "Court order 2026-114 for these conversations",
        "Court order 2026-114 for these conversations",
    ]

    # -- metrics: charts drawn, numbers that add up ---------------------------------------------
    bob = hotline.staff("bob")
    expected = seed_history(hotline, [advocate, bob])
    seeded = sum(HISTORY.values())
    page.locator("#viewer-close").click()
    expect(page.locator("#viewer")).to_be_hidden()
    page.get_by_role("tab", name="Metrics").click()
    tiles = page.locator("#metric-tiles .tile")
    expect(tiles.first).to_contain_text(str(seeded + 2))
    per_day = page.locator("#chart-per-day svg rect.bar")
    expect(per_day).to_have_count(7)  # the last 7 days, quiet days included
    assert bar_values(page, "#chart-per-day") == [*HISTORY.values(), 2]
    labels = page.locator("#chart-per-day text.value")  # each number on its bar
    expect(labels).to_have_text([str(v) for v in [*HISTORY.values(), 2]])
    expect(page.locator("#chart-per-day")).to_contain_text("conversations")  # the axis title
    expect(page.locator("#chart-per-hour svg rect.bar")).to_have_count(24)
    assert sum(bar_values(page, "#chart-per-hour")) == seeded + 2
    priorities = expected["priorities"]
    assert bar_values(page, "#chart-priorities") == [
        priorities["urgent"] + 1,
        priorities["high"],
        priorities["normal"] + 1,
    ]
    scores = expected["scores"]
    assert bar_values(page, "#chart-survey") == [scores[s] + (s == 5) for s in range(1, 6)]
    dispositions = bar_values(page, "#chart-dispositions")
    assert dispositions == sorted(dispositions, reverse=True)  # the commonest first
    assert sum(dispositions) == seeded + 2  # "none" included: every conversation once
    expect(page.locator("#chart-dispositions")).to_contain_text("Referred to services")
    p50, p90 = (
        bar_values(page, "#chart-times", "rect.bar.p50"),
        bar_values(page, "#chart-times", "rect.bar.p90"),
    )
    assert len(p50) == len(p90) == 3 and all(0 <= a <= b for a, b in zip(p50, p90, strict=True))
    queued = seeded + 2
    expect(page.locator("#chart-abandonment")).to_contain_text(
        f"{expected['abandoned'] / queued * 100:.1f}% of {queued} who queued"
    )
    expect(page.locator("#per-advocate tr")).to_have_count(2)
    if os.environ.get("HOTLINE_SCREENSHOTS") == "1":  # the whole page: every chart
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "supervisor-metrics.png"), full_page=True)

    # -- logs again: a page of 50, then the rest ----------------------------------------------
    page.get_by_role("tab", name="Logs").click()
    page.locator("#log-clear").click()
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(seeded + 2)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    ids = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.id)")]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)  # newest first, once

    # -- the audit trail finds the exports, newest first -----------------------------------------
    page.get_by_role("tab", name="Audit trail").click()
    audit = page.locator("#audit-filters")
    audit.get_by_label("Kind").fill("export")
    audit.get_by_label("Who").select_option(str(supervisor.id))
    audit.get_by_role("button", name="Search").click()
    found = page.locator("#audit-rows > tr")
    expect(found).to_have_count(3)
    expect(found.first).to_contain_text("format: json")
    expect(found.first.locator(".flag")).to_have_text(
        ["include_text: true", re.compile(r"^reason: Court order 2026-114")]
    )
    expect(found.nth(2)).to_contain_text("include_text: false")
    expect(found.first).to_contain_text(name_of(supervisor))
    audit.get_by_label("Kind").fill("")
    audit.get_by_label("Conversation #").fill(str(handled_id))
    audit.get_by_role("button", name="Search").click()
    expect(found.filter(has_text="transcript_viewed")).to_have_count(1)
    alice.assert_clean()
    console.assert_clean()


def test_an_advocate_is_refused_every_supervisor_page_and_api(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ana")
    console = open_console()
    page = console.page
    console.sign_in(advocate)
    response = page.request.get("/supervisor")
    assert response.status == 403
    for method, path in ENDPOINTS:
        status = console.fetch_status(path, method.upper(), {"body": "x", "to_staff_id": 1})
        assert status == 403, path
    with page.expect_response(lambda r: r.url.endswith("/supervisor")) as refused:
        page.goto("/supervisor")
    assert refused.value.status == 403
    assert "Supervisor" not in page.content()
    # The browser is told on a page of the hotline's own, not handed JSON or plain text.
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("you may not see this")
    assert violations(page) == []
    page.get_by_role("link", name="Back to the console").click()
    page.wait_for_url("**/console")
    console.assert_clean()
