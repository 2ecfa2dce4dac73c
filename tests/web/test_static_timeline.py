"""The timeline written once: hotline/static/timeline.js, the ES module that the console, the
supervisor's viewer and the quality review render a conversation's timeline with.

Its delivery status labels must name every DeliveryStatus and nothing else, it must be served
as JavaScript (a browser refuses a module of any other type), and every page script importing
it must be loaded as a module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask

import hotline
from hotline.domain.delivery import DeliveryStatus

PACKAGE = Path(hotline.__file__).resolve().parent
STATIC = PACKAGE / "static"
TEMPLATES = PACKAGE / "templates"
MODULE = STATIC / "timeline.js"
# What an HTML page accepts as a module script's type (the WHATWG "JavaScript MIME type" list
# has more, but these are the two a server sends for .js).
JAVASCRIPT_TYPES = {"text/javascript", "application/javascript"}

TABLE = re.compile(
    r"^export const STATUS_LABELS = Object\.freeze\(\{\n(?P<body>.*?)\n\}\);$", re.M | re.S
)
ENTRY = re.compile(r'^  (?P<status>[a-z_]+): "(?P<label>[^"\\]+)",$')
IMPORT = re.compile(r'^import \{[^}]*\} from "\./timeline\.js";$', re.M)


def status_labels() -> list[tuple[str, str]]:
    """The module's STATUS_LABELS table, entry by entry, as written."""
    found = TABLE.search(MODULE.read_text(encoding="utf-8"))
    assert found, "timeline.js has no `export const STATUS_LABELS = Object.freeze({ ... });`"
    entries = []
    for line in found["body"].splitlines():
        entry = ENTRY.match(line)
        # Every line is an entry: nothing is skipped unread (a comment, a quoted key).
        assert entry, f'not a `status: "label",` line in STATUS_LABELS: {line!r}'
        entries.append((entry["status"], entry["label"]))
    return entries


def test_the_status_labels_are_the_delivery_statuses_exactly() -> None:
    statuses = [status for status, _ in status_labels()]

    assert len(statuses) == len(set(statuses)), "a status is labelled twice"
    assert set(statuses) == {status.value for status in DeliveryStatus}


def test_the_status_labels_say_what_staff_read() -> None:
    labels = dict(status_labels())

    assert labels["delivered"] == "delivered"
    assert labels["undelivered"] == "not delivered"
    assert labels["pending"] == "waiting to send"
    assert labels["canceled"] == "not sent"


def test_the_timeline_module_is_served_as_javascript(
    make_app: Callable[..., Flask], sqlite_url: str
) -> None:
    client = make_app(sqlite_url).test_client()

    with client.get("/static/timeline.js") as answer:
        assert answer.status_code == 200
        assert answer.mimetype in JAVASCRIPT_TYPES
        assert answer.get_data() == MODULE.read_bytes()


def test_the_console_supervisor_and_reviews_scripts_render_through_the_module() -> None:
    importers = {path.name for path in STATIC.glob("*.js") if IMPORT.search(path.read_text())}

    assert {"console.js", "supervisor.js", "reviews.js"} <= importers


def test_every_script_importing_the_module_is_loaded_as_a_module() -> None:
    importers = {path.name for path in STATIC.glob("*.js") if IMPORT.search(path.read_text())}
    tags = [
        (template.name, tag)
        for template in TEMPLATES.glob("*.html")
        for tag in re.findall(r"<script[^>]*>", template.read_text(encoding="utf-8"))
    ]

    loaded: dict[str, list[tuple[str, str]]] = {name: [] for name in importers}
    for template, tag in tags:
        for name in importers:
            if f"filename='{name}'" in tag:
                loaded[name].append((template, tag))
    # A module may also come in through another module's `import ... from "./name.js"`.
    imported = {
        found
        for path in STATIC.glob("*.js")
        for found in re.findall(r'from "\./([\w-]+\.js)"', path.read_text())
    }
    for name, places in loaded.items():
        assert places or name in imported, f"{name} is loaded by no template and no module"
        for template, tag in places:
            # A classic script cannot `import`; a module is deferred already.
            assert 'type="module"' in tag and "defer" not in tag, (template, tag)


def test_the_timeline_builds_text_never_markup() -> None:
    # The code without its comments (which name what it never uses).
    script = re.sub(r"/\*.*?\*/|//[^\n]*", "", MODULE.read_text(encoding="utf-8"), flags=re.S)

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
