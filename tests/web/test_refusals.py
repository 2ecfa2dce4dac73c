"""One way to refuse a request (hotline.web.refusals): every refusal is answered by one mapping,
JSON for the APIs and a page for a browser; a request that loses a race at the database gets 409
and changes nothing; only a database that is really gone is answered 503."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import Engine, event, func, select, text
from werkzeug.test import TestResponse

from hotline import runtime_of
from hotline.db.models import ConversationTag, Disposition, Event, StaffUser, Tag
from hotline.services import vocabulary
from hotline.services.accounts import NoSuchAccount
from hotline.services.claims import ClaimError
from hotline.services.errors import Conflict, InvalidInput, NotAllowed, NotFound, Refusal
from hotline.web.refusals import LOST_RACE
from tests.conftest import PostgresServer
from tests.console_client import post, queued_texter, sign_in, staff
from tests.helpers import conversations_of


@pytest.fixture(autouse=True)
def _log_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """What the tests read in ``caplog.text`` includes INFO, so "not in the log" means it."""
    caplog.set_level(logging.INFO)


PAGE = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

# -- one mapping: JSON for an API, a page for a browser ---------------------------------------

KINDS: list[tuple[Refusal, int]] = [
    (InvalidInput("amount must be a <b>whole</b> number"), 400),
    (NotAllowed('only an admin may do "this"'), 403),
    (NotFound("no such conversation"), 404),
    (Conflict("this texter is no longer waiting: another advocate has them"), 409),
    # Services' own refusals are answered by the kind they are.
    (ClaimError("this conversation is not yours"), 409),
    (NoSuchAccount("no such staff account"), 404),
]


def refusing_app(app: Flask) -> Flask:
    """``app`` with one API view and one page that raise the refusal named in the URL."""
    by_name = {type(refusal).__name__: refusal for refusal, _ in KINDS}

    def refuse(kind: str) -> str:
        raise by_name[kind]

    app.add_url_rule("/testing/api/refuse/<kind>", "refuse_api", refuse)
    app.add_url_rule("/testing/refuse/<kind>", "refuse_page", refuse)
    return app


def answered_as_json(response: TestResponse, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": message}


def answered_as_page(response: TestResponse, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'<p class="error" role="alert" id="refusal">{escape(message)}</p>' in page
    assert "<b>" not in page  # the message is text, never HTML


@pytest.mark.parametrize(("refusal", "status"), KINDS, ids=[type(r).__name__ for r, _ in KINDS])
def test_every_kind_of_refusal_is_json_for_an_api_and_a_page_for_a_browser(
    app: Flask, refusal: Refusal, status: int
) -> None:
    client = refusing_app(app).test_client()
    kind, message = type(refusal).__name__, str(refusal)
    answered_as_json(client.get(f"/testing/api/refuse/{kind}"), status, message)
    answered_as_json(client.get(f"/testing/api/refuse/{kind}", headers=PAGE), status, message)
    answered_as_page(client.get(f"/testing/refuse/{kind}", headers=PAGE), status, message)
    # A script asking for JSON (or for nothing in particular) gets JSON from a page's URL too.
    asks_json = {"Accept": "application/json"}
    answered_as_json(client.get(f"/testing/refuse/{kind}", headers=asks_json), status, message)
    answered_as_json(client.get(f"/testing/refuse/{kind}"), status, message)


def test_real_views_refuse_through_the_one_mapping(app: Flask) -> None:
    advocate, advocate_csrf = sign_in(app, staff(app))
    supervisor, csrf = sign_in(app, staff(app, "supervisor"))
    before = tag_rows(app)

    bad_name = post(supervisor, csrf, "/supervisor/api/tags", {"name": "a/b"})
    answered_as_json(bad_name, 400, "a tag is 1 to 40 letters, digits, spaces, - or _")
    answered_as_json(advocate.get("/supervisor/api/board"), 403, "you may not see this")
    missing = supervisor.get("/console/api/conversations/2000000000")
    answered_as_json(missing, 404, "no such conversation")
    taken = post(
        supervisor, csrf, "/supervisor/api/dispositions", {"code": "referred", "label": "x"}
    )
    message = "a disposition with code referred exists already: change that one"
    answered_as_json(taken, 409, message)
    unknown = supervisor.put(
        "/supervisor/api/settings/nope", json={"value": 1}, headers={"X-CSRF-Token": csrf}
    )
    answered_as_json(unknown, 404, "no setting named nope")

    answered_as_page(advocate.get("/supervisor", headers=PAGE), 403, "you may not see this")
    no_token = advocate.post("/account/password", data={}, headers=PAGE)
    answered_as_page(no_token, 400, "missing or wrong CSRF token: reload the page")
    bad_colleague = advocate.post(
        "/logout",
        data={"csrf_token": advocate_csrf, "conversations": "transfer", "to_advocate_id": "x1"},
        headers=PAGE,
    )
    answered_as_page(bad_colleague, 400, "to_advocate_id must be an advocate's id")
    assert advocate.get("/console/api/me").status_code == 200  # still signed in
    assert tag_rows(app) == before


# -- a lost race: 409, nothing changed, nothing echoed ------------------------------------------


@contextmanager
def meeting_before_insert(engine: Engine, table: str) -> Iterator[list[bool]]:
    """Hold each of two connections just before it inserts into ``table`` until the other one
    gets there too: both requests have passed their checks before either inserts. Yields,
    per insert, whether the two met (False: the other never came within 10 seconds)."""
    barrier = threading.Barrier(2, timeout=10)
    met: list[bool] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(f"INSERT INTO {table} "):
            try:
                barrier.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield met
    finally:
        event.remove(engine, "before_cursor_execute", before)


def at_once(*requests: Callable[[], TestResponse]) -> list[TestResponse]:
    """Run each request on a thread of its own; their responses, in order."""
    answers: list[Any] = [None] * len(requests)

    def one(index: int, request: Callable[[], TestResponse]) -> None:
        try:
            answers[index] = request()
        except BaseException as exc:  # shown by the assertion below
            answers[index] = exc

    threads = [threading.Thread(target=one, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(answer, TestResponse) for answer in answers), answers
    return answers


def tag_rows(app: Flask) -> list[tuple[str, bool]]:
    with runtime_of(app).sessions() as session:
        return [(t.name, t.active) for t in session.scalars(select(Tag).order_by(Tag.name))]


def count(app: Flask, statement: Any) -> int:
    with runtime_of(app).sessions() as session:
        return int(session.scalar(statement) or 0)


def events_about(app: Flask, kind: str, value: str) -> int:
    with runtime_of(app).sessions() as session:
        found = session.scalars(select(Event).where(Event.kind == kind)).all()
        return sum(value in json.dumps(e.erasable.detail if e.erasable else None) for e in found)


@pytest.fixture
def pg_app(make_app: Callable[..., Flask], postgres_url: str) -> Flask:
    """On PostgreSQL, where two writers really run at once (SQLite queues them up whole)."""
    return make_app(postgres_url)


def two_supervisors(app: Flask) -> list[tuple[FlaskClient, str]]:
    return [sign_in(app, staff(app, "supervisor")) for _ in range(2)]


def one_won_one_lost(answers: list[TestResponse], lost: str) -> TestResponse:
    """The loser's answer, once one got 200 and the other 409 with ``lost``."""
    assert sorted(a.status_code for a in answers) == [200, 409], [a.get_json() for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.get_json() == {"error": lost}
    return loser


def test_two_supervisors_adding_one_tag_at_once_one_gets_409(
    pg_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"race {secrets.token_hex(4)}"
    supervisors = two_supervisors(pg_app)
    with meeting_before_insert(runtime_of(pg_app).engine, "tags") as met:
        answers = at_once(*(
            lambda c=client, t=csrf: post(c, t, "/supervisor/api/tags", {"name": name})
            for client, csrf in supervisors
        ))  # fmt: skip
    assert met == [True, True]  # a real race: both passed the check, then both inserted
    loser = one_won_one_lost(answers, LOST_RACE)
    assert name not in loser.get_data(as_text=True)
    assert count(pg_app, select(func.count()).select_from(Tag).where(Tag.name == name)) == 1
    assert events_about(pg_app, "tag_added", name) == 1
    log = caplog.text
    assert "lost a race" in log and name not in log


def test_two_supervisors_adding_one_disposition_at_once_one_gets_409(
    pg_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    code, label = f"race_{secrets.token_hex(4)}", f"Label {secrets.token_hex(4)}"
    supervisors = two_supervisors(pg_app)
    payload = {"code": code, "label": label}
    with meeting_before_insert(runtime_of(pg_app).engine, "dispositions") as met:
        answers = at_once(*(
            lambda c=client, t=csrf: post(c, t, "/supervisor/api/dispositions", payload)
            for client, csrf in supervisors
        ))  # fmt: skip
    assert met == [True, True]
    loser = one_won_one_lost(answers, LOST_RACE)
    assert code not in loser.get_data(as_text=True) and label not in loser.get_data(as_text=True)
    where = Disposition.code == code
    assert count(pg_app, select(func.count()).select_from(Disposition).where(where)) == 1
    assert events_about(pg_app, "disposition_added", code) == 1
    log = caplog.text
    assert "lost a race" in log and code not in log and label not in log


def test_two_supervisors_tagging_one_conversation_at_once_one_gets_409(
    pg_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """The tag row is written at commit, after the view returned: the loser still gets 409."""
    name = f"race {secrets.token_hex(4)}"
    runtime = runtime_of(pg_app)
    lead = staff(pg_app, "supervisor")
    with runtime.sessions.begin() as session:
        vocabulary.do_add_tag(session, lead, {"name": name}, runtime.clock.now())
    conversation_id = conversations_of(pg_app, queued_texter(pg_app))[0].id
    supervisors = two_supervisors(pg_app)
    path = f"/console/api/conversations/{conversation_id}/tags"
    with meeting_before_insert(runtime.engine, "conversation_tags") as met:
        answers = at_once(*(
            lambda c=client, t=csrf: post(c, t, path, {"tag": name})
            for client, csrf in supervisors
        ))  # fmt: skip
    assert met == [True, True]
    loser = one_won_one_lost(answers, LOST_RACE)
    assert name not in loser.get_data(as_text=True)
    on_it = (ConversationTag.conversation_id == conversation_id) & (ConversationTag.tag == name)
    assert count(pg_app, select(func.count()).select_from(ConversationTag).where(on_it)) == 1
    assert events_about(pg_app, "tagged", name) == 1
    log = caplog.text
    assert "lost a race" in log and name not in log


def test_two_supervisors_creating_one_account_at_once_one_gets_409(
    pg_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    email = f"race-{secrets.token_hex(4)}@example.org"
    supervisors = two_supervisors(pg_app)
    payload = {"email": email, "role": "advocate"}
    with meeting_before_insert(runtime_of(pg_app).engine, "staff_users") as met:
        answers = at_once(*(
            lambda c=client, t=csrf: post(c, t, "/supervisor/api/staff-accounts", payload)
            for client, csrf in supervisors
        ))  # fmt: skip
    assert met == [True, True]
    loser = one_won_one_lost(answers, "an account with that email exists already")
    assert email not in loser.get_data(as_text=True)
    where = StaffUser.email == email
    assert count(pg_app, select(func.count()).select_from(StaffUser).where(where)) == 1
    assert email not in caplog.text


def test_a_unique_insert_that_fails_is_409_on_every_database(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever view it comes from (here one that skips the check, as a race's loser does), an
    ``IntegrityError`` is 409, rolled back whole, and names no value."""
    name = f"clash {secrets.token_hex(4)}"
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        session.add(Tag(name=name, active=True, created_at=runtime.clock.now()))
    other = f"kept {secrets.token_hex(4)}"

    def insert_again() -> str:
        with runtime.sessions.begin() as session:
            session.add(Tag(name=other, active=True, created_at=runtime.clock.now()))
            session.flush()
            session.add(Tag(name=name, active=True, created_at=runtime.clock.now()))
        return "inserted"

    app.add_url_rule("/testing/api/insert-again", "insert_again", insert_again)
    app.add_url_rule("/testing/insert-again", "insert_again_page", insert_again)
    answered_as_json(app.test_client().get("/testing/api/insert-again"), 409, LOST_RACE)
    answered_as_page(app.test_client().get("/testing/insert-again", headers=PAGE), 409, LOST_RACE)
    names = [n for n, _ in tag_rows(app)]
    assert names.count(name) == 1 and other not in names  # rolled back whole
    log = caplog.text
    assert "lost a race" in log and name not in log


# -- a database that is gone: 503 ---------------------------------------------------------------


def take_the_database_away(app: Flask, database_url: str, postgres: PostgresServer | None) -> None:
    runtime_of(app).engine.dispose()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        path.mkdir()  # what stands there now cannot be opened as a database
    else:
        assert postgres is not None
        name = database_url.rsplit("/", 1)[1]
        postgres.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_a_database_that_is_gone_is_503_not_409(
    request: pytest.FixtureRequest,
    make_app: Callable[..., Flask],
    isolated_database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(isolated_database_url)
    supervisor, csrf = sign_in(app, staff(app, "supervisor"))
    postgres = None if "sqlite" in isolated_database_url else request.getfixturevalue("postgres")
    take_the_database_away(app, isolated_database_url, postgres)

    message = "the database is unavailable (OperationalError)"
    answered_as_json(supervisor.get("/console/api/queue"), 503, message)
    answered_as_json(post(supervisor, csrf, "/supervisor/api/tags", {"name": "x"}), 503, message)
    answered_as_page(supervisor.get("/supervisor", headers=PAGE), 503, message)
    assert "the database is unavailable (OperationalError)" in caplog.text
    if "sqlite" in isolated_database_url:
        shutil.rmtree(Path(isolated_database_url.removeprefix("sqlite:///")))


def test_a_database_error_that_is_a_bug_is_500_not_blamed_on_the_database(
    make_app: Callable[..., Flask], postgres_url: str
) -> None:
    app = make_app(postgres_url)

    def broken_query() -> str:
        with runtime_of(app).sessions() as session:
            session.execute(text("SELECT no_such_column FROM tags"))
        return "unreachable"

    app.add_url_rule("/testing/api/broken-query", "broken_query", broken_query)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answered_as_json(app.test_client().get("/testing/api/broken-query"), 500, "internal error")
