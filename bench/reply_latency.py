"""How long from a text reaching /twilio/sms to the hotline's reply reaching Twilio's API.

Starts the production stack (gunicorn, PostgreSQL, a redis-server of its own, one celery worker
and beat, the local fake Twilio API) in one run, sends texts from distinct numbers one after
another, and prints p50/p90/p99/max of the time from the webhook POST to the reply arriving at
the fake API. Loopback only; bounded in count and time.

    python bench/reply_latency.py [--texts 100]

Needs PostgreSQL at HOTLINE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
import requests

from hotline.sms.signature import sign
from tests.support.fake_twilio import FakeTwilio
from tests.support.scratch import scratch_database
from tests.support.stack import (
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    http_ready,
    production_env,
    redis_server,
    wait_until,
)

ACCOUNT_SID = "AC" + "0" * 31 + "9"
AUTH_TOKEN = "bench-auth-token"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=100, help="how many texts (at most 2000)")
    args = parser.parse_args()
    count = max(1, min(args.texts, 2000))
    with scratch_database() as database_url:
        latencies = run(database_url, count)
    report(latencies, count)


def run(database_url: str, count: int) -> list[float]:
    """Start the stack on ``database_url``, send ``count`` texts, return each one's latency."""
    log_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    redis_port, web_port = free_port(), free_port()
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, callbacks=False)
    fake.start()
    public_url = f"http://127.0.0.1:{web_port}"
    env = production_env(
        database_url=database_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+15005550006",
        api_base=fake.base_url,
    )
    redis = redis_server(redis_port, log_dir)
    processes = [redis, gunicorn(web_port, env, log_dir), celery_worker(env, log_dir, 2),
                 celery_beat(env, log_dir)]  # fmt: skip
    latencies: list[float] = []
    try:
        for process in processes:
            process.start()
        wait_until(http_ready(public_url + "/healthz"), 30, "gunicorn")
        wait_until(lambda: "ready." in processes[2].log(), 60, "the celery worker")
        session = requests.Session()
        deadline = time.monotonic() + 600
        for index in range(count):
            if time.monotonic() > deadline:
                break
            phone = f"+1555{index:07d}"
            form = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "From": phone,
                "To": "233733",
                "Body": "hello",
                "NumMedia": "0",
            }
            signature = sign(AUTH_TOKEN, public_url + "/twilio/sms", form)
            started = time.monotonic()
            response = session.post(
                public_url + "/twilio/sms",
                data=form,
                headers={"X-Twilio-Signature": signature},
                timeout=10,
            )
            response.raise_for_status()
            fake.wait_for(index + 1, timeout=10)
            latencies.append(time.monotonic() - started)
        session.close()
    finally:
        for process in reversed(processes):
            process.stop()
        fake.stop()
    return latencies


def report(latencies: list[float], count: int) -> None:
    ms = [value * 1000 for value in latencies]
    print(f"texts answered: {len(ms)} of {count} (production stack: gunicorn, PostgreSQL, Redis,")
    print("  one celery worker with 2 processes, real twilio client to the local fake API)")
    print(f"webhook -> reply at the API: p50 {statistics.median(ms):.0f} ms, "
          f"p90 {percentile(ms, 0.9):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
          f"max {max(ms):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
