"""Exporting conversations with message text needs a stated reason, audited (issue 15, 13).

The reason is checked and recorded as for revealing a number (``stated_reason``); it travels in
the body of a POST, never in the URL.
"""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Event
from hotline.infra.taskqueue import InProcessQueue
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import (
    create_staff,
    dump,
    post_signed,
    sign_in_client,
    sms_form,
    stated_reason,
)

TEXT = "they took my passport"
REASON = "Court order 2026-114 for this conversation"
WITH_TEXT = "/supervisor/api/export?format=csv&include_text=1"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def a_conversation(app: Flask, clock: FakeClock) -> str:
    phone = new_phone()
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    for body in ("hi", "no", "yes", TEXT, "skip"):
        clock.advance(1)
        assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code
        tasks.run_due()
    return phone


def exports(app: Flask) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == "export")))


def test_exporting_message_text_without_a_reason_is_refused(app: Flask, clock: FakeClock) -> None:
    a_conversation(app, clock)
    client, csrf = sign_in_client(app, create_staff(app, "supervisor"))
    headers = {"X-CSRF-Token": csrf}
    for refused in (
        client.get(WITH_TEXT),  # a GET cannot carry one
        client.post(WITH_TEXT, json={}, headers=headers),
        client.post(WITH_TEXT, json={"reason": None}, headers=headers),
        client.post(WITH_TEXT, json={"reason": "   why?    "}, headers=headers),  # too short
    ):
        assert refused.status_code == 400
        assert refused.get_json() == {
            "error": "state why message text is exported (at least 10 characters)"
        }
        assert TEXT not in refused.get_data(as_text=True)
    bad = client.post(WITH_TEXT, json={"reason": ["a list"]}, headers=headers)
    assert bad.status_code == 400 and bad.get_json() == {"error": "reason must be text"}
    no_csrf = client.post(WITH_TEXT, json={"reason": REASON})
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.get_json()["error"]
    assert exports(app) == []  # nothing exported, nothing recorded


def test_an_export_with_text_and_a_reason_is_audited_like_a_reveal(
    app: Flask, clock: FakeClock
) -> None:
    phone = a_conversation(app, clock)
    supervisor = create_staff(app, "supervisor")
    client, csrf = sign_in_client(app, supervisor)
    response = client.post(
        WITH_TEXT, json={"reason": f"  {REASON}{'.' * 600}  "}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert TEXT in next(csv.DictReader(io.StringIO(text)))["transcript"]
    assert phone not in text and phone[2:] not in text
    [event] = exports(app)
    assert event.actor_id == supervisor.id and event.detail["include_text"] is True
    # Trimmed and cut, as a reveal's; kept apart from the event, encrypted, erasable.
    assert stated_reason(app, event) == (REASON + "." * 600)[:500]
    assert REASON not in str(event.detail)


def test_an_export_without_text_needs_no_reason(app: Flask, clock: FakeClock) -> None:
    a_conversation(app, clock)
    client, csrf = sign_in_client(app, create_staff(app, "supervisor"))
    plain = client.get("/supervisor/api/export?format=json")
    assert plain.status_code == 200 and TEXT not in plain.get_data(as_text=True)
    posted = client.post(
        "/supervisor/api/export?format=json", json={}, headers={"X-CSRF-Token": csrf}
    )
    assert posted.status_code == 200 and TEXT not in posted.get_data(as_text=True)
    assert [(e.detail["include_text"], stated_reason(app, e)) for e in exports(app)] == [
        (False, None),
        (False, None),
    ]


def test_advocates_may_not_export_even_with_a_reason(app: Flask, clock: FakeClock) -> None:
    a_conversation(app, clock)
    client, csrf = sign_in_client(app, create_staff(app))
    refused = client.post(WITH_TEXT, json={"reason": REASON}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and TEXT not in refused.get_data(as_text=True)
    assert exports(app) == []


def test_the_audit_trail_shows_a_stated_reason_while_it_is_kept(
    app: Flask, clock: FakeClock
) -> None:
    """The reason lives apart from the append-only event, encrypted: the audit trail shows it to
    supervisors until the retention period ends, and the event itself stays."""
    a_conversation(app, clock)
    client, csrf = sign_in_client(app, create_staff(app, "supervisor"))
    exported = client.post(WITH_TEXT, json={"reason": REASON}, headers={"X-CSRF-Token": csrf})
    assert exported.status_code == 200

    def shown() -> list[tuple[str, str | None]]:
        items = client.get("/supervisor/api/audit?kind=export").get_json()["items"]
        return [(item["kind"], item["detail"].get("reason")) for item in items]

    assert shown() == [("export", REASON)]
    runtime = runtime_of(app)
    clock.advance((runtime.settings.retention_days + 1) * 86400)
    assert jobs.purge(runtime).reasons == 1
    client, _ = sign_in_client(app, create_staff(app, "supervisor"))
    assert shown() == [("export", None)]
    assert REASON not in dump(app)
