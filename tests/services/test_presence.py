"""An advocate who leaves does not take texters with them (issue 13), on both databases.

Signing out hands held texters on (to the queue, keeping their place, or to a connected
colleague); a console that stops polling (closed, asleep, session ended) has its advocate set
away and their texters returned by the periodic job after the grace period, with an alert for
supervisors; absent advocates are never offered or accepted for a transfer or reassignment.
Driven through the web API and the real jobs (``release_absent``, ``fire_timers``) with the
injected clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Availability, Conversation, Event, StaffSession, StaffUser
from hotline.domain.triage import State
from hotline.services.presence import WRITE_EVERY
from tests.console_client import (
    available,
    post,
    queued_texter,
    run,
    sign_in,
    staff,
)
from tests.fakes import FakeClock
from tests.helpers import conversations_of

GRACE_SECONDS = 120  # the default presence_grace_minutes


def told_place(text: str, place: int) -> bool:
    """Their place in line, in any of the queue's wordings (first with a colleague free is
    "You're next")."""
    return f"You are number {place} in line" in text or (place == 1 and "You're next" in text)


def assert_waiting_timers(app: Flask, phones: list[str]) -> None:
    for phone in phones:
        waiting = conversations_of(app, phone)[-1]
        assert waiting.state is State.QUEUED and waiting.advocate_id is None
        assert waiting.timer == "wait_update" and waiting.timer_due_at is not None


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


class Advocate:
    """A staff member with a console open in a test client."""

    def __init__(self, app: Flask, role: str = "advocate") -> None:
        self.app = app
        self.user = staff(app, role)
        self.id = self.user.id
        self.client, self.csrf = sign_in(app, self.user)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        return post(self.client, self.csrf, path, payload)

    def available(self) -> None:
        available(self.client, self.csrf)

    def poll(self, *, working: bool = False) -> int:
        """The console's poll; ``working``: the person typed or clicked since the last one."""
        headers = {"X-Hotline-Input": "1"} if working else {}
        return int(self.client.get("/console/api/poll", headers=headers).status_code)

    def take_next(self) -> int:
        taken = self.post("/console/api/queue/take-next", {})
        assert taken.status_code == 200, taken.get_json()
        return int(taken.get_json()["conversation_id"])

    def signed_in(self) -> bool:
        return self.client.get("/console/api/me").status_code == 200


def conversation(app: Flask, conversation_id: int) -> Conversation:
    with runtime_of(app).sessions() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        return found


def user(app: Flask, staff_id: int) -> StaffUser:
    with runtime_of(app).sessions() as session:
        found = session.get(StaffUser, staff_id)
        assert found is not None
        return found


def events(app: Flask, kind: str, **where: Any) -> list[Event]:
    with runtime_of(app).sessions() as session:
        found = session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)).all()
    return [e for e in found if all(getattr(e, k) == v for k, v in where.items())]


def alerts(app: Flask) -> list[Event]:
    return [e for e in events(app, "alert") if e.detail.get("alert") == "advocate_gone"]


def sent_to(app: Flask, phone: str) -> list[str]:
    from hotline.sms.sender import LocalSender

    sender = runtime_of(app).sender
    assert isinstance(sender, LocalSender)
    return [text.body for _, text, _ in sender.outbox if text.to == phone]


def release(app: Flask) -> list[int]:
    looked_at = jobs.release_absent(runtime_of(app))
    run(app)  # the replies the returns stored ("you are number N")
    return looked_at


def tick(app: Flask, clock: FakeClock, minutes: float) -> None:
    clock.advance(minutes * 60)
    jobs.fire_timers(runtime_of(app))
    run(app)


def phone_of(app: Flask, phone: str) -> int:
    return conversations_of(app, phone)[-1].id


def two_held(app: Flask, clock: FakeClock) -> tuple[Advocate, list[str], list[int], str]:
    """An advocate holding the two oldest of three waiting texters; the third still waits."""
    first, second, third = queued_texter(app), queued_texter(app), queued_texter(app)
    advocate = Advocate(app)
    advocate.available()
    clock.advance(30)
    held = [advocate.take_next(), advocate.take_next()]
    assert held == [phone_of(app, first), phone_of(app, second)]
    return advocate, [first, second], held, third


def assert_back_in_line(app: Flask, held: list[int], queued_at: list[datetime | None]) -> None:
    """Back in the queue, nobody holding them, their first queued time kept, a wait timer on."""
    for conversation_id, was_queued_at in zip(held, queued_at, strict=True):
        back = conversation(app, conversation_id)
        assert back.state is State.QUEUED and back.advocate_id is None
        assert back.queued_at == was_queued_at
        assert back.timer == "wait_update" and back.timer_due_at is not None


# -- signing out -----------------------------------------------------------------------------


def test_sign_out_hands_each_texter_back_keeping_their_place(app: Flask, clock: FakeClock) -> None:
    advocate, phones, held, later = two_held(app, clock)
    queued_at = [conversation(app, i).queued_at for i in held]
    clock.advance(60)

    left = advocate.post("/console/api/sign-out", {"conversations": "queue"})

    assert left.status_code == 200
    assert left.get_json() == {"signed_out": True, "returned": 2, "transferred": 0}
    assert not advocate.signed_in()
    assert user(app, advocate.id).availability is Availability.AWAY
    assert_back_in_line(app, held, queued_at)
    run(app)
    # Ahead of the texter who came after them: they are told numbers 1 and 2 again.
    assert told_place(sent_to(app, phones[0])[-1], 1)
    assert told_place(sent_to(app, phones[1])[-1], 2)
    with runtime_of(app).sessions() as session:
        live = session.scalars(
            select(StaffSession).where(
                StaffSession.user_id == advocate.id, StaffSession.ended_at.is_(None)
            )
        ).all()
    assert live == []
    [signed_out] = events(app, "sign_out", actor_id=advocate.id)
    assert signed_out.detail == {"returned": 2, "transferred": 0}
    for conversation_id in held:
        assert len(events(app, "returned_to_queue", conversation_id=conversation_id)) == 1
        [moved] = events(app, "transferred", conversation_id=conversation_id)
        assert moved.actor_id == advocate.id and moved.detail == {"to": "queue"}
    away = events(app, "availability", actor_id=advocate.id)[-1]
    assert away.detail == {"availability": "away", "reason": "sign_out"}

    # And their wait timers run again, where nobody was answering them before.
    assert_waiting_timers(app, phones)
    assert conversation(app, phone_of(app, later)).state is State.QUEUED


def test_sign_out_can_transfer_every_texter_to_a_connected_colleague(
    app: Flask, clock: FakeClock
) -> None:
    advocate, _, held, _ = two_held(app, clock)
    colleague = Advocate(app)
    colleague.available()

    left = advocate.post(
        "/console/api/sign-out", {"conversations": "transfer", "to_advocate_id": colleague.id}
    )

    assert left.status_code == 200
    assert left.get_json() == {"signed_out": True, "returned": 0, "transferred": 2}
    assert not advocate.signed_in()
    for conversation_id in held:
        moved = conversation(app, conversation_id)
        assert moved.advocate_id == colleague.id and moved.state is State.WITH_ADVOCATE
        assert (
            colleague.client.get(f"/console/api/conversations/{conversation_id}").status_code == 200
        )
        [event] = events(app, "transferred", conversation_id=conversation_id)
        assert event.actor_id == advocate.id
        assert event.detail == {"to": colleague.user.name, "to_staff": colleague.user.id}
    [signed_out] = events(app, "sign_out", actor_id=advocate.id)
    assert signed_out.detail == {"returned": 0, "transferred": 2}
    assert user(app, advocate.id).availability is Availability.AWAY


def test_the_sign_out_form_without_a_choice_hands_texters_back(
    app: Flask, clock: FakeClock
) -> None:
    advocate, _, held, _ = two_held(app, clock)
    queued_at = [conversation(app, i).queued_at for i in held]

    response = advocate.client.post("/logout", data={"csrf_token": advocate.csrf})

    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not advocate.signed_in()
    assert_back_in_line(app, held, queued_at)
    assert user(app, advocate.id).availability is Availability.AWAY


def test_signing_out_holding_nothing_sets_away(app: Flask) -> None:
    advocate = Advocate(app)
    advocate.available()
    left = advocate.post("/console/api/sign-out", {})
    assert left.status_code == 200 and left.get_json()["returned"] == 0
    assert user(app, advocate.id).availability is Availability.AWAY
    assert user(app, advocate.id).console_seen_at is None  # the board shows them gone at once


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"conversations": "bin"}, 400, 'conversations must be "queue"'),
        ({"conversations": 3}, 400, 'conversations must be "queue"'),
        ({"conversations": "transfer"}, 400, "to_advocate_id is required"),
        ({"conversations": "transfer", "to_advocate_id": "5"}, 400, "to_advocate_id must be"),
        ({"conversations": "transfer", "to_advocate_id": 987654}, 400, "to_advocate_id is not"),
        ({"conversations": "queue", "to_advocate_id": 987654}, 400, "to_advocate_id goes only"),
        ({"conversations": "transfer", "to_advocate_id": "self"}, 400, "to_advocate_id is not"),
        ({"conversations": "transfer", "to_advocate_id": "gone"}, 409, "not connected"),
        ({"conversations": "transfer", "to_advocate_id": "away"}, 409, "that advocate is away"),
        ({"conversations": "transfer", "to_advocate_id": "busy"}, 409, "room for only 1 more"),
    ],
)
def test_a_refused_sign_out_changes_nothing(
    app: Flask, clock: FakeClock, payload: dict[str, Any], status: int, error: str
) -> None:
    advocate, _, held, _ = two_held(app, clock)
    gone, away, busy = Advocate(app), Advocate(app), Advocate(app)
    for colleague in (gone, away, busy):
        colleague.available()
    away.post("/console/api/availability", {"availability": "away"})
    queued_texter(app)
    busy.take_next()
    busy.take_next()  # holds two of three: room for one
    clock.advance(GRACE_SECONDS - 20)
    for colleague in (advocate, away, busy):
        assert colleague.poll() == 200  # everyone but `gone` still has the console open
    clock.advance(30)
    named = {"self": advocate.id, "gone": gone.id, "away": away.id, "busy": busy.id}
    target = payload.get("to_advocate_id")
    if isinstance(target, str) and target in named:
        payload = {**payload, "to_advocate_id": named[target]}
    events_before = len(events(app, "sign_out")) + len(events(app, "transferred"))

    refused = advocate.post("/console/api/sign-out", payload)

    assert refused.status_code == status
    assert error in refused.get_json()["error"]
    assert advocate.signed_in()
    assert user(app, advocate.id).availability is Availability.AVAILABLE
    for conversation_id in held:
        kept = conversation(app, conversation_id)
        assert kept.advocate_id == advocate.id and kept.state is State.WITH_ADVOCATE
    assert len(events(app, "sign_out")) + len(events(app, "transferred")) == events_before


def test_the_sign_out_form_refuses_a_bad_colleague_id(app: Flask, clock: FakeClock) -> None:
    advocate, _, held, _ = two_held(app, clock)
    refused = advocate.client.post(
        "/logout",
        data={"csrf_token": advocate.csrf, "conversations": "transfer", "to_advocate_id": "x1"},
    )
    assert refused.status_code == 400
    assert "to_advocate_id" in refused.get_json()["error"]
    assert advocate.signed_in()
    assert conversation(app, held[0]).advocate_id == advocate.id


# -- leaving without signing out ---------------------------------------------------------------


@pytest.mark.parametrize("ending", ["idle", "age", "closed"])
def test_after_the_grace_a_gone_advocates_texters_go_back_with_an_alert(
    app: Flask, clock: FakeClock, ending: str
) -> None:
    advocate, phones, held, _ = two_held(app, clock)
    queued_at = [conversation(app, i).queued_at for i in held]
    if ending == "age":
        # At work all shift, polling: then the session reaches its 12 hours and ends.
        for _ in range(24):
            clock.advance(29 * 60)
            assert advocate.poll(working=True) == 200
            assert release(app) == []  # a polling advocate is never touched
        while advocate.poll(working=True) == 200:
            clock.advance(30)
        # The polls stopped only now: the grace counts from the last one that got through.
        assert release(app) == []
        assert conversation(app, held[0]).advocate_id == advocate.id
        clock.advance(GRACE_SECONDS)
    elif ending == "idle":
        clock.advance(31 * 60)  # no request at all: the session idles out
        assert advocate.poll() == 401
    else:
        assert advocate.poll() == 200
        clock.advance(GRACE_SECONDS - 5)  # browser closed: within the grace nothing happens
        assert release(app) == [] and alerts(app) == []
        assert conversation(app, held[0]).advocate_id == advocate.id
        clock.advance(10)
    before = [len(sent_to(app, p)) for p in phones]

    assert release(app) == [advocate.id]

    assert_back_in_line(app, held, queued_at)
    assert user(app, advocate.id).availability is Availability.AWAY
    [alert] = alerts(app)
    assert alert.actor_id is None and alert.conversation_id is None
    assert alert.detail["advocate_id"] == advocate.id
    assert alert.detail["conversations"] == 2
    assert alert.detail["conversation_ids"] == held
    for conversation_id in held:
        [returned] = events(app, "returned_to_queue", conversation_id=conversation_id)
        assert returned.actor_id is None
        assert returned.detail == {"reason": "advocate_gone", "advocate_id": advocate.id}
    for phone, count in zip(phones, before, strict=True):
        assert len(sent_to(app, phone)) == count + 1  # "you are number N" once more
    assert told_place(sent_to(app, phones[0])[-1], 1)

    assert release(app) == [] and len(alerts(app)) == 1  # once done, done
    if ending == "closed":
        # The laptop wakes up: the session lives on, and the console learns it was set away.
        polled = advocate.client.get("/console/api/poll")
        assert polled.status_code == 200 and polled.get_json()["availability"] == "away"
        assert advocate.client.get("/console/api/queue").get_json()["mine"] == []
    # Their wait timers run again (what a timer then sends follows the waiting rules: few
    # unprompted texts, an update only when the place moved).
    assert_waiting_timers(app, phones)


def test_a_polling_advocate_keeps_their_texters_and_polls_are_not_writes(
    app: Flask, clock: FakeClock
) -> None:
    advocate, _, held, _ = two_held(app, clock)
    assert advocate.poll() == 200
    first_seen = user(app, advocate.id).console_seen_at
    clock.advance(WRITE_EVERY.total_seconds() - 1)
    assert advocate.poll() == 200
    assert user(app, advocate.id).console_seen_at == first_seen  # not written again yet
    for _ in range(20):  # ten minutes, the console open, the job running all along
        clock.advance(30)
        assert advocate.poll() == 200
        assert release(app) == []
    assert user(app, advocate.id).console_seen_at != first_seen
    for conversation_id in held:
        assert conversation(app, conversation_id).advocate_id == advocate.id
    assert user(app, advocate.id).availability is Availability.AVAILABLE
    assert alerts(app) == []


def test_an_away_advocate_finishing_their_conversations_is_left_alone(
    app: Flask, clock: FakeClock
) -> None:
    advocate, _, held, _ = two_held(app, clock)
    assert advocate.post("/console/api/availability", {"availability": "away"}).status_code == 200
    for _ in range(8):
        clock.advance(30)
        assert advocate.poll() == 200
        assert release(app) == []
    assert conversation(app, held[0]).advocate_id == advocate.id


def test_an_available_advocate_who_leaves_holding_nothing_is_set_away_with_an_alert(
    app: Flask, clock: FakeClock
) -> None:
    advocate = Advocate(app)
    advocate.available()
    clock.advance(GRACE_SECONDS + 1)
    assert release(app) == [advocate.id]
    assert user(app, advocate.id).availability is Availability.AWAY
    [alert] = alerts(app)
    assert alert.detail["conversations"] == 0
    [away] = [e for e in events(app, "availability") if e.detail.get("staff_id") == advocate.id]
    assert away.actor_id is None and away.detail["reason"] == "advocate_gone"


def test_two_beats_at_once_return_each_texter_once(app: Flask, clock: FakeClock) -> None:
    _, phones, held, _ = two_held(app, clock)
    clock.advance(GRACE_SECONDS + 1)
    before = [len(sent_to(app, p)) for p in phones]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            barrier.wait()
            jobs.release_absent(runtime_of(app))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    run(app)

    assert errors == []
    assert len(alerts(app)) == 1
    for conversation_id in held:
        assert len(events(app, "returned_to_queue", conversation_id=conversation_id)) == 1
    for phone, count in zip(phones, before, strict=True):
        assert len(sent_to(app, phone)) == count + 1


# -- never offered, never accepted -------------------------------------------------------------


def colleagues(app: Flask, clock: FakeClock) -> tuple[Advocate, int, dict[str, int]]:
    """An advocate holding one texter, and colleagues: connected, gone quiet, away, and one who
    never opened the console at all (available only in the database)."""
    queued_texter(app)
    advocate = Advocate(app)
    advocate.available()
    conversation_id = advocate.take_next()
    named = {name: Advocate(app) for name in ("connected", "gone", "away")}
    for colleague in named.values():
        colleague.available()
    named["away"].post("/console/api/availability", {"availability": "away"})
    clock.advance(GRACE_SECONDS + 1)
    for name in ("connected", "away"):
        assert named[name].poll() == 200
    assert advocate.poll() == 200
    never = staff(app)
    with runtime_of(app).sessions.begin() as session:
        row = session.get(StaffUser, never.id)
        assert row is not None
        row.availability = Availability.AVAILABLE
    return (
        advocate,
        conversation_id,
        {name: c.id for name, c in named.items()} | {"never": never.id},
    )


def test_transfer_lists_offer_only_connected_available_colleagues(
    app: Flask, clock: FakeClock
) -> None:
    advocate, _, named = colleagues(app, clock)
    offered = advocate.client.get("/console/api/advocates").get_json()["items"]
    assert [a["id"] for a in offered] == [named["connected"]]


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("gone", "that advocate is not connected"),
        ("never", "that advocate is not connected"),
        ("away", "that advocate is away"),
    ],
)
def test_a_transfer_or_reassignment_to_someone_absent_is_refused_and_changes_nothing(
    app: Flask, clock: FakeClock, who: str, error: str
) -> None:
    advocate, conversation_id, named = colleagues(app, clock)
    supervisor = Advocate(app, "supervisor")

    attempts: list[Callable[[], Any]] = [
        lambda: advocate.post(
            f"/console/api/conversations/{conversation_id}/transfer",
            {"to_advocate_id": named[who]},
        ),
        lambda: supervisor.post(
            f"/supervisor/api/conversations/{conversation_id}/reassign",
            {"to_staff_id": named[who]},
        ),
    ]
    for attempt in attempts:
        refused = attempt()
        assert refused.status_code == 409
        assert refused.get_json()["error"].startswith(error)
        kept = conversation(app, conversation_id)
        assert kept.advocate_id == advocate.id and kept.state is State.WITH_ADVOCATE
    assert events(app, "transferred", conversation_id=conversation_id) == []
    assert events(app, "reassigned", conversation_id=conversation_id) == []

    # The one who is there is offered it (a warm transfer: theirs once they accept).
    moved = advocate.post(
        f"/console/api/conversations/{conversation_id}/transfer",
        {"to_advocate_id": named["connected"]},
    )
    assert moved.status_code == 200
    assert conversation(app, conversation_id).advocate_id == advocate.id
    assert len(events(app, "transfer_offered", conversation_id=conversation_id)) == 1


def test_the_board_shows_who_is_connected_not_only_who_is_available(
    app: Flask, clock: FakeClock
) -> None:
    _, _, named = colleagues(app, clock)
    supervisor = Advocate(app, "supervisor")
    board = supervisor.client.get("/supervisor/api/board").get_json()
    shown = {a["id"]: a for a in board["advocates"]}
    assert shown[named["connected"]]["connected"] is True
    assert shown[named["connected"]]["availability"] == "available"
    assert shown[named["gone"]]["connected"] is False
    assert shown[named["gone"]]["availability"] == "available"
    assert shown[named["gone"]]["seen_seconds"] == GRACE_SECONDS + 1
    assert shown[named["never"]]["connected"] is False
    assert shown[named["never"]]["seen_seconds"] is None
    listed = supervisor.client.get("/supervisor/api/staff").get_json()["items"]
    connected = {u["id"]: u["connected"] for u in listed}
    assert connected[named["connected"]] and not connected[named["gone"]]


def test_nothing_about_a_texter_in_the_presence_job_log(
    app: Flask, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    advocate, phones, _, _ = two_held(app, clock)
    clock.advance(GRACE_SECONDS + 1)
    with caplog.at_level("DEBUG"):
        release(app)
    assert f"staff {advocate.id} left without signing out" in caplog.text
    for phone in phones:
        assert phone not in caplog.text and phone[2:] not in caplog.text
    assert "I need help" not in caplog.text
