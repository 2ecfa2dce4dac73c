"""The settings page's case record lists in Chromium (issue 20): a supervisor picks a list, adds
an entry (a bad code refused beside the form), relabels, retires and restores it; the console's
lists follow at once; axe finds nothing wrong with the section."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from hotline import runtime_of
from hotline.db.models import CaseOption
from tests.browser.axe import violations
from tests.browser.conftest import Console, Hotline

pytestmark = pytest.mark.browser


def entry(hotline: Hotline, name: str, code: str) -> tuple[str, bool] | None:
    with runtime_of(hotline.app).sessions() as session:
        row = session.get(CaseOption, (name, code))
        return None if row is None else (row.label, row.active)


def test_a_supervisor_extends_a_case_record_list(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    boss = open_console()
    page = boss.page
    boss.sign_in(supervisor)
    page.goto("/supervisor/settings")
    status = page.locator("#status")
    section = page.locator("section", has=page.locator("#case-lists-heading"))
    rows = page.locator("#case-option-rows tr")
    expect(rows.first).to_contain_text("sex_trafficking")  # the kinds, first

    page.get_by_label("Case record list", exact=True).select_option("venue")
    expect(rows.first).to_contain_text("hotel_motel")
    expect(rows).to_have_count(13)
    assert violations(page, ["#case-lists-heading", "#case-option-table", "#add-case-option"]) == []

    adding = page.locator("#add-case-option")
    page.get_by_label("Entry code", exact=True).fill("Nail Salon")
    page.get_by_label("Entry label", exact=True).fill("Nail salon")
    adding.get_by_role("button", name="Add entry").click()
    expect(adding.locator(".form-error")).to_contain_text("code is 1 to 48 lower-case letters")
    expect(page.get_by_label("Entry code", exact=True)).to_have_attribute("aria-invalid", "true")
    assert entry(hotline, "venue", "nail_salon") is None
    page.get_by_label("Entry code", exact=True).fill("nail_salon")
    adding.get_by_role("button", name="Add entry").click()
    expect(status).to_contain_text("Added nail_salon to Industry or venue")
    expect(rows).to_have_count(14)
    assert entry(hotline, "venue", "nail_salon") == ("Nail salon", True)

    row = rows.filter(has=page.locator("code", has_text="nail_salon"))
    row.get_by_label("Label of venue nail_salon", exact=True).fill("Nail or beauty salon")
    row.get_by_role("button", name="Save label of venue nail_salon").click()
    expect(status).to_contain_text("Relabelled nail_salon")
    section.get_by_role("button", name="Retire venue nail_salon").click()
    expect(status).to_contain_text("Retired nail_salon")
    expect(section.get_by_role("button", name="Restore venue nail_salon")).to_be_visible()
    assert entry(hotline, "venue", "nail_salon") == ("Nail or beauty salon", False)
    expect(page.locator("#history-rows tr").first).to_contain_text("Case record venue nail_salon")
    expect(page.locator("#history-rows tr").first).to_contain_text("retired")

    # The console's lists follow: retired, it is not offered; restored, it is.
    lists = boss.page.evaluate(
        "async () => (await (await fetch('/console/api/case-lists')).json()).lists.venue"
    )
    assert {"code": "nail_salon", "label": "Nail or beauty salon"} not in lists
    section.get_by_role("button", name="Restore venue nail_salon").click()
    expect(status).to_contain_text(re.compile(r"Restored nail_salon"))
    lists = boss.page.evaluate(
        "async () => (await (await fetch('/console/api/case-lists')).json()).lists.venue"
    )
    assert lists[-2:] == [
        {"code": "nail_salon", "label": "Nail or beauty salon"},
        {"code": "unknown", "label": "Unknown"},
    ]
    boss.assert_clean()
