"""Quick replies at the console: filled in for the conversation, the texter's language first,
unknown variables refused when saving and when sending, the language warning, the first-run
introduction and the demo's English/Spanish pairs."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import Message, QuickReply, StaffUser
from hotline.domain.reply_variables import check
from hotline.services.quick_replies import seed_introductions
from tests.console_client import available, post, queued_texter, run, sent, sign_in, staff

SPANISH_TEXTER = ("hola", "no", "si", "necesito ayuda", "Houston")
ENGLISH_TEXTER = ("hi", "no", "yes", "I need help", "skip")  # no place given


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def named(app: Flask, user: StaffUser, display_name: str | None) -> None:
    with runtime_of(app).sessions.begin() as session:
        found = session.get(StaffUser, user.id)
        assert found is not None
        found.display_name = display_name


def add_quick_replies(app: Flask, *entries: tuple[str, str, str]) -> None:
    with runtime_of(app).sessions.begin() as session:
        for language, title, body in entries:
            session.add(QuickReply(language=language, title=title, body=body, active=True))


def holding(app: Flask, *turns: str) -> tuple[FlaskClient, str, StaffUser, int]:
    """An advocate (display name "Ann Lee") holding a new texter's conversation."""
    queued_texter(app, *turns)
    advocate = staff(app)
    named(app, advocate, "Ann Lee")
    client, csrf = sign_in(app, advocate)
    available(client, csrf)
    taken = post(client, csrf, "/console/api/queue/take-next", {})
    assert taken.status_code == 200, taken.get_json()
    return client, csrf, advocate, taken.get_json()["conversation_id"]


def quick_replies(client: FlaskClient, conversation_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/console/api/conversations/{conversation_id}/quick-replies")
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


TEMPLATES = (
    ("en", "Introduction", "Hi, this is {advocate_name}. Services in {location}."),
    ("es", "Presentación", "Hola, le escribe {advocate_name}. Servicios en {location}."),
    ("en", "Ending", "Text {safe_word} to end and delete this chat."),
)


def test_quick_replies_come_filled_in_with_the_texters_language_first(app: Flask) -> None:
    add_quick_replies(app, *TEMPLATES)
    client, _, _, conversation_id = holding(app, *SPANISH_TEXTER)
    place = client.get(f"/console/api/conversations/{conversation_id}").get_json()["location"]
    assert place  # triage learned where the texter is

    items = quick_replies(client, conversation_id)
    assert [(i["language"], i["title"]) for i in items] == [
        ("es", "Presentación"),
        ("en", "Ending"),
        ("en", "Introduction"),
    ]
    assert items[0]["body"] == f"Hola, le escribe Ann. Servicios en {place}."
    assert items[1]["body"] == "Text CLEAR to end and delete this chat."


def test_unknown_values_become_neutral_words_in_the_replys_language(app: Flask) -> None:
    add_quick_replies(app, *TEMPLATES)
    client, _, advocate, conversation_id = holding(app, *ENGLISH_TEXTER)
    named(app, advocate, None)  # no display name: a texter is never told an email

    bodies = {i["title"]: i["body"] for i in quick_replies(client, conversation_id)}
    assert bodies["Introduction"] == "Hi, this is an advocate. Services in your area."
    assert bodies["Presentación"] == "Hola, le escribe una persona de apoyo. Servicios en su zona."
    assert "@" not in " ".join(bodies.values())


def test_switched_off_quick_replies_are_not_offered(app: Flask) -> None:
    add_quick_replies(app, *TEMPLATES)
    with runtime_of(app).sessions.begin() as session:
        for row in session.scalars(select(QuickReply).where(QuickReply.title == "Ending")):
            row.active = False
    client, _, _, conversation_id = holding(app, *ENGLISH_TEXTER)
    assert "Ending" not in [i["title"] for i in quick_replies(client, conversation_id)]


def test_another_advocate_gets_nothing_for_a_conversation_they_do_not_hold(app: Flask) -> None:
    add_quick_replies(app, *TEMPLATES)
    _, _, _, conversation_id = holding(app, *ENGLISH_TEXTER)
    other, other_csrf = sign_in(app, staff(app))
    response = other.get(f"/console/api/conversations/{conversation_id}/quick-replies")
    assert response.status_code == 404
    check_response = post(
        other, other_csrf, f"/console/api/conversations/{conversation_id}/reply-check",
        {"body": "Hello"},
    )  # fmt: skip
    assert check_response.status_code == 404


def test_a_reply_with_a_variable_is_sent_filled_in(app: Flask) -> None:
    client, csrf, _, conversation_id = holding(app, *ENGLISH_TEXTER)
    response = post(
        client, csrf, f"/console/api/conversations/{conversation_id}/reply",
        {"body": "Hi, this is {advocate_name}. Text {safe_word} to end."},
    )  # fmt: skip
    assert response.status_code == 200
    run(app)
    assert sent(app)[-1] == "Hi, this is Ann. Text CLEAR to end."


def test_a_reply_with_an_unknown_variable_is_refused_and_nothing_is_sent(app: Flask) -> None:
    client, csrf, _, conversation_id = holding(app, *ENGLISH_TEXTER)
    before = len(sent(app))
    with runtime_of(app).sessions() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
    response = post(
        client, csrf, f"/console/api/conversations/{conversation_id}/reply",
        {"body": "Hi, this is {advocat_name}."},
    )  # fmt: skip
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "{advocat_name}" in error and "{advocate_name}" in error
    run(app)
    assert len(sent(app)) == before
    with runtime_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == messages


def test_saving_a_quick_reply_with_an_unknown_variable_is_refused(app: Flask) -> None:
    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    good = post(
        client, csrf, "/supervisor/api/quick-replies",
        {"language": "en", "title": "Intro", "body": "Hi, this is {advocate_name}."},
    )  # fmt: skip
    assert good.status_code == 200
    bad = post(
        client, csrf, "/supervisor/api/quick-replies",
        {"language": "en", "title": "Typo", "body": "Hi, this is {name}."},
    )  # fmt: skip
    assert bad.status_code == 400
    assert bad.get_json()["error"].startswith("body holds an unknown variable {name}:")
    changed = post(
        client, csrf, f"/supervisor/api/quick-replies/{good.get_json()['id']}",
        {"body": "Hi from {where}."},
    )  # fmt: skip
    assert changed.status_code == 400
    with runtime_of(app).sessions() as session:
        assert session.scalars(select(QuickReply.body)).all() == ["Hi, this is {advocate_name}."]


@pytest.mark.parametrize(
    ("turns", "draft", "reply_language", "warned"),
    [
        (SPANISH_TEXTER, "Hello, I am here to help you. What happened?", "en", True),
        (SPANISH_TEXTER, "Hola, estoy aquí para ayudarle. ¿Qué pasó?", "es", False),
        (ENGLISH_TEXTER, "Hola, estoy aquí para ayudarle. ¿Qué pasó?", "es", True),
        (ENGLISH_TEXTER, "Hello, I am here to help you.", "en", False),
        (SPANISH_TEXTER, "ok", None, False),  # says nothing: no warning
    ],
)
def test_the_reply_check_warns_when_the_reply_is_in_another_language(
    app: Flask, turns: tuple[str, ...], draft: str, reply_language: str | None, warned: bool
) -> None:
    client, csrf, _, conversation_id = holding(app, *turns)
    response = post(
        client, csrf, f"/console/api/conversations/{conversation_id}/reply-check", {"body": draft}
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["reply_language"] == reply_language
    assert answer["texter_language"] == turns[0].replace("hola", "es").replace("hi", "en")
    if warned:
        assert answer["warning"].startswith("This reply looks like ")
        assert "but this texter writes" in answer["warning"]
    else:
        assert answer["warning"] is None


def test_the_reply_check_refuses_bad_input_and_sends_nothing(app: Flask) -> None:
    client, csrf, _, conversation_id = holding(app, *ENGLISH_TEXTER)
    path = f"/console/api/conversations/{conversation_id}/reply-check"
    before = len(sent(app))
    assert post(client, csrf, path, {"body": 5}).get_json() == {"error": "body must be text"}
    assert post(client, csrf, path, {"body": 5}).status_code == 400
    too_long = post(client, csrf, path, {"body": "a" * 1601})
    assert too_long.status_code == 400
    assert too_long.get_json()["error"] == "a reply is at most 1600 characters"
    run(app)
    assert len(sent(app)) == before


def test_the_first_run_adds_the_introduction_once(app: Flask) -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        assert seed_introductions(session) == 2
    with runtime.sessions.begin() as session:
        assert seed_introductions(session) == 0  # not again, whatever supervisors changed
        rows = session.scalars(select(QuickReply).order_by(QuickReply.language)).all()
        assert [(r.language, r.title) for r in rows] == [
            ("en", "Introduction"),
            ("es", "Presentación"),
        ]
        assert all("{advocate_name}" in r.body for r in rows)


def test_the_demo_quick_replies_are_english_spanish_pairs_with_the_emergency_text() -> None:
    path = Path(__file__).parents[2] / "hotline" / "devtools" / "demo_directory.toml"
    entries = tomllib.loads(path.read_text())["quick_replies"]
    by_language: dict[str, list[str]] = {"en": [], "es": []}
    for entry in entries:
        check(entry["body"])  # every variable exists
        by_language[entry["language"]].append(entry["body"])
    assert len(by_language["en"]) == len(by_language["es"]) >= 4
    assert any("911" in body for body in by_language["en"])
    assert any("911" in body for body in by_language["es"])
