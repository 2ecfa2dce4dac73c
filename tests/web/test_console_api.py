"""The console's server side: sign-in, sessions, CSRF, roles and ownership, and every action."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Conversation, Event, Message, StaffSession, StaffUser
from hotline.domain import totp
from hotline.domain.triage import State
from hotline.services.accounts import do_deactivate_account
from hotline.services.console import Console
from hotline.services.handling import Handling
from tests.console_client import (
    PASSWORD,
    available,
    login_csrf,
    post,
    queued_texter,
    run,
    sent,
    sign_in,
    staff,
)
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form, stated_reason


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def test_sign_in_sets_a_strict_http_only_cookie_and_secure_headers(app: Flask) -> None:
    user = staff(app)
    client = app.test_client()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": login_csrf(client)}
    )
    cookie = response.headers["Set-Cookie"]
    assert "hotline_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.get_data(as_text=True)  # no inline scripts at all
    assert page.headers["X-Frame-Options"] == "DENY"


def test_each_sign_in_gets_a_new_session_id(app: Flask) -> None:
    user = staff(app)
    first, _ = sign_in(app, user)
    second, _ = sign_in(app, user)
    assert first.get_cookie("hotline_session").value != second.get_cookie("hotline_session").value  # type: ignore[union-attr]


def test_wrong_password_is_refused_and_recorded(app: Flask) -> None:
    user = staff(app)
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": user.email, "password": "wrong one", "csrf_token": login_csrf(client)},
    )
    assert response.status_code == 401
    assert "wrong email or password" in response.get_data(as_text=True)
    assert client.get("/console/api/me").status_code == 401
    with runtime_of(app).sessions() as session:
        kinds = session.scalars(select(Event.kind).where(Event.actor_id == user.id)).all()
    assert "sign_in_failed" in kinds


def test_sign_in_is_throttled_after_repeated_failures(app: Flask, clock: FakeClock) -> None:
    user = staff(app)
    client = app.test_client()
    for _ in range(5):
        client.post(
            "/login",
            data={"email": user.email, "password": "nope", "csrf_token": login_csrf(client)},
        )
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": login_csrf(client)}
    )
    assert response.status_code == 401
    assert "too many failed sign-ins" in response.get_data(as_text=True)
    clock.advance(16 * 60)
    sign_in(app, user)  # the window has passed


def test_login_form_without_its_csrf_token_is_refused(app: Flask) -> None:
    user = staff(app)
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_state_changes_need_the_csrf_token(app: Flask) -> None:
    user = staff(app)
    client, csrf = sign_in(app, user)
    refused = client.post("/console/api/availability", json={"availability": "available"})
    wrong = post(
        client, "not-the-token", "/console/api/availability", {"availability": "available"}
    )
    assert refused.status_code == wrong.status_code == 400
    assert client.get("/console/api/me").get_json()["availability"] == "away"
    assert (
        post(client, csrf, "/console/api/availability", {"availability": "available"}).status_code
        == 200
    )


def test_sign_out_really_ends_the_session(app: Flask) -> None:
    user = staff(app)
    client, csrf = sign_in(app, user)
    token = client.get_cookie("hotline_session").value  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("hotline_session", token)
    assert replay.get("/console/api/me").status_code == 401


def test_idle_and_too_old_sessions_end(app: Flask, clock: FakeClock) -> None:
    user = staff(app)
    client, _ = sign_in(app, user)
    clock.advance(29 * 60)
    assert client.get("/console/api/me").status_code == 200
    clock.advance(31 * 60)
    assert client.get("/console/api/me").status_code == 401
    client, _ = sign_in(app, user)
    for _ in range(26):  # active every 29 minutes, but 12 hours is the most a session lives
        clock.advance(29 * 60)
        last = client.get("/console/api/me").status_code
    assert last == 401


def test_deactivating_an_account_ends_its_sessions(app: Flask) -> None:
    user = staff(app)
    admin = staff(app, "admin")
    client, _ = sign_in(app, user)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, admin.id)
        assert actor is not None
        do_deactivate_account(session, runtime.triage, actor, user.id, runtime.clock.now())
    assert client.get("/console/api/me").status_code == 401
    with runtime.sessions() as session:
        live = session.scalar(
            select(func.count())
            .select_from(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        )
    assert live == 0


def test_two_factor_sign_in(app: Flask, clock: FakeClock) -> None:
    user = staff(app)
    client, csrf = sign_in(app, user)
    client.post("/account/two-factor/start", data={"csrf_token": csrf})  # GET changes nothing
    setup = client.get("/account/two-factor").get_data(as_text=True)
    key = re.search(r"<code>([A-Z2-7 ]+)</code>", setup).group(1)  # type: ignore[union-attr]
    secret = key.replace(" ", "")
    wrong = client.post("/account/two-factor", data={"csrf_token": csrf, "code": "000000"})
    assert wrong.status_code == 400
    code = totp.code_at(secret, clock.now().timestamp())
    assert (
        client.post("/account/two-factor", data={"csrf_token": csrf, "code": code}).status_code
        == 200  # the recovery codes, shown once
    )
    clock.advance(30)  # that code is spent: the next one signs in

    fresh = app.test_client()
    response = fresh.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": login_csrf(fresh)}
    )
    assert response.headers["Location"].endswith("/login/code")
    assert fresh.get("/console/api/me").status_code == 401  # password alone is not enough
    bad = fresh.post("/login/code", data={"code": "123456", "csrf_token": login_csrf(fresh)})
    assert bad.status_code == 401
    good = fresh.post(
        "/login/code",
        data={
            "code": totp.code_at(secret, clock.now().timestamp()),
            "csrf_token": login_csrf(fresh),
        },
    )
    assert good.status_code == 302
    assert fresh.get("/console/api/me").status_code == 200


def test_supervisors_must_set_up_two_factor_when_required(
    make_app: Callable[..., Flask], isolated_database_url: str
) -> None:
    app = make_app(isolated_database_url, settings_overrides={"require_2fa_for_supervisors": True})
    supervisor = staff(app, "supervisor")
    client = app.test_client()
    client.post(
        "/login",
        data={"email": supervisor.email, "password": PASSWORD, "csrf_token": login_csrf(client)},
    )
    assert (
        client.get("/console").headers["Location"].partition("?")[0].endswith("/account/two-factor")
    )
    assert client.get("/console/api/queue").status_code == 403
    advocate = staff(app)
    advocate_client, _ = sign_in(app, advocate)
    assert advocate_client.get("/console/api/queue").status_code == 200


def test_queue_shows_triage_summaries_in_priority_order(app: Flask) -> None:
    calm = queued_texter(app)
    urgent = queued_texter(app, "he has a gun")
    client, _ = sign_in(app, staff(app))
    items = client.get("/console/api/queue").get_json()["items"]
    assert [item["priority"] for item in items] == ["urgent", "normal"]
    assert items[0]["reasons"] == ["emergency: gun"]
    assert items[1]["needs"] == "I need help" and items[1]["safe_to_text"] is True
    assert all("timeline" not in item and "phone" not in item for item in items)
    assert calm != urgent


def test_take_next_reply_note_tag_transfer_and_close(app: Flask) -> None:
    phone = queued_texter(app)
    advocate, colleague = staff(app), staff(app)
    client, csrf = sign_in(app, advocate)
    other, other_csrf = sign_in(app, colleague)
    available(client, csrf)
    available(other, other_csrf)

    taken = post(client, csrf, "/console/api/queue/take-next", {})
    assert taken.status_code == 200
    conversation_id = taken.get_json()["conversation_id"]
    view = client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert view["mine"] and view["phone"].endswith(phone[-2:]) and phone[2:-2] not in view["phone"]
    messages = [i["body"] for i in view["timeline"] if i["type"] == "message"]
    assert messages[:2] == [
        "hi",
        "Hi, thanks for texting. Trained staff read this chat. Msg & data rates may "
        "apply. Reply STOP to opt out, HELP for help. Para español, responda "
        "ESPAÑOL. Are you in danger right now? Reply YES or NO.",
    ]

    reply = post(
        client, csrf, f"/console/api/conversations/{conversation_id}/reply", {"body": "I'm here."}
    )
    assert reply.status_code == 200
    run(app)
    assert sent(app)[-1] == "I'm here."
    assert (
        post(
            client,
            csrf,
            f"/console/api/conversations/{conversation_id}/notes",
            {"body": "seems safe"},
        ).status_code
        == 200
    )
    assert (
        post(
            client, csrf, f"/console/api/conversations/{conversation_id}/tags", {"tag": "Labor"}
        ).status_code
        == 200
    )
    view = client.get(f"/console/api/conversations/{conversation_id}").get_json()
    assert view["tags"] == ["labor"]
    assert any(i["type"] == "note" and i["body"] == "seems safe" for i in view["timeline"])
    assert "seems safe" not in sent(app)  # a note never reaches the texter

    moved = post(
        client,
        csrf,
        f"/console/api/conversations/{conversation_id}/transfer",
        {"to_advocate_id": colleague.id, "note": "Spanish speaker needed"},
    )
    assert moved.status_code == 200
    # Offered: Ann still holds the texter until her colleague accepts (a warm transfer).
    assert client.get(f"/console/api/conversations/{conversation_id}").status_code == 200
    accepted = post(
        other, other_csrf, f"/console/api/conversations/{conversation_id}/transfer/accept", {}
    )
    assert accepted.status_code == 200
    assert client.get(f"/console/api/conversations/{conversation_id}").status_code == 404
    assert other.get(f"/console/api/conversations/{conversation_id}").status_code == 200

    no_disposition = post(
        other,
        other_csrf,
        f"/console/api/conversations/{conversation_id}/close",
        {"disposition": ""},
    )
    assert no_disposition.status_code == 409
    closed = post(
        other,
        other_csrf,
        f"/console/api/conversations/{conversation_id}/close",
        {"disposition": "referred", "summary": "Referred to legal aid"},
    )
    assert closed.status_code == 200
    run(app)
    assert not sent(app)[-1].startswith("Thank you for talking with us.")
    clock = runtime_of(app).clock
    assert isinstance(clock, FakeClock)
    clock.advance(runtime_of(app).settings.reopen_minutes * 60 + 1)  # the reopen window ends
    jobs.fire_timers(runtime_of(app))
    run(app)
    assert sent(app)[-1].startswith("Thank you for talking with us.")
    with runtime_of(app).sessions() as session:
        done = session.get(Conversation, conversation_id)
        assert done is not None and done.disposition == "referred" and done.state is State.SURVEY


def test_changing_an_id_never_shows_or_changes_someone_elses_conversation(app: Flask) -> None:
    queued_texter(app)
    owner, intruder = staff(app), staff(app)
    client, csrf = sign_in(app, owner)
    available(client, csrf)
    conversation_id = post(client, csrf, "/console/api/queue/take-next", {}).get_json()[
        "conversation_id"
    ]
    thief, thief_csrf = sign_in(app, intruder)
    available(thief, thief_csrf)
    before = len(sent(app))

    assert thief.get(f"/console/api/conversations/{conversation_id}").status_code == 404
    for action, payload in (
        ("reply", {"body": "hello from someone else"}),
        ("notes", {"body": "snooping"}),
        ("tags", {"tag": "x"}),
        ("transfer", {"to_advocate_id": None}),
        ("close", {"disposition": "referred"}),
        ("claim", {}),
    ):
        response = post(
            thief, thief_csrf, f"/console/api/conversations/{conversation_id}/{action}", payload
        )
        assert response.status_code in (404, 409), action
    run(app)
    assert len(sent(app)) == before
    with runtime_of(app).sessions() as session:
        still = session.get(Conversation, conversation_id)
        assert (
            still is not None
            and still.advocate_id == owner.id
            and still.state is State.WITH_ADVOCATE
        )
    # A waiting texter's transcript is not the advocate's to read either.
    waiting = queued_texter(app)
    waiting_id = thief.get("/console/api/queue").get_json()["items"][0]["id"]
    assert thief.get(f"/console/api/conversations/{waiting_id}").status_code == 404
    assert waiting


def test_supervisors_may_read_any_conversation_and_it_is_audited(app: Flask) -> None:
    queued_texter(app)
    supervisor = staff(app, "supervisor")
    client, _ = sign_in(app, supervisor)
    conversation_id = client.get("/console/api/queue").get_json()["items"][0]["id"]
    assert client.get(f"/console/api/conversations/{conversation_id}").status_code == 200
    with runtime_of(app).sessions() as session:
        viewed = session.scalars(
            select(Event).where(Event.kind == "transcript_viewed", Event.actor_id == supervisor.id)
        ).all()
    assert [e.conversation_id for e in viewed] == [conversation_id]


def test_away_advocates_and_full_advocates_are_offered_nothing(
    make_app: Callable[..., Flask], isolated_database_url: str
) -> None:
    app = make_app(isolated_database_url, settings_overrides={"capacity": 1})
    queued_texter(app)
    queued_texter(app)
    client, csrf = sign_in(app, staff(app))
    away = post(client, csrf, "/console/api/queue/take-next", {})
    assert away.status_code == 409 and "away" in away.get_json()["error"]
    available(client, csrf)
    assert post(client, csrf, "/console/api/queue/take-next", {}).status_code == 200
    full = post(client, csrf, "/console/api/queue/take-next", {})
    assert full.status_code == 409 and "close one first" in full.get_json()["error"]


def test_no_reply_to_a_texter_who_texted_stop(app: Flask) -> None:
    phone = queued_texter(app)
    client, csrf = sign_in(app, staff(app))
    available(client, csrf)
    conversation_id = post(client, csrf, "/console/api/queue/take-next", {}).get_json()[
        "conversation_id"
    ]
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "STOP")).status_code == 200
    run(app)
    refused = post(
        client, csrf, f"/console/api/conversations/{conversation_id}/reply", {"body": "hello?"}
    )
    assert refused.status_code in (404, 409)
    run(app)
    assert "hello?" not in sent(app)


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"body": ""}, 409, "write a reply first"),
        ({"body": "x" * 1601}, 409, "a reply is at most 1600 characters"),
        ({"body": 5}, 400, "body must be text"),
        ([], 400, "send a JSON object"),
    ],
)
def test_bad_replies_are_refused_and_send_nothing(
    app: Flask, payload: Any, status: int, error: str
) -> None:
    queued_texter(app)
    client, csrf = sign_in(app, staff(app))
    available(client, csrf)
    conversation_id = post(client, csrf, "/console/api/queue/take-next", {}).get_json()[
        "conversation_id"
    ]
    before = len(sent(app))
    response = post(client, csrf, f"/console/api/conversations/{conversation_id}/reply", payload)
    assert response.status_code == status and response.get_json()["error"] == error
    run(app)
    assert len(sent(app)) == before
    with runtime_of(app).sessions() as session:
        authored = session.scalar(
            select(func.count()).select_from(Message).where(Message.author_id.is_not(None))
        )
    assert authored == 0


def test_live_counters_move_when_a_text_arrives(app: Flask) -> None:
    phone = queued_texter(app)
    client, csrf = sign_in(app, staff(app))
    available(client, csrf)
    conversation_id = post(client, csrf, "/console/api/queue/take-next", {}).get_json()[
        "conversation_id"
    ]
    before = client.get(f"/console/api/poll?conversations={conversation_id}").get_json()
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "are you there?"))
    run(app)
    after = client.get(f"/console/api/poll?conversations={conversation_id}").get_json()
    assert (
        after["conversations"][str(conversation_id)] > before["conversations"][str(conversation_id)]
    )


def test_twenty_concurrent_claims_give_exactly_one_owner(
    make_app: Callable[..., Flask], isolated_database_url: str
) -> None:
    app = make_app(isolated_database_url, settings_overrides={"capacity": 5})
    queued_texter(app)
    runtime = runtime_of(app)
    advocates = [staff(app) for _ in range(20)]
    with runtime.sessions.begin() as session:
        for advocate in advocates:
            session.get(StaffUser, advocate.id).availability = "available"  # type: ignore[union-attr,assignment]
        conversation_id = session.scalars(select(Conversation.id)).one()
    handling = Handling(Console(runtime.triage, 5))
    barrier = threading.Barrier(20)
    winners: list[int] = []
    losers: list[str] = []

    def claim(advocate_id: int) -> None:
        barrier.wait()
        try:
            with runtime.sessions.begin() as session:
                user = session.get(StaffUser, advocate_id)
                assert user is not None
                handling.claim(session, user, conversation_id, runtime.clock.now())
            winners.append(advocate_id)
        except Exception as error:
            losers.append(str(error))

    threads = [threading.Thread(target=claim, args=(a.id,)) for a in advocates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1, losers
    assert len(losers) == 19
    assert all("another advocate has them" in loss for loss in losers), set(losers)
    with runtime.sessions() as session:
        owner = session.get(Conversation, conversation_id)
        assert owner is not None and owner.advocate_id == winners[0]
        claims = session.scalars(
            select(Event).where(Event.kind == "claimed", Event.conversation_id == conversation_id)
        ).all()
    assert len(claims) == 1


def test_only_a_supervisor_with_a_reason_may_reveal_a_number(app: Flask) -> None:
    phone = queued_texter(app)
    advocate_client, advocate_csrf = sign_in(app, staff(app))
    available(advocate_client, advocate_csrf)
    conversation_id = post(
        advocate_client, advocate_csrf, "/console/api/queue/take-next", {}
    ).get_json()["conversation_id"]
    refused = post(
        advocate_client,
        advocate_csrf,
        f"/console/api/conversations/{conversation_id}/reveal-number",
        {"reason": "I want to call them back"},
    )
    assert refused.status_code == 403 and phone not in refused.get_data(as_text=True)

    supervisor = staff(app, "supervisor")
    client, csrf = sign_in(app, supervisor)
    no_reason = post(
        client,
        csrf,
        f"/console/api/conversations/{conversation_id}/reveal-number",
        {"reason": "why"},
    )
    assert no_reason.status_code == 409 and "state why" in no_reason.get_json()["error"]
    revealed = post(
        client,
        csrf,
        f"/console/api/conversations/{conversation_id}/reveal-number",
        {"reason": "Emergency referral to police, texter asked"},
    )
    assert revealed.status_code == 200 and revealed.get_json()["number"] == phone
    with runtime_of(app).sessions() as session:
        audit = session.scalars(select(Event).where(Event.kind == "number_revealed")).all()
    assert [(e.actor_id, e.conversation_id) for e in audit] == [(supervisor.id, conversation_id)]
    assert stated_reason(app, audit[0]) == "Emergency referral to police, texter asked"
    assert "Emergency referral" not in str(audit[0].detail)  # apart, encrypted, erasable


def test_a_supervisor_erases_a_texter_with_a_reason(app: Flask) -> None:
    phone = queued_texter(app)
    advocate_client, advocate_csrf = sign_in(app, staff(app))
    conversation_id = advocate_client.get("/console/api/queue").get_json()["items"][0]["id"]
    assert (
        post(
            advocate_client,
            advocate_csrf,
            f"/console/api/conversations/{conversation_id}/erase-texter",
            {"reason": "texter asked on the phone"},
        ).status_code
        == 403
    )
    client, csrf = sign_in(app, staff(app, "supervisor"))
    assert (
        post(
            client,
            csrf,
            f"/console/api/conversations/{conversation_id}/erase-texter",
            {"reason": ""},
        ).status_code
        == 409
    )
    erased = post(
        client,
        csrf,
        f"/console/api/conversations/{conversation_id}/erase-texter",
        {"reason": "texter asked on the phone"},
    )
    assert erased.status_code == 200
    with runtime_of(app).sessions() as session:
        bodies = session.scalars(
            select(Message.body_ciphertext).where(Message.conversation_id == conversation_id)
        ).all()
        done = session.get(Conversation, conversation_id)
        assert done is not None and done.state is State.ENDED and done.close_reason == "erased"
    assert bodies and all(body is None for body in bodies)
    before = len(sent(app))
    run(app)
    assert len(sent(app)) == before  # erased quietly: nothing is texted
    assert client.get("/console/api/queue").get_json()["items"] == []
    assert phone
