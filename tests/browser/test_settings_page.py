"""The settings page in Chromium: a supervisor changes capacity, adds a disposition and a tag,
edits a risk lexicon; refusals show beside the form; the advocate's console follows without a
restart."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event
from hotline.services.tuning import HISTORY_KINDS, read_overrides
from tests.browser.axe import violations
from tests.browser.conftest import PASSWORD, Account, Console, Hotline
from tests.browser.pages import screenshot

pytestmark = pytest.mark.browser

CAPACITY = "Conversations one advocate may hold at once"


def open_settings(console: Console, account: Account) -> Page:
    """Sign in through /supervisor/settings itself (the login page sends them back there)."""
    page = console.page
    page.goto("/supervisor/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)supervisor(%2F|/)settings$"))
    console.sign_in(account, password=PASSWORD)
    page.wait_for_url("**/supervisor/settings")
    expect(page.get_by_label(CAPACITY)).to_have_value("3")
    return page


def overrides(hotline: Hotline) -> dict[str, object]:
    with runtime_of(hotline.app).sessions() as session:
        return read_overrides(session)


def kinds(hotline: Hotline) -> list[str]:
    """The audit trail's settings and list changes, oldest first."""
    with runtime_of(hotline.app).sessions() as session:
        return list(
            session.scalars(
                select(Event.kind).where(Event.kind.in_(HISTORY_KINDS)).order_by(Event.id)
            )
        )


def test_a_supervisor_changes_capacity_and_the_lists_and_the_console_follows(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    advocate = hotline.staff("ana")
    boss = open_console()
    page = boss.page
    boss.sign_in(supervisor)
    page.goto("/supervisor")
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/supervisor/settings")
    status = page.locator("#status")

    # A refused value: the server's reason beside the form, the field marked, nothing stored.
    capacity = page.get_by_label(CAPACITY)
    expect(capacity).to_have_value("3")
    form = page.locator('form[data-key="capacity"]')
    capacity.fill("0")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-error")).to_have_text("capacity must be a whole number from 1 to 50")
    expect(capacity).to_have_attribute("aria-invalid", "true")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    assert overrides(hotline) == {}

    capacity.fill("1")
    form.get_by_role("button", name="Save").click()
    expect(status).to_have_text(f"Saved: {CAPACITY} is now 1.")
    form = page.locator('form[data-key="capacity"]')
    expect(form).to_contain_text(f"Changed by {supervisor.email}")
    expect(form.locator(".form-error")).to_be_hidden()
    expect(page.locator("#history-rows tr").first).to_contain_text(f"{CAPACITY}3 → 1")
    assert overrides(hotline) == {"capacity": 1}

    # A disposition: a bad code is refused, a good one is offered to advocates at once.
    adding = page.locator("#add-disposition")
    page.get_by_label("Code", exact=True).fill("Legal Aid")
    page.get_by_label("Label", exact=True).fill("Referred to legal aid")
    adding.get_by_role("button", name="Add disposition").click()
    expect(adding.locator(".form-error")).to_contain_text("code is 1 to 48 lower-case letters")
    expect(page.get_by_label("Code", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Code", exact=True).fill("legal_aid")
    adding.get_by_role("button", name="Add disposition").click()
    expect(status).to_contain_text("Added the disposition legal_aid")
    row = page.locator("#disposition-rows tr").filter(
        has=page.locator("code", has_text="legal_aid")
    )
    relabel = row.get_by_label("Label of legal_aid", exact=True)
    expect(relabel).to_have_value("Referred to legal aid")
    expect(adding.locator(".form-error")).to_be_hidden()

    # Retiring the starting list's "prank" hides it from advocates.
    page.get_by_role("button", name="Retire prank").click()
    expect(status).to_contain_text("Retired prank")
    expect(page.get_by_role("button", name="Restore prank")).to_be_visible()

    # A tag for the list.
    page.get_by_label("Tag", exact=True).fill("Wage theft")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#tag-list")).to_contain_text("wage theft")

    # The advocate's console, in another browser: the new limit and the new lists.
    ana = open_console()
    ana.sign_in(advocate)
    expect(ana.page.locator("#capacity")).to_have_text("0 of 1")
    closing = ana.page.locator("#disposition option")
    expect(closing.filter(has_text="Referred to legal aid")).to_have_count(1)
    expect(closing.filter(has_text="Prank")).to_have_count(0)
    expect(ana.page.locator('#tag-options option[value="wage theft"]')).to_have_count(1)

    page.bring_to_front()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "settings.png")

    # And back to the default.
    page.locator('form[data-key="capacity"]').get_by_role("button", name="Reset to default").click()
    expect(status).to_contain_text("back to the default (3)")
    expect(page.get_by_label(CAPACITY)).to_have_value("3")
    assert overrides(hotline) == {}
    assert kinds(hotline) == [
        "setting_changed", "disposition_added", "disposition_changed", "tag_added", "setting_reset",
    ]  # fmt: skip
    ana.page.reload()
    expect(ana.page.locator("#capacity")).to_have_text("0 of 3")
    boss.assert_clean()
    ana.assert_clean()


def test_a_supervisor_edits_a_risk_lexicon(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    boss = open_console()
    page = open_settings(boss, supervisor)
    form = page.locator('form[data-key="lexicon_en"]')
    weights = page.get_by_label("Weighted phrases, English, one per line: phrase = weight")
    expect(weights).to_have_value(re.compile(r"(^|\n)passport = 30(\n|$)"))

    # A line the page cannot read: said before anything is sent.
    weights.fill("locked in = 40\nthey watch me")
    form.get_by_role("button", name="Save lexicon").click()
    expect(form.locator(".form-error")).to_have_text(
        "Weighted phrases, line 2: write the phrase, then = and its weight (e.g. locked in = 40)."
    )
    # A weight the server refuses.
    weights.fill("locked in = 40\nthey watch me = 500")
    form.get_by_role("button", name="Save lexicon").click()
    expect(form.locator(".form-error")).to_have_text(
        "lexicon_en weights: \u201cthey watch me\u201d must weigh a whole number from 1 to 100"
    )
    assert overrides(hotline) == {}

    weights.fill("locked in = 40\nthey watch me = 45")
    page.get_by_label("Emergency phrases, English, one per line").fill("gun\nhe is here")
    page.get_by_label("Urgent at score, English").fill("50")
    form.get_by_role("button", name="Save lexicon").click()
    expect(page.locator("#status")).to_have_text("Saved: Risk lexicon (English).")
    assert overrides(hotline) == {
        "lexicon_en": {
            "urgent_at": 50,
            "high_at": 30,
            "emergency": ["gun", "he is here"],
            "weights": {"locked in": 40, "they watch me": 45},
        }
    }
    history = page.locator("#history-rows tr").first
    expect(history).to_contain_text("weighted added: \u201cthey watch me 45\u201d")
    expect(history).to_contain_text("urgent at 60 → 50")

    page.locator('form[data-key="lexicon_en"]').get_by_role(
        "button", name="Reset to default"
    ).click()
    expect(page.locator("#status")).to_contain_text("back to the default")
    expect(page.get_by_label("Urgent at score, English")).to_have_value("60")
    assert overrides(hotline) == {}
    assert kinds(hotline) == ["setting_changed", "setting_reset"]
    boss.assert_clean()


def test_an_advocate_gets_no_settings_page(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ana")
    console = open_console()
    console.sign_in(advocate)
    response = console.page.goto("/supervisor/settings")
    assert response is not None and response.status == 403
    assert console.fetch_status("/supervisor/api/settings/capacity", "PUT", {"value": 9}) == 403
    assert overrides(hotline) == {}


def test_a_supervisor_sets_opening_hours_and_the_voice_line(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    boss = open_console()
    page = open_settings(boss, supervisor)
    status = page.locator("#status")
    label = "Opening hours (empty: always open)"
    hours = page.get_by_label(label)
    expect(hours).to_have_value("")
    expect(hours).to_have_attribute("placeholder", "mon-fri 09:00-17:00; sat 10:00-14:00")
    form = page.locator('form[data-key="operating_hours"]')
    expect(form).to_contain_text("Default in force: always open")

    hours.fill("weekdays 9-5")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-error")).to_have_text(
        "operating_hours: \u201cweekdays\u201d is not a day: use mon, tue ... sun or daily"
    )
    expect(hours).to_have_attribute("aria-invalid", "true")
    assert overrides(hotline) == {}

    hours.fill("Mon-Fri 9:00-17:00")
    form.get_by_role("button", name="Save").click()
    expect(status).to_have_text(f"Saved: {label} is now \u201cmon-fri 09:00-17:00\u201d.")
    expect(page.get_by_label(label)).to_have_value("mon-fri 09:00-17:00")

    voice = page.get_by_label("Voice line shown to texters (empty: none)")
    voice_form = page.locator('form[data-key="voice_number"]')
    voice.fill("call us")
    voice_form.get_by_role("button", name="Save").click()
    expect(voice_form.locator(".form-error")).to_contain_text("voice_number must be a phone number")
    voice.fill("1-888-373-7888")
    voice_form.get_by_role("button", name="Save").click()
    expect(status).to_contain_text("is now \u201c1-888-373-7888\u201d")
    assert overrides(hotline) == {
        "operating_hours": "mon-fri 09:00-17:00",
        "voice_number": "1-888-373-7888",
    }

    page.locator('form[data-key="operating_hours"]').get_by_role(
        "button", name="Reset to default"
    ).click()
    expect(status).to_contain_text("back to the default (always open)")
    expect(page.get_by_label(label)).to_have_value("")
    assert kinds(hotline) == ["setting_changed", "setting_changed", "setting_reset"]
    boss.assert_clean()


def test_a_supervisor_tries_a_text_before_saving_a_lexicon(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    supervisor = hotline.staff("sam", role="supervisor")
    boss = open_console()
    page = open_settings(boss, supervisor)
    form = page.locator('form[data-key="lexicon_en"]')
    trial = page.get_by_label("Try a text, English")
    result = form.locator(".try-result")
    expect(result).to_have_attribute("aria-live", "polite")

    # Nothing typed: the server's reason beside the form, the box marked.
    form.get_by_role("button", name=re.compile(r"^Try\b")).click()
    expect(form.locator(".form-error")).to_have_text("text is empty: type a text to try")
    expect(trial).to_have_attribute("aria-invalid", "true")

    # Texter-written words are shown as text, never as markup.
    trial.fill("<b>they</b> lost my pasport, I'm 16")
    form.get_by_role("button", name=re.compile(r"^Try\b")).press("Enter")  # the keyboard works
    expect(result).to_contain_text("Would be Urgent with a score of 30.")
    # Each reason with the texter's words that earned it: here a misspelling.
    expect(result.get_by_role("listitem")).to_have_text(
        ["passport (+30) \u2190 \u201cpasport\u201d"]
    )
    expect(result).to_contain_text("May be a minor")
    expect(result).to_contain_text("Read as English.")
    expect(form.locator(".form-error")).to_be_hidden()
    assert result.locator("b").count() == 0

    # An unsaved weight counts at once; a line the page cannot read says what saving says.
    weights = page.get_by_label("Weighted phrases, English, one per line: phrase = weight")
    weights.fill(weights.input_value().replace("passport = 30", "passport = 70"))
    trial.fill("they lost my passport")
    form.get_by_role("button", name=re.compile(r"^Try\b")).click()
    expect(result).to_contain_text("Would be Urgent with a score of 70.")
    expect(result.get_by_role("listitem")).to_have_text(
        ["passport (+70) \u2190 \u201cpassport\u201d"]
    )
    page.get_by_label("Emergency phrases, English, one per line").fill("gun\nhe is here")
    trial.fill("He's here")
    form.get_by_role("button", name=re.compile(r"^Try\b")).click()
    expect(result).to_contain_text("Emergency words: he is here")
    expect(result.get_by_role("listitem")).to_have_text(
        ["emergency: he is here \u2190 \u201ches here\u201d"]
    )
    assert_accessible(page)
    form.scroll_into_view_if_needed()
    screenshot(page, "settings-try-a-text.png")

    weights.fill("passport = 70\nthey watch me")
    form.get_by_role("button", name=re.compile(r"^Try\b")).click()
    expect(form.locator(".form-error")).to_have_text(
        "Weighted phrases, line 2: write the phrase, then = and its weight (e.g. locked in = 40)."
    )
    weights.fill("passport = 500")
    form.get_by_role("button", name=re.compile(r"^Try\b")).click()
    expect(form.locator(".form-error")).to_have_text(
        "lexicon_en weights: \u201cpassport\u201d must weigh a whole number from 1 to 100"
    )

    # Nothing was saved; each try is in the audit trail, without the text.
    assert overrides(hotline) == {}
    assert kinds(hotline) == []
    with runtime_of(hotline.app).sessions() as session:
        tries = list(session.scalars(select(Event).where(Event.kind == "lexicon_tried")))
    assert [event.detail["priority"] for event in tries] == ["urgent", "urgent", "urgent"]
    assert "passport" not in str([event.detail for event in tries])
    boss.assert_clean()


def assert_accessible(page: Page) -> None:
    found = violations(page)
    assert found == [], found
