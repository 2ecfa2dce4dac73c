"""The supervisor API: refused to advocates; board, logs, export, metrics, audit, stepping in."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import Conversation, Event
from hotline.domain.triage import State
from hotline.services.conversation_log import neutralise
from tests.console_client import (
    SUPERVISOR_ENDPOINTS as ENDPOINTS,
)
from tests.console_client import available, post, queued_texter, run, sent, sign_in, staff
from tests.fakes import FakeClock


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def with_advocate(app: Flask, clock: FakeClock, *turns: str) -> tuple[str, int, int]:
    """A texter taken by a new advocate: (phone, conversation id, advocate id)."""
    phone = queued_texter(app, *turns)
    advocate = staff(app)
    client, csrf = sign_in(app, advocate)
    available(client, csrf)
    clock.advance(90)  # waited 90 s
    conversation_id = post(client, csrf, "/console/api/queue/take-next", {}).get_json()[
        "conversation_id"
    ]
    clock.advance(30)
    post(client, csrf, f"/console/api/conversations/{conversation_id}/reply", {"body": "Hello."})
    run(app)
    return phone, conversation_id, advocate.id


def test_advocates_are_refused_every_supervisor_page_and_api(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app))
    for method, path in ENDPOINTS:
        if method == "get":
            response = client.get(path)
        else:
            response = post(client, csrf, path, {"body": "x", "to_staff_id": 1})
        assert response.status_code == 403, path


def test_the_board(app: Flask, clock: FakeClock) -> None:
    _, active_id, advocate_id = with_advocate(app, clock)
    queued_texter(app, "he has a gun")
    client, _ = sign_in(app, staff(app, "supervisor"))
    board = client.get("/supervisor/api/board").get_json()
    assert board["urgent_waiting"] == 1
    assert board["waiting_by_priority"] == {"urgent": 1, "high": 0, "normal": 0}
    mine = next(a for a in board["advocates"] if a["id"] == advocate_id)
    assert [c["id"] for c in mine["active"]] == [active_id] and mine["availability"] == "available"
    assert board["today"]["opened"] == 2 and board["today"]["texts_in"] == 6


def test_logs_filter_and_paginate(app: Flask, clock: FakeClock) -> None:
    for _ in range(3):
        queued_texter(app)
    queued_texter(app, "he has a gun")
    client, _ = sign_in(app, staff(app, "supervisor"))
    urgent = client.get("/supervisor/api/logs?priority=urgent").get_json()
    assert [row["priority"] for row in urgent["items"]] == ["urgent"]
    assert "phone" not in json.dumps(urgent)

    pages, before = [], ""
    while True:
        page = client.get(f"/supervisor/api/logs?{before}").get_json()
        pages.append(page["items"])
        if page["next_before_id"] is None:
            break
        before = f"before_id={page['next_before_id']}"
    assert sum(len(p) for p in pages) == 4
    bad = client.get("/supervisor/api/logs?priority=panic")
    assert bad.status_code == 400 and "priority must be one of" in bad.get_json()["error"]
    assert client.get("/supervisor/api/logs?opened_from=yesterday").status_code == 400


def test_export_never_holds_a_number_and_text_only_when_asked(app: Flask, clock: FakeClock) -> None:
    phone, conversation_id, _ = with_advocate(
        app, clock, "hi", "no", "yes", '=HYPERLINK("http://evil")', "skip"
    )
    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    plain = client.get("/supervisor/api/export?format=csv")
    assert plain.status_code == 200 and "attachment" in plain.headers["Content-Disposition"]
    text = plain.get_data(as_text=True)
    assert phone not in text and phone[2:] not in text and "HYPERLINK" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in rows] == [conversation_id]

    full = post(
        client, csrf, "/supervisor/api/export?format=csv&include_text=1",
        {"reason": "Court order 2026-114 for this conversation"},
    ).get_data(as_text=True)  # fmt: skip
    transcript = next(csv.DictReader(io.StringIO(full)))["transcript"]
    assert 'texter: =HYPERLINK("http://evil")' in transcript
    assert phone not in full
    as_json = json.loads(client.get("/supervisor/api/export?format=json").get_data(as_text=True))
    assert as_json[0]["id"] == conversation_id and "transcript" not in as_json[0]
    with runtime_of(app).sessions() as session:
        exports = session.scalars(select(Event).where(Event.kind == "export")).all()
    assert [e.detail["include_text"] for e in exports] == [False, True, False]
    assert all(e.actor_id == supervisor.id for e in exports)


def test_csv_cells_that_start_a_formula_are_neutralised() -> None:
    assert [neutralise(v) for v in ("=1+1", "+1", "-1", "@SUM", "ok", None, 3)] == [
        "'=1+1", "'+1", "'-1", "'@SUM", "ok", "", "3",
    ]  # fmt: skip


def test_metrics_are_computed(app: Flask, clock: FakeClock) -> None:
    with_advocate(app, clock)
    with_advocate(app, clock)
    client, _ = sign_in(app, staff(app, "supervisor"))
    metrics = client.get("/supervisor/api/metrics").get_json()
    assert metrics["conversations"] == 2
    assert metrics["wait_seconds"]["p50"] == pytest.approx(90, abs=1)
    assert metrics["first_reply_seconds"]["p50"] == pytest.approx(30, abs=1)
    assert metrics["priorities"] == [["normal", 2]]
    assert sum(count for _, count in metrics["per_day"]) == 2
    assert len(metrics["per_advocate"]) == 2


def test_audit_search(app: Flask, clock: FakeClock) -> None:
    with_advocate(app, clock)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)
    client.get("/supervisor/api/export?format=csv")
    found = client.get("/supervisor/api/audit?kind=export").get_json()["items"]
    assert [(e["kind"], e["actor"]) for e in found] == [("export", supervisor.name)]
    sign_ins = client.get(f"/supervisor/api/audit?kind=sign_in&actor_id={supervisor.id}")
    assert len(sign_ins.get_json()["items"]) == 1


def test_note_reassign_and_take_over(app: Flask, clock: FakeClock) -> None:
    _, conversation_id, advocate_id = with_advocate(app, clock)
    colleague = staff(app)
    colleague_client, colleague_csrf = sign_in(app, colleague)
    available(colleague_client, colleague_csrf)
    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    before = len(sent(app))

    noted = post(client, csrf, f"/supervisor/api/conversations/{conversation_id}/note",
                 {"body": "Ask about the passport"})  # fmt: skip
    assert noted.status_code == 200
    run(app)
    assert len(sent(app)) == before  # a note never reaches the texter
    moved = post(client, csrf, f"/supervisor/api/conversations/{conversation_id}/reassign",
                 {"to_staff_id": colleague.id})  # fmt: skip
    assert moved.status_code == 200
    view = colleague_client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert any(
        i["type"] == "note" and i["body"] == "Ask about the passport" for i in view["timeline"]
    )

    taken = post(client, csrf, f"/supervisor/api/conversations/{conversation_id}/take-over", {})
    assert taken.status_code == 200
    reply = post(client, csrf, f"/console/api/conversations/{conversation_id}/reply",
                 {"body": "A supervisor here."})  # fmt: skip
    assert reply.status_code == 200
    run(app)
    assert sent(app)[-1] == "A supervisor here."
    with runtime_of(app).sessions() as session:
        held = session.get(Conversation, conversation_id)
        assert held is not None and held.advocate_id == supervisor.id
        assert held.state is State.WITH_ADVOCATE
        kinds = session.scalars(
            select(Event.kind).where(
                Event.conversation_id == conversation_id, Event.actor_id == supervisor.id
            )
        ).all()
    assert {"supervisor_note", "reassigned", "taken_over"} <= set(kinds)
    assert advocate_id not in (held.advocate_id, colleague.id)


def test_supervisors_manage_quick_replies_and_referrals_at_once(app: Flask) -> None:
    advocate_client, advocate_csrf = sign_in(app, staff(app))
    assert post(advocate_client, advocate_csrf, "/supervisor/api/quick-replies",
                {"language": "es", "title": "x", "body": "y"}).status_code == 403  # fmt: skip
    client, csrf = sign_in(app, staff(app, "supervisor"))

    for payload, error in (
        ({"language": "fr", "title": "Hola", "body": "Hola"}, "language must be one of: en, es"),
        ({"language": "es", "title": "", "body": "Hola"}, "title must be text"),
        ({"language": "es", "title": "Hola", "body": "x" * 641}, "body is at most 640 characters"),
        ({"language": "es", "title": "Hola", "body": "Hola", "extra": 1}, "unknown fields: extra"),
    ):
        refused = post(client, csrf, "/supervisor/api/quick-replies", payload)
        assert refused.status_code == 400 and refused.get_json()["error"] == error
    assert client.get("/supervisor/api/quick-replies").get_json()["items"] == []

    created = post(client, csrf, "/supervisor/api/quick-replies",
                   {"language": "es", "title": "Saludo", "body": "Hola, estoy aqui."})  # fmt: skip
    reply_id = created.get_json()["id"]
    seen = advocate_client.get("/console/api/quick-replies?language=es").get_json()["items"]
    assert [(q["title"], q["body"]) for q in seen] == [("Saludo", "Hola, estoy aqui.")]
    post(client, csrf, f"/supervisor/api/quick-replies/{reply_id}", {"active": False})
    assert advocate_client.get("/console/api/quick-replies?language=es").get_json()["items"] == []
    for path, what in (("quick-replies", "quick reply"), ("referrals", "referral")):
        missing = post(client, csrf, f"/supervisor/api/{path}/{reply_id + 10**6}", {"active": True})
        assert (missing.status_code, missing.get_json()["error"]) == (404, f"no such {what}")

    referral = {
        "name": "Harbor House", "services": "shelter, legal aid", "area": "Denver, CO",
        "phone": "+1 555 010 0199", "hours": "24/7", "language": "English, Spanish",
    }  # fmt: skip
    assert post(client, csrf, "/supervisor/api/referrals", referral).status_code == 200
    found = advocate_client.get("/console/api/referrals?q=shelter").get_json()["items"]
    assert [r["name"] for r in found] == ["Harbor House"]
    # "%" and "_" typed by staff match themselves, not any text.
    assert (
        post(
            client,
            csrf,
            "/supervisor/api/referrals",
            {**referral, "name": "100% Free_Clinic", "services": "clinic"},
        ).status_code
        == 200
    )
    for query, names in (("%", ["100% Free_Clinic"]), ("_", ["100% Free_Clinic"]),
                         ("r_h", []), ("100%25", ["100% Free_Clinic"])):  # fmt: skip
        found = advocate_client.get(f"/console/api/referrals?q={query}").get_json()["items"]
        assert [r["name"] for r in found] == names, query
    language = advocate_client.get("/console/api/referrals?q=&language=%25").get_json()["items"]
    assert language == []
    with runtime_of(app).sessions() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind.in_(
            ["quick_reply_saved", "referral_saved"]))).all()  # fmt: skip
    assert sorted(kinds) == [
        "quick_reply_saved", "quick_reply_saved", "referral_saved", "referral_saved"
    ]  # fmt: skip
