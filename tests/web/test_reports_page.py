"""The supervisors' reports page over HTTP (issue 20): supervisors and admins only; the JSON
answers the raw counts of the case records; the export is always suppressed and audited; bad
input is refused with a clear message and records nothing.

Conversations are opened the whole way (texted through the webhook, triaged, queued); their
case records are written with the models, as the case-record API would. Each test has a
database of its own (``clocked_app``), so the counts are exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import (
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Event,
    Referral,
)
from hotline.sms.sender import LocalSender
from tests.console_client import queued_texter, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import conversations_of

NOVEMBER_DECEMBER = "from=2026-11-01&to=2027-01-01"
API = "/supervisor/api/reports"
EXPORT = "/supervisor/api/reports/export"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


@pytest.fixture
def shared_app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    """An app on the session's shared database: for refusals, which count nothing."""
    return make_app(database_url)


def opened(app: Flask, clock: FakeClock, at: datetime) -> int:
    """A texter's conversation opened at ``at`` (through the webhook); its id."""
    clock.advance((at - clock.now()).total_seconds())
    phone = queued_texter(app)
    return conversations_of(app, phone)[-1].id


def recorded(
    app: Flask,
    conversation_id: int,
    codes: dict[str, list[str]] | None = None,
    referrals: tuple[int, ...] = (),
    **fields: str,
) -> None:
    """The case record an advocate would have saved for the conversation."""
    with runtime_of(app).sessions.begin() as session:
        session.add(
            CaseRecord(
                conversation_id=conversation_id,
                updated_at=datetime(2026, 12, 5, tzinfo=UTC),
                **fields,
            )
        )
        for name, entries in (codes or {}).items():
            for code in entries:
                session.add(CaseRecordCode(conversation_id=conversation_id, list=name, code=code))
        for referral_id in referrals:
            session.add(
                CaseRecordReferral(conversation_id=conversation_id, referral_id=referral_id)
            )


def a_referral(app: Flask) -> int:
    with runtime_of(app).sessions.begin() as session:
        referral = Referral(
            name="Safe Harbor Shelter",
            services="Emergency shelter",
            area="Statewide",
            phone="555-0100",
            hours="24/7",
            language="English, Spanish",
        )
        session.add(referral)
        session.flush()
        return referral.id


def two_months_of_cases(app: Flask, clock: FakeClock) -> dict[str, int]:
    """Three case records (two opened in November, one in December) and a conversation
    without one, which no table counts. Returns the referral's id."""
    referral = a_referral(app)
    first = opened(app, clock, datetime(2026, 11, 23, 13, tzinfo=UTC))
    second = opened(app, clock, datetime(2026, 11, 28, 9, tzinfo=UTC))
    opened(app, clock, datetime(2026, 11, 29, 9, tzinfo=UTC))  # nothing recorded
    third = opened(app, clock, datetime(2026, 12, 2, 18, tzinfo=UTC))
    recorded(
        app, first,
        {"type": ["escort_services"], "control": ["debt", "threats_to_family"]},
        (referral,),
        kind="sex_trafficking", age_group="minor", state="TX",
        police_wanted="yes", police_report="no",
    )  # fmt: skip
    recorded(
        app, second, {"control": ["debt"], "venue": ["farm"]},
        kind="labor_trafficking", age_group="adult", state="TX", police_wanted="no",
    )  # fmt: skip
    recorded(
        app, third, {"control": ["unknown"]}, (referral,),
        kind="sex_trafficking", age_group="unknown", state="CA",
    )  # fmt: skip
    return {"referral": referral}


def table(report: dict[str, Any], dimension: str) -> dict[str, Any]:
    (found,) = (t for t in report["tables"] if t["dimension"] == dimension)
    return found


def row(report: dict[str, Any], dimension: str, code: str) -> dict[str, Any]:
    (found,) = (r for r in table(report, dimension)["rows"] if r["code"] == code)
    return found


def exported_events(app: Flask, actor_id: int | None = None) -> list[Event]:
    """The exports recorded (by ``actor_id``, when given)."""
    query = select(Event).where(Event.kind == "report_made").order_by(Event.id)
    if actor_id is not None:
        query = query.where(Event.actor_id == actor_id)
    with runtime_of(app).sessions() as session:
        events = session.scalars(query).all()
        for event in events:
            _ = event.erasable  # loaded before the session closes
        return list(events)


def supervisor_client(app: Flask) -> FlaskClient:
    return sign_in(app, staff(app, "supervisor"))[0]


def test_advocates_are_refused_the_page_the_report_and_the_export(app: Flask) -> None:
    client, _ = sign_in(app, staff(app))
    for path in ("/supervisor/reports", API, f"{EXPORT}?format=csv"):
        assert client.get(path).status_code == 403, path
    anonymous = app.test_client()
    assert anonymous.get(API).status_code == 401
    assert anonymous.get(EXPORT).status_code == 401
    page = anonymous.get("/supervisor/reports")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert exported_events(app) == []


def test_supervisors_and_admins_open_the_page(app: Flask) -> None:
    for role in ("supervisor", "admin"):
        client, _ = sign_in(app, staff(app, role))
        page = client.get("/supervisor/reports")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "reports.js" in html, role
        assert "raw counts" in html and "fewer than 5" in html
    board = supervisor_client(app).get("/supervisor").get_data(as_text=True)
    assert 'href="/supervisor/reports"' in board


def test_the_report_counts_the_case_records_by_month_quarter_and_year(
    app: Flask, clock: FakeClock
) -> None:
    referral = two_months_of_cases(app, clock)["referral"]
    client = supervisor_client(app)

    by_month = client.get(f"{API}?{NOVEMBER_DECEMBER}&by=month").get_json()
    assert by_month["from"] == "2026-11-01" and by_month["to"] == "2027-01-01"
    assert by_month["by"] == "month" and by_month["periods"] == ["2026-11", "2026-12"]
    assert by_month["cases"] == 3
    assert [t["dimension"] for t in by_month["tables"]] == [
        "kind", "type", "venue", "recruitment", "control",
        "age_group", "state", "police_wanted", "police_report", "referral",
    ]  # fmt: skip
    # Raw counts, small ones included: this is the supervisors' own view.
    assert row(by_month, "kind", "sex_trafficking")["counts"] == [1, 1]
    assert row(by_month, "kind", "sex_trafficking")["total"] == 2
    assert row(by_month, "kind", "labor_trafficking")["counts"] == [1, 0]
    assert row(by_month, "control", "debt")["counts"] == [2, 0]
    assert row(by_month, "control", "threats_to_family")["total"] == 1
    assert row(by_month, "control", "unknown")["counts"] == [0, 1]
    assert row(by_month, "state", "TX")["counts"] == [2, 0]
    assert row(by_month, "age_group", "minor")["total"] == 1
    assert row(by_month, "type", "escort_services")["label"] == "Escort services"
    assert row(by_month, "referral", str(referral))["counts"] == [1, 1]
    assert table(by_month, "kind")["column_totals"] == [2, 1]
    assert table(by_month, "kind")["total"] == 3
    assert row(by_month, "police_wanted", "yes")["total"] == 1
    assert "recruitment" in {t["dimension"] for t in by_month["tables"]}

    by_quarter = client.get(f"{API}?{NOVEMBER_DECEMBER}&by=quarter").get_json()
    assert by_quarter["periods"] == ["2026-Q4"]
    assert row(by_quarter, "kind", "sex_trafficking")["counts"] == [2]
    by_year = client.get(f"{API}?from=2026-01-01&to=2027-01-01&by=year").get_json()
    assert by_year["periods"] == ["2026"] and by_year["cases"] == 3
    assert row(by_year, "control", "debt")["counts"] == [2]

    # A case counts in the period its conversation opened: December alone has one.
    december = client.get(f"{API}?from=2026-12-01&to=2027-01-01").get_json()
    assert december["cases"] == 1 and december["by"] == "month"
    assert row(december, "state", "CA")["counts"] == [1]
    # By default: the calendar year to date (the clock is on 2026-12-02), by month.
    default = client.get(API).get_json()
    assert (default["from"], default["to"], default["by"]) == ("2026-01-01", "2026-12-03", "month")
    assert default["cases"] == 3 and len(default["periods"]) == 12
    # Reading the report changes nothing and records no export.
    assert exported_events(app) == []


def test_the_export_is_always_suppressed_and_audited(app: Flask, clock: FakeClock) -> None:
    two_months_of_cases(app, clock)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)

    response = client.get(f"{EXPORT}?{NOVEMBER_DECEMBER}&by=month&format=json")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.json"')
    published = json.loads(response.get_data(as_text=True))
    assert published["periods"] == ["2026-11", "2026-12"]
    # No count from 1 to 4 anywhere: every small cell is suppressed.
    for each in published["tables"]:
        cells = [each["total"], *each["column_totals"]]
        for line in each["rows"]:
            cells += [*line["counts"], line["total"]]
        assert not [c for c in cells if isinstance(c, int) and 0 < c < 5], each["dimension"]
    assert row(published, "kind", "sex_trafficking")["counts"][0] == "fewer than 5"
    assert row(published, "kind", "sex_trafficking")["total"] == "fewer than 5"

    as_csv = client.get(f"{EXPORT}?{NOVEMBER_DECEMBER}&by=quarter&format=csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert (
        'filename="case-report-2026-11-01-to-2027-01-01-by-quarter.csv"'
        in (as_csv.headers["Content-Disposition"])
    )
    text = as_csv.get_data(as_text=True)
    assert "fewer than 5" in text and "Sex trafficking" in text
    lines = list(csv.DictReader(io.StringIO(text)))
    counted = [line[column] for line in lines for column in ("2026-Q4", "total")]
    assert "fewer than 5" in counted
    assert not {c for c in counted if c.isdigit() and 0 < int(c) < 5}

    first, second = exported_events(app)
    assert first.actor_id == second.actor_id == supervisor.id
    assert first.erasable is not None and second.erasable is not None
    assert first.erasable.detail == {
        "who": "reports page", "start": "2026-11-01", "end": "2027-01-01", "period": "month",
        "format": "json", "suppress_below": 5,
    }  # fmt: skip
    assert second.erasable.detail is not None
    assert (second.erasable.detail["period"], second.erasable.detail["format"]) == (
        "quarter",
        "csv",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01&to=2027-01-01", "from must be a date like 2026-01-01"),
        ("from=yesterday&to=2027-01-01", "from must be a date like 2026-01-01"),
        ("from=2026-01-01&to=20270101", "to must be a date like 2026-01-01"),
        ("from=2026-06-01&to=2026-06-01", "from must be before to (to is not included)"),
        ("from=2026-06-01&to=2026-01-01", "from must be before to (to is not included)"),
        ("from=2020-01-01&to=2025-01-02", "a report covers at most 5 years"),
        ("from=2026-01-01&to=2027-01-01&by=week", "by must be one of: month, quarter, year"),
    ],
)
def test_a_bad_range_or_period_is_refused_and_nothing_is_exported(
    shared_app: Flask, query: str, message: str
) -> None:
    supervisor = staff(shared_app, "supervisor")
    client, _ = sign_in(shared_app, supervisor)
    shown = client.get(f"{API}?{query}")
    assert shown.status_code == 400 and shown.get_json() == {"error": message}
    exported = client.get(f"{EXPORT}?{query}&format=csv")
    assert exported.status_code == 400 and exported.get_json() == {"error": message}
    assert exported_events(shared_app, supervisor.id) == []


def test_an_unknown_export_format_is_refused_and_records_nothing(shared_app: Flask) -> None:
    supervisor = staff(shared_app, "supervisor")
    client, _ = sign_in(shared_app, supervisor)
    refused = client.get(f"{EXPORT}?from=2026-01-01&to=2027-01-01&format=xlsx")
    assert refused.status_code == 400
    assert refused.get_json() == {"error": "format must be one of: csv, json"}
    # Five years to the day is the longest range there is.
    assert client.get(f"{API}?from=2022-01-01&to=2027-01-01&by=year").status_code == 200
    assert exported_events(shared_app, supervisor.id) == []


def test_the_export_suppresses_below_the_threshold_setting(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    app = make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"report_suppress_below": 3},
    )
    two_months_of_cases(app, clock)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)
    assert "fewer than 3" in client.get("/supervisor/reports").get_data(as_text=True)

    response = client.get(f"{EXPORT}?{NOVEMBER_DECEMBER}&by=quarter&format=json")
    published = json.loads(response.get_data(as_text=True))
    assert published["suppress_below"] == 3
    assert row(published, "kind", "labor_trafficking")["counts"] == ["fewer than 3"]
    for each in published["tables"]:
        for line in each["rows"]:
            assert not [c for c in line["counts"] if isinstance(c, int) and 0 < c < 3]
    (event,) = exported_events(app, supervisor.id)
    assert event.erasable is not None and event.erasable.detail is not None
    assert event.erasable.detail["suppress_below"] == 3
