"""Every JSON answer fits the type its view declares (``@answers``, :mod:`hotline.web.answers`).

One day of the hotline is played through every JSON route, on each database, with real data:
texters (through the simulator, whose texts reach the real webhook), advocates, a supervisor,
an admin, a quality review. Each answer is checked against its declared type, key for key
(:mod:`tests.json_shapes`); the test fails on a JSON route that declares no type, on a declared
route the day does not call, and on an answer type no answer ever filled (an empty list checks
nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, NotRequired, TypedDict

import pyotp
import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server

from hotline import runtime_of
from hotline.db.models import Conversation, Event, StaffUser
from hotline.devtools.simulated import SimulatedCarrier
from hotline.devtools.simulator import CSRF_HEADER as SIMULATOR_CSRF_HEADER
from hotline.domain.review import RUBRIC
from hotline.services import review
from hotline.services.answers import IsoTime, JsonValue
from hotline.settings import Mode
from hotline.web.answers import answer_type
from tests.conftest import TEST_AUTH_TOKEN
from tests.console_client import queued_texter, run, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import conversations_of
from tests.json_shapes import mismatches, typed_dicts
from tests.support.stack import free_port

# Files to save, not answers the pages read: a CSV or JSON export for a spreadsheet.
DOWNLOADS = {"supervisor.export"}


@pytest.fixture
def app(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> Iterator[Flask]:
    """A development-mode app (so with the simulator), served on a local port: the simulator's
    texts go to its real webhook. Its own database, and a clock the test moves."""
    port = free_port()
    carrier = SimulatedCarrier(TEST_AUTH_TOKEN, clock.now, timeline=())
    app = make_app(
        isolated_database_url,
        clock=clock,
        sender=carrier,
        settings_overrides={"mode": Mode.DEVELOPMENT, "public_url": f"http://127.0.0.1:{port}"},
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield app
    finally:
        carrier.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Answers:
    """Calls routes and checks each JSON answer against the type its view declares."""

    app: Flask
    checked: set[str] = field(default_factory=set)  # endpoints whose answers were checked
    seen: set[type] = field(default_factory=set)  # answer types some answer filled
    answered_json: set[str] = field(default_factory=set)  # every endpoint that answered JSON

    def __post_init__(self) -> None:
        @self.app.after_request
        def note_json(response: Response) -> Response:
            # Whoever made the request (a helper too): a JSON answer must come from a declared
            # view. Downloads and refusals are not answers.
            attachment = "attachment" in response.headers.get("Content-Disposition", "")
            if response.is_json and response.status_code < 400 and not attachment:
                self.answered_json.add(str(request.endpoint))
            return response

    def call(
        self,
        client: FlaskClient,
        method: str,
        path: str,
        payload: Any = None,
        *,
        csrf: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {**(headers or {}), **({"X-CSRF-Token": csrf} if csrf else {})}
        response = client.open(path, method=method, json=payload, headers=sent)
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        endpoint = self.endpoint(method, path)
        shape = answer_type(self.app.view_functions[endpoint])
        assert shape is not None, f"{endpoint} answers JSON and declares no answer type"
        assert response.is_json, (endpoint, response.content_type)
        body = response.get_json()
        problems = mismatches(body, shape, self.seen)
        assert not problems, (endpoint, problems)
        self.checked.add(endpoint)
        return body

    def endpoint(self, method: str, path: str) -> str:
        found, _ = self.app.url_map.bind("localhost").match(path.split("?")[0], method=method)
        return str(found)


@dataclass
class Signed:
    client: FlaskClient
    csrf: str
    user: StaffUser


def signed_in(app: Flask, role: str = "advocate") -> Signed:
    user = staff(app, role)
    client, csrf = sign_in(app, user)
    return Signed(client, csrf, user)


def conversation_of(app: Flask, conversation_id: int) -> Conversation:
    with runtime_of(app).sessions() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        return found


def newest_alert(app: Flask) -> int:
    with runtime_of(app).sessions() as session:
        found = session.scalar(
            select(Event.id)
            .where(Event.kind == "alert", Event.actor_id.is_(None))  # the worker's, not a request
            .order_by(Event.id.desc())
            .limit(1)
        )
        assert found is not None
        return found


def newest_conversation(app: Flask) -> int:
    with runtime_of(app).sessions() as session:
        found = session.scalar(select(func.max(Conversation.id)))
        assert found is not None
        return int(found)


def conversation_id_of_phone(queue: dict[str, Any], app: Flask, number: str) -> int:
    """The id of the conversation of the texter at ``number``, which the queue lists."""
    wanted = conversations_of(app, number)[-1].id
    assert wanted in [item["id"] for item in queue["items"]]
    return wanted


def started_two_factor(app: Flask, user_id: int) -> None:
    """The account began setting up two-factor sign-in (a key is pending), so there is one to
    reset."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        user.totp_pending_ciphertext = runtime.vault.encrypt(pyotp.random_base32())


def test_every_json_answer_fits_its_declared_type(app: Flask, clock: FakeClock) -> None:
    answers = Answers(app)
    call = answers.call

    # -- a texter on the simulator ----------------------------------------------------------
    simulator = app.test_client()
    token = call(simulator, "GET", "/simulator/api/csrf")["csrf_token"]
    sim = {SIMULATOR_CSRF_HEADER: token}
    phone = call(simulator, "POST", "/simulator/api/phones", {}, headers=sim, status=201)
    again = call(
        simulator, "POST", "/simulator/api/phones", {"number": phone["number"]}, headers=sim
    )
    assert again == phone
    texts = f"/simulator/api/phones/{phone['id']}/texts"
    for turn in ("hi", "no", "yes", "I need help, they took my passport", "skip"):
        clock.advance(1)
        call(simulator, "POST", texts, {"body": turn}, headers=sim, status=201)
        run(app)
    call(simulator, "POST", f"/simulator/api/phones/{phone['id']}/replay", headers=sim)
    call(simulator, "GET", "/simulator/api/phones")

    # -- more texters: one in danger (an alert), one who waits ------------------------------
    queued_texter(app, "he has a gun")
    waiting_phone = queued_texter(app)
    assert waiting_phone

    # -- a supervisor keeps the lists advocates choose from ---------------------------------
    boss = signed_in(app, "supervisor")

    def as_boss(method: str, path: str, payload: Any = None, **kw: Any) -> Any:
        return call(boss.client, method, path, payload, csrf=boss.csrf, **kw)

    saved = as_boss(
        "POST", "/supervisor/api/quick-replies",
        {"language": "en", "title": "Shape", "body": "We are here for you."},
    )  # fmt: skip
    as_boss("POST", f"/supervisor/api/quick-replies/{saved['id']}", {"title": "Shape test"})
    as_boss("GET", "/supervisor/api/quick-replies")
    referral = {
        "name": "Shape Legal Aid", "services": "immigration law", "area": "Springfield",
        "phone": "555-0100", "hours": "9-5", "language": "English, Spanish",
    }  # fmt: skip
    saved = as_boss("POST", "/supervisor/api/referrals", referral)
    as_boss("POST", f"/supervisor/api/referrals/{saved['id']}", {"hours": "9-6"})
    as_boss("GET", "/supervisor/api/referrals")
    as_boss("GET", "/supervisor/api/settings")
    as_boss("PUT", "/supervisor/api/settings/capacity", {"value": 4})
    as_boss("DELETE", "/supervisor/api/settings/capacity")
    as_boss("POST", "/supervisor/api/settings/lexicon/try", {"text": "they took my passport"})
    as_boss("GET", "/supervisor/api/dispositions")
    as_boss("POST", "/supervisor/api/dispositions", {"code": "shape_test", "label": "Shape"})
    as_boss("POST", "/supervisor/api/dispositions/shape_test", {"label": "Shape test"})
    as_boss("GET", "/supervisor/api/tags")
    as_boss("POST", "/supervisor/api/tags", {"name": "shape-test"})
    as_boss("POST", "/supervisor/api/tags/shape-test", {"active": False})
    as_boss("GET", "/supervisor/api/case-options")
    venue = {"list": "venue", "code": "shape_test", "label": "Shape"}
    as_boss("POST", "/supervisor/api/case-options", venue)
    as_boss("PATCH", "/supervisor/api/case-options/venue/shape_test", {"label": "Shape test"})

    # -- two advocates at their consoles ----------------------------------------------------
    ann, ben = signed_in(app), signed_in(app)

    def as_ann(method: str, path: str, payload: Any = None, **kw: Any) -> Any:
        return call(ann.client, method, path, payload, csrf=ann.csrf, **kw)

    for someone in (ann, ben):
        available = {"availability": "available"}
        call(someone.client, "POST", "/console/api/availability", available, csrf=someone.csrf)
    as_ann("GET", "/console/api/me")
    queue = as_ann("GET", "/console/api/queue")
    first_id = conversation_id_of_phone(queue, app, phone["number"])
    urgent_id = as_ann("POST", "/console/api/queue/take-next", {})["conversation_id"]
    assert conversation_of(app, urgent_id).priority.value == "urgent"
    as_ann("POST", f"/console/api/conversations/{first_id}/claim", {})
    conversation = f"/console/api/conversations/{first_id}"
    as_ann("POST", f"{conversation}/read", {})
    as_ann("POST", f"{conversation}/reply", {"body": "Hello, I am here to help."})
    run(app)
    as_ann("POST", f"{conversation}/notes", {"body": "Asked about documents."})
    as_ann("POST", f"{conversation}/tags", {"tag": "labor"})
    as_ann("GET", conversation)
    as_ann("GET", "/console/api/quick-replies?language=en")
    as_ann("GET", f"{conversation}/quick-replies")
    as_ann("POST", f"{conversation}/reply-check", {"body": "Hola, estoy aquí para ayudarle."})
    as_ann("GET", "/console/api/referrals?q=legal")
    as_ann("GET", "/console/api/dispositions")
    as_ann("GET", "/console/api/tags")
    as_ann("GET", "/console/api/case-lists")
    as_ann("GET", f"{conversation}/case-record")  # with the passport's suggestion
    record = {"kind": "unclear", "venue": ["shape_test"], "referrals": [saved["id"]]}
    as_ann("PUT", f"{conversation}/case-record", {"record": record})
    as_ann("GET", "/console/api/advocates")
    as_ann("GET", f"/console/api/poll?conversations={first_id},{urgent_id}")
    as_ann("GET", "/console/api/idle")
    as_ann("POST", "/console/api/still-here", {})

    def as_ben(method: str, path: str, payload: Any = None, **kw: Any) -> Any:
        return call(ben.client, method, path, payload, csrf=ben.csrf, **kw)

    # A warm transfer: offered, withdrawn, offered and declined, offered and accepted.
    urgent = f"/console/api/conversations/{urgent_id}"
    offer = {"to_advocate_id": ben.user.id, "note": "Over to you."}
    as_ann("POST", f"{urgent}/transfer", offer)
    as_ann("POST", f"{urgent}/transfer/withdraw", {})
    as_ann("POST", f"{urgent}/transfer", offer)
    as_ben("POST", f"{urgent}/transfer/decline", {})
    as_ann("POST", f"{urgent}/transfer", offer)
    assert as_ben("GET", "/console/api/transfer-offers")["received"]
    sent_and_back = as_ann("GET", "/console/api/transfer-offers")
    assert sent_and_back["sent"] and sent_and_back["returned"]
    as_ben("POST", f"{urgent}/transfer/accept", {})
    asked = as_ann("POST", f"{conversation}/ask-supervisor", {"reason": "Unsure about shelter"})
    as_boss("GET", "/supervisor/api/alerts")  # with the request for help in it
    as_boss("POST", f"/supervisor/api/alerts/{asked['alert_id']}/answer", {"answer": "Call me."})
    closing = {"disposition": "referred", "summary": "Referred.", "confirmed": True}
    as_ann("POST", f"{conversation}/close", closing)
    as_ann("POST", f"{conversation}/reopen", {})
    as_ann("POST", f"{conversation}/close", closing)
    as_ann("POST", "/console/api/cases", {"query": "referred"})
    call(simulator, "GET", f"/simulator/api/phones/{phone['id']}/messages")

    # -- the supervisor watches, and steps in -----------------------------------------------
    as_boss("GET", "/supervisor/api/board")
    as_boss("GET", "/supervisor/api/alerts")
    as_boss("POST", f"/supervisor/api/alerts/{newest_alert(app)}/acknowledge", {})
    as_boss("GET", "/supervisor/api/logs")
    as_boss("GET", "/supervisor/api/metrics")
    as_boss("GET", "/supervisor/api/audit")
    as_boss("GET", "/supervisor/api/staff")
    stepping_in = f"/supervisor/api/conversations/{urgent_id}"
    as_boss("POST", f"{stepping_in}/note", {"body": "Check for a safe place."})
    call(ann.client, "GET", "/console/api/poll")  # Ann's console is there: she can take it
    as_boss("POST", f"{stepping_in}/reassign", {"to_staff_id": ann.user.id})
    as_ann("GET", "/console/api/queue")  # hers again, with the supervisor's note: alerts
    as_boss("POST", f"{stepping_in}/take-over", {})
    assert as_ann("GET", "/console/api/queue")["lost"]  # taken from her, explained
    as_ann("POST", f"/console/api/conversations/{urgent_id}/wrap-up", {"note": "Went well."})
    as_ann("POST", f"/console/api/conversations/{urgent_id}/dismiss", {})
    as_boss(
        "POST", f"/console/api/conversations/{urgent_id}/reveal-number",
        {"reason": "a welfare check the texter asked for"},
    )  # fmt: skip
    # The first texter comes back: their new conversation shows the earlier one.
    call(simulator, "POST", texts, {"body": "hi again"}, headers=sim, status=201)
    run(app)
    returned = as_boss("GET", f"/console/api/conversations/{newest_conversation(app)}")
    assert [c["id"] for c in returned["earlier"]] == [first_id]
    as_boss("GET", f"/console/api/past-conversations/{first_id}")
    waiting_id = conversation_id_of_phone(as_ann("GET", "/console/api/queue"), app, waiting_phone)
    as_boss(
        "POST", f"/console/api/conversations/{waiting_id}/erase-texter",
        {"reason": "the texter asked us by phone to erase everything"},
    )  # fmt: skip

    # -- the admin manages accounts -----------------------------------------------------------
    admin = signed_in(app, "admin")

    def as_admin(method: str, path: str, payload: Any = None, **kw: Any) -> Any:
        return call(admin.client, method, path, payload, csrf=admin.csrf, **kw)

    as_admin("GET", "/supervisor/api/staff-accounts")
    created = as_admin(
        "POST", "/supervisor/api/staff-accounts",
        {"email": f"new-{ann.user.id}@example.org", "role": "advocate"},
    )  # fmt: skip
    account = f"/supervisor/api/staff-accounts/{created['id']}"
    as_admin("POST", f"{account}/reset-password", {})
    as_admin("POST", f"{account}/role", {"role": "supervisor"})
    started_two_factor(app, created["id"])
    as_admin("POST", f"{account}/reset-two-factor", {})
    as_admin("POST", f"{account}/deactivate", {})
    as_admin("POST", f"{account}/reactivate", {})
    as_admin("POST", f"{account}/name", {"name": "Nora Quinn"})

    # -- a week later: the quality review of Ann's conversation -------------------------------
    clock.advance(timedelta(days=8).total_seconds())
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        drawn = review.draw_week(
            session, date(2026, 11, 23), clock.now(), sample_size=5, per_advocate=5
        )
    assert first_id in drawn.sampled
    boss, ann = signed_in(app, "supervisor"), Signed(*sign_in(app, ann.user), ann.user)
    week = as_boss("GET", "/supervisor/api/reviews")
    (sampled,) = (item for item in week["items"] if item["conversation_id"] == first_id)
    as_boss("GET", f"/supervisor/api/reviews/{sampled['id']}")
    as_boss(
        "POST", f"/supervisor/api/reviews/{sampled['id']}",
        {"scores": {criterion.key: 3 for criterion in RUBRIC}, "feedback": "Well done."},
    )  # fmt: skip
    as_ann("GET", "/console/api/feedback")
    as_ann("POST", f"/console/api/feedback/{sampled['id']}/seen", {})
    as_ann("POST", "/console/api/sign-out", {})

    call(simulator, "DELETE", f"/simulator/api/phones/{phone['id']}", headers=sim)
    call(app.test_client(), "GET", "/healthz")

    # -- every JSON route was declared and checked, and every answer type filled --------------
    declared = {
        rule.endpoint: answer_type(app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if answer_type(app.view_functions[rule.endpoint]) is not None
    }
    api = {rule.endpoint for rule in app.url_map.iter_rules() if "/api/" in rule.rule}
    assert api - DOWNLOADS - set(declared) == set(), "JSON API routes without an answer type"
    assert answers.answered_json - set(declared) == set(), "JSON answers without a declared type"
    assert set(declared) - answers.checked == set(), "declared routes this test does not call"
    every_type = set().union(*(typed_dicts(shape) for shape in declared.values()))
    unfilled = sorted(t.__name__ for t in every_type - answers.seen)
    assert unfilled == [], "answer types no answer filled: give the day data that fills them"


# -- the checker itself -------------------------------------------------------------------------


class Inner(TypedDict):
    at: IsoTime
    level: Literal["low", "high"]


class Shape(TypedDict):
    id: int
    name: str | None
    inner: list[Inner]
    detail: dict[str, JsonValue]
    note: NotRequired[str]


FITS: dict[str, Any] = {
    "id": 1,
    "name": None,
    "inner": [{"at": "2026-11-23T12:00:00+00:00", "level": "low"}],
    "detail": {"any": [1, "two", {"three": None}]},
}


def test_the_checker_accepts_what_fits() -> None:
    seen: set[type] = set()
    assert mismatches(FITS, Shape, seen) == []
    assert mismatches({**FITS, "note": "optional, and here"}, Shape) == []
    assert seen == {Shape, Inner} == typed_dicts(Shape)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"name": ...}, ["$: Shape's key 'name' is missing"]),
        ({"extra": 1}, ["$: Shape has no key 'extra'"]),
        ({"id": "1"}, ["$.id: '1' is not int"]),
        ({"id": True}, ["$.id: True is not int"]),
        ({"name": 3}, ["$.name: 3 fits none of str | None"]),
        ({"note": None}, ["$.note: None is not str"]),
        (
            {"inner": [{"at": "2026-11-23", "level": "low"}]},
            ["$.inner[0].at: '2026-11-23' is not an ISO 8601 time with its offset"],
        ),
        (
            {"inner": [{"at": "2026-11-23T12:00:00+00:00", "level": "medium"}]},
            ["$.inner[0].level: 'medium' is not one of ['low', 'high']"],
        ),
        ({"inner": {}}, ["$.inner: {} is not an array"]),
    ],
)
def test_the_checker_finds_what_does_not_fit(changed: dict[str, Any], expected: list[str]) -> None:
    value = {**FITS, **changed}
    value = {key: v for key, v in value.items() if v is not ...}
    seen: set[type] = set()
    assert mismatches(value, Shape, seen) == expected
    assert Shape not in seen


def test_the_checker_refuses_types_it_cannot_check() -> None:
    class Loose(TypedDict):
        anything: Any

    with pytest.raises(TypeError, match="may not use"):
        mismatches({"anything": 1}, Loose)
