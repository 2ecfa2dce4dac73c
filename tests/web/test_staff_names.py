"""Names, not numbers (issue 18, item 10), over HTTP on both databases: an administrator renames
an account, a staff member names themselves at ``/account``, the command line names a new
account; bad names are refused with a reason and change nothing; the audit trail, the board and
the logs show names and disposition labels, not ids and codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.cli import cli
from hotline.db.models import Event, StaffUser
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.texting import conversation

ACCOUNTS = "/supervisor/api/staff-accounts"
HIDDEN = "name cannot contain control or invisible characters"
PASSWORD_IN = "a long enough password\n"


def ok(response: Any) -> bool:
    return bool(response.status_code == 200)


def names_and_events(app: Flask) -> tuple[Any, ...]:
    with runtime_of(app).sessions() as session:
        return (
            session.execute(select(StaffUser.id, StaffUser.display_name).order_by(StaffUser.id))
            .all(),
            session.scalars(select(Event.id).where(Event.kind == "staff_name_changed")).all(),
        )  # fmt: skip


def renames(app: Flask) -> list[dict[str, Any]]:
    with runtime_of(app).sessions() as session:
        found = session.scalars(
            select(Event).where(Event.kind == "staff_name_changed").order_by(Event.id)
        ).unique()
        return [{"actor_id": e.actor_id, **(e.detail or {})} for e in found]


def test_an_administrator_renames_an_account_and_it_is_audited(clocked_app: Flask) -> None:
    app = clocked_app
    boss, advocate = staff(app, "supervisor"), staff(app, "advocate")
    client, csrf = sign_in(app, boss)

    named = post(client, csrf, f"{ACCOUNTS}/{advocate.id}/name", {"name": "  Maria   Lopez "})
    assert named.status_code == 200
    assert named.get_json() == {"ok": True, "name": "Maria Lopez", "display_name": "Maria Lopez"}
    listed = client.get(ACCOUNTS).get_json()["items"]
    mine = next(a for a in listed if a["id"] == advocate.id)
    assert (mine["name"], mine["display_name"]) == ("Maria Lopez", "Maria Lopez")
    assert renames(app) == [
        {"actor_id": boss.id, "staff_id": advocate.id, "name_before": None,
         "name_after": "Maria Lopez"},
    ]  # fmt: skip

    # The audit trail names her, and who did it: not "staff_id: 7".
    audit = client.get("/supervisor/api/audit?kind=staff_name_changed").get_json()["items"]
    assert audit[0]["detail"]["staff_id"] == "Maria Lopez"
    assert audit[0]["actor"] == boss.email.partition("@")[0]

    # The same name again changes nothing and records nothing; empty clears it.
    assert ok(post(client, csrf, f"{ACCOUNTS}/{advocate.id}/name", {"name": "Maria Lopez"}))
    assert len(renames(app)) == 1
    cleared = post(client, csrf, f"{ACCOUNTS}/{advocate.id}/name", {"name": ""}).get_json()
    assert cleared == {"ok": True, "name": advocate.email.partition("@")[0], "display_name": None}
    assert renames(app)[-1]["name_after"] is None


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"name": "x" * 81}, 400, "name is at most 80 characters"),
        ({"name": "Maria\x07Lopez"}, 400, "name cannot contain control or invisible characters"),
        (
            {"name": "Maria\u202eLopez"},
            400,
            "name cannot contain control or invisible characters",
        ),
        ({"name": "Ma\u200bria"}, 400, "name cannot contain control or invisible characters"),
        ({"name": "12345"}, 400, "name needs at least one letter"),
        ({"name": 42}, 400, "name must be text"),
        ({}, 400, "name is required (empty to clear it)"),
        ({"name": "Maria", "role": "admin"}, 400, "unknown fields: role"),
    ],
)
def test_a_bad_name_is_refused_and_changes_nothing(
    clocked_app: Flask, payload: dict[str, Any], status: int, message: str
) -> None:
    boss, advocate = staff(clocked_app, "supervisor"), staff(clocked_app, "advocate")
    client, csrf = sign_in(clocked_app, boss)
    before = names_and_events(clocked_app)
    refused = post(client, csrf, f"{ACCOUNTS}/{advocate.id}/name", payload)
    assert (refused.status_code, refused.get_json()) == (status, {"error": message})
    assert names_and_events(clocked_app) == before


def test_who_may_rename_whom(clocked_app: Flask) -> None:
    app = clocked_app
    boss, other_boss, admin = (
        staff(app, "supervisor"),
        staff(app, "supervisor"),
        staff(app, "admin"),
    )
    advocate = staff(app, "advocate")
    before = names_and_events(app)
    client, csrf = sign_in(app, boss)
    for target, status in ((other_boss.id, 403), (admin.id, 403), (999_999, 404)):
        assert (
            post(client, csrf, f"{ACCOUNTS}/{target}/name", {"name": "Pat"}).status_code == status
        )
    assert (
        post(client, "wrong", f"{ACCOUNTS}/{advocate.id}/name", {"name": "Pat"}).status_code == 400
    )
    their_client, their_csrf = sign_in(app, advocate)
    refused = post(their_client, their_csrf, f"{ACCOUNTS}/{advocate.id}/name", {"name": "Pat"})
    assert refused.status_code == 403
    assert names_and_events(app) == before
    assert ok(post(client, csrf, f"{ACCOUNTS}/{boss.id}/name", {"name": "Sam"}))
    admin_client, admin_csrf = sign_in(app, admin)
    assert post(admin_client, admin_csrf, f"{ACCOUNTS}/{other_boss.id}/name",
                {"name": "Robin"}).status_code == 200  # fmt: skip


def test_staff_name_themselves_on_the_account_page(clocked_app: Flask) -> None:
    advocate = staff(clocked_app, "advocate")
    client, csrf = sign_in(clocked_app, advocate)
    page = client.get("/account")
    assert page.status_code == 200 and 'id="display-name"' in page.get_data(as_text=True)

    before = names_and_events(clocked_app)
    refused = client.post("/account/name", data={"name": "A\x00B", "csrf_token": csrf})
    assert refused.status_code == 400
    assert "name cannot contain control or invisible characters" in refused.get_data(as_text=True)
    no_token = client.post("/account/name", data={"name": "Dana"})
    assert no_token.status_code == 400
    assert names_and_events(clocked_app) == before

    saved = client.post("/account/name", data={"name": "Dana Ruiz", "csrf_token": csrf})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/account?saved=1")
    shown = client.get("/account?saved=1").get_data(as_text=True)
    assert "You are shown as Dana Ruiz." in shown
    assert renames(clocked_app) == [
        {"actor_id": advocate.id, "staff_id": advocate.id, "name_before": None,
         "name_after": "Dana Ruiz"},
    ]  # fmt: skip
    # Reachable from the password page too.
    assert 'href="/account"' in client.get("/account/password").get_data(as_text=True)


def test_the_board_the_audit_trail_and_the_logs_show_names_and_labels(clocked_app: Flask) -> None:
    app = clocked_app
    boss, ana, ben = staff(app, "supervisor"), staff(app, "advocate"), staff(app, "advocate")
    client, csrf = sign_in(app, boss)
    for member, name in ((ana, "Ana Ortiz"), (ben, "Ben Li")):
        assert ok(post(client, csrf, f"{ACCOUNTS}/{member.id}/name", {"name": name}))
    ana_client, ana_csrf = sign_in(app, ana)
    ben_client, ben_csrf = sign_in(app, ben)
    for c, t in ((ana_client, ana_csrf), (ben_client, ben_csrf)):
        available(c, t)
        assert c.get("/console/api/poll").status_code == 200
    phone = queued_texter(app)
    conversation_id = conversation(app, phone).id
    claimed = post(ana_client, ana_csrf, f"/console/api/conversations/{conversation_id}/claim", {})
    assert ok(claimed)

    board = client.get("/supervisor/api/board").get_json()
    assert {a["name"] for a in board["advocates"]} >= {"Ana Ortiz", "Ben Li"}

    assert ok(post(client, csrf, f"/supervisor/api/conversations/{conversation_id}/reassign",
                {"to_staff_id": ben.id}))  # fmt: skip
    assert ok(post(ben_client, ben_csrf, f"/console/api/conversations/{conversation_id}/close",
                {"disposition": "referred", "confirmed": True}))  # fmt: skip

    audit = client.get(f"/supervisor/api/audit?conversation_id={conversation_id}").get_json()
    by_kind = {item["kind"]: item for item in audit["items"]}
    assert by_kind["reassigned"]["detail"]["from_staff"] == "Ana Ortiz"
    assert by_kind["reassigned"]["detail"]["to_staff"] == "Ben Li"
    assert by_kind["closed_by_advocate"]["actor"] == "Ben Li"
    assert by_kind["closed_by_advocate"]["detail"]["disposition"] == "Referred to services"

    logs = client.get("/supervisor/api/logs").get_json()["items"]
    row = next(r for r in logs if r["id"] == conversation_id)
    assert (row["advocate"], row["disposition"], row["disposition_label"]) == (
        "Ben Li", "referred", "Referred to services",
    )  # fmt: skip
    export = client.post(
        "/supervisor/api/export", json={"format": "csv"}, headers={"X-CSRF-Token": csrf}
    )
    assert export.status_code == 200, export.get_data(as_text=True)
    header, *rows = export.get_data(as_text=True).splitlines()
    assert "disposition,disposition_label" in header
    assert any(re.search(r",referred,Referred to services,", r) for r in rows)


def test_users_create_takes_a_name(tmp_path: Any) -> None:
    from cryptography.fernet import Fernet

    env = {
        "HOTLINE_ENV": "test",
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": Fernet.generate_key().decode(),
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    create = ["users", "create", "a@example.org", "--role", "advocate", "--name"]
    bad = runner.invoke(cli, [*create, "\x1b[31mred"], env=env, input=PASSWORD_IN)
    assert bad.exit_code != 0 and "control or invisible" in bad.output
    made = runner.invoke(cli, [*create, "Maria Lopez"], env=env, input=PASSWORD_IN)
    assert made.exit_code == 0, made.output
    from hotline.db.session import make_engine

    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        names = connection.execute(select(StaffUser.email, StaffUser.display_name)).all()
    engine.dispose()
    assert names == [("a@example.org", "Maria Lopez")]
