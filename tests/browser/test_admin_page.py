"""The administration page in Chromium: an admin creates an advocate, resets their password and
deactivates them (each ending the advocate's live session at once), then adds and edits a quick
reply and a referral. Errors show in the page, and nothing is sent or stored on a refusal. The
advocate chooses their own password at the change page after the creation and after the reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Event, QuickReply, Referral, StaffUser
from tests.browser.conftest import Account, Console, Hotline
from tests.browser.pages import screenshot

pytestmark = pytest.mark.browser

NEW_EMAIL = "new.advocate@example.org"
GENERATED = re.compile(r"^[a-z2-9]{5}(-[a-z2-9]{5}){3}$")


def open_admin(console: Console, account: Account) -> Page:
    console.sign_in(account)
    page = console.page
    page.goto("/supervisor")
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/supervisor/admin")
    expect(page.get_by_role("tab", name="Staff")).to_have_attribute("aria-selected", "true")
    return page


def shown_once(page: Page, screenshot_name: str | None = None) -> str:
    """The generated password in the once-only box; gone from the page after "Done"."""
    box = page.locator("#password-once")
    expect(box).to_be_visible()
    expect(page.locator("#password-once-value")).to_have_text(GENERATED)
    password = page.locator("#password-once-value").inner_text()
    if screenshot_name:
        screenshot(page, screenshot_name)
    page.get_by_role("button", name="Done, hide it").click()
    expect(box).to_be_hidden()
    expect(page.locator("#password-once-value")).to_have_text("")
    return password


def choose_own_password(browser: Console, account: Account, new_password: str) -> None:
    """Sign in with a password someone else set: every page and API waits for the change."""
    page = browser.page
    browser.sign_in(account, password=account.password)
    page.wait_for_url("**/account/password")
    expect(page.locator("#password-required")).to_contain_text("set by someone else")
    assert browser.fetch_status("/console/api/me") == 403
    page.goto("/console")
    page.wait_for_url("**/account/password")
    page.get_by_label("Current password").fill(account.password)
    page.get_by_label("New password (").fill(new_password)
    page.get_by_label("New password again").fill(new_password + " typo")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-error")).to_have_text("the two new passwords are not the same")
    screenshot(page, "password-change.png")
    page.get_by_label("Current password").fill(account.password)
    page.get_by_label("New password (").fill(new_password)
    page.get_by_label("New password again").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-changed")).to_be_visible()
    page.get_by_role("link", name="Go to the console").click()
    page.wait_for_url("**/console")
    page.wait_for_selector("#availability:not([disabled])")


def kinds(hotline: Hotline) -> list[str]:
    with runtime_of(hotline.app).sessions() as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_an_admin_manages_an_advocate_a_quick_reply_and_a_referral(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    admin = hotline.staff("ada", role="admin")
    console = open_console()
    page = open_admin(console, admin)
    status = page.locator("#status")
    rows = page.locator("#account-rows")
    mine = rows.locator("tr[data-id]", has_text=admin.email)
    expect(mine).to_contain_text("you")
    expect(mine.get_by_role("button", name=f"Deactivate {admin.email}")).to_be_disabled()
    expect(mine.get_by_label(f"Role of {admin.email}")).to_be_disabled()

    # -- create an advocate: a generated password, shown once ----------------------------------
    page.get_by_label("Email").fill(NEW_EMAIL)
    page.locator("#new-account").get_by_label("Role").select_option("advocate")
    page.get_by_role("button", name="Create account").click()
    first_password = shown_once(page, "admin-staff.png")
    expect(status).to_have_text(f"Account created for {NEW_EMAIL}.")
    row = rows.locator("tr[data-id]", has_text=NEW_EMAIL)
    expect(row).to_contain_text("Active")
    expect(row.get_by_label(f"Role of {NEW_EMAIL}")).to_have_value("advocate")
    expect(page.get_by_label("Email")).to_have_value("")
    with runtime_of(hotline.app).sessions() as session:
        created = session.scalars(select(StaffUser).where(StaffUser.email == NEW_EMAIL)).one()
    advocate = Account(created.id, NEW_EMAIL, first_password)

    # the same email again: refused, said in the page, nothing created
    page.get_by_label("Email").fill(NEW_EMAIL.upper())
    page.get_by_role("button", name="Create account").click()
    expect(status).to_have_text("an account with that email exists already")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-once")).to_be_hidden()
    expect(rows.locator("tr[data-id]", has_text=NEW_EMAIL)).to_have_count(1)
    page.get_by_label("Email").fill("")

    # The advocate signs in with the generated password, in a browser of their own, and must
    # choose their own password before anything else.
    theirs = open_console()
    own_password = "my very own passphrase"
    choose_own_password(theirs, advocate, own_password)
    assert theirs.fetch_status("/console/api/me") == 200

    # -- reset their password: their session ends at once, only the new password works ---------
    row.get_by_role("button", name=f"Reset password of {NEW_EMAIL}").click()
    confirm = page.get_by_role("group", name=f"Reset password of {NEW_EMAIL}")
    expect(confirm).to_contain_text("signed out at once")
    confirm.get_by_role("button", name="Reset password", exact=True).click()
    second_password = shown_once(page)
    assert second_password != first_password
    expect(status).to_contain_text(f"{NEW_EMAIL}'s password is reset")
    expect(confirm).to_have_count(0)
    assert theirs.fetch_status("/console/api/me") == 401
    theirs.page.goto("/login")
    theirs.sign_in(advocate, password=own_password)
    expect(theirs.page.get_by_text("wrong email or password")).to_be_visible()
    choose_own_password(theirs, Account(advocate.id, NEW_EMAIL, second_password), own_password * 2)
    assert theirs.fetch_status("/console/api/me") == 200

    # -- deactivate them: after a confirmation in the page; their session ends at once ---------
    row.get_by_role("button", name=f"Deactivate {NEW_EMAIL}").click()
    confirm = page.get_by_role("group", name=f"Deactivate {NEW_EMAIL}")
    expect(confirm).to_contain_text("go back to the queue")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    assert theirs.fetch_status("/console/api/me") == 200  # cancelled: nothing happened
    row.get_by_role("button", name=f"Deactivate {NEW_EMAIL}").click()
    page.get_by_role("button", name="Yes, deactivate").click()
    expect(status).to_have_text(f"{NEW_EMAIL} is deactivated and signed out.")
    expect(row).to_contain_text("Deactivated")
    expect(row.get_by_role("button", name=f"Reactivate {NEW_EMAIL}")).to_be_visible()
    assert theirs.fetch_status("/console/api/me") == 401

    # -- quick replies: add (a refusal first), edit, retire ------------------------------------
    page.get_by_role("tab", name="Quick replies").click()
    expect(page).to_have_url(re.compile(r"#quick-replies$"))
    section = page.locator("#quick-replies")
    section.get_by_label("Language").select_option("es")
    section.get_by_label("Text").fill("Hola, estoy aquí para ayudarte.")
    section.get_by_role("button", name="Add quick reply").click()
    expect(status).to_have_text("title must be text")
    expect(section.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#quick-reply-empty")).to_be_visible()
    section.get_by_label("Title").fill("Saludo")
    section.get_by_role("button", name="Add quick reply").click()
    expect(status).to_contain_text("Added quick reply “Saludo”")
    reply_row = page.locator("#quick-reply-rows tr", has_text="Saludo")
    expect(reply_row).to_contain_text("Spanish")
    expect(reply_row).to_contain_text("Hola, estoy aquí para ayudarte.")

    reply_row.get_by_role("button", name="Edit quick reply Saludo").click()
    editor = page.get_by_role("group", name="Edit quick reply Saludo")
    editor.get_by_label("Text").fill("x" * 641)  # the field stops at 640: the server agrees
    expect(editor.get_by_label("Text")).to_have_value("x" * 640)
    editor.get_by_label("Title").fill("")
    editor.get_by_role("button", name="Save").click()
    expect(status).to_have_text("title must be text")
    expect(editor.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    editor.get_by_label("Title").fill("Saludo y ayuda")
    expect(editor.get_by_label("Title")).not_to_have_attribute("aria-invalid", "true")
    editor.get_by_label("Text").fill("Hola, soy una defensora. ¿Estás a salvo ahora?")
    editor.get_by_role("button", name="Save").click()
    expect(status).to_have_text("Saved “Saludo y ayuda”.")
    reply_row = page.locator("#quick-reply-rows tr", has_text="Saludo y ayuda")
    expect(reply_row).to_contain_text("¿Estás a salvo ahora?")
    reply_row.get_by_role("button", name="Retire quick reply Saludo y ayuda").click()
    expect(reply_row).to_contain_text("Retired")
    expect(
        reply_row.get_by_role("button", name="Restore quick reply Saludo y ayuda")
    ).to_be_visible()
    screenshot(page, "admin-quick-replies.png")

    # -- referrals: add, edit ---------------------------------------------------------------------
    page.get_by_role("tab", name="Referrals").click()
    section = page.locator("#new-referral")
    for label, value in (
        ("Name", "Harbor House"),
        ("Services", "emergency shelter, legal aid"),
        ("Area", "Denver, CO"),
        ("Phone", "+1 555 010 0199"),
        ("Hours", "Mon-Fri 9-5"),
        ("Languages", "English, Spanish"),
    ):
        section.get_by_label(label).fill(value)
    section.get_by_role("button", name="Add referral").click()
    expect(status).to_contain_text("Added referral “Harbor House”")
    referral_row = page.locator("#referral-rows tr", has_text="Harbor House")
    expect(referral_row).to_contain_text("Mon-Fri 9-5")
    referral_row.get_by_role("button", name="Edit referral Harbor House").click()
    editor = page.get_by_role("group", name="Edit referral Harbor House")
    editor.get_by_label("Hours").fill("24/7")
    editor.get_by_role("button", name="Save").click()
    expect(status).to_have_text("Saved “Harbor House”.")
    expect(referral_row).to_contain_text("24/7")
    expect(referral_row).to_contain_text("In use")
    screenshot(page, "admin-referrals.png")

    # What the page did is what the database holds, and each change is in the audit trail.
    with runtime_of(hotline.app).sessions() as session:
        reply = session.scalars(select(QuickReply)).one()
        referral = session.scalars(select(Referral)).one()
        deactivated = session.get(StaffUser, advocate.id)
    assert (reply.language, reply.title, reply.active) == ("es", "Saludo y ayuda", False)
    assert reply.body == "Hola, soy una defensora. ¿Estás a salvo ahora?"
    assert (referral.name, referral.hours, referral.active) == ("Harbor House", "24/7", True)
    assert deactivated is not None and not deactivated.active
    logged = kinds(hotline)
    assert logged.count("staff_created") == 2  # the admin (seeded) and the advocate
    assert {"staff_password_reset", "staff_deactivated"} <= set(logged)
    assert logged.count("password_changed") == 2  # after the creation, after the reset
    assert logged.count("quick_reply_saved") == 3 and logged.count("referral_saved") == 2
    console.assert_clean()
    theirs.assert_clean()


def test_an_advocate_is_refused_the_administration_page(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    advocate = hotline.staff("ann")
    console = open_console()
    console.sign_in(advocate)
    response = console.page.goto("/supervisor/admin")
    assert response is not None and response.status == 403
    assert console.fetch_status("/supervisor/api/staff-accounts") == 403
    assert console.fetch_status("/supervisor/api/staff-accounts", "POST", {
        "email": "x@example.org", "role": "admin"}) == 403  # fmt: skip


def test_a_supervisor_sees_no_reset_for_another_supervisor(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    lead, other, advocate = (
        hotline.staff("lee", role="supervisor"),
        hotline.staff("sam", role="supervisor"),
        hotline.staff("ann"),
    )
    console = open_console()
    page = open_admin(console, lead)
    rows = page.locator("#account-rows")
    theirs = rows.locator("tr[data-id]", has_text=other.email)
    expect(theirs.get_by_label(f"Role of {other.email}")).to_be_disabled()
    expect(theirs.get_by_role("button", name=f"Reset password of {other.email}")).to_have_count(0)
    expect(theirs.get_by_role("button", name=f"Deactivate {other.email}")).to_be_enabled()
    mine = rows.locator("tr[data-id]", has_text=advocate.email)
    expect(mine.get_by_role("button", name=f"Reset password of {advocate.email}")).to_be_enabled()
    expect(mine.get_by_label(f"Role of {advocate.email}")).to_be_enabled()
    console.assert_clean()
