"""The triage conversation as a table of transitions, and the pure ``step`` that reads it.

A conversation is a :class:`Snapshot` (its state, language, how often the current question was
re-asked, whether it is urgent). Every input is an :class:`Event`: a texter's text, already
classified by :func:`hotline.domain.answers.classify`, or a timer, or something staff did.
``step`` finds the first row of :data:`TRANSITIONS` for the state and event whose guard holds,
and returns the next snapshot and the actions for the worker to carry out: texts to send (as
catalogue keys), answers to record, the queue, the priority, closing.

Entering a state adds that state's :data:`ON_ENTER` actions (its question, its timer). A state
without a row for an event ignores it: the text is still stored and seen by staff, and no reply
goes out. ``ENDED`` has no rows at all: after it nothing is ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    AWAIT_DANGER = "await_danger"
    AWAIT_SAFETY = "await_safety"
    AWAIT_NEEDS = "await_needs"
    AWAIT_LOCATION = "await_location"
    QUEUED = "queued"
    QUEUE_CHECK_IN = "queue_check_in"
    WITH_ADVOCATE = "with_advocate"
    # Closed by an advocate a moment ago: they may reopen it until the "survey_due" timer fires,
    # which then sends the survey (if it is wanted and allowed) or ends the conversation.
    JUST_CLOSED = "just_closed"
    SURVEY = "survey"
    ENDED = "ended"


class On(StrEnum):
    """What happened. Text kinds come from classifying the texter's words for the state."""

    FIRST_TEXT = "first_text"
    YES = "yes"
    NO = "no"
    LANGUAGE = "language"  # the texter asked for English or Spanish
    EMERGENCY = "emergency"  # emergency words anywhere in the text
    SAFE_WORD = "safe_word"
    SKIP = "skip"
    LOCATION = "location"
    SCORE = "score"  # a survey answer, 1 to 5
    THANKS = "thanks"  # a reply to the survey that thanks or says goodbye, with no score
    FREE_TEXT = "free_text"  # words that answer nothing asked
    DISTRESS = "distress"  # a call for help instead of an answer ("help me", "please", "scared")
    BLANK = "blank"  # nothing but spaces or a picture
    STOP = "stop"
    INACTIVE = "inactive"  # the state's silence timer ran out
    WAIT_TIMER = "wait_timer"  # time for a wait update while queued
    CLAIMED = "claimed"
    RETURNED = "returned"  # an advocate handed the texter back to the queue
    CLOSED = "closed"  # an advocate closed the conversation
    REOPENED = "reopened"  # the advocate who closed it took it back within the reopen window


class Guard(StrEnum):
    REASKS_LEFT = "reasks left"
    REASKS_USED = "reasks used up"
    QUIET_LONG = "silent a long time"
    SURVEY_WANTED = "survey on"
    # Urgent now or before, or a minor: only a person may close it (invariant 10).
    NEEDS_PERSON = "needs a person"
    # The emergency guidance was not sent in the last few minutes (details["guidance_due"]).
    GUIDANCE_DUE = "guidance due"
    # The texter said it is not safe to text: nothing unprompted goes to them.
    DO_NOT_TEXT = "do not text"
    # Facts about waiting, given by hotline.services.waiting in Event.details.
    UNSTAFFED = "nobody on shift"
    NO_BUDGET = "unprompted texts used up"
    NOT_NEWS = "place in line not news"
    ACK_DUE = "not acknowledged lately"
    # Needs a person, and their place in line is not news: no update, look again later.
    HELD_NOT_NEWS = "needs a person, place not news"


class Op(StrEnum):
    SEND = "send"  # arg: catalogue key
    SET_LANGUAGE = "set_language"  # arg: from the event
    RECORD = "record"  # arg: which answer the text is (danger, safety, needs, location, survey)
    MARK_URGENT = "mark_urgent"
    MARK_EMERGENCY = "mark_emergency"  # emergency words: the head of the queue, a banner
    ENQUEUE = "enqueue"
    TIMER = "timer"  # arg: timer name; "" clears it
    COUNT_REASK = "count_reask"
    CLOSE = "close"  # arg: reason
    WIPE = "wipe"
    RESTART = "restart"  # handle this text again as the first of a new conversation
    ALERT = "alert"  # tell staff: arg says what


@dataclass(frozen=True)
class Action:
    op: Op
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.op.value}({self.arg})" if self.arg else self.op.value


def send(key: str) -> Action:
    return Action(Op.SEND, key)


@dataclass(frozen=True)
class Transition:
    state: State
    on: On
    target: State | None  # None: stay in the state (its on-enter actions do not run again)
    actions: tuple[Action, ...] = ()
    guard: Guard | None = None
    # Enter the target without its on-enter texts (its timer and queueing still happen): for a
    # texter who went silent or said it is not safe to text, and must not be texted first.
    quiet_entry: bool = False


@dataclass(frozen=True)
class Snapshot:
    state: State = State.NEW
    language: str = "en"
    reasks: int = 0
    urgent: bool = False  # urgent now or at any time before: priority only rises
    minor: bool = False
    do_not_text: bool = False  # they answered NO to "is it safe to text?"


@dataclass(frozen=True)
class Event:
    on: On
    language: str | None = None  # with LANGUAGE
    quiet_seconds: float = 0.0  # with WAIT_TIMER: how long since the texter last wrote
    details: dict[str, str] = field(default_factory=dict)


MAX_REASKS = 2
QUESTIONS = (State.AWAIT_DANGER, State.AWAIT_SAFETY, State.AWAIT_NEEDS, State.AWAIT_LOCATION)
# Anything the texter may say while they wait or talk, before the conversation is over.
LIVE = (*QUESTIONS, State.QUEUED, State.QUEUE_CHECK_IN, State.WITH_ADVOCATE)

QUESTION_KEYS = {
    State.AWAIT_DANGER: ("welcome", "danger_reask"),
    State.AWAIT_SAFETY: ("safety_question", "safety_reask"),
    State.AWAIT_NEEDS: ("needs_question", "needs_reask"),
    State.AWAIT_LOCATION: ("location_question", "location_reask"),
}
# Which recorded answer a question's reply is.
ANSWER_OF = {
    State.AWAIT_DANGER: "danger",
    State.AWAIT_SAFETY: "safety",
    State.AWAIT_NEEDS: "needs",
    State.AWAIT_LOCATION: "location",
}

ON_ENTER: dict[State, tuple[Action, ...]] = {
    State.AWAIT_DANGER: (send("welcome"), Action(Op.TIMER, "triage")),
    State.AWAIT_SAFETY: (send("safety_question"), Action(Op.TIMER, "triage")),
    State.AWAIT_NEEDS: (send("needs_question"), Action(Op.TIMER, "triage")),
    State.AWAIT_LOCATION: (send("location_question"), Action(Op.TIMER, "triage")),
    State.QUEUED: (Action(Op.ENQUEUE), send("queued"), Action(Op.TIMER, "wait_update")),
    State.QUEUE_CHECK_IN: (send("still_there"), Action(Op.TIMER, "check_in")),
    State.WITH_ADVOCATE: (Action(Op.TIMER, ""),),
    State.JUST_CLOSED: (Action(Op.TIMER, "survey_due"),),
    State.SURVEY: (send("survey_question"), Action(Op.TIMER, "survey")),
    State.ENDED: (Action(Op.TIMER, ""),),
}

# Texts that answer one question or another, or nothing.
_TEXTS = (
    On.YES, On.NO, On.FREE_TEXT, On.DISTRESS, On.BLANK, On.SKIP, On.LOCATION, On.SCORE, On.THANKS
)  # fmt: skip
# Every emergency is recorded, made urgent, put at the head of the queue and raised to staff,
# however often it comes; the guidance itself goes out once per few minutes.
_DANGER = (Action(Op.MARK_URGENT), Action(Op.MARK_EMERGENCY), Action(Op.ALERT, "emergency"))
_HELD = Action(Op.ALERT, "held")


def _emergency(
    state: State, target: State | None, *before: Action, speak: bool = True
) -> list[Transition]:
    """The rows for danger in ``state``: with the guidance when it is due (and the bot may speak),
    then without it."""
    rows = [Transition(state, On.EMERGENCY, target, (*before, *_DANGER))]
    if speak:
        guided = (*before, send("emergency"), *_DANGER)
        rows.insert(0, Transition(state, On.EMERGENCY, target, guided, Guard.GUIDANCE_DUE))
    return rows


def _rows() -> tuple[Transition, ...]:
    rows: list[Transition] = [Transition(State.NEW, On.FIRST_TEXT, State.AWAIT_DANGER)]
    # Danger in the very first text: the guidance first and alone, then their place in line;
    # no question to answer before a person sees them.
    rows += _emergency(State.NEW, State.QUEUED, Action(Op.RECORD, "danger"))
    # STOP and the safe word end everything at once, from every live state.
    for state in (*LIVE, State.JUST_CLOSED, State.SURVEY):
        rows.append(Transition(state, On.STOP, State.ENDED, (Action(Op.CLOSE, "opt_out"),)))
        rows.append(
            Transition(
                state,
                On.SAFE_WORD,
                State.ENDED,
                (Action(Op.WIPE), send("safe_word_done"), Action(Op.CLOSE, "safe_word")),
            )
        )
    for state in QUESTIONS:
        question, reask = QUESTION_KEYS[state]
        answer = ANSWER_OF[state]
        # An emergency never waits behind a question: straight to the head of the queue.
        rows += _emergency(state, State.QUEUED, Action(Op.RECORD, answer))
        # Any answer restarts the question's silence timer: they are still there.
        restart = Action(Op.TIMER, "triage")
        rows.append(
            Transition(state, On.LANGUAGE, None, (Action(Op.SET_LANGUAGE), send(question), restart))
        )
        # Silence after danger or a minor's words is not an answer: a person decides.
        rows.append(
            Transition(state, On.INACTIVE, State.QUEUED, (_HELD,), Guard.NEEDS_PERSON, True)
        )
        rows.append(
            Transition(
                state,
                On.INACTIVE,
                State.ENDED,
                (send("closed_inactive"), Action(Op.CLOSE, "inactive")),
            )
        )
        for unanswered in _unanswered(state):
            rows.append(
                Transition(
                    state,
                    unanswered,
                    None,
                    (Action(Op.COUNT_REASK), send(reask), restart),
                    Guard.REASKS_LEFT,
                )
            )
            # Asked three times: move on to the queue rather than leave anyone stuck here.
            rows.append(
                Transition(
                    state,
                    unanswered,
                    State.QUEUED,
                    (Action(Op.RECORD, answer),),
                    Guard.REASKS_USED,
                )
            )
    danger_yes = (Action(Op.RECORD, "danger"), send("emergency"), *_DANGER)
    rows += [
        Transition(State.AWAIT_DANGER, On.YES, State.QUEUED, danger_yes),
        # A call for help is never "we didn't get that": to danger it is a yes; to the other
        # questions it moves them on, to a person rather than to more questions.
        Transition(State.AWAIT_DANGER, On.DISTRESS, State.QUEUED, danger_yes),
        Transition(State.AWAIT_SAFETY, On.DISTRESS, State.QUEUED, (Action(Op.RECORD, "safety"),)),
        Transition(
            State.AWAIT_NEEDS, On.DISTRESS, State.AWAIT_LOCATION, (Action(Op.RECORD, "needs"),)
        ),
        Transition(
            State.AWAIT_LOCATION, On.DISTRESS, State.QUEUED, (Action(Op.RECORD, "location"),)
        ),
        Transition(State.AWAIT_DANGER, On.NO, State.AWAIT_SAFETY, (Action(Op.RECORD, "danger"),)),
        Transition(State.AWAIT_SAFETY, On.YES, State.AWAIT_NEEDS, (Action(Op.RECORD, "safety"),)),
        # Not safe to text, after danger or a minor's words: we stop texting them, and a person
        # still sees them, flagged "do not text first".
        Transition(
            State.AWAIT_SAFETY,
            On.NO,
            State.QUEUED,
            (Action(Op.RECORD, "safety"), send("not_safe_held"), _HELD),
            Guard.NEEDS_PERSON,
            True,
        ),
        # Not safe to text: stop texting them. They can come back any time.
        Transition(
            State.AWAIT_SAFETY,
            On.NO,
            State.ENDED,
            (Action(Op.RECORD, "safety"), send("not_safe_goodbye"), Action(Op.CLOSE, "not_safe")),
        ),
        Transition(
            State.AWAIT_NEEDS, On.FREE_TEXT, State.AWAIT_LOCATION, (Action(Op.RECORD, "needs"),)
        ),
        Transition(
            State.AWAIT_LOCATION, On.LOCATION, State.QUEUED, (Action(Op.RECORD, "location"),)
        ),
        Transition(State.AWAIT_LOCATION, On.SKIP, State.QUEUED, (Action(Op.RECORD, "location"),)),
    ]
    for state in (State.QUEUED, State.WITH_ADVOCATE):
        # ESPAÑOL while waiting or talking: every later text (wait updates, survey) in Spanish.
        rows.append(Transition(state, On.LANGUAGE, None, (Action(Op.SET_LANGUAGE),)))
    # Words of danger while waiting or talking: urgent and at the head of the queue at once,
    # every time; the bot speaks only if no advocate is there. They also answer "still there?".
    rows += _emergency(State.QUEUED, None)
    rows += _emergency(State.QUEUE_CHECK_IN, State.QUEUED)
    rows += _emergency(State.WITH_ADVOCATE, None, speak=False)
    for state in (State.QUEUED, State.QUEUE_CHECK_IN):
        rows.append(Transition(state, On.CLAIMED, State.WITH_ADVOCATE))
    rows += [
        # They said it is not safe to text: no wait update, no "still there?", no release.
        Transition(State.QUEUED, On.WAIT_TIMER, None, (), Guard.DO_NOT_TEXT),
        *_honest_waiting(),
        # Only a person closes theirs: no "still there?", since silence cannot release them;
        # an update only when their place is news.
        Transition(
            State.QUEUED,
            On.WAIT_TIMER,
            None,
            (Action(Op.TIMER, "wait_update"),),
            Guard.HELD_NOT_NEWS,
        ),
        Transition(
            State.QUEUED,
            On.WAIT_TIMER,
            None,
            (send("wait_update"), Action(Op.TIMER, "wait_update")),
            Guard.NEEDS_PERSON,
        ),
        Transition(State.QUEUED, On.WAIT_TIMER, State.QUEUE_CHECK_IN, (), Guard.QUIET_LONG),
        # Their place has not moved enough to be worth a buzz: look again later.
        Transition(
            State.QUEUED, On.WAIT_TIMER, None, (Action(Op.TIMER, "wait_update"),), Guard.NOT_NEWS
        ),
        Transition(
            State.QUEUED,
            On.WAIT_TIMER,
            None,
            (send("wait_update"), Action(Op.TIMER, "wait_update")),
        ),
        # Any word from them while we ask "still there?" keeps their place.
        *(Transition(State.QUEUE_CHECK_IN, on, State.QUEUED, (), None) for on in _TEXTS),
        Transition(
            State.QUEUE_CHECK_IN, On.LANGUAGE, State.QUEUED, (Action(Op.SET_LANGUAGE),), None
        ),
        Transition(
            State.QUEUE_CHECK_IN, On.INACTIVE, State.QUEUED, (_HELD,), Guard.NEEDS_PERSON, True
        ),
        Transition(
            State.QUEUE_CHECK_IN,
            On.INACTIVE,
            State.ENDED,
            (send("released"), Action(Op.CLOSE, "abandoned")),
        ),
        Transition(State.WITH_ADVOCATE, On.RETURNED, State.QUEUED),
        # Closed by a person: first the reopen window, then maybe the survey.
        Transition(
            State.WITH_ADVOCATE, On.CLOSED, State.JUST_CLOSED, (Action(Op.CLOSE, "closed"),)
        ),
        *_just_closed(),
        Transition(
            State.SURVEY,
            On.SCORE,
            State.ENDED,
            (Action(Op.RECORD, "survey"), send("survey_thanks")),
        ),
        # Thanks, OK or bye without a score: a short goodbye, not a new conversation.
        *(
            Transition(State.SURVEY, on, State.ENDED, (send("survey_goodbye"),))
            for on in (On.THANKS, On.YES, On.NO)
        ),
        # Danger, or a new request: a new conversation, not a survey answer.
        *(
            Transition(State.SURVEY, on, State.ENDED, (Action(Op.RESTART),))
            for on in (On.FREE_TEXT, On.DISTRESS, On.LOCATION, On.SKIP, On.EMERGENCY)
        ),
        Transition(State.SURVEY, On.LANGUAGE, State.ENDED, (Action(Op.RESTART),)),
        Transition(State.SURVEY, On.BLANK, State.ENDED, ()),
        Transition(State.SURVEY, On.INACTIVE, State.ENDED, ()),
    ]
    return tuple(rows)


def _just_closed() -> list[Transition]:
    """Rows of the reopen window after an advocate closed the conversation.

    The advocate may take it back (REOPENED). When the window's timer fires, the survey goes out
    only if it is wanted (``details["survey"]``: switched on, and a person answered them) and the
    texter never needed a person (urgent at any time, or a minor); otherwise it simply ends.
    A thank-you or an empty text changes nothing; anything else, emergency words above all, is
    a new request: a new conversation, which triage answers and the queue shows to a person.
    """
    restart = (Action(Op.RESTART),)
    quiet = (On.THANKS, On.BLANK)
    return [
        Transition(State.JUST_CLOSED, On.REOPENED, State.WITH_ADVOCATE),
        Transition(State.JUST_CLOSED, On.INACTIVE, State.ENDED, (), Guard.NEEDS_PERSON),
        Transition(State.JUST_CLOSED, On.INACTIVE, State.SURVEY, (), Guard.SURVEY_WANTED),
        Transition(State.JUST_CLOSED, On.INACTIVE, State.ENDED),
        *(Transition(State.JUST_CLOSED, on, None) for on in quiet),
        *(
            Transition(State.JUST_CLOSED, on, State.ENDED, restart)
            for on in (*_TEXTS, On.EMERGENCY, On.LANGUAGE)
            if on not in quiet
        ),
    ]


def _honest_waiting() -> list[Transition]:
    """Waiting rows that come before the timers' usual ones.

    While nobody is on shift (closed, or no advocate available) a silent texter is neither
    asked "still there?" nor released, and hears nothing unprompted; with the hour's budget of
    unprompted texts spent, the update, the check-in and the release all wait. A text from a
    queued texter that nothing else answers gets a short acknowledgement, at most one every
    few minutes (asked for, so outside the budget).
    """
    rearm_wait = (Action(Op.TIMER, "wait_update"),)
    rearm_check = (Action(Op.TIMER, "check_in"),)
    return [
        Transition(State.QUEUED, On.WAIT_TIMER, None, rearm_wait, Guard.UNSTAFFED),
        Transition(State.QUEUED, On.WAIT_TIMER, None, rearm_wait, Guard.NO_BUDGET),
        Transition(State.QUEUE_CHECK_IN, On.INACTIVE, None, rearm_check, Guard.UNSTAFFED),
        Transition(State.QUEUE_CHECK_IN, On.INACTIVE, None, rearm_check, Guard.NO_BUDGET),
        *(
            Transition(State.QUEUED, on, None, (send("queued_ack"),), Guard.ACK_DUE)
            for on in _TEXTS
        ),
    ]


def _unanswered(state: State) -> tuple[On, ...]:
    """Kinds of text that do not answer the question asked in ``state``."""
    answers = {
        State.AWAIT_DANGER: {On.YES, On.NO, On.DISTRESS},
        State.AWAIT_SAFETY: {On.YES, On.NO, On.DISTRESS},
        State.AWAIT_NEEDS: {On.FREE_TEXT, On.DISTRESS},
        State.AWAIT_LOCATION: {On.LOCATION, On.SKIP, On.DISTRESS},
    }[state]
    return tuple(on for on in _TEXTS if on not in answers)


TRANSITIONS: tuple[Transition, ...] = _rows()


def _guard_holds(guard: Guard | None, snapshot: Snapshot, event: Event, quiet_limit: float) -> bool:
    if guard is None:
        return True
    if guard is Guard.REASKS_LEFT:
        return snapshot.reasks < MAX_REASKS
    if guard is Guard.REASKS_USED:
        return snapshot.reasks >= MAX_REASKS
    if guard is Guard.NEEDS_PERSON:
        return snapshot.urgent or snapshot.minor
    if guard is Guard.GUIDANCE_DUE:
        return event.details.get("guidance_due", "yes") == "yes"
    if guard is Guard.DO_NOT_TEXT:
        return snapshot.do_not_text
    if guard is Guard.QUIET_LONG:
        return event.quiet_seconds >= quiet_limit
    if guard is Guard.SURVEY_WANTED:
        return event.details.get("survey") == "yes"
    if guard is Guard.UNSTAFFED:
        return event.details.get("staffed") == "no"
    if guard is Guard.NO_BUDGET:
        return event.details.get("budget") == "no"
    if guard is Guard.NOT_NEWS:
        return event.details.get("news") == "no"
    if guard is Guard.HELD_NOT_NEWS:
        return (snapshot.urgent or snapshot.minor) and event.details.get("news") == "no"
    if guard is Guard.ACK_DUE:
        return event.details.get("ack") == "yes"
    raise AssertionError(guard)


def find(snapshot: Snapshot, event: Event, *, quiet_limit: float = 1800.0) -> Transition | None:
    for row in TRANSITIONS:
        if (
            row.state is snapshot.state
            and row.on is event.on
            and _guard_holds(row.guard, snapshot, event, quiet_limit)
        ):
            return row
    return None


def step(
    snapshot: Snapshot, event: Event, *, quiet_limit: float = 1800.0
) -> tuple[Snapshot, list[Action]]:
    """The next snapshot and the actions to carry out. Pure: no clock, no storage.

    An event the state has no row for changes nothing and yields no action.
    ``quiet_limit`` is how long a queued texter may be silent before "still there?".
    """
    row = find(snapshot, event, quiet_limit=quiet_limit)
    if row is None:
        return snapshot, []
    actions = list(row.actions)
    after = snapshot
    for action in actions:
        if action.op is Op.SET_LANGUAGE and event.language:
            after = replace(after, language=event.language)
        elif action.op is Op.COUNT_REASK:
            after = replace(after, reasks=after.reasks + 1)
        elif action.op is Op.MARK_URGENT:
            after = replace(after, urgent=True)
        elif action.op is Op.RECORD and action.arg == "safety" and event.on is On.NO:
            after = replace(after, do_not_text=True)
    if row.target is not None and row.target is not snapshot.state:
        after = replace(after, state=row.target, reasks=0)
        entering = ON_ENTER.get(row.target, ())
        if row.quiet_entry:
            entering = tuple(a for a in entering if a.op is not Op.SEND)
        actions.extend(entering)
    return after, actions


def sends(actions: list[Action]) -> list[str]:
    return [a.arg for a in actions if a.op is Op.SEND]
