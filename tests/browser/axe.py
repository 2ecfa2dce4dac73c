"""axe-core in the browser tests: the accessibility rules run on a page as it stands.

axe-core comes inside the ``axe-playwright-python`` package (a dev dependency); only its
script is used. It is evaluated through the DevTools protocol, which the page's CSP does not
govern, so the page under test keeps its real CSP.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from playwright.sync_api import Page

from tests.conftest import unavailable

_RUN = """async (include) => {
    const results = await axe.run(include ? { include } : document, {
        resultTypes: ["violations"],
        runOnly: {
            type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
        },
    });
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
}"""


def axe_source() -> str:
    try:
        return (resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        unavailable("axe-core (pip install axe-playwright-python)")
        raise AssertionError("unreachable") from None


def violations(page: Page, include: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (or only within the ``include`` selectors)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    found = page.evaluate(_RUN, include)
    assert isinstance(found, list)
    return found
