"""The public report's standalone page (``hotline report --format html``): readable without
scripts or styles from anywhere, and clean under axe-core; a screen reader hears each count
with its row and period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy.orm import sessionmaker

from hotline.db.session import make_engine
from hotline.services.case_reports import publish, report, to_html
from tests.browser.axe import violations
from tests.case_report_data import add_case


@pytest.fixture
def isolated_sqlite(sqlite_template: Path, tmp_path: Path) -> str:
    """A database of the test's own: a report counts every case record."""
    path = tmp_path / "report.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


def test_the_public_page_is_accessible(chromium: Browser, isolated_sqlite: str) -> None:
    engine = make_engine(isolated_sqlite)
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        cases = [(1, "sex_trafficking", "TX"), (2, "sex_trafficking", "TX"),
                 (4, "labor_trafficking", "CA"), (9, "unclear", "TX")]  # fmt: skip
        for month, kind, state in cases:
            add_case(session, datetime(2026, month, 5, tzinfo=UTC), kind=kind, state=state)
        for day in range(1, 9):
            add_case(session, datetime(2026, 7, day, tzinfo=UTC), kind="labor_trafficking")
    with sessions() as session:
        page_html = to_html(
            publish(report(session, date(2026, 1, 1), date(2027, 1, 1), "quarter"), 5)
        )
    engine.dispose()

    page = chromium.new_page()
    try:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.set_content(page_html)
        assert requests == []  # nothing fetched
        assert page.title() == "Hotline report 2026-01-01 to 2026-12-31"
        kind = page.locator("table", has=page.locator("caption", has_text="Kind of situation"))
        headers = kind.locator("thead th").all_inner_texts()
        assert headers == ["Value", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "Total"]
        labor = kind.locator("tbody tr", has=page.locator("th", has_text="Labor trafficking"))
        assert labor.locator("td").all_inner_texts() == [
            "0",
            "fewer than 5",
            "suppressed",
            "0",
            "9",
        ]  # fmt: skip: the 8 is hidden too, or 9 minus it would give the 1
        assert violations(page) == []
        page.set_viewport_size({"width": 360, "height": 740})  # a phone: the tables scroll
        assert violations(page) == []
    finally:
        page.close()
