"""The worker's own CPU for a first text, without Celery: ``jobs.process_inbound`` in-process.

Stores ``--texts`` first texts from new numbers (six wordings, each text different) in a fresh
PostgreSQL database, then runs the job that a celery pool process runs for each, here on this
thread, with the real twilio client sending to the local fake API. Prints the statements one
first text sends, and this thread's CPU per text (``time.thread_time``: neither the fake API's
threads nor anything else on the machine counts), over the texts after a warm-up. With
``--profile`` it prints a cProfile of the measured texts, by cumulative CPU time.

    python bench/worker_cpu.py [--texts 400] [--profile]

Needs PostgreSQL at HOTLINE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import time
from collections import Counter
from typing import Any

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
import psycopg
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from hotline import create_app, runtime_of
from hotline.background import jobs
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.receive import store_inbound
from hotline.sms.inbound import parse_inbound
from hotline.sms.sender import TwilioSender
from tests.support.fake_twilio import FakeTwilio
from tests.support.scratch import bench_settings, scratch_database

ACCOUNT_SID = "AC" + "0" * 31 + "9"
AUTH_TOKEN = "bench-auth-token"
WORDINGS = [
    "hello, I need help",
    "he took my passport and I cannot leave",
    "hola necesito ayuda",
    "is this the hotline? my friend is in trouble",
    "I am scared to go home tonight",
    "can someone talk to me please",
]
WARM_UP = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=400, help="first texts measured (10-5000)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of them")
    args = parser.parse_args()
    texts = max(10, min(args.texts, 5000))
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake, scratch_database() as database_url:
        settings = bench_settings(
            database_url,
            public_url="http://127.0.0.1:9",  # the fake's status callbacks go nowhere
            twilio_auth_token=AUTH_TOKEN,
        )
        sender = TwilioSender(
            ACCOUNT_SID, AUTH_TOKEN, from_number="+15005550006", api_base=fake.base_url
        )
        # No task thread: nothing but this loop handles the texts.
        tasks = InProcessQueue(start=False)
        app = create_app({"settings": settings, "sender": sender, "tasks": tasks})
        runtime = runtime_of(app)
        ids = []
        for index in range(WARM_UP + texts):
            form = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "From": f"+1555{index:07d}",
                "Body": f"{WORDINGS[index % len(WORDINGS)]} ({index})",
                "NumMedia": "0",
            }
            text = parse_inbound(MultiDict(form), max_body_chars=1600)
            stored = store_inbound(runtime.engine, runtime.vault, text, runtime.clock.now())
            assert stored is not None
            ids.append(stored)
        with app.app_context():
            for message_id in ids[: WARM_UP - 1]:
                jobs.process_inbound(runtime, message_id)
            statements = count_statements(runtime, ids[WARM_UP - 1])
            profile = cProfile.Profile(time.thread_time) if args.profile else None
            started = time.thread_time()
            if profile is not None:
                profile.enable()
            for message_id in ids[WARM_UP:]:
                jobs.process_inbound(runtime, message_id)
            if profile is not None:
                profile.disable()
            used = time.thread_time() - started
        sent = len({message.to for message in fake.messages})
    print(f"worker CPU per first text, in-process: {texts:,} texts on PostgreSQL, the twilio "
          "client against the local fake API")  # fmt: skip
    print(f"  statements for one first text: {sum(statements.values())} ("
          + ", ".join(f"{kind} {n}" for kind, n in sorted(statements.items())) + ")")  # fmt: skip
    print(f"  this thread's CPU: {used / texts * 1000:.2f} ms per first text "
          "(Celery's own work, in a real worker, comes on top)")  # fmt: skip
    print(f"check: {sent:,} of {WARM_UP + texts:,} texters got a reply")
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(50)
        print(out.getvalue())
    if sent != WARM_UP + texts:
        raise SystemExit("FAILED: a texter got no reply")


def count_statements(runtime: Any, message_id: int) -> Counter[str]:
    """Run the job for ``message_id``, counting the statements it sends by their first word.

    Counted at the driver: some of the job's statements run on the pooled connection's own
    cursor, below SQLAlchemy's events (an executemany counts once)."""
    counted: Counter[str] = Counter()

    class Counting(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query.decode() if isinstance(query, bytes) else str(query)
            counted[text.split(None, 1)[0].upper()] += 1
            return super().execute(query, *args, **kwargs)

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query.decode() if isinstance(query, bytes) else str(query)
            counted[text.split(None, 1)[0].upper()] += 1
            return super().executemany(query, *args, **kwargs)

    def count(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.cursor_factory = Counting

    def stop(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor_factory = psycopg.Cursor

    event.listen(runtime.engine, "checkout", count)
    event.listen(runtime.engine, "checkin", stop)
    try:
        jobs.process_inbound(runtime, message_id)
    finally:
        event.remove(runtime.engine, "checkout", count)
        event.remove(runtime.engine, "checkin", stop)
    return counted


if __name__ == "__main__":
    main()
