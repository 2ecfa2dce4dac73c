"""Metrics survive transfers (issue 18, item 9), through the console and supervisor HTTP APIs on
both databases: times are measured from the first claim, and every advocate who held a
conversation is credited. Before, a transfer after the first reply made the time to first reply
negative (shown as "0 s") and credited only the last holder."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from hotline import runtime_of
from hotline.db.models import ConversationHandler, StaffUser
from tests.console_client import available, post, queued_texter, sign_in, staff
from tests.fakes import FakeClock
from tests.texting import conversation


def on_shift(app: Flask, name: str, role: str = "advocate") -> tuple[StaffUser, FlaskClient, str]:
    user = staff(app, role)
    with runtime_of(app).sessions.begin() as session:
        found = session.get(StaffUser, user.id)
        assert found is not None
        found.display_name = name
    client, csrf = sign_in(app, user)
    available(client, csrf)
    assert client.get("/console/api/poll").status_code == 200  # the console is open
    return user, client, csrf


def ok(response: Any) -> None:
    assert response.status_code == 200, response.get_json()


def handlers(app: Flask, conversation_id: int) -> list[int]:
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(
                select(ConversationHandler.staff_id)
                .where(ConversationHandler.conversation_id == conversation_id)
                .order_by(ConversationHandler.first_at, ConversationHandler.staff_id)
            )
        )


def test_a_transferred_conversation_keeps_its_first_reply_and_credits_both(
    clocked_app: Flask, clock: FakeClock
) -> None:
    app = clocked_app
    phone = queued_texter(app)
    ana, ana_client, ana_csrf = on_shift(app, "Ana Ortiz")
    ben, ben_client, ben_csrf = on_shift(app, "Ben Li")
    conversation_id = conversation(app, phone).id

    ok(post(ana_client, ana_csrf, f"/console/api/conversations/{conversation_id}/claim", {}))
    clock.advance(30)
    ok(post(ana_client, ana_csrf, f"/console/api/conversations/{conversation_id}/reply",
            {"body": "Hi, I am here."}))  # fmt: skip
    clock.advance(60)
    assert ben_client.get("/console/api/poll").status_code == 200
    ok(post(ana_client, ana_csrf, f"/console/api/conversations/{conversation_id}/transfer",
            {"to_advocate_id": ben.id, "note": "needs housing"}))  # fmt: skip
    # A warm transfer: Ben holds the texter from when he accepts.
    ok(post(ben_client, ben_csrf, f"/console/api/conversations/{conversation_id}/transfer/accept",
            {}))  # fmt: skip
    clock.advance(210)
    ok(post(ben_client, ben_csrf, f"/console/api/conversations/{conversation_id}/close",
            {"disposition": "referred", "confirmed": True}))  # fmt: skip

    held = conversation(app, phone)
    assert held.first_claimed_at is not None and held.claimed_at is not None
    assert (held.claimed_at - held.first_claimed_at).total_seconds() == 90
    assert handlers(app, conversation_id) == [ana.id, ben.id]

    supervisor, boss_client, _ = on_shift(app, "Sam Boss", "supervisor")
    metrics = boss_client.get("/supervisor/api/metrics").get_json()
    assert metrics["first_reply_seconds"] == {"p50": 30.0, "p90": 30.0}
    assert metrics["handle_seconds"] == {"p50": 300.0, "p90": 300.0}
    assert metrics["per_advocate"] == [
        {"advocate": "Ana Ortiz", "conversations": 1, "closed": 0},
        {"advocate": "Ben Li", "conversations": 1, "closed": 1},
    ]
    assert supervisor.id not in handlers(app, conversation_id)


def test_reassign_and_take_over_go_through_the_same_place(
    clocked_app: Flask, clock: FakeClock
) -> None:
    app = clocked_app
    phone = queued_texter(app)
    ana, ana_client, ana_csrf = on_shift(app, "Ana")
    ben, ben_client, _ = on_shift(app, "Ben")
    boss, boss_client, boss_csrf = on_shift(app, "Sam", "supervisor")
    conversation_id = conversation(app, phone).id
    ok(post(ana_client, ana_csrf, f"/console/api/conversations/{conversation_id}/claim", {}))
    first = conversation(app, phone).first_claimed_at
    clock.advance(20)
    assert ben_client.get("/console/api/poll").status_code == 200
    ok(post(boss_client, boss_csrf, f"/supervisor/api/conversations/{conversation_id}/reassign",
            {"to_staff_id": ben.id}))  # fmt: skip
    clock.advance(20)
    ok(post(boss_client, boss_csrf, f"/supervisor/api/conversations/{conversation_id}/take-over",
            {}))  # fmt: skip
    after = conversation(app, phone)
    assert after.advocate_id == boss.id
    assert after.first_claimed_at == first
    assert handlers(app, conversation_id) == [ana.id, ben.id, boss.id]
    # A refused reassignment (to whoever holds it already) credits nobody new.
    refused = post(boss_client, boss_csrf,
                   f"/supervisor/api/conversations/{conversation_id}/reassign",
                   {"to_staff_id": boss.id})  # fmt: skip
    assert refused.status_code == 409
    assert handlers(app, conversation_id) == [ana.id, ben.id, boss.id]


def test_a_conversation_held_without_a_handler_row_counts_once_for_its_holder(
    clocked_app: Flask, clock: FakeClock
) -> None:
    """Rows from before migration 0017 have no handler row: the holder is credited, once."""
    app = clocked_app
    ana, client, csrf = on_shift(app, "Ana Ortiz")
    ids = []
    for _ in range(3):
        phone = queued_texter(app)
        conversation_id = conversation(app, phone).id
        ok(post(client, csrf, f"/console/api/conversations/{conversation_id}/claim", {}))
        clock.advance(30)
        ids.append(conversation_id)
    for conversation_id in ids[:2]:
        ok(post(client, csrf, f"/console/api/conversations/{conversation_id}/close",
                {"disposition": "referred", "confirmed": True}))  # fmt: skip
    old, held_open = ids[0], ids[2]
    with runtime_of(app).sessions.begin() as session:
        for conversation_id in (old, held_open):
            session.execute(
                delete(ConversationHandler).where(
                    ConversationHandler.conversation_id == conversation_id
                )
            )
    assert handlers(app, old) == [] and handlers(app, ids[1]) == [ana.id]

    _, boss_client, _ = on_shift(app, "Sam Boss", "supervisor")
    metrics = boss_client.get("/supervisor/api/metrics").get_json()
    assert metrics["per_advocate"] == [{"advocate": "Ana Ortiz", "conversations": 3, "closed": 2}]
