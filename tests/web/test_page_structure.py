"""Every page the hotline serves has one ``h1`` and, first in its body, a skip link to a ``main``
that exists (WCAG 1.3.1, 2.4.1): sign-in, the code step, the password and two-factor pages, a
refusal, the console, the supervisor's pages and the texting simulator."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask

from hotline.settings import Mode
from tests.signing_in import switch_on_two_factor
from tests.two_factor_support import make_staff, password_sign_in

PAGE = {"Accept": "text/html"}
SKIP = re.compile(r'<body[^>]*>\s*<a class="skip-link" href="#([\w-]+)">Skip to main content</a>')


def well_formed(html: str, where: str) -> None:
    assert len(re.findall(r"<h1[\s>]", html)) == 1, f"{where}: not exactly one h1"
    skip = SKIP.search(html)
    assert skip, f"{where}: no skip link first in the body"
    assert re.search(rf'<main id="{skip.group(1)}"[^>]*tabindex="-1"', html), (
        f"{where}: the skip link leads to no focusable main #{skip.group(1)}"
    )


def test_the_sign_in_pages(app: Flask) -> None:
    client = app.test_client()
    well_formed(client.get("/login").get_data(as_text=True), "login")
    guarded = make_staff(app, "advocate")
    switch_on_two_factor(app, guarded.id)
    waiting = password_sign_in(app, guarded)
    well_formed(waiting.get("/login/code").get_data(as_text=True), "code")


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (
            "advocate",
            ["/console", "/account", "/account/password", "/account/two-factor", "/supervisor"],
        ),
        (
            "admin",
            [
                "/supervisor",
                "/supervisor/admin",
                "/supervisor/settings",
                "/supervisor/reviews",
                "/supervisor/reports",
                "/console",
            ],
        ),
    ],
)
def test_every_staff_page(app: Flask, role: str, paths: list[str]) -> None:
    client = password_sign_in(app, make_staff(app, role))
    for path in paths:
        response = client.get(path, headers=PAGE)
        expected = 403 if (role, path) == ("advocate", "/supervisor") else 200  # the refusal page
        assert response.status_code == expected, path
        html = response.get_data(as_text=True)
        well_formed(html, path)
        if response.status_code == 200 and not path.startswith("/account"):
            # Every staff page's account menu links to the two-factor page.
            assert 'id="two-factor-link" href="/account/two-factor"' in html, path


def test_the_simulator(make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url, settings_overrides={"mode": Mode.DEVELOPMENT})
    response = app.test_client().get("/simulator")
    assert response.status_code == 200
    well_formed(response.get_data(as_text=True), "simulator")
