"""The floor triage holds on the evaluation set (``bench/triage_eval/texts.csv``), measured the
way ``python bench/triage_eval.py`` measures it: every text sent as a first text through the
webhook and ``process_pending``, what the hotline made of it read back from the database.

The floors are the promise: an emergency is recognised (recall at least 0.95) without crying
wolf (at most 5% false emergencies), the urgent are put first (recall at least 0.9), a child is
recognised (recall at least 0.9), and a first text is answered in its language (at least 0.97).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "triage_eval.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("triage_eval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["triage_eval"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


@pytest.fixture(scope="module")
def measured(bench: ModuleType) -> tuple[object, str]:
    rows = bench.read(bench.SETS["texts"])
    figures, outcomes = bench.run(rows)
    return figures, bench.misses(rows, outcomes)


def test_the_misses_the_issue_reported_stay_fixed(
    bench: ModuleType, measured: tuple[object, str]
) -> None:
    rows = [row for row in bench.read(bench.SETS["texts"]) if row.id.startswith("issue-")]
    assert len(rows) == 8
    _, misses = measured
    wrong = [line for line in misses.splitlines() if line.startswith("issue-")]
    assert wrong == []


def test_the_set_is_what_the_issue_asks_for(bench: ModuleType) -> None:
    rows = bench.read(bench.SETS["texts"])
    assert len(rows) >= 300
    assert sum(1 for r in rows if r.language == "es") >= len(rows) / 3
    assert len({r.id for r in rows}) == len(rows)
    for row in rows:
        assert row.priority in bench.PRIORITIES, row.id
        assert not row.emergency or row.priority == "urgent", row.id


def test_emergencies_are_recognised_without_crying_wolf(measured: tuple[object, str]) -> None:
    figures, misses = measured
    assert figures.emergency.recall >= 0.95, misses  # type: ignore[attr-defined]
    assert figures.emergency.false_rate <= 0.05, misses  # type: ignore[attr-defined]


def test_the_urgent_are_put_first(measured: tuple[object, str]) -> None:
    figures, misses = measured
    assert figures.urgent.recall >= 0.9, misses  # type: ignore[attr-defined]


def test_children_are_recognised(measured: tuple[object, str]) -> None:
    figures, misses = measured
    assert figures.minor.recall >= 0.9, misses  # type: ignore[attr-defined]


def test_a_first_text_is_answered_in_its_language(measured: tuple[object, str]) -> None:
    figures, misses = measured
    assert figures.language_accuracy >= 0.97, misses  # type: ignore[attr-defined]


def test_the_figures_count_what_they_say(bench: ModuleType) -> None:
    """The arithmetic of the report, on rows whose answers are known."""
    row = bench.Row(
        "x", "t", emergency=True, priority="urgent", minor=False, language="es", kind=""
    )
    calm = bench.Row(
        "y", "t", emergency=False, priority="normal", minor=True, language="en", kind=""
    )
    found = [
        bench.Outcome(emergency=False, priority="urgent", minor=False, language="es"),
        bench.Outcome(emergency=True, priority="high", minor=True, language="es"),
    ]
    figures = bench.evaluate([row, calm], found)
    assert (figures.emergency.hits, figures.emergency.misses, figures.emergency.false) == (0, 1, 1)
    assert figures.emergency.false_rate == 1.0
    assert figures.urgent.recall == 1.0
    assert figures.minor.recall == 1.0 and figures.minor.precision == 1.0
    assert figures.language_accuracy == 0.5
    assert figures.priority_matrix[("normal", "high")] == 1
