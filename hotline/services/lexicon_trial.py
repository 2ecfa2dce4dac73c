"""Trying a text against the risk lexicons: what triage would make of it, before saving.

A supervisor editing a lexicon types a text and sees the score, priority and reasons it would
get as a texter's first text, scored exactly as the worker scores it (:func:`assess` with every
lexicon in force, as :meth:`hotline.services.triage.Triage.reassess` does), the words that earned
each reason, and the language it would be answered in. The lexicon being edited may be replaced
by the form's unsaved draft, checked as a save would check it.

Nothing is stored but one audit event saying that a supervisor tried a text: never the text nor
any of its words (the texts tried may be real texters' words), so neither is the answer's
``reasons`` or ``emergency``, which echo them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.orm import Session

from hotline.catalogue import LANGUAGES
from hotline.db.models import StaffUser
from hotline.domain.language import Detected, detect
from hotline.domain.risk import Assessment, Lexicon, Priority, assess, forget_last_scan
from hotline.domain.tuning import TuningError, check_lexicon, tuned_lexicon
from hotline.services import events
from hotline.services.tuning import refusing

MAX_TRIAL_CHARS = 1000


class FoundReason(TypedDict):
    phrase: str
    weight: int | None  # None: an emergency phrase
    words: str  # the words of the text that earned it


class TrialLanguage(TypedDict):
    code: str | None  # ISO 639-1; None when the text does not say
    confident: bool


class Trial(TypedDict):
    """What triage would make of a text, as the settings page shows it."""

    score: int
    priority: Priority
    reasons: list[str]
    found: list[FoundReason]
    emergency: list[str]  # the emergency phrases found
    minor: bool
    language: TrialLanguage


def check_trial_text(text: Any) -> str:
    """``text`` stripped, or :class:`TuningError` when it is not 1 to
    :data:`MAX_TRIAL_CHARS` characters of text. The message never quotes the text."""
    if text is None:
        raise TuningError("text is required: type a text to try")
    if not isinstance(text, str):
        raise TuningError("text must be text")
    stripped = text.strip()
    if not stripped:
        raise TuningError("text is empty: type a text to try")
    if len(stripped) > MAX_TRIAL_CHARS:
        raise TuningError(f"text is over {MAX_TRIAL_CHARS} characters")
    return stripped


def with_draft(
    lexicons: Sequence[Lexicon], language: Any = None, draft: Any = None
) -> tuple[Lexicon, ...]:
    """``lexicons`` (those in force) with ``draft``, checked as saving ``lexicon_<language>``
    would check it, in place of that language's. Without a draft they are returned as they are.

    Raises :class:`TuningError` naming the field at fault (``language``, or the draft's field as
    the save names it, e.g. ``lexicon_en weights: ...``).
    """
    known = [found.language for found in lexicons if found.language in LANGUAGES]  # tunable
    if language is not None and language not in known:
        raise TuningError(f"language must be one of {', '.join(known)}")
    if draft is None:
        return tuple(lexicons)
    if language is None:
        raise TuningError("language is required with a draft: the lexicon being edited")
    checked = check_lexicon(draft, f"lexicon_{language}")
    return tuple(
        tuned_lexicon(found, checked) if found.language == language else found for found in lexicons
    )


def trial_answer(assessment: Assessment, detected: Detected) -> Trial:
    """The API's account of a trial. The one place an :class:`Assessment` becomes JSON."""
    return {
        "score": assessment.score,
        "priority": assessment.priority,
        "reasons": list(assessment.reasons),
        # Each reason with the words of the text that earned it: the texter's words, shown to
        # the supervisor who typed them and never stored.
        "found": [
            {"phrase": reason.phrase, "weight": reason.weight, "words": reason.words}
            for reason in assessment.found
        ],
        "emergency": [reason.phrase for reason in assessment.found if reason.weight is None],
        "minor": assessment.minor,
        "language": {"code": detected.language, "confident": detected.confident},
    }


def trial(text: str, lexicons: Sequence[Lexicon]) -> Trial:
    """What triage would make of ``text`` as a conversation's first text. Pure: the same
    :func:`hotline.domain.risk.assess` the worker runs (a minor is urgent; a new conversation
    starts normal, so its priority is the assessment's)."""
    try:
        return trial_answer(assess([text], lexicons), detect(text))
    finally:
        forget_last_scan()  # a text tried is not kept in the web process


def try_text(
    session: Session,
    user: StaffUser,
    lexicons: Sequence[Lexicon],
    text: Any,
    now: datetime,
    *,
    language: Any = None,
    draft: Any = None,
) -> Trial:
    """Check ``text`` and the draft, score the text, and audit that ``user`` tried a text.

    Raises :class:`~hotline.services.tuning.TuningRefused` (answered 400) before anything is
    recorded. Changes no setting.
    """
    with refusing():
        checked_text = check_trial_text(text)
        tried_with = with_draft(lexicons, language, draft)
    answer = trial(checked_text, tried_with)
    events.record(
        session, "lexicon_tried", now, actor_id=user.id, language=language,
        draft=draft is not None, priority=answer["priority"], score=answer["score"],
    )  # fmt: skip
    return answer
