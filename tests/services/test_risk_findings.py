"""Each text read once (issue 17): what a conversation's texts said of risk is kept on the
conversation, encrypted, and a new text is read alone, through the real worker path on both
databases. The priority, reasons, score and minor flag are those of reading every text again,
as the worker did before; a supervisor's lexicon change, or findings missing (a conversation
from before migration 0014, or emptied), make it read every text again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from hotline import runtime_of
from hotline.catalogue import lexicon
from hotline.db.models import Conversation, Message, StaffUser
from hotline.domain.delivery import Direction
from hotline.domain.keywords import parse_keyword
from hotline.domain.risk import Lexicon, Priority, assess, fingerprint, higher
from hotline.domain.tuning import lexicon_value
from hotline.services import tuning
from hotline.services.erasure import PURGED, empty_content
from tests.conftest import new_phone
from tests.helpers import create_staff
from tests.texting import conversation, text_in

SAID = [
    "my boss took my passport",
    "he says I owe him 5000 dollars",
    "we sleep in the back room and cant leave",
    "tengo miedo",
    "he checks my phone every night",
    "they keep our pay",
    "ok",
    "no se que hacer",
    "he said he would hurt my family if I go",
    "thank you",
]


def inbound_texts(app: Flask, conversation_id: int) -> list[str]:
    """Every text the texter wrote in the conversation, in order, read afresh."""
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        sealed = session.scalars(
            select(Message.body_ciphertext)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.INBOUND,
                Message.body_ciphertext.is_not(None),
            )
            .order_by(Message.id)
        ).all()
    return [runtime.vault.decrypt(body) for body in sealed if body is not None]


def in_force(app: Flask) -> tuple[Lexicon, ...]:
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        return runtime.tuned(session).triage.policy.lexicons


def kept(app: Flask, conversation_id: int) -> dict[str, Any] | None:
    """The findings kept on the conversation, opened."""
    runtime = runtime_of(app)
    with runtime.sessions() as session:
        sealed = session.scalar(
            select(Conversation.risk_findings_ciphertext).where(Conversation.id == conversation_id)
        )
    return None if sealed is None else dict(json.loads(runtime.vault.decrypt(sealed)))


def assert_as_if_every_text_were_read(app: Flask, phone: str) -> None:
    """The conversation's reasons, score and minor flag are those of assessing every text it
    holds with the lexicons in force, and its priority at least that assessment's."""
    now = conversation(app, phone)
    expected = assess(inbound_texts(app, now.id), in_force(app))
    assert (now.risk_reasons or []) == list(expected.reasons)
    assert now.risk_score == expected.score
    assert now.minor is expected.minor
    assert higher(now.priority, expected.priority) is now.priority


# -- the same answer as reading every text again ------------------------------------------------

CONVERSATIONS = [
    # HELP, then what is happening: the call for help stops counting in a later text.
    ["HELP", "yes", "no", "My boss took my passport", "I owe him 3000", "ok"],
    # HELP as a keyword mid-conversation is not read then, but with the next text.
    ["hi", "help", "ok", "hello?"],
    ["hi", "no", "they took my papers", "HELP", "ayuda", "ok"],
    ["hola", "tengo miedo", "mi jefe no me paga", "y me quito el pasaporte", "gracias"],
    # A child written about, then risk in a later text: a minor from then on.
    ["hi", "my daughter is 14", "a grown man keeps messaging her", "he says he will hurt her"],
    ["hi", "my kid is 15", "any summer jobs?", "thanks"],
    ["I am locked in", "they said they will kill anyone who talks", "please"],
]


@pytest.mark.parametrize("texts", CONVERSATIONS)
def test_each_text_read_once_gives_what_reading_every_text_gave(
    app: Flask, texts: list[str]
) -> None:
    phone = new_phone()
    for n, body in enumerate(texts):
        text_in(app, phone, body)
        if n == 0 or parse_keyword(body) is None:  # HELP mid-conversation is not reassessed
            assert_as_if_every_text_were_read(app, phone)
    found = kept(app, conversation(app, phone).id)
    assert found is not None and found["read_with"] == fingerprint(in_force(app))


def test_a_minor_is_raised_once_when_risk_comes_in_a_later_text(app: Flask) -> None:
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "my daughter is 14")
    assert not conversation(app, phone).minor
    text_in(app, phone, "a grown man keeps messaging her and says he will hurt her")
    assert conversation(app, phone).minor
    assert conversation(app, phone).priority is Priority.URGENT


@pytest.fixture
def own_app(clocked_app: Flask) -> Flask:
    """A database of this test's own: a lexicon change applies to every texter."""
    return clocked_app


def test_a_lexicon_changed_mid_conversation_reads_every_text_again(own_app: Flask) -> None:
    app = own_app
    phone = new_phone()
    for body in ("hi", "we sleep in the storeroom", "ok"):
        text_in(app, phone, body)
    assert not any("storeroom" in r for r in conversation(app, phone).risk_reasons or [])
    supervisor = create_staff(app, "supervisor")
    english = lexicon_value(lexicon("en"))
    english["weights"] = {**english["weights"], "storeroom": 35}
    change(app, supervisor, "lexicon_en", english)

    text_in(app, phone, "thanks")

    # Said before the change, counted with the new lexicon.
    assert "storeroom (+35)" in (conversation(app, phone).risk_reasons or [])
    assert_as_if_every_text_were_read(app, phone)
    found = kept(app, conversation(app, phone).id)
    assert found is not None and found["read_with"] == fingerprint(in_force(app))


def change(app: Flask, user: StaffUser, key: str, value: Any) -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        assert tuning.do_set(session, user, key, value, runtime.clock.now(), runtime.settings)


@pytest.mark.parametrize(
    "sealed",
    [
        None,  # a conversation from before migration 0014
        "not json",
        "[]",
        '{"read_with": "another", "through": 0}',
        '{"read_with": "the lexicons in force", "through": "1"}',
    ],
)
def test_findings_missing_or_unreadable_are_read_again_from_every_text(
    app: Flask, sealed: str | None
) -> None:
    runtime = runtime_of(app)
    phone = new_phone()
    for body in ("hi", "no", "my boss took my passport"):
        text_in(app, phone, body)
    conversation_id = conversation(app, phone).id
    if sealed is not None:
        sealed = sealed.replace("the lexicons in force", fingerprint(in_force(app)))
    with runtime.sessions.begin() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(risk_findings_ciphertext=runtime.vault.encrypt(sealed) if sealed else None)
        )

    text_in(app, phone, "and I owe him money")

    assert conversation(app, phone).risk_reasons == ["took ... passport (+40)", "owe (+15)"]
    assert_as_if_every_text_were_read(app, phone)
    found = kept(app, conversation_id)
    assert found is not None and found["through"] == max(message_ids(app, conversation_id))


def message_ids(app: Flask, conversation_id: int) -> list[int]:
    with runtime_of(app).sessions() as session:
        return list(
            session.scalars(
                select(Message.id).where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.INBOUND,
                )
            )
        )


def test_a_conversation_emptied_is_read_again_and_its_priority_does_not_fall(app: Flask) -> None:
    """Findings and texts emptied together (as the purge and erasure empty them): the next
    text is read with what is left, and the priority stays where it was."""
    runtime = runtime_of(app)
    phone = new_phone()
    text_in(app, phone, "hi")
    text_in(app, phone, "I am locked in and they took my passport")
    assert conversation(app, phone).priority is Priority.URGENT
    conversation_id = conversation(app, phone).id
    with runtime.sessions.begin() as session:
        empty_content(
            session, PURGED, select(Conversation.id).where(Conversation.id == conversation_id)
        )
    assert kept(app, conversation_id) is None

    text_in(app, phone, "ok")

    assert conversation(app, phone).priority is Priority.URGENT
    assert conversation(app, phone).risk_reasons in (None, [])  # "ok" said nothing of risk
    found = kept(app, conversation_id)
    assert found is not None and found["through"] == max(message_ids(app, conversation_id))


# -- what a long conversation costs -------------------------------------------------------------


@pytest.fixture
def decryptions(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many values the app decrypts: a counter, read and reset by the test."""
    vault = runtime_of(app).vault
    decrypt = vault.decrypt
    count = [0]

    def counted(ciphertext: bytes) -> str:
        count[0] += 1
        return decrypt(ciphertext)

    monkeypatch.setattr(vault, "decrypt", counted)
    return count


def each_text(app: Flask, phone: str, texts: Sequence[str], counter: list[int]) -> list[int]:
    """``counter``'s count for each text, from the webhook to the end of its processing."""
    counts = []
    for body in texts:
        counter[0] = 0
        text_in(app, phone, body)
        counts.append(counter[0])
    return counts


def test_a_text_late_in_a_long_conversation_decrypts_no_more_than_an_early_one(
    app: Flask, decryptions: list[int]
) -> None:
    """Not every earlier text again for each new one: 200 texts, the work of each constant."""
    texts = ["hi", "yes", "yes", "I need to get out"] + [SAID[n % 10] for n in range(196)]

    per_text = each_text(app, new_phone(), texts, decryptions)

    early, late = per_text[10:30], per_text[-20:]
    assert max(late) <= max(early) <= 3, (early, late)
    assert sum(per_text) <= 3 * len(texts)
