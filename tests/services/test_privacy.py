"""Privacy: nothing readable in a dump, key rotation, retention, erasure, revealing a number."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.background import jobs
from hotline.db.models import Conversation, Event, Message, Note, OptedOutNumber, Texter
from hotline.domain.delivery import DeliveryStatus
from hotline.domain.triage import State
from hotline.infra.vault import Vault, VaultError
from hotline.services.privacy import erase_texter, purge_expired, rotate_keys
from hotline.services.process import process_pending
from hotline.sms.sender import LocalSender
from tests.conftest import TEST_DATA_KEY, new_phone
from tests.fakes import FakeClock
from tests.helpers import dump, post_signed, sms_form, texter_of
from tests.texting import advocate, claim, conversation, run, sent_to, text_in


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def full_conversation(app: Flask, phone: str, secret: str) -> int:
    for body in ("hi", "no", "yes", f"my boss {secret}", "TX"):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    runtime = runtime_of(app)
    from hotline.db.models import StaffUser
    from hotline.services.console import Console
    from hotline.services.handling import Handling

    handling = Handling(Console(runtime.triage, 3))
    conversation_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, advocate_id)
        assert user is not None
        handling.add_note(
            session, user, conversation_id, f"note about {secret}", runtime.clock.now()
        )
        now = runtime.clock.now()
        handling.reply(session, user, conversation_id, f"reply about {secret}", now)
        handling.close(session, user, conversation_id, "referred", f"summary {secret}", now)
    run(app)
    return conversation_id


def test_a_database_dump_reveals_no_number_and_no_text(app: Flask) -> None:
    phone = new_phone()
    full_conversation(app, phone, "zanzibar")
    raw = dump(app)
    assert "texts" in raw or "triage" in raw  # the dump really holds the rows
    assert phone not in raw and phone[2:] not in raw and phone[-7:] not in raw
    assert "zanzibar" not in raw
    assert "I need" not in raw and "my boss" not in raw


def test_rotate_keys_interrupted_and_resumed(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    old = make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
    phones = [new_phone() for _ in range(3)]
    for phone in phones:
        full_conversation(old, phone, "saffron")
    new_key = Fernet.generate_key().decode()
    rotated = make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"data_keys": (new_key, TEST_DATA_KEY)},
    )
    runtime = runtime_of(rotated)

    first = rotate_keys(runtime.sessions, runtime.vault, batch_size=2, max_batches=2)
    assert not first.finished and first.rotated > 0
    # The hotline serves on meanwhile, writing under the newest key.
    text_in(rotated, new_phone(), "a new texter during rotation")
    rest = rotate_keys(runtime.sessions, runtime.vault, batch_size=2)
    assert rest.finished and rest.rotated > 0
    again = rotate_keys(runtime.sessions, runtime.vault, batch_size=50)
    assert again.finished and again.rotated == 0

    only_new = Vault((new_key,), runtime.settings.hash_key)
    with runtime.sessions() as session:
        for phone in phones:
            texter = session.scalars(
                select(Texter).where(Texter.phone_hash == only_new.phone_hash(phone))
            ).one()
            assert only_new.decrypt(texter.phone_ciphertext or b"") == phone
        bodies = [
            only_new.decrypt(b) for b in session.scalars(select(Message.body_ciphertext)) if b
        ]
        notes = [only_new.decrypt(b) for b in session.scalars(select(Note.body_ciphertext)) if b]
    assert "my boss saffron" in bodies and "note about saffron" in notes
    with pytest.raises(VaultError):
        Vault((Fernet.generate_key().decode(),)).decrypt(Vault((new_key,)).encrypt("anything"))


def test_purge_erases_old_content_keeps_figures_and_is_idempotent(
    app: Flask, clock: FakeClock
) -> None:
    old_phone, new_phone_number = new_phone(), new_phone()
    old_id = full_conversation(app, old_phone, "quince")
    text_in(app, old_phone, "STOP")  # opted out: must stay so after the purge
    clock.advance(91 * 86400)
    recent_id = full_conversation(app, new_phone_number, "medlar")
    runtime = runtime_of(app)

    with runtime.sessions.begin() as session:
        first = purge_expired(session, clock.now(), 90)
    with runtime.sessions.begin() as session:
        second = purge_expired(session, clock.now(), 90)

    assert first.texts > 0 and first.notes == 1 and first.answers == 1 and first.numbers == 1
    assert second.total == 0
    with runtime.sessions() as session:
        old = session.get(Conversation, old_id)
        assert old is not None
        assert old.needs_ciphertext is None and old.summary_ciphertext is None
        assert old.priority is not None and old.disposition == "referred"
        assert all(
            m.body_ciphertext is None
            for m in session.scalars(select(Message).where(Message.conversation_id == old_id))
        )
        recent_bodies = [
            m.body_ciphertext
            for m in session.scalars(select(Message).where(Message.conversation_id == recent_id))
        ]
        assert all(body is not None for body in recent_bodies)
    # Forgotten: nothing found by their number leads to the old row, but their STOP, kept as a
    # bare hash, still holds: a text from them gets no answer.
    assert texter_of(app, old_phone) is None
    with runtime.sessions() as session:
        old_texter = session.get(Texter, old.texter_id)
        kept = session.scalars(select(OptedOutNumber.phone_hash)).all()
    assert old_texter is not None and old_texter.phone_ciphertext is None
    assert old_texter.opted_out_at is None
    assert kept == [runtime.vault.phone_hash(old_phone)]
    before = len(sent_to(app, old_phone))
    text_in(app, old_phone, "hello")
    assert len(sent_to(app, old_phone)) == before
    assert texter_of(app, old_phone).opted_out  # type: ignore[union-attr]


def test_two_purges_at_once_act_once(
    make_app: Callable[..., Flask], clock: FakeClock, isolated_database_url: str
) -> None:
    app = make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
    for _ in range(3):
        full_conversation(app, new_phone(), "loquat")
    clock.advance(100 * 86400)
    runtime = runtime_of(app)
    barrier = threading.Barrier(2)
    reports = []

    def purge() -> None:
        barrier.wait()
        with runtime.sessions.begin() as session:
            reports.append(purge_expired(session, clock.now(), 90))

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.sessions() as session:
        remaining = [b for b in session.scalars(select(Message.body_ciphertext)) if b is not None]
        purges = session.scalars(select(Event).where(Event.kind == "purged")).all()
    assert remaining == []
    assert sum(r.numbers for r in reports) == 3  # each number erased exactly once
    assert sum(e.detail["numbers"] for e in purges) == 3


def test_delete_erases_the_texter_everywhere_after_confirming(app: Flask) -> None:
    phone = new_phone()
    full_conversation(app, phone, "persimmon")
    texter = texter_of(app, phone)
    assert texter is not None
    text_in(app, phone, "DELETE")
    assert sent_to(app, phone)[-1] == runtime_of(app).triage.render_plain("deleted", "en")
    assert texter_of(app, phone) is None  # at once: the number no longer finds the row
    jobs.sweep(runtime_of(app))
    with runtime_of(app).sessions() as session:
        erased = session.get(Texter, texter.id)
        kept = session.scalars(
            select(Message.body_ciphertext).where(
                Message.texter_id == texter.id, Message.body_ciphertext.is_not(None)
            )
        ).all()
        tombstones = session.scalars(
            select(Event).where(Event.kind == "texter_erased", Event.texter_id == texter.id)
        ).all()
    assert erased is not None and erased.phone_ciphertext is None
    assert kept == []  # the confirmation too, once sent
    assert "persimmon" not in dump(app)
    assert [t.detail["by"] for t in tombstones] == ["texter_request"]
    # They can come back: a new start, as a new texter.
    text_in(app, phone, "hi again")
    assert sent_to(app, phone)[-1] == runtime_of(app).triage.render_plain("welcome", "en")
    assert conversation(app, phone).returning_texter is False


def test_erasure_racing_a_running_task_ends_erased(
    make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock
) -> None:
    app = make_app(isolated_database_url, clock=clock, sender=LocalSender(clock.now))
    phone = new_phone()
    text_in(app, phone, "hi")
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "my secret is kumquat"))
    runtime = runtime_of(app)
    texter = texter_of(app, phone)
    assert texter is not None
    with runtime.sessions() as session:  # closed at once: on SQLite a reader holds the lock
        pending = session.scalars(
            select(Message).where(Message.texter_id == texter.id, Message.processed_at.is_(None))
        ).all()
    processing_started, erase_done = threading.Event(), threading.Event()

    def process() -> None:
        with runtime.sessions.begin() as session:
            process_pending(session, runtime.triage, pending[0].id, clock.now())
            processing_started.set()
            erase_done.wait(0.5)  # the eraser is blocked on our lock meanwhile (PostgreSQL)

    def erase() -> None:
        processing_started.wait(5)
        with runtime.sessions.begin() as session:
            erase_texter(session, runtime.triage, texter.id, clock.now(), actor_id=None, by="test")
        erase_done.set()

    threads = [threading.Thread(target=process), threading.Thread(target=erase)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run(app)
    assert "kumquat" not in dump(app)
    with runtime.sessions() as session:
        leftovers = session.scalars(
            select(Message).where(
                Message.texter_id == texter.id, Message.body_ciphertext.is_not(None)
            )
        ).all()
        unsent = session.scalars(
            select(Message).where(
                Message.texter_id == texter.id, Message.status == DeliveryStatus.PENDING
            )
        ).all()
    assert leftovers == [] and unsent == []
    with runtime.sessions() as session:
        ended = session.scalars(
            select(Conversation.state).where(Conversation.texter_id == texter.id)
        ).all()
        erased = session.get(Texter, texter.id)
    assert ended == [State.ENDED]
    assert erased is not None and erased.phone_ciphertext is None
    assert texter_of(app, phone) is None


def test_a_text_erased_before_its_turn_is_never_answered(app: Flask) -> None:
    phone = new_phone()
    post_signed(app.test_client(), "/twilio/sms", sms_form(phone, "hello"))
    runtime = runtime_of(app)
    texter = texter_of(app, phone)
    assert texter is not None
    with runtime.sessions.begin() as session:
        erase_texter(
            session, runtime.triage, texter.id, runtime.clock.now(), actor_id=None, by="test"
        )
    run(app)
    assert sent_to(app, phone) == []
