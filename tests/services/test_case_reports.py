"""The case reports (hotline.services.case_reports): counts by field and period that match the
database, kept by the retention purge, without an erased case; the published copy suppressed
so that an attacker cannot work out any small count. Both databases, each test on a database
of its own (a report counts every case record)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from hotline import runtime_of
from hotline.db.models import CaseOption, CaseRecord, CaseRecordCode, Event
from hotline.db.session import make_engine
from hotline.services.case_reports import (
    Report,
    Table,
    publish,
    report,
    to_csv,
    to_html,
    totals_by_code,
)
from hotline.services.errors import InvalidInput
from hotline.services.privacy import erase_texter, purge_expired
from hotline.services.public_report import make_public_report
from tests.case_report_data import add_case, add_referral
from tests.fakes import FakeClock
from tests.suppression_attacker import consistent_with, grid_of, pinned_cells


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def at(year: int, month: int, day: int = 1, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def table(result: Report, dimension: str) -> Table:
    (found,) = [t for t in result["tables"] if t["dimension"] == dimension]
    return found


def rows(result: Report, dimension: str) -> dict[str, list[int | str]]:
    return {row["code"]: row["counts"] for row in table(result, dimension)["rows"]}


def seed_year(app: Flask) -> int:
    """2026's cases, and one on each side of it (not counted). Returns the referral's id."""
    with runtime_of(app).sessions.begin() as session:
        shelter = add_referral(session, "Harbor Shelter")
        add_case(session, at(2025, 12, 31, 23), kind="sex_trafficking")  # the day before
        add_case(session, at(2027, 1, 1, 0), kind="sex_trafficking")  # the first day after
        add_case(
            session, at(2026, 1, 1, 0), kind="sex_trafficking", age_group="minor",
            state="TX", police_wanted="yes", police_report="no",
            codes=[("type", "escort_services"), ("control", "debt"), ("control", "isolation")],
            referrals=[shelter],
        )  # fmt: skip
        add_case(
            session, at(2026, 2, 14), kind="labor_trafficking", age_group="adult", state="CA",
            police_wanted="no", codes=[("type", "agriculture"), ("venue", "farm")],
        )  # fmt: skip
        add_case(
            session, at(2026, 5, 2), kind="labor_trafficking", age_group="unknown",
            state="CA", codes=[("type", "agriculture"), ("control", "debt")],
            referrals=[shelter],
        )  # fmt: skip
        add_case(session, at(2026, 12, 31, 23), kind="unclear", codes=[("type", "unknown")])
        add_case(session, at(2026, 7, 4))  # a record with nothing recorded yet
    return shelter


def test_counts_by_field_and_period_match_what_was_recorded(app: Flask) -> None:
    shelter = seed_year(app)
    with runtime_of(app).sessions() as session:
        by_month = report(session, date(2026, 1, 1), date(2027, 1, 1), "month")
        by_quarter = report(session, date(2026, 1, 1), date(2027, 1, 1), "quarter")
        by_year = report(session, date(2026, 1, 1), date(2027, 1, 1), "year")
    assert by_month["periods"] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert by_quarter["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert by_year["periods"] == ["2026"]
    assert by_month["from"] == "2026-01-01" and by_month["to"] == "2027-01-01"
    assert [t["dimension"] for t in by_year["tables"]] == [
        "kind", "type", "venue", "recruitment", "control", "age_group", "state",
        "police_wanted", "police_report", "referral",
    ]  # fmt: skip
    for result in (by_month, by_quarter, by_year):
        assert result["cases"] == 5
    assert rows(by_quarter, "kind") == {
        "sex_trafficking": [1, 0, 0, 0],
        "labor_trafficking": [1, 1, 0, 0],
        "unclear": [0, 0, 0, 1],
        "unknown": [0, 0, 0, 0],  # always shown
    }
    kind = table(by_quarter, "kind")
    assert kind["column_totals"] == [2, 1, 0, 1] and kind["total"] == 4
    assert [r["label"] for r in kind["rows"]] == [
        "Sex trafficking", "Labor trafficking", "Unclear", "Unknown",
    ]  # fmt: skip
    assert rows(by_month, "type")["agriculture"] == [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert rows(by_year, "type") == {"escort_services": [1], "agriculture": [2], "unknown": [1]}
    assert rows(by_year, "control") == {"debt": [2], "isolation": [1], "unknown": [0]}
    # A case counts once per entry of the lists it holds several of.
    assert table(by_year, "control")["total"] == 3
    assert rows(by_year, "venue") == {"farm": [1], "unknown": [0]}
    assert rows(by_year, "recruitment") == {"unknown": [0]}
    assert rows(by_year, "age_group") == {"minor": [1], "adult": [1], "unknown": [1]}
    assert [r["label"] for r in table(by_year, "state")["rows"]] == [
        "California", "Texas", "Unknown",
    ]  # fmt: skip
    assert rows(by_year, "police_wanted") == {"yes": [1], "no": [1], "unknown": [0]}
    assert rows(by_year, "police_report") == {"no": [1], "unknown": [0]}
    referral = table(by_year, "referral")
    assert [(r["code"], r["label"], r["total"]) for r in referral["rows"]] == [
        (str(shelter), "Harbor Shelter", 2)
    ]

    # The same figures as the database's own count.
    with runtime_of(app).sessions() as session:
        agriculture = session.scalar(
            select(func.count())
            .select_from(CaseRecordCode)
            .where(CaseRecordCode.code == "agriculture")
        )
        labor = session.scalar(select(func.count()).where(CaseRecord.kind == "labor_trafficking"))
    assert totals_by_code(table(by_year, "type"))["agriculture"] == agriculture
    assert totals_by_code(table(by_year, "kind"))["labor_trafficking"] == labor


def test_a_range_that_is_not_whole_periods(app: Flask) -> None:
    seed_year(app)
    with runtime_of(app).sessions() as session:
        result = report(session, date(2026, 2, 14), date(2026, 5, 3), "month")
    assert result["periods"] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert result["cases"] == 2
    assert rows(result, "kind")["labor_trafficking"] == [1, 0, 0, 1]


def test_labels_come_from_the_lists_and_retired_entries_stay(app: Flask) -> None:
    with runtime_of(app).sessions.begin() as session:
        option = session.get(CaseOption, ("type", "carnivals"))
        assert option is not None
        option.active = False  # retired: earlier records still hold it
        session.add(
            CaseOption(
                list="venue", code="ferry", label="Ferry <or> boat", active=True, position=99
            )
        )
        add_case(session, at(2026, 3, 3), codes=[("type", "carnivals"), ("venue", "ferry")])
    with runtime_of(app).sessions() as session:
        result = report(session, date(2026, 1, 1), date(2027, 1, 1), "year")
    assert [(r["code"], r["label"]) for r in table(result, "type")["rows"]] == [
        ("carnivals", "Carnivals"), ("unknown", "Unknown"),
    ]  # fmt: skip
    page = to_html(publish(result, 5))
    assert "Ferry &lt;or&gt; boat" in page and "<or>" not in page


def test_the_purge_keeps_the_report_and_erasure_removes_the_case(
    app: Flask, clock: FakeClock
) -> None:
    seed_year(app)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        erased = add_case(session, at(2026, 5, 20), kind="sex_trafficking", state="NV")
        texter_id = erased.texter_id
        # What the purge empties: the triage's answers and the risk reasons.
        erased.in_danger, erased.risk_reasons = False, ["owes money (+30)"]
    with runtime.sessions() as session:
        before = report(session, date(2026, 1, 1), date(2027, 1, 1), "quarter")
    assert rows(before, "state")["NV"] == [0, 1, 0, 0]

    clock.advance(timedelta(days=800).total_seconds())
    with runtime.sessions.begin() as session:
        purged = purge_expired(session, clock.now(), retention_days=90)
    assert purged.answers >= 1  # the purge did run over these conversations
    with runtime.sessions() as session:
        assert report(session, date(2026, 1, 1), date(2027, 1, 1), "quarter") == before

    with runtime.sessions.begin() as session:
        erase_texter(
            session, runtime.triage, texter_id, clock.now(), actor_id=None, by="supervisor"
        )
    with runtime.sessions() as session:
        after = report(session, date(2026, 1, 1), date(2027, 1, 1), "quarter")
    assert after["cases"] == before["cases"] - 1
    assert "NV" not in rows(after, "state")
    assert rows(after, "kind")["sex_trafficking"] == [1, 0, 0, 0]


@pytest.mark.parametrize(
    ("start", "end", "by", "message"),
    [
        (date(2027, 1, 1), date(2026, 1, 1), "year", "from must be before to"),
        (date(2026, 1, 1), date(2026, 1, 1), "month", "from must be before to"),
        (
            date(2026, 1, 1),
            date(2027, 1, 1),
            "week",
            "the period must be one of: month, quarter, year",
        ),
        (date(2000, 1, 1), date(2027, 1, 1), "month", "a report covers at most 120 periods"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_recorded(
    app: Flask, start: date, end: date, by: str, message: str
) -> None:
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        with pytest.raises(InvalidInput, match=message):
            report(session, start, end, by)
        events_before = session.scalar(select(func.count()).select_from(Event))
        with pytest.raises(InvalidInput, match=message):
            make_public_report(session, start, end, by, "csv", 5, runtime.clock.now())
        with pytest.raises(InvalidInput, match="the format must be one of: csv, json, html"):
            make_public_report(
                session, date(2026, 1, 1), date(2027, 1, 1), "year", "pdf", 5, runtime.clock.now()
            )
        session.flush()
        assert session.scalar(select(func.count()).select_from(Event)) == events_before


def test_the_public_report_is_suppressed_and_audited(app: Flask) -> None:
    seed_year(app)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        text = make_public_report(
            session, date(2026, 1, 1), date(2027, 1, 1), "year", "json", 5, runtime.clock.now()
        )
    published = json.loads(text)
    assert published["cases"] == 5 and published["suppress_below"] == 5
    # Every count here is 1 to 4: every one is hidden, none shown.
    for t in published["tables"]:
        for row in t["rows"]:
            for cell in [*row["counts"], row["total"]]:
                assert cell == 0 or isinstance(cell, str), (t["dimension"], row["code"])
    with runtime.sessions() as session:
        event = session.scalars(select(Event).where(Event.kind == "report_made")).one()
        assert event.erasable is not None
        assert event.erasable.detail == {
            "who": "command line", "start": "2026-01-01", "end": "2027-01-01",
            "period": "year", "format": "json", "suppress_below": 5,
        }  # fmt: skip
    csv_text = to_csv(publish(report_of(app), 5))
    assert csv_text.splitlines()[0] == "dimension,code,label,2026,total"
    assert "kind,sex_trafficking,Sex trafficking,fewer than 5,fewer than 5" in csv_text


def report_of(app: Flask) -> Report:
    with runtime_of(app).sessions() as session:
        return report(session, date(2026, 1, 1), date(2027, 1, 1), "year")


def test_a_small_number_of_cases_is_hidden_too(app: Flask) -> None:
    with runtime_of(app).sessions.begin() as session:
        for month in (3, 4, 4):
            add_case(session, at(2026, month, 2), kind="sex_trafficking")
    published = publish(report_of(app), 5)
    assert published["cases"] == "fewer than 5"
    kind = table(published, "kind")
    assert kind["total"] == "fewer than 5" and kind["column_totals"] == ["fewer than 5"]
    assert "3" not in to_csv(published).split("\n", 1)[1]


def test_one_case_under_a_threshold_of_two_reads_suppressed(app: Flask) -> None:
    with runtime_of(app).sessions.begin() as session:
        add_case(session, at(2026, 3, 2), kind="unclear")
    published = publish(report_of(app), 2)
    assert published["cases"] == "suppressed"  # "fewer than 2" would say 1
    assert "fewer than" not in json.dumps(published)


def test_a_published_report_cannot_be_published_again(app: Flask) -> None:
    seed_year(app)
    published = publish(report_of(app), 5)
    with pytest.raises(ValueError, match="cannot be published again"):
        publish(published, 5)


# --- random case sets, end to end on SQLite ----------------------------------------------------

KINDS = ("sex_trafficking", "labor_trafficking", "unclear", "unknown", None)
STATES = ("TX", "CA", "NY", "unknown", None)
CONTROLS = ("debt", "isolation", "threats_to_family")
years = count(2300)  # a year of its own for each example: the database is shared

case = st.tuples(
    st.integers(1, 12),
    st.sampled_from(KINDS),
    st.sampled_from(STATES),
    st.lists(st.sampled_from(CONTROLS), max_size=2, unique=True),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases=st.lists(case, max_size=30), by=st.sampled_from(["month", "quarter", "year"]))
def test_random_case_sets_publish_safely(sqlite_url: str, cases: list, by: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = sessionmaker(engine)
    year = next(years)
    try:
        with sessions.begin() as session:
            for month, kind, state, controls in cases:
                add_case(
                    session, at(year, month, 10), kind=kind, state=state,
                    codes=[("control", code) for code in controls],
                )  # fmt: skip
        with sessions() as session:
            exact = report(session, date(year, 1, 1), date(year + 1, 1, 1), by)
    finally:
        engine.dispose()
    assert exact["cases"] == len(cases)
    expected_kinds = Counter(kind for _, kind, _, _ in cases if kind is not None)
    assert {
        code: t for code, t in totals_by_code(table(exact, "kind")).items() if t
    } == expected_kinds
    expected_controls = Counter(code for *_, controls in cases for code in controls)
    assert {
        code: t for code, t in totals_by_code(table(exact, "control")).items() if t
    } == expected_controls

    published = publish(exact, 5)
    for shown, true in zip(published["tables"], exact["tables"], strict=True):
        truth_rows = [[*r["counts"], r["total"]] for r in true["rows"]]
        truth = {(i, j): value for i, row in enumerate(truth_rows) for j, value in enumerate(row)}
        for j, value in enumerate([*true["column_totals"], true["total"]]):
            truth[len(truth_rows), j] = value
        grid = grid_of(
            [[*r["counts"], r["total"]] for r in shown["rows"]],
            shown["column_totals"],
            shown["total"],
        )
        cap = int(true["total"]) + 5
        listed = [row["code"] != "unknown" for row in true["rows"]]
        assert consistent_with(grid, truth, cap, listed)  # type: ignore[arg-type]
        assert pinned_cells(grid, truth, cap, listed) == [], shown["dimension"]  # type: ignore[arg-type]


def test_a_label_an_admin_wrote_as_a_formula_is_inert_in_the_csv(app: Flask) -> None:
    with runtime_of(app).sessions.begin() as session:
        session.add(
            CaseOption(
                list="venue", code="spreadsheet_trap", label='=HYPERLINK("http://x.test","a")',
                active=True, position=99,
            )
        )  # fmt: skip
        add_case(session, at(2026, 3, 2), kind="unclear", codes=[("venue", "spreadsheet_trap")])
    csv_text = to_csv(publish(report_of(app), 5))
    assert 'venue,spreadsheet_trap,"\'=HYPERLINK(""http://x.test"",""a"")"' in csv_text
    assert ',"=HYPERLINK' not in csv_text and ",=HYPERLINK" not in csv_text
