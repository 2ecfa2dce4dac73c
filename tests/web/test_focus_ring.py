"""The focus ring's colours, checked numerically (WCAG 1.4.11 and 2.4.7: at least 3:1).

The ring is ``--focus-ring`` drawn outside a white ``--focus-halo`` (base.css): the ring must
stand out from the pages' backgrounds, and the halo from every button colour it sits against, so
the indicator is visible whatever it is next to. No page's own stylesheet brings back a fainter
outline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "hotline" / "static"
BASE = (STATIC / "base.css").read_text("utf-8")
WHITE = "#ffffff"


def variable(name: str) -> str:
    match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", BASE)
    assert match, name
    return match.group(1)


def luminance(colour: str) -> float:
    """Relative luminance of a ``#rrggbb`` colour (WCAG 2.2's definition)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_does() -> None:
    assert contrast("#000000", WHITE) == pytest.approx(21)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("background", ["bg", "white", "line"])
def test_the_ring_stands_out_from_the_page(background: str) -> None:
    colour = WHITE if background == "white" else variable(background)
    assert contrast(variable("focus-ring"), colour) >= 3


@pytest.mark.parametrize("button", ["accent", "urgent", "ok", "ink"])
def test_the_halo_stands_out_from_every_button(button: str) -> None:
    assert contrast(variable("focus-halo"), variable(button)) >= 3


def test_the_ring_stands_out_from_its_halo() -> None:
    assert contrast(variable("focus-ring"), variable("focus-halo")) >= 3


def test_the_ring_is_drawn_with_both_colours() -> None:
    rule = re.search(r"^:focus-visible \{([^}]*)\}", BASE, re.M)
    assert rule, "base.css has no :focus-visible rule"
    assert "outline: 3px solid var(--focus-ring)" in rule.group(1)
    assert "var(--focus-halo)" in rule.group(1)


@pytest.mark.parametrize("sheet", sorted(p.name for p in STATIC.glob("*.css")))
def test_no_page_brings_back_a_faint_outline(sheet: str) -> None:
    css = (STATIC / sheet).read_text("utf-8")
    for colour in re.findall(r"outline:[^;}]*?(#[0-9a-fA-F]{6})", css):
        assert contrast(colour, WHITE) >= 3, (sheet, colour)
