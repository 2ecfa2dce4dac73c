"""The weekly quality review: the supervisors' page and API, and the advocates' feedback API.

Supervisors and admins only under ``/supervisor`` (advocates get 403). The transcript of a
sampled conversation comes from the console API, which records each read. Under ``/console``
every staff member sees the reviews of their own conversations and nobody else's.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from flask import Blueprint, Response, render_template, request

from hotline.services import review
from hotline.services.answers import IsoDate, iso_date
from hotline.services.errors import InvalidInput
from hotline.services.review import Feedback, ReviewDetail, Rubric, SampledReview
from hotline.web import runtime
from hotline.web.answers import Done, answers
from hotline.web.console import body
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("reviews", __name__)


class WeekSample(TypedDict):
    rubric: Rubric
    weeks: list[IsoDate]  # the weeks that have a sample, newest first (their Mondays)
    week: IsoDate | None  # the week shown; None when no week has a sample
    items: list[SampledReview]


def _week() -> date | None:
    raw = request.args.get("week", "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("week must be a date like 2026-11-16") from None


@bp.get("/supervisor/reviews")
@staff_view(SUPERVISORS, page=True)
def page() -> Response:
    staff = current()
    return Response(
        render_template("reviews.html", user=staff.user, csrf_token=staff.staff_session.csrf_token)
    )


@bp.get("/supervisor/api/reviews")
@staff_view(SUPERVISORS)
@answers(WeekSample)
def sample() -> WeekSample:
    """One week's sample (``?week=`` its Monday; by default the newest), and the weeks there are."""
    staff = current()
    weeks = review.sample_weeks(staff.db)
    week = _week()
    if week is None and weeks:
        week = date.fromisoformat(weeks[0])
    return {
        "rubric": review.rubric_json(),
        "weeks": weeks,
        "week": iso_date(week) if week else None,
        "items": review.week_sample(staff.db, week) if week else [],
    }


@bp.get("/supervisor/api/reviews/<int:review_id>")
@staff_view(SUPERVISORS)
@answers(ReviewDetail)
def detail(review_id: int) -> ReviewDetail:
    staff = current()
    return review.review_detail(staff.db, runtime().vault, review_id)


@bp.post("/supervisor/api/reviews/<int:review_id>")
@staff_view(SUPERVISORS)
@answers(ReviewDetail)
def submit(review_id: int) -> ReviewDetail:
    staff = current()
    payload = body()
    review.do_submit_review(
        staff.db,
        runtime().vault,
        staff.user,
        review_id,
        payload.get("scores"),
        payload.get("feedback"),
        staff.now,
    )
    return review.review_detail(staff.db, runtime().vault, review_id)


@bp.get("/console/api/feedback")
@staff_view()
@answers(Feedback)
def feedback() -> Feedback:
    staff = current()
    return review.advocate_feedback(staff.db, runtime().vault, staff.user)


@bp.post("/console/api/feedback/<int:review_id>/seen")
@staff_view()
@answers(Done)
def seen(review_id: int) -> Done:
    staff = current()
    review.do_mark_seen(staff.db, staff.user, review_id, staff.now)
    return {"ok": True}
