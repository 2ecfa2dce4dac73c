"""Driving a texter's conversation through the real worker path by hand: signed texts into the
webhook, the in-process queue run with ``run``, timers fired on a :class:`FakeClock`, and staff
actions through their services. Shared by the tests of whole conversations."""

from __future__ import annotations

from flask import Flask

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Availability, Conversation, StaffUser
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.claims import do_claim, do_close
from hotline.services.outbox import queue_text
from hotline.services.receive import find_or_add_texter
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone
from tests.fakes import FakeClock
from tests.helpers import conversations_of, post_signed, sms_form


def said(app: Flask, key: str, language: str = "en") -> str:
    return runtime_of(app).triage.render_plain(key, language)


def text_in(app: Flask, phone: str, body: str) -> None:
    assert post_signed(app.test_client(), "/twilio/sms", sms_form(phone, body)).status_code == 200
    run(app)


def run(app: Flask) -> int:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    return tasks.run_due()


def sent_to(app: Flask, phone: str) -> list[str]:
    sender = runtime_of(app).sender
    assert isinstance(sender, LocalSender)
    return [text.body for _, text, _ in sender.outbox if text.to == phone]


def conversation(app: Flask, phone: str) -> Conversation:
    return conversations_of(app, phone)[-1]


def tick(app: Flask, clock: FakeClock, minutes: float) -> None:
    clock.advance(minutes * 60)
    jobs.fire_timers(runtime_of(app))
    run(app)


def advocate(app: Flask) -> int:
    from hotline.services.staff import do_create_staff

    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        email = f"advocate-{new_phone()[2:]}@example.org"
        return do_create_staff(
            session, email, "a long password!", "advocate", runtime.clock.now()
        ).id


def claim(app: Flask, phone: str, advocate_id: int) -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        do_claim(
            session, runtime.triage, conversation(app, phone).id, advocate_id, runtime.clock.now()
        )
    run(app)


def close(app: Flask, phone: str, advocate_id: int, disposition: str = "referred") -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        do_close(
            session,
            runtime.triage,
            conversation(app, phone).id,
            advocate_id,
            disposition,
            runtime.clock.now(),
        )
    run(app)


def answer(app: Flask, phone: str, advocate_id: int, body: str = "I am here to help.") -> None:
    """The advocate holding ``phone``'s conversation replies, as from the console."""
    from hotline.services.console import Console
    from hotline.services.handling import Handling

    runtime = runtime_of(app)
    conversation_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        handling = Handling(Console(runtime.triage, runtime.settings.capacity))
        handling.reply(session, user, conversation_id, body, runtime.clock.now())
    run(app)


def queued_text(app: Flask, position: int, wait: int, language: str = "en") -> str:
    return runtime_of(app).triage.render_plain("queued", language, position=position, wait=wait)


def said_with(app: Flask, key: str, language: str = "en", **values: object) -> str:
    return runtime_of(app).triage.render_plain(key, language, **values)


def on_shift(app: Flask, holding: int = 0) -> int:
    """An advocate marked available, holding ``holding`` urgent texters of their own."""
    advocate_id = advocate(app)
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        user.availability = Availability.AVAILABLE
    for _ in range(holding):
        held = new_phone()
        text_in(app, held, "he has a gun")
        claim(app, held, advocate_id)
    return advocate_id


def unstaffed_text(app: Flask, position: int, language: str = "en") -> str:
    """What a texter entering the queue hears while no advocate is available."""
    return runtime_of(app).triage.render_plain(
        "queued_unstaffed", language, position=position, reach=""
    )


def reply(app: Flask, phone: str, body: str = "an advocate's reply", **kw: bool) -> int:
    runtime = runtime_of(app)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        texter_id = find_or_add_texter(session, runtime.vault, phone, now)
        message = queue_text(session, runtime.vault, texter_id, None, body, now, **kw)
        session.flush()
        return message.id
