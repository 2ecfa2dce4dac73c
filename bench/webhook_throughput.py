"""How many texts a second ``POST /twilio/sms`` takes, beside a bare Flask app on one gunicorn.

Starts, in one run, a fresh PostgreSQL database (made and dropped), a redis-server of its own
on a free port, and two gunicorns with the same settings (the stack helper's: 2 workers,
4 threads each, gthread): one serving the hotline, one serving a bare Flask app
(``bench/bare_app.py``) that answers every POST with empty TwiML. No celery worker runs: the
hand-off puts each text's task in Redis, where it waits. Every request is a first text from a
new number, signed by the client with twilio's RequestValidator (signed before the clock
starts, so signing costs the client nothing while it measures).

Prints:

* saturation: requests/s of each app with ``--clients`` concurrent keep-alive clients (threads,
  an ``http.client`` connection each), in alternating rounds, the ratio hotline/bare, and the
  CPU the client and each gunicorn used (the client must not be the bottleneck);
* open loop: p50/p99/max latency at a fixed rate (100 requests/s), each request scheduled on a
  clock and timed from its scheduled moment, so a stall counts against every request it
  delays (no coordinated omission);
* a check that every text answered 200 was stored once and handed to Redis once.

With ``--floor`` a third gunicorn serves ``bench/floor_app.py`` in the saturation rounds: the
webhook's unavoidable work (signature, hash, encryption, two inserts and a durable commit, a
Redis hand-off) with raw drivers and no framework, as the best any Python webhook could do.

Loopback only; bounded in count and time (about 2 minutes with the defaults).

    python bench/webhook_throughput.py [--clients 16] [--rounds 3] [--seconds 5]
                                       [--rate 100] [--rate-seconds 20] [--warm-up 200]
                                       [--floor]

Needs PostgreSQL at HOTLINE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres)
and redis-server on the PATH.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import _checkout  # noqa: F401  (puts the checkout on sys.path: tests.support)
import redis as redis_client
from sqlalchemy import create_engine, func, select

from hotline.db.models import Message
from hotline.sms.signature import sign
from tests.support import procfs
from tests.support.load import Client, Signed
from tests.support.scratch import scratch_database
from tests.support.stack import (
    Process,
    answers_ping,
    free_port,
    gunicorn,
    http_ready,
    production_env,
    redis_server,
    wait_until,
)

ACCOUNT_SID = "AC" + "0" * 31 + "8"
AUTH_TOKEN = "bench-auth-token"
PATH = "/twilio/sms"
BODY = "I need help, they took my passport and I cannot leave"
QUEUE = "hotline"  # task_default_queue: the Redis list the tasks wait in
FLOOR_QUEUE = "floor"  # the list bench/floor_app.py pushes to


class Texts:
    """First texts from new numbers, each number and MessageSid used once in the whole run."""

    def __init__(self, public_url: str) -> None:
        self.url = public_url + PATH
        self.numbers = itertools.count()

    def make(self, count: int) -> list[Signed]:
        made = []
        for _ in range(count):
            form = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "AccountSid": ACCOUNT_SID,
                "From": f"+1555{next(self.numbers):07d}",
                "To": "233733",
                "Body": BODY,
                "NumMedia": "0",
            }
            made.append(Signed(urlencode(form).encode(), sign(AUTH_TOKEN, self.url, form)))
        return made


@dataclass
class Target:
    name: str
    port: int
    web: Process
    texts: Callable[[int], Sequence[Signed]]  # n -> n requests to send it


@dataclass
class Tally:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0
    web_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def saturate(target: Target, clients: int, seconds: float, tally: Tally) -> None:
    """``clients`` threads post back to back for ``seconds``; adds to ``tally``."""
    texts = target.texts(int(seconds * 2500))  # far more than either app can take
    counter = itertools.count()
    deadline = 0.0
    ready = threading.Barrier(clients + 1)
    lock = threading.Lock()

    def client() -> None:
        connection = Client(target.port)
        ok = errors = 0
        ready.wait()
        while time.monotonic() < deadline:
            index = next(counter)
            if index >= len(texts):
                break
            if connection.post(texts[index]) == 200:
                ok += 1
            else:
                errors += 1
        connection.close()
        with lock:
            tally.ok += ok
            tally.errors += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    assert target.web.popen is not None
    web_cpu = procfs.tree_cpu_seconds(target.web.popen.pid)
    client_cpu = time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    tally.seconds += time.monotonic() - started
    tally.client_cpu += time.process_time() - client_cpu
    tally.web_cpu += procfs.tree_cpu_seconds(target.web.popen.pid) - web_cpu


def open_loop(target: Target, rate: float, seconds: float, senders: int) -> Tally:
    """Send ``rate`` requests a second for ``seconds``, each at its scheduled moment.

    A request's latency runs from the moment it was due, not from when a sender got to it, so
    a server stall that holds up later requests shows in theirs too.
    """
    texts = target.texts(round(rate * seconds))
    tally = Tally()
    counter = itertools.count()
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def sender() -> None:
        connection = Client(target.port)
        latencies, ok, errors = [], 0, 0
        while (index := next(counter)) < len(texts):
            due = start + index / rate
            time.sleep(max(0.0, due - time.monotonic()))
            status = connection.post(texts[index])
            latencies.append(time.monotonic() - due)
            if status == 200:
                ok += 1
            else:
                errors += 1
        connection.close()
        with lock:
            tally.latencies.extend(latencies)
            tally.ok += ok
            tally.errors += errors

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - start
    return tally


def _cpu_ms(tally: Tally) -> float:
    """gunicorn's CPU per request answered, in ms."""
    return tally.web_cpu / tally.ok * 1000 if tally.ok else 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (1-64)")
    parser.add_argument("--rounds", type=int, default=3, help="saturation rounds per app (1-10)")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per round (0.5-30)")
    parser.add_argument("--rate", type=float, default=100, help="open-loop requests/s (1-500)")
    parser.add_argument("--rate-seconds", type=float, default=20, help="open-loop seconds (1-60)")
    parser.add_argument(
        "--warm-up", type=int, default=200, help="requests to each app before measuring (0-2000)"
    )
    parser.add_argument(
        "--floor", action="store_true", help="also saturate bench/floor_app.py (raw drivers)"
    )
    args = parser.parse_args()
    clients = max(1, min(args.clients, 64))
    rounds = max(1, min(args.rounds, 10))
    seconds = max(0.5, min(args.seconds, 30.0))
    rate = max(1.0, min(args.rate, 500.0))
    rate_seconds = max(1.0, min(args.rate_seconds, 60.0))
    warm_up = max(0, min(args.warm_up, 2000))
    with scratch_database() as database_url:
        run(database_url, clients, rounds, seconds, rate, rate_seconds, warm_up, args.floor)


def run(
    database_url: str,
    clients: int,
    rounds: int,
    seconds: float,
    rate: float,
    rate_seconds: float,
    warm_up: int,
    floor: bool,
) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    (log_dir / "bare").mkdir()
    (log_dir / "floor").mkdir()
    redis_port, hotline_port, bare_port, floor_port = (free_port() for _ in range(4))
    public_url = f"http://127.0.0.1:{hotline_port}"
    env = production_env(
        database_url=database_url,
        redis_port=redis_port,
        public_url=public_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+15005550006",
        api_base="http://127.0.0.1:9",  # nothing is sent: no worker runs
    )
    redis = redis_server(redis_port, log_dir)
    hotline_web = gunicorn(hotline_port, env, log_dir)
    bare_web = gunicorn(bare_port, env, log_dir / "bare", "bench.bare_app:create_app()")
    broker = redis_client.Redis(port=redis_port, socket_connect_timeout=0.5, socket_timeout=5)
    texts = Texts(public_url)
    pool = texts.make(2000)  # the bare app reuses these; the hotline always gets new ones
    hotline = Target("/twilio/sms", hotline_port, hotline_web, texts.make)
    bare = Target("bare Flask", bare_port, bare_web, lambda n: [pool[i % 2000] for i in range(n)])
    floor_web = gunicorn(floor_port, env, log_dir / "floor", "bench.floor_app:create_app()")
    floor_texts = Texts(f"http://127.0.0.1:{floor_port}")
    floor_texts.numbers = itertools.count(5_000_000)  # numbers the hotline's texts never use
    floors = [Target("raw drivers", floor_port, floor_web, floor_texts.make)] if floor else []
    load = os.getloadavg()
    try:
        for process in (redis, hotline_web, bare_web, *(f.web for f in floors)):
            process.start()
        wait_until(lambda: answers_ping(broker), 10, "redis-server")
        wait_until(http_ready(public_url + "/healthz"), 30, "gunicorn (hotline)")
        wait_until(http_ready(f"http://127.0.0.1:{bare_port}{PATH}"), 30, "gunicorn (bare)")
        for target in floors:
            wait_until(http_ready(f"http://127.0.0.1:{target.port}{PATH}"), 30, "gunicorn (floor)")
        apps = (bare, hotline, *floors)
        warmed = {t.name: open_loop(t, 1000, warm_up / 1000, clients) for t in apps}
        saturated = {t.name: Tally() for t in apps}
        for round_ in range(rounds):
            for target in apps if round_ % 2 == 0 else apps[::-1]:
                saturate(target, clients, seconds, saturated[target.name])
        timed = {t.name: open_loop(t, rate, rate_seconds, 32) for t in (bare, hotline)}
        handed_over = int(broker.llen(QUEUE))
        floor_answered = sum(d[t.name].ok for d in (warmed, saturated) for t in floors)
        floor_handed = int(broker.llen(FLOOR_QUEUE))
        engine = create_engine(database_url)
        with engine.connect() as connection:
            stored = int(connection.scalar(select(func.count()).select_from(Message)) or 0)
        engine.dispose()
    finally:
        for process in (*(f.web for f in floors), bare_web, hotline_web, redis):
            process.stop()
        broker.close()
    answered = sum(tallies[hotline.name].ok for tallies in (warmed, saturated, timed))
    report(clients, rounds, seconds, rate, rate_seconds, load, saturated, timed)
    print(f"check: {answered:,} texts answered 200 by /twilio/sms, {stored - floor_answered:,} "
          f"stored, {handed_over:,} tasks waiting in Redis")  # fmt: skip
    errors = sum(t.errors for d in (warmed, saturated, timed) for t in d.values())
    if floors and floor_answered != floor_handed:
        raise SystemExit(f"FAILED: the floor answered {floor_answered} but queued {floor_handed}")
    if errors or not answered == stored - floor_answered == handed_over:
        raise SystemExit(f"FAILED: {errors} requests not answered 200, or the counts differ")


def report(
    clients: int,
    rounds: int,
    seconds: float,
    rate: float,
    rate_seconds: float,
    load: tuple[float, float, float],
    saturated: dict[str, Tally],
    timed: dict[str, Tally],
) -> None:
    print("webhook throughput: gunicorn 2 workers x 4 threads (gthread) for both apps,")
    print("  PostgreSQL (fresh database), a private redis-server, no celery worker")
    print("  (tasks wait in Redis); every request a first text from a new number")
    print(f"machine: {os.cpu_count()} CPUs; load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min) at the start")  # fmt: skip
    print(f"saturation: {clients} concurrent keep-alive clients, {rounds} alternating rounds "
          f"of {seconds:g} s per app")  # fmt: skip
    for name, tally in saturated.items():
        print(f"  {name:<12} {tally.rate:7,.0f} requests/s   "
              f"(client {tally.client_cpu / tally.seconds:.2f} CPUs, "
              f"gunicorn {tally.web_cpu / tally.seconds:.2f} CPUs, "
              f"{_cpu_ms(tally):.2f} ms a request; {tally.errors} errors)")  # fmt: skip
    bare, hotline, *floors = saturated.values()
    ratio = hotline.rate / bare.rate if bare.rate else 0.0
    print(f"  ratio /twilio/sms / bare: {ratio:.2f} (target at least 0.5: "
          f"{'met' if ratio >= 0.5 else 'MISSED'})")  # fmt: skip
    for floor in floors:
        print(f"  ratio raw drivers / bare: {floor.rate / bare.rate if bare.rate else 0.0:.2f} "
              "(the same work without Flask, SQLAlchemy or Celery)")  # fmt: skip
        # The figures to read when others share the machine: a ratio of the same run, and
        # gunicorn's CPU per request, which contention changes least.
        print(f"  ratio /twilio/sms / raw drivers: "
              f"{hotline.rate / floor.rate if floor.rate else 0.0:.2f} (target at least 0.8: "
              f"{'met' if floor.rate and hotline.rate / floor.rate >= 0.8 else 'MISSED'}); "
              f"gunicorn CPU per request {_cpu_ms(hotline):.2f} vs "
              f"{_cpu_ms(floor):.2f} ms")  # fmt: skip
    print(f"open loop: {rate:g} requests/s for {rate_seconds:g} s, timed from each request's "
          "scheduled moment")  # fmt: skip
    for name, tally in timed.items():
        ms = [value * 1000 for value in tally.latencies]
        p99 = percentile(ms, 0.99)
        target = f"; target p99 < 50 ms: {'met' if p99 < 50 else 'MISSED'}" if name == PATH else ""
        print(
            f"  {name:<12} p50 {percentile(ms, 0.5):.1f} ms, p99 {p99:.1f} ms, "
            f"max {max(ms):.1f} ms ({tally.ok:,} answered in {tally.seconds:.1f} s{target})"
        )


if __name__ == "__main__":
    main()
