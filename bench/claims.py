"""How fast advocates can take texters, and that each texter goes to exactly one.

Seeds 5,000 waiting texters on PostgreSQL, then 8 advocates (threads, each with its own
connection) take the next texter in a loop until the queue is empty, through the same service
the console's "Take next" uses (row lock with SKIP LOCKED, conditional update). Prints claims
per second and checks that every conversation went to exactly one advocate. Bounded in count.

    python bench/claims.py [--waiting 5000] [--advocates 8]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
from sqlalchemy import func, select, text

from hotline import create_app, runtime_of
from hotline.db.models import Conversation, Event
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.claims import do_take_next
from hotline.sms.sender import LocalSender
from tests.support.scratch import bench_settings, scratch_database

SEED = """
INSERT INTO staff_users (email, password_hash, role, active, created_at, availability, totp_enabled)
SELECT 'advocate' || i || '@bench.org', 'x', 'advocate', true, now(), 'available', false
FROM generate_series(1, :advocates) AS i;
INSERT INTO texters (phone_hash, language, created_at, last_seen_at)
SELECT md5(i::text) || md5((i * 7)::text), 'en', now(), now()
FROM generate_series(1, :waiting) AS i;
INSERT INTO conversations (texter_id, status, state, language, reasks, priority, returning_texter,
    risk_score, opened_at, last_activity_at, queued_at, timer, timer_due_at)
SELECT i, 'open', 'queued', 'en', 0,
    CASE WHEN i % 20 = 0 THEN 'urgent' WHEN i % 4 = 0 THEN 'high' ELSE 'normal' END, false, 0,
    now() - i * interval '1 second', now(), now() - i * interval '1 second',
    'wait_update', now() + interval '1 day'
FROM generate_series(1, :waiting) AS i;
ANALYZE
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--advocates", type=int, default=8)
    args = parser.parse_args()
    waiting = max(10, min(args.waiting, 50_000))
    advocates = max(1, min(args.advocates, 32))
    with scratch_database() as database_url:
        settings = bench_settings(
            database_url,
            twilio_auth_token="bench",
        )
        app = create_app(
            {"settings": settings, "tasks": InProcessQueue(start=False), "sender": LocalSender()}
        )
        runtime = runtime_of(app)
        with runtime.engine.begin() as connection:
            for statement in SEED.split(";\n"):
                connection.execute(
                    text(
                        statement.replace(":waiting", str(waiting)).replace(
                            ":advocates", str(advocates)
                        )
                    )
                )
            advocate_ids = list(connection.scalars(text("SELECT id FROM staff_users ORDER BY id")))
        taken: Counter[int] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + 300

        def advocate(advocate_id: int) -> None:
            while time.monotonic() < deadline:
                with runtime.sessions.begin() as session:
                    result = do_take_next(session, runtime.triage, advocate_id, runtime.clock.now())
                if result is None:
                    return
                with lock:
                    taken[result] += 1

        threads = [threading.Thread(target=advocate, args=(i,)) for i in advocate_ids]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        with runtime.sessions() as session:
            owners = session.scalar(
                select(func.count()).where(Conversation.advocate_id.is_not(None))
            )
            claim_events = Counter(
                session.scalars(select(Event.conversation_id).where(Event.kind == "claimed"))
            )
        runtime.engine.dispose()
    doubles = sum(1 for count in taken.values() if count > 1)
    print(f"{advocates} advocates took {len(taken):,} of {waiting:,} waiting texters "
          f"in {elapsed:.1f} s: {len(taken) / elapsed:.0f} claims/s (PostgreSQL)")  # fmt: skip
    print(f"conversations with an owner: {owners:,}; taken twice: {doubles}; "
          f"claim events: {sum(claim_events.values()):,} "
          f"(at most one each: {max(claim_events.values(), default=0) <= 1})")  # fmt: skip
    assert len(taken) == waiting and doubles == 0 and owners == waiting


if __name__ == "__main__":
    main()
