"""The triage machine: driven by random texts and timers from every state, and searched.

The invariants from DESIGN.md that the machine alone must keep: it never breaks, every texter
reaches a human or an explicit end, nothing is sent after STOP, every text exists in both
languages, an emergency never waits behind a question, and a question is re-asked at most twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.catalogue import catalogue
from hotline.domain.triage import (
    MAX_REASKS,
    ON_ENTER,
    QUESTIONS,
    TRANSITIONS,
    Action,
    Event,
    On,
    Op,
    Snapshot,
    State,
    sends,
    step,
)

LANGUAGES = ("en", "es")
QUIET_LIMIT = 1800.0
FAST = settings(max_examples=150, deadline=None)

# Typed out here rather than read from the module, so a changed table fails a test.
QUESTION_TEXT = {
    State.AWAIT_DANGER: "welcome",
    State.AWAIT_SAFETY: "safety_question",
    State.AWAIT_NEEDS: "needs_question",
    State.AWAIT_LOCATION: "location_question",
}
REASK_TEXT = {
    State.AWAIT_DANGER: "danger_reask",
    State.AWAIT_SAFETY: "safety_reask",
    State.AWAIT_NEEDS: "needs_reask",
    State.AWAIT_LOCATION: "location_reask",
}
ANSWER = {
    State.AWAIT_DANGER: "danger",
    State.AWAIT_SAFETY: "safety",
    State.AWAIT_NEEDS: "needs",
    State.AWAIT_LOCATION: "location",
}
# Texts from the texter that do not answer the question the state asked.
UNANSWERING = {
    State.AWAIT_DANGER: (On.FREE_TEXT, On.BLANK, On.SKIP, On.LOCATION, On.SCORE),
    State.AWAIT_SAFETY: (On.FREE_TEXT, On.BLANK, On.SKIP, On.LOCATION, On.SCORE),
    State.AWAIT_NEEDS: (On.YES, On.NO, On.BLANK, On.SKIP, On.LOCATION, On.SCORE),
    State.AWAIT_LOCATION: (On.YES, On.NO, On.FREE_TEXT, On.BLANK, On.SCORE),
}
# Everything a classified text can be (what answers.classify returns).
TEXT_EVENTS = (
    On.YES,
    On.NO,
    On.LANGUAGE,
    On.EMERGENCY,
    On.SAFE_WORD,
    On.SKIP,
    On.LOCATION,
    On.SCORE,
    On.FREE_TEXT,
    On.BLANK,
    On.THANKS,
)
HUMAN_OR_END = (State.WITH_ADVOCATE, State.ENDED)

START_SNAPSHOTS = [
    Snapshot(
        state=state,
        language=language,
        reasks=reasks,
        urgent=urgent,
        minor=minor,
        do_not_text=do_not_text,
    )
    for state in State
    for language in LANGUAGES
    for reasks in range(MAX_REASKS + 1)
    for urgent in (False, True)
    for minor in (False, True)
    for do_not_text in (False, True)
]


def make_event(on: On, language: str, quiet_seconds: float, survey: str) -> Event:
    """An event carrying the detail its kind comes with, as the service builds them."""
    if on is On.LANGUAGE:
        return Event(on, language=language)
    if on is On.WAIT_TIMER:
        return Event(on, quiet_seconds=quiet_seconds)
    if on is On.INACTIVE:  # at the end of the reopen window: whether the survey may go
        return Event(on, details={"survey": survey})
    if on is On.EMERGENCY:  # whether the guidance may go out again yet: yes or no
        return Event(on, details={"guidance_due": survey})
    return Event(on)


def every_event() -> list[Event]:
    """Each kind of event once per distinct detail that can change what the machine does."""
    found: list[Event] = []
    for on in On:
        if on is On.LANGUAGE:
            found += [make_event(on, language, 0.0, "no") for language in LANGUAGES]
        elif on is On.WAIT_TIMER:
            found += [make_event(on, "en", quiet, "no") for quiet in (0.0, QUIET_LIMIT, 1e6)]
        elif on in (On.INACTIVE, On.EMERGENCY):
            found += [make_event(on, "en", 0.0, detail) for detail in ("yes", "no")]
        else:
            found.append(make_event(on, "en", 0.0, "no"))
    return found


EVENTS = every_event()

events = st.builds(
    make_event,
    st.sampled_from(list(On)),
    st.sampled_from(LANGUAGES),
    st.floats(min_value=0, max_value=10 * QUIET_LIMIT, allow_nan=False),
    st.sampled_from(["yes", "no"]),
)
starts = st.sampled_from(START_SNAPSHOTS)


def run(snapshot: Snapshot, sequence: Iterable[Event]) -> tuple[Snapshot, list[list[Action]]]:
    """Feed every event in turn; the last snapshot and the actions of each step."""
    produced = []
    for event in sequence:
        snapshot, actions = step(snapshot, event, quiet_limit=QUIET_LIMIT)
        produced.append(actions)
    return snapshot, produced


def sent(actions: Iterable[Action]) -> list[str]:
    return [a.arg for a in actions if a.op is Op.SEND]


def reachable(starts: Iterable[Snapshot], max_depth: int = 50) -> dict[Snapshot, set[Snapshot]]:
    """Breadth-first over every snapshot reachable with every event: each one's successors."""
    graph: dict[Snapshot, set[Snapshot]] = {}
    frontier = deque((snapshot, 0) for snapshot in starts)
    while frontier:
        snapshot, depth = frontier.popleft()
        if snapshot in graph:
            continue
        assert depth <= max_depth, "the search did not close: the snapshots keep growing"
        graph[snapshot] = set()
        for event in EVENTS:
            after, _ = step(snapshot, event, quiet_limit=QUIET_LIMIT)
            graph[snapshot].add(after)
            if after not in graph:
                frontier.append((after, depth + 1))
    return graph


GRAPH = reachable(START_SNAPSHOTS)


# --- it never breaks --------------------------------------------------------------------------


@FAST
@given(start=starts, sequence=st.lists(events, max_size=30))
def test_random_events_never_raise_nor_leave_the_defined_states(
    start: Snapshot, sequence: list[Event]
) -> None:
    snapshot = start
    for event in sequence:
        snapshot, actions = step(snapshot, event, quiet_limit=QUIET_LIMIT)
        assert isinstance(snapshot.state, State)
        assert 0 <= snapshot.reasks <= MAX_REASKS
        assert snapshot.language in LANGUAGES
        assert all(isinstance(a.op, Op) for a in actions)


def test_every_reachable_snapshot_is_well_formed() -> None:
    # 10 states x 2 languages x 3 re-ask counts x 2 urgencies x 2 minors x 2 "do not text" at
    # most: the search is exhaustive.
    assert len(GRAPH) <= len(State) * len(LANGUAGES) * (MAX_REASKS + 1) * 2 * 2 * 2
    for snapshot in GRAPH:
        assert isinstance(snapshot.state, State)
        assert 0 <= snapshot.reasks <= MAX_REASKS
        assert snapshot.language in LANGUAGES


def test_an_event_without_a_row_changes_nothing() -> None:
    assert step(Snapshot(State.AWAIT_DANGER), Event(On.CLAIMED)) == (
        Snapshot(State.AWAIT_DANGER),
        [],
    )


# --- every texter reaches a human or an end ---------------------------------------------------


def test_from_every_reachable_snapshot_a_human_or_an_end_can_be_reached() -> None:
    # Walk the edges backwards from the goal states: whatever is not reached is a dead end.
    leads_to_goal = {s for s in GRAPH if s.state in HUMAN_OR_END}
    changed = True
    while changed:
        changed = False
        for snapshot, successors in GRAPH.items():
            if snapshot not in leads_to_goal and successors & leads_to_goal:
                leads_to_goal.add(snapshot)
                changed = True
    assert set(GRAPH) - leads_to_goal == set()


def test_both_a_human_and_an_end_are_reached_from_the_first_text() -> None:
    first = reachable([Snapshot()])
    assert {s.state for s in first} == set(State)


def test_every_waiting_state_has_a_timer_that_moves_it_on() -> None:
    # NEW exists only inside the transaction that opens a conversation: the service feeds it
    # FIRST_TEXT at once, or EMERGENCY when the first text holds danger, and those are its rows.
    assert [(r.on, r.target) for r in TRANSITIONS if r.state is State.NEW] == [
        (On.FIRST_TEXT, State.AWAIT_DANGER),
        (On.EMERGENCY, State.QUEUED),
        (On.EMERGENCY, State.QUEUED),
    ]
    for state in State:
        if state in (State.NEW, *HUMAN_OR_END):
            continue
        timed = {r.on for r in TRANSITIONS if r.state is state} & {On.INACTIVE, On.WAIT_TIMER}
        assert timed or state is State.QUEUED, state
        timers = [a.arg for a in ON_ENTER[state] if a.op is Op.TIMER]
        assert timers and all(timers), f"entering {state} sets no timer"


@pytest.mark.parametrize("state", QUESTIONS)
def test_every_question_sets_a_timer_and_closes_when_it_runs_out(state: State) -> None:
    assert Action(Op.TIMER, "triage") in ON_ENTER[state]
    after, actions = step(Snapshot(state), Event(On.INACTIVE))
    assert after.state is State.ENDED
    assert sent(actions) == ["closed_inactive"]
    assert Action(Op.CLOSE, "inactive") in actions


def test_a_queued_texter_gets_wait_updates_then_a_check_in() -> None:
    after, actions = step(Snapshot(State.QUEUED), Event(On.WAIT_TIMER, quiet_seconds=60))
    assert after.state is State.QUEUED
    assert actions == [Action(Op.SEND, "wait_update"), Action(Op.TIMER, "wait_update")]
    after, actions = step(
        Snapshot(State.QUEUED), Event(On.WAIT_TIMER, quiet_seconds=QUIET_LIMIT), quiet_limit=1800
    )
    assert after.state is State.QUEUE_CHECK_IN
    assert actions == [Action(Op.SEND, "still_there"), Action(Op.TIMER, "check_in")]
    after, actions = step(after, Event(On.INACTIVE))
    assert after.state is State.ENDED
    assert sent(actions) == ["released"]
    assert Action(Op.CLOSE, "abandoned") in actions


@pytest.mark.parametrize("urgent", [False, True])
@pytest.mark.parametrize("on", [on for on in TEXT_EVENTS if on is not On.SAFE_WORD])
def test_any_word_while_asked_still_there_keeps_the_place(on: On, urgent: bool) -> None:
    # Left in the check-in, the texter would be released when its timer runs out.
    event = Event(on, language="es") if on is On.LANGUAGE else Event(on)
    after, _ = step(Snapshot(State.QUEUE_CHECK_IN, urgent=urgent), event)
    assert after.state is State.QUEUED


def test_an_emergency_while_asked_still_there_is_answered_and_keeps_the_place() -> None:
    after, actions = step(Snapshot(State.QUEUE_CHECK_IN), Event(On.EMERGENCY))
    assert after == Snapshot(State.QUEUED, urgent=True)
    assert sent(actions)[0] == "emergency"
    assert Action(Op.MARK_URGENT) in actions


# --- nothing is sent after STOP -----------------------------------------------------------------

STOPPABLE = [s for s in START_SNAPSHOTS if s.state is not State.NEW]


def test_ended_is_absorbing() -> None:
    assert [r for r in TRANSITIONS if r.state is State.ENDED] == []
    for snapshot in (s for s in START_SNAPSHOTS if s.state is State.ENDED):
        for event in EVENTS:
            assert step(snapshot, event) == (snapshot, [])


@FAST
@given(start=st.sampled_from(STOPPABLE), sequence=st.lists(events, max_size=20))
def test_nothing_is_sent_after_stop(start: Snapshot, sequence: list[Event]) -> None:
    snapshot, actions = step(start, Event(On.STOP))
    assert snapshot.state is State.ENDED
    assert sent(actions) == []  # the service sends the compliance confirmation itself
    if start.state is not State.ENDED:
        assert Action(Op.CLOSE, "opt_out") in actions
    snapshot, later = run(snapshot, sequence)
    assert snapshot.state is State.ENDED
    assert later == [[] for _ in sequence]


@FAST
@given(start=st.sampled_from(STOPPABLE), sequence=st.lists(events, max_size=20))
def test_after_the_safe_word_only_its_goodbye_is_sent(
    start: Snapshot, sequence: list[Event]
) -> None:
    snapshot, actions = step(start, Event(On.SAFE_WORD))
    assert snapshot.state is State.ENDED
    if start.state is State.ENDED:
        assert actions == []
    else:
        assert sent(actions) == ["safe_word_done"]
        assert Action(Op.WIPE) in actions
        assert Action(Op.CLOSE, "safe_word") in actions
    _, later = run(snapshot, sequence)
    assert later == [[] for _ in sequence]


def test_stop_and_the_safe_word_end_every_state_but_new() -> None:
    for state in State:
        if state in (State.NEW, State.ENDED):
            continue
        for on in (On.STOP, On.SAFE_WORD):
            assert step(Snapshot(state), Event(on))[0].state is State.ENDED, (state, on)


# --- every text exists in both languages ----------------------------------------------------------


def every_sent_key() -> set[str]:
    keys = {a.arg for row in TRANSITIONS for a in row.actions if a.op is Op.SEND}
    keys |= {a.arg for actions in ON_ENTER.values() for a in actions if a.op is Op.SEND}
    return keys


def test_the_machine_sends_the_texts_it_is_known_to_send() -> None:
    assert every_sent_key() >= {*QUESTION_TEXT.values(), *REASK_TEXT.values(), "emergency"}


@pytest.mark.parametrize("key", sorted(every_sent_key()))
def test_every_text_the_machine_sends_exists_in_both_languages(key: str) -> None:
    for language in LANGUAGES:
        assert catalogue(language).get(key, "").strip(), (language, key)
    discreet = [f"{key}_discreet" in catalogue(language) for language in LANGUAGES]
    assert all(discreet) or not any(discreet), key


# --- an emergency never waits -----------------------------------------------------------------


def assert_emergency_handled_at_once(actions: list[Action]) -> None:
    assert "emergency" in sent(actions)
    assert Action(Op.MARK_URGENT) in actions
    assert Action(Op.ENQUEUE) in actions
    # The guidance goes out before anything else is said.
    assert sent(actions)[0] == "emergency"


@pytest.mark.parametrize("start", [s for s in START_SNAPSHOTS if s.state in QUESTIONS])
def test_an_emergency_in_any_question_goes_straight_to_the_queue(start: Snapshot) -> None:
    after, actions = step(start, Event(On.EMERGENCY))
    assert after.state is State.QUEUED
    assert after.urgent
    assert_emergency_handled_at_once(actions)
    assert Action(Op.RECORD, ANSWER[start.state]) in actions


@pytest.mark.parametrize("start", [s for s in START_SNAPSHOTS if s.state is State.AWAIT_DANGER])
def test_yes_to_the_danger_question_is_an_emergency(start: Snapshot) -> None:
    after, actions = step(start, Event(On.YES))
    assert after.state is State.QUEUED
    assert after.urgent
    assert_emergency_handled_at_once(actions)
    assert Action(Op.RECORD, "danger") in actions


DUE = Event(On.EMERGENCY, details={"guidance_due": "yes"})
NOT_DUE = Event(On.EMERGENCY, details={"guidance_due": "no"})
DANGER = [Action(Op.MARK_URGENT), Action(Op.MARK_EMERGENCY), Action(Op.ALERT, "emergency")]
# After closing, danger starts a new conversation (process._handle), which these rows then see.
AFTER_CLOSE = (State.JUST_CLOSED, State.SURVEY, State.ENDED)
NO_ADVOCATE = [s for s in State if s is not State.WITH_ADVOCATE and s not in AFTER_CLOSE]


@pytest.mark.parametrize("start", [s for s in START_SNAPSHOTS if s.state in NO_ADVOCATE])
def test_an_emergency_without_an_advocate_is_guided_marked_and_queued(start: Snapshot) -> None:
    """Urgent already or not, a minor or not: the defect was a guard on "not yet urgent"."""
    after, actions = step(start, DUE)
    assert after.state is State.QUEUED
    assert after.urgent
    assert sent(actions)[0] == "emergency"
    assert all(action in actions for action in DANGER)


@pytest.mark.parametrize("start", [s for s in START_SNAPSHOTS if s.state in NO_ADVOCATE])
def test_a_repeated_emergency_is_recorded_and_alerted_but_not_guided_again(
    start: Snapshot,
) -> None:
    after, actions = step(start, NOT_DUE)
    assert after.state is State.QUEUED
    assert "emergency" not in sent(actions)
    assert all(action in actions for action in DANGER)


@pytest.mark.parametrize("state", [State.QUEUED, State.QUEUE_CHECK_IN])
def test_an_emergency_while_waiting_is_answered_then_throttled(state: State) -> None:
    after, actions = step(Snapshot(state, urgent=True), DUE)
    assert after.urgent
    assert sent(actions)[0] == "emergency"
    assert Action(Op.ALERT, "emergency") in actions
    _, again = step(after, NOT_DUE)
    assert "emergency" not in sent(again)
    assert Action(Op.ALERT, "emergency") in again


def test_an_emergency_in_the_first_text_is_guided_first_and_alone() -> None:
    after, actions = step(Snapshot(), DUE)
    assert after.state is State.QUEUED
    assert sent(actions) == ["emergency", "queued"]  # no welcome, no question
    assert Action(Op.RECORD, "danger") in actions


@pytest.mark.parametrize("urgent", [False, True])
@pytest.mark.parametrize("due", [DUE, NOT_DUE])
def test_an_emergency_with_an_advocate_alerts_staff_and_the_bot_stays_silent(
    urgent: bool, due: Event
) -> None:
    after, actions = step(Snapshot(State.WITH_ADVOCATE, urgent=urgent), due)
    assert after == Snapshot(State.WITH_ADVOCATE, urgent=True)
    assert actions == DANGER


# --- who needs a person is never closed by silence or "not safe" ------------------------------

HELD = [s for s in START_SNAPSHOTS if s.urgent or s.minor]


@pytest.mark.parametrize("start", [s for s in HELD if s.state in QUESTIONS])
def test_silence_in_a_question_after_danger_queues_quietly(start: Snapshot) -> None:
    after, actions = step(start, Event(On.INACTIVE))
    assert after.state is State.QUEUED
    assert sent(actions) == []
    assert Action(Op.ALERT, "held") in actions
    assert not any(a.op is Op.CLOSE for a in actions)


@pytest.mark.parametrize("start", [s for s in HELD if s.state is State.AWAIT_SAFETY])
def test_not_safe_to_text_after_danger_queues_and_says_we_wont_text_first(
    start: Snapshot,
) -> None:
    after, actions = step(start, Event(On.NO))
    assert after.state is State.QUEUED
    assert after.do_not_text
    assert sent(actions) == ["not_safe_held"]
    assert Action(Op.ALERT, "held") in actions
    assert not any(a.op is Op.CLOSE for a in actions)
    # And nothing unprompted ever after: no wait update, no "still there?".
    later, timer_actions = step(after, Event(On.WAIT_TIMER, quiet_seconds=1e6))
    assert later.state is State.QUEUED
    assert sent(timer_actions) == []


@pytest.mark.parametrize("start", [s for s in HELD if s.state is State.QUEUE_CHECK_IN])
def test_check_in_silence_after_danger_keeps_the_place(start: Snapshot) -> None:
    after, actions = step(start, Event(On.INACTIVE))
    assert after.state is State.QUEUED
    assert sent(actions) == []
    assert Action(Op.ALERT, "held") in actions


@pytest.mark.parametrize(
    "start",
    [s for s in HELD if s.state is State.QUEUED and not s.do_not_text],
)
def test_who_needs_a_person_is_never_asked_still_there(start: Snapshot) -> None:
    after, actions = step(start, Event(On.WAIT_TIMER, quiet_seconds=1e6))
    assert after.state is State.QUEUED
    assert "still_there" not in sent(actions)


def test_from_no_reachable_held_snapshot_does_a_timer_or_not_safe_close() -> None:
    for snapshot in GRAPH:
        if not (snapshot.urgent or snapshot.minor):
            continue
        for event in EVENTS:
            if event.on in (On.INACTIVE, On.WAIT_TIMER, On.NO):
                _, actions = step(snapshot, event, quiet_limit=QUIET_LIMIT)
                assert not any(a.op is Op.CLOSE for a in actions), (snapshot, event)


# --- a question is re-asked at most twice -------------------------------------------------------


@pytest.mark.parametrize("state", QUESTIONS)
def test_three_blank_texts_reask_twice_then_queue(state: State) -> None:
    snapshot, steps = run(Snapshot(state), [Event(On.BLANK)] * 3)
    assert [sent(actions) for actions in steps[:2]] == [[REASK_TEXT[state]]] * 2
    assert snapshot.state is State.QUEUED
    assert REASK_TEXT[state] not in sent(steps[2])


@FAST
@given(
    data=st.data(),
    state=st.sampled_from(QUESTIONS),
    language=st.sampled_from(LANGUAGES),
    urgent=st.booleans(),
)
def test_three_unanswering_texts_never_reask_more_than_twice(
    data: st.DataObject, state: State, language: str, urgent: bool
) -> None:
    texts = data.draw(st.lists(st.sampled_from(UNANSWERING[state]), min_size=3, max_size=3))
    snapshot, steps = run(Snapshot(state, language, 0, urgent), [Event(on) for on in texts])
    reasks = [key for actions in steps for key in sent(actions) if key == REASK_TEXT[state]]
    assert len(reasks) <= MAX_REASKS == 2
    assert snapshot.state is State.QUEUED


@FAST
@given(start=starts, sequence=st.lists(events, max_size=30))
def test_no_question_is_reasked_more_than_twice_in_a_row(
    start: Snapshot, sequence: list[Event]
) -> None:
    snapshot = start
    in_a_row = start.reasks
    for event in sequence:
        before = snapshot.state
        snapshot, actions = step(snapshot, event, quiet_limit=QUIET_LIMIT)
        if snapshot.state is not before:
            in_a_row = 0
        in_a_row += sum(1 for key in sent(actions) if key in REASK_TEXT.values())
        assert in_a_row <= MAX_REASKS


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [s for s in START_SNAPSHOTS if s.state in QUESTIONS])
@pytest.mark.parametrize("language", LANGUAGES)
def test_asking_for_a_language_asks_the_question_again_in_it(
    start: Snapshot, language: str
) -> None:
    after, actions = step(start, Event(On.LANGUAGE, language=language))
    assert after == replace(start, language=language)
    assert sent(actions) == [QUESTION_TEXT[start.state]]
    assert actions.index(Action(Op.SET_LANGUAGE)) < actions.index(
        Action(Op.SEND, QUESTION_TEXT[start.state])
    )


# --- specific rows ----------------------------------------------------------------------------


def test_the_first_text_asks_about_danger() -> None:
    after, actions = step(Snapshot(), Event(On.FIRST_TEXT))
    assert after == Snapshot(State.AWAIT_DANGER)
    assert actions == [Action(Op.SEND, "welcome"), Action(Op.TIMER, "triage")]


def test_the_questions_in_order_to_the_queue() -> None:
    answers = [Event(On.NO), Event(On.YES), Event(On.FREE_TEXT), Event(On.LOCATION)]
    snapshot, steps = run(Snapshot(State.AWAIT_DANGER, "es"), answers)
    assert snapshot == Snapshot(State.QUEUED, "es")
    assert [sent(actions) for actions in steps] == [
        ["safety_question"],
        ["needs_question"],
        ["location_question"],
        ["queued"],
    ]
    records = [a.arg for actions in steps for a in actions if a.op is Op.RECORD]
    assert records == ["danger", "safety", "needs", "location"]
    assert Action(Op.ENQUEUE) in steps[-1]


def test_skipping_the_location_queues() -> None:
    after, actions = step(Snapshot(State.AWAIT_LOCATION), Event(On.SKIP))
    assert after.state is State.QUEUED
    assert sent(actions) == ["queued"]


def test_not_safe_to_text_ends_with_a_goodbye() -> None:
    after, actions = step(Snapshot(State.AWAIT_SAFETY), Event(On.NO))
    assert after.state is State.ENDED
    assert sent(actions) == ["not_safe_goodbye"]
    assert Action(Op.RECORD, "safety") in actions
    assert Action(Op.CLOSE, "not_safe") in actions


def test_a_claim_takes_the_texter_to_the_advocate_and_clears_the_timer() -> None:
    for state in (State.QUEUED, State.QUEUE_CHECK_IN):
        after, actions = step(Snapshot(state), Event(On.CLAIMED))
        assert after.state is State.WITH_ADVOCATE
        assert actions == [Action(Op.TIMER, "")]


def test_closing_opens_the_reopen_window_without_a_word() -> None:
    after, actions = step(Snapshot(State.WITH_ADVOCATE), Event(On.CLOSED))
    assert after.state is State.JUST_CLOSED
    assert sent(actions) == []
    assert actions == [Action(Op.CLOSE, "closed"), Action(Op.TIMER, "survey_due")]


def test_the_survey_goes_after_the_window_only_when_wanted_and_never_to_the_urgent() -> None:
    wanted = Event(On.INACTIVE, details={"survey": "yes"})
    after, actions = step(Snapshot(State.JUST_CLOSED), wanted)
    assert after.state is State.SURVEY
    assert sent(actions) == ["survey_question"]
    assert Action(Op.TIMER, "survey") in actions
    for start, event in (
        (Snapshot(State.JUST_CLOSED), Event(On.INACTIVE, details={"survey": "no"})),
        (Snapshot(State.JUST_CLOSED), Event(On.INACTIVE)),
        (Snapshot(State.JUST_CLOSED, urgent=True), wanted),
        (Snapshot(State.JUST_CLOSED, minor=True), wanted),
    ):
        after, actions = step(start, event)
        assert after.state is State.ENDED
        assert sent(actions) == []


def test_reopening_gives_the_conversation_back_and_stops_the_timer() -> None:
    after, actions = step(Snapshot(State.JUST_CLOSED, urgent=True), Event(On.REOPENED))
    assert after == Snapshot(State.WITH_ADVOCATE, urgent=True)
    assert actions == [Action(Op.TIMER, "")]
    for state in State:
        if state is not State.JUST_CLOSED:
            assert step(Snapshot(state), Event(On.REOPENED)) == (Snapshot(state), [])


def test_in_the_reopen_window_thanks_is_quiet_and_anything_else_starts_anew() -> None:
    for on in (On.THANKS, On.BLANK):
        assert step(Snapshot(State.JUST_CLOSED), Event(on)) == (Snapshot(State.JUST_CLOSED), [])
    for on in (On.FREE_TEXT, On.YES, On.NO, On.DISTRESS, On.EMERGENCY, On.LANGUAGE, On.SCORE):
        after, actions = step(Snapshot(State.JUST_CLOSED), Event(on, language="es"))
        assert after.state is State.ENDED
        assert actions == [Action(Op.RESTART), Action(Op.TIMER, "")]
    after, actions = step(Snapshot(State.JUST_CLOSED), Event(On.STOP))
    assert after.state is State.ENDED and sent(actions) == []


def test_the_bot_stays_silent_while_an_advocate_talks() -> None:
    for on in (On.FREE_TEXT, On.YES, On.NO, On.BLANK, On.SCORE):
        assert step(Snapshot(State.WITH_ADVOCATE), Event(on, language="es")) == (
            Snapshot(State.WITH_ADVOCATE),
            [],
        )
    # Asking for Spanish sends nothing either; it only sets the language of later texts.
    after, actions = step(Snapshot(State.WITH_ADVOCATE), Event(On.LANGUAGE, language="es"))
    assert after == Snapshot(State.WITH_ADVOCATE, language="es")
    assert sends(actions) == []


def test_returned_to_the_queue() -> None:
    after, actions = step(Snapshot(State.WITH_ADVOCATE, urgent=True), Event(On.RETURNED))
    assert after == Snapshot(State.QUEUED, urgent=True)
    assert Action(Op.ENQUEUE) in actions


def test_a_survey_score_is_thanked_and_anything_else_starts_anew() -> None:
    after, actions = step(Snapshot(State.SURVEY), Event(On.SCORE))
    assert after.state is State.ENDED
    assert sent(actions) == ["survey_thanks"]
    assert Action(Op.RECORD, "survey") in actions
    for on in (On.THANKS, On.YES, On.NO):
        after, actions = step(Snapshot(State.SURVEY), Event(on))
        assert after.state is State.ENDED
        assert sent(actions) == ["survey_goodbye"]
        assert Action(Op.RESTART) not in actions
    after, actions = step(Snapshot(State.SURVEY), Event(On.FREE_TEXT))
    assert after.state is State.ENDED
    assert Action(Op.RESTART) in actions
    assert sent(actions) == []
    for on in (On.BLANK, On.INACTIVE):
        after, actions = step(Snapshot(State.SURVEY), Event(on))
        assert after.state is State.ENDED
        assert sent(actions) == []
