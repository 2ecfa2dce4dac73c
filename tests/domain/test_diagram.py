"""The committed diagram is the one the table draws."""

from __future__ import annotations

from pathlib import Path

from hotline.domain.diagram import MARKER, document, mermaid
from hotline.domain.triage import TRANSITIONS, State

DOC = Path(__file__).resolve().parents[2] / "docs" / "triage.md"


def test_committed_document_matches_the_table() -> None:
    assert DOC.read_text().split(MARKER)[1] == f"\n\n{document()}", (
        "docs/triage.md is stale: run python -m hotline.domain.diagram --write"
    )


def test_readme_shows_the_current_diagram() -> None:
    readme = (DOC.parents[1] / "README.md").read_text()
    assert f"```mermaid\n{mermaid()}\n```" in readme, "README.md shows a stale triage diagram"


def test_every_state_change_in_the_table_is_an_arrow() -> None:
    drawn = mermaid()
    for row in TRANSITIONS:
        if row.target is not None and row.target is not row.state:
            assert f"{row.state.value} --> {row.target.value}:" in drawn
            assert (
                row.on.value
                in drawn.split(f"{row.state.value} --> {row.target.value}:")[1].split("\n")[0]
            )
    for state in State:
        assert state.value in drawn
