"""The settings API: supervisors only, CSRF on every change, bad input refused with nothing
changed, and a change made in the web app reaching a worker's runtime without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.catalogue import lexicon
from hotline.db.models import Event, Message
from hotline.domain.delivery import Direction
from hotline.domain.risk import Priority
from hotline.domain.tuning import lexicon_value
from hotline.infra.taskqueue import InProcessQueue
from hotline.runtime import Runtime, build_runtime
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone, settings_for
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import bodies, conversations_of, messages_of, post_signed, sms_form, texter_of
from tests.settings_support import call, setting, snapshot, supervisor_client

DEFAULT_WELCOME = "Hi, thanks for texting."  # discreet mode is the default
NAMED_WELCOME = "Anti-Trafficking Hotline: hi, thanks for texting."
EVERY_FIELD = {"value": 1, "code": "x1", "label": "x", "name": "x", "active": False}
ENDPOINTS = [
    ("get", "/supervisor/settings"),
    ("get", "/supervisor/api/settings"),
    ("put", "/supervisor/api/settings/capacity"),
    ("delete", "/supervisor/api/settings/capacity"),
    ("get", "/supervisor/api/dispositions"),
    ("post", "/supervisor/api/dispositions"),
    ("post", "/supervisor/api/dispositions/referred"),
    ("get", "/supervisor/api/tags"),
    ("post", "/supervisor/api/tags"),
    ("post", "/supervisor/api/tags/labor"),
]


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    """A database of this test's own: settings apply to every texter, so none may be shared."""
    return clocked_app


# -- who may ----------------------------------------------------------------------------------


def test_advocates_are_refused_every_settings_page_and_api(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app))
    before = snapshot(app)
    for method, path in ENDPOINTS:
        response = call(client, method, path, {"value": 1, "active": False}, csrf=csrf)
        assert response.status_code == 403, path
    assert snapshot(app) == before


def test_strangers_are_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    for method, path in ENDPOINTS:
        response = call(client, method, path, {"value": 1})
        expected = 302 if path == "/supervisor/settings" else 401
        assert response.status_code == expected, path


def test_every_change_needs_the_csrf_token(app: Flask) -> None:
    client, csrf = supervisor_client(app)
    before = snapshot(app)
    for method, path in ENDPOINTS:
        if method == "get":
            continue
        for token in (None, "wrong" + csrf):
            response = call(client, method, path, EVERY_FIELD, csrf=token)
            assert response.status_code == 400, path
            assert "CSRF" in response.get_json()["error"]
    assert snapshot(app) == before


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "payload", "status", "error"),
    [
        ("capacity", {"value": 0}, 400, "capacity must be a whole number from 1 to 50"),
        ("capacity", {"value": "2"}, 400, "capacity must be a number"),
        ("capacity", {"value": None}, 400, "capacity must be a number"),
        ("capacity", {}, 400, 'send {"value": ...}'),
        ("capacity", {"value": 2, "extra": 1}, 400, 'send {"value": ...}'),
        ("capacity", [2], 400, "send a JSON object"),
        ("discreet_mode", {"value": "true"}, 400, "discreet_mode must be true or false"),
        ("wait_update_minutes", {"value": 10_000}, 400,
         "wait_update_minutes must be from 1 to 240 minutes"),
        ("lexicon_es", {"value": {"urgent_at": 60, "high_at": 30, "emergency": [""],
                                  "weights": {}}}, 400, "lexicon_es emergency: a phrase is empty"),
        ("operating_hours", {"value": "weekdays 9-5"}, 400,
         "operating_hours: \u201cweekdays\u201d is not a day: use mon, tue ... sun or daily"),
        ("operating_hours", {"value": "mon 09:00-17:00; mon 12:00-13:00"}, 400,
         "operating_hours: two openings overlap"),
        ("operating_hours", {"value": 9}, 400, "operating_hours must be text"),
        ("timezone", {"value": "Eastern"}, 400,
         "timezone is not a known time zone, e.g. America/New_York"),
        ("voice_number", {"value": "call 911"}, 400,
         "voice_number must be a phone number: digits, spaces, + - ( ) and dots, "
         "at most 20 characters"),
        ("web_address", {"value": "<script>x</script>"}, 400,
         "web_address must be a web address like example.org/help, at most 40 characters"),
        ("unprompted_per_hour", {"value": 7}, 400,
         "unprompted_per_hour must be a whole number from 0 to 6"),
        ("ack_minutes", {"value": 0}, 400, "ack_minutes must be from 1 to 120 minutes"),
        ("keep_place_minutes", {"value": 2000}, 400,
         "keep_place_minutes must be from 1 to 1440 minutes"),
        ("secret_key", {"value": "x"}, 404, "no setting named secret_key"),
        ("database_url", {"value": "sqlite://"}, 404, "no setting named database_url"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_and_nothing_changes(
    app: Flask, path: str, payload: Any, status: int, error: str
) -> None:
    client, csrf = supervisor_client(app)
    before = snapshot(app)
    response = call(client, "put", f"/supervisor/api/settings/{path}", payload, csrf=csrf)
    assert response.status_code == status
    assert response.get_json() == {"error": error}
    assert snapshot(app) == before


def test_reset_of_an_unknown_setting_is_404(app: Flask) -> None:
    client, csrf = supervisor_client(app)
    response = call(client, "delete", "/supervisor/api/settings/nope", csrf=csrf)
    assert response.status_code == 404 and response.get_json() == {"error": "no setting named nope"}


def test_capacity_changes_for_the_next_request_and_resets(app: Flask) -> None:
    client, csrf = supervisor_client(app)
    initial = setting(client, "capacity")
    assert initial == {
        "key": "capacity", "label": "Conversations one advocate may hold at once",
        "help": initial["help"], "kind": "count", "min": 1, "max": 50, "value": 3, "default": 3,
        "overridden": False, "updated_at": None, "updated_by": None,
    }  # fmt: skip
    queued_texter(app)
    queued_texter(app)
    advocate = staff(app)
    advocate_client, advocate_csrf = sign_in(app, advocate)
    available(advocate_client, advocate_csrf)
    assert advocate_client.get("/console/api/me").get_json()["capacity"] == 3

    answer = call(client, "put", "/supervisor/api/settings/capacity", {"value": 1}, csrf=csrf)
    assert answer.status_code == 200
    changed = next(i for i in answer.get_json()["items"] if i["key"] == "capacity")
    supervisor_email = answer.get_json()["history"][0]["actor"]
    assert (changed["value"], changed["default"], changed["overridden"]) == (1, 3, True)
    assert changed["updated_by"] == supervisor_email and changed["updated_at"]
    assert answer.get_json()["history"][0]["detail"] == {
        "key": "capacity", "old": 3, "new": 1, "was_default": True,
    }  # fmt: skip

    # The advocate's very next request has the new limit: one texter, and no second.
    assert advocate_client.get("/console/api/me").get_json()["capacity"] == 1
    assert (
        post(advocate_client, advocate_csrf, "/console/api/queue/take-next", {}).status_code == 200
    )
    refused = post(advocate_client, advocate_csrf, "/console/api/queue/take-next", {})
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "you already have 1 active conversations: close one first"

    reset = call(client, "delete", "/supervisor/api/settings/capacity", csrf=csrf)
    assert reset.status_code == 200
    assert setting(client, "capacity")["value"] == 3
    assert not setting(client, "capacity")["overridden"]
    assert (
        post(advocate_client, advocate_csrf, "/console/api/queue/take-next", {}).status_code == 200
    )
    history = client.get("/supervisor/api/settings").get_json()["history"]
    assert [(h["kind"], h["detail"]) for h in history[:2]] == [
        ("setting_reset", {"key": "capacity", "old": 1, "new": 3}),
        ("setting_changed", {"key": "capacity", "old": 3, "new": 1, "was_default": True}),
    ]


def test_the_settings_answer_lists_every_knob_with_its_default(app: Flask) -> None:
    client, _ = supervisor_client(app)
    items = {i["key"]: i for i in client.get("/supervisor/api/settings").get_json()["items"]}
    assert set(items) == {
        "capacity", "discreet_mode", "triage_timeout_minutes", "wait_update_minutes",
        "check_in_after_minutes", "check_in_timeout_minutes", "survey_timeout_minutes",
        "operating_hours", "timezone", "voice_number", "web_address", "unprompted_per_hour",
        "ack_minutes", "keep_place_minutes", "lexicon_en", "lexicon_es", "reopen_minutes",
        "transfer_accept_minutes", "urgent_wait_alert_minutes", "unanswered_alert_minutes",
    }  # fmt: skip
    assert items["discreet_mode"]["value"] is True
    assert items["triage_timeout_minutes"]["default"] == 15.0
    assert items["lexicon_en"]["value"] == lexicon_value(lexicon("en"))
    assert items["lexicon_en"]["value"]["weights"]["locked in"] == 60


# -- dispositions and tags ------------------------------------------------------------------------


def test_a_disposition_added_by_a_supervisor_closes_a_conversation_until_retired(
    app: Flask,
) -> None:
    client, csrf = supervisor_client(app)
    queued_texter(app)
    queued_texter(app)
    advocate_client, advocate_csrf = sign_in(app, staff(app))
    available(advocate_client, advocate_csrf)

    added = call(client, "post", "/supervisor/api/dispositions",
                 {"code": "legal_aid", "label": "Referred to legal aid"}, csrf=csrf)  # fmt: skip
    assert added.status_code == 200 and added.get_json()["code"] == "legal_aid"
    offered = advocate_client.get("/console/api/dispositions").get_json()["items"]
    assert {"code": "legal_aid", "label": "Referred to legal aid"} in offered
    first = post(advocate_client, advocate_csrf, "/console/api/queue/take-next", {}).get_json()
    closed = post(advocate_client, advocate_csrf,
                  f"/console/api/conversations/{first['conversation_id']}/close",
                  {"disposition": "legal_aid", "confirmed": True})  # fmt: skip
    assert closed.status_code == 200

    retired = call(client, "post", "/supervisor/api/dispositions/legal_aid", {"active": False},
                   csrf=csrf)  # fmt: skip
    assert retired.status_code == 200
    row = next(d for d in retired.get_json()["items"] if d["code"] == "legal_aid")
    assert row == {
        "code": "legal_aid",
        "label": "Referred to legal aid",
        "active": False,
        "uses": 1,
    }
    offered = advocate_client.get("/console/api/dispositions").get_json()["items"]
    assert "legal_aid" not in [d["code"] for d in offered]
    second = post(advocate_client, advocate_csrf, "/console/api/queue/take-next", {}).get_json()
    refused = post(advocate_client, advocate_csrf,
                   f"/console/api/conversations/{second['conversation_id']}/close",
                   {"disposition": "legal_aid"})  # fmt: skip
    assert refused.status_code == 409
    assert refused.get_json() == {"error": "choose a disposition to close"}


@pytest.mark.parametrize(
    ("path", "payload", "status", "error"),
    [
        ("/supervisor/api/dispositions", {"code": "Bad Code", "label": "x"}, 400,
         "code is 1 to 48 lower-case letters, digits or _, starting with a letter "
         "(e.g. legal_referral)"),
        ("/supervisor/api/dispositions", {"code": "ok", "label": ""}, 400,
         "label must not be empty"),
        ("/supervisor/api/dispositions", {"code": "referred", "label": "x"}, 409,
         "a disposition with code referred exists already: change that one"),
        ("/supervisor/api/dispositions/referred", {"label": 5}, 400, "label must be text"),
        ("/supervisor/api/dispositions/referred", {"active": "no"}, 400,
         "active must be true or false"),
        ("/supervisor/api/dispositions/referred", {"code": "other"}, 400,
         "unknown fields: code"),
        ("/supervisor/api/dispositions/nope", {"active": False}, 404,
         "no disposition with code nope"),
        ("/supervisor/api/tags", {"name": "<b>"}, 400,
         "a tag is 1 to 40 letters, digits, spaces, - or _"),
        ("/supervisor/api/tags", {"name": "LABOR"}, 409,
         "the tag \u201clabor\u201d is on the list already"),
        ("/supervisor/api/tags/labor", {}, 400,
         "active is required (true to restore, false to retire)"),
        ("/supervisor/api/tags/nope", {"active": False}, 404, "no tag named \u201cnope\u201d"),
    ],
)  # fmt: skip
def test_a_bad_list_change_is_refused_and_nothing_changes(
    app: Flask, path: str, payload: dict[str, Any], status: int, error: str
) -> None:
    client, csrf = supervisor_client(app)
    before = snapshot(app)
    response = call(client, "post", path, payload, csrf=csrf)
    assert response.status_code == status
    assert response.get_json() == {"error": error}
    assert snapshot(app) == before


def test_advocates_tag_only_from_the_list_the_supervisors_keep(app: Flask) -> None:
    client, csrf = supervisor_client(app)
    queued_texter(app)
    advocate_client, advocate_csrf = sign_in(app, staff(app))
    available(advocate_client, advocate_csrf)
    conversation_id = post(advocate_client, advocate_csrf, "/console/api/queue/take-next",
                           {}).get_json()["conversation_id"]  # fmt: skip
    tag_path = f"/console/api/conversations/{conversation_id}/tags"

    refused = post(advocate_client, advocate_csrf, tag_path, {"tag": "Wage Theft"})
    assert refused.status_code == 409
    assert refused.get_json()["error"] == (
        "\u201cwage theft\u201d is not on the tag list: choose one of the suggested tags "
        "(supervisors keep the list on the settings page)"
    )
    assert "wage theft" not in advocate_client.get("/console/api/tags").get_json()["items"]

    added = call(client, "post", "/supervisor/api/tags", {"name": "Wage Theft"}, csrf=csrf)
    assert added.status_code == 200 and added.get_json()["name"] == "wage theft"
    assert "wage theft" in advocate_client.get("/console/api/tags").get_json()["items"]
    assert post(advocate_client, advocate_csrf, tag_path, {"tag": "wage theft"}).status_code == 200

    call(client, "post", "/supervisor/api/tags/labor", {"active": False}, csrf=csrf)
    assert "labor" not in advocate_client.get("/console/api/tags").get_json()["items"]
    assert post(advocate_client, advocate_csrf, tag_path, {"tag": "labor"}).status_code == 409
    view = advocate_client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert view["tags"] == ["wage theft"]


# -- the worker's side --------------------------------------------------------------------------


@pytest.fixture
def worker(isolated_database_url: str, clock: FakeClock) -> Iterator[Runtime]:
    """The runtime a Celery worker builds for itself: same database, nothing shared with the
    web app's process (its own engine, tuner, task queue and sender)."""
    runtime = build_runtime(
        settings_for(isolated_database_url),
        tasks=InProcessQueue(start=False),
        sender=LocalSender(clock.now),
        clock=clock,
    )
    jobs.attach(runtime)
    yield runtime
    runtime.engine.dispose()


def text_through_worker(app: Flask, worker: Runtime, phone: str, body: str) -> None:
    """The webhook stores the text in the web app; the worker (not the web app) processes it,
    exactly as ``workers.tasks.process_inbound`` would."""
    clock = runtime_of(app).clock
    assert isinstance(clock, FakeClock)
    clock.advance(1)
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    texter = texter_of(app, phone)
    assert texter is not None
    with worker.sessions() as session:
        pending = session.scalars(
            select(Message.id).where(
                Message.texter_id == texter.id,
                Message.direction == Direction.INBOUND,
                Message.processed_at.is_(None),
            )
        ).all()
    assert len(pending) == 1
    jobs.process_inbound(worker, pending[0])


def test_discreet_mode_set_in_the_web_app_reaches_a_running_worker(
    app: Flask, worker: Runtime
) -> None:
    before = new_phone()
    text_through_worker(app, worker, before, "hi")  # the worker is up and has tuned itself
    assert bodies(app, messages_of(app, before))[1].startswith(DEFAULT_WELCOME)

    client, csrf = supervisor_client(app)
    put = call(client, "put", "/supervisor/api/settings/discreet_mode", {"value": False}, csrf=csrf)
    assert put.status_code == 200

    after = new_phone()
    text_through_worker(app, worker, after, "hi")
    assert bodies(app, messages_of(app, after))[1].startswith(NAMED_WELCOME)

    call(client, "delete", "/supervisor/api/settings/discreet_mode", csrf=csrf)
    again = new_phone()
    text_through_worker(app, worker, again, "hi")
    assert bodies(app, messages_of(app, again))[1].startswith(DEFAULT_WELCOME)


def test_a_lexicon_weight_set_in_the_web_app_reaches_a_running_worker(
    app: Flask, worker: Runtime
) -> None:
    turns = ("hi", "no", "yes", "I owe them", "TX")
    before = new_phone()
    for body in turns:
        text_through_worker(app, worker, before, body)
    assert conversations_of(app, before)[0].priority is Priority.NORMAL

    client, csrf = supervisor_client(app)
    value = lexicon_value(lexicon("en"))
    value["weights"]["owe"] = 70
    put = call(client, "put", "/supervisor/api/settings/lexicon_en", {"value": value}, csrf=csrf)
    assert put.status_code == 200
    assert put.get_json()["history"][0]["detail"]["weights_changed"] == {"owe": [15, 70]}

    after = new_phone()
    for body in turns:
        text_through_worker(app, worker, after, body)
    conversation = conversations_of(app, after)[0]
    assert conversation.priority is Priority.URGENT
    assert conversation.risk_reasons == ["owe (+70)"]


def test_opening_hours_are_set_at_run_time_told_to_the_next_texter_and_audited(
    app: Flask,
) -> None:
    client, csrf = supervisor_client(app)
    for key, value in (
        ("operating_hours", " MON-fri 9:00-17:00 ;sat 10:00-14:00 "),
        ("timezone", "America/Chicago"),
        ("voice_number", " 1-888-373-7888 "),
        ("web_address", "https://example.org/help"),
    ):
        response = call(client, "put", f"/supervisor/api/settings/{key}", {"value": value},
                        csrf=csrf)  # fmt: skip
        assert response.status_code == 200, response.get_json()
    items = {i["key"]: i for i in client.get("/supervisor/api/settings").get_json()["items"]}
    assert items["operating_hours"]["value"] == "mon-fri 09:00-17:00; sat 10:00-14:00"
    assert items["operating_hours"]["default"] == ""  # always open
    assert items["operating_hours"]["kind"] == "text" and items["operating_hours"]["example"]
    assert items["voice_number"]["value"] == "1-888-373-7888"
    assert items["web_address"]["value"] == "example.org/help"
    assert items["timezone"]["value"] == "America/Chicago"

    phone = queued_texter(app, "hi", "no", "yes", "I need a lawyer", "skip")
    # Monday 23 November, 6am in Chicago: closed until 9. Discreet mode (the default) leaves
    # the web address out of waiting texts: it would usually name the organisation.
    assert bodies(app, messages_of(app, phone))[-1] == (
        "We are closed. Advocates answer Mon-Fri 9am-5pm, Sat 10am-2pm CST; we open today 9am. "
        "You keep your place in line (number 1). If you are in danger, call 911. You can also "
        "call 1-888-373-7888. Reply STOP to opt out."
    )
    with runtime_of(app).sessions() as session:
        changed = session.scalars(
            select(Event).where(Event.kind == "setting_changed").order_by(Event.id)
        ).first()
    assert changed is not None and changed.detail == {
        "key": "operating_hours", "old": "", "new": "mon-fri 09:00-17:00; sat 10:00-14:00",
        "was_default": True,
    }  # fmt: skip
    response = call(client, "delete", "/supervisor/api/settings/operating_hours", csrf=csrf)
    assert response.status_code == 200
    items = {i["key"]: i for i in response.get_json()["items"]}
    assert items["operating_hours"]["value"] == "" and not items["operating_hours"]["overridden"]
