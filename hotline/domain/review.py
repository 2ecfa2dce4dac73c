"""The weekly quality review, in plain Python: the rubric, review weeks, and drawing a sample.

The rubric is data, defined here and nowhere else: the supervisors' form, the checks on a
submitted review and the advocates' feedback panel all read :data:`RUBRIC`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

NOT_APPLICABLE = "n/a"
SCALE: Mapping[int, str] = {1: "Not done", 2: "Partly", 3: "Done well", 4: "Exemplary"}
MAX_FEEDBACK_CHARS = 4000


class CriterionJson(TypedDict):
    key: str
    label: str
    question: str
    allows_na: bool


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    question: str  # what the reviewer asks of the transcript
    allows_na: bool  # whether "n/a" is an answer (no emergency, no referral needed)

    def as_json(self) -> CriterionJson:
        return {
            "key": self.key,
            "label": self.label,
            "question": self.question,
            "allows_na": self.allows_na,
        }


RUBRIC: tuple[Criterion, ...] = (
    Criterion(
        "safety_assessed",
        "Safety assessed",
        "Did the advocate check whether the texter is in danger now and safe to keep texting?",
        allows_na=False,
    ),
    Criterion(
        "emergency_handled",
        "Emergency handled",
        "If there was an emergency, was emergency help (911) offered at once and clearly?",
        allows_na=True,
    ),
    Criterion(
        "referral_appropriate",
        "Referral appropriate",
        "Did the referrals fit the texter's needs, place and language, with a way to reach them?",
        allows_na=True,
    ),
    Criterion(
        "tone_empathy",
        "Tone and empathy",
        "Were the replies warm, plain, patient and free of judgement?",
        allows_na=False,
    ),
    Criterion(
        "closed_properly",
        "Closed properly",
        "Was the texter told they can text again, and the disposition and summary right?",
        allows_na=False,
    ),
)

Scores = dict[str, int | str]


class ScoreError(ValueError):
    """Scores that do not fit the rubric. The message says which criterion and why."""


def validate_scores(raw: object) -> Scores:
    """Scores for exactly the rubric's criteria, each 1 to 4, or "n/a" where that is allowed.

    Raises :class:`ScoreError` on anything else: a missing or unknown criterion, a number
    outside the scale, a fraction, a boolean, a numeric string.
    """
    if not isinstance(raw, dict):
        raise ScoreError("scores must be an object with one score per criterion")
    known = {criterion.key for criterion in RUBRIC}
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        raise ScoreError(f"scores has unknown criteria: {', '.join(unknown)[:200]}")
    missing = [criterion.key for criterion in RUBRIC if criterion.key not in raw]
    if missing:
        raise ScoreError(f"scores is missing: {', '.join(missing)}")
    scores: Scores = {}
    for criterion in RUBRIC:
        value = raw[criterion.key]
        if criterion.allows_na and value == NOT_APPLICABLE:
            scores[criterion.key] = NOT_APPLICABLE
        elif isinstance(value, int) and not isinstance(value, bool) and value in SCALE:
            scores[criterion.key] = value
        else:
            allowed = f'1 to 4 or "{NOT_APPLICABLE}"' if criterion.allows_na else "1 to 4"
            raise ScoreError(f"{criterion.key} must be {allowed}")
    return scores


def check_feedback(raw: object) -> str:
    """The feedback text, trimmed; :class:`ScoreError` when it is not text, empty or too long."""
    if not isinstance(raw, str):
        raise ScoreError("feedback must be text")
    feedback = raw.strip()
    if not feedback:
        raise ScoreError("write some feedback for the advocate")
    if len(feedback) > MAX_FEEDBACK_CHARS:
        raise ScoreError(f"feedback must be at most {MAX_FEEDBACK_CHARS} characters")
    return feedback


# -- weeks: Monday to Monday, in UTC like every figure the supervisors see --------------------


def week_of(day: date) -> date:
    """The Monday of the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """The week as a half-open range of UTC instants: [Monday 00:00, next Monday 00:00)."""
    start = datetime.combine(week_start, time(0), tzinfo=UTC)
    return start, start + timedelta(days=7)


def previous_week(now: datetime) -> date:
    """The Monday of the last week that has fully ended at ``now``."""
    return week_of(now.astimezone(UTC).date()) - timedelta(days=7)


# -- the sample -----------------------------------------------------------------------------------


def choose_sample(
    candidates: Sequence[tuple[int, int]],
    size: int,
    per_advocate: int,
    rng: random.Random,
) -> list[int]:
    """Conversation ids to review, from ``(conversation id, advocate id)`` candidates.

    First up to ``per_advocate`` of each advocate's conversations, so that everyone who closed
    something hears back; then more at random from the rest until there are ``size``. When the
    minimums alone add up to more than ``size``, the minimums win. Every choice is uniform,
    made by ``rng`` (the service passes :class:`random.SystemRandom`, so nobody can predict or
    steer which conversations are drawn).
    """
    by_advocate: dict[int, list[int]] = defaultdict(list)
    for conversation_id, advocate_id in sorted(candidates):
        by_advocate[advocate_id].append(conversation_id)
    chosen: set[int] = set()
    for advocate_id in sorted(by_advocate):
        pool = by_advocate[advocate_id]
        chosen.update(rng.sample(pool, min(per_advocate, len(pool))))
    rest = [
        conversation_id
        for conversation_id, _ in sorted(candidates)
        if conversation_id not in chosen
    ]
    room = max(0, size - len(chosen))
    chosen.update(rng.sample(rest, min(room, len(rest))))
    return sorted(chosen)
