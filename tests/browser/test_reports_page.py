"""The supervisors' reports page in Chromium: a supervisor goes from the board to Reports, reads
the raw counts of the case records by month, quarter and year in the tables and sees the charts,
and downloads the CSV export, where the small counts are suppressed. axe-core on the page.

Texters come through the webhook (triage and queue); their case records are written with the
models, as the case-record panel would save them. One conversation is moved back to March of last
year, so that the periods differ whatever the day the test runs.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import CaseRecord, CaseRecordCode, Conversation, Event
from tests.browser.axe import violations
from tests.browser.conftest import Console, Hotline
from tests.browser.pages import conversation_of, open_supervisor, screenshot

pytestmark = pytest.mark.browser

# kind, age group, state, and the codes of the lists a case may hold several of
CASES: list[tuple[str, str, str, dict[str, list[str]]]] = [
    ("sex_trafficking", "minor", "TX",
     {"type": ["escort_services"], "control": ["debt", "isolation"]}),
    ("sex_trafficking", "adult", "TX",
     {"type": ["illicit_massage"], "control": ["debt"], "venue": ["massage_spa"]}),
    ("labor_trafficking", "adult", "CA",
     {"type": ["agriculture"], "control": ["withholding_pay", "document_confiscation"],
      "recruitment": ["job_offer"]}),
    ("domestic_violence", "unknown", "unknown",
     {"control": ["unknown"], "recruitment": ["intimate_partner"]}),
]  # fmt: skip


def recorded(
    hotline: Hotline, conversation_id: int, case: tuple[str, str, str, dict[str, list[str]]],
    at: datetime,
) -> None:  # fmt: skip
    kind, age_group, state, codes = case
    with runtime_of(hotline.app).sessions.begin() as session:
        session.add(
            CaseRecord(
                conversation_id=conversation_id, kind=kind, age_group=age_group, state=state,
                police_wanted="no", updated_at=at,
            )
        )  # fmt: skip
        for name, entries in codes.items():
            for code in entries:
                session.add(CaseRecordCode(conversation_id=conversation_id, list=name, code=code))


def test_a_supervisor_reads_the_reports_and_exports_them_suppressed(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    lead = hotline.staff("lead", "supervisor")
    now = datetime.now(UTC)
    last_year = now.year - 1
    march = datetime(last_year, 3, 10, 15, tzinfo=UTC)
    ids = []
    for index, case in enumerate(CASES):
        texter = hotline.texter()
        texter.triage(needs="I need help")
        conversation_id = conversation_of(hotline, texter)
        ids.append(conversation_id)
        if index == 0:
            with runtime_of(hotline.app).sessions.begin() as session:
                conversation = session.get(Conversation, conversation_id)
                assert conversation is not None
                conversation.opened_at = march
        recorded(hotline, conversation_id, case, now)

    console = open_console()
    page = open_supervisor(console, lead)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/supervisor/reports")
    expect(page.locator("#raw-note")).to_contain_text("raw counts")
    # By default the calendar year to date, by month: March of last year is not in it.
    expect(page.locator("#report-summary")).to_contain_text("3 cases")
    page.get_by_label("From").fill(f"{last_year}-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-summary")).to_contain_text("4 cases")
    expect(page.locator("#report-summary")).to_contain_text(f"from {last_year}-01-01")

    kinds = page.locator("#report-kind-table")
    sex = kinds.locator('tbody tr[data-code="sex_trafficking"]')
    expect(sex.locator("th")).to_have_text("Sex trafficking")
    expect(sex.locator("td.total")).to_have_text("2")
    march_column = kinds.locator(f'thead th[data-period="{last_year}-03"]')
    expect(march_column).to_have_text(f"Mar {last_year}")
    # The chart draws a bar for each row, and says where its figures are.
    chart = page.locator("#report-kind svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(kinds.locator("tbody tr").count())
    expect(chart).to_have_attribute("aria-label", re.compile(r"the table beside it holds"))

    page.get_by_label("Quarter").check()
    expect(kinds.locator("thead th[data-period]").first).to_have_text(f"Q1 {last_year}")
    expect(
        kinds.locator(f'thead th[data-period="{now.year}-Q{(now.month - 1) // 3 + 1}"]')
    ).to_be_visible()
    page.get_by_label("Year").check()
    expect(kinds.locator("thead th[data-period]")).to_have_text([str(last_year), str(now.year)])
    expect(sex.locator("td")).to_have_text(["1", "1", "2"])
    controls = page.locator("#report-control-table")
    expect(controls.locator('tbody tr[data-code="debt"] td.total')).to_have_text("2")
    expect(page.locator("#report-state-table tbody tr[data-code=TX] td.total")).to_have_text("2")

    # A range the server refuses is said in the status line; the tables stay as they were.
    page.get_by_label("From").fill(f"{now.year - 7}-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#status")).to_have_text("a report covers at most 5 years")
    page.get_by_label("From").fill(f"{now.year + 1}-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#status")).to_have_text("The first day must not be after the last day.")
    expect(sex.locator("td.total")).to_have_text("2")
    page.get_by_label("From").fill(f"{last_year}-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#status")).to_be_empty()

    found = violations(page)
    assert found == [], found
    screenshot(page, "supervisor-reports.png")

    # The export leaves the hotline: small counts are suppressed, and it is audited.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename.endswith("-by-year.csv")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "fewer than 5" in exported
    lines = list(csv.DictReader(io.StringIO(exported)))
    counted = [line[key] for line in lines for key in (str(last_year), str(now.year), "total")]
    assert not {c for c in counted if c.isdigit() and 0 < int(c) < 5}, exported
    (sex_trafficking,) = (line for line in lines if line["code"] == "sex_trafficking")
    assert sex_trafficking["total"] == "fewer than 5"
    expect(page.locator("#status")).to_contain_text("recorded in the audit trail")
    with runtime_of(hotline.app).sessions() as session:
        actors = session.scalars(select(Event.actor_id).where(Event.kind == "report_made"))
        assert list(actors) == [lead.id]
    console.assert_clean()
