"""The triage machine drawn from its own table, so the picture cannot drift from the code.

``python -m hotline.domain.diagram --write`` writes it into ``docs/triage.md``, below the
hand-written account of how risk, minors and language are decided; a test checks that the
committed part is what this prints.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from hotline.domain.triage import ON_ENTER, TRANSITIONS, State


def mermaid() -> str:
    """A Mermaid state diagram: one arrow per pair of states, naming its events by guard."""
    edges: dict[tuple[State, State], dict[str, list[str]]] = defaultdict(dict)
    for row in TRANSITIONS:
        if row.target is not None and row.target is not row.state:
            guard = row.guard.value if row.guard else ""
            edges[(row.state, row.target)].setdefault(guard, []).append(row.on.value)
    lines = ["stateDiagram-v2", f"    [*] --> {State.NEW.value}"]
    for (source, target), by_guard in edges.items():
        labels = [
            ", ".join(ons) + (f" [{guard}]" if guard else "") for guard, ons in by_guard.items()
        ]
        lines.append(f"    {source.value} --> {target.value}: {'; '.join(labels)}")
    lines.append(f"    {State.ENDED.value} --> [*]")
    return "\n".join(lines)


def table() -> str:
    """Every row of the table, including those that stay in their state."""
    lines = ["| state | on | guard | next | actions |", "|---|---|---|---|---|"]
    for row in TRANSITIONS:
        target = row.target.value if row.target else "(stays)"
        if row.quiet_entry:
            target += " (no on-enter text)"
        actions = ", ".join(str(a) for a in row.actions) or "—"
        guard = row.guard.value if row.guard else ""
        lines.append(f"| {row.state.value} | {row.on.value} | {guard} | {target} | {actions} |")
    return "\n".join(lines)


def on_enter() -> str:
    lines = ["| state | on entering |", "|---|---|"]
    for state, actions in ON_ENTER.items():
        lines.append(f"| {state.value} | {', '.join(str(a) for a in actions)} |")
    return "\n".join(lines)


# docs/triage.md: how triage decides (written by hand), then the machine (generated below this).
MARKER = (
    "<!-- generated from hotline/domain/triage.py: python -m hotline.domain.diagram --write -->"
)


def document() -> str:
    return f"""# The triage conversation

Generated from `hotline/domain/triage.py` by `python -m hotline.domain.diagram --write`;
a test fails when this part and the table disagree. `send(key)` names a text in
`hotline/catalogue/<language>.toml`. A state with no row for an event ignores it: the text is
stored and shown to staff, and no reply goes out. STOP, START and HELP are handled before the
machine (STOP also ends the conversation through it). After `ended` nothing is ever sent.

The guards read what the service knows: *needs a person* is a conversation that is or was
urgent, or mentions a minor (it is never closed by a timer or "not safe": it is queued instead,
with a `held` alert); *guidance due* is no emergency guidance sent in the last
`HOTLINE_EMERGENCY_GUIDANCE_MINUTES`; *do not text* is a texter who said it is not safe to text.
"(no on-enter text)" enters the state without its texts: a silent texter is not texted.

```mermaid
{mermaid()}
```

## Entering a state

{on_enter()}

## Every transition

The first row whose state, event and guard match is taken.

{table()}
"""


def write(path: Path) -> None:
    """Replace the generated part of ``path`` (everything after :data:`MARKER`)."""
    kept = path.read_text().split(MARKER)[0] if path.exists() else ""
    path.write_text(f"{kept}{MARKER}\n\n{document()}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write(Path(__file__).resolve().parents[2] / "docs" / "triage.md")
    else:
        print(document(), end="")
