"""Each promise in the privacy and security documents names the test that keeps it: every named
test must exist, or the promise points at nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
DOCUMENTS = ("docs/privacy.md", "docs/security.md")


def named_tests(document: str) -> list[tuple[str, str]]:
    return NAMED.findall((ROOT / document).read_text(encoding="utf-8"))


def defined_tests(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_test_a_promise_names_exists(document: str) -> None:
    named = named_tests(document)
    assert named, f"{document} names no test"
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in defined_tests(path)
    ]
    assert missing == []


def test_the_privacy_promises_each_name_their_tests() -> None:
    text = (ROOT / "docs/privacy.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    for section in sections:
        title = section.splitlines()[0]
        if title in ("Keys", "Logs and errors", "Transport", "Who sees what"):
            continue  # each checked elsewhere, or plain advice to operators
        assert NAMED.search(section), f"the section {title!r} names no test"


def test_a_missing_test_is_reported() -> None:
    assert "test_that_does_not_exist" not in defined_tests("tests/test_docs_promises.py")
    assert NAMED.findall("see `tests/test_docs_promises.py::test_that_does_not_exist`") == [
        ("tests/test_docs_promises.py", "test_that_does_not_exist")
    ]
