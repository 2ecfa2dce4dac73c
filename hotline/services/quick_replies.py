"""Quick replies at the console: filled in for one conversation, and a reply's language checked.

A quick reply's variables (:mod:`hotline.domain.reply_variables`) are filled with what this
conversation knows: the advocate's first name, the place triage learned, the safe word; a
neutral wording in the reply's own language where a value is unknown. The same filling runs
when a reply is sent, so a template pasted by hand still reaches the texter filled in, and a
variable that does not exist is refused rather than sent.
"""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue.quick_replies import introductions, neutral_words
from hotline.db.models import Conversation, QuickReply, StaffUser
from hotline.domain import reply_variables
from hotline.domain.language import detect
from hotline.services.console import Console
from hotline.services.errors import InvalidInput

# How the warning names a language; codes without a name are shown as they are.
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "zh": "Chinese", "vi": "Vietnamese", "tl": "Tagalog",
    "ar": "Arabic", "fr": "French", "ht": "Haitian Creole", "pt": "Portuguese", "ko": "Korean",
    "ru": "Russian",
}  # fmt: skip


class FilledQuickReply(TypedDict):
    id: int
    language: str
    title: str
    body: str  # filled in for this conversation: ready to send


class ReplyCheck(TypedDict):
    """What the console says about a draft reply before it is sent."""

    reply_language: str | None  # the draft's language, None when it does not say
    texter_language: str  # the language the conversation is in
    warning: str | None  # set when the two differ


def values_for(
    console: Console, conversation: Conversation, user: StaffUser, language: str
) -> dict[str, str]:
    """Every variable's value in a reply written in ``language`` to ``conversation`` by
    ``user``."""
    neutral = neutral_words(language)
    location = (
        console.vault.decrypt(conversation.location_ciphertext).strip()
        if conversation.location_ciphertext is not None
        else ""
    )
    return {
        "advocate_name": user.first_name or neutral["advocate_name"],
        "location": location or neutral["location"],
        "safe_word": console.triage.policy.safe_word,
    }


def fill_reply(console: Console, conversation: Conversation, user: StaffUser, body: str) -> str:
    """``body`` with its variables filled in for this conversation; :class:`InvalidInput` for a
    variable that does not exist (nothing is sent)."""
    if not reply_variables.variables_in(body):
        return body
    language = detect(body).language or conversation.language
    try:
        return reply_variables.fill(body, values_for(console, conversation, user, language))
    except reply_variables.UnknownVariable as unknown:
        raise InvalidInput(f"the reply holds an {unknown}") from None


def for_conversation(
    session: Session, console: Console, user: StaffUser, conversation_id: int
) -> list[FilledQuickReply]:
    """The active quick replies filled in for a conversation ``user`` may see: those in the
    conversation's language first, then the others; by title within a language. A quick reply
    whose template names an unknown variable (saved before the check existed) is left out."""
    conversation = console.visible(session, user, conversation_id)
    rows = session.scalars(
        select(QuickReply).where(QuickReply.active.is_(True)).order_by(QuickReply.title)
    ).all()
    rows = sorted(rows, key=lambda row: row.language != conversation.language)
    filled: list[FilledQuickReply] = []
    for row in rows:
        values = values_for(console, conversation, user, row.language)
        try:
            body = reply_variables.fill(row.body, values)
        except reply_variables.UnknownVariable:
            continue
        filled.append({"id": row.id, "language": row.language, "title": row.title, "body": body})
    return filled


def check_reply(
    session: Session, console: Console, user: StaffUser, conversation_id: int, body: str
) -> ReplyCheck:
    """Whether the draft ``body`` is in the conversation's language: a warning when it is
    clearly in another. Nothing is stored or sent."""
    conversation = console.visible(session, user, conversation_id)
    detected = detect(body).language
    expected = conversation.language
    warning = None
    if detected is not None and detected != expected:
        warning = (
            f"This reply looks like {LANGUAGE_NAMES.get(detected, detected)}, but this texter "
            f"writes {LANGUAGE_NAMES.get(expected, expected)}."
        )
    return {"reply_language": detected, "texter_language": expected, "warning": warning}


def seed_introductions(session: Session) -> int:
    """On a hotline with no quick reply yet (its first run), add the introduction in each
    language; how many were added. Later runs add nothing, so an edited or switched-off
    introduction stays as supervisors left it."""
    if session.scalar(select(QuickReply.id).limit(1)) is not None:
        return 0
    shipped = introductions()
    for language, (title, body) in shipped.items():
        session.add(QuickReply(language=language, title=title, body=body, active=True))
    return len(shipped)


__all__ = ["check_reply", "fill_reply", "for_conversation", "seed_introductions", "values_for"]
