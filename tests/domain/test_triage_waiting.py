"""The machine's waiting rows (issue 13, item 7): facts from the services layer, in
``Event.details``, decide whether a waiting texter hears anything they did not ask for.

- ``staffed == "no"``: nobody on shift. A silent texter is never asked "still there?", never
  released, and gets no wait update.
- ``budget == "no"``: the hour's unprompted texts are spent. The update, the check-in and the
  release wait.
- ``news == "no"``: the place in line has not moved enough for a text.
- ``ack == "yes"``: a text from a queued texter is acknowledged (otherwise: silence, as before).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.triage import Action, Event, On, Op, Snapshot, State, step

QUIET_LIMIT = 1800.0
QUEUED = Snapshot(state=State.QUEUED)
CHECK_IN = Snapshot(state=State.QUEUE_CHECK_IN)
TEXTS = (On.YES, On.NO, On.FREE_TEXT, On.BLANK, On.SKIP, On.LOCATION, On.SCORE)
REARM_WAIT = [Action(Op.TIMER, "wait_update")]
REARM_CHECK = [Action(Op.TIMER, "check_in")]


def timer(quiet: float = 0.0, **details: str) -> Event:
    return Event(On.WAIT_TIMER, quiet_seconds=quiet, details=details)


def released(**details: str) -> Event:
    return Event(On.INACTIVE, details=details)


@pytest.mark.parametrize("quiet", [0.0, QUIET_LIMIT, 1e6])
@pytest.mark.parametrize("budget", ["yes", "no"])
def test_nobody_on_shift_no_update_no_check_in(quiet: float, budget: str) -> None:
    after, actions = step(
        QUEUED, timer(quiet, staffed="no", budget=budget), quiet_limit=QUIET_LIMIT
    )
    assert after == QUEUED and actions == REARM_WAIT


@pytest.mark.parametrize("budget", ["yes", "no"])
def test_nobody_on_shift_never_released(budget: str) -> None:
    after, actions = step(CHECK_IN, released(staffed="no", budget=budget))
    assert after == CHECK_IN and actions == REARM_CHECK


def test_with_the_budget_spent_nothing_unprompted_goes_out() -> None:
    spent = {"staffed": "yes", "budget": "no"}
    assert step(QUEUED, timer(1e6, **spent), quiet_limit=QUIET_LIMIT) == (QUEUED, REARM_WAIT)
    assert step(QUEUED, timer(0.0, news="yes", **spent)) == (QUEUED, REARM_WAIT)
    assert step(CHECK_IN, released(**spent)) == (CHECK_IN, REARM_CHECK)


def test_staffed_and_within_budget_the_usual_rows() -> None:
    fine = {"staffed": "yes", "budget": "yes"}
    after, actions = step(QUEUED, timer(QUIET_LIMIT, **fine), quiet_limit=QUIET_LIMIT)
    assert after.state is State.QUEUE_CHECK_IN
    assert Action(Op.SEND, "still_there") in actions
    after, actions = step(CHECK_IN, released(**fine))
    assert after.state is State.ENDED
    assert Action(Op.SEND, "released") in actions and Action(Op.CLOSE, "abandoned") in actions


def test_a_wait_update_only_when_the_place_is_news() -> None:
    fine = {"staffed": "yes", "budget": "yes"}
    assert step(QUEUED, timer(0.0, news="no", **fine)) == (QUEUED, REARM_WAIT)
    after, actions = step(QUEUED, timer(0.0, news="yes", **fine))
    assert after == QUEUED
    assert actions == [Action(Op.SEND, "wait_update"), Action(Op.TIMER, "wait_update")]


@pytest.mark.parametrize("on", TEXTS)
def test_texts_while_queued_get_an_acknowledgement_when_due(on: On) -> None:
    assert step(QUEUED, Event(on, details={"ack": "yes"})) == (
        QUEUED,
        [Action(Op.SEND, "queued_ack")],
    )
    assert step(QUEUED, Event(on, details={"ack": "no"})) == (QUEUED, [])
    assert step(QUEUED, Event(on)) == (QUEUED, [])  # no facts given: silent, as before


def test_without_facts_the_timers_behave_as_before() -> None:
    after, _ = step(QUEUED, timer(QUIET_LIMIT), quiet_limit=QUIET_LIMIT)
    assert after.state is State.QUEUE_CHECK_IN
    assert step(CHECK_IN, released())[0].state is State.ENDED


details = st.fixed_dictionaries(
    {
        "budget": st.sampled_from(["yes", "no"]),
        "news": st.sampled_from(["yes", "no"]),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.sampled_from([QUEUED, CHECK_IN, Snapshot(State.QUEUED, "es", 0, True)]),
    sequence=st.lists(
        st.tuples(
            st.sampled_from([On.WAIT_TIMER, On.INACTIVE]),
            st.floats(min_value=0, max_value=10 * QUIET_LIMIT),
            details,
        ),
        max_size=40,
    ),
)
def test_while_nobody_is_on_shift_timers_never_text_nor_release(
    start: Snapshot, sequence: list[tuple[On, float, dict[str, str]]]
) -> None:
    snapshot = start
    for on, quiet, facts in sequence:
        event = Event(on, quiet_seconds=quiet, details={"staffed": "no", **facts})
        snapshot, actions = step(snapshot, event, quiet_limit=QUIET_LIMIT)
        assert snapshot == start
        assert all(a.op is Op.TIMER for a in actions)
