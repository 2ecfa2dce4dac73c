"""The work behind each task, the same whether Celery or the in-process queue runs it.

Each job takes ids and opens its own transactions; the follow-up work a transaction registers
(:mod:`hotline.db.after_commit`) starts in :func:`follow_up`, once it has committed.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import partial

from hotline.db import after_commit
from hotline.db.after_commit import Claimed, Effects
from hotline.infra.live import QUEUE, conversation_topic
from hotline.infra.taskqueue import (
    DRAW_REVIEWS,
    FIRE_TIMERS,
    PROCESS_INBOUND,
    PURGE,
    RELEASE_ABSENT,
    SEND_MESSAGE,
    SWEEP,
    HandOffError,
    InProcessQueue,
)
from hotline.runtime import Runtime
from hotline.services.overdue import Thresholds, raise_overdue_alerts
from hotline.services.presence import absent_staff, do_release_absent
from hotline.services.privacy import PurgeReport, finish_erasures, purge_expired
from hotline.services.process import process_pending
from hotline.services.review import Draw, default_week, draw_week
from hotline.services.send import SendResult
from hotline.services.sweep import find_stranded
from hotline.services.timers import due_timers, fire_timer

log = logging.getLogger(__name__)


def process_inbound(runtime: Runtime, message_id: int) -> None:
    """Process the sender's pending texts (see :func:`process_pending`), then send the replies.

    The replies go to Twilio from here, at once and in order, rather than through a send task
    each: a texter's first answer is the one a surge delays, and a task's hand-off costs more
    than the send. A reply that cannot go now (Twilio busy, an older reply still leaving) is
    handed to the send task with its delay, as is every reply after an unexpected error; what
    is stored and unsent when this process dies is the sweep's.
    """
    with runtime.sessions.begin() as session:
        after_commit.send_at_once(session)
        triage = runtime.tuned(session).triage  # a supervisor's change counts from the next text
        process_pending(session, triage, message_id, runtime.clock.now())


def fire_timers(runtime: Runtime) -> None:
    """Fire every due conversation timer: inactivity, wait updates, check-ins, surveys; then
    alert supervisors to texters left waiting or unanswered too long (see
    :func:`raise_overdue_alerts`)."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        due = due_timers(session, now)
        tuned = runtime.tuned(session)
    for conversation_id in due:
        with runtime.sessions.begin() as session:
            fire_timer(session, tuned.triage, conversation_id, now)
    thresholds = Thresholds.minutes(
        tuned.settings.urgent_wait_alert_minutes, tuned.settings.unanswered_alert_minutes
    )
    with runtime.sessions.begin() as session:
        raised = raise_overdue_alerts(session, thresholds, now)
    if raised:
        log.warning("%d texters waiting or unanswered past the alert thresholds", raised)


def release_absent(runtime: Runtime) -> list[int]:
    """Set away everyone marked available, or holding texters, whose console has not polled for
    the grace period, and hand their texters back to the queue (see
    :func:`do_release_absent`). Returns the ids of the staff it looked at again.

    Each person is one transaction under their row lock, so two beats at once act once.
    """
    now = runtime.clock.now()
    with runtime.sessions() as session:
        tuned = runtime.tuned(session)
        grace = timedelta(minutes=tuned.settings.presence_grace_minutes)
        absent = absent_staff(session, now, grace)
    for staff_id in absent:
        with runtime.sessions.begin() as session:
            returned = do_release_absent(session, tuned.triage, staff_id, now, grace)
        if returned is not None:
            log.warning(
                "staff %s left without signing out: %d conversations back in the queue",
                staff_id,
                returned,
            )
    return absent


def purge(runtime: Runtime) -> PurgeReport:
    """Erase what is past the retention period, and old staff records (see
    :func:`purge_expired`)."""
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        report = purge_expired(
            session, runtime.clock.now(), settings.retention_days, settings.staff_record_days
        )
    if report.total:
        log.info("purge: %s", "; ".join(report.lines()))  # counts only
    return report


def draw_reviews(runtime: Runtime, week_start: date | None = None) -> Draw:
    """Draw a week's quality-review sample (by default the last week that ended); idempotent."""
    now = runtime.clock.now()
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        drawn = draw_week(
            session,
            week_start or default_week(now),
            now,
            sample_size=settings.review_sample_size,
            per_advocate=settings.review_per_advocate,
        )
    if drawn.sampled:
        log.info(
            "quality review: drew %d of %d conversations closed in the week of %s",
            len(drawn.sampled),
            drawn.candidates,
            drawn.week_start.isoformat(),
        )
    return drawn


def follow_up(runtime: Runtime, effects: Effects) -> None:
    """What a committed transaction registered (:mod:`hotline.db.after_commit`): its replies to
    Twilio, then the consoles told. The one place follow-up work starts; never raises, for the
    transaction behind it has committed, and what is stored and not handed over is the sweep's.
    """
    try:
        topics = {conversation_topic(i) for i in effects.conversations}
        if effects.at_once:
            topics |= _send_now(runtime, effects)
        else:
            for message_id in effects.to_send:
                hand_over_send(runtime, message_id)
        if effects.queue_changed:
            topics.add(QUEUE)
        runtime.live.bump(sorted(topics))
    except Exception as exc:  # committed work must not fail the caller
        log.warning("after-commit work failed (%s); the sweep will", type(exc).__name__)


def _send_now(runtime: Runtime, effects: Effects) -> set[str]:
    """In a worker: send each stored reply now, in order; the topics of those sent. A reply
    that cannot go now, and every one after an unexpected error, goes to the send task.

    Replies claimed in the transaction that stored them go without a claim of their own. Once
    one of them does not go, those claimed after it are put back to pending first, so that
    their own claim orders them behind it."""
    topics: set[str] = set()
    to_send = effects.to_send
    claimed = dict(effects.claimed)
    for index, message_id in enumerate(to_send):
        mine = claimed.pop(message_id, None)
        try:
            if mine is not None:
                sent = runtime.dispatcher.send_claimed(mine)
            else:
                sent = runtime.dispatcher.send(message_id)
        except Exception as exc:  # the database, most likely; each reply is stored
            log.warning(
                "reply %s not sent at once (%s); handing it over", message_id, type(exc).__name__
            )
            _release(runtime, claimed)  # else the sweep reconciles them after the lease
            for left in to_send[index:]:
                hand_over_send(runtime, left)
            break
        if mine is not None and sent.result is not SendResult.SENT and claimed:
            _release(runtime, claimed)
            claimed = {}
        if sent.result is SendResult.RETRY:
            hand_over_send(runtime, message_id, sent.retry_after)
        elif sent.conversation_id is not None:
            topics.add(conversation_topic(sent.conversation_id))
    return topics


def _release(runtime: Runtime, claimed: dict[int, Claimed]) -> None:
    try:
        runtime.dispatcher.release_claimed(sorted(claimed))
    except Exception as exc:  # still claimed: the sweep reconciles them after the lease
        log.warning("claimed replies not released (%s)", type(exc).__name__)


def send_message(runtime: Runtime, message_id: int) -> float | None:
    """Send one stored reply; the delay after which to try again, or None when done."""
    outcome = runtime.dispatcher.send(message_id)
    if outcome.conversation_id is not None and outcome.result is not SendResult.RETRY:
        runtime.live.bump([conversation_topic(outcome.conversation_id)])
    return outcome.retry_after if outcome.result is SendResult.RETRY else None


def sweep(runtime: Runtime) -> None:
    """Hand over stored work that no worker finished: the net under every lost hand-off."""
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        stranded = find_stranded(
            session,
            runtime.clock.now(),
            grace_seconds=settings.sweep_grace_seconds,
            lease_seconds=runtime.dispatcher.policy.lease_seconds,
        )
    if stranded.inbound or stranded.outbound:
        log.warning(
            "sweep found %d unprocessed texts and %d unsent replies",
            len(stranded.inbound),
            len(stranded.outbound),
        )
    with runtime.sessions.begin() as session:
        finish_erasures(session)
    if not (stranded.inbound or stranded.outbound):
        return
    try:
        waiting = runtime.tasks.waiting()
        if waiting:
            # The workers are behind, and what looks stranded is most likely waiting its turn:
            # handing it over again would only lengthen the line. A lost hand-off is handed
            # over by the first sweep that finds the queue empty.
            log.warning("sweep handed nothing over: %d tasks are waiting for a worker", waiting)
            return
        for message_id in stranded.inbound:
            runtime.tasks.process_inbound(message_id)
        for message_id in stranded.outbound:
            runtime.tasks.send_message(message_id)
    except HandOffError as exc:
        log.warning("sweep could not hand work over (%s); next sweep will", exc)


def hand_over_send(runtime: Runtime, message_id: int, delay: float = 0.0) -> None:
    try:
        runtime.tasks.send_message(message_id, delay)
    except HandOffError as exc:
        log.warning("reply %s stored but not handed over (%s); the sweep will", message_id, exc)


def attach(runtime: Runtime) -> None:
    """Make ``runtime`` work: what its transactions register runs once they commit
    (:func:`follow_up`), and an in-process task queue runs these jobs."""
    after_commit.install(runtime.sessions, partial(follow_up, runtime))
    if isinstance(runtime.tasks, InProcessQueue):
        use_in_process_queue(runtime, runtime.tasks)


def _none(_: object) -> None:
    return None


def use_in_process_queue(runtime: Runtime, queue: InProcessQueue) -> None:
    """Make ``queue`` run this runtime's jobs, and hand all new work to it."""
    queue.bind(
        {
            PROCESS_INBOUND: lambda message_id: process_inbound(runtime, message_id),
            SEND_MESSAGE: lambda message_id: send_message(runtime, message_id),
            SWEEP: lambda _: sweep(runtime),
            FIRE_TIMERS: lambda _: fire_timers(runtime),
            PURGE: lambda _: _none(purge(runtime)),
            DRAW_REVIEWS: lambda _: _none(draw_reviews(runtime)),
            RELEASE_ABSENT: lambda _: _none(release_absent(runtime)),
        },
        periodic={
            SWEEP: float(runtime.settings.sweep_interval_seconds),
            FIRE_TIMERS: runtime.settings.timer_tick_seconds,
            PURGE: 3600.0,
            DRAW_REVIEWS: 3600.0,
            RELEASE_ABSENT: runtime.settings.timer_tick_seconds,
        },
    )
    runtime.tasks = queue
