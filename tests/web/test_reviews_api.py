"""The quality review over HTTP: supervisors only under /supervisor, CSRF on every change, and
each advocate's feedback their own. Conversations go the whole way: texted, taken, closed.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Event, QualityReview, StaffUser
from tests.console_client import available, post, queued_texter, run, sign_in, staff
from tests.fakes import FakeClock

SCORES: dict[str, Any] = {
    "safety_assessed": 4,
    "emergency_handled": "n/a",
    "referral_appropriate": 3,
    "tone_empathy": 4,
    "closed_properly": 2,
}
FEEDBACK = "Kind and steady. Remember to say they can text again any time."
SUPERVISOR_ENDPOINTS = [
    ("get", "/supervisor/reviews"),
    ("get", "/supervisor/api/reviews"),
    ("get", "/supervisor/api/reviews/1"),
    ("post", "/supervisor/api/reviews/1"),
]


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def handled_and_closed(app: Flask, advocate: StaffUser) -> int:
    """A texter taken, answered and closed by ``advocate``; the conversation's id."""
    queued_texter(app)
    client, csrf = sign_in(app, advocate)
    available(client, csrf)
    taken = post(client, csrf, "/console/api/queue/take-next", {})
    conversation_id = int(taken.get_json()["conversation_id"])
    path = f"/console/api/conversations/{conversation_id}"
    assert post(client, csrf, f"{path}/reply", {"body": "We are here."}).status_code == 200
    closed = post(client, csrf, f"{path}/close", {"disposition": "referred"})
    assert closed.status_code == 200, closed.get_json()
    run(app)
    return conversation_id


def drawn_week(app: Flask, clock: FakeClock, *advocates: StaffUser) -> dict[int, int]:
    """Each advocate closes one conversation; a week later the sample is drawn.

    Returns the review id of each advocate.
    """
    conversations = {handled_and_closed(app, a): a.id for a in advocates}
    clock.advance(7 * 24 * 3600)
    drawn = jobs.draw_reviews(runtime_of(app))
    assert sorted(drawn.sampled) == sorted(conversations)
    with runtime_of(app).sessions() as session:
        rows = session.scalars(select(QualityReview)).all()
    return {conversations[r.conversation_id]: r.id for r in rows}


def review_row(app: Flask, review_id: int) -> QualityReview:
    with runtime_of(app).sessions() as session:
        row = session.get(QualityReview, review_id)
    assert row is not None
    return row


def event_kinds(app: Flask) -> list[str]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_advocates_are_refused_every_supervisor_review_page_and_api(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app))
    for method, path in SUPERVISOR_ENDPOINTS:
        if method == "get":
            response = client.get(path)
        else:
            response = post(client, csrf, path, {"scores": SCORES, "feedback": FEEDBACK})
        assert response.status_code == 403, path
    anonymous = app.test_client()
    assert anonymous.get("/supervisor/api/reviews").status_code == 401
    assert anonymous.get("/console/api/feedback").status_code == 401
    page = anonymous.get("/supervisor/reviews")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_supervisor_reviews_a_sampled_conversation(app: Flask, clock: FakeClock) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    review_id = drawn_week(app, clock, advocate)[advocate.id]
    client, csrf = sign_in(app, supervisor)

    page = client.get("/supervisor/reviews")
    assert page.status_code == 200 and "reviews.js" in page.get_data(as_text=True)
    listing = client.get("/supervisor/api/reviews").get_json()
    assert listing["weeks"] == ["2026-11-23"] and listing["week"] == "2026-11-23"
    assert [c["key"] for c in listing["rubric"]["criteria"]][:2] == [
        "safety_assessed",
        "emergency_handled",
    ]
    (item,) = listing["items"]
    assert item["id"] == review_id and item["advocate"] == advocate.name
    assert not item["reviewed"] and item["disposition"] == "referred" and "feedback" not in item
    assert client.get("/supervisor/api/reviews?week=2026-11-16").get_json()["items"] == []

    # The transcript is read through the console API, which records the reading.
    transcript = client.get(f"/console/api/conversations/{item['conversation_id']}")
    assert "We are here." in [i.get("body") for i in transcript.get_json()["timeline"]]
    with runtime_of(app).sessions() as session:
        viewed = session.scalars(
            select(Event).where(Event.kind == "transcript_viewed", Event.actor_id == supervisor.id)
        ).all()
    assert [e.conversation_id for e in viewed] == [item["conversation_id"]]

    done = post(client, csrf, f"/supervisor/api/reviews/{review_id}",
                {"scores": SCORES, "feedback": FEEDBACK})  # fmt: skip
    assert done.status_code == 200
    shown = done.get_json()
    assert shown["reviewed"] and shown["reviewer"] == supervisor.name
    assert shown["scores"] == SCORES and shown["feedback"] == FEEDBACK
    assert client.get(f"/supervisor/api/reviews/{review_id}").get_json()["feedback"] == FEEDBACK

    changed = {"scores": {**SCORES, "closed_properly": 4}, "feedback": "changed my mind"}
    again = post(client, csrf, f"/supervisor/api/reviews/{review_id}", changed)
    assert again.status_code == 409
    assert again.get_json()["error"] == (
        "this conversation was reviewed already; a review cannot be changed"
    )
    assert review_row(app, review_id).scores == SCORES


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"scores": {**SCORES, "tone_empathy": 9}, "feedback": FEEDBACK}, 400,
         "tone_empathy must be 1 to 4"),
        ({"scores": SCORES}, 400, "feedback must be text"),
        ({"scores": SCORES, "feedback": "   "}, 400, "write some feedback for the advocate"),
        ({"feedback": FEEDBACK}, 400, "scores must be an object with one score per criterion"),
        ([1, 2], 400, "send a JSON object"),
    ],
)  # fmt: skip
def test_bad_reviews_are_refused_and_change_nothing(
    app: Flask, clock: FakeClock, payload: Any, status: int, error: str
) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    review_id = drawn_week(app, clock, advocate)[advocate.id]
    client, csrf = sign_in(app, supervisor)
    before = event_kinds(app)
    response = post(client, csrf, f"/supervisor/api/reviews/{review_id}", payload)
    assert response.status_code == status and response.get_json()["error"] == error
    row = review_row(app, review_id)
    assert (row.reviewed_at, row.scores, row.feedback_ciphertext) == (None, None, None)
    assert event_kinds(app) == before


def test_unknown_reviews_and_bad_weeks(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app, "supervisor"))
    assert client.get("/supervisor/api/reviews/999").status_code == 404
    missing = post(client, csrf, "/supervisor/api/reviews/999", {"scores": SCORES, "feedback": "x"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "no such review"
    bad = client.get("/supervisor/api/reviews?week=last-week")
    assert (
        bad.status_code == 400 and bad.get_json()["error"] == "week must be a date like 2026-11-16"
    )
    empty = client.get("/supervisor/api/reviews").get_json()
    assert empty["weeks"] == [] and empty["week"] is None and empty["items"] == []


def test_every_change_needs_the_csrf_token(app: Flask, clock: FakeClock) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    review_id = drawn_week(app, clock, advocate)[advocate.id]
    client, csrf = sign_in(app, supervisor)
    path = f"/supervisor/api/reviews/{review_id}"
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}):
        refused = client.post(path, json={"scores": SCORES, "feedback": FEEDBACK}, headers=headers)
        assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    assert review_row(app, review_id).reviewed_at is None
    assert post(client, csrf, path, {"scores": SCORES, "feedback": FEEDBACK}).status_code == 200

    advocate_client, advocate_csrf = sign_in(app, advocate)
    seen = f"/console/api/feedback/{review_id}/seen"
    assert advocate_client.post(seen, json={}).status_code == 400
    assert review_row(app, review_id).seen_at is None
    assert post(advocate_client, advocate_csrf, seen, {}).status_code == 200
    assert review_row(app, review_id).seen_at is not None


def test_an_advocate_sees_only_their_own_feedback(app: Flask, clock: FakeClock) -> None:
    alice, bob, supervisor = staff(app), staff(app), staff(app, "supervisor")
    ids = drawn_week(app, clock, alice, bob)
    client, csrf = sign_in(app, supervisor)
    for advocate, text in ((alice, "For Alice"), (bob, "For Bob")):
        path = f"/supervisor/api/reviews/{ids[advocate.id]}"
        assert post(client, csrf, path, {"scores": SCORES, "feedback": text}).status_code == 200

    alice_client, alice_csrf = sign_in(app, alice)
    mine = alice_client.get("/console/api/feedback").get_json()
    assert mine["unseen"] == 1 and [i["id"] for i in mine["items"]] == [ids[alice.id]]
    (item,) = mine["items"]
    assert item["feedback"] == "For Alice" and "For Bob" not in str(mine)
    assert {s["key"]: s["score"] for s in item["scores"]} == SCORES
    assert item["reviewer"] == supervisor.name and not item["seen"]

    # Bob's review is not Alice's to mark read: as if it did not exist.
    bobs = post(alice_client, alice_csrf, f"/console/api/feedback/{ids[bob.id]}/seen", {})
    assert bobs.status_code == 404 and review_row(app, ids[bob.id]).seen_at is None
    assert post(alice_client, alice_csrf, "/console/api/feedback/999/seen", {}).status_code == 404

    assert (
        post(
            alice_client, alice_csrf, f"/console/api/feedback/{ids[alice.id]}/seen", {}
        ).status_code
        == 200
    )
    after = alice_client.get("/console/api/feedback").get_json()
    assert after["unseen"] == 0 and after["items"][0]["seen"]
    bob_client, _ = sign_in(app, bob)
    assert bob_client.get("/console/api/feedback").get_json()["unseen"] == 1
