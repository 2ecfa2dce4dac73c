"""Setting two-factor up in a real browser: the QR code drawn by the server shows under the real
CSP, the key wraps inside its card (wide and narrow screens), a code from the key turns it on,
the recovery codes show once, and both a code and a recovery code sign in afterwards."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from hotline.domain import totp
from tests.browser.axe import violations
from tests.browser.conftest import PASSWORD, Console, Hotline

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 780}


def inside(inner: Locator, outer: Locator) -> None:
    """``inner``'s box lies within ``outer``'s, and its text does not overflow it."""
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None and b is not None
    assert a["x"] >= b["x"] - 0.5 and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5, (a, b)
    assert inner.evaluate("(node) => node.scrollWidth <= node.clientWidth + 1")


def no_violations(page: Page) -> None:
    found = violations(page)
    assert found == [], found


def sign_in_with(console: Console, hotline: Hotline, email: str, code: str) -> None:
    page = console.page
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/code$"))
    expect(page.get_by_text("A recovery code works once")).to_be_visible()
    page.get_by_label(re.compile("Six-digit code from your authenticator app")).fill(code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/supervisor")  # a supervisor lands on the board
    expect(page.locator("#who")).to_have_text(email)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_setting_up_two_factor_then_signing_in_with_a_code_and_a_recovery_code(
    hotline: Hotline, open_console: Callable[[], Console]
) -> None:
    account = hotline.staff("sam", "supervisor")
    console = open_console()
    page = console.page
    console.sign_in(account)

    page.goto("/account/two-factor")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    no_violations(page)
    page.get_by_role("button", name="Set up two-factor").click()

    qr = page.get_by_role("img", name=re.compile("QR code of your new two-factor key"))
    expect(qr).to_be_visible()
    assert qr.evaluate("(img) => img.complete && img.naturalWidth > 0")  # data: under the CSP
    card, key = page.locator("main.card"), page.locator("#totp-key code")
    expect(key).to_be_visible()
    inside(qr, card)
    inside(key, card)
    page.set_viewport_size(NARROW)
    inside(qr, card)
    inside(key, card)
    key_box = key.bounding_box()
    assert key_box is not None and key_box["height"] > 30  # it wrapped, onto more lines
    no_violations(page)

    secret = key.inner_text().replace(" ", "").replace("\n", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("The six-digit code your app shows now").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("that code is not right")
    expect(key).to_have_text(totp.grouped(secret))  # the same key: try again

    page.get_by_label("The six-digit code your app shows now").fill(
        totp.code_at(secret, time.time())
    )
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Two-factor is on")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    inside(page.locator(".recovery-codes"), card)
    no_violations(page)

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Continue to the supervisor's board").click()
    page.wait_for_url("**/supervisor")
    sign_out(page)

    # The step after the one that turned it on: a code is never accepted twice.
    sign_in_with(console, hotline, account.email, totp.code_at(secret, time.time() + 30))
    sign_out(page)

    sign_in_with(console, hotline, account.email, codes[0])
    page.goto("/account/two-factor")
    expect(page.get_by_text("You have 9 unused recovery codes.")).to_be_visible()
    console.assert_clean()
