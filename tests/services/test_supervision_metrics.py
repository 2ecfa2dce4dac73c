"""Supervisor metrics: exact figures from hand-made conversations, the same on SQLite and
PostgreSQL; UTC days and hours; the range's edges; an empty range; filters reach every figure."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask

from hotline import runtime_of
from hotline.db.models import Conversation, ConversationStatus, StaffRole, StaffUser, Texter
from hotline.domain.risk import Priority
from hotline.domain.triage import State
from hotline.services.conversation_log import LogFilter
from hotline.services.metrics import metrics_for
from tests.console_client import sign_in, staff

AT = datetime(2026, 11, 20, tzinfo=UTC)
EASTERN = timezone(timedelta(hours=-5))


@pytest.fixture
def app(make_app: Callable[..., Flask], isolated_database_url: str) -> Flask:
    return make_app(isolated_database_url)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def seed(app: Flask) -> dict[str, int]:
    """Six conversations whose every figure is worked out by hand below.

    | opened (UTC)              | wait | first reply | handle | advocate | disposition | score |
    | 11-20 23:59:59.999999     | 10   | 5           | 100    | b        | referred    | 5     |
    | 11-21 00:00               | 20   | 15          | 300.5  | a        | referred    | 5     |
    | 11-21 01:30 (20:30 -5:00) | 30   | 25          | (open) | a        | –           | –     |
    | 11-22 12:00               | 40   | –           | (open) | b        | –           | 2     |
    | 11-22 12:30, abandoned    | –    | –           | –      | –        | –           | –     |
    | 11-23 09:00, not queued   | –    | –           | –      | –        | information | –     |
    """
    with runtime_of(app).sessions.begin() as session:
        a = StaffUser(email="a@example.org", password_hash="x", role=StaffRole.ADVOCATE,
                      created_at=AT)  # fmt: skip
        b = StaffUser(email="b@example.org", password_hash="x", role=StaffRole.ADVOCATE,
                      created_at=AT)  # fmt: skip
        session.add_all([a, b])
        session.flush()

        def add(opened: datetime, **fields: Any) -> None:
            # A texter each: at most one open conversation per texter.
            texter = Texter(phone_hash=secrets.token_hex(32), created_at=AT, last_seen_at=AT)
            session.add(texter)
            session.flush()
            closed = fields.get("closed_at") is not None
            session.add(
                Conversation(
                    texter_id=texter.id,
                    status=ConversationStatus.CLOSED if closed else ConversationStatus.OPEN,
                    state=State.ENDED if closed else State.WITH_ADVOCATE,
                    opened_at=opened,
                    last_activity_at=opened,
                    **fields,
                )
            )

        def handled(opened: datetime, wait: float, advocate: StaffUser, **fields: Any) -> None:
            queued = opened + seconds(60)
            claimed = queued + seconds(wait)
            first, handle = fields.pop("first_reply", None), fields.pop("handle", None)
            add(
                opened,
                queued_at=queued,
                claimed_at=claimed,
                first_reply_at=None if first is None else claimed + seconds(first),
                closed_at=None if handle is None else claimed + seconds(handle),
                advocate_id=advocate.id,
                **fields,
            )

        handled(datetime(2026, 11, 20, 23, 59, 59, 999999, tzinfo=UTC), 10, b, first_reply=5,
                handle=100, disposition="referred", survey_score=5, close_reason="closed",
                priority=Priority.URGENT)  # fmt: skip
        handled(datetime(2026, 11, 21, tzinfo=UTC), 20, a, first_reply=15, handle=300.5,
                disposition="referred", survey_score=5, close_reason="closed")  # fmt: skip
        handled(datetime(2026, 11, 20, 20, 30, tzinfo=EASTERN), 30, a, first_reply=25,
                priority=Priority.HIGH)  # fmt: skip
        handled(datetime(2026, 11, 22, 12, tzinfo=UTC), 40, b, survey_score=2)
        abandoned = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
        add(abandoned, queued_at=abandoned + seconds(60), closed_at=abandoned + seconds(900),
            close_reason="abandoned")  # fmt: skip
        ended = datetime(2026, 11, 23, 9, tzinfo=UTC)
        add(ended, closed_at=ended + seconds(120), close_reason="closed",
            disposition="information")  # fmt: skip
        session.flush()
        return {"a": a.id, "b": b.id}


def metrics(app: Flask, filters: LogFilter) -> dict[str, Any]:
    with runtime_of(app).sessions() as session:
        return metrics_for(session, filters)


def test_every_figure_is_exact_and_the_same_on_both_databases(app: Flask) -> None:
    seed(app)
    assert metrics(app, LogFilter()) == {
        "conversations": 6,
        "per_day": [["2026-11-20", 1], ["2026-11-21", 2], ["2026-11-22", 2], ["2026-11-23", 1]],
        "per_hour": [[0, 1], [1, 1], [9, 1], [12, 2], [23, 1]],
        # Nearest rank, ceil(share * n): of 10, 20, 30, 40 the median is 20, not 30.
        "wait_seconds": {"p50": 20.0, "p90": 40.0},
        "first_reply_seconds": {"p50": 15.0, "p90": 25.0},
        "handle_seconds": {"p50": 100.0, "p90": 300.5},
        "abandoned": 1,
        "queued": 5,
        "abandonment_rate": 0.2,
        # By value, the ones without a value last, whichever the database.
        "dispositions": [["information", 1], ["referred", 2], [None, 3]],
        "disposition_labels": {
            "information": "Information given",
            "referred": "Referred to services",
        },
        "priorities": [["high", 1], ["normal", 4], ["urgent", 1]],
        "survey_scores": [[2, 1], [5, 2], [None, 3]],
        "per_advocate": [
            {"advocate": "a", "conversations": 2, "closed": 1},
            {"advocate": "b", "conversations": 2, "closed": 1},
        ],
    }


def test_a_range_is_utc_days_from_inclusive_to_exclusive(app: Flask) -> None:
    seed(app)
    day = metrics(app, LogFilter(opened_from=datetime(2026, 11, 21, tzinfo=UTC),
                                 opened_to=datetime(2026, 11, 22, tzinfo=UTC)))  # fmt: skip
    # Not the one a microsecond before midnight, nor the one at the next midnight; the one
    # opened at 20:30 in New York on the 20th is 01:30 UTC on the 21st.
    assert day["conversations"] == 2
    assert day["per_day"] == [["2026-11-21", 2]]
    assert day["per_hour"] == [[0, 1], [1, 1]]
    assert day["wait_seconds"] == {"p50": 20.0, "p90": 30.0}
    assert day["handle_seconds"] == {"p50": 300.5, "p90": 300.5}
    assert [a["advocate"] for a in day["per_advocate"]] == ["a"]


def test_an_empty_range_has_zeroes_and_no_percentiles(app: Flask) -> None:
    seed(app)
    assert metrics(app, LogFilter(opened_from=datetime(2027, 1, 1, tzinfo=UTC))) == {
        "conversations": 0,
        "per_day": [],
        "per_hour": [],
        "wait_seconds": {"p50": None, "p90": None},
        "first_reply_seconds": {"p50": None, "p90": None},
        "handle_seconds": {"p50": None, "p90": None},
        "abandoned": 0,
        "queued": 0,
        "abandonment_rate": None,
        "dispositions": [],
        "disposition_labels": {},
        "priorities": [],
        "survey_scores": [],
        "per_advocate": [],
    }


def test_a_filter_reaches_every_figure(app: Flask) -> None:
    advocates = seed(app)
    theirs = metrics(app, LogFilter(advocate_id=advocates["b"]))
    assert theirs["conversations"] == 2
    assert theirs["per_day"] == [["2026-11-20", 1], ["2026-11-22", 1]]
    assert theirs["wait_seconds"] == {"p50": 10.0, "p90": 40.0}
    assert theirs["first_reply_seconds"] == {"p50": 5.0, "p90": 5.0}
    assert theirs["handle_seconds"] == {"p50": 100.0, "p90": 100.0}
    assert theirs["survey_scores"] == [[2, 1], [5, 1]]
    assert theirs["per_advocate"] == [{"advocate": "b", "conversations": 2, "closed": 1}]
    urgent = metrics(app, LogFilter(priority="urgent"))
    assert urgent["priorities"] == [["urgent", 1]] and urgent["queued"] == 1


def test_the_metrics_api_takes_a_date_range_and_refuses_a_bad_one(app: Flask) -> None:
    seed(app)
    client, _ = sign_in(app, staff(app, "supervisor"))
    day = client.get("/supervisor/api/metrics?opened_from=2026-11-21&opened_to=2026-11-22")
    assert day.status_code == 200
    assert day.get_json()["per_day"] == [["2026-11-21", 2]]
    bad = client.get("/supervisor/api/metrics?opened_from=last-week")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "opened_from must be a date like 2026-11-23"
