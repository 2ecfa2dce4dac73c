"""Closing asks first when it matters, can be undone for a few minutes, and the survey goes only
to texters a person answered who were never urgent (issue 18, item 5).

Through the real paths on both databases: the console's HTTP API, texts into the signed webhook
processed by ``process_pending`` (the in-process queue), and the timer job
(``jobs.fire_timers``) on a fake clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline import runtime_of
from hotline.db.models import Conversation, ConversationStatus
from hotline.domain.triage import State
from tests.console_client import available, post, queued_texter, run, sign_in, staff
from tests.fakes import FakeClock
from tests.helpers import conversations_of, events_of, texter_of
from tests.texting import said, sent_to, text_in, tick


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


class Advocate:
    """An advocate signed in at the console, holding one texter."""

    def __init__(self, app: Flask, phone: str) -> None:
        self.app = app
        self.user = staff(app)
        self.client, self.csrf = sign_in(app, self.user)
        available(self.client, self.csrf)
        taken = post(self.client, self.csrf, "/console/api/queue/take-next", {})
        assert taken.status_code == 200, taken.get_json()
        self.conversation_id: int = taken.get_json()["conversation_id"]
        assert conversations_of(app, phone)[-1].id == self.conversation_id

    def post(self, action: str, payload: dict[str, Any]) -> Any:
        path = f"/console/api/conversations/{self.conversation_id}/{action}"
        return post(self.client, self.csrf, path, payload)

    def reply(self, body: str = "I am here to help.") -> None:
        assert self.post("reply", {"body": body}).status_code == 200
        run(self.app)  # sent

    def close(self, **extra: Any) -> Any:
        return self.post("close", {"disposition": "referred", "summary": "Legal aid.", **extra})


def current(app: Flask, conversation_id: int) -> Conversation:
    with runtime_of(app).sessions() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        return found


def window(app: Flask) -> float:
    return runtime_of(app).settings.reopen_minutes


def test_closing_a_texter_nobody_answered_asks_first_and_changes_nothing(app: Flask) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)

    refused = ann.close()

    assert refused.status_code == 409
    assert refused.get_json() == {"error": "confirm closing: no reply was ever sent to the texter"}
    still = current(app, ann.conversation_id)
    assert still.state is State.WITH_ADVOCATE and still.status is ConversationStatus.OPEN
    assert still.disposition is None
    assert "closed_by_advocate" not in [e.kind for e in events_of(app, phone)]

    bad = ann.close(confirmed="yes")
    assert bad.status_code == 400 and bad.get_json() == {"error": "confirmed must be true or false"}
    assert current(app, ann.conversation_id).state is State.WITH_ADVOCATE


def test_confirmed_the_close_happens_and_no_survey_goes_to_a_texter_nobody_answered(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    before = len(sent_to(app, phone))

    closed = ann.close(confirmed=True)

    assert closed.status_code == 200
    until = clock.now() + timedelta(minutes=window(app))
    assert closed.get_json() == {"ok": True, "reopen_until": until.isoformat()}
    assert datetime.fromisoformat(closed.get_json()["reopen_until"]) == until
    assert current(app, ann.conversation_id).state is State.JUST_CLOSED
    tick(app, clock, window(app) + 0.5)
    ended = current(app, ann.conversation_id)
    assert ended.state is State.ENDED and ended.status is ConversationStatus.CLOSED
    assert sent_to(app, phone)[before:] == [], "no survey: no person ever answered them"


def test_an_unanswered_last_text_and_an_urgent_texter_are_reasons_to_confirm(app: Flask) -> None:
    urgent = queued_texter(app, "he has a gun")
    ben = Advocate(app, urgent)
    ben.reply("Are you somewhere safe?")
    text_in(app, urgent, "no he is still here")

    refused = ben.close()

    assert refused.status_code == 409
    assert refused.get_json()["error"] == (
        "confirm closing: the texter's last text has no answer; the conversation is urgent"
    )
    assert current(app, ben.conversation_id).state is State.WITH_ADVOCATE


def test_an_answered_conversation_closes_at_once_and_the_survey_waits_for_the_window(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    before = len(sent_to(app, phone))

    assert ann.close().status_code == 200

    assert sent_to(app, phone)[before:] == [], "nothing yet: the advocate may still reopen"
    tick(app, clock, window(app) - 0.5)
    assert current(app, ann.conversation_id).state is State.JUST_CLOSED
    tick(app, clock, 1)
    assert sent_to(app, phone)[before:] == [said(app, "survey_question")]
    assert current(app, ann.conversation_id).state is State.SURVEY


def test_an_urgent_texter_never_gets_the_survey(app: Flask, clock: FakeClock) -> None:
    phone = queued_texter(app, "he has a gun")
    ann = Advocate(app, phone)
    ann.reply()
    before = len(sent_to(app, phone))

    assert ann.close(confirmed=True).status_code == 200
    tick(app, clock, window(app) + 1)

    assert current(app, ann.conversation_id).state is State.ENDED
    assert said(app, "survey_question") not in sent_to(app, phone)[before:]


def test_the_advocate_reopens_within_the_window_and_no_survey_goes(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    before = len(sent_to(app, phone))
    tick(app, clock, 1)

    reopened = ann.post("reopen", {})

    assert reopened.status_code == 200 and reopened.get_json() == {"ok": True}
    back = current(app, ann.conversation_id)
    assert back.state is State.WITH_ADVOCATE and back.status is ConversationStatus.OPEN
    assert back.advocate_id == ann.user.id and back.closed_at is None and back.timer is None
    assert ann.client.get(f"/console/api/conversations/{ann.conversation_id}").status_code == 200
    assert [e.kind for e in events_of(app, phone)].count("reopened") == 1
    tick(app, clock, window(app) + 1)
    assert sent_to(app, phone)[before:] == [], "reopened: no survey"
    assert current(app, ann.conversation_id).state is State.WITH_ADVOCATE
    assert ann.close().status_code == 200, "closed again, as any conversation"


def test_reopening_is_refused_after_the_window_or_to_anyone_else(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    other = staff(app)
    client, csrf = sign_in(app, other)
    path = f"/console/api/conversations/{ann.conversation_id}/reopen"

    stranger = post(client, csrf, path, {})
    assert stranger.status_code == 409
    assert stranger.get_json() == {"error": "this conversation can no longer be reopened"}

    clock.advance(window(app) * 60 + 1)  # the window is over, and the timer not fired yet
    late = ann.post("reopen", {})
    assert late.status_code == 409
    assert late.get_json() == {"error": "the time to reopen this conversation is over"}
    assert current(app, ann.conversation_id).state is State.JUST_CLOSED
    tick(app, clock, 0)
    assert ann.post("reopen", {}).status_code == 409
    assert current(app, ann.conversation_id).state is State.SURVEY


def test_thanks_in_the_window_is_kept_quietly_and_the_survey_still_goes(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    before = len(sent_to(app, phone))

    text_in(app, phone, "thank you so much, bye")

    assert len(conversations_of(app, phone)) == 1
    assert sent_to(app, phone)[before:] == []
    tick(app, clock, window(app) + 1)
    assert sent_to(app, phone)[before:] == [said(app, "survey_question")]


def test_a_new_request_in_the_window_is_a_new_conversation_for_a_person_never_lost(
    app: Flask, clock: FakeClock
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    before = len(sent_to(app, phone))

    text_in(app, phone, "wait, I forgot to ask about my passport")

    old, new = conversations_of(app, phone)
    assert old.state is State.ENDED
    assert new.state is State.AWAIT_DANGER and new.status is ConversationStatus.OPEN
    assert sent_to(app, phone)[before:] == [said(app, "welcome")]
    assert ann.post("reopen", {}).status_code == 409, "their new conversation is the one to take"
    tick(app, clock, window(app) + 1)
    assert said(app, "survey_question") not in sent_to(app, phone)


def test_emergency_words_in_the_window_get_the_guidance_and_the_head_of_the_queue(
    app: Flask,
) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    before = len(sent_to(app, phone))

    text_in(app, phone, "he is here now")

    assert sent_to(app, phone)[before:] == [said(app, "emergency"), said(app, "queued_emergency")]
    new = conversations_of(app, phone)[-1]
    assert new.id != ann.conversation_id and new.state is State.QUEUED


def test_stop_in_the_window_ends_it_and_nothing_more_is_sent(app: Flask, clock: FakeClock) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200

    text_in(app, phone, "STOP")
    after_stop = len(sent_to(app, phone))
    tick(app, clock, window(app) + 1)

    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out_at is not None
    assert current(app, ann.conversation_id).state is State.ENDED
    assert len(sent_to(app, phone)) == after_stop, "no survey after STOP"
    assert ann.post("reopen", {}).status_code == 409


def test_reopening_needs_room(app: Flask) -> None:
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    assert ann.close().status_code == 200
    for _ in range(runtime_of(app).settings.capacity):
        queued_texter(app)
        assert post(ann.client, ann.csrf, "/console/api/queue/take-next", {}).status_code == 200

    full = ann.post("reopen", {})

    assert full.status_code == 409
    assert full.get_json()["error"].startswith("you already have")
    assert current(app, ann.conversation_id).state is State.JUST_CLOSED


def supervisor(app: Flask) -> tuple[FlaskClient, str]:
    return sign_in(app, staff(app, "supervisor"))


def test_the_reopen_window_is_a_setting_from_1_to_60_minutes(app: Flask, clock: FakeClock) -> None:
    boss, csrf = supervisor(app)
    path = "/supervisor/api/settings/reopen_minutes"
    for wrong in (0, 61):
        refused = boss.put(path, json={"value": wrong}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code in (400, 409), wrong
    assert boss.put(path, json={"value": 1}, headers={"X-CSRF-Token": csrf}).status_code == 200
    phone = queued_texter(app)
    ann = Advocate(app, phone)
    ann.reply()
    before = len(sent_to(app, phone))
    assert ann.close().status_code == 200

    tick(app, clock, 1.1)

    assert sent_to(app, phone)[before:] == [said(app, "survey_question")]
