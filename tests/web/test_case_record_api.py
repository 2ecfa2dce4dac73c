"""The case record's HTTP API (issue 20), on SQLite and PostgreSQL: the console's lists and
record (read with its suggestions, replaced, refused with a clear 400 that changes nothing, 404
for whoever may not see it), and the lists supervisors extend (added, relabelled, retired and
restored, audited; advocates refused). Texters come through the signed webhook and the worker.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import CaseOption, Event, Referral
from hotline.services.case_record import CaseLists, CaseRecordView
from tests.conftest import new_phone
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.helpers import conversations_of
from tests.json_shapes import mismatches
from tests.settings_support import call


class Holder:
    """An advocate at the console holding one texter, who told triage ``needs`` and
    ``location``."""

    def __init__(self, app: Flask, needs: str = "I need help", location: str = "skip") -> None:
        self.app = app
        self.phone = queued_texter(app, "hi", "no", "yes", needs, location)
        self.user = staff(app)
        self.client, self.csrf = sign_in(app, self.user)
        available(self.client, self.csrf)
        self.id = conversations_of(app, self.phone)[-1].id
        claimed = post(self.client, self.csrf, f"/console/api/conversations/{self.id}/claim", {})
        assert claimed.status_code == 200, claimed.get_json()
        self.path = f"/console/api/conversations/{self.id}/case-record"


def get_record(client: FlaskClient, path: str, status: int = 200) -> Any:
    response = client.get(path)
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    if status == 200:
        assert mismatches(body, CaseRecordView) == []
    return body


def put_record(client: FlaskClient, csrf: str | None, path: str, payload: Any) -> Any:
    return call(client, "put", path, payload, csrf=csrf)


def referral_id(app: Flask) -> int:
    with runtime_of(app).sessions.begin() as session:
        row = Referral(
            name=f"Shelter {new_phone()[-6:]}", services="shelter", area="Houston",
            phone="555-0101", hours="24/7", language="English, Spanish",
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_the_lists_hold_every_list_with_unknown_last(app: Flask) -> None:
    holder = Holder(app)
    shelter = referral_id(app)
    response = holder.client.get("/console/api/case-lists")
    assert response.status_code == 200
    lists = response.get_json()
    assert mismatches(lists, CaseLists) == []
    assert set(lists["lists"]) == {"kind", "type", "venue", "recruitment", "control"}
    for choices in lists["lists"].values():
        assert choices[-1] == {"code": "unknown", "label": "Unknown"}
    assert lists["lists"]["kind"][0] == {"code": "sex_trafficking", "label": "Sex trafficking"}
    assert shelter in [r["id"] for r in lists["referrals"]]
    assert app.test_client().get("/console/api/case-lists").status_code == 401


def test_the_holder_reads_the_suggestions_confirms_them_and_reads_them_back(app: Flask) -> None:
    holder = Holder(app, "my boss took my passport and I owe him money", "Houston TX")
    shelter = referral_id(app)
    answer = get_record(holder.client, holder.path)
    assert answer["conversation_id"] == holder.id
    assert answer["record"]["kind"] is None and answer["updated_at"] is None
    assert {"document_confiscation", "debt"} <= set(answer["suggested"]["control"])
    assert answer["suggested"]["state"] == "TX"
    assert answer["because"]["control:document_confiscation"] == ["took ... passport (+40)"]
    assert answer["editable"] is True

    record = {
        "kind": "labor_trafficking", "control": answer["suggested"]["control"],
        "state": "TX", "referrals": [shelter], "police_wanted": "no", "police_report": "no",
    }  # fmt: skip
    response = put_record(holder.client, holder.csrf, holder.path, {"record": record})
    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert mismatches(saved, CaseRecordView) == []
    assert set(saved["record"]["control"]) == set(record["control"])
    assert saved["record"]["referrals"] == [shelter]
    assert saved["suggested"] == {}  # all confirmed
    assert saved["updated_by"] == holder.user.name
    assert get_record(holder.client, holder.path) == saved


BAD_BODIES: list[tuple[Any, str]] = [
    ({"record": {"kind": "pimp"}}, "kind: 'pimp' is not one of the list's codes"),
    ({"record": {"control": ["debt", "unknown"]}},
     "control: unknown cannot be chosen with other codes"),
    ({"record": {"police_wanted": "no", "police_report": "yes"}},
     "police_report may be yes only when the texter wanted contact with law enforcement "
     "(police_wanted yes): a report is made with their consent only"),
    ({"record": {"summary": "x"}}, "unknown fields: summary"),
    ({"record": {"referrals": [2_000_000_001]}},
     "referrals: 2000000001 is not in the referral directory"),
    ({"record": "everything"}, "send the record as a JSON object"),
    ({"kind": "unclear"}, 'send {"record": {...}}'),
    ({"record": {}, "extra": 1}, 'send {"record": {...}}'),
    (["record"], "send a JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "message"), BAD_BODIES)
def test_a_bad_record_is_a_400_that_changes_nothing(app: Flask, payload: Any, message: str) -> None:
    holder = Holder(app)
    good = {"record": {"kind": "unclear", "venue": ["hotel_motel"]}}
    assert put_record(holder.client, holder.csrf, holder.path, good).status_code == 200
    before = get_record(holder.client, holder.path)
    response = put_record(holder.client, holder.csrf, holder.path, payload)
    assert (response.status_code, response.get_json()) == (400, {"error": message})
    assert get_record(holder.client, holder.path) == before


def test_whoever_may_not_see_it_gets_404_and_a_change_needs_the_csrf_token(app: Flask) -> None:
    holder = Holder(app)
    other = staff(app)
    client, csrf = sign_in(app, other)
    record = {"record": {"kind": "unclear"}}
    assert get_record(client, holder.path, 404) == {"error": "no such conversation"}
    assert put_record(client, csrf, holder.path, record).status_code == 404
    missing = "/console/api/conversations/2000000000/case-record"
    assert get_record(holder.client, missing, 404) == {"error": "no such conversation"}
    for token in (None, "wrong"):
        response = put_record(holder.client, token, holder.path, record)
        assert response.status_code == 400
    assert app.test_client().get(holder.path).status_code == 401
    assert get_record(holder.client, holder.path)["record"]["kind"] is None

    boss = staff(app, "supervisor")
    boss_client, boss_csrf = sign_in(app, boss)
    response = put_record(boss_client, boss_csrf, holder.path, record)
    assert response.status_code == 200
    assert get_record(holder.client, holder.path)["updated_by"] == boss.name


# -- the lists supervisors extend ---------------------------------------------------------------


def option_events(app: Flask, code: str) -> list[tuple[str, dict[str, Any]]]:
    with runtime_of(app).sessions() as session:
        found = []
        for event in session.scalars(
            select(Event)
            .where(Event.kind.in_(("case_option_added", "case_option_changed")))
            .order_by(Event.id)
        ):
            if (event.detail or {}).get("code") == code:
                found.append((event.kind, dict(event.detail)))
        return found


def option(app: Flask, name: str, code: str) -> tuple[str, bool, int] | None:
    with runtime_of(app).sessions() as session:
        row = session.get(CaseOption, (name, code))
        return None if row is None else (row.label, row.active, row.position)


def test_advocates_may_not_change_the_lists(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app))
    code = f"test_{new_phone()[-8:]}"
    for method, path in (
        ("get", "/supervisor/api/case-options"),
        ("post", "/supervisor/api/case-options"),
        ("patch", "/supervisor/api/case-options/control/debt"),
    ):
        payload = {"list": "venue", "code": code, "label": "X", "active": False}
        assert call(client, method, path, payload, csrf=csrf).status_code == 403, path
    assert option(app, "venue", code) is None
    assert option(app, "control", "debt") == ("Debt bondage or owed money", True, 1)


def test_a_supervisor_adds_relabels_retires_and_restores_an_entry(app: Flask) -> None:
    client, csrf = sign_in(app, staff(app, "supervisor"))
    code = f"test_{new_phone()[-8:]}"
    added = call(
        client, "post", "/supervisor/api/case-options",
        {"list": "venue", "code": code, "label": "Nail  salon"}, csrf=csrf,
    )  # fmt: skip
    assert added.status_code == 200, added.get_json()
    body = added.get_json()
    assert (body["list"], body["code"]) == ("venue", code)
    [entry] = [e for e in body["items"] if e["code"] == code]
    assert entry == {
        "list": "venue", "code": code, "label": "Nail salon", "active": True,
        "position": entry["position"], "uses": 0,
    }  # fmt: skip
    venues = [e for e in body["items"] if e["list"] == "venue"]
    assert entry["position"] == max(e["position"] for e in venues)  # at the end of its list

    # Offered to advocates, and counted once a record holds it.
    holder = Holder(app)
    lists = holder.client.get("/console/api/case-lists").get_json()["lists"]
    assert {"code": code, "label": "Nail salon"} in lists["venue"]
    record = {"record": {"venue": [code]}}
    assert put_record(holder.client, holder.csrf, holder.path, record).status_code == 200
    listed = client.get("/supervisor/api/case-options").get_json()["items"]
    assert [e["uses"] for e in listed if e["code"] == code] == [1]

    path = f"/supervisor/api/case-options/venue/{code}"
    changed = call(client, "patch", path, {"label": "Nail or beauty salon"}, csrf=csrf)
    assert changed.status_code == 200
    assert call(client, "patch", path, {"active": False}, csrf=csrf).status_code == 200
    assert option(app, "venue", code) == ("Nail or beauty salon", False, entry["position"])
    lists = holder.client.get("/console/api/case-lists").get_json()["lists"]
    assert code not in [c["code"] for c in lists["venue"]]
    shown = get_record(holder.client, holder.path)
    assert shown["record"]["venue"] == [code]
    assert shown["labels"] == {f"venue:{code}": "Nail or beauty salon"}
    assert call(client, "patch", path, {"active": True}, csrf=csrf).status_code == 200
    assert option(app, "venue", code) == ("Nail or beauty salon", True, entry["position"])

    assert option_events(app, code) == [
        ("case_option_added", {"list": "venue", "code": code, "label": "Nail salon"}),
        ("case_option_changed", {"list": "venue", "code": code,
                                 "label": {"old": "Nail salon", "new": "Nail or beauty salon"}}),
        ("case_option_changed", {"list": "venue", "code": code,
                                 "active": {"old": True, "new": False}}),
        ("case_option_changed", {"list": "venue", "code": code,
                                 "active": {"old": False, "new": True}}),
    ]  # fmt: skip


BAD_OPTIONS: list[tuple[str, str, Any, int, str]] = [
    ("post", "/supervisor/api/case-options", {"list": "kind", "code": "unknown", "label": "U"},
     400, "unknown is offered in every list already: choose another code"),
    ("post", "/supervisor/api/case-options", {"list": "kind", "code": "sex_trafficking",
     "label": "Again"}, 409, "the kind list has the code sex_trafficking already"),
    ("post", "/supervisor/api/case-options", {"list": "state", "code": "xx", "label": "X"},
     400, "list is one of kind, type, venue, recruitment, control"),
    ("post", "/supervisor/api/case-options", {"list": "venue", "code": "Nail Salon",
     "label": "X"}, 400, "code is 1 to 48 lower-case letters, digits or _, starting with a "
     "letter (e.g. legal_referral)"),
    ("post", "/supervisor/api/case-options", {"list": "venue", "code": "nail", "label": " "},
     400, "label must not be empty"),
    ("post", "/supervisor/api/case-options", {"list": "venue", "code": "nail", "label": "X",
     "active": False}, 400, "unknown fields: active"),
    ("patch", "/supervisor/api/case-options/control/debt", {"code": "debts"},
     400, "unknown fields: code"),
    ("patch", "/supervisor/api/case-options/control/debt", {},
     400, 'send {"label": ...} or {"active": true or false}'),
    ("patch", "/supervisor/api/case-options/control/debt", {"active": "no"},
     400, "active must be true or false"),
    ("patch", "/supervisor/api/case-options/control/no_such_code", {"label": "X"},
     404, "no control entry with code no_such_code"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "payload", "status", "message"), BAD_OPTIONS)
def test_a_bad_change_to_the_lists_is_refused_and_changes_nothing(
    app: Flask, method: str, path: str, payload: Any, status: int, message: str
) -> None:
    client, csrf = sign_in(app, staff(app, "supervisor"))
    before = client.get("/supervisor/api/case-options").get_json()["items"]
    response = call(client, method, path, payload, csrf=csrf)
    assert (response.status_code, response.get_json()) == (status, {"error": message})
    after = client.get("/supervisor/api/case-options").get_json()["items"]
    assert [e for e in after if not e["code"].startswith("test_")] == [
        e for e in before if not e["code"].startswith("test_")
    ]
