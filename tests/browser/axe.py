"""axe-core in the browser tests: the accessibility rules run on a page as it stands.

axe-core comes from the npm registry (``npm install --no-save axe-core@4`` at the top of the
checkout, as ``.ci/run`` does), or from the file ``HOTLINE_AXE_JS`` names. Its script is
evaluated through the DevTools protocol, which the page's CSP does not govern, so the page under
test keeps its real CSP.
"""

from __future__ import annotations

import os
from pathlib import Path
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


AXE_JS = Path(
    os.environ.get("HOTLINE_AXE_JS")
    or Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
)


def axe_source() -> str:
    try:
        return AXE_JS.read_text("utf-8")
    except FileNotFoundError:
        unavailable("axe-core (npm install --no-save axe-core@4)")
        raise AssertionError("unreachable") from None


def violations(page: Page, include: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (or only within the ``include`` selectors)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    found = page.evaluate(_RUN, include)
    assert isinstance(found, list)
    return found
