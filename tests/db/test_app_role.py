"""The app's PostgreSQL role cannot rewrite the event log, and holds all the app needs.

Two login roles of this test's own: an owner, who runs ``hotline db upgrade`` on an empty
database it owns, and the app's role, which the web and the workers would use. The app's role
then runs a piece of the real app (a text through the webhook and the worker, an advocate's
sign-in, reply and close, a supervisor acknowledging an alert) and is refused every way of
changing or unprotecting ``events``. Under ``CI=true`` a missing PostgreSQL fails these tests.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from hotline import runtime_of
from hotline.cli import cli
from hotline.db.models import Conversation, Event
from hotline.infra.taskqueue import InProcessQueue
from hotline.services import events
from hotline.settings import Settings, SettingsError
from tests.conftest import PostgresServer, new_phone
from tests.helpers import post_signed, sms_form

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a longer phrase nobody guesses"


@dataclass
class Roles:
    owner: str
    app: str
    owner_url: str
    app_url: str
    database: str


@pytest.fixture
def roles(postgres: PostgresServer) -> Iterator[Roles]:
    """An owner and an app role (login, no superuser), and an empty database of the owner's;
    all dropped afterwards."""
    tag = secrets.token_hex(4)
    owner, app, database = f"hotline_owner_{tag}", f"hotline_app_{tag}", f"hotline_roles_{tag}"
    postgres.execute(f'CREATE ROLE "{owner}" LOGIN')
    postgres.execute(f'CREATE ROLE "{app}" LOGIN')
    postgres.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
    base = postgres.admin_url.split("://", 1)[1].split("@", 1)[1].rsplit("/", 1)[0]
    try:
        yield Roles(
            owner=owner,
            app=app,
            owner_url=f"postgresql+psycopg://{owner}@{base}/{database}",
            app_url=f"postgresql+psycopg://{app}@{base}/{database}",
            database=database,
        )
    finally:
        postgres.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        postgres.execute(f'DROP ROLE IF EXISTS "{app}"')
        postgres.execute(f'DROP ROLE IF EXISTS "{owner}"')


def cli_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    return {
        "HOTLINE_ENV": "test",
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": Fernet.generate_key().decode(),
        "HOTLINE_MIGRATE_DATABASE_URL": "",
        "HOTLINE_DATABASE_APP_ROLE": "",
        # The command's in-process ticker must not wake before this test's roles are dropped.
        "HOTLINE_SWEEP_INTERVAL_SECONDS": "86400",
        "HOTLINE_TIMER_TICK_SECONDS": "86400",
        **variables,
    }


def hotline(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def two_role_upgrade(roles: Roles, tmp_path: Path) -> dict[str, str]:
    env = cli_env(
        tmp_path,
        HOTLINE_DATABASE_URL=roles.app_url,
        HOTLINE_MIGRATE_DATABASE_URL=roles.owner_url,
    )
    code, output = hotline(env, "db", "upgrade")
    assert code == 0, output
    assert "newest schema (postgresql)" in output and "owns nothing" in output
    return env


def refused(url: str, statement: str) -> str:
    """Run ``statement`` as ``url``'s role; the SQLSTATE it was refused with."""
    engine = create_engine(url, hide_parameters=True)
    try:
        with engine.begin() as connection, pytest.raises(DBAPIError) as raised:
            connection.execute(text(statement))
        return str(getattr(raised.value.orig, "sqlstate", ""))
    finally:
        engine.dispose()


def scalar(url: str, statement: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(statement))
    finally:
        engine.dispose()


INSUFFICIENT_PRIVILEGE = "42501"  # "permission denied", and "must be owner of table"


def test_the_app_role_adds_to_the_event_log_and_cannot_change_or_unprotect_it(
    roles: Roles, tmp_path: Path
) -> None:
    two_role_upgrade(roles, tmp_path)
    assert scalar(
        roles.owner_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'events'"
    ) == (roles.owner)
    engine = create_engine(roles.app_url)
    with engine.begin() as connection:  # a normal table: all four
        connection.execute(
            text(
                "INSERT INTO staff_users (email, password_hash, role, active, created_at,"
                " availability, totp_enabled, must_change_password)"
                " VALUES ('role-test@example.org', 'x', 'advocate', true, now(), 'away', false,"
                " false)"
            )
        )
        connection.execute(text("UPDATE staff_users SET active = false"))
        connection.execute(text("DELETE FROM staff_users"))
        connection.execute(text("INSERT INTO events (kind, created_at) VALUES ('test', now())"))
        assert connection.scalar(text("SELECT count(*) FROM events")) == 1
    engine.dispose()

    for statement in (
        "UPDATE events SET kind = 'rewritten'",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "DROP TRIGGER events_append_only ON events",
        "DROP TRIGGER events_no_truncate ON events",
        "DROP FUNCTION hotline_events_append_only()",
        "DROP TABLE events",
        f'ALTER TABLE events OWNER TO "{roles.app}"',
        "UPDATE alembic_version SET version_num = '0001'",
        "SELECT * FROM events FOR UPDATE",
    ):
        assert refused(roles.app_url, statement) == INSUFFICIENT_PRIVILEGE, statement
    assert scalar(roles.owner_url, "SELECT count(*) FROM events WHERE kind = 'test'") == 1
    assert (
        scalar(roles.owner_url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'events_%'") == 2
    )


def test_upgrading_again_takes_back_a_grant_made_by_hand(roles: Roles, tmp_path: Path) -> None:
    env = two_role_upgrade(roles, tmp_path)
    engine = create_engine(roles.owner_url)
    with engine.begin() as connection:
        connection.execute(text(f'GRANT UPDATE, DELETE, TRUNCATE ON events TO "{roles.app}"'))
    engine.dispose()
    code, output = hotline(env, "db", "upgrade")
    assert code == 0, output
    assert refused(roles.app_url, "UPDATE events SET kind = 'x'") == INSUFFICIENT_PRIVILEGE
    assert refused(roles.app_url, "TRUNCATE events") == INSUFFICIENT_PRIVILEGE


def login_csrf(client: FlaskClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))
    assert match
    return match.group(1)


def sign_in(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    form = {"email": email, "password": PASSWORD, "csrf_token": login_csrf(client)}
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    if urlsplit(client.get("/console").headers.get("Location", "")).path == "/account/password":
        # Made with `hotline users create`: the first sign-in changes the password (also a
        # write the app's role must be allowed).
        page = client.get("/account/password").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        changed = client.post(
            "/account/password",
            data={"csrf_token": token.group(1), "current_password": PASSWORD,
                  "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        )  # fmt: skip
        assert changed.status_code == 302, changed.get_data(as_text=True)
    page = client.get("/console").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match
    return client, match.group(1)


def test_the_app_runs_under_the_app_role(
    roles: Roles, tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    env = two_role_upgrade(roles, tmp_path)
    app_env = {**env, "HOTLINE_MIGRATE_DATABASE_URL": ""}  # the CLI as web and workers run
    for email, role in (("advocate@example.org", "advocate"), ("lead@example.org", "supervisor")):
        code, output = hotline(
            app_env, "users", "create", email, "--role", role, stdin=PASSWORD + "\n"
        )
        assert code == 0, output

    app = make_app(roles.app_url)
    runtime = runtime_of(app)
    assert runtime.engine.url.username == roles.app
    tasks = runtime.tasks
    assert isinstance(tasks, InProcessQueue)
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help", "skip"):  # through to the queue
        assert (
            post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
        )
        tasks.run_due()

    client, csrf = sign_in(app, "advocate@example.org")

    def post(client: FlaskClient, csrf: str, path: str, payload: dict[str, Any]) -> int:
        return client.post(path, json=payload, headers={"X-CSRF-Token": csrf}).status_code

    assert post(client, csrf, "/console/api/availability", {"availability": "available"}) == 200
    taken = client.post("/console/api/queue/take-next", json={}, headers={"X-CSRF-Token": csrf})
    assert taken.status_code == 200, taken.get_data(as_text=True)
    conversation_id = taken.get_json()["conversation_id"]
    base = f"/console/api/conversations/{conversation_id}"
    assert post(client, csrf, f"{base}/reply", {"body": "I'm here."}) == 200
    tasks.run_due()
    closing = {"disposition": "referred", "summary": "Referred to legal aid"}
    assert post(client, csrf, f"{base}/close", closing) == 200
    tasks.run_due()

    with runtime.sessions.begin() as session:
        alert_id = events.record_at_once(session, "alert", runtime.clock.now(), alert="emergency")
    lead, lead_csrf = sign_in(app, "lead@example.org")
    assert post(lead, lead_csrf, f"/supervisor/api/alerts/{alert_id}/acknowledge", {}) == 200

    with runtime.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.disposition == "referred"
        kinds = set(session.scalars(select(Event.kind)))
        assert {"alert_acknowledged", "conversation_closed"} <= kinds
        assert session.scalar(select(func.count()).select_from(Event)) > 5
    assert scalar(
        roles.owner_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'events'"
    ) == (roles.owner)


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("owner", "is the role running the migrations"),
        ("nobody", "does not exist"),
        ("postgres", "is a superuser"),
    ],
)
def test_a_role_that_could_act_as_owner_is_refused_before_migrating(
    roles: Roles, tmp_path: Path, who: str, error: str
) -> None:
    role = {"owner": roles.owner, "nobody": f"{roles.app}_missing", "postgres": "postgres"}[who]
    env = cli_env(
        tmp_path,
        HOTLINE_DATABASE_URL=roles.app_url,
        HOTLINE_MIGRATE_DATABASE_URL=roles.owner_url,
        HOTLINE_DATABASE_APP_ROLE=role,
    )
    code, output = hotline(env, "db", "upgrade")
    assert code != 0 and error in output
    assert scalar(roles.owner_url, "SELECT to_regclass('alembic_version') IS NULL") is True


def test_an_app_role_that_owns_the_tables_is_refused(roles: Roles, tmp_path: Path) -> None:
    """A database first migrated as the app's role: moving to two roles asks to reassign."""
    single = cli_env(tmp_path, HOTLINE_DATABASE_URL=roles.app_url)
    engine = create_engine(roles.owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'GRANT CREATE ON SCHEMA public TO "{roles.app}"'))
    engine.dispose()
    code, output = hotline(single, "db", "upgrade")  # the single-role set-up, unchanged
    assert code == 0, output
    assert "owns nothing" not in output
    env = cli_env(
        tmp_path, HOTLINE_DATABASE_URL=roles.app_url, HOTLINE_MIGRATE_DATABASE_URL=roles.owner_url
    )
    code, output = hotline(env, "db", "upgrade")
    assert code != 0 and "REASSIGN OWNED" in output


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        (
            {
                "HOTLINE_DATABASE_URL": "sqlite:///x.sqlite3",
                "HOTLINE_MIGRATE_DATABASE_URL": "postgresql+psycopg://owner@db/hotline",
            },
            "HOTLINE_MIGRATE_DATABASE_URL needs HOTLINE_DATABASE_URL on PostgreSQL",
        ),
        (
            {"HOTLINE_DATABASE_URL": "sqlite:///x.sqlite3", "HOTLINE_DATABASE_APP_ROLE": "app"},
            "HOTLINE_DATABASE_APP_ROLE needs HOTLINE_DATABASE_URL on PostgreSQL",
        ),
        (
            {
                "HOTLINE_DATABASE_URL": "postgresql+psycopg://app:s3cret@db/hotline",
                "HOTLINE_MIGRATE_DATABASE_URL": "postgresql+psycopg://owner:s3cret@db/other",
            },
            "must name the same PostgreSQL database",
        ),
        (
            {
                "HOTLINE_DATABASE_URL": "postgresql+psycopg://db/hotline",
                "HOTLINE_MIGRATE_DATABASE_URL": "postgresql+psycopg://owner@db/hotline",
            },
            "HOTLINE_DATABASE_URL must name its user",
        ),
        (
            {
                "HOTLINE_DATABASE_URL": "postgresql+psycopg://app@db/hotline",
                "HOTLINE_MIGRATE_DATABASE_URL": "not a url",
            },
            "HOTLINE_MIGRATE_DATABASE_URL is not a database URL",
        ),
    ],
)
def test_settings_refuse_a_two_role_set_up_that_cannot_work(
    variables: dict[str, str], error: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"HOTLINE_ENV": "test", **variables}, instance_path=tmp_path)
    assert error in str(raised.value) and "s3cret" not in str(raised.value)


def test_settings_derive_the_app_role_from_the_app_url(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HOTLINE_ENV": "test",
            "HOTLINE_DATABASE_URL": "postgresql+psycopg://hotline_app:pw@db:5432/hotline",
            "HOTLINE_MIGRATE_DATABASE_URL": "postgresql+psycopg://hotline_owner:pw@db:5432/hotline",
        },
        instance_path=tmp_path,
    )
    assert settings.database_app_role == "hotline_app"
    assert "hotline_owner" not in repr(settings)
    single = Settings.from_env(
        {"HOTLINE_ENV": "test", "HOTLINE_DATABASE_URL": "postgresql+psycopg://app@db/hotline"},
        instance_path=tmp_path,
    )
    assert single.migrate_database_url is None and single.database_app_role is None
