"""Delivery status never moves backwards, whatever order Twilio's callbacks arrive in."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.delivery import (
    CALLBACK_STATUSES,
    DeliveryStatus,
    advances,
    rank,
)

S = DeliveryStatus
FINAL = [S.DELIVERED, S.UNDELIVERED, S.FAILED, S.CANCELED]


def apply(statuses: Iterable[DeliveryStatus], start: DeliveryStatus = S.PENDING) -> DeliveryStatus:
    """What a message's stored status ends as when each callback is applied with advances()."""
    current = start
    for status in statuses:
        if advances(current, status):
            current = status
    return current


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PENDING, S.SUBMITTING),
        (S.SUBMITTING, S.ACCEPTED),
        (S.SUBMITTING, S.QUEUED),
        (S.QUEUED, S.SENDING),
        (S.SENDING, S.SENT),
        (S.SENT, S.DELIVERED),
        (S.SENT, S.UNDELIVERED),
        (S.SENT, S.FAILED),
        (S.QUEUED, S.FAILED),
        (S.PENDING, S.CANCELED),
        (S.DELIVERED, S.READ),
    ],
)
def test_later_statuses_advance(current: DeliveryStatus, new: DeliveryStatus) -> None:
    assert advances(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.DELIVERED, S.SENT),  # a late `sent` after `delivered`
        (S.DELIVERED, S.SENDING),
        (S.DELIVERED, S.QUEUED),
        (S.SENT, S.QUEUED),
        (S.SENT, S.SENDING),
        (S.SENDING, S.ACCEPTED),
        (S.SUBMITTING, S.PENDING),
        (S.READ, S.DELIVERED),
        (S.READ, S.SENT),
        (S.FAILED, S.SENT),
        (S.CANCELED, S.QUEUED),
    ],
)
def test_status_never_moves_backwards(current: DeliveryStatus, new: DeliveryStatus) -> None:
    assert not advances(current, new)


@pytest.mark.parametrize("status", list(S))
def test_a_duplicate_callback_does_not_advance(status: DeliveryStatus) -> None:
    assert not advances(status, status)


@pytest.mark.parametrize("current", FINAL)
@pytest.mark.parametrize("new", FINAL)
def test_a_final_status_is_not_replaced_by_another_final_status(
    current: DeliveryStatus, new: DeliveryStatus
) -> None:
    assert not advances(current, new)


def test_final_statuses() -> None:
    """Delivered, undelivered, failed, canceled and read are final: only read may follow."""
    for status in (*FINAL, S.READ):
        assert {new for new in S if advances(status, new)} <= {S.READ}
    for status in (S.PENDING, S.SUBMITTING, S.ACCEPTED, S.QUEUED, S.SENDING, S.SENT):
        assert all(advances(status, final) for final in FINAL)


def test_rank_orders_a_message_life() -> None:
    life = [S.PENDING, S.SUBMITTING, S.QUEUED, S.SENDING, S.SENT, S.DELIVERED, S.READ]
    ranks = [rank(s) for s in life]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


def test_callback_statuses_are_twilios_and_exclude_our_own() -> None:
    assert S.PENDING not in CALLBACK_STATUSES
    assert S.SUBMITTING not in CALLBACK_STATUSES
    assert S.RECEIVED not in CALLBACK_STATUSES
    assert {S.QUEUED, S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED, S.READ} <= CALLBACK_STATUSES


def test_late_callbacks_in_reverse_order_end_at_delivered() -> None:
    assert apply([S.DELIVERED, S.SENT, S.SENDING, S.QUEUED]) is S.DELIVERED
    assert apply([S.QUEUED, S.SENDING, S.SENT, S.DELIVERED]) is S.DELIVERED
    assert apply([S.FAILED, S.SENT, S.DELIVERED]) is S.FAILED


CALLBACKS = st.lists(st.sampled_from(sorted(CALLBACK_STATUSES)), min_size=1, max_size=12)


@given(CALLBACKS)
def test_any_order_of_callbacks_ends_where_the_latest_status_alone_would(
    callbacks: list[DeliveryStatus],
) -> None:
    top = max(rank(s) for s in callbacks)
    # Among equal ranks (delivered/undelivered/failed/canceled) the first to arrive stands.
    first_top = next(s for s in callbacks if rank(s) == top)
    assert apply(callbacks) is apply([first_top])
    assert rank(apply(callbacks)) == top


@given(CALLBACKS, st.data())
def test_the_final_status_does_not_depend_on_arrival_order(
    callbacks: list[DeliveryStatus], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(callbacks))
    top = max(rank(s) for s in callbacks)
    assert rank(apply(shuffled)) == rank(apply(callbacks)) == top
    if len({s for s in callbacks if rank(s) == top}) == 1:
        assert apply(shuffled) is apply(callbacks)


@given(CALLBACKS)
def test_applied_statuses_only_ever_rise(callbacks: list[DeliveryStatus]) -> None:
    current = S.PENDING
    for status in callbacks:
        if advances(current, status):
            assert rank(status) > rank(current)
            current = status
        else:
            assert rank(status) <= rank(current)
