"""The weekly quality review in Chromium: an advocate closes a conversation, the week's sample
is drawn, a supervisor reads it and scores it on /supervisor/reviews, and the advocate reads the
feedback in their console and marks it read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Conversation, Event, QualityReview
from hotline.domain.review import week_of
from tests.browser.conftest import Console, Hotline
from tests.browser.pages import conversation_of, name_of, open_supervisor, screenshot

pytestmark = pytest.mark.browser

NEEDS = "I need a safe place to sleep tonight"
REPLY = "We can find you a shelter tonight. Are you somewhere safe right now?"
FEEDBACK = "You asked about safety first <b>and</b> the shelter fit. Say they can text again."


def test_a_supervisor_reviews_a_sampled_conversation_and_the_advocate_reads_it(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    alice, lead = hotline.staff("alice"), hotline.staff("lead", "supervisor")
    texter = hotline.texter()
    texter.triage(needs=NEEDS)

    # Alice takes the texter, answers and closes the conversation.
    advocate = open_console()
    advocate.sign_in(alice)
    advocate.set_available()
    page = advocate.page
    page.get_by_role("button", name="Take next").click()
    expect(page.locator("#timeline")).to_contain_text(NEEDS)
    page.locator("#reply").fill(REPLY)
    page.locator("#reply").press("Control+Enter")
    expect(page.locator("#timeline .message.outbound").filter(has_text=REPLY)).to_have_count(1)
    page.locator("#disposition").select_option("referred")
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator("#status")).to_have_text("Conversation closed.")
    expect(page.locator("#feedback-toggle")).to_be_hidden()  # nothing reviewed yet

    # A week goes by (the conversation is moved back), and the week's sample is drawn.
    conversation_id = conversation_of(hotline, texter)
    runtime = runtime_of(hotline.app)
    with runtime.sessions.begin() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.closed_at is not None
        conversation.opened_at -= timedelta(days=8)
        conversation.closed_at -= timedelta(days=8)
        closed_at = conversation.closed_at
    assert closed_at is not None
    drawn = jobs.draw_reviews(runtime, week_of(closed_at.date()))
    assert drawn.sampled == [conversation_id]

    # The supervisor finds it from the supervisor's page.
    supervisor = open_console()
    spage = open_supervisor(supervisor, lead)
    spage.get_by_role("link", name="Quality review").click()
    spage.wait_for_url("**/supervisor/reviews")
    row = spage.locator("#sample-rows tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name_of(alice))
    expect(row).to_contain_text("to review")
    expect(spage.locator("#sample-count")).to_have_text("0 of 1 reviewed")
    row.get_by_role("button", name=f"Open conversation {conversation_id} for review").click()
    timeline = spage.locator("#viewer-timeline")
    expect(timeline).to_contain_text(NEEDS)
    expect(timeline).to_contain_text(REPLY)
    expect(spage.locator("#viewer-facts")).to_contain_text(name_of(alice))

    # Every criterion needs a score: the page says which one is missing.
    form = spage.locator("#rubric-form")
    form.get_by_role("group", name=re.compile("^Safety assessed")).get_by_label(
        "4 Exemplary"
    ).check()
    spage.get_by_role("button", name="Submit review").click()
    expect(spage.locator("#status")).to_have_text('Score "Emergency handled" first.')
    expect(form.get_by_role("group", name=re.compile("^Emergency handled"))).to_have_attribute(
        "aria-invalid", "true"
    )
    for label, choice in (
        ("Emergency handled", "n/a"),
        ("Referral appropriate", "3 Done well"),
        ("Tone and empathy", "4 Exemplary"),
        ("Closed properly", "2 Partly"),
    ):
        form.get_by_role("group", name=re.compile(f"^{label}")).get_by_label(choice).check()
    spage.get_by_label(re.compile("^Feedback to the advocate")).fill(FEEDBACK)
    spage.get_by_role("button", name="Submit review").click()
    expect(spage.locator("#status")).to_contain_text("Review submitted.")
    done = spage.locator("#review-done")
    expect(done).to_be_visible()
    expect(form).to_be_hidden()  # read-only from now on
    expect(spage.locator("#review-feedback")).to_have_text(FEEDBACK)  # as text, never markup
    expect(spage.locator("#review-scores")).to_contain_text("Closed properly2 · Partly")
    expect(spage.locator("#sample-count")).to_have_text("1 of 1 reviewed")
    expect(row).to_contain_text(f"reviewed by {name_of(lead)}")
    screenshot(spage, "supervisor-review.png")

    with runtime.sessions() as session:
        review = session.scalars(select(QualityReview)).one()
        viewed = session.scalars(
            select(Event.conversation_id).where(
                Event.kind == "transcript_viewed", Event.actor_id == lead.id
            )
        ).all()
    assert review.reviewer_id == lead.id and review.seen_at is None
    assert review.scores == {
        "safety_assessed": 4,
        "emergency_handled": "n/a",
        "referral_appropriate": 3,
        "tone_empathy": 4,
        "closed_properly": 2,
    }
    assert viewed == [conversation_id]  # reading the transcript was recorded

    # Alice sees the feedback in her console, and marks it read.
    page.reload()
    toggle = page.locator("#feedback-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator("#feedback-count")).to_have_text("1 new")
    toggle.click()
    panel = page.locator("#feedback")
    expect(panel).to_be_visible()
    item = panel.locator(".feedback-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Conversation #{conversation_id}")
    expect(item).to_contain_text(f"reviewed by {name_of(lead)}")
    expect(item).to_contain_text("Tone and empathy4 of 4 · Exemplary")
    expect(item.locator(".feedback-text")).to_have_text(FEEDBACK)
    screenshot(page, "console-feedback.png")
    item.get_by_role("button", name="Mark as read").click()
    expect(item.get_by_role("button", name="Mark as read")).to_have_count(0)
    expect(page.locator("#feedback-count")).to_be_hidden()
    with runtime.sessions() as session:
        assert session.scalars(select(QualityReview.seen_at)).one() is not None
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # The supervisor sees that she read it; she may not see the supervisor's side at all.
    spage.reload()
    expect(spage.locator("#sample-rows tr")).not_to_contain_text("not yet")
    assert advocate.fetch_status("/supervisor/api/reviews") == 403
    assert advocate.fetch_status(f"/supervisor/api/reviews/{review.id}") == 403
    assert page.evaluate("() => window.__pwned") is None
    advocate.assert_clean()
    supervisor.assert_clean()
