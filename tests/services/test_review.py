"""The weekly quality review: drawing the sample, the rubric, submitting, feedback, on both
databases. Conversations are written as rows (closed, with or without an advocate) so that the
draw's boundaries are exact; erasure goes through the real privacy service.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.background import jobs
from hotline.cli import cli
from hotline.db.models import (
    Conversation,
    ConversationStatus,
    Event,
    QualityReview,
    StaffUser,
    Texter,
)
from hotline.db.session import make_engine
from hotline.domain.review import (
    MAX_FEEDBACK_CHARS,
    RUBRIC,
    ScoreError,
    check_feedback,
    choose_sample,
    validate_scores,
)
from hotline.domain.triage import State
from hotline.infra.taskqueue import DRAW_REVIEWS, InProcessQueue
from hotline.infra.vault import Vault
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.privacy import erase_texter, purge_expired, rotate_keys
from hotline.services.receive import find_or_add_texter
from hotline.services.review import (
    Draw,
    ReviewNotFound,
    advocate_feedback,
    default_week,
    do_mark_seen,
    do_submit_review,
    draw_week,
)
from hotline.services.staff import do_create_staff
from hotline.settings import Settings, SettingsError
from tests.conftest import TEST_DATA_KEY, new_phone
from tests.fakes import FakeClock

WEEK = date(2026, 11, 16)  # a Monday
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the Wednesday after
GOOD_SCORES: dict[str, Any] = {
    "safety_assessed": 3,
    "emergency_handled": "n/a",
    "referral_appropriate": 4,
    "tone_empathy": 2,
    "closed_properly": 1,
}
FEEDBACK = "Warm and clear. Next time ask about safety before the referral."


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def staff(app: Flask, role: str = "advocate") -> StaffUser:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"{role}-{new_phone()[2:]}@example.org", "a long password", role, NOW
        )


def closed(
    app: Flask, advocate_id: int | None, closed_at: datetime, *, phone: str | None = None
) -> int:
    """A conversation an advocate (or nobody) held, closed at ``closed_at``; its id."""
    runtime = runtime_of(app)
    phone = phone or new_phone()
    with runtime.sessions.begin() as session:
        texter_id = find_or_add_texter(
            session, runtime.vault, phone, closed_at - timedelta(hours=1)
        )
        conversation = Conversation(
            texter_id=texter_id,
            status=ConversationStatus.CLOSED,
            state=State.ENDED,
            advocate_id=advocate_id,
            opened_at=closed_at - timedelta(minutes=30),
            last_activity_at=closed_at,
            closed_at=closed_at,
            close_reason="advocate",
            disposition="referred",
        )
        session.add(conversation)
        session.flush()
        return conversation.id


def draw(
    app: Flask,
    week: date = WEEK,
    *,
    size: int = 10,
    per_advocate: int = 1,
    rng: random.Random | None = None,
) -> Draw:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return draw_week(
            session, week, runtime.clock.now(), sample_size=size, per_advocate=per_advocate, rng=rng
        )


def reviews(app: Flask) -> list[QualityReview]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(QualityReview).order_by(QualityReview.id)))


def events(app: Flask, kind: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def in_week(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def submit(app: Flask, reviewer: StaffUser, review_id: int, scores: Any, feedback: Any) -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        do_submit_review(
            session, runtime.vault, reviewer, review_id, scores, feedback, runtime.clock.now()
        )


# -- drawing the sample -------------------------------------------------------------------------


def test_the_sample_has_its_size_and_every_advocate_who_closed_one(app: Flask) -> None:
    busy, steady, rare = staff(app), staff(app), staff(app)
    owner: dict[int, int] = {}
    for advocate, count in ((busy, 12), (steady, 5), (rare, 1)):
        for hour in range(count):
            owner[closed(app, advocate.id, in_week(10 + hour))] = advocate.id

    drawn = draw(app, size=6)

    assert not drawn.already_drawn and drawn.candidates == 18 and len(drawn.sampled) == 6
    rows = reviews(app)
    assert sorted(r.conversation_id for r in rows) == drawn.sampled
    assert {r.advocate_id for r in rows} == {busy.id, steady.id, rare.id}
    assert all(r.advocate_id == owner[r.conversation_id] for r in rows)
    assert all(r.week_start == WEEK and r.sampled_at == NOW and r.reviewed_at is None for r in rows)
    (event,) = events(app, "reviews_drawn")
    assert event.detail == {
        "week_start": "2026-11-16",
        "sampled": 6,
        "candidates": 18,
        "advocates": 3,
        "sample_size": 6,
        "per_advocate": 1,
    }


def test_the_per_advocate_minimum_wins_over_the_size(app: Flask) -> None:
    team = [staff(app) for _ in range(4)]
    for advocate in team:
        closed(app, advocate.id, in_week(5))
        closed(app, advocate.id, in_week(6))
    drawn = draw(app, size=2, per_advocate=1)
    assert len(drawn.sampled) == 4
    assert Counter(r.advocate_id for r in reviews(app)) == {a.id: 1 for a in team}


def test_without_a_minimum_the_size_is_the_size(app: Flask) -> None:
    team = [staff(app) for _ in range(4)]
    for advocate in team:
        closed(app, advocate.id, in_week(5))
    assert len(draw(app, size=2, per_advocate=0).sampled) == 2


def test_a_quiet_week_gives_all_it_has(app: Flask) -> None:
    advocate = staff(app)
    ids = [closed(app, advocate.id, in_week(h)) for h in (1, 2, 3)]
    assert draw(app, size=10).sampled == ids


def test_the_draw_is_random_and_not_the_same_each_time(app: Flask) -> None:
    advocate = staff(app)
    for hour in range(40):
        closed(app, advocate.id, in_week(hour))
    samples = set()
    for _ in range(5):
        samples.add(tuple(draw(app, size=5).sampled))  # the service's own random source
        with runtime_of(app).sessions.begin() as session:
            session.execute(delete(QualityReview))
    assert len(samples) > 1


def test_choose_sample_is_uniform_and_keeps_its_promises() -> None:
    candidates = [(10, 1), (11, 1), (12, 2), (13, 3)]
    rng = random.SystemRandom()
    counts = Counter(
        conversation_id
        for _ in range(400)
        for conversation_id in choose_sample(candidates, 1, 0, rng)
    )
    assert set(counts) == {10, 11, 12, 13} and min(counts.values()) > 50  # about 100 each
    for _ in range(50):
        chosen = choose_sample(candidates, 2, 1, rng)
        advocates = {dict(candidates)[c] for c in chosen}
        assert len(chosen) == 3 and advocates == {1, 2, 3}  # the minimums, past the size
    assert choose_sample([], 10, 1, rng) == []
    assert choose_sample(candidates, 0, 0, rng) == []


def test_drawing_a_week_twice_adds_nothing(app: Flask) -> None:
    advocate = staff(app)
    for hour in range(8):
        closed(app, advocate.id, in_week(hour))
    first = draw(app, size=3)
    again = draw(app, size=3)
    bigger = draw(app, size=8)  # even with a larger size: the week has its sample
    assert len(first.sampled) == 3
    assert again.already_drawn and again.sampled == [] and bigger.already_drawn
    assert len(reviews(app)) == 3 and len(events(app, "reviews_drawn")) == 1


def test_two_draws_at_once_add_one_sample(app: Flask) -> None:
    advocate = staff(app)
    for hour in range(30):
        closed(app, advocate.id, in_week(hour))
    start = threading.Barrier(4)
    results: list[Draw] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            results.append(draw(app, size=5))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(len(r.sampled) for r in results) == [0, 0, 0, 5]
    assert len(reviews(app)) == 5 and len(events(app, "reviews_drawn")) == 1


def test_the_week_is_monday_to_monday_in_utc(app: Flask) -> None:
    advocate = staff(app)
    before = closed(app, advocate.id, MONDAY - timedelta(microseconds=1))
    first = closed(app, advocate.id, MONDAY)
    last = closed(app, advocate.id, MONDAY + timedelta(days=7, microseconds=-1))
    after = closed(app, advocate.id, MONDAY + timedelta(days=7))
    assert draw(app, size=100).sampled == [first, last]
    assert draw(app, WEEK - timedelta(days=7), size=100).sampled == [before]
    assert after not in {r.conversation_id for r in reviews(app)}


def test_the_default_week_is_the_last_one_that_ended() -> None:
    assert default_week(NOW) == WEEK
    sunday_night = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert default_week(sunday_night) == WEEK - timedelta(days=7)
    next_monday = datetime(2026, 11, 23, tzinfo=UTC)
    # A few minutes' grace, for a conversation closed in the week's last second to commit.
    assert default_week(next_monday + timedelta(minutes=5)) == WEEK - timedelta(days=7)
    assert default_week(next_monday + timedelta(minutes=11)) == WEEK


def test_erased_advocate_less_and_open_conversations_are_not_drawn(app: Flask) -> None:
    runtime = runtime_of(app)
    advocate = staff(app)
    kept = closed(app, advocate.id, in_week(1))
    nobody = closed(app, None, in_week(2))  # ended in triage: no advocate to give feedback to
    erased_phone, returned_phone = new_phone(), new_phone()
    erased = closed(app, advocate.id, in_week(3), phone=erased_phone)
    returned = closed(app, advocate.id, in_week(4), phone=returned_phone)
    opened = closed(app, advocate.id, in_week(5))
    with runtime.sessions.begin() as session:
        conversation = session.get(Conversation, opened)
        assert conversation is not None
        conversation.status, conversation.closed_at = ConversationStatus.OPEN, None
    with runtime.sessions.begin() as session:
        for phone in (erased_phone, returned_phone):
            texter_id = session.scalar(
                select(Texter.id).where(Texter.phone_hash == runtime.vault.phone_hash(phone))
            )
            assert texter_id is not None
            erase_texter(session, runtime.triage, texter_id, in_week(6), actor_id=None, by="t")
    # The returning texter's mark is cleared when they text again; their old conversation stays
    # erased, and the new one (opened after the erasure) is a candidate like any other.
    fresh = closed(app, advocate.id, in_week(30), phone=returned_phone)
    with runtime.sessions() as session:
        texter = session.scalars(
            select(Texter).where(Texter.phone_hash == runtime.vault.phone_hash(returned_phone))
        ).one()
        assert texter.erasure_requested_at is None

    drawn = draw(app, size=100)

    assert drawn.sampled == [kept, fresh] and drawn.candidates == 2
    assert {nobody, erased, returned, opened}.isdisjoint(r.conversation_id for r in reviews(app))


@pytest.mark.parametrize(
    ("week", "message"),
    [
        (date(2026, 11, 17), "week must be a Monday, like 2026-11-16"),
        (date(2026, 11, 23), "that week is not over yet: a week is drawn once it has ended"),
        (date(2027, 1, 4), "that week is not over yet: a week is drawn once it has ended"),
    ],
)
def test_a_bad_week_is_refused_and_changes_nothing(app: Flask, week: date, message: str) -> None:
    advocate = staff(app)
    closed(app, advocate.id, datetime(2026, 11, 24, tzinfo=UTC))
    with pytest.raises(InvalidInput) as refused:
        draw(app, week)
    assert str(refused.value) == message
    assert reviews(app) == [] and events(app, "reviews_drawn") == []


def test_the_periodic_job_draws_last_week_with_the_configured_size(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    queue = InProcessQueue(start=False)
    app = make_app(
        isolated_database_url,
        clock=clock,
        tasks=queue,
        settings_overrides={"review_sample_size": 2, "review_per_advocate": 0},
    )
    advocate = staff(app)
    for hour in range(6):
        closed(app, advocate.id, in_week(hour))
    # Hourly, like the purge; the queue's own binding runs it (run_due would loop: periodic
    # jobs put themselves back).
    assert dict(queue._periodic)[DRAW_REVIEWS] == 3600.0
    queue._jobs[DRAW_REVIEWS](-1)
    assert len(reviews(app)) == 2
    assert jobs.draw_reviews(runtime_of(app)).already_drawn
    assert len(reviews(app)) == 2


def test_hotline_review_draw_on_the_command_line(tmp_path: Path) -> None:
    env = {
        "HOTLINE_ENV": "test",
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": Fernet.generate_key().decode(),
        "HOTLINE_REVIEW_SAMPLE_SIZE": "2",
    }

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    vault = Vault((env["HOTLINE_DATA_KEYS"],), env["HOTLINE_HASH_KEY"])
    with Session(engine) as session, session.begin():
        user = do_create_staff(session, "a@example.org", "a long password", "advocate", NOW)
        for hour in range(3):
            texter_id = find_or_add_texter(session, vault, new_phone(), in_week(hour))
            session.add(
                Conversation(
                    texter_id=texter_id,
                    status=ConversationStatus.CLOSED,
                    state=State.ENDED,
                    advocate_id=user.id,
                    opened_at=in_week(hour),
                    last_activity_at=in_week(hour),
                    closed_at=in_week(hour + 1),
                )
            )

    code, output = run("review", "draw", "--week", "2026-11-19")  # any day of the week
    assert code == 0 and output.strip() == (
        "drew 2 of 3 conversations closed in the week of Monday 2026-11-16"
    )
    code, output = run("review", "draw", "--week", "2026-11-16")
    assert code == 0 and "was drawn already; nothing added" in output
    code, output = run("review", "draw", "--week", "2999-01-04")
    assert code == 1 and "that week is not over yet" in output
    code, output = run("review", "draw", "--week", "last week")
    assert code == 2 and "--week" in output
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(QualityReview)) == 2
    engine.dispose()


def test_review_settings_from_the_environment(tmp_path: Path) -> None:
    def settings(**env: str) -> Settings:
        return Settings.from_env({"HOTLINE_ENV": "test", **env}, instance_path=tmp_path)

    default = settings()
    assert (default.review_sample_size, default.review_per_advocate) == (10, 1)
    tuned = settings(HOTLINE_REVIEW_SAMPLE_SIZE="25", HOTLINE_REVIEW_PER_ADVOCATE="0")
    assert (tuned.review_sample_size, tuned.review_per_advocate) == (25, 0)

    with pytest.raises(SettingsError) as bad:
        settings(HOTLINE_REVIEW_SAMPLE_SIZE="0", HOTLINE_REVIEW_PER_ADVOCATE="-1")
    assert "HOTLINE_REVIEW_SAMPLE_SIZE must be a whole number from 1 to 1000" in str(bad.value)
    assert "HOTLINE_REVIEW_PER_ADVOCATE must be a whole number from 0 to 100" in str(bad.value)
    with pytest.raises(SettingsError):
        settings(HOTLINE_REVIEW_PER_ADVOCATE="1.5")


# -- the rubric ------------------------------------------------------------------------------------


def test_good_scores_pass_as_given() -> None:
    assert validate_scores(GOOD_SCORES) == GOOD_SCORES
    all_fours = {criterion.key: 4 for criterion in RUBRIC}
    assert validate_scores(all_fours) == all_fours
    assert [c.key for c in RUBRIC if c.allows_na] == ["emergency_handled", "referral_appropriate"]


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD_SCORES.items() if k != key}


OR_NA = '1 to 4 or "n/a"'


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (None, "scores must be an object with one score per criterion"),
        ([3, 3, 3, 3, 3], "scores must be an object with one score per criterion"),
        ({**GOOD_SCORES, "speed": 4}, "scores has unknown criteria: speed"),
        (without("tone_empathy"), "scores is missing: tone_empathy"),
        ({**GOOD_SCORES, "tone_empathy": 0}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "tone_empathy": 5}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "tone_empathy": 2.5}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "tone_empathy": True}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "tone_empathy": "3"}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "tone_empathy": None}, "tone_empathy must be 1 to 4"),
        ({**GOOD_SCORES, "safety_assessed": "n/a"}, "safety_assessed must be 1 to 4"),
        ({**GOOD_SCORES, "emergency_handled": "N/A"}, f"emergency_handled must be {OR_NA}"),
        ({**GOOD_SCORES, "referral_appropriate": -1}, f"referral_appropriate must be {OR_NA}"),
    ],
)  # fmt: skip
def test_scores_outside_the_rubric_are_refused(scores: Any, message: str) -> None:
    with pytest.raises(ScoreError) as refused:
        validate_scores(scores)
    assert str(refused.value) == message


def test_feedback_is_checked() -> None:
    assert check_feedback("  Well done.  ") == "Well done."
    for bad, message in (
        (None, "feedback must be text"),
        (3, "feedback must be text"),
        ("   \n ", "write some feedback for the advocate"),
        ("x" * (MAX_FEEDBACK_CHARS + 1), "feedback must be at most 4000 characters"),
    ):
        with pytest.raises(ScoreError) as refused:
            check_feedback(bad)
        assert str(refused.value) == message


# -- submitting a review, and the advocate's feedback ----------------------------------------------


def sampled(app: Flask, *advocates: StaffUser) -> list[int]:
    """One sampled conversation per advocate; the review ids, in the same order."""
    ids = [closed(app, a.id, in_week(10 + i)) for i, a in enumerate(advocates)]
    draw(app, size=len(ids))
    by_conversation = {r.conversation_id: r.id for r in reviews(app)}
    return [by_conversation[i] for i in ids]


def test_a_review_is_stored_encrypted_and_audited_without_its_text(app: Flask) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    (review_id,) = sampled(app, advocate)
    submit(app, supervisor, review_id, GOOD_SCORES, f"  {FEEDBACK}  ")

    (row,) = reviews(app)
    assert row.reviewer_id == supervisor.id and row.reviewed_at == NOW and row.seen_at is None
    assert row.scores == GOOD_SCORES
    assert row.feedback_ciphertext is not None and b"Warm and clear" not in row.feedback_ciphertext
    assert runtime_of(app).vault.decrypt(row.feedback_ciphertext) == FEEDBACK
    (event,) = events(app, "review_submitted")
    assert event.actor_id == supervisor.id and event.conversation_id == row.conversation_id
    assert event.detail == {
        "review_id": review_id,
        "advocate_id": advocate.id,
        "week_start": "2026-11-16",
        "scores": GOOD_SCORES,
    }
    with runtime_of(app).sessions() as session:
        every_detail = json.dumps([e.detail for e in session.scalars(select(Event))])
    assert "Warm and clear" not in every_detail and "safety before" not in every_detail


def test_a_review_is_submitted_once_then_read_only(app: Flask) -> None:
    advocate, first, second = staff(app), staff(app, "supervisor"), staff(app, "admin")
    (review_id,) = sampled(app, advocate)
    submit(app, first, review_id, GOOD_SCORES, FEEDBACK)
    with pytest.raises(Conflict) as refused:
        submit(app, second, review_id, {c.key: 4 for c in RUBRIC}, "Something else entirely")
    assert (
        str(refused.value) == "this conversation was reviewed already; a review cannot be changed"
    )
    (row,) = reviews(app)
    assert row.reviewer_id == first.id and row.scores == GOOD_SCORES
    assert runtime_of(app).vault.decrypt(row.feedback_ciphertext or b"") == FEEDBACK
    assert len(events(app, "review_submitted")) == 1


def test_two_reviewers_at_once_one_review(app: Flask) -> None:
    advocate = staff(app)
    reviewers = [staff(app, "supervisor") for _ in range(4)]
    (review_id,) = sampled(app, advocate)
    start = threading.Barrier(len(reviewers))
    outcomes: list[str] = []

    def one(reviewer: StaffUser) -> None:
        start.wait()
        try:
            submit(app, reviewer, review_id, GOOD_SCORES, f"from {reviewer.email}")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=one, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    (row,) = reviews(app)
    reviewer = next(r for r in reviewers if r.id == row.reviewer_id)
    assert runtime_of(app).vault.decrypt(row.feedback_ciphertext or b"") == f"from {reviewer.email}"
    assert len(events(app, "review_submitted")) == 1


@pytest.mark.parametrize(
    ("scores", "feedback", "message"),
    [
        ({**GOOD_SCORES, "tone_empathy": 7}, FEEDBACK, "tone_empathy must be 1 to 4"),
        ({}, FEEDBACK, "scores is missing: safety_assessed, emergency_handled, "
         "referral_appropriate, tone_empathy, closed_properly"),
        (GOOD_SCORES, "", "write some feedback for the advocate"),
        (GOOD_SCORES, None, "feedback must be text"),
        (GOOD_SCORES, "y" * 4001, "feedback must be at most 4000 characters"),
    ],
)  # fmt: skip
def test_bad_input_changes_nothing(app: Flask, scores: Any, feedback: Any, message: str) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    (review_id,) = sampled(app, advocate)
    with pytest.raises(InvalidInput) as refused:
        submit(app, supervisor, review_id, scores, feedback)
    assert str(refused.value) == message
    (row,) = reviews(app)
    assert (row.reviewer_id, row.reviewed_at, row.scores, row.feedback_ciphertext) == (
        None, None, None, None,
    )  # fmt: skip
    assert events(app, "review_submitted") == []


def test_no_review_of_ones_own_an_erased_or_a_missing_conversation(app: Flask) -> None:
    runtime = runtime_of(app)
    supervisor, advocate = staff(app, "supervisor"), staff(app)
    own, erased = sampled(app, supervisor, advocate)
    with pytest.raises(Conflict) as refused:
        submit(app, supervisor, own, GOOD_SCORES, FEEDBACK)
    assert str(refused.value) == "you handled this conversation: another supervisor reviews it"
    with runtime.sessions.begin() as session:
        review = session.get(QualityReview, erased)
        conversation = session.get(Conversation, review.conversation_id if review else 0)
        assert conversation is not None
        erase_texter(session, runtime.triage, conversation.texter_id, NOW, actor_id=None, by="t")
    with pytest.raises(Conflict) as refused:
        submit(app, supervisor, erased, GOOD_SCORES, FEEDBACK)
    assert (
        str(refused.value) == "this texter was erased after the sample was drawn: nothing to review"
    )
    with pytest.raises(ReviewNotFound):
        submit(app, supervisor, 999_999, GOOD_SCORES, FEEDBACK)
    assert all(r.reviewed_at is None for r in reviews(app))
    assert events(app, "review_submitted") == []


def test_advocates_see_only_their_own_reviewed_conversations(app: Flask) -> None:
    runtime = runtime_of(app)
    alice, bob, supervisor = staff(app), staff(app), staff(app, "supervisor")
    alices, bobs = sampled(app, alice, bob)
    submit(app, supervisor, alices, GOOD_SCORES, "For Alice only")
    with runtime.sessions() as session:
        assert advocate_feedback(session, runtime.vault, bob)["items"] == []  # not reviewed yet
        mine = advocate_feedback(session, runtime.vault, alice)
    assert mine["unseen"] == 1 and [i["id"] for i in mine["items"]] == [alices]
    item = mine["items"][0]
    assert item["feedback"] == "For Alice only" and item["reviewer"] == supervisor.name
    assert item["scores"][0] == {"key": "safety_assessed", "label": "Safety assessed", "score": 3}
    assert not item["seen"]

    for someone, review_id in ((bob, alices), (alice, bobs), (bob, bobs)):  # bob's: unreviewed
        with pytest.raises(ReviewNotFound), runtime.sessions.begin() as session:
            do_mark_seen(session, someone, review_id, NOW)
    assert all(r.seen_at is None for r in reviews(app)) and events(app, "review_seen") == []

    for _ in range(2):  # reading it again changes nothing
        with runtime.sessions.begin() as session:
            do_mark_seen(session, alice, alices, NOW)
    with runtime.sessions() as session:
        after = advocate_feedback(session, runtime.vault, alice)
    assert after["unseen"] == 0 and after["items"][0]["seen"]
    (event,) = events(app, "review_seen")
    assert event.actor_id == alice.id and event.detail == {"review_id": alices}


def test_erasing_the_texter_erases_the_feedback_and_keeps_the_scores(app: Flask) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    (review_id,) = sampled(app, advocate)
    submit(app, supervisor, review_id, GOOD_SCORES, FEEDBACK)
    (row,) = reviews(app)
    runtime = runtime_of(app)

    with runtime.sessions.begin() as session:
        conversation = session.get(Conversation, row.conversation_id)
        assert conversation is not None
        erase_texter(
            session, runtime.triage, conversation.texter_id, NOW, actor_id=None, by="texter"
        )

    (row,) = reviews(app)
    assert row.feedback_ciphertext is None  # it may retell what the texter said
    assert row.scores == GOOD_SCORES and row.reviewer_id == supervisor.id


def test_the_retention_purge_takes_the_feedback_with_the_conversation(app: Flask) -> None:
    advocate, supervisor = staff(app), staff(app, "supervisor")
    (kept_id, purged_id) = sampled(app, advocate, staff(app))
    for review_id in (kept_id, purged_id):
        submit(app, supervisor, review_id, GOOD_SCORES, FEEDBACK)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        kept = session.get(QualityReview, kept_id)
        assert kept is not None
        conversation = session.get(Conversation, kept.conversation_id)
        assert conversation is not None
        conversation.closed_at = NOW  # closed later: inside the retention period

    with runtime.sessions.begin() as session:
        report = purge_expired(session, NOW + timedelta(days=30), retention_days=30)

    assert report.notes == 1
    by_id = {row.id: row for row in reviews(app)}
    assert by_id[purged_id].feedback_ciphertext is None
    assert by_id[purged_id].scores == GOOD_SCORES
    assert runtime.vault.decrypt(by_id[kept_id].feedback_ciphertext or b"") == FEEDBACK


def test_rotating_keys_re_encrypts_the_feedback(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    old = make_app(isolated_database_url, clock=clock)
    advocate, supervisor = staff(old), staff(old, "supervisor")
    (review_id,) = sampled(old, advocate)
    submit(old, supervisor, review_id, GOOD_SCORES, FEEDBACK)
    new_key = Fernet.generate_key().decode()
    rotated = make_app(
        isolated_database_url,
        clock=clock,
        settings_overrides={"data_keys": (new_key, TEST_DATA_KEY)},
    )
    runtime = runtime_of(rotated)
    assert rotate_keys(runtime.sessions, runtime.vault).finished
    only_new = Vault((new_key,), runtime.settings.hash_key)
    (row,) = reviews(rotated)
    assert only_new.decrypt(row.feedback_ciphertext or b"") == FEEDBACK
