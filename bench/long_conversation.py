"""What the worker spends on one text as a conversation grows long, on PostgreSQL.

One texter sends ``--texts`` texts, one after another, into one conversation (a realistic mix:
the triage answers, then what is happening, in English and Spanish). Each text is stored as the
webhook stores it and processed by the worker's own job (``jobs.process_inbound``: lock, triage,
risk, replies to the local sender), in-process. For the texts around a few positions it prints
the worker's CPU time, wall time, statements sent and decryptions, each per text (median of a
window of texts). Bounded in count.

    python bench/long_conversation.py [--texts 200]

Needs PostgreSQL at HOTLINE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from typing import Any

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
from sqlalchemy import event, func, select

from hotline import create_app, runtime_of
from hotline.background import jobs
from hotline.db.models import Message, Texter
from hotline.domain.delivery import Direction
from hotline.infra.taskqueue import InProcessQueue
from hotline.services.receive import store_inbound
from hotline.sms.inbound import InboundText
from hotline.sms.sender import LocalSender
from tests.support.scratch import bench_settings, scratch_database

OPENING = ["hi", "yes", "yes", "I need to get out of where I work"]
SAID = [
    "my boss took my passport",
    "he says I owe him 5000 dollars",
    "we sleep in the back room and cant leave",
    "tengo miedo",
    "he checks my phone every night",
    "they keep our pay",
    "ok",
    "no se que hacer",
    "he said he would hurt my family if I go",
    "thank you",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200)
    args = parser.parse_args()
    count = max(20, min(args.texts, 1000))
    with scratch_database() as database_url:
        settings = bench_settings(
            database_url,
            public_url="http://hotline.bench",
            twilio_auth_token="bench",
        )
        app = create_app(
            {"settings": settings, "tasks": InProcessQueue(start=False), "sender": LocalSender()}
        )
        runtime = runtime_of(app)
        statements = [0]
        decryptions = [0]

        def sent(*_: Any) -> None:
            statements[0] += 1

        event.listen(runtime.engine, "before_cursor_execute", sent)
        decrypt = runtime.vault.decrypt

        def counted(ciphertext: bytes) -> str:
            decryptions[0] += 1
            return decrypt(ciphertext)

        runtime.vault.decrypt = counted  # type: ignore[method-assign]

        def stored(phone: str, body: str) -> int:
            text = InboundText(
                message_sid="SM" + secrets.token_hex(16), phone=phone, body=body, media_types=()
            )
            message_id = store_inbound(runtime.engine, runtime.vault, text, runtime.clock.now())
            assert message_id is not None
            return message_id

        # Warm up (lexicons loaded, statements compiled) with another texter first.
        warm_up = _phone()
        for body in OPENING:
            jobs.process_inbound(runtime, stored(warm_up, body))
        phone = _phone()
        samples: list[tuple[float, float, int, int]] = []
        for n in range(count):
            message_id = stored(phone, OPENING[n] if n < len(OPENING) else SAID[n % len(SAID)])
            statements[0] = decryptions[0] = 0
            cpu, wall = time.process_time(), time.perf_counter()
            jobs.process_inbound(runtime, message_id)
            samples.append(
                (
                    (time.process_time() - cpu) * 1000,
                    (time.perf_counter() - wall) * 1000,
                    statements[0],
                    decryptions[0],
                )
            )
        print(f"PostgreSQL, one conversation of {count} texts, the worker's job per text:")
        for at in sorted({1, 10, 50, 100, 200, count} & set(range(1, count + 1))):
            window = samples[max(0, at - 5) : at] if at > 1 else samples[:1]
            cpu_ms = statistics.median(s[0] for s in window)
            wall_ms = statistics.median(s[1] for s in window)
            sql = statistics.median(s[2] for s in window)
            opened = statistics.median(s[3] for s in window)
            print(
                f"  text {at:>4}: cpu {cpu_ms:6.1f} ms   wall {wall_ms:6.1f} ms   "
                f"statements {sql:4.0f}   decryptions {opened:4.0f}"
            )
        total_cpu = sum(s[0] for s in samples)
        opened_all = sum(s[3] for s in samples)
        print(f"  all {count} texts: cpu {total_cpu:.0f} ms, {opened_all} decryptions")
        with runtime.sessions() as session:
            texter = select(Texter.id).where(Texter.phone_hash == runtime.vault.phone_hash(phone))
            processed, held = session.execute(
                select(func.count(), func.count(func.distinct(Message.conversation_id))).where(
                    Message.texter_id == texter.scalar_subquery(),
                    Message.direction == Direction.INBOUND,
                    Message.processed_at.is_not(None),
                )
            ).one()
        print(f"check: {processed} of {count} texts processed, into {held} conversation(s)")
        if (processed, held) != (count, 1):
            raise SystemExit("the texts were not all processed into one conversation")
        runtime.engine.dispose()


def _phone() -> str:
    return "+1555" + "".join(secrets.choice("0123456789") for _ in range(7))


if __name__ == "__main__":
    main()
